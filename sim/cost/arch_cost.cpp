// Arch -> blocks, widths, area and energy (see arch_cost.h). Widths come from
// sim/numeric/growth.h only.
#include "cost/arch_cost.h"

#include <algorithm>
#include <stdexcept>

#include "config/arch_yaml.h"  // ConfigError

#include "rtlgen/pe_shape.h"  // pe_latency

namespace ristsim::cost {
namespace {

using numeric::FixedType;
using numeric::Format;
using numeric::FormatKind;

/// Significand width a multiplier sees (0: power of two, no multiplier).
int significand_bits(const Format& f) {
  switch (f.kind) {
    case FormatKind::fixed: return f.bits;
    case FormatKind::minifloat: return f.mant_bits + 1;
    case FormatKind::pow2: return 0;
  }
  return 0;
}

/// Width of the exponent field (0: fixed point, no exponent).
int exponent_bits(const Format& f) {
  switch (f.kind) {
    case FormatKind::fixed: return 0;
    case FormatKind::minifloat: return f.exp_bits;
    case FormatKind::pow2: return f.bits - 1;
  }
  return 0;
}

std::string str(int v) {
  return std::to_string(v);
}

/// Costs of one PE's blocks, per action.
struct PeCosts {
  Cost mult, exp_adder, shifter, lane_enable, align, products, tree, pipeline, accumulator, output,
      bias_decoder, mx_adder, mx_shifter;
  std::string mult_src, shifter_src, tree_src, acc_src, out_src;
  std::string out_detail;
};

/// The rounding decision of rtl/ristsim_round_up.sv on `shift` dropped bits:
/// nearest compares the dropped bits with one half (an OR over the bits below
/// the half bit and three gates), toward zero and up OR them, down is free,
/// stochastic adds `rand_bits` random bits to the first dropped ones (its carry).
Cost round_up(const TechModel& m, numeric::Rounding mode, int shift, int rand_bits) {
  using numeric::Rounding;
  if (shift < 1) return Cost{};
  switch (mode) {
    case Rounding::nearest_even:
    case Rounding::nearest_away:
      return shift == 1 ? m.gates("AND", 1) : m.gates("OR", shift - 2) + m.gates("NAND", 3);
    case Rounding::toward_zero:
    case Rounding::up: return m.gates("OR", shift - 1) + m.gates("AND", 1);
    case Rounding::down: return Cost{};
    case Rounding::stochastic: return m.adder(rand_bits);
  }
  return Cost{};
}

/// A value of `in_bits` moved onto a grid `shift` bits coarser (rtl/ristsim_align.sv,
/// a constant shift): nothing for shift <= 0 (wires), else the rounding decision
/// and an incrementer over the kept bits.
Cost align(const TechModel& m, int in_bits, int shift, numeric::Rounding mode) {
  if (shift <= 0) return Cost{};
  Cost c = round_up(m, mode, shift, 1);
  if (mode != numeric::Rounding::down) c += m.incrementer(std::max(1, in_bits - shift + 1));
  return c;
}

/// The bias code turned into its exactly_fixed integer (rtl/ristsim_to_fixed.sv):
/// wires for fixed point; for minifloat and pow2 codes the decoder (the normal
/// check, an OR over the exponent field), the significand shifted left by the
/// exponent into the integer's width and the sign applied (XORs, incrementer).
Cost bias_decoder(const TechModel& m, const Format& b, int out_bits) {
  if (b.kind == FormatKind::fixed) return Cost{};
  const int e = exponent_bits(b);
  const uint64_t positions = e >= 63 ? ~uint64_t{0} : uint64_t{1} << e;
  if (b.kind == FormatKind::pow2) {
    // A one-bit significand: the shift is a one-hot decoder, and its negation
    // -2^k a thermometer code (an OR chain) chosen by the sign (multiplexers).
    const double reach = double(std::min<uint64_t>(positions, uint64_t(out_bits)));
    return m.gates("AND", reach) + m.gates("OR", reach) + m.mux2(out_bits);
  }
  const int sig = std::max(1, significand_bits(b));
  return m.gates("OR", std::max(0, e - 1)) + m.left_shifter(sig, positions, out_bits) +
         m.gates("XOR", out_bits) + m.incrementer(out_bits);
}

/// The SplitMix64 output of rtl/ristsim_splitmix.sv (stochastic rounding's random
/// bits): index + 1, three constant multipliers (low 64 bits), key + ..., three
/// xor-shifts.
Cost splitmix(const TechModel& m) {
  return m.incrementer(64) + m.adder(64) + m.constant_multiplier(64, 0x9e3779b97f4a7c15ULL) +
         m.constant_multiplier(64, 0xbf58476d1ce4e5b9ULL) +
         m.constant_multiplier(64, 0x94d049bb133111ebULL) + m.gates("XOR", 34 + 37 + 33);
}

/// The output stage as the RTL builds it (rtl/ristsim_output_stage.sv,
/// docs/datapath.md steps 5 and 6): the bias add on the accumulator (an adder
/// one bit wider than both, the overflow check and the saturation muxes), with
/// runtime_fl the configuration register, the shift arithmetic and the bias's
/// run-time shifter; the random bits of stochastic rounding; the conversion to
/// the output format (fixed: the rounding decision, an incrementer and the
/// clamp, or with runtime_fl a run-time shifter with rounding; minifloat and
/// pow2: leading-zero detection, counted as 2 NAND2 per accumulator bit
/// (assumed), and a normalising shifter); the output register with its valid,
/// saturation and overflow flags.
Cost output_stage(const TechModel& m, const PeDesign& d, const config::NumberSpec& out,
                  numeric::Rounding align_rounding, std::string* detail) {
  using numeric::Rounding;
  Cost c;
  const int acc_bits = d.acc_bits;
  if (d.is_float) {
    c += m.fp_adder(32);
    *detail = "float32 bias add";
    if (out.is_float) return c;
    *detail += ", then conversion:";
  } else {
    const int bias_in = d.bias_aligned.bits > 0 ? d.bias_aligned.bits : acc_bits;
    const int bias_bits = d.runtime_fl ? d.bias_fixed.bits + acc_bits : bias_in;
    const int add = std::max(acc_bits, bias_bits) + 1;
    c += m.narrow_add(add, std::min(acc_bits, bias_bits)) + m.agree_detect(add - acc_bits + 1);
    if (d.acc_saturates) c += m.mux2(acc_bits);
    *detail = str(add) + "-bit bias add" + (d.acc_saturates ? " with saturation" : "") + ",";
    if (d.runtime_fl) {
      constexpr int kShiftBits = 10;  // ristsim_output_stage ShWidth
      c += m.reset_registers(32, true) + m.adder(kShiftBits) * 3 +
           m.shift_round(d.bias_fixed.bits, acc_bits, kShiftBits, align_rounding);
      *detail += " runtime FL (32-bit configuration register, " + str(d.bias_fixed.bits) +
                 "-bit bias shifter over " + str(acc_bits) + " places),";
    }
  }
  const Rounding rounding = out.quantizer.rounding;
  const int rand_bits = out.quantizer.random_bits;
  if (rounding == Rounding::stochastic && !out.is_float) {
    c += splitmix(m);
    *detail += " SplitMix64 random bits (3 constant multipliers),";
  }
  if (out.is_float) {
    c += m.gates("NAND", 2.0 * acc_bits) + m.barrel_shifter(acc_bits, acc_bits) + m.adder(8) +
         m.adder(24) + m.registers(32);
    *detail +=
        " int" + str(acc_bits) + " to float32 (leading-zero detect, " + str(acc_bits) +
        "-bit normalising shifter, 8-bit exponent and 24-bit rounding adders), 32-bit register";
    return c;
  }
  const Format& o = out.quantizer.format;
  const int ob = o.code_bits();
  const int in_bits = d.is_float ? 32 : acc_bits;
  switch (o.kind) {
    case FormatKind::fixed: {
      const bool wrap = out.quantizer.overflow == numeric::Overflow::wrap;
      int rounded = 0;  // ristsim_out_fixed's RW
      if (d.runtime_fl) {
        constexpr int kShiftBits = 10;
        c += m.shift_round(in_bits, ob, kShiftBits, rounding);
        rounded = in_bits + ob;
        *detail += " " + str(in_bits) + "-bit run-time output shifter with rounding,";
      } else {
        const int shift = d.frac_bits - o.fl;
        if (shift <= 0) {
          rounded = in_bits - shift;
        } else {
          rounded = std::max(in_bits, shift + 1);
          c += round_up(m, rounding, shift, rand_bits);
          if (rounding != Rounding::down) c += m.incrementer(rounded);
          *detail += " " + str(rounded) + "-bit rounding incrementer,";
        }
      }
      if (rounded > ob) {
        c += m.agree_detect(rounded - ob + 1);
        if (!wrap) c += m.mux2(ob);
      }
      *detail += " saturation (" + str(std::max(0, rounded - ob)) + "-bit detect" +
                 (wrap ? ", wrap" : ", " + str(ob) + " muxes") + ")";
      break;
    }
    case FormatKind::minifloat:
      // rtl/ristsim_out_minifloat.sv: the magnitude (XORs and an incrementer),
      // leading-one detection, the normalising shifter, the dropped bits (a
      // mask, their OR) and the rounding decision on them (nearest: the half
      // decoder and a comparator, about three gates a bit; stochastic: the
      // random bits added), the exponent and mantissa-code adders, the clamp.
      c += m.gates("XOR", in_bits) + m.incrementer(in_bits) + m.gates("NAND", 2.0 * in_bits) +
           m.barrel_shifter(in_bits, in_bits) + m.gates("AND", in_bits) +
           m.gates("OR", in_bits - 1) + m.adder(o.exp_bits + 1) + m.adder(o.mant_bits + 2) +
           m.mux2(ob);
      if (rounding == Rounding::nearest_even || rounding == Rounding::nearest_away)
        c += m.gates("AND", in_bits) + m.gates("NAND", 3.0 * in_bits);
      if (rounding == Rounding::stochastic) c += m.adder(rand_bits);
      *detail += " magnitude, leading-one detect, " + str(in_bits) +
                 "-bit normalising shifter, rounding decision, " + str(o.exp_bits + 1) +
                 "-bit exponent and " + str(o.mant_bits + 2) + "-bit rounding adders, " + str(ob) +
                 " muxes";
      break;
    case FormatKind::pow2:
      c += m.gates("NAND", 2.0 * in_bits) + m.adder(o.bits) + m.mux2(ob);
      *detail +=
          " leading-zero detect, " + str(o.bits) + "-bit exponent adder, " + str(ob) + " muxes";
      break;
  }
  c += m.reset_registers(ob + 2, true) + m.reset_registers(1, false);
  *detail += ", " + str(ob) + "-bit output register and flags";
  return c;
}

/// The accumulator as the RTL builds it (rtl/ristsim_accumulator.sv): an adder
/// one bit wider than the accumulator and the sum, the clear of the old value
/// on an element's first chunk, the overflow check, the saturation muxes, the
/// sticky overflow flag, and the registers: the accumulator, its overflow
/// flag and the tag that waits for the output stage (the bias code, and the
/// index when outputs round stochastically) load on a valid chunk; the
/// done flag every cycle.
Cost accumulator(const TechModel& m, const PeDesign& d) {
  const int a = d.acc_bits, add = std::max(a, d.tree.output.bits) + 1;
  const int tag = d.tag_bits - 2;  // without first and last
  Cost c = m.narrow_add(add, std::min(a, d.tree.output.bits)) + m.gates("AND", a) +
           m.agree_detect(add - a + 1) + m.gates("OR", 2);
  if (d.acc_saturates) c += m.mux2(a);
  c += m.reset_registers(a + 1 + tag, true) + m.reset_registers(1, false);
  return c;
}

PeCosts pe_costs(const config::Arch& arch, const config::LayerFormats& f, const PeDesign& d,
                 const TechModel& m) {
  PeCosts c;
  const int K = arch.array.lanes;
  const std::string gates_src = "model: NanGate X1 cells (" + m.table().gates_source +
                                "), energy per GE derived from " + m.source_of("int_add") +
                                " int_add";
  if (d.is_float) {
    c.mult = m.fp_multiplier(32);
    c.mult_src = m.source_of("fp_mult") + " fp_mult";
    c.tree = m.fp_adder(32) * (K - 1);
    c.tree_src = m.source_of("fp_add") + " fp_add x (K-1)";
    c.accumulator = m.fp_adder(32) + m.registers(32);
    c.acc_src =
        m.source_of("fp_add") + " fp_add + 32 register bits (" + m.table().gates_source + ")";
  } else {
    c.mult = m.int_multiplier(d.mult_m, d.mult_n);
    c.mult_src = m.source_of("int_mult") + " int_mult, log-log in m*n";
    if (d.exp_adder_bits) c.exp_adder = m.adder(d.exp_adder_bits);
    // The shifter's sign application negates in two's complement: the XORs
    // and an incrementer.
    c.shifter = m.left_shifter(d.shifter_in, d.shifter_positions, d.shifter_width) +
                m.gates("XOR", d.sign_xors) + m.incrementer(d.sign_xors);
    c.shifter_src = gates_src;
    // rtl/ristsim_mul_array.sv: a disabled lane gives a zero product.
    c.lane_enable = m.gates("AND", d.product.bits);
    c.align = align(m, d.product.bits, d.align_shift, arch.accumulator.align_rounding);
    // rtl/ristsim_pe_core.sv stage 1: the aligned products, the valid bit and the tag.
    c.products = m.reset_registers(double(K) * d.tree_input.bits + 1 + d.tag_bits, false);
    c.tree = m.adder_tree(d.tree_input, K);
    c.tree_src = m.source_of("int_add") + " int_add per adder, log-log in bits";
    c.accumulator = accumulator(m, d);
    c.acc_src = m.source_of("int_add") + " int_add + registers, overflow check and saturation (" +
                m.table().gates_source + ")";
  }
  if (d.mx_block) {
    c.mx_adder = m.adder(d.mx_scale_adder_bits);
    c.mx_shifter = m.barrel_shifter(d.mx_shifter_width, d.mx_shifter_positions);
  }
  c.pipeline = m.reset_registers(d.pipeline_register_bits, false);
  c.output = output_stage(m, d, f.outputs, arch.accumulator.align_rounding, &c.out_detail);
  if (!d.is_float && !f.bias.is_float)
    c.bias_decoder = bias_decoder(m, f.bias.quantizer.format, d.bias_fixed.bits);
  c.out_src = gates_src + "; adders " + m.source_of("int_add");
  return c;
}

}  // namespace

int storage_bits(const config::NumberSpec& s) {
  return s.is_float ? 32 : s.quantizer.format.code_bits();
}

PeDesign pe_design(const config::Arch& arch, const config::LayerFormats& f) {
  PeDesign d;
  const int K = arch.array.lanes;
  if (K < 1 || arch.array.pes < 1)
    throw std::invalid_argument("the array needs at least one PE of one lane");
  d.out_bits = storage_bits(f.outputs);
  d.is_float =
      arch.datapath == config::Datapath::float32 || f.activations.is_float || f.weights.is_float;
  if (d.is_float) {
    d.product = FixedType{32, 0};
    d.tree_input = FixedType{32, 0};
    d.tree = adder_tree_shape(d.tree_input, K);
    d.acc_bits = 32;
    d.lane_text = "float32 multiplier";
  } else {
    const Format& a = f.activations.quantizer.format;
    const Format& w = f.weights.quantizer.format;
    d.product = numeric::product_type(a, w);
    const int sa = significand_bits(a), sw = significand_bits(w);
    const int ea = exponent_bits(a), ew = exponent_bits(w);
    if (sa > 0 && sw > 0) {
      d.mult_m = sa;
      d.mult_n = sw;
    }
    if (ea > 0 && ew > 0) d.exp_adder_bits = std::max(ea, ew);
    const uint64_t pa = ea > 0 ? uint64_t{1} << ea : 1, pw = ew > 0 ? uint64_t{1} << ew : 1;
    if (pa * pw > 1) {
      d.shifter_width = d.product.bits;
      d.shifter_in = std::min(d.product.bits, (sa > 0 ? sa : 1) + (sw > 0 ? sw : 1));
      d.shifter_positions = pa + pw - 1;
      d.sign_xors = d.product.bits;
    }
    const int F = arch.accumulator.frac_bits_auto ? d.product.fl : arch.accumulator.frac_bits;
    d.tree_input = numeric::aligned_type(d.product, F, arch.accumulator.align_rounding);
    if (f.activations.is_mx || f.weights.is_mx) {
      // Element products are summed exactly within a block (the tree on the products'
      // own grid); the block sum is shifted by sa + sw onto the accumulator's grid.
      d.mx_block = f.activations.is_mx ? f.activations.mx.block : f.weights.mx.block;
      d.tree_input = d.product;
      d.mx_scale_adder_bits = 9;
      d.mx_shifter_width = arch.accumulator.bits;
      d.mx_shifter_positions = static_cast<uint64_t>(
          arch.accumulator.bits + numeric::sum_type(d.product, d.mx_block).bits);
    }
    d.tree = adder_tree_shape(d.tree_input, K);
    d.acc_bits = arch.accumulator.bits;
    d.acc_saturates = arch.accumulator.overflow == numeric::Overflow::saturate;
    d.frac_bits = F;
    d.align_shift = d.product.fl - F;
    if (!f.bias.is_float) {
      d.bias_fixed = numeric::exactly_fixed(f.bias.quantizer.format);
      d.bias_aligned = numeric::aligned_type(d.bias_fixed, F, arch.accumulator.align_rounding);
    }
    d.runtime_fl = arch.runtime_fl;
    if (d.mult_m)
      d.lane_text = str(d.mult_m) + "x" + str(d.mult_n) + " multiplier";
    else
      d.lane_text = "no multiplier";
    if (d.exp_adder_bits) d.lane_text += ", " + str(d.exp_adder_bits) + "-bit exponent adder";
    if (d.shifter_width)
      d.lane_text += ", " + str(d.shifter_width) + "-bit shifter over " +
                     std::to_string(d.shifter_positions) + " positions";
  }
  // Pipeline registers after every `pipeline_every` levels, the last included,
  // as the generated RTL has them (rtlgen PeShape::tree_reg_after): the level's
  // nodes, and the valid bit and tag that travel with the chunk (first, last,
  // the bias code, and the 64-bit element index when outputs round
  // stochastically).
  d.tag_bits = 2 + storage_bits(f.bias) +
               (f.outputs.quantizer.rounding == numeric::Rounding::stochastic ? 64 : 0);
  const int tag_bits = 1 + d.tag_bits;  // and the valid bit
  int n = K;
  const int every = arch.array.pipeline_every;
  for (int level = 1; level <= d.tree.levels; ++level) {
    n -= n / 2;
    if (every > 0 && level % every == 0)
      d.pipeline_register_bits +=
          n * (d.is_float ? 32 : numeric::tree_level_type(d.tree_input, level).bits) + tag_bits;
  }
  return d;
}

ArchCost arch_cost(const config::Arch& arch, const TechModel& m, const MemorySpec& mem) {
  ArchCost r;
  r.pe = pe_design(arch, arch.formats);
  const PeCosts c = pe_costs(arch, arch.formats, r.pe, m);
  const double P = arch.array.pes, K = arch.array.lanes;
  const PeDesign& d = r.pe;
  const std::string gates_src = "model: NanGate X1 cells (" + m.table().gates_source + ")";
  auto add = [&](std::string name, std::string cat, std::string detail, double count, Cost each,
                 std::string action, std::string source) {
    if (each.ge <= 0 && each.energy_pj <= 0) return;
    r.components.push_back({std::move(name), std::move(cat), std::move(detail), count, each,
                            std::move(action), std::move(source)});
  };
  if (d.is_float) {
    add("multipliers", "multipliers", "float32", P * K, c.mult, "per lane product", c.mult_src);
    add("adder tree", "tree",
        "K=" + str(arch.array.lanes) + ", " + str(arch.array.lanes - 1) + " float32 adders", P,
        c.tree, "per chunk of K products", c.tree_src);
  } else {
    add("multipliers", "multipliers",
        str(d.mult_m) + "x" + str(d.mult_n) + " bits -> " + str(d.product.bits) + " bits", P * K,
        c.mult, "per lane product", c.mult_src);
    add("exponent adders", "multipliers", str(d.exp_adder_bits) + " bits", P * K, c.exp_adder,
        "per lane product", m.source_of("int_add") + " int_add");
    add("shifters", "shifters",
        str(d.shifter_in) + " bits to W=" + str(d.shifter_width) +
            ", S=" + std::to_string(d.shifter_positions) + ", " + str(d.sign_xors) +
            "-bit negation (XORs and incrementer)",
        P * K, c.shifter, "per lane product", c.shifter_src);
    add("lane enables", "multipliers", str(d.product.bits) + " AND gates (zero product)", P * K,
        c.lane_enable, "per lane product", gates_src);
    add("product alignment", "shifters",
        "shift " + str(d.align_shift) + " to 2^-" + str(d.frac_bits) +
            (d.align_shift > 0 ? ": rounding decision and incrementer" : ""),
        P * K, c.align, "per lane product", gates_src);
    add("product registers", "tree",
        str(arch.array.lanes) + " x " + str(d.tree_input.bits) + " + valid + " + str(d.tag_bits) +
            "-bit tag",
        P, c.products, "per chunk (clock)", gates_src);
    add("adder tree", "tree",
        "K=" + str(d.tree.fan_in) + ", w0=" + str(d.tree_input.bits) + ", " + str(d.tree.levels) +
            " levels, " + str(d.tree.adders) + " adders, " + str(d.tree.adder_bits) +
            " adder bits -> " + str(d.tree.output.bits) + " bits",
        P, c.tree, "per chunk of K products", c.tree_src);
  }
  if (d.mx_block) {
    add("MX scale adders", "shifters", str(d.mx_scale_adder_bits) + " bits (sa + sw)", P,
        c.mx_adder, "per block of " + str(d.mx_block) + " terms", m.source_of("int_add") + " int_add");
    add("MX alignment shifters", "shifters",
        "W=" + str(d.mx_shifter_width) + ", S=" + std::to_string(d.mx_shifter_positions), P,
        c.mx_shifter, "per block of " + str(d.mx_block) + " terms",
        "model: NanGate X1 cells (" + m.table().gates_source + ")");
  }
  add("pipeline registers", "tree", str(d.pipeline_register_bits) + " bits", P, c.pipeline,
      "per chunk (clock)", "model: DFF_X1 and reset AND2 per bit (" + m.table().gates_source + ")");
  add("accumulator", "accumulator",
      str(d.acc_bits) + " bits" + (d.acc_saturates ? ", saturating" : ", wrapping"), P,
      c.accumulator, "per chunk", c.acc_src);
  add("bias decoder", "output_stage",
      std::string(numeric::to_string(arch.formats.bias.quantizer.format.kind)) + " code to a " +
          str(d.bias_fixed.bits) + "-bit integer",
      P, c.bias_decoder, "per output element", gates_src);
  add("output stage", "output_stage", c.out_detail, P, c.output, "per output element", c.out_src);
  for (const Component& x : r.components) {
    r.area_um2 += x.total_um2();
    r.ge += x.total_ge();
  }
  r.energy_per_mac_pj =
      c.mult.energy_pj + c.exp_adder.energy_pj + c.shifter.energy_pj + c.lane_enable.energy_pj +
      c.align.energy_pj +
      (c.products.energy_pj + c.tree.energy_pj + c.pipeline.energy_pj + c.accumulator.energy_pj) /
          K +
      (d.mx_block ? (c.mx_adder.energy_pj + c.mx_shifter.energy_pj) / d.mx_block : 0.0);
  r.energy_per_output_pj = c.output.energy_pj + c.bias_decoder.energy_pj;
  r.memory = resolve_memory(arch, m, mem);
  for (const config::MemoryLevel& l : r.memory.levels) {
    map::LevelEnergy e;
    switch (l.kind) {
      case config::MemoryKind::register_file: {
        const config::LayerFormats& f = arch.formats;
        const int bits = l.operand == config::MemoryOperand::inputs    ? storage_bits(f.activations)
                         : l.operand == config::MemoryOperand::weights ? storage_bits(f.weights)
                                                                      : d.acc_bits;
        e.read_pj_per_bit = m.register_file_pj_per_bit(l.capacity_bytes, bits, false);
        e.write_pj_per_bit = m.register_file_pj_per_bit(l.capacity_bytes, bits, true);
        break;
      }
      case config::MemoryKind::sram:
        e.read_pj_per_bit = m.sram_pj_per_bit(l.capacity_bytes / l.banks, false);
        e.write_pj_per_bit = m.sram_pj_per_bit(l.capacity_bytes / l.banks, true);
        if (r.sram_bytes == 0) r.sram_bytes = l.capacity_bytes;
        break;
      case config::MemoryKind::dram:
        e.read_pj_per_bit = e.write_pj_per_bit = m.dram_pj_per_bit(l.dram_type);
        r.dram_type = l.dram_type;
        break;
    }
    r.level_energy.push_back(e);
  }
  r.sram_read_pj_per_bit = m.sram_pj_per_bit(r.sram_bytes, false);
  r.sram_write_pj_per_bit = m.sram_pj_per_bit(r.sram_bytes, true);
  r.dram_pj_per_bit = m.dram_pj_per_bit(r.dram_type);
  r.node_nm = m.node_nm();
  r.frequency_mhz = arch.tech.frequency_mhz;
  return r;
}

double block_model_ge(const ArchCost& cost, const std::string& rtl_module) {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kBlocks = {
      {"ristsim_mul_array", {"multipliers", "exponent adders", "shifters", "lane enables"}},
      {"ristsim_align", {"product alignment"}},
      {"ristsim_to_fixed", {"bias decoder"}},
      {"ristsim_adder_tree", {"adder tree", "pipeline registers"}},
      {"ristsim_accumulator", {"accumulator"}},
      {"ristsim_output_stage", {"output stage"}},
  };
  double ge = 0;
  for (const auto& [module, names] : kBlocks) {
    if (module != rtl_module) continue;
    for (const Component& x : cost.components)
      if (std::find(names.begin(), names.end(), x.name) != names.end()) ge += x.each.ge;
  }
  return ge;
}

std::vector<LayerEnergy> layer_energy(const config::Arch& arch, const TechModel& m,
                                      const std::vector<LayerWork>& layers, const MemorySpec& mem) {
  const ArchCost ac = arch_cost(arch, m, mem);
  const uint64_t P = arch.array.pes, K = arch.array.lanes;
  std::vector<LayerEnergy> out;
  for (const LayerWork& w : layers) {
    const config::LayerFormats f = config::formats_for(arch, w.name);
    const PeDesign d = pe_design(arch, f);
    const PeCosts c = pe_costs(arch, f, d, m);
    LayerEnergy e;
    e.name = w.name;
    const uint64_t terms =
        w.terms ? w.terms : (w.outputs ? (w.macs + w.outputs - 1) / w.outputs : 0);
    e.chunks = w.outputs ? w.outputs * ((terms + K - 1) / K) : (w.macs + K - 1) / K;
    const double lanes = double(e.chunks) * K;
    e.multipliers = lanes * (c.mult.energy_pj + c.exp_adder.energy_pj + c.lane_enable.energy_pj);
    e.shifters = lanes * (c.shifter.energy_pj + c.align.energy_pj);
    if (d.mx_block)  // the shared-scale alignment, once per block of each output
      e.shifters += double(w.outputs ? w.outputs * ((terms + d.mx_block - 1) / d.mx_block) : 0) *
                    (c.mx_adder.energy_pj + c.mx_shifter.energy_pj);
    e.tree = double(e.chunks) * (c.products.energy_pj + c.tree.energy_pj + c.pipeline.energy_pj);
    e.accumulator = double(e.chunks) * c.accumulator.energy_pj;  // bias add: output stage
    e.output_stage = double(w.outputs) * (c.output.energy_pj + c.bias_decoder.energy_pj);
    for (double* x : {&e.multipliers, &e.shifters, &e.tree, &e.accumulator, &e.output_stage})
      *x *= w.activity;
    // Memory: the mapper's accesses per level, priced per level.
    map::Options mo;
    mo.latency = rtlgen::pe_latency(static_cast<int>(K), arch.array.pipeline_every);
    mo.energy = ac.level_energy;
    mo.objective = mem.objective;
    try {
      e.map = map::map_layer(layer_shape(arch, w), arch.array, ac.memory, mo);
    } catch (const std::invalid_argument& x) {
      throw InputError(arch.path + ": " + x.what() + " (memory: make the buffers larger)");
    }
    // Bias: read once from DRAM into the buffer that holds the outputs, read once from there.
    const double bias_bits = double(w.biases) * storage_bits(f.bias);
    for (size_t i = 0; i < e.map.levels.size(); ++i) {
      map::LevelCount& c = e.map.levels[i];
      const config::MemoryLevel& l = ac.memory.levels[i];
      const bool holds_outputs = l.operand == config::MemoryOperand::shared ||
                                 l.operand == config::MemoryOperand::outputs;
      if (l.kind == config::MemoryKind::dram || (l.kind == config::MemoryKind::sram && holds_outputs)) {
        const double wb = l.kind == config::MemoryKind::sram ? bias_bits : 0;
        c.read_bits += bias_bits;
        c.write_bits += wb;
        const double pj = bias_bits * ac.level_energy[i].read_pj_per_bit + wb * ac.level_energy[i].write_pj_per_bit;
        c.energy_pj += pj;
        e.map.energy_pj += pj;
      }
      double* cat = l.kind == config::MemoryKind::register_file ? &e.rf
                    : l.kind == config::MemoryKind::sram        ? &e.sram
                                                               : &e.dram;
      *cat += c.energy_pj;
      if (l.kind == config::MemoryKind::sram) e.sram_bits += c.read_bits + c.write_bits;
      if (l.kind == config::MemoryKind::dram) e.dram_bits += c.read_bits + c.write_bits;
    }
    e.cycles_given = w.cycles != 0;
    if (e.cycles_given) {
      e.cycles = w.cycles;
    } else {
      e.cycles = e.map.cycles;
      e.stall_cycles = (e.map.fetch_stall_cycles + e.map.dram_stall_cycles) * P;
    }
    e.utilisation = e.cycles ? double(w.macs) / (double(e.cycles) * P * K) : 0;
    out.push_back(e);
  }
  return out;
}

config::MemoryHierarchy resolve_memory(const config::Arch& arch, const TechModel& m,
                                       const MemorySpec& mem) {
  config::MemoryHierarchy h = arch.memory;
  for (config::MemoryLevel& l : h.levels) {
    if (l.kind == config::MemoryKind::sram && !(l.capacity_bytes > 0))
      l.capacity_bytes = mem.sram_bytes > 0 ? mem.sram_bytes : m.table().sram_default_bytes;
    if (l.kind != config::MemoryKind::dram) continue;
    if (l.dram_type.empty()) l.dram_type = mem.dram_type.empty() ? m.table().dram_default : mem.dram_type;
    try {
      m.dram_pj_per_bit(l.dram_type);
    } catch (const std::invalid_argument& e) {
      throw config::ConfigError(arch.path, l.line, l.column,
                                "memory level " + l.name + ": " + e.what() + " in " +
                                    m.table().path);
    }
  }
  return h;
}

map::LayerShape layer_shape(const config::Arch& arch, const LayerWork& w) {
  const config::LayerFormats f = config::formats_for(arch, w.name);
  map::LayerShape s;
  s.name = w.name;
  s.k = w.terms ? w.terms : (w.outputs ? (w.macs + w.outputs - 1) / w.outputs : 1);
  s.n = s.k && w.weights ? std::max<uint64_t>(1, w.weights / s.k) : 1;
  s.m = w.outputs ? std::max<uint64_t>(1, w.outputs / s.n) : std::max<uint64_t>(1, w.macs / s.k);
  s.input_elements = std::min<uint64_t>(w.inputs, s.m * s.k);
  s.bits[map::kInputs] = storage_bits(f.activations);
  s.bits[map::kWeights] = storage_bits(f.weights);
  s.bits[map::kOutputs] = storage_bits(f.outputs);
  s.psum_bits = arch.datapath == config::Datapath::float32 ? 32 : arch.accumulator.bits;
  return s;
}

void fill_traffic(const config::Arch& arch, LayerWork* w) {
  const config::LayerFormats f = config::formats_for(arch, w->name);
  const uint64_t a = storage_bits(f.activations), wb = storage_bits(f.weights),
                 b = storage_bits(f.bias), o = storage_bits(f.outputs);
  w->dram_bits = w->weights * wb + w->inputs * a + w->biases * b + w->outputs * o;
  w->sram_read_bits = w->macs * (a + wb) + w->biases * b;
  w->sram_write_bits = w->inputs * a + w->weights * wb + w->biases * b + w->outputs * o;
}

}  // namespace ristsim::cost
