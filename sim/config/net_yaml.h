// Network descriptions (models/*.yaml, schema in docs/engine.md) read into
// plain structs, with validation. This file pair and arch_yaml are where YAML
// is read; the engine builds its Net from NetDesc (engine::net_spec) and never
// sees yaml-cpp.
//
// What is checked here: the document's structure (a map with known top-level
// keys; `layers` a non-empty list of maps, each with a unique name, a type, a
// bottom and a top; parameter values that are scalars, lists of numbers or
// nested maps of those; no key twice) and input_shape / classes. What a layer
// type accepts is the engine's business (engine::create_layer), which reports
// with the positions recorded here.
#pragma once

#include <string>
#include <vector>

#include "config/arch_yaml.h"  // ConfigError

namespace ristsim::config {

/// One layer parameter. Nested maps are flattened with dots: `weight_filler:
/// {type: gaussian, std: 0.01}` gives "weight_filler.type" and "weight_filler.std".
struct ParamDesc {
  std::string key;
  std::string text;          ///< a scalar's text (numbers too); empty for a list
  std::vector<double> nums;  ///< the number(s); empty for a scalar that is not a number
  bool is_list = false;
  int line = 0, column = 0;  ///< 1-based position of the value
};

struct LayerDesc {
  std::string name, type;
  std::vector<std::string> bottoms, tops;  ///< `bottom` / `top`: a name or a list of names
  std::vector<ParamDesc> params;           ///< every other key, in file order
  int line = 0, column = 0;                ///< 1-based position of the layer's entry
};

struct NetDesc {
  std::string file;  ///< where it was read from (names it in messages)
  std::string text;  ///< the source text (weight files store it)
  std::string name, description;
  std::string input = "data";    ///< name of the input blob
  std::vector<int> input_shape;  ///< C, H, W of one sample (empty: not given)
  int classes = 0;               ///< 0: not given
  std::string output;            ///< blob with the class scores (empty: the last layer's top)
  std::vector<LayerDesc> layers;
};

/// Reads and validates a description. Throws ConfigError "FILE:LINE:COLUMN: what".
NetDesc load_net_desc(const std::string& path);
/// The same for text held in memory; `file` names it in messages.
NetDesc parse_net_desc(const std::string& text, const std::string& file);

}  // namespace ristsim::config
