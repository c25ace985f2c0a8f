// The output stage of the exact datapath on the CPU: accumulator (an integer
// in units of 2^-F) to output code, equal to
//   numeric::quantize(out, Dyadic{acc < 0, |acc|, -F}, index)
// code and saturation flag, bit for bit (tested against it over random and
// edge values, every rounding and overflow mode), without quantize()'s
// per-call costs (the represented value as a double, a bit-by-bit msb search).
//
//   fixed point,    with r = F - FL_o in 1..62 and B >= 3: |acc| = t * 2^r +
//   deterministic   rest, t the integer part on the output grid. A
//   rounding        deterministic rounding looks only at the sign, the parity
//                   of t, the guard bit (rest >= 2^(r-1)) and the sticky bit
//                   (the bits below it): quantize() of the 16 values
//                   (p + guard/2 + sticky/4) * 2^-FL_o, p in {0, 1}, gives the
//                   decision "t or t + 1" for each. The code is then +-(t + up)
//                   in B bits; a result beyond the range goes to quantize(), or
//                   under `saturate` takes quantize()'s code for +-2^62 (beyond
//                   the range every rounding saturates by sign alone).
//   fixed point,    the fixed branch of quantize() step by step: numeric::split,
//   otherwise       numeric::round_to_larger (the core's one rounding decision)
//                   with the bits of numeric::random64; out of range: quantize().
//   minifloat       (deterministic roundings, M <= 4, many outputs) a table made
//                   by quantize() of every value reduced to its top M + 3 bits,
//                   the lower bits OR-ed into the last one (sticky). A minifloat
//                   never rounds below bit top - M, so guard and sticky decide
//                   every deterministic rounding as the full value does.
//   otherwise       quantize().
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/cpu/exact_layer_cpu.h"
#include "numeric/numeric.h"

namespace ristsim::kernels {

class OutputStage {
 public:
  /// `out` with its stream already set; `frac_bits` = F; `outputs`: how many
  /// conversions are expected (a table pays off only for many); `isa`: the
  /// instruction set of convert_many()'s row pass (the best supported one below).
  OutputStage(const numeric::Quantizer& out, int frac_bits, uint64_t outputs,
              CpuIsa isa = best_cpu_isa());

  /// The output code of accumulator value `acc`; sets *saturated.
  uint32_t convert(int64_t acc, uint64_t index, bool* saturated) const {
    switch (mode_) {
      case Mode::fixed_decision: return convert_fixed_decision(acc, index, saturated);
      case Mode::fixed: return convert_fixed(acc, index, saturated);
      case Mode::minifloat_table: return convert_table(acc, saturated);
      case Mode::quantize: break;
    }
    return convert_quantize(acc, index, saturated);
  }

  /// convert() of n accumulators; returns how many saturated.
  uint64_t convert_many(const int64_t* acc, const uint64_t* index, int n, uint32_t* codes) const;

  /// The reference: numeric::quantize on the accumulator's exact value.
  uint32_t convert_quantize(int64_t acc, uint64_t index, bool* saturated) const;

 private:
  enum class Mode : uint8_t { quantize, fixed, fixed_decision, minifloat_table };

  uint32_t convert_fixed(int64_t acc, uint64_t index, bool* saturated) const;
  uint32_t convert_fixed_decision(int64_t acc, uint64_t index, bool* saturated) const;
  uint32_t convert_table(int64_t acc, bool* saturated) const;

  numeric::Quantizer out_;
  int frac_bits_;
  Mode mode_ = Mode::quantize;
  // fixed
  uint64_t key_ = 0;      ///< stochastic: stream_key(seed, stream)
  uint64_t max_mag_ = 0;  ///< largest positive magnitude code
  uint64_t code_mask_ = 0;
  int shift_ = 0;                        ///< r = F - FL_o
  bool saturate_ = false;                ///< overflow saturate
  uint32_t saturated_code_[2] = {0, 0};  ///< by sign: quantize()'s code for +-2^62
  uint8_t up_[16] = {};   ///< [sign << 3 | parity << 2 | guard << 1 | sticky]: round up
  uint32_t up_bits_ = 0;  ///< up_ as bits
  CpuIsa isa_;
  // minifloat table: entry = code << 1 | saturated
  int keep_ = 0;                 ///< M + 3 bits kept
  std::vector<uint32_t> mf_[2];  ///< by sign, see table_index()

  /// The minifloat table's entry of a magnitude (branch-free).
  size_t table_index(uint64_t mag) const {
    const int top = 63 - __builtin_clzll(mag | 1);
    const int sh = top - (keep_ - 1) > 0 ? top - (keep_ - 1) : 0;
    const uint64_t sticky = (mag & ((uint64_t{1} << sh) - 1)) != 0 ? 1 : 0;
    const uint64_t red = (mag >> sh) | sticky;
    const uint64_t low_mask = (uint64_t{1} << (keep_ - 1)) - 1;
    return sh == 0 ? static_cast<size_t>(red)
                   : static_cast<size_t>((static_cast<uint64_t>(sh) + 1) << (keep_ - 1) |
                                         (red & low_mask));
  }
};

}  // namespace ristsim::kernels
