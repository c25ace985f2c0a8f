// The output stage of the exact datapath on the CPU: accumulator (an integer
// in units of 2^-F) to output code, equal to
//   numeric::quantize(out, Dyadic{acc < 0, |acc|, -F}, index)
// code and saturation flag, bit for bit (tested over random and edge values,
// every rounding and overflow mode), without quantize()'s per-call costs
// (the represented value as a double, the bit-by-bit msb search).
//
//   fixed point   (deterministic roundings, many outputs, acc grid finer than
//                 the output's by r = F - FL_o bits, 1 <= r <= 62) a table made
//                 by quantize() of every (sign, t = |acc| >> r, guard bit,
//                 sticky bit): the value (t + guard/2 + sticky/4) * 2^-FL_o
//                 has the same integer part, the same comparison with the
//                 midpoint and the same exactness as |acc| * 2^-F, which is
//                 all a deterministic rounding looks at; t beyond the table
//                 (far out of range) goes to quantize().
//                 Otherwise (stochastic, few outputs) the fixed branch of
//                 quantize() step by step: numeric::split, then
//                 numeric::round_to_larger, the core's one rounding decision,
//                 with the stochastic bits of numeric::random64; out-of-range
//                 results go to quantize() itself.
//   minifloat     (deterministic roundings, M <= 4, many outputs) a table made
//                 by quantize() of every value reduced to its top M + 3 bits
//                 with the lower bits OR-ed into the last one (a sticky bit).
//                 The rounding position of a minifloat is never below
//                 top - M, so the guard bit and the sticky bit decide every
//                 deterministic rounding exactly as the full value does.
//   otherwise     quantize().
#pragma once

#include <cstdint>
#include <vector>

#include "numeric/numeric.h"

namespace ristsim::kernels {

class OutputStage {
 public:
  /// `out` with its stream already set; `frac_bits` = F; `outputs`: how many
  /// conversions are expected (a table pays off only for many).
  OutputStage(const numeric::Quantizer& out, int frac_bits, uint64_t outputs);

  /// The output code of accumulator value `acc`; sets *saturated.
  uint32_t convert(int64_t acc, uint64_t index, bool* saturated) const {
    if (mode_ == Mode::fixed_table) return convert_fixed_table(acc, index, saturated);
    if (mode_ == Mode::fixed) return convert_fixed(acc, index, saturated);
    if (mode_ == Mode::minifloat_table) return convert_table(acc, saturated);
    return convert_quantize(acc, index, saturated);
  }

  /// The reference: numeric::quantize on the accumulator's exact value.
  uint32_t convert_quantize(int64_t acc, uint64_t index, bool* saturated) const;

 private:
  enum class Mode { quantize, fixed, fixed_table, minifloat_table };

  uint32_t convert_fixed(int64_t acc, uint64_t index, bool* saturated) const;
  uint32_t convert_fixed_table(int64_t acc, uint64_t index, bool* saturated) const;
  uint32_t convert_table(int64_t acc, bool* saturated) const;

  numeric::Quantizer out_;
  int frac_bits_;
  Mode mode_ = Mode::quantize;
  // fixed
  uint64_t key_ = 0;         ///< stochastic: stream_key(seed, stream)
  uint64_t max_mag_ = 0;     ///< largest positive magnitude code
  uint64_t code_mask_ = 0;
  int shift_ = 0;            ///< fixed table: r = F - FL_o
  uint64_t t_limit_ = 0;     ///< fixed table: t < t_limit_ is in the table
  std::vector<uint32_t> fixed_[2];  ///< by sign: [t << 2 | guard << 1 | sticky]
  // minifloat table: entry = code << 1 | saturated
  int keep_ = 0;             ///< M + 3 bits kept
  std::vector<uint32_t> small_[2];  ///< mag < 2^keep_, by sign
  std::vector<uint32_t> large_[2];  ///< by sign: [(shift - 1) << (keep_ - 1) | low bits]
};

}  // namespace ristsim::kernels
