// A slow, independent oracle of the OCP MX v1.0 block formats (sim/numeric/mx.h).
//
// It shares nothing with the numeric core but the MxElement enum: element values
// come from the spec's field formulas written out here in doubles (sign, exponent
// field, mantissa, bias per type; MXINT8 a signed byte times 2^-6); rounding is a
// brute-force search over every finite code for the nearest value (ties to the
// even code, saturation at the largest normal); the shared exponent is found by
// stepping powers of two until 2^p <= max |V| < 2^(p+1). Tests only.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "numeric/mx.h"  // for the MxElement enum only

namespace ristsim::oracle {

/// One element type as the spec's table 1 describes it.
struct MxElementSpec {
  int bits = 8;            ///< code width
  int e = 4, m = 3, bias = 7;
  bool integer = false;    ///< MXINT8
  bool e4m3_nan = false;   ///< S.1111.111 is NaN (OFP8 E4M3)
  bool e5m2_specials = false;  ///< exponent field 31: inf (mantissa 0) / NaN
  int emax = 8;            ///< emax_elem
};

inline MxElementSpec mx_spec(numeric::MxElement t) {
  MxElementSpec s;
  switch (t) {
    case numeric::MxElement::e4m3: s = {8, 4, 3, 7, false, true, false, 8}; break;
    case numeric::MxElement::e5m2: s = {8, 5, 2, 15, false, false, true, 15}; break;
    case numeric::MxElement::e3m2: s = {6, 3, 2, 3, false, false, false, 4}; break;
    case numeric::MxElement::e2m3: s = {6, 2, 3, 1, false, false, false, 2}; break;
    case numeric::MxElement::e2m1: s = {4, 2, 1, 1, false, false, false, 2}; break;
    case numeric::MxElement::int8: s = {8, 0, 0, 0, true, false, false, 0}; break;
  }
  return s;
}

/// The value of an element code (NaN, +-inf where the type has them).
inline double mx_element_value(numeric::MxElement t, uint32_t code) {
  const MxElementSpec s = mx_spec(t);
  if (s.integer) {
    const int q = code >= 128 ? static_cast<int>(code) - 256 : static_cast<int>(code);
    return q / 64.0;
  }
  const bool neg = (code >> (s.bits - 1)) & 1;
  const int field = static_cast<int>(code >> s.m) & ((1 << s.e) - 1);
  const int mant = static_cast<int>(code) & ((1 << s.m) - 1);
  double v = 0;
  if (s.e4m3_nan && field == 15 && mant == 7) return NAN;
  if (s.e5m2_specials && field == 31) {
    if (mant != 0) return NAN;
    v = INFINITY;
  } else if (field == 0) {
    v = std::ldexp(mant / std::ldexp(1.0, s.m), 1 - s.bias);  // subnormal: 0.m * 2^(1-bias)
  } else {
    v = std::ldexp(1.0 + mant / std::ldexp(1.0, s.m), field - s.bias);  // 1.m * 2^(e-bias)
  }
  return neg ? -v : v;
}

/// The element code of t (a value already divided by the scale): the nearest
/// finite value, ties to the even code, saturated to the largest (smallest)
/// finite value. A zero result is +0, except E5M2 (IEEE specials), which keeps
/// the sign of a negative input (ristsim's documented rule, docs/formats.md).
inline uint32_t mx_element_code(numeric::MxElement t, double x) {
  if (!std::isfinite(x)) throw std::runtime_error("mx oracle: element input not finite");
  const MxElementSpec s = mx_spec(t);
  const uint32_t n = 1u << s.bits;
  uint32_t best = 0, max_c = 0, min_c = 0;
  double bestd = INFINITY, maxv = -INFINITY, minv = INFINITY;
  for (uint32_t c = 0; c < n; ++c) {
    const double v = mx_element_value(t, c);
    if (!std::isfinite(v)) continue;
    if (v > maxv) maxv = v, max_c = c;
    if (v < minv) minv = v, min_c = c;
  }
  if (x >= maxv) return max_c;
  if (x <= minv) return min_c;
  for (uint32_t c = 0; c < n; ++c) {
    const double v = mx_element_value(t, c);
    if (!std::isfinite(v)) continue;
    if (v == 0 && c != 0) continue;  // one zero: +0 (code 0) for now
    const double d = std::fabs(x - v);  // exact: both are close dyadics
    if (d < bestd || (d == bestd && (c & 1) == 0 && (best & 1) != 0)) bestd = d, best = c;
  }
  if (best == 0 && std::signbit(x) && s.e5m2_specials) best = 0x80;  // -0 (also of -0.0)
  return best;
}

/// The E8M0 scale code of a block's largest magnitude (finite, >= 0).
inline uint8_t mx_scale(numeric::MxElement t, double amax) {
  if (amax == 0) return 0;
  int p = 0;
  while (std::ldexp(1.0, p) > amax) --p;
  while (std::ldexp(1.0, p + 1) <= amax) ++p;
  int e = p - mx_spec(t).emax;
  if (e < -127) e = -127;
  if (e > 127) e = 127;
  return static_cast<uint8_t>(e + 127);
}

struct MxBlockResult {
  uint8_t scale = 0;
  std::vector<uint32_t> codes;
};

/// A block: scale 255 and zero codes if any input is NaN or infinite.
inline MxBlockResult mx_block(numeric::MxElement t, const std::vector<double>& x) {
  MxBlockResult r;
  r.codes.assign(x.size(), 0);
  double amax = 0;
  for (double v : x) {
    if (!std::isfinite(v)) {
      r.scale = 255;
      return r;
    }
    amax = std::fmax(amax, std::fabs(v));
  }
  r.scale = mx_scale(t, amax);
  for (size_t i = 0; i < x.size(); ++i)
    r.codes[i] = mx_element_code(t, std::ldexp(x[i], 127 - static_cast<int>(r.scale)));
  return r;
}

}  // namespace ristsim::oracle
