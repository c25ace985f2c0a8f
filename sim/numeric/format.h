// Number formats of the datapath: what each code means.
//
//   fixed      two's complement, B bits (1..32 for storage; the core accepts up to
//              64 for accumulators), fractional length FL (any integer):
//              value = q * 2^-FL, q in [-2^(B-1), 2^(B-1) - 1], code = q as B bits.
//              Unsigned (is_signed false, 1..63 bits): q in [0, 2^B - 1], code = q;
//              negative inputs overflow (saturate to 0, or wrap modulo 2^B).
//   minifloat  sign, E exponent bits (2..8), M mantissa bits (0..23), bias
//              (default 2^(E-1) - 1). code = sign << (E+M) | field << M | mantissa.
//              Field 0 holds zero and, with subnormals on, mantissa * 2^(1-bias-M).
//              Field j >= 1 is the normal (2^M + mantissa) * 2^(j-bias-M).
//              Specials: none (no inf/NaN; every nonzero field is normal),
//              ieee (all-ones field: inf / NaN), fn (OCP E4M3 style: only the
//              all-ones code is NaN, no inf), ristretto (Ristretto's minifloat:
//              field 0 is normal too, with value (2^M + m) * 2^(-bias-M); zero is
//              the one extra code 1 << (1+E+M); magnitudes below 2^-bias flush to 0).
//   pow2       sign + (B-1)-bit exponent field, exponents up to exp_max.
//              Without a zero code: field j is 2^(exp_min + j), exp_min =
//              exp_max - (2^(B-1) - 1). With a zero code: field 0 is zero and
//              field j >= 1 is 2^(exp_min + j - 1), exp_min = exp_max - (2^(B-1) - 2).
//              code = sign << (B-1) | field.
#pragma once

#include <climits>
#include <cmath>
#include <cstdint>

#include "bits.h"
#include "rounding.h"
#include "hd.h"

namespace ristsim::numeric {

enum class FormatKind : uint8_t { fixed, minifloat, pow2 };
enum class Specials : uint8_t { none, ieee, fn, ristretto };
enum class Pow2Rounding : uint8_t { value, log };

inline const char* to_string(FormatKind k) {
  switch (k) {
    case FormatKind::fixed: return "fixed";
    case FormatKind::minifloat: return "minifloat";
    case FormatKind::pow2: return "pow2";
  }
  return "?";
}
inline const char* to_string(Specials s) {
  switch (s) {
    case Specials::none: return "none";
    case Specials::ieee: return "ieee";
    case Specials::fn: return "fn";
    case Specials::ristretto: return "ristretto";
  }
  return "?";
}
inline const char* to_string(Pow2Rounding r) { return r == Pow2Rounding::log ? "log" : "value"; }

/// A number format: a small value type whose parameters are explicit.
struct Format {
  FormatKind kind = FormatKind::fixed;
  int bits = 8;  ///< fixed: B; pow2: B (sign + field); minifloat: 1 + E + M (derived)
  int fl = 0;    ///< fixed: fractional length
  bool is_signed = true;  ///< fixed: two's complement (true) or unsigned (false)
  int exp_bits = 0, mant_bits = 0, bias = 0;  ///< minifloat
  bool subnormals = false;                    ///< minifloat
  Specials specials = Specials::none;         ///< minifloat
  int exp_max = -1;                           ///< pow2: largest exponent
  bool zero_code = false;                     ///< pow2: field 0 means zero
  Pow2Rounding pow2_rounding = Pow2Rounding::value;  ///< pow2: nearest by value or by log2

  RISTSIM_HD static Format fixed_point(int bits, int fl, bool is_signed = true) {
    Format f;
    f.kind = FormatKind::fixed;
    f.bits = bits;
    f.fl = fl;
    f.is_signed = is_signed;
    return f;
  }
  /// Unsigned fixed point: B bits, values q * 2^-FL, q in [0, 2^B - 1].
  RISTSIM_HD static Format unsigned_fixed_point(int bits, int fl) {
    return fixed_point(bits, fl, false);
  }
  static int default_bias(int exp_bits) { return (1 << (exp_bits - 1)) - 1; }
  static Format minifloat(int exp_bits, int mant_bits, Specials sp = Specials::none,
                          bool subnormals = false) {
    return minifloat(exp_bits, mant_bits, sp, subnormals,
                     exp_bits >= 1 && exp_bits <= 30 ? default_bias(exp_bits) : 0);
  }
  static Format minifloat(int exp_bits, int mant_bits, Specials sp, bool subnormals, int bias) {
    Format f;
    f.kind = FormatKind::minifloat;
    f.exp_bits = exp_bits;
    f.mant_bits = mant_bits;
    // Sign + exponent + mantissa, saturated to int's range so that out-of-range field widths
    // (a user's --mant-bits 2147483647) reach validate() instead of overflowing here.
    const long long bits = 1LL + exp_bits + mant_bits;
    f.bits = bits > INT_MAX ? INT_MAX : bits < INT_MIN ? INT_MIN : static_cast<int>(bits);
    f.bias = bias;
    f.subnormals = subnormals;
    f.specials = sp;
    return f;
  }
  /// OCP FP8 E4M3: fn specials, subnormals, max 448.
  static Format e4m3() { return minifloat(4, 3, Specials::fn, true); }
  /// OCP FP8 E5M2: IEEE specials, subnormals, max 57344.
  static Format e5m2() { return minifloat(5, 2, Specials::ieee, true); }
  static Format pow2(int bits, int exp_max = -1, bool zero_code = false,
                     Pow2Rounding r = Pow2Rounding::value) {
    Format f;
    f.kind = FormatKind::pow2;
    f.bits = bits;
    f.exp_max = exp_max;
    f.zero_code = zero_code;
    f.pow2_rounding = r;
    return f;
  }

  // ---- derived quantities (valid formats only) ----
  /// Width of the code the hardware stores (ristretto minifloat: one more, for zero).
  RISTSIM_HD int code_bits() const {
    return kind == FormatKind::minifloat && specials == Specials::ristretto ? bits + 1 : bits;
  }
  /// minifloat: exponent of the smallest normal binade.
  RISTSIM_HD int emin() const { return specials == Specials::ristretto ? -bias : 1 - bias; }
  /// minifloat: the largest magnitude code (field << M | mantissa).
  RISTSIM_HD uint64_t max_mag_code() const {
    switch (kind) {
      case FormatKind::fixed: return (uint64_t{1} << (is_signed ? bits - 1 : bits)) - 1;
      case FormatKind::pow2: return (uint64_t{1} << (bits - 1)) - 1;
      case FormatKind::minifloat: {
        const uint64_t all = (uint64_t{1} << (exp_bits + mant_bits)) - 1;
        if (specials == Specials::ieee) return all - (uint64_t{1} << mant_bits);  // field 2^E-2
        if (specials == Specials::fn) return all - 1;
        return all;
      }
    }
    return 0;
  }
  /// The largest magnitude code of a negative value: 2^(B-1) for two's complement,
  /// 0 for unsigned fixed point (no negative values), max_mag_code() for the
  /// sign-magnitude formats (their ranges are symmetric).
  RISTSIM_HD uint64_t max_neg_mag_code() const {
    if (kind != FormatKind::fixed) return max_mag_code();
    return is_signed ? uint64_t{1} << (bits - 1) : 0;
  }
  /// pow2: the smallest exponent.
  RISTSIM_HD int exp_min() const {
    const int fields = 1 << (bits - 1);
    return zero_code ? exp_max - (fields - 2) : exp_max - (fields - 1);
  }
  RISTSIM_HD bool has_inf() const {
    return kind == FormatKind::minifloat && specials == Specials::ieee;
  }
  RISTSIM_HD bool has_nan() const {
    return kind == FormatKind::minifloat && (specials == Specials::ieee || specials == Specials::fn);
  }
};

/// Checks a format's parameters. Returns nullptr if valid, else what is wrong.
inline const char* validate(const Format& f) {
  switch (f.kind) {
    case FormatKind::fixed:
      if (f.bits < 1 || f.bits > 64) return "fixed point needs 1 to 64 bits (storage: 1 to 32)";
      if (!f.is_signed && f.bits > 63) return "unsigned fixed point needs 1 to 63 bits";
      if (f.fl < -512 || f.fl > 512) return "fixed point fractional length must be in -512..512";
      return nullptr;
    case FormatKind::minifloat:
      if (f.exp_bits < 2 || f.exp_bits > 8) return "minifloat needs 2 to 8 exponent bits";
      if (f.mant_bits < 0 || f.mant_bits > 23) return "minifloat needs 0 to 23 mantissa bits";
      if (f.bias < -256 || f.bias > 512) return "minifloat bias must be in -256..512";
      if (f.specials == Specials::ieee && f.mant_bits < 1)
        return "minifloat with ieee specials needs at least 1 mantissa bit (NaN needs one)";
      if (f.specials == Specials::ristretto && f.subnormals)
        return "the ristretto minifloat variant has no subnormals (set subnormals off)";
      if (f.specials == Specials::fn && f.exp_bits + f.mant_bits < 2)
        return "minifloat with fn specials needs a finite value besides NaN";
      return nullptr;
    case FormatKind::pow2:
      if (f.bits < 2 || f.bits > 10) return "power-of-two format needs 2 to 10 bits";
      if (f.exp_max < -500 || f.exp_max > 500) return "power-of-two exp_max must be in -500..500";
      return nullptr;
  }
  return "unknown format kind";
}

/// Checks that an overflow mode makes sense for a (valid) format.
inline const char* validate(const Format& f, Overflow o) {
  if (o == Overflow::wrap && f.kind != FormatKind::fixed)
    return "overflow 'wrap' is defined for fixed point only";
  if (o == Overflow::special && !f.has_nan())
    return "overflow 'special' needs a minifloat with ieee or fn specials";
  return nullptr;
}

/// The exact value of a code, as a dyadic (sign, magnitude, exponent).
/// Returns false for the codes of infinity and NaN.
RISTSIM_HD inline bool decode_exact(const Format& f, uint64_t code, Dyadic* out) {
  switch (f.kind) {
    case FormatKind::fixed: {
      if (!f.is_signed) {
        out->neg = false;
        out->mag = code & low_mask(f.bits);
        out->exp = -f.fl;
        return true;
      }
      const int64_t q = sign_extend(code, f.bits);
      out->neg = q < 0;
      out->mag = q < 0 ? uint64_t{0} - static_cast<uint64_t>(q) : static_cast<uint64_t>(q);
      out->exp = -f.fl;
      return true;
    }
    case FormatKind::minifloat: {
      const int em = f.exp_bits + f.mant_bits;
      if (f.specials == Specials::ristretto && (code >> (em + 1)) & 1) {
        *out = Dyadic{};
        return true;
      }
      out->neg = (code >> em) & 1;
      const uint64_t mag = code & low_mask(em);
      const uint64_t field = mag >> f.mant_bits;
      const uint64_t mant = mag & low_mask(f.mant_bits);
      const uint64_t all_fields = low_mask(f.exp_bits);
      if (f.specials == Specials::ieee && field == all_fields) return false;
      if (f.specials == Specials::fn && mag == low_mask(em)) return false;
      if (f.specials == Specials::ristretto) {
        out->mag = (uint64_t{1} << f.mant_bits) | mant;
        out->exp = static_cast<int>(field) - f.bias - f.mant_bits;
      } else if (field == 0) {
        out->mag = f.subnormals ? mant : 0;
        out->exp = f.emin() - f.mant_bits;
      } else {
        out->mag = (uint64_t{1} << f.mant_bits) | mant;
        out->exp = static_cast<int>(field) - f.bias - f.mant_bits;
      }
      return true;
    }
    case FormatKind::pow2: {
      const uint64_t field = code & low_mask(f.bits - 1);
      out->neg = (code >> (f.bits - 1)) & 1;
      if (f.zero_code && field == 0) {
        out->neg = false;
        out->mag = 0;
        out->exp = 0;
        return true;
      }
      out->mag = 1;
      out->exp = f.exp_min() + static_cast<int>(field) - (f.zero_code ? 1 : 0);
      return true;
    }
  }
  return false;
}

/// The value of a code as a double (exact for every storage format).
RISTSIM_HD inline double decode(const Format& f, uint64_t code) {
  Dyadic d;
  if (decode_exact(f, code, &d)) return to_double(d.mag, d.exp, d.neg);
  const int em = f.exp_bits + f.mant_bits;
  const bool neg = (code >> em) & 1;
  if (f.specials == Specials::ieee && (code & low_mask(f.mant_bits)) == 0)
    return neg ? -HUGE_VAL : HUGE_VAL;
  return NAN;
}

/// The code of the largest finite value.
RISTSIM_HD inline uint64_t max_code(const Format& f) { return f.max_mag_code(); }

/// The code of the most negative finite value.
RISTSIM_HD inline uint64_t min_code(const Format& f) {
  if (f.kind == FormatKind::fixed) return f.is_signed ? uint64_t{1} << (f.bits - 1) : 0;
  return (uint64_t{1} << (f.bits - 1)) | f.max_mag_code();
}

/// The integer q of a fixed-point code (value q * 2^-FL): the B-bit pattern read
/// as two's complement, or as an unsigned number for unsigned fixed point
/// (fixed<8,0> code 0xff: -1; unsigned: 255).
RISTSIM_HD inline int64_t fixed_integer(const Format& f, uint64_t code) {
  return f.is_signed ? sign_extend(code, f.bits) : static_cast<int64_t>(code & low_mask(f.bits));
}

RISTSIM_HD inline double max_value(const Format& f) { return decode(f, max_code(f)); }
RISTSIM_HD inline double min_value(const Format& f) { return decode(f, min_code(f)); }

/// The smallest positive value (the quantum of fixed point).
RISTSIM_HD inline double smallest_positive(const Format& f) {
  switch (f.kind) {
    case FormatKind::fixed: return decode(f, 1);
    case FormatKind::pow2: return decode(f, f.zero_code ? 1 : 0);
    case FormatKind::minifloat:
      if (f.specials == Specials::ristretto) return decode(f, 0);
      return decode(f, f.subnormals ? 1 : uint64_t{1} << f.mant_bits);
  }
  return 0;
}

}  // namespace ristsim::numeric
