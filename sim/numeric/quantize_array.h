// Quantizing a float array with one Quantizer, and the statistics of the array
// in the same pass.
//
// quantize_array(q, x, n, index0, y, codes, stats) gives, for every element,
// exactly the bits of quantize(q, double(x[i]), index0 + i) (quantize.h): the
// value as a float in y[i], the code in codes[i]. For fixed point of 1..32
// bits (every rounding, overflow saturate or wrap) it runs a loop without
// branches that a compiler vectorises; every other quantizer, and NaN or
// infinite inputs, go through quantize() itself.
//
// The fixed-point loop works in doubles, where every step is exact: with
// v = x * 2^FL (exact: a float times a power of two within the double range),
// a = |v|, t = floor(a) and the fraction fa = a - t (exact: both are multiples
// of a's last bit), the magnitude rounds up as round_to_larger() decides:
//   nearest_even  fa > 1/2, or fa == 1/2 and t odd
//   nearest_away  fa >= 1/2
//   toward_zero   never;  down: negative and fa > 0;  up: positive and fa > 0
//   stochastic    fa > 0 and, with the R-bit random number r (random.h) and
//                 F = fa * 2^R (exact), r >= 2^R - floor(F) when positive,
//                 r < ceil(F) when negative (rounding.h's rule, taken from the
//                 lower neighbour -(t + 1)).
// m = +-(t + up) is out of range iff m < -2^(B-1) or m > 2^(B-1) - 1 (unsigned:
// m < 0 or m > 2^B - 1); saturate clamps it; the code is m mod 2^B,
// c = m - floor(m / 2^B) * 2^B (exact: the result is representable), which is
// also what wrap keeps. The value is c - 2^B for c >= 2^(B-1), else c (unsigned:
// c), times 2^-FL, then rounded to float as static_cast<float> does. Worked
// example, fixed<8,2>, nearest_even:
// x = -1.625 -> v = -6.5, t = 6, fa = 0.5, t even: m = -6, c = 250 (code 0xfa),
// value -1.5.
//
// Statistics (ArrayStats): the element count, zeros, negatives (x < 0: -0 and
// NaN are not), NaNs (counted by the quantizer), max |x|, and the log2
// histogram, bin floor(log2 |x|) - kMinExp clamped to the bins (thesis figures
// 4.1 and 4.2), taken from the float's exponent field: a subnormal's
// floor(log2) is below kMinExp (bin 0) and infinity is in the last bin.
// ArrayStats::add() is the element-by-element definition the fast pass is
// tested against.
#pragma once

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "quantize.h"
#include "random.h"

#if defined(__GNUC__)
#define RISTSIM_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define RISTSIM_ALWAYS_INLINE inline
#endif

namespace ristsim::numeric {

/// Statistics of an array of inputs and of their quantization.
struct ArrayStats {
  static constexpr int kMinExp = -40;  ///< bin 0: |x| in [2^-40, 2^-39) (and below)
  static constexpr int kBins = 64;     ///< last bin: |x| >= 2^23 (infinity too)
  double max_abs = 0;                  ///< largest |x| (NaNs left out)
  uint64_t count = 0;                  ///< elements, NaNs included
  uint64_t zeros = 0;                  ///< +0 and -0
  uint64_t negatives = 0;              ///< x < 0 (not -0, not NaN): none, the group may be unsigned
  uint64_t saturations = 0;            ///< the overflow mode acted (Quantized::saturated)
  uint64_t nans = 0;                   ///< NaN inputs to the quantizer (Quantized::nan)
  std::array<uint64_t, kBins> hist{};  ///< bin i: floor(log2 |x|) == kMinExp + i (nonzero x)

  /// One input, the definition: counted; a NaN adds nothing else (the
  /// quantizer counts it); a zero is a zero; otherwise max |x| and its bin.
  void add(float x) {
    ++count;
    if (std::isnan(x)) return;
    const double a = std::fabs(static_cast<double>(x));
    if (a == 0) {
      ++zeros;
      return;
    }
    if (x < 0) ++negatives;
    max_abs = std::max(max_abs, a);
    const int e = std::isinf(a) ? 1000 : std::ilogb(a);
    ++hist[std::clamp(e - kMinExp, 0, kBins - 1)];
  }
  void merge(const ArrayStats& o) {
    max_abs = std::max(max_abs, o.max_abs);
    count += o.count;
    zeros += o.zeros;
    negatives += o.negatives;
    saturations += o.saturations;
    nans += o.nans;
    for (int i = 0; i < kBins; ++i) hist[i] += o.hist[i];
  }
};

/// True when quantize_array() takes its vector loop for this quantizer: fixed
/// point of 1..32 bits, overflow saturate or wrap (any rounding).
inline bool quantize_array_vectorised(const Quantizer& q) {
  return q.format.kind == FormatKind::fixed && q.format.bits >= 1 && q.format.bits <= 32 &&
         (q.overflow == Overflow::saturate || q.overflow == Overflow::wrap) &&
         q.random_bits >= 1 && q.random_bits <= 32;
}

namespace array_detail {

constexpr int kBlock = 512;  // elements per block: the block's buffers stay in L1

inline double bits_to_double(uint64_t b) {
  double d;
  std::memcpy(&d, &b, sizeof d);
  return d;
}
inline uint64_t double_bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}
inline uint32_t float_bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

/// The loop-invariant numbers of a fixed-point quantizer.
struct FixedParams {
  double scale;      ///< 2^FL
  double inv_scale;  ///< 2^-FL
  double lo, hi;     ///< -2^(B-1), 2^(B-1) - 1 (unsigned: 0, 2^B - 1)
  double two_b;      ///< 2^B
  double inv_two_b;  ///< 2^-B
  double half_b;     ///< 2^(B-1): codes from here on are negative (unsigned: 2^B, none are)
  double one_r;      ///< stochastic: 2^R
  uint64_t key;      ///< stochastic: stream_key(seed, stream)
  int shift_r;       ///< stochastic: 64 - R
};

inline FixedParams fixed_params(const Quantizer& q) {
  FixedParams p;
  const int b = q.format.bits, fl = q.format.fl;
  p.scale = std::ldexp(1.0, fl);
  p.inv_scale = std::ldexp(1.0, -fl);
  const bool sgn = q.format.is_signed;
  p.lo = sgn ? -std::ldexp(1.0, b - 1) : 0.0;
  p.hi = std::ldexp(1.0, sgn ? b - 1 : b) - 1;
  p.two_b = std::ldexp(1.0, b);
  p.inv_two_b = std::ldexp(1.0, -b);
  p.half_b = std::ldexp(1.0, sgn ? b - 1 : b);
  p.one_r = std::ldexp(1.0, q.random_bits);
  p.key = stream_key(q.seed, q.stream);
  p.shift_r = 64 - q.random_bits;
  return p;
}

/// Counts of the vector loop.
struct Counts {
  uint32_t max_abs_bits = 0;  ///< bits of the largest |x| (ordered like the values)
  uint64_t zeros = 0, negatives = 0, nans = 0, saturations = 0, special = 0;
};

/// Quantizes x[0, n) (n <= kBlock) into yb / cb and counts zeros, NaNs,
/// saturations, max |x|, and the NaN or infinite inputs (`special`: their yb
/// and cb are to be replaced by quantize()'s). Quantize = false: counts only.
template <Rounding R, bool Wrap, bool Quantize>
RISTSIM_ALWAYS_INLINE void fixed_block(const FixedParams& p, const float* x, int n,
                                       uint64_t index0, float* yb, uint32_t* cb, Counts* ct) {
  // Locals, not loads through p: a load under a condition would stop if-conversion.
  const double scale = p.scale, inv_scale = p.inv_scale, lo = p.lo, hi = p.hi;
  const double two_b = p.two_b, inv_two_b = p.inv_two_b, half_b = p.half_b, one_r = p.one_r;
  const uint64_t key = p.key;
  const int shift_r = p.shift_r;
  uint32_t mx = 0;
  uint32_t zeros = 0, negs = 0, nans = 0, sat = 0, special = 0;
  for (int i = 0; i < n; ++i) {
    const float xf = x[i];
    // |x| as bits: ordered as the magnitudes are; above 0x7f800000 (infinity): NaN.
    const uint32_t ab = float_bits(xf) & 0x7fffffffu;
    mx = std::max(mx, ab);
    // Counts by arithmetic (the vectoriser of GCC 12 refuses these as conditionals here).
    zeros += (ab - 1u) >> 31;               // ab == 0
    nans += (0x7f800000u - ab) >> 31;       // ab > 0x7f800000
    // x < 0: the sign bit, ab in 1..0x7f800000 (not -0, not NaN).
    negs += (float_bits(xf) >> 31) & ((0u - ab) >> 31) & ((ab - 0x7f800001u) >> 31);
    if constexpr (Quantize) {
      special += (0x7f7fffffu - ab) >> 31;  // ab >= 0x7f800000: NaN or infinity
      const double v = static_cast<double>(xf) * scale;
      const bool neg = v < 0.0;
      const double a = __builtin_fabs(v);
      const double t = __builtin_floor(a);
      const double fa = a - t;
      bool up = false;
      if constexpr (R == Rounding::nearest_even) {
        const double h = t * 0.5;
        up = fa > 0.5 || (fa == 0.5 && h != __builtin_floor(h));
      } else if constexpr (R == Rounding::nearest_away) {
        up = fa >= 0.5;
      } else if constexpr (R == Rounding::down) {
        up = neg && fa > 0.0;
      } else if constexpr (R == Rounding::up) {
        up = !neg && fa > 0.0;
      } else if constexpr (R == Rounding::stochastic) {
        const uint64_t z = mix64(key + (index0 + static_cast<uint64_t>(i) + 1) * kGolden64);
        // r < 2^32 as a double: 2^52 + r has r as its low mantissa bits.
        const double r = bits_to_double((z >> shift_r) | 0x4330000000000000ull) - 0x1p52;
        const double f = fa * one_r;
        up = fa > 0.0 && (neg ? r < __builtin_ceil(f) : r >= one_r - __builtin_floor(f));
      }
      const double mag = t + (up ? 1.0 : 0.0);
      const double m = neg ? -mag : mag;
      sat += (m < lo || m > hi) ? 1u : 0u;
      const double mq = Wrap ? m : (m < lo ? lo : (m > hi ? hi : m));
      const double c = mq - __builtin_floor(mq * inv_two_b) * two_b;  // in [0, 2^B)
      const double s = c >= half_b ? c - two_b : c;
      yb[i] = static_cast<float>(s * inv_scale);
      cb[i] = static_cast<uint32_t>(double_bits(c + 0x1p52));  // low bits: c
    }
  }
  if (nans) {  // the maximum again without the NaNs
    mx = 0;
    for (int i = 0; i < n; ++i) {
      const uint32_t ab = float_bits(x[i]) & 0x7fffffffu;
      if (ab <= 0x7f800000u) mx = std::max(mx, ab);
    }
  }
  ct->max_abs_bits = std::max(ct->max_abs_bits, mx);
  ct->zeros += zeros;
  ct->negatives += negs;
  ct->nans += nans;
  ct->saturations += sat;
  ct->special += special;
}

/// Histogram of the float exponent fields, 4 interleaved copies (repeated bins
/// do not wait on each other's stores), 32-bit counts moved out every block.
struct ExponentHistogram {
  uint32_t h[4][256] = {};
  uint64_t total[256] = {};
  RISTSIM_ALWAYS_INLINE void add(const float* x, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) {
      ++h[0][(float_bits(x[i]) >> 23) & 0xff];
      ++h[1][(float_bits(x[i + 1]) >> 23) & 0xff];
      ++h[2][(float_bits(x[i + 2]) >> 23) & 0xff];
      ++h[3][(float_bits(x[i + 3]) >> 23) & 0xff];
    }
    for (; i < n; ++i) ++h[0][(float_bits(x[i]) >> 23) & 0xff];
  }
  void flush() {
    for (int e = 0; e < 256; ++e) {
      total[e] += uint64_t{h[0][e]} + h[1][e] + h[2][e] + h[3][e];
      h[0][e] = h[1][e] = h[2][e] = h[3][e] = 0;
    }
  }
  /// Adds to st's bins, leaving out `zeros` (field 0) and `nans` (field 255).
  void fold_into(ArrayStats* st, uint64_t zeros, uint64_t nans) {
    flush();
    total[0] -= zeros;
    total[255] -= nans;
    for (int e = 0; e < 256; ++e) {
      // Field e >= 1 is floor(log2 |x|) = e - 127; field 0 (subnormals) lies below kMinExp.
      const int bin = std::clamp(e - 127 - ArrayStats::kMinExp, 0, ArrayStats::kBins - 1);
      st->hist[bin] += total[e];
    }
  }
};

/// The whole array, in blocks, with the rounding and overflow as template
/// parameters. Quantize = false: statistics only.
template <Rounding R, bool Wrap, bool Quantize>
RISTSIM_ALWAYS_INLINE void fixed_array(const Quantizer& q, const float* x, std::size_t n,
                                       uint64_t index0, float* y, uint32_t* codes,
                                       ArrayStats* stats) {
  const FixedParams p = fixed_params(q);
  alignas(64) float yb[kBlock];
  alignas(64) uint32_t cb[kBlock];
  Counts ct;
  ExponentHistogram hist;
  std::size_t since_flush = 0;
  for (std::size_t b0 = 0; b0 < n; b0 += kBlock) {
    const int len = static_cast<int>(std::min<std::size_t>(kBlock, n - b0));
    const uint64_t special_before = ct.special;
    fixed_block<R, Wrap, Quantize>(p, x + b0, len, index0 + b0, yb, cb, &ct);
    if (stats) {
      hist.add(x + b0, len);
      if (++since_flush == (std::size_t{1} << 30) / kBlock) hist.flush(), since_flush = 0;
    }
    if constexpr (Quantize) {
      if (ct.special != special_before)
        for (int i = 0; i < len; ++i)
          if (!(std::fabs(x[b0 + i]) <= FLT_MAX)) {
            const Quantized r = quantize(q, static_cast<double>(x[b0 + i]), index0 + b0 + i);
            yb[i] = static_cast<float>(r.value);
            cb[i] = static_cast<uint32_t>(r.code);
          }
      if (y) std::memcpy(y + b0, yb, sizeof(float) * len);
      if (codes) std::memcpy(codes + b0, cb, sizeof(uint32_t) * len);
    }
  }
  if (!stats) return;
  stats->count += n;
  stats->zeros += ct.zeros;
  stats->negatives += ct.negatives;
  if (Quantize) stats->nans += ct.nans;
  stats->saturations += ct.saturations;
  float max_abs;
  std::memcpy(&max_abs, &ct.max_abs_bits, sizeof max_abs);
  stats->max_abs = std::max(stats->max_abs, static_cast<double>(max_abs));
  hist.fold_into(stats, ct.zeros, ct.nans);
}

template <Rounding R>
RISTSIM_ALWAYS_INLINE void fixed_array_overflow(const Quantizer& q, const float* x, std::size_t n,
                                                uint64_t index0, float* y, uint32_t* codes,
                                                ArrayStats* stats) {
  if (q.overflow == Overflow::wrap) fixed_array<R, true, true>(q, x, n, index0, y, codes, stats);
  else fixed_array<R, false, true>(q, x, n, index0, y, codes, stats);
}

/// quantize_array()'s body, to be compiled for each instruction set
/// (kernels/cpu/quantize_cpu.cpp); always inlined into its caller.
RISTSIM_ALWAYS_INLINE void quantize_array_body(const Quantizer& q, const float* x, std::size_t n,
                                               uint64_t index0, float* y, uint32_t* codes,
                                               ArrayStats* stats) {
  if (!quantize_array_vectorised(q)) {
    for (std::size_t i = 0; i < n; ++i) {
      const float xi = x[i];
      const Quantized r = quantize(q, static_cast<double>(xi), index0 + i);
      if (stats) {
        stats->add(xi);
        stats->saturations += r.saturated;
        stats->nans += r.nan;
      }
      if (y) y[i] = static_cast<float>(r.value);
      if (codes) codes[i] = static_cast<uint32_t>(r.code);
    }
    return;
  }
  switch (q.rounding) {
    case Rounding::nearest_even:
      return fixed_array_overflow<Rounding::nearest_even>(q, x, n, index0, y, codes, stats);
    case Rounding::nearest_away:
      return fixed_array_overflow<Rounding::nearest_away>(q, x, n, index0, y, codes, stats);
    case Rounding::toward_zero:
      return fixed_array_overflow<Rounding::toward_zero>(q, x, n, index0, y, codes, stats);
    case Rounding::down:
      return fixed_array_overflow<Rounding::down>(q, x, n, index0, y, codes, stats);
    case Rounding::up:
      return fixed_array_overflow<Rounding::up>(q, x, n, index0, y, codes, stats);
    case Rounding::stochastic:
      return fixed_array_overflow<Rounding::stochastic>(q, x, n, index0, y, codes, stats);
  }
}

/// array_stats()'s body.
RISTSIM_ALWAYS_INLINE void array_stats_body(const float* x, std::size_t n, ArrayStats* stats) {
  fixed_array<Rounding::nearest_even, false, false>(Quantizer{}, x, n, 0, nullptr, nullptr, stats);
}

}  // namespace array_detail

/// y[i] = float(quantize(q, double(x[i]), index0 + i).value) and codes[i] = its
/// code (as 32 bits), for i in [0, n); y or codes may be null, y may be x.
/// With `stats`, adds the statistics of x (ArrayStats::add()) and the
/// quantizer's saturations and NaNs. The quantizer must be valid and its codes
/// at most 32 bits wide. This is the portable build of the loop; kernels/cpu's
/// quantize_array_cpu() runs the same loop compiled for AVX2 / AVX-512.
inline void quantize_array(const Quantizer& q, const float* x, std::size_t n, uint64_t index0,
                           float* y, uint32_t* codes, ArrayStats* stats) {
  array_detail::quantize_array_body(q, x, n, index0, y, codes, stats);
}

/// Adds the statistics of x[0, n) to *stats as ArrayStats::add() would, NaNs
/// left out of `nans` (no quantizer saw them).
inline void array_stats(const float* x, std::size_t n, ArrayStats* stats) {
  array_detail::array_stats_body(x, n, stats);
}

}  // namespace ristsim::numeric
