// Technology table YAML -> config::TechTable, with validation. Errors name the
// file, line and column (1-based) and what was expected; unknown keys are errors.
#include "config/tech_yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "config/arch_yaml.h"  // ConfigError
#include "config/yaml_reader.h"

namespace ristsim::config {
namespace {

class TechReader {
 public:
  explicit TechReader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const YAML::Node& n, const std::string& msg) const {
    const YAML::Mark m = n.Mark();
    if (m.is_null()) throw ConfigError(file_, 0, 0, msg);
    throw ConfigError(file_, m.line + 1, m.column + 1, msg);
  }

  /// Checks that `n` is a map whose keys are all in `allowed`.
  void map(const YAML::Node& n, const std::string& where,
           const std::vector<std::string>& allowed) const {
    if (!n.IsMap()) fail(n, "expected a map for " + where);
    if (allowed.empty()) return;
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string k = it->first.as<std::string>();
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
        std::string list;
        for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
        fail(it->first, "unknown key '" + k + "' in " + where + " (expected one of: " + list + ")");
      }
    }
  }

  const YAML::Node need(const YAML::Node& m, const std::string& key,
                        const std::string& where) const {
    const YAML::Node n = m[key];
    if (!n) fail(m, "missing key '" + key + "' in " + where);
    return n;
  }

  std::string str(const YAML::Node& n, const std::string& where) const {
    if (!n.IsScalar()) fail(n, "expected a string for " + where);
    return n.Scalar();
  }

  double positive(const YAML::Node& n, const std::string& where) const {
    const double v = real(n, where);
    if (!(v > 0)) fail(n, where + " must be positive, got '" + n.Scalar() + "'");
    return v;
  }

  double real(const YAML::Node& n, const std::string& where) const {
    if (!n.IsScalar()) fail(n, "expected a number for " + where);
    const std::string& s = n.Scalar();
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v))
      fail(n, "expected a finite number for " + where + ", got '" + s + "'");
    return v;
  }

  int integer(const YAML::Node& n, const std::string& where, int lo, int hi) const {
    const double v = real(n, where);
    if (v != std::floor(v) || v < lo || v > hi)
      fail(n, "expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + " for " +
                  where + ", got '" + n.Scalar() + "'");
    return static_cast<int>(v);
  }

  std::string source(const YAML::Node& n, const std::string& where, const TechTable& t) const {
    const std::string s = str(n, where);
    if (!t.sources.count(s))
      fail(n, "unknown source '" + s + "' in " + where + " (not a key of sources)");
    return s;
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

TechTable parse_tech_yaml(const std::string& text, const std::string& path) {
  const TechReader r(path);
  const YAML::Node root = detail::Reader(path).load(text);
  r.map(root, "the technology table",
        {"name", "node_nm", "sources", "gates", "operations", "sram", "dram", "scaling"});
  TechTable t;
  t.path = path;
  t.name = r.str(r.need(root, "name", "the table"), "name");
  t.node_nm = r.integer(r.need(root, "node_nm", "the table"), "node_nm", 1, 1000);

  const YAML::Node src = r.need(root, "sources", "the table");
  r.map(src, "sources", {});
  for (auto it = src.begin(); it != src.end(); ++it)
    t.sources[it->first.as<std::string>()] =
        r.str(it->second, "sources." + it->first.as<std::string>());

  const YAML::Node g = r.need(root, "gates", "the table");
  r.map(g, "gates", {"nand2_area_um2", "source", "cells_um2"});
  t.nand2_area_um2 = r.positive(r.need(g, "nand2_area_um2", "gates"), "gates.nand2_area_um2");
  t.gates_source = r.source(r.need(g, "source", "gates"), "gates.source", t);
  const YAML::Node cells = r.need(g, "cells_um2", "gates");
  r.map(cells, "gates.cells_um2", {});
  for (auto it = cells.begin(); it != cells.end(); ++it) {
    const std::string k = it->first.as<std::string>();
    t.cells_um2[k] = r.positive(it->second, "gates.cells_um2." + k);
  }
  for (const char* k : {"NAND", "MUX", "DFF_P", "XOR", "AND"})
    if (!t.cells_um2.count(k)) r.fail(cells, std::string("gates.cells_um2 needs the cell ") + k);

  const std::vector<std::string> ops = {"int_add", "int_mult", "fp_add", "fp_mult"};
  const YAML::Node o = r.need(root, "operations", "the table");
  r.map(o, "operations", ops);
  for (const std::string& op : ops) {
    const YAML::Node list = r.need(o, op, "operations");
    if (!list.IsSequence() || list.size() < 1)
      r.fail(list, "expected a list of anchors for operations." + op);
    std::vector<TechAnchor> v;
    for (const YAML::Node& a : list) {
      const std::string w = "an anchor of operations." + op;
      r.map(a, w, {"bits", "energy_pj", "area_um2", "source"});
      TechAnchor x;
      x.bits = r.integer(r.need(a, "bits", w), w + ".bits", 1, 128);
      x.energy_pj = r.positive(r.need(a, "energy_pj", w), w + ".energy_pj");
      x.area_um2 = r.positive(r.need(a, "area_um2", w), w + ".area_um2");
      x.source = r.source(r.need(a, "source", w), w + ".source", t);
      for (const TechAnchor& y : v)
        if (y.bits == x.bits) r.fail(a, "two anchors of operations." + op + " with the same bits");
      v.push_back(x);
    }
    std::sort(v.begin(), v.end(),
              [](const TechAnchor& a, const TechAnchor& b) { return a.bits < b.bits; });
    t.operations[op] = v;
  }

  const YAML::Node s = r.need(root, "sram", "the table");
  r.map(s, "sram", {"access_bits", "points", "write_to_read", "default_bytes"});
  t.sram_access_bits = r.integer(r.need(s, "access_bits", "sram"), "sram.access_bits", 1, 4096);
  t.sram_write_to_read = r.positive(r.need(s, "write_to_read", "sram"), "sram.write_to_read");
  t.sram_default_bytes = r.positive(r.need(s, "default_bytes", "sram"), "sram.default_bytes");
  const YAML::Node pts = r.need(s, "points", "sram");
  if (!pts.IsSequence() || pts.size() < 1) r.fail(pts, "expected a list of points for sram.points");
  for (const YAML::Node& p : pts) {
    r.map(p, "an sram point", {"bytes", "read_pj", "source"});
    SramPoint x;
    x.bytes = r.positive(r.need(p, "bytes", "an sram point"), "sram.points.bytes");
    x.read_pj = r.positive(r.need(p, "read_pj", "an sram point"), "sram.points.read_pj");
    x.source = r.source(r.need(p, "source", "an sram point"), "sram.points.source", t);
    t.sram.push_back(x);
  }
  std::sort(t.sram.begin(), t.sram.end(),
            [](const SramPoint& a, const SramPoint& b) { return a.bytes < b.bytes; });
  for (size_t i = 1; i < t.sram.size(); ++i)
    if (t.sram[i].bytes == t.sram[i - 1].bytes)
      r.fail(pts, "two sram points with the same capacity");

  const YAML::Node d = r.need(root, "dram", "the table");
  r.map(d, "dram", {"default", "types"});
  const YAML::Node types = r.need(d, "types", "dram");
  r.map(types, "dram.types", {});
  for (auto it = types.begin(); it != types.end(); ++it) {
    const std::string k = it->first.as<std::string>();
    const std::string w = "dram.types." + k;
    r.map(it->second, w, {"access_bits", "energy_pj", "source"});
    DramType x;
    x.access_bits = r.integer(r.need(it->second, "access_bits", w), w + ".access_bits", 1, 4096);
    x.energy_pj = r.positive(r.need(it->second, "energy_pj", w), w + ".energy_pj");
    x.source = r.source(r.need(it->second, "source", w), w + ".source", t);
    t.dram[k] = x;
  }
  const YAML::Node dd = r.need(d, "default", "dram");
  t.dram_default = r.str(dd, "dram.default");
  if (!t.dram.count(t.dram_default))
    r.fail(dd, "dram.default '" + t.dram_default + "' is not one of dram.types");

  const YAML::Node sc = r.need(root, "scaling", "the table");
  r.map(sc, "scaling", {"source", "nodes"});
  t.scaling_source = r.source(r.need(sc, "source", "scaling"), "scaling.source", t);
  const YAML::Node nodes = r.need(sc, "nodes", "scaling");
  if (!nodes.IsSequence()) r.fail(nodes, "expected a list for scaling.nodes");
  bool own = false;
  for (const YAML::Node& n : nodes) {
    r.map(n, "a scaling node", {"nm", "area", "energy_poly", "vdd"});
    NodeScaling x;
    x.nm = r.integer(r.need(n, "nm", "a scaling node"), "scaling.nodes.nm", 1, 1000);
    x.area = r.positive(r.need(n, "area", "a scaling node"), "scaling.nodes.area");
    x.vdd = r.positive(r.need(n, "vdd", "a scaling node"), "scaling.nodes.vdd");
    const YAML::Node p = r.need(n, "energy_poly", "a scaling node");
    if (!p.IsSequence() || p.size() != 3)
      r.fail(p, "expected [a, b, c] for scaling.nodes.energy_poly");
    x.poly_a = r.real(p[0], "energy_poly[0]");
    x.poly_b = r.real(p[1], "energy_poly[1]");
    x.poly_c = r.real(p[2], "energy_poly[2]");
    if (!(x.energy_poly() > 0)) r.fail(p, "the energy polynomial is not positive at this vdd");
    for (const NodeScaling& y : t.nodes)
      if (y.nm == x.nm)
        r.fail(n, "node " + std::to_string(x.nm) + " nm appears twice in scaling.nodes");
    if (x.nm == t.node_nm) {
      own = true;
      if (x.area != 1.0) r.fail(n, "the table's own node must have area factor 1");
    }
    t.nodes.push_back(x);
  }
  if (!own) r.fail(nodes, "scaling.nodes must include the table's own node_nm");
  return t;
}

}  // namespace

TechTable parse_tech(const std::string& text, const std::string& path) {
  return checked::with_input_errors(
      "the technology table", [&] { return parse_tech_yaml(text, path); },
      [&](const std::string& m) { return ConfigError(path, 0, 0, m); });
}

TechTable load_tech(const std::string& path) {
  std::ifstream is(path);
  if (!is) throw ConfigError(path, 0, 0, "cannot open the technology table");
  std::stringstream ss;
  ss << is.rdbuf();
  return parse_tech(ss.str(), path);
}

}  // namespace ristsim::config
