// The cost model's primitives: area (NAND2 gate equivalents and um^2) and energy
// per action of the datapath's building blocks, as functions of their widths,
// calibrated to a technology table (configs/tech/*.yaml).
//
//   integer multiplier m x n   interpolated in log-log space in m*n between the
//                              table's int_mult anchors (8x8 and 32x32 at 45 nm:
//                              exact there); beyond them, the nearest segment's slope.
//   adder w bits               the same, in w, between the int_add anchors.
//   float multiplier / adder   the same, in total bits, between fp_mult / fp_add.
//   2:1 multiplexer, register  one NanGate X1 cell each (MUX2, DFF); energy from the
//   bit, gates                 logic energy per gate equivalent, derived from the
//                              widest int_add anchor (energy / (area / NAND2 area)),
//                              activity 1.
//   barrel shifter W, S        W * ceil(log2 S) 2:1 multiplexers.
//   widening adder tree        one adder per node, level l adding (w0 + l - 1)-bit
//                              values (growth.h); K a power of two gives
//                              (K-1)(w0+1) - log2 K adder bits.
//   SRAM                       energy per bit of a read by capacity, log-log between
//                              the table's points (about sqrt(capacity)).
//   DRAM                       energy per bit by memory type; not node-scaled.
//
// Node scaling (Stillmaker and Baas 2017): area * area factor, energy * energy
// factor of the chosen node, both relative to the table's node. Gate equivalents
// are node independent.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/tech_yaml.h"
#include "numeric/growth.h"

namespace ristsim::cost {

/// Area and energy of one block.
struct Cost {
  double ge = 0;         ///< NAND2 gate equivalents (area / NAND2 area, node independent)
  double area_um2 = 0;   ///< at the model's node
  double energy_pj = 0;  ///< per action (one operation, or one clock for registers)

  Cost& operator+=(const Cost& o) {
    ge += o.ge;
    area_um2 += o.area_um2;
    energy_pj += o.energy_pj;
    return *this;
  }
  friend Cost operator+(Cost a, const Cost& b) { return a += b; }
  friend Cost operator*(Cost a, double k) {
    a.ge *= k;
    a.area_um2 *= k;
    a.energy_pj *= k;
    return a;
  }
};

/// A widening adder tree: its levels, adders and adder bits (growth.h widths).
struct AdderTreeShape {
  int fan_in = 0;
  int levels = 0;
  int adders = 0;
  int adder_bits = 0;  ///< sum over adders of their input width
  numeric::FixedType output;
};

/// The shape of a widening adder tree over `fan_in` values of type `inputs`.
/// Level l (1-based) adds pairs of tree_level_type(inputs, l - 1) values; an odd
/// value out passes to the next level unchanged.
AdderTreeShape adder_tree_shape(numeric::FixedType inputs, int fan_in);

/// Parses "45nm", "45 nm" or "45" into 45; -1 if it is none of these.
int parse_node_nm(const std::string& node);

/// Log-log interpolation through points (x, y) sorted by x, x > 0, y > 0:
/// exact at the points, the nearest segment's slope outside them (slope 1 with a
/// single point).
double interp_loglog(const std::vector<std::pair<double, double>>& points, double x);

/// The primitives at one node of one technology table.
class TechModel {
 public:
  /// Throws std::invalid_argument if `node_nm` is not a node of the table's scaling.
  TechModel(config::TechTable table, int node_nm);

  const config::TechTable& table() const { return table_; }
  int node_nm() const { return node_nm_; }
  double area_factor() const { return area_factor_; }      ///< relative to the table's node
  double energy_factor() const { return energy_factor_; }  ///< relative to the table's node
  double nand2_um2() const { return table_.nand2_area_um2 * area_factor_; }  ///< at this node
  /// Logic energy per gate equivalent per action at this node (derived, see above).
  double energy_per_ge_pj() const { return energy_per_ge_pj_ * energy_factor_; }

  Cost int_multiplier(int m, int n) const;
  Cost adder(int bits) const;
  Cost fp_multiplier(int bits) const;
  Cost fp_adder(int bits) const;
  /// `count` cells of a gate type of the table (NAND, XOR, MUX, DFF_P, ...), activity 1.
  Cost gates(const std::string& cell, double count) const;
  Cost mux2(double count) const { return gates("MUX", count); }
  Cost registers(double bits) const { return gates("DFF_P", count_nonneg(bits)); }
  /// `bits` flip-flops with the asynchronous reset of the RTL (rst_ni): per bit a
  /// DFF and an AND2 that gates it with the reset (the table has no reset flop),
  /// and with a load enable (`if (valid_i) q <= d`) a 2:1 multiplexer more.
  Cost reset_registers(double bits, bool enable) const {
    return registers(bits) + gates("AND", count_nonneg(bits)) +
           (enable ? mux2(count_nonneg(bits)) : Cost{});
  }
  /// x + 1 (or + a carry-in bit) on `bits` bits: a half adder (XOR, AND) per bit.
  Cost incrementer(int bits) const {
    return gates("XOR", count_nonneg(bits)) + gates("AND", count_nonneg(bits));
  }
  /// Whether `bits` bits all agree (a sign-extension or overflow check): bits - 1
  /// XNOR and bits - 2 AND (nothing for one bit).
  Cost agree_detect(int bits) const {
    return bits < 2 ? Cost{} : gates("XNOR", bits - 1) + gates("AND", count_nonneg(bits - 2));
  }
  /// The low `bits` bits of x * c for a constant c: one adder per set bit of c
  /// above bit 0, the one for bit i as wide as the bits it reaches (bits - i).
  Cost constant_multiplier(int bits, uint64_t c) const;
  /// W * ceil(log2 S) 2:1 multiplexers (nothing for S <= 1).
  Cost barrel_shifter(int width, uint64_t positions) const;
  /// An `in_bits`-bit value shifted left by 0 .. S - 1 places into `out_bits`
  /// bits: level j (shift by 2^j) only has the bits the value can reach by then,
  /// min(in + 2^(j+1) - 1, out): a 2:1 multiplexer where the shifted and the
  /// unshifted value overlap, an AND2 where only one of them can be nonzero.
  Cost left_shifter(int in_bits, uint64_t positions, int out_bits) const;
  /// A wide + narrow two's complement add (the narrow operand sign-extended):
  /// an adder over the narrow width and a carry (increment) chain over the rest.
  Cost narrow_add(int wide_bits, int narrow_bits) const {
    const int n = std::max(1, std::min(wide_bits, narrow_bits));
    return adder(n) + incrementer(std::max(0, wide_bits - n));
  }
  /// All adders of a widening adder tree (no pipeline registers).
  Cost adder_tree(numeric::FixedType inputs, int fan_in) const;
  /// A run-time shifter with rounding (rtl/ristsim_shift_round.sv): an
  /// `in_bits`-bit two's complement value shifted left by up to `max_left`
  /// (clamped) into `in_bits + max_left` bits, or right by up to `in_bits + 1`
  /// with the rounding decision of `mode` on the dropped bits; the amount a
  /// signed `shift_bits`-bit number. See docs/cost.md for the cells.
  Cost shift_round(int in_bits, int max_left, int shift_bits, numeric::Rounding mode) const;

  /// Energy per bit of an SRAM read (write: times the table's write_to_read).
  double sram_pj_per_bit(double capacity_bytes, bool write = false) const;
  /// Energy per bit of a register-file access (derived, docs/cost.md): a read
  /// passes ceil(log2 words) levels of 2:1 multiplexers (at least one), a write
  /// clocks one flip-flop, for a file of `bytes` holding words of `word_bits`.
  double register_file_pj_per_bit(double bytes, int word_bits, bool write) const;
  /// Energy per bit of a DRAM access of `type`; throws std::invalid_argument if unknown.
  double dram_pj_per_bit(const std::string& type) const;

  /// The source key (TechTable::sources) of the anchors of `op` (int_add, int_mult, ...).
  std::string source_of(const std::string& op) const;

 private:
  static double count_nonneg(double x) { return x < 0 ? 0 : x; }
  Cost from_anchors(const std::string& op, double size, bool square) const;

  config::TechTable table_;
  int node_nm_;
  double area_factor_ = 1, energy_factor_ = 1;
  double energy_per_ge_pj_ = 0;  ///< at the table's node
};

}  // namespace ristsim::cost
