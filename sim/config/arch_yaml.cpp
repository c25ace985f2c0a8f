// Arch YAML -> config::Arch, with validation. Every error names the file, the
// line and column of the offending node (yaml-cpp marks, shown 1-based), and what
// was expected. Unknown and duplicate keys are errors.
#include "config/arch_yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

#include "config/arch_memory_yaml.h"
#include "config/yaml_reader.h"

namespace ristsim::config {

ConfigError::ConfigError(const std::string& file, int line, int column, const std::string& message)
    : InputError(line > 0 ? file + ":" + std::to_string(line) + ":" +
                                        std::to_string(column) + ": " + message
                                  : file + ": " + message),
      file_(file),
      line_(line),
      column_(column),
      message_(message) {}

namespace {

namespace nm = numeric;
using detail::join;
using detail::MapView;
using detail::node_kind;
using detail::Reader;
using detail::read_array;
using detail::read_memory;


const std::vector<std::string> kFormatTypes = {"fixed", "dynamic_fixed", "minifloat", "e4m3",
                                               "e5m2",  "pow2",          "mx",        "float"};
// Names in the numeric core's order: index i of a list is kAll*[i].
const std::vector<std::string> kRoundings = [] {
  std::vector<std::string> v;
  for (nm::Rounding m : nm::kAllRoundings) v.push_back(nm::to_string(m));
  return v;
}();
const std::vector<std::string> kOverflows = [] {
  std::vector<std::string> v;
  for (nm::Overflow o : nm::kAllOverflows) v.push_back(nm::to_string(o));
  return v;
}();
const nm::Specials kSpecials[] = {nm::Specials::none, nm::Specials::ieee, nm::Specials::fn,
                                  nm::Specials::ristretto};
const std::vector<std::string> kGroups = {"activations", "weights", "bias", "outputs"};

/// The largest width of a stored number (accumulators may be wider).
constexpr int kMaxStorageBits = 32;

/// The `signed` key of a fixed-point group: true (two's complement, the default),
/// false (unsigned: no negative values), or auto (dynamic_fixed only: the range
/// analysis makes the group unsigned where it measured no negative value).
void read_signedness(const Reader& r, const MapView& m, const std::string& type, NumberSpec* s) {
  const YAML::Node* x = m.find("signed");
  if (!x) return;
  if (type != "fixed" && type != "dynamic_fixed")
    r.fail(*x, m.sub("signed") + ": 'signed' applies to fixed and dynamic_fixed only (" + type +
                   " has a sign bit of its own)");
  const std::string v = r.scalar(*x, m.sub("signed"), "true, false or auto");
  if (v != "auto" && v != "true" && v != "false" && v != "on" && v != "off")
    r.fail(*x, "unknown value '" + v + "' for " + m.sub("signed") +
                   " (expected one of: true, false, auto)");
  if (v == "auto") {
    if (type != "dynamic_fixed")
      r.fail(*x, m.sub("signed") +
                     ": 'auto' needs dynamic_fixed (the range analysis decides); static fixed "
                     "point takes true or false");
    s->signed_auto = true;
    return;
  }
  s->quantizer.format.is_signed = v == "true" || v == "on";
}

/// One group's format; `weights`: the group is the weights (the only one that may have
/// granularity: channel).
NumberSpec read_number_spec(const Reader& r, const YAML::Node& n, const std::string& where,
                            bool weights) {
  const MapView m(r, n, where, "type and its parameters");
  const YAML::Node& tn = m.need("type", "one of: " + join(kFormatTypes));
  const std::string type = kFormatTypes[r.choice(tn, m.sub("type"), kFormatTypes)];

  const std::vector<std::string> policy = {"rounding", "overflow", "random_bits"};
  auto keys = [&](std::vector<std::string> own) {
    own.insert(own.begin(), "type");
    if (type != "float") own.insert(own.end(), policy.begin(), policy.end());
    m.allow_only(own);
  };

  NumberSpec s;
  nm::Format& f = s.quantizer.format;
  if (type != "fixed" && type != "dynamic_fixed") read_signedness(r, m, type, &s);
  if (type == "fixed" || type == "dynamic_fixed") {
    keys({"bits", "fl", "signed", "granularity"});
    const int bits = static_cast<int>(r.integer(m.need("bits"), m.sub("bits"), 1, kMaxStorageBits));
    if (const YAML::Node* x = m.find("granularity")) {
      if (r.choice(*x, m.sub("granularity"), {"layer", "channel"}) == 1) {
        if (!weights)
          r.fail(*x, m.sub("granularity") +
                         ": 'channel' applies to weights only (one fractional length per "
                         "output channel of the weights)");
        s.granularity = Granularity::channel;
      }
    }
    // Static fixed point of granularity channel lists one fl per output channel (what a
    // quantize plan writes); dynamic_fixed's fl is one default for every channel.
    const bool fl_list = type == "fixed" && s.per_channel();
    int fl = 0;
    if (type == "fixed") {
      const YAML::Node& x = m.need("fl", fl_list ? "granularity: channel needs one fl per output "
                                                   "channel, a list [fl0, fl1, ...]"
                                                 : "static fixed point needs its fractional "
                                                   "length; use dynamic_fixed to choose it per "
                                                   "layer");
      if (fl_list) {
        if (!x.IsSequence() || x.size() == 0)
          r.fail(x, m.sub("fl") + ": granularity: channel needs a list of fractional lengths, "
                                  "one per output channel (got " + node_kind(x) + ")");
        for (std::size_t i = 0; i < x.size(); ++i)
          s.channel_fl.push_back(static_cast<int>(
              r.integer(x[i], m.sub("fl") + "[" + std::to_string(i) + "]", -512, 512)));
        fl = *std::max_element(s.channel_fl.begin(), s.channel_fl.end());
      } else {
        fl = static_cast<int>(r.integer(x, m.sub("fl"), -512, 512));
      }
    } else if (const YAML::Node* x = m.find("fl")) {
      fl = static_cast<int>(r.integer(*x, m.sub("fl"), -512, 512));
    }
    f = nm::Format::fixed_point(bits, fl);
    s.dynamic = type == "dynamic_fixed";
    read_signedness(r, m, type, &s);
    for (std::size_t i = 0; i < s.channel_fl.size(); ++i) {
      nm::Format fc = f;
      fc.fl = s.channel_fl[i];
      if (const char* err = nm::validate(fc))
        r.fail(m.node(), "impossible format in " + where + " (channel " + std::to_string(i) +
                             "): " + err);
    }
  } else if (type == "minifloat") {
    keys({"exp_bits", "mant_bits", "bias", "subnormals", "specials"});
    const int e = static_cast<int>(r.integer(m.need("exp_bits"), m.sub("exp_bits"), 2, 8));
    const int mb = static_cast<int>(r.integer(m.need("mant_bits"), m.sub("mant_bits"), 0, 23));
    int bias = nm::Format::default_bias(e);
    if (const YAML::Node* x = m.find("bias"))
      bias = static_cast<int>(r.integer(*x, m.sub("bias"), -256, 512));
    bool sub = false;
    if (const YAML::Node* x = m.find("subnormals")) sub = r.on_off(*x, m.sub("subnormals"));
    nm::Specials sp = nm::Specials::none;
    if (const YAML::Node* x = m.find("specials"))
      sp = kSpecials[r.choice(*x, m.sub("specials"), {"none", "ieee", "fn", "ristretto"})];
    f = nm::Format::minifloat(e, mb, sp, sub, bias);
    if (f.code_bits() > kMaxStorageBits)
      r.fail(m.node(), where + " is " + std::to_string(f.code_bits()) +
                           " bits wide; stored numbers have at most " +
                           std::to_string(kMaxStorageBits));
  } else if (type == "e4m3") {
    keys({});
    f = nm::Format::e4m3();
  } else if (type == "e5m2") {
    keys({});
    f = nm::Format::e5m2();
  } else if (type == "pow2") {
    keys({"bits", "exp_max", "zero_code", "pow2_rounding"});
    const int bits = static_cast<int>(r.integer(m.need("bits"), m.sub("bits"), 2, 10));
    int exp_max = -1;
    if (const YAML::Node* x = m.find("exp_max"))
      exp_max = static_cast<int>(r.integer(*x, m.sub("exp_max"), -500, 500));
    bool zero = false;
    if (const YAML::Node* x = m.find("zero_code")) zero = r.on_off(*x, m.sub("zero_code"));
    nm::Pow2Rounding pr = nm::Pow2Rounding::value;
    if (const YAML::Node* x = m.find("pow2_rounding"))
      pr = r.choice(*x, m.sub("pow2_rounding"), {"value", "log"}) == 1 ? nm::Pow2Rounding::log
                                                                       : nm::Pow2Rounding::value;
    f = nm::Format::pow2(bits, exp_max, zero, pr);
  } else if (type == "mx") {
    // OCP MX: the spec fixes the element rounding (nearest even) and overflow (saturate).
    m.allow_only({"type", "element", "block"});
    std::vector<std::string> names;
    for (nm::MxElement e : nm::kAllMxElements) names.push_back(nm::to_string(e));
    s.is_mx = true;
    s.mx.element = nm::kAllMxElements[r.choice(
        m.need("element", "one of: " + join(names) + " (MXFP8, MXFP6, MXFP4, MXINT8)"),
        m.sub("element"), names)];
    if (const YAML::Node* x = m.find("block"))
      s.mx.block = static_cast<int>(r.integer(*x, m.sub("block"), 1, 1024));
    s.quantizer = nm::mx_element_quantizer(s.mx);
    return s;
  } else {  // float
    keys({});
    s.is_float = true;
    return s;
  }

  if (const YAML::Node* x = m.find("rounding"))
    s.quantizer.rounding = nm::kAllRoundings[r.choice(*x, m.sub("rounding"), kRoundings)];
  if (const YAML::Node* x = m.find("overflow"))
    s.quantizer.overflow = nm::kAllOverflows[r.choice(*x, m.sub("overflow"), kOverflows)];
  if (const YAML::Node* x = m.find("random_bits"))
    s.quantizer.random_bits = static_cast<int>(r.integer(*x, m.sub("random_bits"), 1, 32));

  if (const char* err = nm::validate(f))
    r.fail(m.node(), "impossible format in " + where + ": " + err);
  if (const char* err = nm::validate(f, s.quantizer.overflow)) {
    const YAML::Node* x = m.find("overflow");
    r.fail(x ? *x : m.node(), "impossible overflow mode in " + where + ": " + err);
  }
  if (const char* err = nm::validate(s.quantizer))
    r.fail(m.node(), "invalid " + where + ": " + err);
  return s;
}

/// Reads the four groups; with `partial`, groups may be missing (overrides).
LayerFormats read_formats(const Reader& r, const YAML::Node& n, const std::string& where,
                          bool partial, bool has[4]) {
  const MapView m(r, n, where, join(kGroups));
  m.allow_only(kGroups);
  LayerFormats lf;
  NumberSpec* out[4] = {&lf.activations, &lf.weights, &lf.bias, &lf.outputs};
  for (size_t i = 0; i < kGroups.size(); ++i) {
    const YAML::Node* g = m.find(kGroups[i]);
    has[i] = g != nullptr;
    if (!g && !partial) m.need(kGroups[i], "every number group needs a format");
    if (g) *out[i] = read_number_spec(r, *g, m.sub(kGroups[i]), out[i] == &lf.weights);
    if (g && out[i]->is_mx && i >= 2)
      r.fail(*g, m.sub(kGroups[i]) +
                     ": type mx applies to activations and weights only (its blocks run along "
                     "the reduction dimension of a layer's products)");
  }
  return lf;
}

AccumulatorSpec read_accumulator(const Reader& r, const YAML::Node& n) {
  const MapView m(r, n, "accumulator", "bits, frac_bits, overflow, align_rounding");
  m.allow_only({"bits", "frac_bits", "overflow", "align_rounding"});
  AccumulatorSpec a;
  if (const YAML::Node* x = m.find("bits"))
    a.bits = static_cast<int>(r.integer(*x, m.sub("bits"), 2, 64));
  if (const YAML::Node* x = m.find("frac_bits")) {
    if (x->IsScalar() && x->Scalar() == "auto") {
      a.frac_bits_auto = true;
    } else {
      if (!x->IsScalar() || x->Scalar().empty() ||
          x->Scalar().find_first_not_of("+-0123456789") != std::string::npos)
        r.fail(*x, "expected 'auto' or an integer in -512..512 for accumulator.frac_bits, got " +
                       (x->IsScalar() ? "'" + x->Scalar() + "'" : std::string(node_kind(*x))));
      a.frac_bits = static_cast<int>(r.integer(*x, m.sub("frac_bits"), -512, 512));
      a.frac_bits_auto = false;
    }
  }
  if (const YAML::Node* x = m.find("overflow")) {
    a.overflow = r.choice(*x, m.sub("overflow"), {"saturate", "wrap"}) == 0 ? nm::Overflow::saturate
                                                                            : nm::Overflow::wrap;
  }
  if (const YAML::Node* x = m.find("align_rounding")) {
    a.align_rounding = nm::kAllRoundings[r.choice(*x, m.sub("align_rounding"), kRoundings)];
    if (a.align_rounding == nm::Rounding::stochastic)
      r.fail(*x,
             "accumulator.align_rounding cannot be stochastic (expected one of: nearest_even, "
             "nearest_away, toward_zero, down, up)");
  }
  return a;
}

TechSpec read_tech(const Reader& r, const YAML::Node& n) {
  const MapView m(r, n, "technology", "node, frequency_mhz, table");
  m.allow_only({"node", "frequency_mhz", "table"});
  TechSpec t;
  if (const YAML::Node* x = m.find("node")) {
    t.node = r.scalar(*x, m.sub("node"), "a process node such as 45nm");
    // "<N>nm" or "<N>" with N in 1..1000 (whether the table has N is checked where the table
    // is read; the position is kept for that message).
    const std::size_t digits = std::min(t.node.find_first_not_of("0123456789"), t.node.size());
    std::size_t u = digits;
    while (u < t.node.size() && t.node[u] == ' ') ++u;
    const bool ok = digits >= 1 && digits <= 4 && (u == t.node.size() || t.node.substr(u) == "nm");
    const int nm = ok ? std::stoi(t.node.substr(0, digits)) : 0;
    if (nm < 1 || nm > 1000)
      r.fail(*x, "technology.node is '" + t.node +
                     "', expected a process node from 1nm to 1000nm such as 45nm");
    t.node_line = x->Mark().line + 1;
    t.node_column = x->Mark().column + 1;
  }
  if (const YAML::Node* x = m.find("frequency_mhz"))
    t.frequency_mhz = r.real(*x, m.sub("frequency_mhz"), 0.0);
  if (const YAML::Node* x = m.find("table")) t.table = r.scalar(*x, m.sub("table"), "a file path");
  return t;
}

/// runtime_fl: on needs what the run-time shifts of docs/rtl.md implement.
void check_runtime_fl(const Reader& r, const YAML::Node& at, const Arch& a) {
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) r.fail(at, "runtime_fl: on needs " + what);
  };
  need(a.datapath == Datapath::exact, "the exact datapath");
  need(has_dynamic_groups(a), "a dynamic_fixed group (its fractional lengths change per layer)");
  need(a.accumulator.frac_bits_auto,
       "accumulator.frac_bits: auto (F follows the layer's products)");
  auto check = [&](const LayerFormats& f, const bool has[4]) {
    const NumberSpec* groups[4] = {&f.activations, &f.weights, &f.bias, &f.outputs};
    for (size_t i = 0; i < 4; ++i)
      if (has[i])
        need(!groups[i]->is_float && !groups[i]->is_mx &&
                 groups[i]->quantizer.format.kind == numeric::FormatKind::fixed,
             "fixed-point formats (fixed or dynamic_fixed), but " + kGroups[i] + " is not");
    if (has[3])
      need(f.outputs.quantizer.rounding != numeric::Rounding::stochastic,
           "a deterministic output rounding (not stochastic)");
  };
  const bool all[4] = {true, true, true, true};
  check(a.formats, all);
  for (const LayerOverride& o : a.overrides) {
    const bool has[4] = {o.has_activations, o.has_weights, o.has_bias, o.has_outputs};
    check(o.formats, has);
  }
}

/// MX groups: one block size for activations and weights; on the exact datapath an
/// explicit frac_bits and block sums that fit 64 bits (docs/datapath.md "MX blocks").
void check_mx(const Reader& r, const MapView& m, const Arch& a) {
  std::vector<LayerFormats> all = {a.formats};
  for (const LayerOverride& o : a.overrides) all.push_back(formats_for(a, o.layer));
  for (const LayerFormats& f : all) {
    if (f.activations.is_mx && f.weights.is_mx && f.activations.mx.block != f.weights.mx.block)
      r.fail(m.node(), "MX activations and weights need the same block size (" +
                           std::to_string(f.activations.mx.block) + " and " +
                           std::to_string(f.weights.mx.block) + ")");
    if (a.datapath != Datapath::exact || !(f.activations.is_mx || f.weights.is_mx)) continue;
    const YAML::Node* acc = m.find("accumulator");
    if (a.accumulator.frac_bits_auto)
      r.fail(acc ? *acc : m.node(),
             "accumulator.frac_bits must be an integer with MX formats on the exact datapath "
             "(block scales span 2^-127..2^127, so 'auto' has no product grid to follow)");
    const int block = f.activations.is_mx ? f.activations.mx.block : f.weights.mx.block;
    const nm::FixedType sum = nm::sum_type(
        nm::product_type(nm::exactly_fixed(f.activations.quantizer.format),
                         nm::exactly_fixed(f.weights.quantizer.format)),
        static_cast<uint64_t>(block));
    if (sum.bits > 65)
      r.fail(m.node(), "the exact datapath cannot sum a block of these MX elements exactly in "
                       "64 bits (MXFP8 E5M2 x E5M2); use E4M3 for one operand, or datapath: float");
  }
}

Arch parse_arch_yaml(const std::string& text, const std::string& path) {
  const Reader r(path);
  const YAML::Node root = r.load(text);
  const std::vector<std::string> top = {"name",  "datapath",    "range_rule", "formats",
                                        "layers", "accumulator", "array",      "technology",
                                        "seed",   "memory",      "runtime_fl"};
  if (root.IsNull())
    throw ConfigError(path, 1, 1,
                      "the file is empty (expected a map with keys: " + join(top) + ")");
  const MapView m(r, root, "the arch", join(top));
  m.allow_only(top);

  Arch a;
  a.path = path;
  a.text = text;
  a.name = r.scalar(m.need("name", "a short name for reports"), "name", "a name");
  if (a.name.empty()) r.fail(*m.find("name"), "name must not be empty");
  if (const YAML::Node* x = m.find("datapath"))
    a.datapath =
        r.choice(*x, "datapath", {"exact", "float"}) == 0 ? Datapath::exact : Datapath::float32;

  bool has[4];
  const YAML::Node& fn = m.need("formats", "the formats of activations, weights, bias and outputs");
  a.formats = read_formats(r, fn, "formats", false, has);
  if (a.datapath == Datapath::exact) {
    const MapView fm(r, fn, "formats", "");
    const NumberSpec* groups[4] = {&a.formats.activations, &a.formats.weights, &a.formats.bias,
                                   &a.formats.outputs};
    for (size_t i = 0; i < 4; ++i)
      if (groups[i]->is_float)
        r.fail(*fm.find(kGroups[i]),
               "formats." + kGroups[i] +
                   " is float, but the exact datapath needs a quantized format "
                   "for every group (use datapath: float)");
  }

  if (const YAML::Node* x = m.find("layers")) {
    const MapView lm(r, *x, "layers", "layer name: {group: format}");
    for (const auto& e : lm.entries()) {
      LayerOverride o;
      o.layer = e.key;
      const std::string where = "layers." + e.key;
      o.formats = read_formats(r, e.value, where, true, has);
      o.has_activations = has[0];
      o.has_weights = has[1];
      o.has_bias = has[2];
      o.has_outputs = has[3];
      if (a.datapath == Datapath::exact) {
        const NumberSpec* groups[4] = {&o.formats.activations, &o.formats.weights, &o.formats.bias,
                                       &o.formats.outputs};
        for (size_t i = 0; i < 4; ++i)
          if (has[i] && groups[i]->is_float)
            r.fail(e.value, where + "." + kGroups[i] +
                                " is float, but the exact datapath needs quantized formats");
      }
      a.overrides.push_back(o);
    }
  }
  if (const YAML::Node* x = m.find("range_rule")) {
    const RangeRule rules[] = {RangeRule::ristretto, RangeRule::no_saturation,
                               RangeRule::automatic};
    a.range_rule = rules[r.choice(*x, "range_rule", {"ristretto", "no_saturation", "auto"})];
    if (!has_dynamic_groups(a))
      r.fail(*x,
             "range_rule applies to dynamic_fixed formats only, and no number group is "
             "dynamic_fixed");
  }
  if (const YAML::Node* x = m.find("accumulator")) a.accumulator = read_accumulator(r, *x);
  if (has_mx_groups(a)) check_mx(r, m, a);
  if (const YAML::Node* x = m.find("array")) a.array = read_array(r, *x);
  if (const YAML::Node* x = m.find("memory")) a.memory = read_memory(r, *x);
  if (const YAML::Node* x = m.find("technology")) a.tech = read_tech(r, *x);
  if (const YAML::Node* x = m.find("seed")) a.seed = r.unsigned64(*x, "seed");
  if (const YAML::Node* x = m.find("runtime_fl")) {
    a.runtime_fl = r.on_off(*x, "runtime_fl");
    if (a.runtime_fl) check_runtime_fl(r, *x, a);
  }
  return a;
}

}  // namespace

Arch parse_arch(const std::string& text, const std::string& path) {
  return checked::with_input_errors(
      "the arch file", [&] { return parse_arch_yaml(text, path); },
      [&](const std::string& m) { return ConfigError(path, 0, 0, m); });
}

Arch load_arch(const std::string& path) {
  return parse_arch(detail::read_file(path, "the arch file"), path);
}

}  // namespace ristsim::config
