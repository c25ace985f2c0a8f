// The per-element arithmetic of the quantized layers (engine/quant.h, LayerQuant) as host/device
// functions: the GPU kernels of quant.cu run one element per thread through these, and the host
// tests (testbench/cuda/quant_steps_test.cpp, label unit) hold them against the CPU LayerQuant
// bit for bit (codes, values, statistics, clipping masks, decoded outputs) on every shipped arch.
//
//   quantize_element  one element of a number group: numeric::quantize() itself, the function
//                     whose bits the CPU's quantize_array() loop reproduces; in pass mode (a
//                     float group, or measurement) the value unchanged and no flags.
//   stats_element     what the element adds to numeric::ArrayStats (ArrayStats::add()): count,
//                     zero, negative, |x| as ordered bits, the log2 bin, taken from the float's
//                     exponent field (field e >= 1: floor(log2 |x|) = e - 127; field 0, a
//                     subnormal, lies below ArrayStats::kMinExp: bin 0; infinity: the last bin).
//   StatsSums         the group's sums, integers and a maximum only, so any order of adding
//                     gives the same result (the GPU adds with atomics); to_array_stats() turns
//                     them into the CPU's ArrayStats.
//   in_range          clipped_ste's mask: 1 where the value lies within the format's range
//                     (float groups: everywhere), 0 for NaN.
//   decode_element    an output code of the exact datapath as the float the CPU writes.
#pragma once

#include <cstdint>
#include <cstring>

#include "numeric/hd.h"
#include "numeric/quantize.h"
#include "numeric/quantize_array.h"

namespace ristsim::engine::steps {

// ---------------------------------------------------------------- quantizing

/// One element's quantization: the value as a float, the code, the quantizer's flags.
struct QuantElement {
  float value;
  uint32_t code;
  bool saturated;
  bool nan;
};

/// Element `index` (its position in the tensor: the stochastic counter) of a group quantized
/// by q; pass: the value unchanged, code 0, no flags (float groups and measure mode).
RISTSIM_HD inline QuantElement quantize_element(const numeric::Quantizer& q, bool pass, float x,
                                                uint64_t index) {
  if (pass) return {x, 0u, false, false};
  const numeric::Quantized r = numeric::quantize(q, static_cast<double>(x), index);
  return {static_cast<float>(r.value), static_cast<uint32_t>(r.code), r.saturated, r.nan};
}

// ---------------------------------------------------------------- statistics

/// What one input adds to ArrayStats (the quantizer's flags aside).
struct StatsElement {
  bool nan;           ///< adds to the count only
  bool zero;          ///< +0 or -0
  bool negative;      ///< x < 0, not -0, not NaN
  uint32_t abs_bits;  ///< |x| as float bits (0 for NaN): ordered as the magnitudes
  int bin;            ///< the histogram bin of a nonzero, non-NaN x; -1 otherwise
};

RISTSIM_HD inline uint32_t float_bits(float x) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

RISTSIM_HD inline StatsElement stats_element(float x) {
  const uint32_t ab = float_bits(x) & 0x7fffffffu;
  StatsElement e{false, false, false, ab, -1};
  if (ab > 0x7f800000u) {  // NaN
    e.nan = true;
    e.abs_bits = 0;
    return e;
  }
  if (ab == 0) {
    e.zero = true;
    return e;
  }
  e.negative = (float_bits(x) >> 31) != 0;
  const int field = static_cast<int>(ab >> 23);
  const int bin = field == 0 ? 0 : field - 127 - numeric::ArrayStats::kMinExp;
  e.bin = bin < 0 ? 0 : (bin >= numeric::ArrayStats::kBins ? numeric::ArrayStats::kBins - 1 : bin);
  return e;
}

/// A group's statistics as sums and a maximum (any order of adding gives the same sums).
/// Plain 64-bit counters, so that the GPU can add to them with atomicAdd / atomicMax.
struct StatsSums {
  unsigned long long count, zeros, negatives, saturations, nans;
  unsigned long long hist[numeric::ArrayStats::kBins];
  unsigned int max_abs_bits;
  unsigned int pad_;
};

/// Adds one element (stats_element(x)) and the quantizer's flags of it to s (the host's
/// order; the GPU adds the same terms with atomics).
RISTSIM_HD inline void add_element(StatsSums* s, const StatsElement& e, bool saturated, bool nan) {
  ++s->count;
  s->saturations += saturated;
  s->nans += nan;
  if (e.nan) return;
  if (e.zero) {
    ++s->zeros;
    return;
  }
  s->negatives += e.negative;
  if (e.abs_bits > s->max_abs_bits) s->max_abs_bits = e.abs_bits;
  ++s->hist[e.bin];
}

/// The sums as the CPU's ArrayStats (max |x| from its float bits).
inline numeric::ArrayStats to_array_stats(const StatsSums& s) {
  numeric::ArrayStats a;
  a.count = s.count;
  a.zeros = s.zeros;
  a.negatives = s.negatives;
  a.saturations = s.saturations;
  a.nans = s.nans;
  float m;
  std::memcpy(&m, &s.max_abs_bits, sizeof m);
  a.max_abs = static_cast<double>(m);
  for (int i = 0; i < numeric::ArrayStats::kBins; ++i) a.hist[i] = s.hist[i];
  return a;
}

// ---------------------------------------------------------------- clipping, decoding

/// clipped_ste's range: every value (float groups) or [lo, hi], the format's min and max.
struct Range {
  bool all;
  double lo, hi;
};

inline Range range_of(bool is_float, const numeric::Format& f) {
  if (is_float) return {true, 0.0, 0.0};
  return {false, numeric::min_value(f), numeric::max_value(f)};
}

/// 1 where x lies within the range (NaN: 0, unless every value is kept).
RISTSIM_HD inline uint8_t in_range(const Range& r, float x) {
  return r.all || (x >= r.lo && x <= r.hi);
}

/// An output code of the exact datapath as the float the layer writes.
RISTSIM_HD inline float decode_element(const numeric::Format& f, uint32_t code) {
  return static_cast<float>(numeric::decode(f, code));
}

}  // namespace ristsim::engine::steps
