#include "engine/spec.h"

#include <cmath>
#include <optional>
#include <sstream>

#include "numeric/checked.h"

#include "config/net_yaml.h"

namespace ristsim::engine {

std::string LayerSpec::location(const std::string& key) const {
  if (file.empty()) return "";
  int l = line, c = column;
  if (!key.empty()) {
    auto it = params.find(key);
    if (it != params.end() && it->second.line) l = it->second.line, c = it->second.column;
  }
  return file + ":" + std::to_string(l) + (c > 0 ? ":" + std::to_string(c) : "") + ": ";
}

std::string LayerSpec::where(const std::string& key) const {
  std::string s = location(key) + "layer '" + name + "' (" + type + ")";
  if (!key.empty()) s += ", parameter '" + key + "'";
  return s + ": ";
}

const ParamValue* LayerSpec::find(const std::string& key) const {
  auto it = params.find(key);
  if (it == params.end()) return nullptr;
  used_.insert(key);
  return &it->second;
}

double LayerSpec::get_double(const std::string& key, double def) const {
  const ParamValue* v = find(key);
  if (!v) return def;
  if (v->is_list || v->nums.size() != 1)
    throw NetSpecError(where(key) + "expected a number, got '" + v->str + "'");
  return v->nums[0];
}

namespace {
/// A parameter's number as an int of magnitude at most checked::kMaxDim (the one conversion
/// of every integer parameter: no out-of-range float-to-int conversion).
int to_int(const LayerSpec& s, const std::string& key, double d, const std::string& text) {
  const std::optional<int> v = checked::narrow<int>(d);
  if (!v || *v < -checked::kMaxDim)
    throw NetSpecError(s.where(key) + "expected an integer of magnitude at most " +
                       std::to_string(checked::kMaxDim) + ", got " + text);
  return *v;
}
}  // namespace

int LayerSpec::get_int(const std::string& key, int def) const {
  const ParamValue* v = find(key);
  if (!v) return def;
  const double d = get_double(key, def);
  return to_int(*this, key, d, "'" + v->str + "'");
}

bool LayerSpec::get_bool(const std::string& key, bool def) const {
  const ParamValue* v = find(key);
  if (!v) return def;
  if (v->str == "true" || v->str == "True" || v->str == "1") return true;
  if (v->str == "false" || v->str == "False" || v->str == "0") return false;
  throw NetSpecError(where(key) + "expected true or false, got '" + v->str + "'");
}

std::string LayerSpec::get_string(const std::string& key, const std::string& def) const {
  const ParamValue* v = find(key);
  if (!v) return def;
  if (v->is_list) throw NetSpecError(where(key) + "expected a single value, got a list");
  return v->str;
}

std::vector<double> LayerSpec::get_list(const std::string& key, std::vector<double> def) const {
  const ParamValue* v = find(key);
  if (!v) return def;
  if (v->nums.empty() && !(v->is_list && v->str.empty()))
    throw NetSpecError(where(key) + "expected a number or a list of numbers, got '" + v->str + "'");
  return v->nums;
}

void LayerSpec::get_hw(const std::string& key, int def, int* h, int* w) const {
  const std::vector<double> l = get_list(key, {double(def)});
  if (l.size() != 1 && l.size() != 2)
    throw NetSpecError(where(key) + "expected one number or [h, w]");
  auto as_int = [&](double d) {
    std::ostringstream os;
    os << d;
    return to_int(*this, key, d, os.str());
  };
  *h = as_int(l[0]);
  *w = as_int(l.size() == 2 ? l[1] : l[0]);
  // Caffe spells the per-axis values kernel_h / kernel_w, stride_h, pad_h.
  std::string base = key;
  const std::string suffix = "_size";
  if (base.size() > suffix.size() && base.compare(base.size() - suffix.size(), suffix.size(), suffix) == 0)
    base.resize(base.size() - suffix.size());
  *h = get_int(base + "_h", *h);
  *w = get_int(base + "_w", *w);
}

LayerSpec& LayerSpec::set(const std::string& key, double v) {
  ParamValue p;
  p.nums = {v};
  p.str = std::to_string(v);
  params[key] = p;
  return *this;
}

LayerSpec& LayerSpec::set(const std::string& key, const std::string& v) {
  ParamValue p;
  p.str = v;
  params[key] = p;
  return *this;
}

LayerSpec& LayerSpec::set(const std::string& key, const std::vector<double>& v) {
  ParamValue p;
  p.nums = v;
  p.is_list = true;
  params[key] = p;
  return *this;
}

void LayerSpec::check_all_used() const {
  for (const auto& kv : params)
    if (!used_.count(kv.first))
      throw NetSpecError(where(kv.first) + "unknown parameter for a " + type + " layer");
}

NetSpec net_spec(const config::NetDesc& d) {
  NetSpec n;
  n.name = d.name;
  n.file = d.file;
  n.text = d.text;
  n.input = d.input;
  n.input_shape = d.input_shape;
  n.classes = d.classes;
  n.output = d.output;
  for (const config::LayerDesc& ld : d.layers) {
    LayerSpec l;
    l.name = ld.name;
    l.type = ld.type;
    l.bottoms = ld.bottoms;
    l.tops = ld.tops;
    l.file = d.file;
    l.line = ld.line;
    l.column = ld.column;
    for (const config::ParamDesc& p : ld.params) {
      ParamValue v;
      v.str = p.text;
      v.nums = p.nums;
      v.is_list = p.is_list;
      v.line = p.line;
      v.column = p.column;
      l.params[p.key] = v;
    }
    n.layers.push_back(std::move(l));
  }
  return n;
}

NetSpec load_net_spec(const std::string& path) {
  try {
    return net_spec(config::load_net_desc(path));
  } catch (const config::ConfigError& e) {
    throw NetSpecError(e.what());
  }
}

NetSpec parse_net_spec(const std::string& text, const std::string& file) {
  try {
    return net_spec(config::parse_net_desc(text, file));
  } catch (const config::ConfigError& e) {
    throw NetSpecError(e.what());
  }
}

}  // namespace ristsim::engine
