// Network descriptions as the engine sees them (its prototxt). sim/config reads
// models/*.yaml into config::NetDesc (config/net_yaml.h); net_spec() turns that
// into a NetSpec. Layers read their parameters through LayerSpec's typed
// getters, which remember what was read so that a misspelt or unused key is
// reported with the file, line and column it came from.
#pragma once

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "numeric/checked.h"  // InputError

namespace ristsim::config {
struct NetDesc;
}

namespace ristsim::engine {

/// A bad network description or a layer that cannot be built. The message
/// starts with "file:line:column: " when the description came from a file.
class NetSpecError : public InputError {
 public:
  using InputError::InputError;
};

/// One parameter value: a string, a number, or a list of numbers.
struct ParamValue {
  std::string str;           ///< the scalar's text (numbers too)
  std::vector<double> nums;  ///< numeric value(s); empty for a non-numeric string
  bool is_list = false;
  int line = 0, column = 0;  ///< 1-based position in the description (0: built in code)
};

struct LayerSpec {
  std::string name;
  std::string type;
  std::vector<std::string> bottoms, tops;
  /// Parameters; nested maps are flattened with dots ("weight_filler.std").
  std::map<std::string, ParamValue> params;
  std::string file;          ///< the description's file (may be empty)
  int line = 0, column = 0;  ///< position of the layer's entry

  bool has(const std::string& key) const { return params.count(key) > 0; }
  int get_int(const std::string& key, int def) const;
  double get_double(const std::string& key, double def) const;
  bool get_bool(const std::string& key, bool def) const;
  std::string get_string(const std::string& key, const std::string& def) const;
  /// A number or a list of numbers (e.g. kernel_size: 5 or [5, 3]).
  std::vector<double> get_list(const std::string& key, std::vector<double> def) const;
  /// Two integers from a scalar (both equal) or a two-element list, with
  /// key_h / key_w overrides (Caffe's kernel_h / kernel_w style).
  void get_hw(const std::string& key, int def, int* h, int* w) const;

  /// Sets a parameter from code (used by tests and built-in layers).
  LayerSpec& set(const std::string& key, double v);
  LayerSpec& set(const std::string& key, const std::string& v);
  LayerSpec& set(const std::string& key, const std::vector<double>& v);

  /// "file:line:column: " of the layer's entry, or of parameter `key` where it
  /// has a position; "" without a file.
  std::string location(const std::string& key = "") const;
  /// location(key) + "layer 'conv1' (Convolution): " (+ "parameter 'key': ").
  std::string where(const std::string& key = "") const;
  /// Throws NetSpecError for each parameter never read (call after the layer's
  /// constructor read everything it knows).
  void check_all_used() const;

 private:
  const ParamValue* find(const std::string& key) const;
  mutable std::set<std::string> used_;
};

/// A network: its input, its layers in execution order, and its output blob.
struct NetSpec {
  std::string name;
  std::string file;
  std::string input = "data";   ///< name of the input blob
  std::vector<int> input_shape; ///< C, H, W of one sample (the data set's shape replaces it)
  int classes = 0;              ///< number of classes of the output (0: unknown)
  std::string output;           ///< blob holding the class scores (default: last top)
  std::vector<LayerSpec> layers;
  std::string text;  ///< the description's source text (stored in weight files)
};

/// The engine's NetSpec of a description read by sim/config.
NetSpec net_spec(const config::NetDesc& desc);
/// config::load_net_desc + net_spec; a config::ConfigError becomes a
/// NetSpecError with the same message ("file:line:column: what").
NetSpec load_net_spec(const std::string& path);
/// config::parse_net_desc + net_spec; `file` names the text in messages.
NetSpec parse_net_spec(const std::string& text, const std::string& file);

}  // namespace ristsim::engine
