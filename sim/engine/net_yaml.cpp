#include "engine/net_yaml.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

namespace ristsim::engine {

namespace {

int line_of(const YAML::Node& n) { return n.Mark().line + 1; }

[[noreturn]] void fail(const std::string& file, const YAML::Node& n, const std::string& what) {
  throw NetSpecError(file + ":" + std::to_string(line_of(n)) + ": " + what);
}

bool to_number(const std::string& s, double* out) {
  if (s.empty()) return false;
  std::istringstream is(s);
  is.imbue(std::locale::classic());
  double d;
  is >> d;
  if (is.fail() || !is.eof()) return false;
  *out = d;
  return true;
}

std::vector<std::string> names(const std::string& file, const YAML::Node& n, const char* what) {
  std::vector<std::string> v;
  if (n.IsScalar()) {
    v.push_back(n.Scalar());
  } else if (n.IsSequence()) {
    for (const YAML::Node& e : n) {
      if (!e.IsScalar()) fail(file, e, std::string(what) + " must be a name or a list of names");
      v.push_back(e.Scalar());
    }
  } else {
    fail(file, n, std::string(what) + " must be a name or a list of names");
  }
  return v;
}

void add_params(const std::string& file, const std::string& prefix, const YAML::Node& n,
                LayerSpec* spec) {
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string key = prefix + it->first.as<std::string>();
    const YAML::Node& v = it->second;
    ParamValue p;
    p.line = line_of(v);
    if (v.IsMap()) {
      add_params(file, key + ".", v, spec);
      continue;
    }
    if (v.IsScalar()) {
      p.str = v.Scalar();
      double d;
      if (to_number(p.str, &d)) p.nums = {d};
    } else if (v.IsSequence()) {
      p.is_list = true;
      for (const YAML::Node& e : v) {
        double d;
        if (!e.IsScalar() || !to_number(e.Scalar(), &d))
          fail(file, e, "parameter '" + key + "': list elements must be numbers");
        p.nums.push_back(d);
      }
    } else {
      fail(file, v, "parameter '" + key + "' has no value");
    }
    spec->params[key] = p;
  }
}

std::vector<int> shape_of(const std::string& file, const YAML::Node& n) {
  if (!n.IsSequence() || n.size() != 3) fail(file, n, "input_shape must be [C, H, W]");
  std::vector<int> s;
  for (const YAML::Node& e : n) {
    double d;
    if (!e.IsScalar() || !to_number(e.Scalar(), &d) || d < 1 || d != int(d))
      fail(file, e, "input_shape entries must be positive integers");
    s.push_back(int(d));
  }
  return s;
}

}  // namespace

NetSpec parse_net_spec(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw NetSpecError(file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root.IsMap()) throw NetSpecError(file + ":1: a network description must be a map (name, input, layers)");
  NetSpec spec;
  spec.file = file;
  spec.text = text;
  static const std::set<std::string> top_keys = {"name", "input", "input_shape", "classes", "output",
                                                 "layers", "description"};
  try {
    for (auto it = root.begin(); it != root.end(); ++it) {
      const std::string k = it->first.as<std::string>();
      if (!top_keys.count(k))
        fail(file, it->first,
             "unknown key '" + k + "' (known: name, description, input, input_shape, classes, output, layers)");
    }
    if (root["name"]) spec.name = root["name"].as<std::string>();
    if (root["input"]) spec.input = root["input"].as<std::string>();
    if (root["input_shape"]) spec.input_shape = shape_of(file, root["input_shape"]);
    if (root["classes"]) spec.classes = root["classes"].as<int>();
    if (root["output"]) spec.output = root["output"].as<std::string>();
    const YAML::Node layers = root["layers"];
    if (!layers || !layers.IsSequence() || layers.size() == 0)
      throw NetSpecError(file + ":1: 'layers' must be a non-empty list");
    std::set<std::string> seen;
    for (const YAML::Node& l : layers) {
      if (!l.IsMap()) fail(file, l, "each layer must be a map with name, type, bottom, top");
      LayerSpec ls;
      ls.file = file;
      ls.line = line_of(l);
      if (!l["name"]) fail(file, l, "layer without a name");
      ls.name = l["name"].as<std::string>();
      if (!seen.insert(ls.name).second) fail(file, l, "layer name '" + ls.name + "' is used twice");
      if (!l["type"]) fail(file, l, "layer '" + ls.name + "' has no type");
      ls.type = l["type"].as<std::string>();
      if (!l["bottom"]) fail(file, l, "layer '" + ls.name + "' has no bottom");
      if (!l["top"]) fail(file, l, "layer '" + ls.name + "' has no top");
      ls.bottoms = names(file, l["bottom"], "bottom");
      ls.tops = names(file, l["top"], "top");
      YAML::Node rest(YAML::NodeType::Map);
      for (auto it = l.begin(); it != l.end(); ++it) {
        const std::string k = it->first.as<std::string>();
        if (k == "name" || k == "type" || k == "bottom" || k == "top") continue;
        rest[k] = it->second;
      }
      add_params(file, "", rest, &ls);
      spec.layers.push_back(std::move(ls));
    }
  } catch (const YAML::Exception& e) {
    throw NetSpecError(file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return spec;
}

NetSpec load_net_spec(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw NetSpecError(path + ": cannot open the network description");
  std::ostringstream ss;
  ss << f.rdbuf();
  return parse_net_spec(ss.str(), path);
}

}  // namespace ristsim::engine
