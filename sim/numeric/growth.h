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
//             array sees.
#pragma once

#include "bits.h"
#include "format.h"
#include "hd.h"

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

/// The smallest two's complement fixed-point type that holds every finite value
/// of `f` exactly. Minifloat and power-of-two ranges are symmetric, so the type
/// also holds every negation; a fixed-point format is its own type.
RISTSIM_HD inline FixedType exactly_fixed(const Format& f) {
  switch (f.kind) {
    case FormatKind::fixed:
      return FixedType{f.bits, f.fl};
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

}  // namespace ristsim::numeric
