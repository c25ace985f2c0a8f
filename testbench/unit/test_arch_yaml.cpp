// Arch YAML loading (sim/config): every shipped config loads with the values
// docs/arch.md promises, and every kind of bad file gives a ConfigError that
// names the file, line and column and what was expected.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "config/arch_yaml.h"
#include "config/describe.h"

namespace {

using namespace ristsim;
using config::ConfigError;

const std::string kConfigs = std::string(RISTSIM_SOURCE_DIR) + "/configs/";

/// A valid arch; tests replace one line of it.
const char* kGood =
    "name: t\n"                                         // 1
    "datapath: exact\n"                                 // 2
    "formats:\n"                                        // 3
    "  activations: {type: dynamic_fixed, bits: 8}\n"   // 4
    "  weights:     {type: fixed, bits: 8, fl: 7}\n"    // 5
    "  bias:        {type: dynamic_fixed, bits: 16}\n"  // 6
    "  outputs:     {type: dynamic_fixed, bits: 8}\n"   // 7
    "accumulator: {bits: 32, frac_bits: auto}\n"        // 8
    "array: {pes: 2, lanes: 8, pipeline_every: 2}\n"    // 9
    "technology: {node: 28nm, frequency_mhz: 800}\n"    // 10
    "seed: 7\n";                                        // 11

/// The 1-based column of the first `at` in line `line` of `text`.
int column_of(const std::string& text, int line, const std::string& at) {
  size_t pos = 0;
  for (int n = 1; n < line; ++n) pos = text.find('\n', pos) + 1;
  const std::string l = text.substr(pos, text.find('\n', pos) - pos);
  const size_t c = l.find(at);
  if (c == std::string::npos) {
    ADD_FAILURE() << "test bug: '" << at << "' is not on line " << line << ": " << l;
    return 0;
  }
  return static_cast<int>(c) + 1;
}

/// Parses `text`, expecting a ConfigError pointing at the first `at` of line
/// `line` (the offending node) whose message contains `what`.
void expect_error(const std::string& text, int line, const std::string& at,
                  const std::string& what) {
  const int col = column_of(text, line, at);
  try {
    config::parse_arch(text, "bad.yaml");
    ADD_FAILURE() << "no error for:\n" << text;
  } catch (const ConfigError& e) {
    const std::string prefix =
        "bad.yaml:" + std::to_string(line) + ":" + std::to_string(col) + ": ";
    EXPECT_EQ(e.file(), "bad.yaml");
    EXPECT_EQ(std::string(e.what()).rfind(prefix, 0), 0u)
        << "message: " << e.what() << "\nexpected to start with: " << prefix;
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos)
        << "message: " << e.what() << "\nexpected to contain: " << what;
  }
}

/// Parses malformed YAML, expecting "bad.yaml:LINE:COL: malformed YAML: ...".
void expect_malformed(const std::string& text, int line) {
  try {
    config::parse_arch(text, "bad.yaml");
    ADD_FAILURE() << "no error for:\n" << text;
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.line(), line) << e.what();
    EXPECT_GE(e.column(), 1) << e.what();
    EXPECT_NE(std::string(e.what()).find(": malformed YAML: "), std::string::npos) << e.what();
  }
}

std::string replace_line(int line, const std::string& with) {
  std::string s = kGood, out;
  size_t pos = 0;
  for (int n = 1; pos < s.size(); ++n) {
    const size_t end = s.find('\n', pos);
    out += (n == line ? with : s.substr(pos, end - pos)) + "\n";
    pos = end + 1;
  }
  return out;
}

TEST(ArchYaml, every_shipped_config_loads) {
  const char* expected[] = {"dynfixed8", "dynfixed4", "fixed16", "minifloat8", "pow2_4", "e4m3"};
  for (const char* name : expected)
    EXPECT_TRUE(std::filesystem::exists(kConfigs + name + ".yaml")) << name;
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kConfigs)) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    const config::Arch a = config::load_arch(entry.path().string());
    EXPECT_EQ(a.name, entry.path().stem().string());
    EXPECT_EQ(a.datapath, config::Datapath::exact);
    for (const config::NumberSpec* s :
         {&a.formats.activations, &a.formats.weights, &a.formats.bias, &a.formats.outputs}) {
      EXPECT_FALSE(s->is_float);
      EXPECT_EQ(numeric::validate(s->quantizer), nullptr);
      EXPECT_LE(s->quantizer.format.code_bits(), 32);
    }
    // The designer's check: a chunk of `lanes` exact products fits the accumulator.
    const numeric::FixedType prod = numeric::product_type(a.formats.activations.quantizer.format,
                                                          a.formats.weights.quantizer.format);
    EXPECT_LE(numeric::sum_type(prod, a.array.lanes).bits, a.accumulator.bits);
    EXPECT_FALSE(config::describe(a).empty());
    ++count;
  }
  EXPECT_GE(count, 6);
}

TEST(ArchYaml, dynfixed8_values) {
  const config::Arch a = config::load_arch(kConfigs + "dynfixed8.yaml");
  EXPECT_EQ(a.path, kConfigs + "dynfixed8.yaml");
  EXPECT_TRUE(a.formats.activations.dynamic);
  EXPECT_EQ(a.formats.activations.quantizer.format.kind, numeric::FormatKind::fixed);
  EXPECT_EQ(a.formats.activations.quantizer.format.bits, 8);
  EXPECT_EQ(a.formats.activations.quantizer.rounding, numeric::Rounding::nearest_even);
  EXPECT_EQ(a.formats.activations.quantizer.overflow, numeric::Overflow::saturate);
  EXPECT_EQ(a.formats.bias.quantizer.format.bits, 16);
  EXPECT_EQ(a.accumulator.bits, 32);
  EXPECT_TRUE(a.accumulator.frac_bits_auto);
  EXPECT_EQ(a.accumulator.align_rounding, numeric::Rounding::down);
  EXPECT_EQ(a.array.lanes, 16);
  EXPECT_EQ(a.tech.node, "45nm");
  EXPECT_EQ(a.tech.frequency_mhz, 500.0);
  EXPECT_EQ(a.seed, 1u);
  // Ristretto's activation rule would saturate [0, 1] pixels at 0.5 (docs/results.md).
  EXPECT_EQ(a.range_rule, config::RangeRule::no_saturation);
  EXPECT_NE(config::describe(a).find("\nrange rule: no_saturation"), std::string::npos);
}

TEST(ArchYaml, other_shipped_formats) {
  const config::Arch f16 = config::load_arch(kConfigs + "fixed16.yaml");
  EXPECT_FALSE(f16.formats.activations.dynamic);
  EXPECT_EQ(f16.formats.activations.quantizer.format.fl, 8);
  EXPECT_EQ(f16.formats.weights.quantizer.format.fl, 14);
  EXPECT_EQ(f16.accumulator.bits, 48);

  const config::Arch mf = config::load_arch(kConfigs + "minifloat8.yaml");
  const numeric::Format& m = mf.formats.weights.quantizer.format;
  EXPECT_EQ(m.kind, numeric::FormatKind::minifloat);
  EXPECT_EQ(m.exp_bits, 4);
  EXPECT_EQ(m.mant_bits, 3);
  EXPECT_EQ(m.bias, 7);
  EXPECT_FALSE(m.subnormals);
  EXPECT_EQ(m.specials, numeric::Specials::none);
  EXPECT_EQ(numeric::max_value(m), 480.0);

  const config::Arch p2 = config::load_arch(kConfigs + "pow2_4.yaml");
  const numeric::Format& p = p2.formats.weights.quantizer.format;
  EXPECT_EQ(p.kind, numeric::FormatKind::pow2);
  EXPECT_EQ(p.exp_min(), -8);
  EXPECT_EQ(p.exp_max, -1);
  EXPECT_FALSE(p.zero_code);
  EXPECT_TRUE(p2.formats.activations.dynamic);

  const config::Arch e4 = config::load_arch(kConfigs + "e4m3.yaml");
  const numeric::Format& e = e4.formats.activations.quantizer.format;
  EXPECT_EQ(e.specials, numeric::Specials::fn);
  EXPECT_TRUE(e.subnormals);
  EXPECT_EQ(numeric::max_value(e), 448.0);

  const config::Arch d4 = config::load_arch(kConfigs + "dynfixed4.yaml");
  EXPECT_EQ(d4.formats.weights.quantizer.format.bits, 4);
}

TEST(ArchYaml, good_text_and_defaults) {
  const config::Arch a = config::parse_arch(kGood, "good.yaml");
  EXPECT_EQ(a.name, "t");
  EXPECT_EQ(a.formats.weights.quantizer.format.fl, 7);
  EXPECT_FALSE(a.formats.weights.dynamic);
  EXPECT_EQ(a.array.pes, 2);
  EXPECT_EQ(a.array.lanes, 8);
  EXPECT_EQ(a.array.pipeline_every, 2);
  EXPECT_EQ(a.tech.frequency_mhz, 800.0);
  EXPECT_EQ(a.seed, 7u);
  EXPECT_EQ(a.text, kGood);
  EXPECT_EQ(a.range_rule, config::RangeRule::ristretto);  // the default
  EXPECT_NE(config::describe(a).find("\nrange rule: ristretto"), std::string::npos);

  // Only name and formats are required.
  const config::Arch m = config::parse_arch(
      "name: m\nformats:\n  activations: {type: e5m2}\n  weights: {type: e4m3, rounding: "
      "stochastic, "
      "random_bits: 12}\n  bias: {type: fixed, bits: 32, fl: 16}\n  outputs: {type: minifloat, "
      "exp_bits: 5, mant_bits: 10, specials: ieee, subnormals: on, overflow: special}\n",
      "m.yaml");
  EXPECT_EQ(m.accumulator.bits, 32);
  EXPECT_TRUE(m.accumulator.frac_bits_auto);
  EXPECT_EQ(m.array.lanes, 16);
  EXPECT_EQ(m.seed, 0u);
  EXPECT_EQ(m.formats.weights.quantizer.rounding, numeric::Rounding::stochastic);
  EXPECT_EQ(m.formats.weights.quantizer.random_bits, 12);
  EXPECT_EQ(m.formats.outputs.quantizer.overflow, numeric::Overflow::special);
  EXPECT_EQ(numeric::max_value(m.formats.outputs.quantizer.format), 65504.0);
  EXPECT_EQ(numeric::max_value(m.formats.activations.quantizer.format), 57344.0);
}

TEST(ArchYaml, explicit_accumulator_and_float_datapath) {
  const config::Arch a = config::parse_arch(
      replace_line(
          8,
          "accumulator: {bits: 40, frac_bits: -3, overflow: wrap, align_rounding: nearest_even}"),
      "a.yaml");
  EXPECT_FALSE(a.accumulator.frac_bits_auto);
  EXPECT_EQ(a.accumulator.frac_bits, -3);
  EXPECT_EQ(a.accumulator.bits, 40);
  EXPECT_EQ(a.accumulator.overflow, numeric::Overflow::wrap);
  EXPECT_EQ(a.accumulator.align_rounding, numeric::Rounding::nearest_even);

  const config::Arch f = config::parse_arch(
      replace_line(2, "datapath: float") + "layers:\n  fc1: {outputs: {type: float}}\n", "f.yaml");
  EXPECT_EQ(f.datapath, config::Datapath::float32);
  EXPECT_TRUE(config::formats_for(f, "fc1").outputs.is_float);
}

TEST(ArchYaml, layer_overrides) {
  const config::Arch a =
      config::parse_arch(std::string(kGood) +
                             "layers:\n  conv1: {weights: {type: fixed, bits: 8, fl: 6}}\n"
                             "  fc2:\n    outputs: {type: pow2, bits: 5, zero_code: on}\n",
                         "o.yaml");
  ASSERT_EQ(a.overrides.size(), 2u);
  const config::LayerFormats c1 = config::formats_for(a, "conv1");
  EXPECT_EQ(c1.weights.quantizer.format.fl, 6);
  EXPECT_TRUE(c1.activations.dynamic);  // not overridden
  EXPECT_TRUE(a.overrides[0].has_weights);
  EXPECT_FALSE(a.overrides[0].has_outputs);
  const config::LayerFormats f2 = config::formats_for(a, "fc2");
  EXPECT_EQ(f2.outputs.quantizer.format.kind, numeric::FormatKind::pow2);
  EXPECT_TRUE(f2.outputs.quantizer.format.zero_code);
  EXPECT_EQ(f2.weights.quantizer.format.fl, 7);
  EXPECT_EQ(config::formats_for(a, "other").weights.quantizer.format.fl, 7);
  const std::string d = config::describe(a);
  EXPECT_NE(d.find("  layer conv1 weights: fixed<8,6>: 8-bit code, range [-2, 1.984375]"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("  layer fc2 outputs: pow2<5,exp -15..-1,zero code,value rounding>"),
            std::string::npos)
      << d;
}

TEST(ArchYaml, unknown_keys) {
  expect_error(replace_line(5, "  weights:     {type: fixed, bitz: 8, fl: 7}"), 5, "bitz",
               "unknown key 'bitz' in formats.weights (expected one of: type, bits, fl, signed, "
               "granularity, rounding, overflow, random_bits)");
  expect_error(replace_line(11, "sead: 7"), 11, "sead", "unknown key 'sead' in the arch");
  expect_error(replace_line(9, "array: {pes: 2, lane: 8}"), 9, "lane",
               "unknown key 'lane' in array");
  expect_error(replace_line(4, "  activation: {type: dynamic_fixed, bits: 8}"), 4, "activation",
               "unknown key 'activation' in formats");
  expect_error(replace_line(5, "  weights: {type: e4m3, bits: 8}"), 5, "bits",
               "unknown key 'bits' in formats.weights (expected one of: type, rounding");
  expect_error(replace_line(5, "  weights: {type: float, rounding: up}"), 5, "rounding",
               "unknown key 'rounding' in formats.weights (expected one of: type)");
  expect_error(std::string(kGood) + "layers:\n  conv1: {weight: {type: e4m3}}\n", 13, "weight",
               "unknown key 'weight' in layers.conv1");
}

TEST(ArchYaml, bad_values) {
  expect_error(
      replace_line(5, "  weights:     {type: fixd, bits: 8, fl: 7}"), 5, "fixd",
      "unknown value 'fixd' for formats.weights.type (expected one of: fixed, dynamic_fixed");
  expect_error(replace_line(5, "  weights:     {type: fixed, bits: 40, fl: 7}"), 5, "40",
               "formats.weights.bits is 40, expected an integer in 1..32");
  expect_error(replace_line(5, "  weights:     {type: fixed, bits: eight, fl: 7}"), 5, "eight,",
               "expected an integer in 1..32 for formats.weights.bits, got 'eight'");
  expect_error(replace_line(5, "  weights:     {type: fixed, bits: 8}"), 5, "{",
               "missing key 'fl' in formats.weights");
  expect_error(
      replace_line(5, "  weights: {type: minifloat, exp_bits: 4, mant_bits: 3, overflow: wrap}"), 5,
      "wrap", "overflow 'wrap' is defined for fixed point only");
  expect_error(
      replace_line(5, "  weights: {type: minifloat, exp_bits: 4, mant_bits: 3, overflow: special}"),
      5, "special", "needs a minifloat with ieee or fn specials");
  expect_error(
      replace_line(5, "  weights: {type: minifloat, exp_bits: 4, mant_bits: 0, specials: ieee}"), 5,
      "{", "impossible format in formats.weights");
  expect_error(replace_line(5, "  weights: {type: minifloat, exp_bits: 9, mant_bits: 3}"), 5, "9",
               "expected an integer in 2..8");
  expect_error(replace_line(5, "  weights: {type: pow2, bits: 4, zero_code: maybe}"), 5, "maybe",
               "expected on or off for formats.weights.zero_code, got 'maybe'");
  expect_error(replace_line(5, "  weights: {type: fixed, bits: 8, fl: 7, rounding: nearest}"), 5,
               "nearest", "unknown value 'nearest' for formats.weights.rounding");
  expect_error(replace_line(5, "  weights: [fixed, 8]"), 5, "[", "expected a map");
  expect_error(replace_line(5, "  weights: {type: float}"), 5, "{",
               "formats.weights is float, but the exact datapath needs a quantized format");
  expect_error(replace_line(7, "  outputs: {}"), 7, "{", "missing key 'type' in formats.outputs");
  expect_error(replace_line(7, ""), 4, "activations", "missing key 'outputs' in formats");
  expect_error(replace_line(8, "accumulator: {bits: 65}"), 8, "65", "expected an integer in 2..64");
  expect_error(replace_line(8, "accumulator: {bits: 1}"), 8, "1", "expected an integer in 2..64");
  expect_error(replace_line(8, "accumulator: {frac_bits: some}"), 8, "some",
               "expected 'auto' or an integer");
  expect_error(
      replace_line(8, "accumulator: {overflow: special}"), 8, "special",
      "unknown value 'special' for accumulator.overflow (expected one of: saturate, wrap)");
  expect_error(replace_line(8, "accumulator: {align_rounding: stochastic}"), 8, "stochastic",
               "cannot be stochastic");
  expect_error(replace_line(9, "array: {lanes: 0}"), 9, "0",
               "array.lanes is 0, expected an integer in 1..256");
  // Issue 15: the widest PE the RTL generator and the co-simulation implement.
  expect_error(replace_line(9, "array: {lanes: 257}"), 9, "257",
               "array.lanes is 257, expected an integer in 1..256");
  expect_error(replace_line(10, "technology: {frequency_mhz: -5}"), 10, "-5",
               "expected a number above 0");
  expect_error(replace_line(11, "seed: -1"), 11, "-1", "expected a non-negative integer");
  expect_error(replace_line(2, "datapath: analog"), 2, "analog", "expected one of: exact, float");
  expect_error(replace_line(1, "name: [a, b]"), 1, "[", "expected a name for name, got a list");
}

TEST(ArchYaml, signed_key) {
  const config::Arch a = config::parse_arch(
      "name: s\n"
      "formats:\n"
      "  activations: {type: dynamic_fixed, bits: 8, signed: auto}\n"
      "  weights:     {type: fixed, bits: 8, fl: 7, signed: true}\n"
      "  bias:        {type: dynamic_fixed, bits: 16, signed: false}\n"
      "  outputs:     {type: fixed, bits: 8, fl: 4, signed: false}\n",
      "s.yaml");
  EXPECT_TRUE(a.formats.activations.signed_auto);
  EXPECT_TRUE(a.formats.activations.quantizer.format.is_signed);  // until the analysis decides
  EXPECT_FALSE(a.formats.weights.signed_auto);
  EXPECT_TRUE(a.formats.weights.quantizer.format.is_signed);
  EXPECT_FALSE(a.formats.bias.quantizer.format.is_signed);
  EXPECT_FALSE(a.formats.outputs.quantizer.format.is_signed);
  EXPECT_EQ(numeric::max_value(a.formats.outputs.quantizer.format), 15.9375);
  // The default is two's complement.
  EXPECT_TRUE(config::parse_arch(kGood, "g.yaml").formats.weights.quantizer.format.is_signed);
  expect_error(replace_line(5, "  weights:     {type: fixed, bits: 8, fl: 7, signed: auto}"), 5,
               "auto", "formats.weights.signed: 'auto' needs dynamic_fixed");
  expect_error(replace_line(5, "  weights:     {type: fixed, bits: 8, fl: 7, signed: maybe}"), 5,
               "maybe",
               "unknown value 'maybe' for formats.weights.signed (expected one of: true, false, "
               "auto)");
  expect_error(replace_line(5, "  weights:     {type: e4m3, signed: false}"), 5, "false",
               "formats.weights.signed: 'signed' applies to fixed and dynamic_fixed only (e4m3");
  expect_error(
      replace_line(5, "  weights:     {type: pow2, bits: 4, signed: false}"), 5, "false",
      "formats.weights.signed: 'signed' applies to fixed and dynamic_fixed only (pow2");
}

TEST(ArchYaml, range_rule) {
  const config::Arch a =
      config::parse_arch(replace_line(2, "datapath: exact\nrange_rule: no_saturation"), "r.yaml");
  EXPECT_EQ(a.range_rule, config::RangeRule::no_saturation);
  EXPECT_EQ(config::parse_arch(replace_line(2, "range_rule: ristretto"), "r.yaml").range_rule,
            config::RangeRule::ristretto);
  expect_error(replace_line(2, "range_rule: clamp"), 2, "clamp",
               "unknown value 'clamp' for range_rule (expected one of: ristretto, no_saturation, "
               "auto)");
  EXPECT_EQ(config::parse_arch(replace_line(2, "range_rule: auto"), "r.yaml").range_rule,
            config::RangeRule::automatic);
  // Without a dynamic_fixed group the key would do nothing: an error, not a silent no-op.
  std::string fixed = replace_line(2, "range_rule: no_saturation");
  const std::string dyn = "{type: dynamic_fixed";
  for (size_t p; (p = fixed.find(dyn)) != std::string::npos;)
    fixed.replace(p, dyn.size(), "{type: fixed, fl: 4");
  expect_error(fixed, 2, "no_saturation",
               "range_rule applies to dynamic_fixed formats only, and no number group is "
               "dynamic_fixed");
  // A dynamic group in a layer override is enough.
  EXPECT_EQ(config::parse_arch(fixed + "layers:\n  conv1: {outputs: {type: dynamic_fixed, bits: 8}}\n",
                               "r.yaml")
                .range_rule,
            config::RangeRule::no_saturation);
}

TEST(ArchYaml, structural_errors) {
  // Malformed YAML: yaml-cpp's own mark (where the parser gave up) and message.
  expect_malformed("name: t\nformats: {activations: {type: e4m3}\nseed: 1\n", 3);
  expect_malformed("name: t\nformats:\n\tactivations: {}\n", 3);
  expect_malformed("name: t\nformats: [a, b\n", 3);
  expect_error("", 1, "", "the file is empty");
  expect_error("- a\n- b\n", 1, "-", "expected a map");
  expect_error(replace_line(11, "seed: 7\nseed: 8"), 12, "seed",
               "duplicate key 'seed' in the arch (first at line 11)");
  expect_error("formats: {}\n", 1, "formats", "missing key 'name' in the arch");
}

TEST(ArchYaml, missing_file) {
  try {
    config::load_arch("/nonexistent/x.yaml");
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/x.yaml: cannot open the arch file");
  }
}

TEST(ArchDescribe, hash_and_text) {
  // FNV-1a 64 reference values (the algorithm's published test vectors).
  EXPECT_EQ(config::fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(config::fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(config::fnv1a64("foobar"), 0x85944171f73967e8ull);
  EXPECT_EQ(config::hex64(0xabcull), "0x0000000000000abc");

  const config::Arch a = config::parse_arch(kGood, "good.yaml");
  EXPECT_EQ(config::arch_hash(a), config::fnv1a64(kGood));
  const std::string d = config::describe(a);
  EXPECT_NE(d.find("datapath: exact"), std::string::npos) << d;
  EXPECT_NE(
      d.find("weights: fixed<8,7>: 8-bit code, range [-1, 0.9921875], smallest positive 0.0078125"),
      std::string::npos)
      << d;
  EXPECT_NE(d.find("products fixed<16,7>; a chunk of 8 lanes sums to fixed<19,7>"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("array: 2 PEs x 8 lanes"), std::string::npos) << d;

  numeric::Quantizer q;
  q.format = numeric::Format::e4m3();
  EXPECT_EQ(
      config::describe(q),
      "e4m3 (OCP FP8: fn specials, subnormals): 8-bit code, range [-448, 448], smallest positive "
      "0.001953125, NaN; rounding nearest_even, overflow saturate");
}

}  // namespace

// runtime_fl: on (docs/arch.md): read, and refused with the key's position where
// the run-time shifts of docs/rtl.md cannot implement the arch.
TEST(ArchYaml, runtime_fl) {
  EXPECT_FALSE(config::parse_arch(kGood, "good.yaml").runtime_fl);
  const std::string on = std::string(kGood) + "runtime_fl: on\n";  // line 12
  EXPECT_TRUE(config::parse_arch(on, "good.yaml").runtime_fl);
  EXPECT_FALSE(config::parse_arch(std::string(kGood) + "runtime_fl: off\n", "g.yaml").runtime_fl);
  expect_error(std::string(kGood) + "runtime_fl: maybe\n", 12, "maybe", "expected on or off");
  auto with = [&](int line, const std::string& text) {
    std::string t = replace_line(line, text);
    return t + "runtime_fl: on\n";
  };
  expect_error(with(8, "accumulator: {bits: 32, frac_bits: 12}"), 12, "on",
               "accumulator.frac_bits: auto");
  expect_error(with(5, "  weights:     {type: e4m3}"), 12, "on",
               "fixed-point formats (fixed or dynamic_fixed), but weights is not");
  expect_error(with(7, "  outputs:     {type: dynamic_fixed, bits: 8, rounding: stochastic}"), 12,
               "on", "a deterministic output rounding");
  const std::string fixed_only =
      "name: t\n"
      "formats:\n"
      "  activations: {type: fixed, bits: 8, fl: 7}\n"
      "  weights:     {type: fixed, bits: 8, fl: 7}\n"
      "  bias:        {type: fixed, bits: 16, fl: 14}\n"
      "  outputs:     {type: fixed, bits: 8, fl: 5}\n"
      "runtime_fl: on\n";  // line 7
  expect_error(fixed_only, 7, "on", "a dynamic_fixed group");
}

// granularity: channel (weights only): dynamic_fixed chooses one FL per output channel; static
// fixed point lists them (what a quantize plan writes); everything else is refused at the node.
TEST(ArchYaml, weight_granularity) {
  const config::Arch d = config::parse_arch(
      replace_line(5, "  weights: {type: dynamic_fixed, bits: 4, granularity: channel}"), "g.yaml");
  EXPECT_EQ(d.formats.weights.granularity, config::Granularity::channel);
  EXPECT_TRUE(d.formats.weights.dynamic);
  EXPECT_TRUE(d.formats.weights.channel_fl.empty());  // until a range analysis
  const config::Arch l = config::parse_arch(
      replace_line(5, "  weights: {type: dynamic_fixed, bits: 4, granularity: layer}"), "g.yaml");
  EXPECT_EQ(l.formats.weights.granularity, config::Granularity::layer);
  EXPECT_EQ(config::parse_arch(kGood, "g.yaml").formats.weights.granularity,
            config::Granularity::layer);  // the default
  const config::Arch s = config::parse_arch(
      replace_line(5, "  weights: {type: fixed, bits: 4, granularity: channel, fl: [3, 5, -1]}"),
      "g.yaml");
  EXPECT_EQ(s.formats.weights.channel_fl, (std::vector<int>{3, 5, -1}));
  EXPECT_EQ(s.formats.weights.quantizer.format.fl, 5);  // the finest
  EXPECT_EQ(s.formats.weights.fl_of_channel(2), -1);
  EXPECT_EQ(s.formats.weights.channel_quantizer(0).format.fl, 3);

  expect_error(replace_line(4, "  activations: {type: dynamic_fixed, bits: 8, granularity: channel}"),
               4, "channel", "applies to weights only");
  expect_error(replace_line(7, "  outputs:     {type: dynamic_fixed, bits: 8, granularity: channel}"),
               7, "channel", "applies to weights only");
  expect_error(replace_line(5, "  weights: {type: fixed, bits: 4, fl: 3, granularity: channel}"), 5,
               "3,", "a list of fractional lengths");
  expect_error(replace_line(5, "  weights: {type: fixed, bits: 4, granularity: channel}"), 5, "{",
               "one fl per output channel");
  expect_error(replace_line(5, "  weights: {type: fixed, bits: 4, granularity: channel, fl: []}"),
               5, "[]", "a list of fractional lengths");
  expect_error(replace_line(5, "  weights: {type: fixed, bits: 4, granularity: channel, fl: [1, x]}"),
               5, "x]", "integer");
  expect_error(replace_line(5, "  weights: {type: dynamic_fixed, bits: 4, granularity: row}"), 5,
               "row", "granularity");
  expect_error(replace_line(5, "  weights: {type: e4m3, granularity: channel}"), 5, "granularity",
               "unknown key 'granularity'");
  // A layer override is checked the same way.
  expect_error(std::string(kGood) +
                   "layers:\n  conv1: {bias: {type: dynamic_fixed, bits: 8, granularity: channel}}\n",
               13, "channel", "applies to weights only");
}
