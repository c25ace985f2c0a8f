// When an integer GEMM computes the exact datapath bit for bit.
//
// The exact datapath (exact_layer.h) sums each output's products in chunks of `lanes`, aligned
// to the accumulator's 2^-F grid, into an acc.bits register that saturates or wraps after
// every chunk and after the bias. A hardware integer GEMM (cuBLASLt IMMA: int8 x int8 with
// int32 accumulation; VNNI's vpdpbusd the same) sums the raw operand codes in its own order.
// The two agree on a layer when
//   1. activations and weights are fixed point (their codes are the integers a and w, the
//      product's value a w 2^-(fl_a + fl_w)) and fit the GEMM's signed operands (an unsigned
//      B-bit format needs B + 1 signed bits);
//   2. the products need no rounding onto the grid: F >= fl_a + fl_w, so each aligned product
//      is a w 2^s with s = F - fl_a - fl_w >= 0 (an exact shift, applied after the GEMM);
//   3. no partial sum in any order can leave either register: with K products per output,
//        |sum| <= K * 2^(bits_a - 1) * 2^(bits_w - 1)                    (the most negative codes;
//                                                      bits + 1 for an unsigned operand)
//      must fit the GEMM's accumulator, and
//        |sum| 2^s + |aligned bias| <= 2^(acc.bits - 1) - 1
//      the arch's accumulator; then neither saturation nor wrap ever acts, every order gives
//      the exact sum, and the output stage (the same step as the reference's) sees the same
//      value. The bias is fixed point too (its alignment is the reference's own step, run in
//      the GEMM's epilogue).
// integer_gemm_exact() checks this from the formats, the accumulator and K alone (per layer,
// before any data), and says why when it refuses.
//
// One bound for every integer route: a sum of products whose magnitude is at most `sum_bound`
// (in units of code products), aligned by 2^shift and plus a bias of at most `bias_abs` on the
// grid, stays within an acc_bits accumulator when accumulator_holds() says so. The bound comes
// from the formats (format_sum_bound: K products of the largest codes, the CUDA IMMA route) or,
// refined by the operands present, from the values (value_sum_bound: max |a| times the sum of
// |w| over an output channel, the CPU's int16 / VNNI kernels, kernels/cpu/exact_layer_cpu.cpp).
// Worked numbers: 8 x 8-bit signed codes, K = 800, shift 0: format bound 800 * 128 * 128 =
// 13,107,200 <= 2^31 - 1, so a 32-bit accumulator holds; with max |a| = 90 and sum |w| = 3,000
// the value bound is 270,000, which a 20-bit accumulator (limit 524,287) holds too.
#pragma once

#include <cstdint>
#include <string>

#include "kernels/reference/exact_layer.h"
#include "kernels/reference/exact_steps.h"

namespace ristsim::kernels {

/// What an integer GEMM accepts: signed operands of up to a_bits / w_bits bits, and sums of
/// up to acc_bits signed bits without overflow (IMMA int8: 8, 8, 32).
struct IntegerGemm {
  int a_bits = 8, w_bits = 8, acc_bits = 32;
};

/// Whether |sum| <= sum_bound, aligned (sum 2^shift, shift in [0, 64)) and plus a bias of
/// |aligned bias| <= bias_abs, lies within a signed acc_bits accumulator (|x| <= 2^(acc_bits-1)
/// - 1) for every partial sum in every order: neither saturation nor wrap can act.
inline bool accumulator_holds(unsigned __int128 sum_bound, int shift, unsigned __int128 bias_abs,
                              int acc_bits) {
  using U = unsigned __int128;
  if (shift < 0 || shift >= 64 || acc_bits < 1 || acc_bits > 127) return false;
  const U limit = (U{1} << (acc_bits - 1)) - 1;
  return sum_bound <= (limit >> shift) && bias_abs <= limit &&
         (sum_bound << shift) <= limit - bias_abs;
}

/// The per-format bound: `terms` products of codes of a_bits x w_bits signed bits (the most
/// negative codes, -2^(bits-1), have the largest magnitudes).
inline unsigned __int128 format_sum_bound(int64_t terms, int a_bits, int w_bits) {
  using U = unsigned __int128;
  return U(uint64_t(terms)) * (U{1} << (a_bits - 1)) * (U{1} << (w_bits - 1));
}

/// The per-value bound of one output channel: max |a| over the activations times the sum of
/// |w| over the channel's weights; the largest 128-bit value where the product would not fit
/// (no accumulator holds that).
inline unsigned __int128 value_sum_bound(uint64_t max_abs_a, unsigned __int128 sum_abs_w) {
  using U = unsigned __int128;
  if (sum_abs_w != 0 && max_abs_a > ~U{0} / sum_abs_w) return ~U{0};
  return sum_abs_w * max_abs_a;
}

/// The verdict of integer_gemm_exact.
struct GemmPlan {
  bool exact = false;
  int shift = 0;                    ///< s: aligned product = a w 2^s
  unsigned __int128 sum_bound = 0;  ///< max |sum of K products| (codes)
  std::string why;                  ///< why not (empty when exact)
};

/// Whether `gemm` gives a layer of `terms` products per output (K = c/groups * kh * kw) the
/// exact datapath's bits (the rules above).
inline GemmPlan integer_gemm_exact(const ExactLayerSpec& spec, int64_t terms,
                                   const IntegerGemm& gemm) {
  GemmPlan plan;
  const numeric::Format& a = spec.act.format;
  const numeric::Format& w = spec.wt.format;
  auto refuse = [&](const std::string& why) {
    plan.exact = false;
    plan.why = why;
    return plan;
  };
  if (a.kind != numeric::FormatKind::fixed || w.kind != numeric::FormatKind::fixed)
    return refuse("activations and weights must be fixed point (an integer GEMM multiplies codes)");
  // Signed bits that hold every code's integer (numeric::fixed_integer).
  const int a_bits = a.bits + (a.is_signed ? 0 : 1), w_bits = w.bits + (w.is_signed ? 0 : 1);
  if (a_bits > gemm.a_bits || w_bits > gemm.w_bits)
    return refuse("operands of " + std::to_string(a_bits) + " x " + std::to_string(w_bits) +
                  " signed bits do not fit the GEMM's " + std::to_string(gemm.a_bits) + " x " +
                  std::to_string(gemm.w_bits));
  if (terms < 1) return refuse("no products per output");
  const int F = accumulator_frac_bits(spec);
  plan.shift = F - (a.fl + w.fl);
  if (plan.shift < 0)
    return refuse("the accumulator keeps " + std::to_string(F) +
                  " fractional bits, fewer than the products' " + std::to_string(a.fl + w.fl) +
                  " (every product is rounded)");
  if (plan.shift > 62)
    return refuse("the products' alignment shift " + std::to_string(plan.shift) + " is over 62");
  using U = unsigned __int128;
  plan.sum_bound = format_sum_bound(terms, a_bits, w_bits);
  if (!accumulator_holds(plan.sum_bound, 0, 0, gemm.acc_bits))
    return refuse(std::to_string(terms) + " products of " + std::to_string(a.bits) + " x " +
                  std::to_string(w.bits) + " bits can overflow the GEMM's " +
                  std::to_string(gemm.acc_bits) + "-bit accumulator");
  U bias = 0;
  if (spec.has_bias) {
    const numeric::Format& b = spec.bias.format;
    if (b.kind != numeric::FormatKind::fixed) return refuse("the bias must be fixed point");
    const int up = F - b.fl;  // the bias code's shift onto the grid (right shifts round: + 1)
    if (up > 62 || up < -126) return refuse("the bias's alignment shift is out of range");
    const U max_b = U{1} << (b.bits - 1);
    bias = up >= 0 ? (max_b << up) : (max_b >> -up) + 1;
  }
  if (!accumulator_holds(plan.sum_bound, plan.shift, bias, spec.acc.bits))
    return refuse("a partial sum can reach the " + std::to_string(spec.acc.bits) +
                  "-bit accumulator's limit (its overflow mode would act)");
  plan.exact = true;
  return plan;
}

/// The integer of a fixed-point code (two's complement, or unsigned), the GEMM's operand:
/// numeric::fixed_integer, narrowed (integer_gemm_exact() bounds it to the GEMM's bits).
RISTSIM_HD inline int32_t code_value(const numeric::Format& f, uint32_t code) {
  return static_cast<int32_t>(numeric::fixed_integer(f, code));
}

/// Output element `index` (output channel k) from the GEMM's sum of code products on a layer
/// where integer_gemm_exact() holds: the aligned sum is sum 2^shift, then the reference's own
/// bias and output stage (steps::finish_element).
RISTSIM_HD inline steps::ElementResult gemm_element(const steps::ElementSpec& d, int shift,
                                                    int64_t sum, const uint32_t* bias, int k,
                                                    int64_t index) {
  return steps::finish_element(d, sum * (int64_t{1} << shift), bias, k, index, 0, false);
}

}  // namespace ristsim::kernels
