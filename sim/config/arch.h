// The accelerator description ("arch"): plain structs, no YAML here.
// sim/config/arch_yaml.cpp is the only place that reads YAML into them.
//
// An arch fixes the number formats of each number group (activations = layer
// inputs, weights, bias, outputs), the datapath that computes a layer (float:
// Ristretto's float accumulation; exact: the integer hardware), the
// accumulator, the array shape and the technology.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "numeric/numeric.h"

namespace ristsim::config {

using numeric::Format;
using numeric::Overflow;
using numeric::Quantizer;
using numeric::Rounding;

/// One number group's format and policies. `dynamic` (dynamic fixed point):
/// the fractional length is chosen per layer from the measured range
/// (Ristretto's rule, see docs/arch.md); quantizer.format.fl is then only the
/// default until a range analysis or a per-layer override sets it.
struct NumberSpec {
  Quantizer quantizer;
  bool dynamic = false;
  bool is_float = false;  ///< no quantization (float32 passes through)
};

/// Formats of the four number groups of a conv / FC layer.
struct LayerFormats {
  NumberSpec activations;  ///< layer inputs
  NumberSpec weights;
  NumberSpec bias;
  NumberSpec outputs;
};

/// Per-layer override: the layer name and the groups it replaces.
struct LayerOverride {
  std::string layer;
  bool has_activations = false, has_weights = false, has_bias = false, has_outputs = false;
  LayerFormats formats;
};

enum class Datapath : uint8_t { float32, exact };

/// How a range analysis turns the measured max |x| of a dynamic fixed-point
/// group into its integer length IL (FL = bits - IL). Weights and bias always
/// take IL = ceil(log2(max) + 1), the smallest IL that holds max without
/// saturating. For layer inputs and outputs:
///   ristretto       IL = ceil(log2(max)), Ristretto's activation rule: one bit
///                   less, so values above half the range saturate (8 bits,
///                   max 1.0: IL = 0, FL = 8, largest value 127/256 = 0.496).
///   no_saturation   the weights' rule (max 1.0: IL = 1, FL = 7, largest 0.992).
enum class RangeRule : uint8_t { ristretto, no_saturation };

/// The accumulator of the exact datapath: A bits, F fractional bits.
/// frac_bits_auto: F = FL of the products (activations' FL + weights' FL for
/// fixed point; the exactly_fixed() FL for other formats), so alignment is exact.
struct AccumulatorSpec {
  int bits = 32;
  int frac_bits = 0;
  bool frac_bits_auto = true;
  Overflow overflow = Overflow::saturate;       ///< saturate or wrap
  Rounding align_rounding = Rounding::down;     ///< product alignment (truncation)
};

/// P processing elements of K lanes; a pipeline register every `pipeline_every`
/// adder-tree levels (0: no registers inside the tree).
struct ArraySpec {
  int pes = 1;
  int lanes = 16;
  int pipeline_every = 1;
};

struct TechSpec {
  std::string node = "45nm";  ///< "<N>nm", N in 1..1000; the table must have node N
  int node_line = 0, node_column = 0;  ///< 1-based position of `node` in the arch file (0: default)
  double frequency_mhz = 500.0;
  std::string table;  ///< path of a configs/tech/*.yaml table; empty: the default
};

struct Arch {
  std::string name;
  std::string path;  ///< file it was read from
  std::string text;  ///< the file's bytes (hashed into generated RTL headers)
  Datapath datapath = Datapath::exact;
  RangeRule range_rule = RangeRule::ristretto;  ///< for dynamic fixed-point groups
  LayerFormats formats;
  std::vector<LayerOverride> overrides;
  AccumulatorSpec accumulator;
  ArraySpec array;
  TechSpec tech;
  uint64_t seed = 0;  ///< stochastic rounding seed
  /// runtime_fl: on. The PE's output stage takes the fractional lengths of the
  /// layer from a configuration register written per layer (docs/rtl.md), so
  /// one generated PE runs every layer of a dynamic fixed-point network.
  /// Needs the exact datapath, fixed-point groups, frac_bits auto and a
  /// deterministic output rounding (checked when the file is read).
  bool runtime_fl = false;
};

/// The formats in force for a layer: the arch's, with the layer's override.
inline LayerFormats formats_for(const Arch& a, const std::string& layer) {
  LayerFormats f = a.formats;
  for (const LayerOverride& o : a.overrides) {
    if (o.layer != layer) continue;
    if (o.has_activations) f.activations = o.formats.activations;
    if (o.has_weights) f.weights = o.formats.weights;
    if (o.has_bias) f.bias = o.formats.bias;
    if (o.has_outputs) f.outputs = o.formats.outputs;
  }
  return f;
}

/// True when some number group of the arch (or of a layer override) is dynamic
/// fixed point, i.e. when the arch needs a range analysis.
inline bool has_dynamic_groups(const Arch& a) {
  auto dynamic = [](const LayerFormats& f) {
    return f.activations.dynamic || f.weights.dynamic || f.bias.dynamic || f.outputs.dynamic;
  };
  bool any = dynamic(a.formats);
  for (const LayerOverride& o : a.overrides) any = any || dynamic(o.formats);
  return any;
}

}  // namespace ristsim::config
