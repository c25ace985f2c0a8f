// The shape of one processing element (PE): every width of its datapath, taken
// from the numeric core's growth rules (sim/numeric/growth.h), and the
// latency of its pipeline. The RTL generator (sim/rtlgen), the SystemC models
// (sim/cycle) and the co-simulation all read their widths from here, so the
// three cannot disagree about a bit.
//
// The PE computes docs/datapath.md for one output element at a time:
//
//   stage 1   K multipliers (fixed x fixed: signed m x n; power-of-two weights:
//             barrel shifter, negate, zero gate; minifloat: significand product
//             and exponent add), each product aligned onto the accumulator grid
//             2^-F, registered (prod_q).
//   stage 2   widening adder tree, ceil(log2 K) levels, level l is
//             tree_level_type(aligned, l); a register after every
//             `pipeline_every` levels (none when 0).
//   stage 3   accumulator: acc = ovf(first ? chunk : acc + chunk) on A bits.
//   stage 4   output: acc = ovf(acc + bias_aligned); out = quantize(O, acc 2^-F,
//             index) with the O rounding (stochastic: random.h keyed by key_i).
//
// Latency from a chunk at the inputs to its result at out_o (when last_i):
// 1 + tree_regs + 1 + 1 cycles.
#pragma once

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "config/arch.h"
#include "numeric/numeric.h"

namespace ristsim::rtlgen {

/// The arch asks for something the PE hardware does not implement.
class Unsupported : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Cycles from a chunk at the PE's inputs to its result at out_o: the product
/// register, a tree register every `pipeline_every` of the ceil(log2 K) levels
/// (none when 0), the accumulator and the output register.
inline int pe_latency(int lanes, int pipeline_every) {
  const int levels = numeric::tree_levels(static_cast<uint64_t>(lanes < 1 ? 1 : lanes));
  return 1 + (pipeline_every > 0 ? levels / pipeline_every : 0) + 1 + 1;
}

/// Formats and quantizers of one layer as the PE sees them.
struct PeFormats {
  numeric::Format act, wt, bias;
  numeric::Quantizer out;  ///< rounding, overflow, random_bits; seed/stream come in on key_i
  config::AccumulatorSpec acc;
};

/// Every width of the PE, derived from growth.h.
struct PeShape {
  std::string arch_name;
  PeFormats fmt;
  int lanes = 16;          ///< K
  int pipeline_every = 1;  ///< adder-tree levels per register (0: none)

  numeric::FixedType act_fixed, wt_fixed, bias_fixed;  ///< exactly_fixed() of each operand
  numeric::FixedType product;                          ///< product_type(act, wt) of the formats
  int frac_bits = 0;                                   ///< F
  numeric::FixedType aligned;       ///< aligned_type(product, F, alignment rounding)
  numeric::FixedType bias_aligned;  ///< aligned_type(bias_fixed, F, alignment rounding)
  int tree_levels = 0;              ///< ceil(log2 K)
  numeric::FixedType tree_sum;      ///< sum_type(aligned, K)
  int acc_bits = 0;                 ///< A
  int out_bits = 0;                 ///< code bits of the output format
  int act_bits = 0, wt_bits = 0, bias_bits = 0;  ///< code bits of the operands
  /// runtime_fl: the fractional lengths of the layer come from the output
  /// stage's configuration register (cfg_we_i, cfg_fl_i); `fmt` holds the
  /// layer's (or the arch's default) FLs, the hardware does not depend on them.
  bool runtime_fl = false;

  /// Width of adder-tree level l (0 = the aligned products).
  int tree_width(int level) const { return numeric::tree_level_type(aligned, level).bits; }
  /// True if a pipeline register follows tree level l (1..tree_levels).
  bool tree_reg_after(int level) const {
    return pipeline_every > 0 && level >= 1 && level % pipeline_every == 0;
  }
  int tree_regs() const { return pipeline_every > 0 ? tree_levels / pipeline_every : 0; }
  /// Cycles from a chunk at the inputs to its output at out_o.
  int latency() const { return pe_latency(lanes, pipeline_every); }
};

/// Checks that the PE hardware implements these formats; throws Unsupported.
inline void check_supported(const PeFormats& f, int lanes) {
  using numeric::FormatKind;
  using numeric::Specials;
  auto operand_ok = [](const numeric::Format& x, const char* what) {
    if (x.kind == FormatKind::minifloat && x.specials == Specials::ristretto)
      throw Unsupported(std::string(what) + ": the ristretto minifloat variant has no RTL");
    if (x.code_bits() > 32) throw Unsupported(std::string(what) + ": codes wider than 32 bits");
  };
  operand_ok(f.act, "activations");
  operand_ok(f.wt, "weights");
  operand_ok(f.bias, "bias");
  operand_ok(f.out.format, "outputs");
  if (f.out.format.kind == FormatKind::pow2)
    throw Unsupported("outputs: power-of-two output conversion has no RTL");
  if (f.out.format.kind == FormatKind::fixed && !f.out.format.is_signed)
    throw Unsupported(
        "outputs: unsigned fixed-point output conversion has no RTL (unsigned activations, "
        "weights and bias do)");
  if (f.acc.align_rounding == numeric::Rounding::stochastic)
    throw Unsupported("accumulator: stochastic alignment is not allowed (docs/datapath.md)");
  if (f.acc.overflow != numeric::Overflow::saturate && f.acc.overflow != numeric::Overflow::wrap)
    throw Unsupported("accumulator: overflow must be saturate or wrap");
  if (lanes < 1 || lanes > 256) throw Unsupported("array: lanes must be 1..256");
}

/// The shape of the PE for these formats, K lanes, a register every
/// `pipeline_every` tree levels. Throws Unsupported.
inline PeShape make_pe_shape(const PeFormats& f, int lanes, int pipeline_every,
                             const std::string& arch_name = "") {
  check_supported(f, lanes);
  PeShape s;
  s.arch_name = arch_name;
  s.fmt = f;
  s.lanes = lanes;
  s.pipeline_every = pipeline_every < 0 ? 0 : pipeline_every;
  s.act_fixed = numeric::exactly_fixed(f.act);
  s.wt_fixed = numeric::exactly_fixed(f.wt);
  s.bias_fixed = numeric::exactly_fixed(f.bias);
  s.product = numeric::product_type(f.act, f.wt);
  s.frac_bits = f.acc.frac_bits_auto ? s.product.fl : f.acc.frac_bits;
  s.aligned = numeric::aligned_type(s.product, s.frac_bits, f.acc.align_rounding);
  s.bias_aligned = numeric::aligned_type(s.bias_fixed, s.frac_bits, f.acc.align_rounding);
  s.tree_levels = numeric::tree_levels(static_cast<uint64_t>(lanes));
  s.tree_sum = numeric::sum_type(s.aligned, static_cast<uint64_t>(lanes));
  s.acc_bits = f.acc.bits;
  s.out_bits = f.out.format.code_bits();
  s.act_bits = f.act.code_bits();
  s.wt_bits = f.wt.code_bits();
  s.bias_bits = f.bias.code_bits();
  // The models hold every register in an int64_t; one bit of headroom for sums.
  if (s.tree_sum.bits > 62 || s.bias_aligned.bits > 62 || s.acc_bits > 62 || s.acc_bits < 2)
    throw Unsupported("PE: datapath wider than 62 bits (tree " + std::to_string(s.tree_sum.bits) +
                      ", accumulator " + std::to_string(s.acc_bits) + ")");
  if (s.product.bits > 62) throw Unsupported("PE: products wider than 62 bits");
  return s;
}

/// The formats of a layer as the PE sees them. Dynamic fixed-point groups get
/// their fractional length from `dynamic_fl`:
///   "arch"     keep the arch's (default) fractional lengths
///   "auto"     activations and weights bits - 1, bias and outputs bits - 2
///              (values near +-1 and +-2: every rounding and saturation path is
///              reachable; what co-simulation uses when no range analysis ran)
///   "A,W,B,O"  the four fractional lengths (only the dynamic groups take them)
inline PeFormats pe_formats(const config::Arch& arch, const config::LayerFormats& lf,
                            const std::string& dynamic_fl = "arch") {
  if (arch.datapath != config::Datapath::exact)
    throw Unsupported("arch '" + arch.name + "': only the exact datapath has hardware");
  const config::NumberSpec* groups[4] = {&lf.activations, &lf.weights, &lf.bias, &lf.outputs};
  for (const config::NumberSpec* g : groups)
    if (g->is_float) throw Unsupported("arch '" + arch.name + "': float32 groups have no hardware");
  if (lf.weights.per_channel() && !arch.runtime_fl)
    throw Unsupported("arch '" + arch.name +
                      "': weights of granularity: channel change their fractional length from "
                      "one output channel to the next, which a PE of fixed shifts cannot follow; "
                      "use runtime_fl: on (the controller writes each channel's FL into the PE's "
                      "configuration register, docs/rtl.md)");
  if (lf.activations.is_mx || lf.weights.is_mx)
    throw Unsupported("arch '" + arch.name +
                      "': OCP MX groups have no PE RTL yet (rtl/ristsim_mx_align.sv is the "
                      "shared-scale alignment block alone, docs/rtl.md); run MX archs with eval");
  PeFormats f;
  f.act = lf.activations.quantizer.format;
  f.wt = lf.weights.quantizer.format;
  f.bias = lf.bias.quantizer.format;
  f.out = lf.outputs.quantizer;
  f.out.seed = arch.seed;
  f.acc = arch.accumulator;
  numeric::Format* fmts[4] = {&f.act, &f.wt, &f.bias, &f.out.format};
  if (dynamic_fl == "auto") {
    const int minus[4] = {1, 1, 2, 2};
    for (int i = 0; i < 4; ++i)
      if (groups[i]->dynamic) fmts[i]->fl = fmts[i]->bits - minus[i];
  } else if (dynamic_fl != "arch") {
    int v[4];
    if (std::sscanf(dynamic_fl.c_str(), "%d,%d,%d,%d", &v[0], &v[1], &v[2], &v[3]) != 4)
      throw Unsupported("dynamic fractional lengths: expected 'arch', 'auto' or 'A,W,B,O', not '" +
                        dynamic_fl + "'");
    for (int i = 0; i < 4; ++i)
      if (groups[i]->dynamic) fmts[i]->fl = v[i];
  }
  return f;
}

/// The four fractional lengths of a layer as the runtime-FL configuration
/// register holds them: cfg_fl_i = {act, wgt, bias, out}, 8-bit two's
/// complement each, activations in the top byte.
inline uint32_t runtime_fl_word(const PeShape& s) {
  const int fl[4] = {s.fmt.act.fl, s.fmt.wt.fl, s.fmt.bias.fl, s.fmt.out.format.fl};
  uint32_t w = 0;
  for (int x : fl) w = (w << 8) | (static_cast<uint32_t>(x) & 0xffu);
  return w;
}

/// Checks what a runtime-FL PE needs of a shape; throws Unsupported.
inline void check_runtime_fl(const PeShape& s) {
  using numeric::FormatKind;
  const numeric::Format* f[4] = {&s.fmt.act, &s.fmt.wt, &s.fmt.bias, &s.fmt.out.format};
  for (const numeric::Format* x : f)
    if (x->kind != FormatKind::fixed)
      throw Unsupported("runtime_fl: every group must be fixed point");
  for (const numeric::Format* x : f)
    if (x->fl < -128 || x->fl > 127)
      throw Unsupported("runtime_fl: fractional length " + std::to_string(x->fl) +
                        " does not fit the 8-bit configuration register");
  if (!s.fmt.acc.frac_bits_auto) throw Unsupported("runtime_fl: needs accumulator.frac_bits: auto");
  if (s.fmt.out.rounding == numeric::Rounding::stochastic)
    throw Unsupported("runtime_fl: stochastic output rounding has no run-time shift");
  if (s.bias_fixed.bits + s.acc_bits > 61)
    throw Unsupported("runtime_fl: bias (" + std::to_string(s.bias_fixed.bits) +
                      " bits) shifted over the accumulator (" + std::to_string(s.acc_bits) +
                      " bits) is wider than 61 bits");
}

/// The PE of an arch (its default layer formats, or `layer`'s).
inline PeShape make_pe_shape(const config::Arch& arch, const config::LayerFormats* layer = nullptr,
                             const std::string& dynamic_fl = "arch") {
  const PeFormats f = pe_formats(arch, layer ? *layer : arch.formats, dynamic_fl);
  PeShape s = make_pe_shape(f, arch.array.lanes, arch.array.pipeline_every, arch.name);
  s.runtime_fl = arch.runtime_fl;
  if (s.runtime_fl) check_runtime_fl(s);
  return s;
}

/// A runtime-FL PE's shape for a layer with fractional lengths `fl` =
/// {act, wgt, bias, out}: the same hardware, the layer's FLs (F = act + wgt).
/// Throws Unsupported when the layer does not fit the PE.
inline PeShape runtime_layer_shape(const PeShape& hw, const int fl[4]) {
  PeFormats f = hw.fmt;
  f.act.fl = fl[0];
  f.wt.fl = fl[1];
  f.bias.fl = fl[2];
  f.out.format.fl = fl[3];
  PeShape s = make_pe_shape(f, hw.lanes, hw.pipeline_every, hw.arch_name);
  s.runtime_fl = hw.runtime_fl;
  check_runtime_fl(s);
  return s;
}

}  // namespace ristsim::rtlgen
