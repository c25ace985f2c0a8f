// Network description YAML -> config::NetDesc (see net_yaml.h for what is checked).
#include "config/net_yaml.h"

#include <locale>
#include <set>
#include <sstream>

#include "config/yaml_reader.h"

namespace ristsim::config {

namespace {

using detail::MapView;
using detail::node_kind;
using detail::Reader;

const std::vector<std::string> kTopKeys = {"name",    "description", "input", "input_shape",
                                           "classes", "output",      "layers"};

/// A number written the way C++ streams read one ("5", "-0.5", "1e-4"), else false.
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

void set_position(const YAML::Node& n, int* line, int* column) {
  *line = n.Mark().line + 1;
  *column = n.Mark().column + 1;
}

std::vector<std::string> names(const Reader& r, const YAML::Node& n, const std::string& where) {
  std::vector<std::string> v;
  auto one = [&](const YAML::Node& e) {
    if (!e.IsScalar() || e.Scalar().empty())
      r.fail(e, "expected a name or a list of names for " + where + ", got " + node_kind(e));
    v.push_back(e.Scalar());
  };
  if (n.IsSequence() && n.size() > 0)
    for (const YAML::Node& e : n) one(e);
  else
    one(n);
  return v;
}

/// Adds the parameters of map `m` (keys prefixed with `prefix`) to `layer`.
void add_params(const Reader& r, const MapView& m, const std::string& prefix,
                const std::set<std::string>& skip, LayerDesc* layer) {
  for (const MapView::Entry& e : m.entries()) {
    if (skip.count(e.key)) continue;
    const std::string key = prefix + e.key;
    const YAML::Node& v = e.value;
    if (v.IsMap()) {
      add_params(r, MapView(r, v, m.where() + "." + e.key, "parameters"), key + ".", {}, layer);
      continue;
    }
    ParamDesc p;
    p.key = key;
    set_position(v, &p.line, &p.column);
    if (v.IsScalar()) {
      p.text = v.Scalar();
      double d;
      if (to_number(p.text, &d)) p.nums = {d};
    } else if (v.IsSequence()) {
      p.is_list = true;
      for (const YAML::Node& x : v) {
        double d;
        if (!x.IsScalar() || !to_number(x.Scalar(), &d))
          r.fail(x, "parameter '" + key + "' of " + m.where() + ": list elements must be numbers");
        p.nums.push_back(d);
      }
    } else {
      r.fail(e.key_node, "parameter '" + key + "' of " + m.where() + " has no value");
    }
    for (const ParamDesc& q : layer->params)
      if (q.key == key)
        r.fail(v, "parameter '" + key + "' of " + m.where() + " is given twice (first at line " +
                      std::to_string(q.line) + ")");
    layer->params.push_back(std::move(p));
  }
}

LayerDesc read_layer(const Reader& r, const YAML::Node& n, std::size_t index) {
  const std::string where = "layers[" + std::to_string(index) + "]";
  const MapView m(r, n, where, "name, type, bottom, top and the layer's parameters");
  LayerDesc l;
  set_position(n, &l.line, &l.column);
  l.name = r.scalar(m.need("name", "every layer has a unique name"), m.sub("name"), "a name");
  if (l.name.empty()) r.fail(*m.find("name"), "the layer name must not be empty");
  const std::string lw = "layer '" + l.name + "'";
  l.type = r.scalar(m.need("type", "the layer type, e.g. Convolution"), lw + " type", "a type");
  l.bottoms = names(r, m.need("bottom", "the input blob(s) of " + lw), lw + " bottom");
  l.tops = names(r, m.need("top", "the output blob(s) of " + lw), lw + " top");
  add_params(r, MapView(r, n, lw, ""), "", {"name", "type", "bottom", "top"}, &l);
  return l;
}

NetDesc parse_net_yaml(const std::string& text, const std::string& file) {
  const Reader r(file);
  const YAML::Node root = r.load(text);
  if (root.IsNull())
    throw ConfigError(file, 1, 1,
                      "the file is empty (expected a map with keys: " + detail::join(kTopKeys) +
                          ")");
  const MapView m(r, root, "the network description", detail::join(kTopKeys));
  m.allow_only(kTopKeys);
  NetDesc d;
  d.file = file;
  d.text = text;
  if (const YAML::Node* x = m.find("name")) d.name = r.scalar(*x, "name", "a name");
  if (const YAML::Node* x = m.find("description"))
    d.description = r.scalar(*x, "description", "text");
  if (const YAML::Node* x = m.find("input")) d.input = r.scalar(*x, "input", "a blob name");
  if (const YAML::Node* x = m.find("input_shape")) {
    if (!x->IsSequence() || x->size() != 3)
      r.fail(*x, "expected [C, H, W] for input_shape, got " + std::string(node_kind(*x)) +
                     (x->IsSequence() ? " of " + std::to_string(x->size()) : std::string()));
    for (const YAML::Node& e : *x)
      d.input_shape.push_back(static_cast<int>(r.integer(e, "input_shape", 1, 1 << 20)));
  }
  if (const YAML::Node* x = m.find("classes"))
    d.classes = static_cast<int>(r.integer(*x, "classes", 1, 1 << 24));
  if (const YAML::Node* x = m.find("output")) d.output = r.scalar(*x, "output", "a blob name");
  const YAML::Node& layers = m.need("layers", "the layers in execution order");
  if (!layers.IsSequence() || layers.size() == 0)
    r.fail(layers, "expected a non-empty list of layers for layers, got " +
                       std::string(node_kind(layers)));
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const YAML::Node& n = layers[i];
    LayerDesc l = read_layer(r, n, i);
    for (const LayerDesc& o : d.layers)
      if (o.name == l.name)
        r.fail(n, "layer name '" + l.name + "' is used twice (first at line " +
                      std::to_string(o.line) + ")");
    d.layers.push_back(std::move(l));
  }
  return d;
}

}  // namespace

NetDesc parse_net_desc(const std::string& text, const std::string& file) {
  return checked::with_input_errors(
      "the network description", [&] { return parse_net_yaml(text, file); },
      [&](const std::string& m) { return ConfigError(file, 0, 0, m); });
}

NetDesc load_net_desc(const std::string& path) {
  return parse_net_desc(detail::read_file(path, "the network description"), path);
}

}  // namespace ristsim::config
