// The slow, obviously correct reference of the numeric core (issue 2, section 2).
//
// It shares nothing with sim/numeric but the parameter structs (Format,
// Quantizer) and the mode enums. It
//   1. decodes every code of a format from the text of the issue, with its own
//      exact arithmetic (Exact below: sign, 64-bit odd magnitude, exponent);
//   2. sorts the finite values into a list and appends one grid point beyond
//      each end (the "unbounded grid": the spacing at the largest value, or the
//      next power of two for power-of-two formats);
//   3. rounds an input by searching that list for lo <= x <= hi and applying
//      the mode's rule literally (nearest by comparing 2x with lo + hi, ties by
//      the code's least-significant bit, stochastic by f = floor((x - lo) /
//      (hi - lo) * 2^R) and f + r >= 2^R), then the overflow rule if the chosen
//      grid point lies beyond the range.
// It is slow (a binary search of exact comparisons per input) and meant for
// tests only. Every arithmetic step that would not be exact throws.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "numeric/format.h"
#include "numeric/quantize.h"  // for the Quantizer parameter struct only

namespace ristsim::oracle {

using numeric::Format;
using numeric::FormatKind;
using numeric::Overflow;
using numeric::Quantizer;
using numeric::Rounding;
using numeric::Specials;
using u128 = unsigned __int128;

inline int msb128(u128 x) {
  int r = -1;
  while (x) {
    x >>= 1;
    ++r;
  }
  return r;
}

/// An exact dyadic number (-1)^neg * mag * 2^exp, normalised: mag odd, or
/// mag == 0 with exp == 0 and neg == false (the oracle has one zero).
struct Exact {
  bool neg = false;
  uint64_t mag = 0;
  int exp = 0;

  static Exact make(bool neg, u128 mag, int exp) {
    Exact r;
    if (mag == 0) return r;
    while ((mag & 1) == 0) {
      mag >>= 1;
      ++exp;
    }
    if (mag >> 64) throw std::runtime_error("oracle: magnitude needs more than 64 bits");
    r.neg = neg;
    r.mag = static_cast<uint64_t>(mag);
    r.exp = exp;
    return r;
  }
  static Exact pow2(int e) { return make(false, 1, e); }
  /// A finite double, taken apart with frexp (not with the core's bit code).
  static Exact from_double(double x) {
    if (!std::isfinite(x)) throw std::runtime_error("oracle: not a finite double");
    if (x == 0) return Exact{};
    int e = 0;
    const double m = std::frexp(std::fabs(x), &e);  // |x| = m * 2^e, m in [0.5, 1)
    const double im = std::ldexp(m, 53);            // an integer below 2^53
    return make(x < 0, static_cast<u128>(static_cast<uint64_t>(im)), e - 53);
  }
  bool is_zero() const { return mag == 0; }
  int top() const { return exp + msb128(mag); }  // |x| in [2^top, 2^(top+1))
  Exact abs() const { return make(false, mag, exp); }
  Exact negate() const { return make(!neg, mag, exp); }
  Exact times_pow2(int k) const { return mag ? make(neg, mag, exp + k) : Exact{}; }
  /// As a double; throws unless exact.
  double to_double() const {
    if (mag >> 53) throw std::runtime_error("oracle: not a double");
    const double d = std::ldexp(static_cast<double>(mag), exp);
    if (!std::isfinite(d) || (mag && d == 0) || from_double(d).exp != exp)
      throw std::runtime_error("oracle: value outside the double range");
    return neg ? -d : d;
  }
};

/// Compares |a| with |b|: -1, 0, +1.
inline int cmp_abs(const Exact& a, const Exact& b) {
  if (a.is_zero() || b.is_zero()) return (a.is_zero() ? 0 : 1) - (b.is_zero() ? 0 : 1);
  if (a.top() != b.top()) return a.top() < b.top() ? -1 : 1;
  // Same top: the exponents differ by less than 64, so both fit 128 bits aligned.
  const int e = std::min(a.exp, b.exp);
  const u128 x = static_cast<u128>(a.mag) << (a.exp - e);
  const u128 y = static_cast<u128>(b.mag) << (b.exp - e);
  return x < y ? -1 : (x > y ? 1 : 0);
}

/// Compares a with b: -1, 0, +1.
inline int cmp(const Exact& a, const Exact& b) {
  const int sa = a.is_zero() ? 0 : (a.neg ? -1 : 1);
  const int sb = b.is_zero() ? 0 : (b.neg ? -1 : 1);
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  const int c = cmp_abs(a, b);
  return sa > 0 ? c : -c;
}

inline Exact add(const Exact& a, const Exact& b) {
  if (a.is_zero()) return b;
  if (b.is_zero()) return a;
  const int e = std::min(a.exp, b.exp);
  const int sa = a.exp - e, sb = b.exp - e;
  if (msb128(a.mag) + sa > 125 || msb128(b.mag) + sb > 125)
    throw std::runtime_error("oracle: add needs more than 126 bits");
  const u128 x = static_cast<u128>(a.mag) << sa;
  const u128 y = static_cast<u128>(b.mag) << sb;
  if (a.neg == b.neg) return Exact::make(a.neg, x + y, e);
  if (x >= y) return Exact::make(a.neg, x - y, e);
  return Exact::make(b.neg, y - x, e);
}
inline Exact sub(const Exact& a, const Exact& b) {
  return add(a, b.negate());
}
inline Exact mul(const Exact& a, const Exact& b) {
  if (a.is_zero() || b.is_zero()) return Exact{};
  const u128 p = static_cast<u128>(a.mag) * b.mag;
  if (p >> 64) throw std::runtime_error("oracle: product needs more than 64 bits");
  return Exact::make(a.neg != b.neg, p, a.exp + b.exp);
}
/// floor(a * 2^s) as a signed 128-bit integer; `exact` demands no fraction.
inline __int128 floor_times_pow2(const Exact& a, int s, bool exact = false) {
  if (a.is_zero()) return 0;
  const int e = a.exp + s;
  __int128 m;
  if (e >= 0) {
    if (msb128(a.mag) + e > 120) throw std::runtime_error("oracle: floor too large");
    m = static_cast<__int128>(static_cast<u128>(a.mag) << e);
    return a.neg ? -m : m;
  }
  if (exact) throw std::runtime_error("oracle: not a multiple of the step");
  const u128 t =
      -e >= 64 ? 0 : static_cast<u128>(a.mag >> -e);  // floor |a| 2^s, a fraction is left
  m = static_cast<__int128>(t);
  return a.neg ? -m - 1 : m;  // floor of a negative number with a fraction
}

/// a * a compared with |b| (for log rounding); a may have up to 53 bits.
inline int cmp_square(const Exact& a, const Exact& b) {
  // a^2 = mag^2 * 2^(2 exp); mag^2 < 2^106: compare through tops, then exactly.
  const u128 sq = static_cast<u128>(a.mag) * a.mag;
  const int top_sq = 2 * a.exp + msb128(sq);
  const Exact bb = b.abs();
  if (top_sq != bb.top()) return top_sq < bb.top() ? -1 : 1;
  const int e = std::min(2 * a.exp, bb.exp);
  const u128 x = sq << (2 * a.exp - e);
  const u128 y = static_cast<u128>(bb.mag) << (bb.exp - e);
  return x < y ? -1 : (x > y ? 1 : 0);
}

// ---------------------------------------------------------------------------
// The stochastic generator, written again from the comment in random.h:
//   mix64(z) = SplitMix64's finaliser; key = mix64(seed ^ mix64(stream + G));
//   random64 = mix64(key + (index + 1) * G); r = random64 >> (64 - R).
inline uint64_t splitmix_finalise(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
inline uint32_t random_r(uint64_t seed, uint64_t stream, uint64_t index, int R) {
  const uint64_t G = 0x9E3779B97F4A7C15ull;
  const uint64_t key = splitmix_finalise(seed ^ splitmix_finalise(stream + G));
  const uint64_t r64 = splitmix_finalise(key + (index + 1) * G);
  return static_cast<uint32_t>(r64 >> (64 - R));
}

// ---------------------------------------------------------------------------
/// What a code means, from the text.
struct Decoded {
  enum Kind { finite, inf, nan } kind = finite;
  Exact value;       ///< finite: the value (zero has no sign here)
  bool neg = false;  ///< the sign bit (for -0 and -inf)
};

inline Decoded decode_code(const Format& f, uint64_t code) {
  Decoded d;
  switch (f.kind) {
    case FormatKind::fixed: {
      if (!f.is_signed) {  // q = the B-bit pattern read as an unsigned integer
        d.value = Exact::make(false, code & ((uint64_t{1} << f.bits) - 1), -f.fl);
        return d;
      }
      // q = the B-bit pattern read as two's complement.
      const uint64_t top_bit = uint64_t{1} << (f.bits - 1);
      const bool negq = (code & top_bit) != 0;
      const uint64_t low = code & (top_bit - 1);
      const uint64_t mag = negq ? top_bit - low : low;  // |q|
      d.value = Exact::make(negq, mag, -f.fl);
      d.neg = negq;
      return d;
    }
    case FormatKind::minifloat: {
      const int E = f.exp_bits, M = f.mant_bits;
      const uint64_t mant = code % (uint64_t{1} << M);
      const uint64_t field = (code >> M) % (uint64_t{1} << E);
      const bool sign = (code >> (E + M)) & 1;
      const uint64_t all_ones = (uint64_t{1} << E) - 1;
      d.neg = sign;
      if (f.specials == Specials::ristretto) {
        // 2 + E + M bits: the top bit marks zero; fields 0..2^E-1 are all normal.
        if ((code >> (1 + E + M)) & 1) {  // zero (one value, no sign)
          d.neg = false;
          return d;
        }
        d.value =
            Exact::make(sign, (uint64_t{1} << M) + mant, static_cast<int>(field) - f.bias - M);
        return d;
      }
      if (f.specials == Specials::ieee && field == all_ones) {
        d.kind = mant == 0 ? Decoded::inf : Decoded::nan;
        return d;
      }
      if (f.specials == Specials::fn && field == all_ones && mant == (uint64_t{1} << M) - 1) {
        d.kind = Decoded::nan;
        return d;
      }
      if (field == 0) {
        // zero, or a subnormal mant * 2^(1 - bias - M) when they are on
        if (f.subnormals) d.value = Exact::make(sign, mant, 1 - f.bias - M);
        return d;
      }
      d.value = Exact::make(sign, (uint64_t{1} << M) + mant, static_cast<int>(field) - f.bias - M);
      return d;
    }
    case FormatKind::pow2: {
      const int B = f.bits;
      const uint64_t field = code % (uint64_t{1} << (B - 1));
      const bool sign = (code >> (B - 1)) & 1;
      d.neg = sign;
      const int fields = 1 << (B - 1);
      if (f.zero_code) {
        if (field == 0) {
          d.neg = false;  // the zero code has no sign
          return d;
        }
        const int exp_min = f.exp_max - (fields - 2);
        d.value = Exact::make(sign, 1, exp_min + static_cast<int>(field) - 1);
      } else {
        const int exp_min = f.exp_max - (fields - 1);
        d.value = Exact::make(sign, 1, exp_min + static_cast<int>(field));
      }
      return d;
    }
  }
  throw std::runtime_error("oracle: unknown format kind");
}

inline int code_bits(const Format& f) {
  return f.kind == FormatKind::minifloat && f.specials == Specials::ristretto ? f.bits + 1 : f.bits;
}

/// Result of a rounding: the code the hardware stores and the flags.
struct Result {
  uint64_t code = 0;
  bool saturated = false;
  bool nan = false;
};

class Oracle {
 public:
  /// A point of the (extended) grid: a representable value, or one of the two
  /// points just beyond the range (beyond != 0), which only the overflow rule sees.
  struct Point {
    Exact v;
    uint64_t code = 0;  ///< canonical code (finite values)
    int lsb = 0;        ///< least-significant bit of the code (continued beyond the range)
    int beyond = 0;     ///< -1 below the smallest value, +1 above the largest, 0 inside
  };

  explicit Oracle(const Format& f) : f_(f) {
    const int cb = code_bits(f);
    if (cb > 20) throw std::runtime_error("oracle: format too wide to enumerate");
    bool has_zero = false;
    for (uint64_t c = 0; c < (uint64_t{1} << cb); ++c) {
      const Decoded d = decode_code(f, c);
      if (d.kind == Decoded::nan) {
        has_nan_ = true;
        continue;
      }
      if (d.kind == Decoded::inf) {
        has_inf_ = true;
        continue;
      }
      if (d.value.is_zero()) {
        has_zero = true;
        continue;
      }
      grid_.push_back(Point{d.value, c, static_cast<int>(c & 1), 0});
    }
    if (has_zero)
      grid_.push_back(Point{Exact{}, zero_code(false), static_cast<int>(zero_code(false) & 1), 0});
    std::sort(grid_.begin(), grid_.end(),
              [](const Point& a, const Point& b) { return cmp(a.v, b.v) < 0; });
    for (size_t i = 1; i < grid_.size(); ++i)
      if (cmp(grid_[i - 1].v, grid_[i].v) == 0)
        throw std::runtime_error("oracle: two codes for one nonzero value");
    values_ = grid_;
    smallest_positive_ = values_.size();
    for (size_t i = values_.size(); i-- > 0;)
      if (!values_[i].v.neg && !values_[i].v.is_zero()) smallest_positive_ = i;
    if (smallest_positive_ == values_.size() && f.kind != FormatKind::fixed)
      throw std::runtime_error("oracle: no positive value");  // fixed<1,FL> has none
    // The unbounded grid: one point beyond each end.
    const Point lo = grid_.front(), hi = grid_.back();
    Exact step;
    if (f.kind == FormatKind::fixed) {
      step = Exact::pow2(-f.fl);  // the quantum
    } else if (f.kind == FormatKind::pow2) {
      step = hi.v;  // 2^exp_max -> 2^(exp_max + 1)
    } else {
      step = Exact::pow2(hi.v.top() - f.mant_bits);  // the spacing at the largest value
    }
    grid_.push_back(Point{add(hi.v, step), 0, 1 - hi.lsb, +1});
    grid_.insert(grid_.begin(), Point{sub(lo.v, step), 0, 1 - lo.lsb, -1});
  }

  /// Finite representable values, ascending, with their canonical codes.
  const std::vector<Point>& values() const { return values_; }
  /// The extended grid: values() with one point beyond each end.
  const std::vector<Point>& grid() const { return grid_; }
  bool has_nan() const { return has_nan_; }
  bool has_inf() const { return has_inf_; }

  /// The code of a zero result: +0, except IEEE-specials minifloat keeps the sign.
  uint64_t zero_code(bool neg) const {
    const Format& f = f_;
    if (f.kind == FormatKind::minifloat && f.specials == Specials::ristretto)
      return uint64_t{1} << f.bits;
    if (f.kind == FormatKind::minifloat && f.specials == Specials::ieee && neg)
      return uint64_t{1} << (f.exp_bits + f.mant_bits);
    return 0;
  }
  uint64_t nan_code() const {  // sign 0; ieee: the quiet NaN with only the top mantissa bit set
    const int E = f_.exp_bits, M = f_.mant_bits;
    const uint64_t field = ((uint64_t{1} << E) - 1) << M;
    return f_.specials == Specials::fn ? field | ((uint64_t{1} << M) - 1)
                                       : field | (uint64_t{1} << (M - 1));
  }
  uint64_t inf_code(bool neg) const {
    const int E = f_.exp_bits, M = f_.mant_bits;
    return (neg ? uint64_t{1} << (E + M) : 0) | (((uint64_t{1} << E) - 1) << M);
  }

  /// Where a double lies on the extended grid (the search, done once per input).
  struct Located {
    enum Kind { nan, inf, flush, zero, outside, exact, between } kind = nan;
    Exact X;                    ///< the input (finite kinds)
    bool neg = false;           ///< the input's sign bit
    const Point* lo = nullptr;  ///< exact: the value; between: lo < X < hi
    const Point* hi = nullptr;
    uint64_t flush_code = 0;  ///< flush: the code a pre-rounding rule gives
  };

  Located locate(double x) const {
    Located L;
    L.neg = std::signbit(x);
    if (std::isnan(x)) return L;
    if (std::isinf(x)) {
      L.kind = Located::inf;
      return L;
    }
    return locate(Exact::from_double(x), L.neg);
  }

  /// The same for an exact input (an accumulator or a product); `neg` is the
  /// sign of a zero input.
  Located locate(const Exact& x, bool neg) const {
    const Format& f = f_;
    Located L;
    L.neg = x.is_zero() ? neg : x.neg;
    L.X = x;
    const Exact& X = L.X;
    // Rules that come before rounding.
    if (f.kind == FormatKind::minifloat && f.specials == Specials::ristretto &&
        cmp_abs(X, values_[index_of_smallest_positive()].v) < 0) {
      L.kind = Located::flush;  // Ristretto: every magnitude below the smallest normal becomes 0
      L.flush_code = zero_code(false);
      return L;
    }
    if (f.kind == FormatKind::pow2 && !f.zero_code) {
      const Point& smallest = values_[index_of_smallest_positive()];
      if (cmp_abs(X, smallest.v) < 0) {  // +-2^exp_min; zero (either sign) gives +2^exp_min
        L.kind = Located::flush;
        L.flush_code = (X.neg ? uint64_t{1} << (f.bits - 1) : 0) | smallest.code;
        return L;
      }
    }
    if (X.is_zero()) {
      L.kind = Located::zero;
      return L;
    }
    if (cmp(X, grid_.back().v) >= 0 || cmp(X, grid_.front().v) <= 0) {
      L.kind = Located::outside;  // rounds to a grid point beyond the range
      return L;
    }
    const auto it =
        std::upper_bound(grid_.begin(), grid_.end(), X,
                         [](const Exact& v, const Point& p) { return cmp(v, p.v) < 0; });
    L.lo = &*(it - 1);
    L.hi = &*it;
    L.kind = cmp(L.lo->v, X) == 0 ? Located::exact : Located::between;
    return L;
  }

  /// Rounds a located input under a quantizer, as issue 2 section 2 defines.
  Result round(const Located& L, const Quantizer& q, uint64_t index = 0) const {
    switch (L.kind) {
      case Located::nan: {
        Result r = has_nan_ ? Result{nan_code(), false, false} : round(locate(0.0), q, index);
        r.nan = true;
        return r;
      }
      case Located::inf: {
        if (has_inf_ && q.overflow == Overflow::special)
          return Result{inf_code(L.neg), false, false};
        Quantizer qs = q;
        if (qs.overflow == Overflow::wrap) qs.overflow = Overflow::saturate;  // no residue
        return overflow(qs, L.neg, 0);
      }
      case Located::flush: return Result{L.flush_code, false, false};
      case Located::zero: return Result{zero_code(L.neg), false, false};
      case Located::outside: return overflow(q, L.X.neg, wrap_rounded(q, L.X, index));
      case Located::exact: return finite_result(*L.lo, L.neg);
      case Located::between: {
        const Point& chosen = choose(q, L.X, *L.lo, *L.hi, index) ? *L.hi : *L.lo;
        if (chosen.beyond) return overflow(q, L.X.neg, wrap_rounded(q, L.X, index));
        return finite_result(chosen, L.neg);
      }
    }
    throw std::runtime_error("oracle: bad location");
  }

  Result quantize(const Quantizer& q, double x, uint64_t index = 0) const {
    return round(locate(x), q, index);
  }

  /// The value a result code stands for, as a double (-0.0 for a negative zero code).
  double value_of(uint64_t code) const {
    const Decoded d = decode_code(f_, code);
    if (d.kind == Decoded::nan) return NAN;
    if (d.kind == Decoded::inf) return d.neg ? -HUGE_VAL : HUGE_VAL;
    if (d.value.is_zero()) return d.neg ? -0.0 : 0.0;
    return d.value.to_double();
  }

 private:
  Result finite_result(const Point& p, bool neg) const {
    if (p.v.is_zero()) return Result{zero_code(neg), false, false};
    return Result{p.code, false, false};
  }
  size_t index_of_smallest_positive() const { return smallest_positive_; }

  /// Takes hi (true) or lo (false), lo < X < hi.
  bool choose(const Quantizer& q, const Exact& X, const Point& lo, const Point& hi,
              uint64_t index) const {
    const Format& f = f_;
    const bool hi_is_larger = cmp_abs(hi.v, lo.v) > 0;  // hi has the larger magnitude
    switch (q.rounding) {
      case Rounding::toward_zero: return !hi_is_larger;
      case Rounding::down: return false;
      case Rounding::up: return true;
      case Rounding::stochastic: {
        // f = first R bits of (X - lo) / (hi - lo), truncated; hi iff f + r >= 2^R.
        // hi - lo = 2^d on every grid here, and lo is a multiple of 2^d, so
        // f = floor(X * 2^(R-d)) - lo * 2^(R-d), both integers of < 64 bits.
        const Exact den = sub(hi.v, lo.v);
        if (den.mag != 1) throw std::runtime_error("oracle: grid step is not a power of two");
        const int R = q.random_bits;
        const int s = R - den.exp;
        const __int128 fbits = floor_times_pow2(X, s) - floor_times_pow2(lo.v, s, true);
        if (fbits < 0 || fbits >= (static_cast<__int128>(1) << R))
          throw std::runtime_error("oracle: stochastic fraction out of range");
        const uint32_t r = random_r(q.seed, q.stream, index, R);
        return fbits + r >= (static_cast<__int128>(1) << R);
      }
      case Rounding::nearest_even:
      case Rounding::nearest_away: {
        int c;  // <0: X closer to lo, >0: closer to hi, 0: tie
        const bool log_rule = f.kind == FormatKind::pow2 &&
                              f.pow2_rounding == numeric::Pow2Rounding::log && !lo.v.is_zero() &&
                              !hi.v.is_zero();
        if (log_rule) {
          // nearest in log2|X|: |X| vs sqrt(|lo| |hi|)  <=>  X^2 vs |lo hi|
          const int s = cmp_square(X, mul(lo.v, hi.v));
          c = hi_is_larger ? s : -s;
        } else {
          c = cmp(X.times_pow2(1), add(lo.v, hi.v));  // 2X vs lo + hi
        }
        if (c != 0) return c > 0;
        if (q.rounding == Rounding::nearest_away || f.kind == FormatKind::pow2) return hi_is_larger;
        if (lo.lsb == 0 && hi.lsb == 0) return !hi_is_larger;  // both even: smaller magnitude
        return hi.lsb == 0;
      }
    }
    throw std::runtime_error("oracle: unknown rounding");
  }

  /// Fixed point with wrap: the rounded integer q of X * 2^FL on the unbounded
  /// grid, modulo 2^64 (only its low B bits are used). Zero otherwise.
  uint64_t wrap_rounded(const Quantizer& q, const Exact& X, uint64_t index) const {
    if (f_.kind != FormatKind::fixed || q.overflow != Overflow::wrap) return 0;
    const Exact Y = X.times_pow2(f_.fl);
    uint64_t t;  // |Y| rounded by the mode, mod 2^64
    if (Y.exp >= 0) {
      t = Y.exp >= 64 ? 0 : Y.mag << Y.exp;
    } else {
      const uint64_t fl = -Y.exp >= 64 ? 0 : Y.mag >> -Y.exp;  // floor |Y|
      // lo/hi on the integer grid, signed
      const Exact a = Exact::make(false, fl, 0),
                  b = Exact::make(false, static_cast<u128>(fl) + 1, 0);
      Point plo{Y.neg ? b.negate() : a, 0, 0, 0}, phi{Y.neg ? a.negate() : b, 0, 0, 0};
      plo.lsb = static_cast<int>((Y.neg ? fl + 1 : fl) & 1);
      phi.lsb = 1 - plo.lsb;
      const bool take_hi = choose(q, Y, plo, phi, index);
      t = (take_hi != Y.neg) ? fl + 1
                             : fl;  // larger magnitude iff (hi and positive) or (lo and negative)
    }
    return Y.neg ? uint64_t{0} - t : t;
  }

  Result overflow(const Quantizer& q, bool neg, uint64_t wrapped_q) const {
    const Format& f = f_;
    Result r;
    r.saturated = true;
    switch (q.overflow) {
      case Overflow::wrap:
        r.code = wrapped_q & ((f.bits >= 64 ? 0 : uint64_t{1} << f.bits) - 1);
        return r;
      case Overflow::special: {
        // IEEE 754 7.4: nearest and stochastic go to infinity; a directed rounding
        // goes to infinity only on the side it rounds toward.
        bool to_special = true;
        if (q.rounding == Rounding::toward_zero) to_special = false;
        if (q.rounding == Rounding::down && !neg) to_special = false;
        if (q.rounding == Rounding::up && neg) to_special = false;
        if (to_special) {
          if (has_inf_)
            r.code = inf_code(neg);
          else
            r.code = nan_code() | (neg ? uint64_t{1} << (f.exp_bits + f.mant_bits) : 0);
          return r;
        }
        break;
      }
      case Overflow::saturate: break;
    }
    r.code = neg ? values_.front().code : values_.back().code;
    return r;
  }

  Format f_;
  std::vector<Point> values_, grid_;
  size_t smallest_positive_ = 0;
  bool has_nan_ = false, has_inf_ = false;
};

}  // namespace ristsim::oracle
