// OCP Microscaling (MX) block formats (OCP Microscaling Formats (MX) Specification v1.0,
// 2023): a block of k = 32 elements shares one scale X.
//
//   scale      E8M0: an 8-bit unsigned biased exponent, X = 2^(code - 127) for codes 0..254
//              (2^-127 .. 2^127); code 255 is NaN. No zero, no sign, no infinity.
//   elements   each a code of the element type, value v_i = X * P_i:
//                type  name        layout             emax_elem  max normal  specials
//                e4m3  MXFP8 E4M3  OFP8 E4M3 (fn)     8          448         S.1111.111 NaN
//                e5m2  MXFP8 E5M2  OFP8 E5M2 (ieee)   15         57344       inf, NaN
//                e3m2  MXFP6 E3M2  bias 3, subnormals 4          28          none
//                e2m3  MXFP6 E2M3  bias 1, subnormals 2          7.5         none
//                e2m1  MXFP4 E2M1  bias 1, subnormals 2          6           none
//                int8  MXINT8      two's complement,  0          1.984375    none
//                                  implicit 2^-6 (fixed<8,6>: -2 .. 127/64)
//
// Quantizing a block (spec section 6.3, "conversion from scalar float to MX"):
//   shared_exp = floor(log2(max_i |V_i|)) - emax_elem, clamped to the scale's range
//                -127..127 (a block of zeros takes the smallest scale, code 0);
//   X          = 2^shared_exp;
//   P_i        = V_i / X rounded to the element type with round to nearest even and
//                saturation to the largest normal (the numeric core's quantize(), so
//                the element grids and ties are those of every other format here).
// A block that holds a NaN or an infinity gets the NaN scale (code 255): every element
// of it then decodes to NaN, and its element codes are 0.
//
// Example, MXFP4 (e2m1, emax 2): the block {1.0, -0.3, 5.0} has max 5, floor(log2 5) = 2,
// shared_exp = 0, X = 1 (code 127): 1.0 -> 1.0 (0x2), -0.3 -> -0.5 (0x9, the nearer of
// 0 and 0.5), 5.0 -> 4 (0x6; a tie between 4 and 6, 4 has the even code).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "bits.h"
#include "format.h"
#include "quantize.h"

namespace ristsim::numeric {

enum class MxElement : uint8_t { e4m3, e5m2, e3m2, e2m3, e2m1, int8 };

inline constexpr MxElement kAllMxElements[] = {MxElement::e4m3, MxElement::e5m2,
                                               MxElement::e3m2, MxElement::e2m3,
                                               MxElement::e2m1, MxElement::int8};

/// The element type's short name, as the arch YAML spells it: "e4m3", ..., "int8".
inline const char* to_string(MxElement e) {
  switch (e) {
    case MxElement::e4m3: return "e4m3";
    case MxElement::e5m2: return "e5m2";
    case MxElement::e3m2: return "e3m2";
    case MxElement::e2m3: return "e2m3";
    case MxElement::e2m1: return "e2m1";
    case MxElement::int8: return "int8";
  }
  return "?";
}

/// The spec's name of the MX format: "MXFP8 E4M3", ..., "MXINT8".
inline const char* mx_name(MxElement e) {
  switch (e) {
    case MxElement::e4m3: return "MXFP8 E4M3";
    case MxElement::e5m2: return "MXFP8 E5M2";
    case MxElement::e3m2: return "MXFP6 E3M2";
    case MxElement::e2m3: return "MXFP6 E2M3";
    case MxElement::e2m1: return "MXFP4 E2M1";
    case MxElement::int8: return "MXINT8";
  }
  return "?";
}

/// Parses an element name ("e4m3", ...); false if it is none of them.
inline bool parse_mx_element(const char* s, MxElement* out) {
  for (MxElement e : kAllMxElements) {
    const char* n = to_string(e);
    const char* p = s;
    while (*n && *n == *p) ++n, ++p;
    if (!*n && !*p) return *out = e, true;
  }
  return false;
}

/// E8M0 scale codes.
inline constexpr int kMxScaleBias = 127;
inline constexpr uint8_t kMxScaleNan = 255;
inline constexpr int kMxScaleExpMin = -127, kMxScaleExpMax = 127;
/// The spec's block size.
inline constexpr int kMxBlock = 32;

/// An MX format: the element type and the block size k (32 in the spec).
struct MxFormat {
  MxElement element = MxElement::e4m3;
  int block = kMxBlock;

  /// The element type as a numeric-core format.
  RISTSIM_HD Format element_format() const {
    switch (element) {
      case MxElement::e4m3: return Format::e4m3();
      case MxElement::e5m2: return Format::e5m2();
      case MxElement::e3m2: return Format::minifloat(3, 2, Specials::none, true);
      case MxElement::e2m3: return Format::minifloat(2, 3, Specials::none, true);
      case MxElement::e2m1: return Format::minifloat(2, 1, Specials::none, true);
      case MxElement::int8: return Format::fixed_point(8, 6);
    }
    return Format{};
  }
  /// The exponent of the largest power of two of the element type (spec table 1):
  /// e4m3 8, e5m2 15, e3m2 4, e2m3 2, e2m1 2, int8 0.
  RISTSIM_HD int emax_elem() const {
    switch (element) {
      case MxElement::e4m3: return 8;
      case MxElement::e5m2: return 15;
      case MxElement::e3m2: return 4;
      case MxElement::e2m3: return 2;
      case MxElement::e2m1: return 2;
      case MxElement::int8: return 0;
    }
    return 0;
  }
  /// Width of an element code (8, 6 or 4).
  RISTSIM_HD int element_bits() const { return element_format().bits; }
  /// Storage bits per element including the block's share of the 8-bit scale.
  double bits_per_element() const { return element_bits() + 8.0 / block; }
};

/// Checks an MX format; nullptr if valid. The block is 1..1024 elements (the spec: 32).
inline const char* validate(const MxFormat& f) {
  if (f.block < 1 || f.block > 1024) return "an MX block needs 1 to 1024 elements (the spec: 32)";
  return nullptr;
}

/// The quantizer of the elements: the element format, nearest even, saturate.
RISTSIM_HD inline Quantizer mx_element_quantizer(const MxFormat& f) {
  Quantizer q;
  q.format = f.element_format();
  q.rounding = Rounding::nearest_even;
  q.overflow = Overflow::saturate;
  return q;
}

/// The value of an E8M0 scale code: 2^(code - 127); NaN for 255.
RISTSIM_HD inline double mx_scale_value(uint8_t code) {
  return code == kMxScaleNan ? NAN : ::ldexp(1.0, static_cast<int>(code) - kMxScaleBias);
}

/// The scale code of a block whose largest magnitude is amax (finite, >= 0):
/// floor(log2 amax) - emax_elem + 127, clamped to 0..254; 0 for amax == 0.
RISTSIM_HD inline uint8_t mx_scale_code(const MxFormat& f, double amax) {
  if (!(amax > 0)) return 0;
  int e = 0;
  (void)::frexp(amax, &e);  // amax = m * 2^e, m in [0.5, 1): floor(log2 amax) = e - 1
  int s = e - 1 - f.emax_elem();
  if (s < kMxScaleExpMin) s = kMxScaleExpMin;
  if (s > kMxScaleExpMax) s = kMxScaleExpMax;
  return static_cast<uint8_t>(s + kMxScaleBias);
}

/// One element x quantized under the scale code `scale` (not NaN): the element
/// code of x / 2^(scale - 127), nearest even, saturated. `saturated` is set when
/// the element format's saturation acted.
RISTSIM_HD inline Quantized mx_quantize_element(const MxFormat& f, uint8_t scale, double x) {
  Dyadic d;
  const DoubleClass c = decompose(x, &d);
  const Quantizer q = mx_element_quantizer(f);
  if (c != DoubleClass::finite) return quantize(q, x);
  d.exp -= static_cast<int>(scale) - kMxScaleBias;  // exact: a division by a power of two
  return quantize(q, d);
}

/// Counts of one or more quantized blocks.
struct MxStats {
  uint64_t blocks = 0;
  uint64_t nan_blocks = 0;   ///< blocks that got the NaN scale
  uint64_t saturations = 0;  ///< elements clamped to the largest normal
};

/// Quantizes one block x[0..n) (n <= f.block): returns the E8M0 scale code and
/// writes the element codes (may be null) and the dequantized values X * P_i
/// (may be null; NaN for a NaN block). T is float or double.
template <class T>
RISTSIM_HD inline uint8_t mx_quantize_block(const MxFormat& f, const T* x, size_t n,
                                            uint32_t* codes, T* values, MxStats* stats = nullptr) {
  double amax = 0;
  bool special = false;
  for (size_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(x[i]);
    if (!(v == v) || v == HUGE_VAL || v == -HUGE_VAL) special = true;
    else if (::fabs(v) > amax) amax = ::fabs(v);
  }
  if (stats) ++stats->blocks;
  if (special) {
    if (stats) ++stats->nan_blocks;
    for (size_t i = 0; i < n; ++i) {
      if (codes) codes[i] = 0;
      if (values) values[i] = static_cast<T>(NAN);
    }
    return kMxScaleNan;
  }
  const uint8_t scale = mx_scale_code(f, amax);
  for (size_t i = 0; i < n; ++i) {
    const Quantized r = mx_quantize_element(f, scale, static_cast<double>(x[i]));
    if (codes) codes[i] = static_cast<uint32_t>(r.code);
    if (values)
      values[i] = static_cast<T>(::ldexp(r.value, static_cast<int>(scale) - kMxScaleBias));
    if (stats && r.saturated) ++stats->saturations;
  }
  return scale;
}

/// Quantizes x[0..n) as consecutive blocks of f.block elements (the last one may be
/// shorter): scales[b] for block b (may be null), codes and values as above (y may be x).
template <class T>
inline void mx_quantize_array(const MxFormat& f, const T* x, size_t n, uint8_t* scales,
                              uint32_t* codes, T* values, MxStats* stats = nullptr) {
  const size_t k = static_cast<size_t>(f.block);
  for (size_t b = 0, i = 0; i < n; ++b, i += k) {
    const size_t len = n - i < k ? n - i : k;
    const uint8_t s = mx_quantize_block(f, x + i, len, codes ? codes + i : nullptr,
                                        values ? values + i : nullptr, stats);
    if (scales) scales[b] = s;
  }
}

/// Fake quantization of one block (the float datapath's values only): y[i] = X * P_i,
/// the values mx_quantize_block() gives (numeric_mx_tests checks them bit for bit
/// against it), computed in double arithmetic: with t = x / X (exact), the element
/// grid's quantum q at |t| (2^(max(floor(log2|t|), emin) - M) for the minifloats,
/// 2^-6 for MXINT8), P = nearbyint(t / q) * q (the FPU's default rounding: nearest
/// even, and t / q is exact), clamped to the element's range. Returns the scale code.
template <class T>
inline uint8_t mx_fake_quantize_block(const MxFormat& f, const T* x, size_t n, T* y,
                                      MxStats* stats = nullptr) {
  double amax = 0;
  bool special = false;
  for (size_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(x[i]);
    if (!std::isfinite(v)) special = true;
    else if (std::fabs(v) > amax) amax = std::fabs(v);
  }
  if (stats) ++stats->blocks;
  if (special) {
    if (stats) ++stats->nan_blocks;
    for (size_t i = 0; i < n; ++i) y[i] = static_cast<T>(NAN);
    return kMxScaleNan;
  }
  const uint8_t scale = mx_scale_code(f, amax);
  const int s = static_cast<int>(scale) - kMxScaleBias;
  const Format e = f.element_format();
  const double hi = max_value(e), lo = min_value(e);
  const bool integer = e.kind == FormatKind::fixed;
  const int emin = integer ? 0 : e.emin();
  for (size_t i = 0; i < n; ++i) {
    const double t = std::ldexp(static_cast<double>(x[i]), -s);
    double r = 0;
    if (t != 0) {
      int ex = 0;
      (void)std::frexp(t, &ex);
      const int qe = integer ? -e.fl : (ex - 1 > emin ? ex - 1 : emin) - e.mant_bits;
      r = std::ldexp(std::nearbyint(std::ldexp(t, -qe)), qe);
    }
    if (r > hi || r < lo) {
      r = r > hi ? hi : lo;
      if (stats) ++stats->saturations;
    }
    y[i] = static_cast<T>(std::ldexp(r, s));
  }
  return scale;
}

/// mx_fake_quantize_block over consecutive blocks of x[0..n) (y may be x).
template <class T>
inline void mx_fake_quantize_array(const MxFormat& f, const T* x, size_t n, T* y,
                                   MxStats* stats = nullptr) {
  const size_t k = static_cast<size_t>(f.block);
  for (size_t i = 0; i < n; i += k) mx_fake_quantize_block(f, x + i, n - i < k ? n - i : k, y + i, stats);
}

/// The exact value of element `code` under scale code `scale`: false for a NaN
/// scale or an inf/NaN element code.
RISTSIM_HD inline bool mx_decode_exact(const MxFormat& f, uint8_t scale, uint32_t code,
                                       Dyadic* out) {
  if (scale == kMxScaleNan) return false;
  if (!decode_exact(f.element_format(), code, out)) return false;
  out->exp += static_cast<int>(scale) - kMxScaleBias;
  return true;
}

/// The value of element `code` under scale code `scale` (NaN for a NaN scale;
/// the element's own inf/NaN otherwise).
RISTSIM_HD inline double mx_decode(const MxFormat& f, uint8_t scale, uint32_t code) {
  if (scale == kMxScaleNan) return NAN;
  return ::ldexp(decode(f.element_format(), code), static_cast<int>(scale) - kMxScaleBias);
}

}  // namespace ristsim::numeric
