// Quantization: any exact value (a double, a product, an accumulator) to a
// format, under a rounding and an overflow mode. Every quantizer returns the
// value and its integer code (the bit pattern the hardware stores).
//
// Each format family maps the magnitude onto a "magnitude code" space in which
// consecutive integers are consecutive representable magnitudes, finds the two
// neighbours lo <= |x| <= hi, and asks round_to_larger() (rounding.h), the one
// place where rounding is decided. Overflow is then judged on the unbounded grid.
#pragma once

#include <cstdint>

#include "bits.h"
#include "format.h"
#include "hd.h"
#include "random.h"
#include "rounding.h"

namespace ristsim::numeric {

/// A format with its rounding and overflow policy, and the stochastic key.
struct Quantizer {
  Format format;
  Rounding rounding = Rounding::nearest_even;
  Overflow overflow = Overflow::saturate;
  uint64_t seed = 0;    ///< stochastic: generator seed
  uint64_t stream = 0;  ///< stochastic: stream (e.g. one per tensor)
  int random_bits = kDefaultRandomBits;  ///< stochastic: R, 1..32
};

/// Checks a quantizer; nullptr if valid.
inline const char* validate(const Quantizer& q) {
  if (const char* e = validate(q.format)) return e;
  if (const char* e = validate(q.format, q.overflow)) return e;
  if (q.random_bits < 1 || q.random_bits > 32) return "stochastic rounding needs 1 to 32 random bits";
  return nullptr;
}

struct Quantized {
  double value = 0;    ///< the represented value (inf/NaN for those codes)
  uint64_t code = 0;   ///< the stored bit pattern, format.code_bits() wide
  bool saturated = false;  ///< the rounded value was out of range and the overflow mode acted
  bool nan = false;        ///< the input was NaN
};

namespace detail {

/// Builds the result from a sign and a magnitude code within range.
RISTSIM_HD inline Quantized pack(const Format& f, bool neg, uint64_t mcode) {
  Quantized r;
  switch (f.kind) {
    case FormatKind::fixed: {
      const uint64_t q = neg ? uint64_t{0} - mcode : mcode;
      r.code = q & low_mask(f.bits);
      break;
    }
    case FormatKind::minifloat: {
      const int em = f.exp_bits + f.mant_bits;
      // Magnitude code 0 is zero, except in the ristretto variant, where it is the
      // smallest normal 2^-bias (zero is the extra code, never packed here).
      const bool is_zero = mcode == 0 && f.specials != Specials::ristretto;
      const bool keep_sign = f.specials == Specials::ieee;  // IEEE keeps the sign of zero
      r.code = ((neg && (!is_zero || keep_sign)) ? uint64_t{1} << em : 0) | mcode;
      break;
    }
    case FormatKind::pow2:
      r.code = ((neg && !(f.zero_code && mcode == 0)) ? uint64_t{1} << (f.bits - 1) : 0) | mcode;
      break;
  }
  r.value = decode(f, r.code);
  return r;
}

/// The code of NaN (sign 0), for formats that have one.
RISTSIM_HD inline uint64_t nan_code(const Format& f) {
  const int em = f.exp_bits + f.mant_bits;
  if (f.specials == Specials::fn) return low_mask(em);
  return (low_mask(f.exp_bits) << f.mant_bits) | (uint64_t{1} << (f.mant_bits - 1));  // quiet NaN
}

RISTSIM_HD inline uint64_t inf_mag_code(const Format& f) {
  return low_mask(f.exp_bits) << f.mant_bits;
}

/// Applies the overflow mode to a rounded magnitude code beyond the range.
RISTSIM_HD inline Quantized overflow(const Quantizer& q, bool neg, uint64_t mcode_mod64) {
  const Format& f = q.format;
  Quantized r;
  if (q.overflow == Overflow::wrap) {  // fixed point only (validated)
    r = pack(f, neg, mcode_mod64);
  } else if (q.overflow == Overflow::special && can_round_away(q.rounding, neg)) {
    if (f.has_inf()) {
      r.code = (neg ? uint64_t{1} << (f.exp_bits + f.mant_bits) : 0) | inf_mag_code(f);
    } else {
      r.code = nan_code(f) | (neg ? uint64_t{1} << (f.exp_bits + f.mant_bits) : 0);
    }
    r.value = decode(f, r.code);
  } else if (f.kind == FormatKind::fixed && neg) {
    r = pack(f, true, f.max_neg_mag_code());  // -2^(B-1); unsigned: 0
  } else {
    r = pack(f, neg, f.max_mag_code());
  }
  r.saturated = true;
  return r;
}

/// Rounds a/2^p = s.t + s.rem/2^k between magnitude codes lo and lo + 1 of a
/// uniform stretch of the grid; returns the chosen magnitude code (mod 2^64).
RISTSIM_HD inline uint64_t round_uniform(const Quantizer& q, bool neg, const Split& s,
                                         uint64_t lo_code, uint32_t random) {
  if (s.exact()) return lo_code;
  Neighbours nb;
  nb.lo_even = (lo_code & 1) == 0;
  nb.hi_even = !nb.lo_even;
  const bool up = round_to_larger(q.rounding, neg, s.rem, s.k, compare_half(s.rem, s.k), nb,
                                  random, q.random_bits);
  return lo_code + (up ? 1 : 0);
}

}  // namespace detail

/// Compares the fraction rem / 2^k (1 <= k <= 63) with sqrt(2) - 1: the
/// boundary of power-of-two "log" rounding, where |x| = (1 + frac) * 2^e rounds
/// up iff log2(1 + frac) > 1/2. Never a tie (sqrt(2) is irrational).
RISTSIM_HD inline int compare_sqrt2_minus_1(uint64_t rem, int k) {
  // floor((sqrt(2) - 1) * 2^64): frac > sqrt2 - 1 iff frac * 2^64 > this (integers).
  constexpr uint64_t kSqrt2Frac = 0x6A09E667F3BCC908ull;
  return (rem << (64 - k)) > kSqrt2Frac ? 1 : -1;
}

/// Quantizes the exact value (-1)^x.neg * x.mag * 2^x.exp. `index` is the
/// element index for stochastic rounding. The quantizer must be valid.
RISTSIM_HD inline Quantized quantize(const Quantizer& q, Dyadic x, uint64_t index = 0) {
  const Format& f = q.format;
  const bool neg = x.neg;
  uint32_t random = 0;
  if (q.rounding == Rounding::stochastic)
    random = random_bits(q.seed, q.stream, index, q.random_bits);
  const bool ristretto = f.kind == FormatKind::minifloat && f.specials == Specials::ristretto;
  Quantized zero_ristretto;  // the variant's extra code for zero (storage formats only: bits < 64)
  if (ristretto) zero_ristretto.code = uint64_t{1} << f.bits;

  if (x.mag == 0) {
    if (ristretto) return zero_ristretto;
    return detail::pack(f, neg && f.kind != FormatKind::pow2, 0);
  }
  const int top = x.exp + msb_index(x.mag);  // |x| is in [2^top, 2^(top+1))
  uint64_t m = 0;  // the rounded magnitude code
  switch (f.kind) {
    case FormatKind::fixed: {
      const Split s = split(x.mag, x.exp, -f.fl);
      m = detail::round_uniform(q, neg, s, s.t, random);
      const uint64_t limit = neg ? f.max_neg_mag_code() : f.max_mag_code();
      if (s.huge || m > limit) return detail::overflow(q, neg, m);
      return detail::pack(f, neg, m);
    }
    case FormatKind::minifloat: {
      const int M = f.mant_bits;
      const int emin = f.emin();
      if (top < emin) {
        if (ristretto) return zero_ristretto;  // Ristretto flushes below the smallest normal
        if (f.subnormals) {
          const Split s = split(x.mag, x.exp, emin - M);
          m = detail::round_uniform(q, neg, s, s.t, random);
        } else {
          // Between 0 (code 0) and the smallest normal (code 1 << M).
          const Split s = split(x.mag, x.exp, emin);
          Neighbours nb;
          nb.lo_even = true;
          nb.hi_even = M > 0;
          const bool up = round_to_larger(q.rounding, neg, s.rem, s.k, compare_half(s.rem, s.k),
                                          nb, random, q.random_bits);
          m = up ? uint64_t{1} << M : 0;
        }
      } else {
        const Split s = split(x.mag, x.exp, top - M);  // s.t in [2^M, 2^(M+1))
        const uint64_t field = static_cast<uint64_t>(top - emin + (ristretto ? 0 : 1));
        m = detail::round_uniform(q, neg, s, (field << M) + (s.t - (uint64_t{1} << M)), random);
      }
      if (m > f.max_mag_code()) return detail::overflow(q, neg, m);
      return detail::pack(f, neg, m);
    }
    case FormatKind::pow2: {
      const int emn = f.exp_min();
      Neighbours nb;
      nb.tie_to_larger = true;
      if (top < emn) {
        if (!f.zero_code) return detail::pack(f, neg, 0);  // Ristretto: up to +-2^exp_min
        const Split s = split(x.mag, x.exp, emn);          // between 0 and 2^exp_min
        m = round_to_larger(q.rounding, neg, s.rem, s.k, compare_half(s.rem, s.k), nb, random,
                            q.random_bits)
                ? 1
                : 0;
      } else {
        const Split s = split(x.mag, x.exp, top);  // s.t == 1, frac = rem / 2^k
        m = static_cast<uint64_t>(top - emn + (f.zero_code ? 1 : 0));
        if (!s.exact()) {
          const bool nearest =
              q.rounding == Rounding::nearest_even || q.rounding == Rounding::nearest_away;
          const int half = nearest && f.pow2_rounding == Pow2Rounding::log
                               ? compare_sqrt2_minus_1(s.rem, s.k)
                               : compare_half(s.rem, s.k);
          nb.lo_even = (m & 1) == 0;
          nb.hi_even = !nb.lo_even;
          if (round_to_larger(q.rounding, neg, s.rem, s.k, half, nb, random, q.random_bits)) ++m;
        }
      }
      if (m > f.max_mag_code()) return detail::overflow(q, neg, m);
      return detail::pack(f, neg, m);
    }
  }
  return Quantized{};
}

/// Quantizes a double. NaN becomes the format's NaN where it has one, else zero
/// (+2^exp_min for power of two without a zero code), flagged `nan`. Infinity is
/// an overflow (it stays infinity under `special` where the format has one).
RISTSIM_HD inline Quantized quantize(const Quantizer& q, double x, uint64_t index = 0) {
  const Format& f = q.format;
  Dyadic d;
  const DoubleClass c = decompose(x, &d);
  if (c == DoubleClass::nan) {
    Quantized r;
    if (f.has_nan()) {
      r.code = detail::nan_code(f);
      r.value = decode(f, r.code);
    } else {
      r = quantize(q, Dyadic{}, index);
    }
    r.nan = true;
    return r;
  }
  if (c == DoubleClass::infinite) {
    if (f.has_inf() && q.overflow == Overflow::special) {
      Quantized r;
      r.code = (d.neg ? uint64_t{1} << (f.exp_bits + f.mant_bits) : 0) | detail::inf_mag_code(f);
      r.value = decode(f, r.code);
      return r;
    }
    Quantizer qs = q;
    if (qs.overflow == Overflow::wrap) qs.overflow = Overflow::saturate;  // no residue mod 2^B
    return detail::overflow(qs, d.neg, 0);
  }
  return quantize(q, d, index);
}

}  // namespace ristsim::numeric
