// The array quantizer (sim/numeric/quantize_array.h, and kernels/cpu's build of
// it for every instruction set this CPU has) against numeric::quantize()
// element by element: float value bits, code, saturation and NaN counts, and
// the statistics against ArrayStats::add(), for fixed point of 1..32 bits,
// every rounding, overflow saturate and wrap.
//
// Inputs per format (both signs): every float bit pattern in windows of 2^13
// consecutive patterns around the format's boundaries (half a quantum, one
// quantum, the rounding boundary of the largest value and 2^(B-1) quanta, the
// subnormals), seeded random patterns anywhere and within the format's range,
// and the special values. The `exhaustive` tests cover whole binades.
// *_bad: the same comparison must catch a one-ulp error in one output, and a
// quantizer that reads its input one ulp off.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/quantize_cpu.h"
#include "numeric/quantize_array.h"

namespace ristsim::testing {
namespace {

using kernels::CpuIsa;
using numeric::ArrayStats;
using numeric::Format;
using numeric::Overflow;
using numeric::Quantizer;
using numeric::Rounding;

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}
float float_of(uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

/// An array quantizer under test: (q, x, n, index0, y, codes, stats).
using ArrayFn = std::function<void(const Quantizer&, const float*, std::size_t, uint64_t, float*,
                                   uint32_t*, ArrayStats*)>;

/// The implementations under test: the portable header build and every
/// instruction set of kernels/cpu this CPU runs.
std::vector<std::pair<std::string, ArrayFn>> implementations() {
  std::vector<std::pair<std::string, ArrayFn>> v;
  v.emplace_back("numeric::quantize_array", [](const Quantizer& q, const float* x, std::size_t n,
                                               uint64_t i0, float* y, uint32_t* c, ArrayStats* s) {
    numeric::quantize_array(q, x, n, i0, y, c, s);
  });
  for (CpuIsa isa : {CpuIsa::portable, CpuIsa::avx2, CpuIsa::avx512}) {
    if (!kernels::cpu_supports(isa)) continue;
    v.emplace_back(std::string("quantize_array_cpu/") + kernels::to_string(isa),
                   [isa](const Quantizer& q, const float* x, std::size_t n, uint64_t i0, float* y,
                         uint32_t* c, ArrayStats* s) {
                     kernels::quantize_array_cpu(q, x, n, i0, y, c, s, isa);
                   });
  }
  return v;
}

std::string describe(const Quantizer& q) {
  return "fixed<" + std::to_string(q.format.bits) + "," + std::to_string(q.format.fl) + "> " +
         numeric::to_string(q.rounding) + " " + numeric::to_string(q.overflow) + " R=" +
         std::to_string(q.random_bits);
}

/// The reference: quantize() and ArrayStats::add() element by element.
struct Reference {
  std::vector<float> y;
  std::vector<uint32_t> codes;
  ArrayStats stats;
};
Reference reference(const Quantizer& q, const std::vector<float>& x, uint64_t index0) {
  Reference r;
  r.y.resize(x.size());
  r.codes.resize(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const numeric::Quantized z = numeric::quantize(q, static_cast<double>(x[i]), index0 + i);
    r.y[i] = static_cast<float>(z.value);
    r.codes[i] = static_cast<uint32_t>(z.code);
    r.stats.add(x[i]);
    r.stats.saturations += z.saturated;
    r.stats.nans += z.nan;
  }
  return r;
}

/// Empty if `fn` gives the reference's bits and statistics, else the first difference.
std::string first_mismatch(const ArrayFn& fn, const Quantizer& q, const std::vector<float>& x,
                           uint64_t index0, const Reference& ref) {
  std::vector<float> y(x.size());
  std::vector<uint32_t> codes(x.size());
  ArrayStats st;
  fn(q, x.data(), x.size(), index0, y.data(), codes.data(), &st);
  for (std::size_t i = 0; i < x.size(); ++i)
    if (bits_of(y[i]) != bits_of(ref.y[i]) || codes[i] != ref.codes[i]) {
      char buf[200];
      std::snprintf(buf, sizeof buf,
                    "element %zu: x = %a (0x%08x): value %a code 0x%x, quantize() %a code 0x%x", i,
                    double(x[i]), bits_of(x[i]), double(y[i]), codes[i], double(ref.y[i]),
                    ref.codes[i]);
      return buf;
    }
  const ArrayStats& r = ref.stats;
  if (st.count != r.count || st.zeros != r.zeros || st.saturations != r.saturations ||
      st.nans != r.nans || st.max_abs != r.max_abs || st.hist != r.hist)
    return "statistics differ: saturations " + std::to_string(st.saturations) + " / " +
           std::to_string(r.saturations) + ", nans " + std::to_string(st.nans) + " / " +
           std::to_string(r.nans) + ", zeros " + std::to_string(st.zeros) + " / " +
           std::to_string(r.zeros) + ", max " + std::to_string(st.max_abs) + " / " +
           std::to_string(r.max_abs);
  return "";
}

/// 2^13 consecutive float patterns from bits(center) - 2^12, both signs.
void add_window(std::vector<float>* x, double center) {
  const uint32_t c = bits_of(static_cast<float>(std::fabs(center)));
  const uint32_t lo = c < (1u << 12) ? 0 : c - (1u << 12);
  for (uint32_t b = lo; b < lo + (1u << 13) && b < 0x7f800000u; ++b) {
    x->push_back(float_of(b));
    x->push_back(float_of(b | 0x80000000u));
  }
}

/// The inputs of a fixed-point format (see the file comment); `seed` is printed on failure.
std::vector<float> inputs_for(const Format& f, uint64_t seed) {
  std::vector<float> x;
  const double quantum = std::ldexp(1.0, -f.fl);
  const double half_range = std::ldexp(1.0, f.bits - 1) * quantum;
  add_window(&x, quantum / 2);
  add_window(&x, quantum);
  add_window(&x, 1.5 * quantum);
  add_window(&x, half_range - quantum / 2);  // the largest value's rounding boundary
  add_window(&x, half_range);
  add_window(&x, 0x1p-149);  // subnormals and zero
  std::mt19937_64 rng(seed);
  for (int i = 0; i < (1 << 13); ++i) x.push_back(float_of(static_cast<uint32_t>(rng())));
  std::uniform_real_distribution<double> in_range(-1.25 * half_range, 1.25 * half_range);
  for (int i = 0; i < (1 << 13); ++i) x.push_back(static_cast<float>(in_range(rng)));
  for (float s : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, FLT_MAX, -FLT_MAX,
                  FLT_TRUE_MIN, -FLT_TRUE_MIN, FLT_MIN, -FLT_MIN})
    x.push_back(s);
  x.push_back(float_of(0x7f800001u));  // a signalling NaN
  x.push_back(float_of(0xffc00123u));  // a negative NaN with payload
  return x;
}

std::vector<Quantizer> quantizers_for(const Format& f) {
  std::vector<Quantizer> v;
  for (Rounding r : numeric::kAllRoundings)
    for (Overflow o : {Overflow::saturate, Overflow::wrap}) {
      Quantizer q;
      q.format = f;
      q.rounding = r;
      q.overflow = o;
      q.seed = 0x1234 + f.bits;
      q.stream = 7;
      v.push_back(q);
      if (r == Rounding::stochastic && o == Overflow::saturate)
        for (int rb : {1, 5, 32}) {
          q.random_bits = rb;
          v.push_back(q);
        }
    }
  return v;
}

void check_format(const Format& f, uint64_t seed) {
  const std::vector<float> x = inputs_for(f, seed);
  const auto impls = implementations();
  for (const Quantizer& q : quantizers_for(f)) {
    ASSERT_TRUE(numeric::quantize_array_vectorised(q)) << describe(q);
    const uint64_t index0 = 1000003;
    const Reference ref = reference(q, x, index0);
    for (const auto& [name, fn] : impls) {
      const std::string m = first_mismatch(fn, q, x, index0, ref);
      ASSERT_EQ(m, "") << name << ", " << describe(q) << ", seed " << seed;
    }
  }
}

TEST(QuantizeArray, fixed_small_widths_equal_quantize) {
  uint64_t seed = 100;
  for (int b : {1, 2, 3, 4, 5})
    for (int fl : {-3, 0, 2, b + 4}) check_format(Format::fixed_point(b, fl), ++seed);
}

TEST(QuantizeArray, fixed_8_and_16_bits_equal_quantize) {
  uint64_t seed = 200;
  for (int b : {8, 16})
    for (int fl : {-5, 0, 4, b - 1, b + 10, 40}) check_format(Format::fixed_point(b, fl), ++seed);
}

TEST(QuantizeArray, fixed_wide_and_extreme_equal_quantize) {
  uint64_t seed = 300;
  for (int b : {12, 24, 31, 32})
    for (int fl : {-20, 0, 16, b + 3}) check_format(Format::fixed_point(b, fl), ++seed);
  for (int fl : {-512, -140, 150, 512}) check_format(Format::fixed_point(8, fl), ++seed);
}

TEST(QuantizeArray, unsigned_fixed_equal_quantize) {
  uint64_t seed = 400;
  for (int b : {1, 4, 8, 16, 32})
    for (int fl : {-3, b / 2, b + 4}) check_format(Format::unsigned_fixed_point(b, fl), ++seed);
}

TEST(QuantizeArray, in_place_null_outputs_and_block_edges) {
  Quantizer q;
  q.format = Format::fixed_point(8, 5);
  q.rounding = Rounding::stochastic;
  const std::vector<float> x = inputs_for(q.format, 7);
  const Reference ref = reference(q, x, 3);
  for (const auto& [name, fn] : implementations()) {
    SCOPED_TRACE(name);
    std::vector<float> y = x;  // in place
    fn(q, y.data(), y.size(), 3, y.data(), nullptr, nullptr);
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(bits_of(y[i]), bits_of(ref.y[i])) << i;
    std::vector<uint32_t> codes(x.size());
    fn(q, x.data(), x.size(), 3, nullptr, codes.data(), nullptr);
    EXPECT_EQ(codes, ref.codes);
    // Lengths that end inside a block and cross one, at an offset index.
    for (std::size_t n : {1u, 7u, 511u, 512u, 513u, 1500u}) {
      const std::vector<float> part(x.begin() + 100, x.begin() + 100 + n);
      EXPECT_EQ(first_mismatch(fn, q, part, 103, reference(q, part, 103)), "") << "n = " << n;
    }
  }
}

TEST(QuantizeArray, statistics_equal_add) {
  std::vector<float> x = inputs_for(Format::fixed_point(8, 4), 11);
  x.push_back(NAN);  // a NaN after the largest finite value: not the maximum
  for (CpuIsa isa : {CpuIsa::portable, CpuIsa::avx2, CpuIsa::avx512}) {
    if (!kernels::cpu_supports(isa)) continue;
    ArrayStats ref, st, st2;
    for (float v : x) ref.add(v);
    kernels::array_stats_cpu(x.data(), x.size(), &st, isa);
    numeric::array_stats(x.data(), x.size(), &st2);
    for (const ArrayStats* s : {&st, &st2}) {
      EXPECT_EQ(s->count, ref.count);
      EXPECT_EQ(s->zeros, ref.zeros);
      EXPECT_EQ(s->negatives, ref.negatives);
      EXPECT_GT(ref.negatives, 0u);
      EXPECT_EQ(s->nans, 0u);  // counted by a quantizer only
      EXPECT_EQ(s->saturations, 0u);
      EXPECT_EQ(s->max_abs, ref.max_abs);
      EXPECT_EQ(s->hist, ref.hist);
    }
  }
  EXPECT_EQ(std::isinf(ArrayStats{}.max_abs), false);
}

TEST(QuantizeArray, other_formats_go_through_quantize) {
  // Not vectorised: minifloat, power of two, fixed wider than 32 bits; the array
  // function still gives quantize()'s bits.
  std::vector<Quantizer> qs(3);
  qs[0].format = Format::e4m3();
  qs[1].format = Format::pow2(4, 0, true);
  qs[2].format = Format::fixed_point(40, 20);
  qs[2].overflow = Overflow::wrap;
  const std::vector<float> x = inputs_for(Format::fixed_point(8, 4), 5);
  for (Quantizer& q : qs) {
    EXPECT_FALSE(numeric::quantize_array_vectorised(q));
    if (q.format.bits > 32) continue;  // codes are 32 bits
    const Reference ref = reference(q, x, 0);
    for (const auto& [name, fn] : implementations())
      EXPECT_EQ(first_mismatch(fn, q, x, 0, ref), "") << name;
  }
}

// ---- exhaustive: whole binades, every pattern, both signs

void check_binades(const Quantizer& q, int e0, int e1) {
  const auto impls = implementations();
  const uint32_t end = bits_of(std::ldexp(1.0f, e1));
  for (uint32_t b0 = bits_of(std::ldexp(1.0f, e0)); b0 < end; b0 += 1u << 20) {
    std::vector<float> x;
    for (uint32_t b = b0; b < end && b < b0 + (1u << 20); ++b) {
      x.push_back(float_of(b));
      x.push_back(float_of(b | 0x80000000u));
    }
    const Reference ref = reference(q, x, b0);
    for (const auto& [name, fn] : impls) {
      if (name == "numeric::quantize_array") continue;  // the same loop as cpu/portable
      ASSERT_EQ(first_mismatch(fn, q, x, b0, ref), "") << name << ", " << describe(q);
    }
  }
}

TEST(QuantizeArrayExhaustive, fixed_8_4_nearest_even_every_pattern_of_four_binades) {
  Quantizer q;
  q.format = Format::fixed_point(8, 4);
  check_binades(q, -6, -4);  // below and at half a quantum
  check_binades(q, 2, 4);    // up to and beyond the range [-8, 7.9375]
}

TEST(QuantizeArrayExhaustive, fixed_8_4_stochastic_wrap_every_pattern_of_two_binades) {
  Quantizer q;
  q.format = Format::fixed_point(8, 4);
  q.rounding = Rounding::stochastic;
  q.overflow = Overflow::wrap;
  check_binades(q, -5, -4);
  check_binades(q, 3, 4);
}

// ---- _bad: the comparison sees one ulp

TEST(QuantizeArray, one_ulp_in_one_output_bad) {
  Quantizer q;
  q.format = Format::fixed_point(8, 4);
  const std::vector<float> x = inputs_for(q.format, 9);
  const Reference ref = reference(q, x, 0);
  const ArrayFn good = [](const Quantizer& qq, const float* xx, std::size_t n, uint64_t i0,
                          float* y, uint32_t* c, ArrayStats* s) {
    kernels::quantize_array_cpu(qq, xx, n, i0, y, c, s);
  };
  ASSERT_EQ(first_mismatch(good, q, x, 0, ref), "");
  const ArrayFn one_ulp = [&](const Quantizer& qq, const float* xx, std::size_t n, uint64_t i0,
                              float* y, uint32_t* c, ArrayStats* s) {
    good(qq, xx, n, i0, y, c, s);
    y[n / 2] = std::nextafter(y[n / 2], INFINITY);
  };
  const std::string m = first_mismatch(one_ulp, q, x, 0, ref);
  EXPECT_EQ(m.rfind("element " + std::to_string(x.size() / 2) + ":", 0), 0u) << m;
}

TEST(QuantizeArray, input_one_ulp_off_bad) {
  // A quantizer that reads every input one ulp larger in magnitude: the windows
  // around the ties and grid points must catch it, for every deterministic rounding.
  for (Rounding r : numeric::kAllRoundings) {
    if (r == Rounding::stochastic) continue;  // one ulp moves a decision with probability 2^-R
    Quantizer q;
    q.format = Format::fixed_point(8, 4);
    q.rounding = r;
    const std::vector<float> x = inputs_for(q.format, 10);
    const Reference ref = reference(q, x, 0);
    const ArrayFn off = [](const Quantizer& qq, const float* xx, std::size_t n, uint64_t i0,
                           float* y, uint32_t* c, ArrayStats* s) {
      std::vector<float> moved(xx, xx + n);
      for (float& v : moved)
        if (std::isfinite(v) && v != 0) v = std::nextafter(v, v > 0 ? INFINITY : -INFINITY);
      kernels::quantize_array_cpu(qq, moved.data(), n, i0, y, c, s);
    };
    const std::string m = first_mismatch(off, q, x, 0, ref);
    EXPECT_EQ(m.rfind("element ", 0), 0u) << numeric::to_string(r) << ": " << m;
  }
}

TEST(QuantizeArray, stochastic_neighbouring_index_bad) {
  // Random bits of the element's neighbour: a different draw, caught.
  Quantizer q;
  q.format = Format::fixed_point(8, 4);
  q.rounding = Rounding::stochastic;
  const std::vector<float> x = inputs_for(q.format, 12);
  const Reference ref = reference(q, x, 0);
  const ArrayFn shifted = [](const Quantizer& qq, const float* xx, std::size_t n, uint64_t i0,
                             float* y, uint32_t* c, ArrayStats* s) {
    kernels::quantize_array_cpu(qq, xx, n, i0 + 1, y, c, s);
  };
  const std::string m = first_mismatch(shifted, q, x, 0, ref);
  EXPECT_EQ(m.rfind("element ", 0), 0u) << m;
}

}  // namespace
}  // namespace ristsim::testing
