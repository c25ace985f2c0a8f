// Drives the numeric core and the oracle with the same inputs and compares them
// bit for bit: code, value bits, saturated and nan flags.
//
// Inputs for a format: every representable value, every midpoint of two
// neighbours (including the neighbours beyond the range), the quarter points,
// the doubles just either side of each of those (std::nextafter), and fixed
// extremes (0, -0, +-inf, NaN, +-1e300, +-1e-300, +-DBL_MAX, +-denorm_min).
// Power-of-two formats also get the doubles around sqrt(2) * 2^k (the log
// rounding boundary). Formats with more grid points than `max_points` are
// sampled: the lowest, highest and around-zero stretches in full plus a seeded
// random subset of the rest (the seed is printed with any failure).
#pragma once

#include <gtest/gtest.h>

#include <cfloat>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "numeric/numeric.h"
#include "oracle.h"

namespace ristsim::testing {

using namespace ristsim::numeric;
using oracle::Exact;
using oracle::Oracle;

inline uint64_t bits_of(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

/// Two doubles are the same result: identical bits, or both NaN.
inline bool same_value(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || bits_of(a) == bits_of(b);
}

inline std::string describe(const Format& f) {
  char buf[160];
  switch (f.kind) {
    case FormatKind::fixed:
      std::snprintf(buf, sizeof buf, "%sfixed<%d,%d>", f.is_signed ? "" : "u", f.bits, f.fl);
      break;
    case FormatKind::minifloat:
      std::snprintf(buf, sizeof buf, "minifloat<E%d,M%d,bias %d,%s,subnormals %s>", f.exp_bits,
                    f.mant_bits, f.bias, to_string(f.specials), f.subnormals ? "on" : "off");
      break;
    case FormatKind::pow2:
      std::snprintf(buf, sizeof buf, "pow2<%d bits,exp_max %d,zero code %s,%s>", f.bits, f.exp_max,
                    f.zero_code ? "on" : "off", to_string(f.pow2_rounding));
      break;
  }
  return buf;
}

inline std::string describe(const Quantizer& q) {
  char buf[300];
  std::snprintf(buf, sizeof buf, "%s %s %s", describe(q.format).c_str(), to_string(q.rounding),
                to_string(q.overflow));
  std::string s = buf;
  if (q.rounding == Rounding::stochastic)
    s += " seed " + std::to_string(q.seed) + " stream " + std::to_string(q.stream) + " R " +
         std::to_string(q.random_bits);
  return s;
}

/// Overflow modes the issue defines for a format: wrap for fixed point, special
/// where the format has a NaN (ieee, fn). Written from the issue, not from validate().
inline std::vector<Overflow> valid_overflows(const Format& f) {
  std::vector<Overflow> v{Overflow::saturate};
  if (f.kind == FormatKind::fixed) v.push_back(Overflow::wrap);
  if (f.kind == FormatKind::minifloat &&
      (f.specials == Specials::ieee || f.specials == Specials::fn))
    v.push_back(Overflow::special);
  return v;
}

/// Every rounding with every valid overflow; stochastic three times (R = 16 with
/// two keys, and R = 3 so that truncating f to R bits matters).
inline std::vector<Quantizer> all_quantizers(const Format& f) {
  std::vector<Quantizer> v;
  for (Overflow o : valid_overflows(f)) {
    for (Rounding r : {Rounding::nearest_even, Rounding::nearest_away, Rounding::toward_zero,
                       Rounding::down, Rounding::up, Rounding::stochastic}) {
      Quantizer q;
      q.format = f;
      q.rounding = r;
      q.overflow = o;
      q.seed = 12345;
      q.stream = 7;
      v.push_back(q);
      if (r == Rounding::stochastic) {
        q.seed = 0xDEADBEEF;
        q.stream = 0;
        q.random_bits = 3;
        v.push_back(q);
        q.random_bits = 32;
        v.push_back(q);
      }
    }
  }
  return v;
}

/// Adds x and the doubles just either side of it.
inline void add_with_neighbours(std::vector<double>* out, double x) {
  out->push_back(x);
  out->push_back(std::nextafter(x, -HUGE_VAL));
  out->push_back(std::nextafter(x, HUGE_VAL));
}

/// The test inputs of a format (see the file comment). `seed` picks the sample.
inline std::vector<double> test_inputs(const Format& f, const Oracle& o, size_t max_points,
                                       uint64_t seed) {
  const auto& g = o.grid();
  const size_t n = g.size();
  std::vector<size_t> idx;
  if (n <= max_points) {
    for (size_t i = 0; i < n; ++i) idx.push_back(i);
  } else {
    const size_t edge = max_points / 8;
    size_t zero_at = 0;
    while (zero_at < n && g[zero_at].v.neg) ++zero_at;
    std::mt19937_64 rng(seed);
    for (size_t i = 0; i < n; ++i) {
      const bool keep = i < edge || i + edge >= n || (i + edge >= zero_at && i < zero_at + edge) ||
                        rng() % n < max_points / 2;
      if (keep) idx.push_back(i);
    }
  }
  std::vector<double> xs;
  for (size_t i : idx) {
    const Exact& a = g[i].v;
    add_with_neighbours(&xs, a.to_double());
    if (i + 1 < n) {
      const Exact& b = g[i + 1].v;
      const Exact sum = oracle::add(a, b);
      add_with_neighbours(&xs, sum.times_pow2(-1).to_double());      // midpoint
      xs.push_back(oracle::add(sum, a).times_pow2(-2).to_double());  // (3a + b) / 4
      xs.push_back(oracle::add(sum, b).times_pow2(-2).to_double());  // (a + 3b) / 4
      if (f.kind == FormatKind::pow2 && !a.is_zero() && !b.is_zero()) {
        const double lo = std::fmin(std::fabs(a.to_double()), std::fabs(b.to_double()));
        const double s = lo * std::sqrt(2.0);
        add_with_neighbours(&xs, a.neg ? -s : s);
      }
    }
  }
  for (double x : {0.0, -0.0, HUGE_VAL, -HUGE_VAL, 1e300, -1e300, 1e-300, -1e-300, DBL_MAX,
                   -DBL_MAX, DBL_TRUE_MIN, -DBL_TRUE_MIN, 1.0, -1.0, 2.5, -2.5, -0.3, 1e9})
    xs.push_back(x);
  const double top = g.back().v.to_double();
  for (double k : {2.0, 3.0, 1024.0, 1e6}) {
    xs.push_back(top * k);
    xs.push_back(-top * k);
  }
  xs.push_back(NAN);
  return xs;
}

struct CheckStats {
  uint64_t comparisons = 0;
  uint64_t mismatches = 0;
};

/// Compares core and oracle on every input under every quantizer of a format.
/// Reports the first few mismatches through ADD_FAILURE.
inline CheckStats check_format(const Format& f, size_t max_points = 1u << 30,
                               uint64_t seed = 20261123) {
  CheckStats st;
  if (const char* e = validate(f)) {
    ADD_FAILURE() << describe(f) << ": core rejects a valid format: " << e;
    return st;
  }
  const Oracle o(f);
  const std::vector<double> xs = test_inputs(f, o, max_points, seed);
  const std::vector<Quantizer> qs = all_quantizers(f);
  for (const Quantizer& q : qs)
    if (const char* e = validate(q)) ADD_FAILURE() << describe(q) << ": core rejects: " << e;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double x = xs[i];
    const Oracle::Located L = o.locate(x);
    for (const Quantizer& q : qs) {
      const uint64_t index = i * 2654435761u;  // varied element indices for stochastic
      const oracle::Result want = o.round(L, q, index);
      const Quantized got = quantize(q, x, index);
      const double want_value = o.value_of(want.code);
      ++st.comparisons;
      if (got.code != want.code || got.saturated != want.saturated || got.nan != want.nan ||
          !same_value(got.value, want_value)) {
        if (++st.mismatches <= 12)
          ADD_FAILURE() << describe(q) << " x=" << x << " (" << std::hexfloat << x
                        << std::defaultfloat << ") index " << index << ": core code 0x" << std::hex
                        << got.code << " oracle 0x" << want.code << std::dec << ", value "
                        << got.value << " vs " << want_value << ", saturated " << got.saturated
                        << " vs " << want.saturated << ", nan " << got.nan << " vs " << want.nan
                        << " (sample seed " << seed << ")";
      }
    }
  }
  return st;
}

/// Exact inputs with up to 64 significant bits (what accumulators hand to the
/// core): random points between neighbours of the grid, and points one unit of
/// 2^-40 of a step either side of each midpoint, compared with the oracle.
inline CheckStats check_wide_inputs(const Format& f, int per_gap, uint64_t seed) {
  CheckStats st;
  const Oracle o(f);
  const auto& g = o.grid();
  const std::vector<Quantizer> qs = all_quantizers(f);
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i + 1 < g.size(); ++i) {
    const Exact a = g[i].v;
    const int d = oracle::sub(g[i + 1].v, a).exp;  // the step is 2^d
    for (int k = 0; k < per_gap + 2; ++k) {
      uint64_t r = rng() >> 24;                       // 40 random bits
      if (k == per_gap) r = (uint64_t{1} << 39) - 1;  // just below the midpoint
      if (k == per_gap + 1) r = (uint64_t{1} << 39) + 1;
      const Exact x = oracle::add(a, Exact::make(false, r, d - 40));
      const Oracle::Located L = o.locate(x, false);
      const Dyadic dx{x.neg, x.mag, x.exp};
      for (const Quantizer& q : qs) {
        const uint64_t index = rng();
        const oracle::Result want = o.round(L, q, index);
        const Quantized got = quantize(q, dx, index);
        ++st.comparisons;
        if ((got.code != want.code || got.saturated != want.saturated) && ++st.mismatches <= 10)
          ADD_FAILURE() << describe(q) << " x = " << (x.neg ? "-" : "") << x.mag << " * 2^" << x.exp
                        << " index " << index << ": core 0x" << std::hex << got.code << " oracle 0x"
                        << want.code << std::dec << " saturated " << got.saturated << " vs "
                        << want.saturated << " (seed " << seed << ")";
      }
    }
  }
  return st;
}

/// Monotonicity of the core for every non-stochastic quantizer: inputs sorted
/// ascending give non-decreasing values. Wrap-around is not monotonic by
/// design and is left out; NaN results (fn formats overflowing under `special`)
/// are outside the order and skipped.
inline uint64_t check_monotonic(const Format& f, size_t max_points = 1u << 30) {
  const Oracle o(f);
  std::vector<double> xs = test_inputs(f, o, max_points, 1);
  xs.erase(std::remove_if(xs.begin(), xs.end(), [](double x) { return std::isnan(x); }), xs.end());
  std::sort(xs.begin(), xs.end());
  uint64_t checks = 0, bad = 0;
  for (const Quantizer& q : all_quantizers(f)) {
    if (q.rounding == Rounding::stochastic || q.overflow == Overflow::wrap) continue;
    double prev = -HUGE_VAL;
    double prev_x = -HUGE_VAL;
    for (double x : xs) {
      const double v = quantize(q, x).value;
      if (std::isnan(v)) continue;
      ++checks;
      if (v < prev && ++bad <= 5)
        ADD_FAILURE() << describe(q) << ": not monotonic: q(" << prev_x << ") = " << prev << " > q("
                      << x << ") = " << v;
      prev = v;
      prev_x = x;
    }
  }
  return checks;
}

/// For every code: the core's decode equals the oracle's, and quantizing the
/// decoded value gives the code back (its canonical form: one zero code, the
/// canonical NaN) under every quantizer, without a flag.
inline uint64_t check_codes(const Format& f) {
  const Oracle o(f);
  const int cb = oracle::code_bits(f);
  uint64_t checks = 0, bad = 0;
  EXPECT_EQ(f.code_bits(), cb) << describe(f);
  const std::vector<Quantizer> qs = all_quantizers(f);
  for (uint64_t c = 0; c < (uint64_t{1} << cb); ++c) {
    const oracle::Decoded d = oracle::decode_code(f, c);
    const double want = o.value_of(c);
    const double got = decode(f, c);
    ++checks;
    if (!same_value(got, want) && ++bad <= 8)
      ADD_FAILURE() << describe(f) << ": decode(0x" << std::hex << c << std::dec << ") = " << got
                    << ", oracle " << want;
    Dyadic dy;
    const bool finite = decode_exact(f, c, &dy);
    if (finite != (d.kind == oracle::Decoded::finite) && ++bad <= 8)
      ADD_FAILURE() << describe(f) << ": decode_exact finiteness of 0x" << std::hex << c;
    // The canonical code of this value.
    uint64_t canon = c;
    if (d.kind == oracle::Decoded::nan)
      canon = o.nan_code();
    else if (d.kind == oracle::Decoded::finite && d.value.is_zero())
      canon = o.zero_code(d.neg);
    for (const Quantizer& q : qs) {
      if (d.kind == oracle::Decoded::inf && q.overflow != Overflow::special) continue;
      const Quantized r = quantize(q, got, c);
      ++checks;
      const bool flags_ok = !r.saturated && r.nan == (d.kind == oracle::Decoded::nan);
      if ((r.code != canon || !flags_ok) && ++bad <= 8)
        ADD_FAILURE() << describe(q) << ": quantize(decode(0x" << std::hex << c << ")) = 0x"
                      << r.code << ", want 0x" << canon << std::dec << " saturated " << r.saturated
                      << " nan " << r.nan;
    }
  }
  return checks;
}

}  // namespace ristsim::testing
