// Bit growth: the widths the datapath needs, as functions of the formats.
// The datapath models (SystemC) and the RTL generator take their widths from
// here and nowhere else.
//
//   product   an m-bit by n-bit two's complement product is exactly m + n bits
//             with FL_a + FL_w fractional bits (fixed<8,4> * fixed<8,6> =
//             fixed<16,10>; only -2^(m-1) * -2^(n-1) needs the top bit).
//   sum       K values of width w need w + ceil(log2 K) bits (same FL); a
//             widening adder tree adds one bit per level.
//   exact     every value of a minifloat or power-of-two format is a fixed-point
//             number of exactly_fixed(format): the integer type a multiplier
//             array sees. The products of two formats are product_type(a, w),
//             which is one bit narrower than product_type of the two types when
//             a range is symmetric (minifloat, power of two).
//   aligned   a value moved onto the accumulator grid 2^-F: exact left shifts
//             grow by the shift, rounded right shifts keep bits - s (+1 when the
//             rounding can carry).
#pragma once

#include "bits.h"
#include "format.h"
#include "hd.h"
#include "quantize.h"

namespace ristsim::numeric {

/// A two's complement fixed-point type: `bits` wide, `fl` fractional bits.
struct FixedType {
  int bits = 0;
  int fl = 0;
  RISTSIM_HD bool operator==(const FixedType& o) const { return bits == o.bits && fl == o.fl; }
};

RISTSIM_HD constexpr FixedType product_type(FixedType a, FixedType w) {
  return FixedType{a.bits + w.bits, a.fl + w.fl};
}

RISTSIM_HD constexpr FixedType sum_type(FixedType t, uint64_t count) {
  return FixedType{t.bits + ceil_log2(count), t.fl};
}

/// Width of level `level` (0 = the inputs) of a widening adder tree.
RISTSIM_HD constexpr FixedType tree_level_type(FixedType inputs, int level) {
  return FixedType{inputs.bits + level, inputs.fl};
}

/// Number of levels of an adder tree over K inputs.
RISTSIM_HD constexpr int tree_levels(uint64_t k) { return ceil_log2(k); }

/// The fewest two's complement bits that hold the integer (-1)^neg * mag * 2^shift
/// (shift >= 0): 0 and -1 need 1 bit, 1 and -2 need 2, 2 needs 3.
inline int signed_width(bool neg, unsigned __int128 mag, int shift) {
  if (mag == 0) return 1;
  int msb = shift;
  for (unsigned __int128 m = mag; m >>= 1;) ++msb;
  const bool power_of_two = (mag & (mag - 1)) == 0;
  return neg && power_of_two ? msb + 1 : msb + 2;  // -2^k needs k + 1 bits, 2^k needs k + 2
}

/// The smallest two's complement fixed-point type that holds every finite value
/// of `f` exactly. Minifloat and power-of-two ranges are symmetric, so the type
/// also holds every negation; a fixed-point format is its own type (unsigned
/// fixed<B,FL> needs one bit more: the zero sign bit, fixed<B+1,FL>).
RISTSIM_HD inline FixedType exactly_fixed(const Format& f) {
  switch (f.kind) {
    case FormatKind::fixed:
      return FixedType{f.is_signed ? f.bits : f.bits + 1, f.fl};
    case FormatKind::minifloat: {
      // Quantum: the last mantissa bit of the smallest binade; top: the largest value.
      Dyadic lo, hi;
      decode_exact(f, f.specials == Specials::ristretto ? 0 : (f.subnormals ? 1 : uint64_t{1} << f.mant_bits), &lo);
      decode_exact(f, f.max_mag_code(), &hi);
      const int fl = -lo.exp;
      const int top = hi.exp + msb_index(hi.mag);  // max < 2^(top+1)
      return FixedType{top + fl + 2, fl};          // + sign bit
    }
    case FormatKind::pow2: {
      const int emn = f.exp_min();
      return FixedType{f.exp_max - emn + 2, -emn};  // magnitude up to 2^exp_max, plus sign
    }
  }
  return FixedType{};
}

/// The type of the exact products of two formats: FL = the sum of both
/// exactly_fixed() FLs, and the fewest bits that hold every product of two
/// finite values (the extremes are products of the operands' extremes).
/// Fixed x fixed is product_type of the two types: only -2^(m-1) * -2^(n-1)
/// needs the top bit. A minifloat or power-of-two range is symmetric, so that
/// corner is missing and the product is at least one bit narrower: E4M3 x E4M3
/// (fixed<19,9> each) is fixed<37,18>, since 448^2 * 2^18 < 2^36, not
/// fixed<38,18>; two power-of-two maxima multiply to a power of two, one bit
/// less again (pow2 of 4 bits, exponents -8..-1, fixed<9,8>, squared:
/// 2^-2 = 2^14 quanta, fixed<16,16>, not fixed<18,16>).
inline FixedType product_type(const Format& a, const Format& w) {
  const FixedType ta = exactly_fixed(a), tw = exactly_fixed(w);
  Dyadic ea[2], ew[2];  // minimum and maximum of each
  decode_exact(a, min_code(a), &ea[0]);
  decode_exact(a, max_code(a), &ea[1]);
  decode_exact(w, min_code(w), &ew[0]);
  decode_exact(w, max_code(w), &ew[1]);
  int bits = 1;
  for (const Dyadic& x : ea)
    for (const Dyadic& y : ew) {
      const unsigned __int128 mag = static_cast<unsigned __int128>(x.mag) * y.mag;
      const int b = signed_width(x.neg != y.neg, mag, x.exp + y.exp + ta.fl + tw.fl);
      bits = b > bits ? b : bits;
    }
  return FixedType{bits, ta.fl + tw.fl};
}

/// The type of a value of type t moved onto the grid 2^-F (a product or the
/// bias aligned onto the accumulator, docs/datapath.md step 2) with the
/// alignment rounding r. With s = t.fl - F:
///   s <= 0  an exact left shift by -s: t.bits - s bits
///           (fixed<16,10> on F = 12: fixed<18,12>).
///   s > 0   a right shift rounded by r. Rounding is monotonic, so the type's
///           extremes -2^(bits-1) and 2^(bits-1) - 1, rounded, bound every
///           value; the type is the fewest bits that hold both. down and
///           toward_zero keep bits - s (at least 1); up and the nearest modes
///           can carry into one bit more: fixed<10,7> on F = 5, 511 / 4 =
///           127.75 rounds to 128, which needs 9 bits = 10 - 2 + 1. Once every
///           value rounds to 0 or -1 one bit is enough (fixed<4,0> on F = -6,
///           nearest_even: 7 / 64 -> 0, -8 / 64 -> 0). Stochastic rounding may
///           take either neighbour: the floor of the minimum, the ceiling of the
///           maximum.
inline FixedType aligned_type(FixedType t, int frac_bits, Rounding r) {
  const int s = t.fl - frac_bits;
  if (s <= 0) return FixedType{t.bits - s, frac_bits};
  if (t.bits > 64) {
    // Wider than the 64-bit grid below. Rounding sees the same fractions when
    // the type and the shift shrink together (while the shift stays >= 2 and
    // the type >= 2 bits), and the maximum's kept bits end in ...011 or
    // ...01 once the type has s + 3 bits, so each further bit adds one.
    if (s >= 3) {
      const int k = s - 2 < t.bits - 2 ? s - 2 : t.bits - 2;
      return FixedType{aligned_type(FixedType{t.bits - k, t.fl - k}, frac_bits, r).bits, frac_bits};
    }
    const FixedType n = aligned_type(FixedType{s + 3, t.fl}, frac_bits, r);
    return FixedType{n.bits + t.bits - (s + 3), frac_bits};
  }
  Quantizer grid;  // the integers, on which the shifted extremes are rounded
  grid.format = Format::fixed_point(64, 0);
  grid.overflow = Overflow::wrap;
  const uint64_t top = uint64_t{1} << (t.bits - 1);
  grid.rounding = r == Rounding::stochastic ? Rounding::down : r;
  const int64_t lo = sign_extend(quantize(grid, Dyadic{true, top, -s}).code, 64);
  grid.rounding = r == Rounding::stochastic ? Rounding::up : r;
  const int64_t hi = sign_extend(quantize(grid, Dyadic{false, top - 1, -s}).code, 64);
  auto width = [](int64_t v) {
    return signed_width(v < 0, v < 0 ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v), 0);
  };
  const int bits = width(lo) > width(hi) ? width(lo) : width(hi);
  return FixedType{bits, frac_bits};
}

}  // namespace ristsim::numeric
