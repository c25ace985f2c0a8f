// Rounding and overflow modes, and the one routine that decides a rounding.
//
// For an input x that is not representable, let lo <= x <= hi be its two
// nearest representable neighbours. The modes choose between them:
//   nearest_even  the closer; a tie goes to the neighbour whose code has a 0
//                 least-significant bit, the smaller magnitude if both do
//                 (power-of-two formats: ties go to the larger magnitude).
//                 fixed<8,1>: 2.25 -> 2.0, 2.75 -> 3.0, -2.25 -> -2.0, -2.75 -> -3.0
//                 fixed<8,0>: 2.5 -> 2, 3.5 -> 4, -2.5 -> -2, -3.5 -> -4
//   nearest_away  the closer; a tie goes to the larger magnitude (Ristretto's CPU
//                 code): 2.5 -> 3, -2.5 -> -3
//   toward_zero   the smaller magnitude: 2.7 -> 2, -2.7 -> -2
//   down          toward minus infinity (two's complement truncation): -2.3 -> -3
//   up            toward plus infinity: -2.7 -> -2, 2.3 -> 3
//   stochastic    f = the first R bits of (x - lo) / (hi - lo), truncated; hi is
//                 chosen iff f + r >= 2^R, with r an R-bit random number from
//                 random.h keyed by (seed, stream, element index). With R = 16:
//                 2.25 -> 3 iff r >= 49152; -2.25 (lo = -3, f = 0.75 * 2^16)
//                 -> -2 iff r >= 16384. Representable values never move.
//
// Overflow is applied after rounding on the unbounded grid (the same spacing
// continued past the largest value):
//   saturate  to the largest / smallest finite value (the default)
//   wrap      two's complement modulo 2^B (fixed point only)
//   special   to infinity (minifloat with IEEE specials) or NaN (OCP "fn"
//             formats, which have no infinity), as IEEE 754 does: a directed
//             rounding that never moves away from zero on that side (toward_zero,
//             down for positive, up for negative) gives the largest finite value.
#pragma once

#include <cstdint>

#include "bits.h"
#include "hd.h"

namespace ristsim::numeric {

enum class Rounding : uint8_t { nearest_even, nearest_away, toward_zero, down, up, stochastic };
enum class Overflow : uint8_t { saturate, wrap, special };

inline constexpr Rounding kAllRoundings[] = {Rounding::nearest_even, Rounding::nearest_away,
                                             Rounding::toward_zero,  Rounding::down,
                                             Rounding::up,           Rounding::stochastic};
inline constexpr Overflow kAllOverflows[] = {Overflow::saturate, Overflow::wrap,
                                             Overflow::special};

inline const char* to_string(Rounding r) {
  switch (r) {
    case Rounding::nearest_even: return "nearest_even";
    case Rounding::nearest_away: return "nearest_away";
    case Rounding::toward_zero: return "toward_zero";
    case Rounding::down: return "down";
    case Rounding::up: return "up";
    case Rounding::stochastic: return "stochastic";
  }
  return "?";
}

inline const char* to_string(Overflow o) {
  switch (o) {
    case Overflow::saturate: return "saturate";
    case Overflow::wrap: return "wrap";
    case Overflow::special: return "special";
  }
  return "?";
}

/// Parses a mode name; returns false if the name is not one of the modes.
inline bool parse_rounding(const char* s, Rounding* out) {
  for (Rounding r : kAllRoundings) {
    const char* n = to_string(r);
    const char* p = s;
    while (*n && *n == *p) ++n, ++p;
    if (!*n && !*p) { *out = r; return true; }
  }
  return false;
}

inline bool parse_overflow(const char* s, Overflow* out) {
  for (Overflow o : kAllOverflows) {
    const char* n = to_string(o);
    const char* p = s;
    while (*n && *n == *p) ++n, ++p;
    if (!*n && !*p) { *out = o; return true; }
  }
  return false;
}

/// A magnitude a divided by a power of two 2^p, split exactly into an integer
/// part and a fraction: a / 2^p = t + rem / 2^k, with 0 <= rem < 2^k.
/// t is kept modulo 2^64 (exact low bits, as wrap-around needs); `huge` says the
/// true integer part is 2^64 or more (otherwise t is exact).
struct Split {
  uint64_t t = 0;
  bool huge = false;
  uint64_t rem = 0;
  int k = 0;
  RISTSIM_HD bool exact() const { return rem == 0; }
};

/// Splits mag * 2^exp by 2^p.
RISTSIM_HD inline Split split(uint64_t mag, int exp, int p) {
  Split s;
  const int sh = p - exp;
  if (mag == 0) return s;
  if (sh <= 0) {
    const int up = -sh;
    s.t = shl(mag, up);
    s.huge = up >= 64 || msb_index(mag) + up >= 64;
  } else {
    s.t = shr(mag, sh);
    s.rem = sh >= 64 ? mag : mag & low_mask(sh);
    s.k = sh;
  }
  return s;
}

/// Compares the fraction rem / 2^k (k >= 1) with 1/2: -1 below, 0 tie, +1 above.
RISTSIM_HD inline int compare_half(uint64_t rem, int k) {
  if (k > 64) return -1;  // rem < 2^64 <= 2^(k-1)
  const uint64_t half = uint64_t{1} << (k - 1);
  return rem < half ? -1 : (rem == half ? 0 : 1);
}

/// The first R bits of the fraction rem / 2^k, truncated (floor(frac * 2^R)).
RISTSIM_HD inline uint64_t fraction_bits(uint64_t rem, int k, int R) {
  return k <= R ? rem << (R - k) : shr(rem, k - R);
}

/// The first R bits of 1 - rem / 2^k for rem > 0, truncated.
RISTSIM_HD inline uint64_t complement_fraction_bits(uint64_t rem, int k, int R) {
  if (k <= R) return (uint64_t{1} << R) - (rem << (R - k));
  return (uint64_t{1} << R) - 1 - shr(rem - 1, k - R);
}

/// What the rounding decision needs to know about the two neighbours.
struct Neighbours {
  bool lo_even = true;         ///< the smaller magnitude's code has LSB 0
  bool hi_even = false;        ///< the larger magnitude's code has LSB 0
  bool tie_to_larger = false;  ///< power-of-two formats: nearest ties go up in magnitude
};

/// THE rounding decision of ristsim. The input magnitude lies strictly between
/// two neighbours lo < a < hi (magnitudes), and (a - lo) / (hi - lo) = rem / 2^k
/// with rem > 0. `neg` is the sign of the input; `random` is the R-bit number of
/// the element (used by stochastic only). `half` overrides the comparison with
/// the midpoint (power-of-two log rounding); pass compare_half(rem, k) otherwise.
/// Returns true to take the larger magnitude.
RISTSIM_HD inline bool round_to_larger(Rounding mode, bool neg, uint64_t rem, int k, int half,
                                       Neighbours nb, uint32_t random, int R) {
  switch (mode) {
    case Rounding::nearest_even:
      if (half != 0) return half > 0;
      if (nb.tie_to_larger) return true;
      if (nb.lo_even) return false;
      return nb.hi_even;
    case Rounding::nearest_away:
      return half >= 0;
    case Rounding::toward_zero:
      return false;
    case Rounding::down:
      return neg;
    case Rounding::up:
      return !neg;
    case Rounding::stochastic: {
      // f is measured from the lower (more negative) neighbour, as specified.
      const uint64_t one = uint64_t{1} << R;
      if (!neg) return fraction_bits(rem, k, R) + random >= one;
      // For negative inputs the lower neighbour is -hi: taking "hi" (toward plus
      // infinity) means the smaller magnitude.
      return !(complement_fraction_bits(rem, k, R) + random >= one);
    }
  }
  return false;
}

/// True if a rounding in this mode can move a value of this sign away from zero.
/// IEEE 754 overflow: only such roundings overflow to infinity.
RISTSIM_HD inline bool can_round_away(Rounding mode, bool neg) {
  switch (mode) {
    case Rounding::toward_zero: return false;
    case Rounding::down: return neg;
    case Rounding::up: return !neg;
    default: return true;
  }
}

}  // namespace ristsim::numeric
