// The exact datapath with OCP MX operands, reference implementation (exact_mx.h).
#include "kernels/reference/exact_mx.h"

#include <cmath>
#include <vector>

#include "kernels/reference/exact_steps.h"

namespace ristsim::kernels {

using numeric::Dyadic;

const char* validate(const ExactLayerSpec& spec, const ExactMxSpec& mx) {
  if (const char* e = validate(spec)) return e;
  if (!mx.act_mx && !mx.wt_mx) return "MX datapath: neither activations nor weights are MX";
  if (mx.block < 1 || mx.block > 1024) return "MX datapath: a block needs 1 to 1024 terms";
  if (spec.acc.frac_bits_auto)
    return "MX datapath: accumulator frac_bits must be given (block scales span 2^-127..2^127, "
           "so 'auto' has no product grid to follow)";
  const numeric::FixedType sum = numeric::sum_type(
      numeric::product_type(numeric::exactly_fixed(spec.act.format),
                            numeric::exactly_fixed(spec.wt.format)),
      static_cast<uint64_t>(mx.block));
  if (sum.bits > 65)
    return "MX datapath: an exact block sum of these elements needs more than 64 bits of "
           "magnitude (MXFP8 E5M2 x E5M2); use E4M3 for one operand";
  return nullptr;
}

int64_t mx_align_block(__int128 sum, int product_fl, uint8_t sa, uint8_t sw, int frac_bits,
                       numeric::Rounding rounding) {
  Dyadic v;
  v.neg = sum < 0;
  const unsigned __int128 mag = v.neg ? -static_cast<unsigned __int128>(sum)
                                      : static_cast<unsigned __int128>(sum);
  v.mag = static_cast<uint64_t>(mag);  // validate(): |sum| < 2^64
  v.exp = -product_fl + (static_cast<int>(sa) - numeric::kMxScaleBias) +
          (static_cast<int>(sw) - numeric::kMxScaleBias);
  return steps::align(steps::alignment_grid(frac_bits, rounding), v);
}

uint32_t exact_mx_dot(const ExactLayerSpec& spec, const ExactMxSpec& mx, const ExactTerm* terms,
                      size_t count, const uint8_t* act_scales, const uint8_t* wt_scales,
                      uint32_t bias_code, uint64_t out_index, ExactStats* stats,
                      ExactDotTrace* trace) {
  const int frac_bits = accumulator_frac_bits(spec);
  const int fa = numeric::exactly_fixed(spec.act.format).fl;
  const int fw = numeric::exactly_fixed(spec.wt.format).fl;
  if (trace) *trace = ExactDotTrace{};
  bool nan = false;
  uint64_t overflows = 0;
  int64_t acc = 0;
  const size_t k = static_cast<size_t>(mx.block);
  for (size_t b = 0, start = 0; start < count; ++b, start += k) {
    const uint8_t sa = mx.act_mx ? act_scales[b] : kMxUnitScale;
    const uint8_t sw = mx.wt_mx ? wt_scales[b] : kMxUnitScale;
    // A NaN scale makes the output NaN; the block then adds nothing (like an inf/NaN
    // term of exact_dot(), the accumulator goes on with the finite blocks and terms).
    const bool nan_scale = sa == numeric::kMxScaleNan || sw == numeric::kMxScaleNan;
    nan = nan || nan_scale;
    // Step 1: the block's exact sum of element products, in units of 2^-(fa + fw).
    __int128 sum = 0;
    for (size_t i = start; i < count && i < start + k; ++i) {
      if (terms[i].padding) continue;
      Dyadic a, w;
      if (!numeric::decode_exact(spec.act.format, terms[i].act_code, &a) ||
          !numeric::decode_exact(spec.wt.format, terms[i].wt_code, &w)) {
        nan = true;
        continue;
      }
      // Integers in units of the formats' quanta: exp >= -fl (exactly_fixed).
      const __int128 qa = static_cast<__int128>(a.mag) << (a.exp + fa);
      const __int128 qw = static_cast<__int128>(w.mag) << (w.exp + fw);
      sum += (a.neg != w.neg) ? -(qa * qw) : qa * qw;
    }
    // Steps 2 and 3: the shared-scale alignment, then the accumulator.
    const int64_t aligned =
        nan_scale ? 0 : mx_align_block(sum, fa + fw, sa, sw, frac_bits, spec.acc.align_rounding);
    acc = steps::accumulate(spec.acc.bits, spec.acc.overflow, static_cast<__int128>(acc) + aligned,
                            &overflows);
    if (trace) {
      trace->chunk_sums.push_back(static_cast<int64_t>(sum));
      trace->aligned.push_back(aligned);
      trace->acc_after.push_back(acc);
    }
  }
  // The bias and the output stage, as in exact_dot().
  steps::ElementSpec d = steps::element_spec(spec);
  const steps::ElementResult r =
      steps::finish_element(d, acc, &bias_code, 0, static_cast<int64_t>(out_index), overflows, nan);
  if (stats) {
    stats->acc_overflows += r.acc_overflows;
    stats->out_saturations += r.saturated ? 1 : 0;
    stats->out_nans += r.nan ? 1 : 0;
  }
  if (trace) {
    trace->nan = r.nan;
    trace->out.code = r.code;
    trace->out.saturated = r.saturated;
  }
  return r.code;
}

}  // namespace ristsim::kernels
