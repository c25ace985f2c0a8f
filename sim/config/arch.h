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

/// How many fractional lengths a dynamic fixed-point group has per layer:
///   layer    one, for the whole tensor (Ristretto).
///   channel  weights only: one per output channel of the layer (the scheme TensorRT and
///            Brevitas default to), each chosen by the same range rule from that channel's
///            weights alone. A conv1 channel with max |w| 0.9 gets FL 3 at 4 bits, one with
///            max |w| 0.05 gets FL 7 (docs/formats.md "Per-channel weights").
enum class Granularity : uint8_t { layer, channel };

/// One number group's format and policies. `dynamic` (dynamic fixed point):
/// the fractional length is chosen per layer from the measured range
/// (Ristretto's rule, see docs/arch.md); quantizer.format.fl is then only the
/// default until a range analysis or a per-layer override sets it.
struct NumberSpec {
  Quantizer quantizer;
  bool dynamic = false;
  bool is_float = false;  ///< no quantization (float32 passes through)
  /// `signed: auto` (dynamic fixed point): the range analysis makes the group
  /// unsigned (quantizer.format.is_signed = false) where it measured no negative
  /// value (pixels, inputs after a ReLU), signed elsewhere.
  bool signed_auto = false;
  /// `granularity: channel` (weights of a dynamic_fixed group only).
  Granularity granularity = Granularity::layer;
  /// channel granularity, once a range analysis ran: the FL of output channel k is
  /// channel_fl[k] (quantizer.format.fl then holds the largest of them, the format's
  /// finest grid). Empty until then: every channel uses quantizer.format.fl.
  std::vector<int> channel_fl;
  bool per_channel() const { return granularity == Granularity::channel; }
  /// The fractional length of output channel k.
  int fl_of_channel(int k) const {
    return channel_fl.empty() ? quantizer.format.fl : channel_fl[static_cast<std::size_t>(k)];
  }
  /// The quantizer of output channel k (its format's fl set to fl_of_channel(k)).
  Quantizer channel_quantizer(int k) const {
    Quantizer q = quantizer;
    q.format.fl = fl_of_channel(k);
    return q;
  }
  /// OCP MX block format (`type: mx`, activations and weights only): blocks of
  /// mx.block elements along the reduction dimension share an E8M0 scale
  /// (numeric/mx.h); quantizer then holds the element format (nearest even,
  /// saturate, as the spec says).
  bool is_mx = false;
  numeric::MxFormat mx;
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
///   automatic       ("auto") per group, the rule its data needs: of the two, the one
///                   with the smaller estimated quantization error over the group's
///                   measured values (saturation of the values Ristretto's rule clips,
///                   from the log2 histogram, against the coarser grid of
///                   no_saturation; engine::auto_rule). Fashion-MNIST pixels, of which
///                   about a third of the nonzero ones are above 0.5, take no_saturation.
enum class RangeRule : uint8_t { ristretto, no_saturation, automatic };

/// The one spelling of a range rule, everywhere (arch key `range_rule`, the
/// `--range-rule` option of eval and quantize): "ristretto", "no_saturation" or "auto".
inline const char* to_string(RangeRule r) {
  switch (r) {
    case RangeRule::ristretto: return "ristretto";
    case RangeRule::no_saturation: return "no_saturation";
    case RangeRule::automatic: return "auto";
  }
  return "?";
}
/// Parses a range rule; "no-saturation" (the old option spelling) is read too.
inline bool parse_range_rule(const std::string& s, RangeRule* out) {
  if (s == "ristretto") return *out = RangeRule::ristretto, true;
  if (s == "no_saturation" || s == "no-saturation") return *out = RangeRule::no_saturation, true;
  if (s == "auto") return *out = RangeRule::automatic, true;
  return false;
}

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

/// Which operand stays in the PEs while the others stream through (SCALE-Sim's
/// three dataflows; docs/arch.md "array").
enum class Dataflow : uint8_t { output_stationary, weight_stationary, input_stationary };

/// How operands reach the PEs. `systolic`: forwarded PE to PE along rows and
/// columns (skewed wavefront, SCALE-Sim). `broadcast`: every PE is fed from the
/// shared buffer port and works on its own output elements (the original
/// P-PE model of sim/cycle; output stationary only).
enum class Interconnect : uint8_t { systolic, broadcast };

/// rows x cols processing elements of K lanes each; a pipeline register every
/// `pipeline_every` adder-tree levels (0: no registers inside the tree).
/// `pes` is always rows * cols (`array: {pes: P}` reads as P x 1, broadcast).
struct ArraySpec {
  int pes = 1;
  int lanes = 16;
  int pipeline_every = 1;
  int rows = 1, cols = 1;
  Dataflow dataflow = Dataflow::output_stationary;
  Interconnect interconnect = Interconnect::broadcast;
};

/// The memory hierarchy (docs/arch.md "memory"): per-PE register files, on-chip
/// buffers (SRAM), and DRAM, innermost first.
enum class MemoryKind : uint8_t { register_file, sram, dram };
/// What a level holds: one operand, or all three (`shared`).
enum class MemoryOperand : uint8_t { inputs, weights, outputs, shared };

struct MemoryLevel {
  std::string name;
  MemoryKind kind = MemoryKind::sram;
  MemoryOperand operand = MemoryOperand::shared;
  double capacity_bytes = 0;         ///< register file: per PE; sram: the whole buffer; 0: default
  int width_bits = 0;                ///< sram: bits per cycle per bank; 0: unlimited
  int banks = 1;                     ///< sram
  std::string dram_type;             ///< dram: a type of the technology table; empty: its default
  double bandwidth_bytes_per_cycle = 0;  ///< dram, at the arch clock; 0: unlimited
  int line = 0, column = 0;          ///< 1-based position in the arch file (0: default level)
  /// Words of `bits` each that the level supplies per cycle; 0: unlimited.
  double words_per_cycle(int bits) const {
    if (kind == MemoryKind::dram)
      return bandwidth_bytes_per_cycle > 0 ? bandwidth_bytes_per_cycle * 8.0 / bits : 0;
    return width_bits > 0 ? double(width_bits) * banks / bits : 0;
  }
};

struct MemoryHierarchy {
  bool given = false;  ///< the arch file has a `memory` key
  std::vector<MemoryLevel> levels;  ///< innermost first; the last is DRAM
};

/// The hierarchy an arch without a `memory` key gets: one shared buffer of the
/// technology table's default size, unlimited width, and the table's default
/// DRAM with unlimited bandwidth.
inline MemoryHierarchy default_memory() {
  MemoryHierarchy h;
  MemoryLevel buf;
  buf.name = "buffer";
  buf.kind = MemoryKind::sram;
  buf.operand = MemoryOperand::shared;
  MemoryLevel dram;
  dram.name = "dram";
  dram.kind = MemoryKind::dram;
  h.levels = {buf, dram};
  return h;
}

const char* to_string(Dataflow d);
const char* to_string(Interconnect i);
const char* to_string(MemoryKind k);
const char* to_string(MemoryOperand o);

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
  MemoryHierarchy memory = default_memory();
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

/// True when some number group of the arch (or of a layer override) is an MX block format.
inline bool has_mx_groups(const Arch& a) {
  auto mx = [](const LayerFormats& f) { return f.activations.is_mx || f.weights.is_mx; };
  bool any = mx(a.formats);
  for (const LayerOverride& o : a.overrides) any = any || mx(o.formats);
  return any;
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
