// Exact dyadic numbers and the integer helpers of the numeric core.
//
// Every value the core handles is a dyadic rational (-1)^neg * mag * 2^exp with
// a 64-bit integer magnitude. Doubles decompose into one exactly, and so do the
// products and accumulator contents of the datapath. Rounding then works on
// integers only (SoftFloat's "exact intermediate, then round once").
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "hd.h"

namespace ristsim::numeric {

/// An exact value (-1)^neg * mag * 2^exp.
struct Dyadic {
  bool neg = false;
  uint64_t mag = 0;
  int exp = 0;
};

/// ceil(log2(n)) for n >= 1; ceil_log2(1) == 0, ceil_log2(3) == 2, ceil_log2(4) == 2.
RISTSIM_HD constexpr int ceil_log2(uint64_t n) {
  int r = 0;
  while (r < 64 && (uint64_t{1} << r) < n) ++r;
  return r;
}

/// Index of the most significant set bit (x != 0): msb_index(1) == 0, msb_index(6) == 2.
RISTSIM_HD constexpr int msb_index(uint64_t x) {
  int r = 0;
  while (x >>= 1) ++r;
  return r;
}

/// x << s, or 0 when s >= 64 (the C++ shift is undefined there).
RISTSIM_HD constexpr uint64_t shl(uint64_t x, int s) { return s >= 64 ? 0 : x << s; }
/// x >> s, or 0 when s >= 64.
RISTSIM_HD constexpr uint64_t shr(uint64_t x, int s) { return s >= 64 ? 0 : x >> s; }
/// The low n bits set (n in 0..64).
RISTSIM_HD constexpr uint64_t low_mask(int n) { return n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1; }

/// Sign-extends the low `bits` bits of `code` (bits in 1..64).
RISTSIM_HD constexpr int64_t sign_extend(uint64_t code, int bits) {
  const uint64_t m = low_mask(bits);
  code &= m;
  if (bits < 64 && (code >> (bits - 1)) & 1) code |= ~m;
  return static_cast<int64_t>(code);
}

enum class DoubleClass : uint8_t { finite, infinite, nan };

/// Decomposes a double exactly. Zero gives mag == 0 (neg keeps the sign of -0.0).
RISTSIM_HD inline DoubleClass decompose(double x, Dyadic* out) {
  uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  const bool neg = (b >> 63) != 0;
  const int field = static_cast<int>((b >> 52) & 0x7ff);
  const uint64_t frac = b & low_mask(52);
  out->neg = neg;
  if (field == 0x7ff) {
    out->mag = 0;
    out->exp = 0;
    return frac ? DoubleClass::nan : DoubleClass::infinite;
  }
  if (field == 0) {
    out->mag = frac;
    out->exp = -1074;
  } else {
    out->mag = frac | (uint64_t{1} << 52);
    out->exp = field - 1075;
  }
  return DoubleClass::finite;
}

/// mag * 2^exp as a double, rounded to nearest even if it does not fit (only the
/// datapath's wide accumulators can exceed 53 bits; storage formats never do).
RISTSIM_HD inline double to_double(uint64_t mag, int exp, bool neg) {
  // The uint64 -> double conversion rounds to nearest even; ldexp is exact
  // unless the result leaves the double range.
  const double v = ::ldexp(static_cast<double>(mag), exp);
  return neg ? -v : v;
}

}  // namespace ristsim::numeric
