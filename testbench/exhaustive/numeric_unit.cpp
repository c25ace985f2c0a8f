// Directed tests of the numeric core: the worked examples of the issue and of
// docs/formats.md (negative ties, saturation boundaries, NaN and infinity), the
// stochastic generator (known outputs computed outside this code base), the
// statistics of stochastic rounding, and the bit-growth rules checked by
// enumeration.
#include <map>

#include "harness.h"

namespace ristsim::testing {
namespace {

Quantizer quantizer(const Format& f, Rounding r, Overflow o = Overflow::saturate) {
  Quantizer q;
  q.format = f;
  q.rounding = r;
  q.overflow = o;
  return q;
}

double qv(const Format& f, Rounding r, double x, Overflow o = Overflow::saturate) {
  return quantize(quantizer(f, r, o), x).value;
}

// ---------------------------------------------------------------------------
// Rounding examples (rounding.h and docs/formats.md).

TEST(NumericDirected, fixed8_0_negative_ties) {
  const Format f = Format::fixed_point(8, 0);
  EXPECT_EQ(qv(f, Rounding::nearest_even, -2.5), -2.0);
  EXPECT_EQ(qv(f, Rounding::nearest_even, -3.5), -4.0);
  EXPECT_EQ(qv(f, Rounding::nearest_even, 2.5), 2.0);
  EXPECT_EQ(qv(f, Rounding::nearest_even, 3.5), 4.0);
  EXPECT_EQ(qv(f, Rounding::nearest_away, -2.5), -3.0);
  EXPECT_EQ(qv(f, Rounding::nearest_away, 2.5), 3.0);
  EXPECT_EQ(qv(f, Rounding::toward_zero, -2.5), -2.0);
  EXPECT_EQ(qv(f, Rounding::toward_zero, -2.7), -2.0);
  EXPECT_EQ(qv(f, Rounding::down, -2.5), -3.0);
  EXPECT_EQ(qv(f, Rounding::down, -2.3), -3.0);
  EXPECT_EQ(qv(f, Rounding::up, -2.5), -2.0);
  EXPECT_EQ(qv(f, Rounding::up, -2.7), -2.0);
  EXPECT_EQ(qv(f, Rounding::up, 2.3), 3.0);
  // codes: two's complement
  EXPECT_EQ(quantize(quantizer(f, Rounding::nearest_even), -2.5).code, 0xFEu);
  EXPECT_EQ(quantize(quantizer(f, Rounding::nearest_away), -2.5).code, 0xFDu);
}

TEST(NumericDirected, unsigned_fixed8_4_codes_saturation_and_wrap) {
  const Format f = Format::unsigned_fixed_point(8, 4);
  const Quantizer ne = quantizer(f, Rounding::nearest_even);
  EXPECT_EQ(quantize(ne, 0.3).code, 0x05u);  // 0.3125
  EXPECT_EQ(quantize(ne, 0.3).value, 0.3125);
  EXPECT_EQ(quantize(ne, 15.9375).code, 0xFFu);
  EXPECT_FALSE(quantize(ne, 15.9375).saturated);
  EXPECT_EQ(quantize(ne, 16.0).code, 0xFFu);
  EXPECT_TRUE(quantize(ne, 16.0).saturated);
  // Negative inputs: those that round to 0 are in range, the others saturate to 0.
  EXPECT_EQ(quantize(ne, -0.03125).code, 0x00u);  // a tie between -1/16 and 0: 0 (even)
  EXPECT_FALSE(quantize(ne, -0.03125).saturated);
  EXPECT_EQ(quantize(ne, -0.3).code, 0x00u);
  EXPECT_TRUE(quantize(ne, -0.3).saturated);
  EXPECT_EQ(quantize(quantizer(f, Rounding::up), -0.05).code, 0x00u);
  EXPECT_FALSE(quantize(quantizer(f, Rounding::up), -0.05).saturated);
  EXPECT_TRUE(quantize(quantizer(f, Rounding::down), -0.05).saturated);
  // Wrap keeps q mod 2^8: -1/16 -> 255/16.
  const Quantized w = quantize(quantizer(f, Rounding::nearest_even, Overflow::wrap), -0.0625);
  EXPECT_EQ(w.code, 0xFFu);
  EXPECT_EQ(w.value, 15.9375);
  EXPECT_TRUE(w.saturated);
  EXPECT_EQ(decode(f, 0x80), 8.0);  // the top bit is a magnitude bit
  EXPECT_EQ(min_value(f), 0.0);
  EXPECT_EQ(max_value(f), 15.9375);
  EXPECT_EQ(fixed_integer(f, 0xFF), 255);
  EXPECT_EQ(fixed_integer(Format::fixed_point(8, 4), 0xFF), -1);
  EXPECT_EQ(exactly_fixed(f), (FixedType{9, 4}));
  // u8 x s8: 255 * -128 = -32640 fits 16 bits, like s8 x s8; u8 x u8 needs 17.
  EXPECT_EQ(product_type(Format::unsigned_fixed_point(8, 0), Format::fixed_point(8, 0)),
            (FixedType{16, 0}));
  EXPECT_EQ(product_type(Format::unsigned_fixed_point(8, 0), Format::unsigned_fixed_point(8, 0)),
            (FixedType{17, 0}));
  EXPECT_STREQ(validate(Format::unsigned_fixed_point(64, 0)),
               "unsigned fixed point needs 1 to 63 bits");
  EXPECT_EQ(validate(Format::unsigned_fixed_point(63, 0)), nullptr);
}

TEST(NumericDirected, fixed8_1_quarter_ties) {
  const Format f = Format::fixed_point(8, 1);
  EXPECT_EQ(qv(f, Rounding::nearest_even, 2.25), 2.0);
  EXPECT_EQ(qv(f, Rounding::nearest_even, 2.75), 3.0);
  EXPECT_EQ(qv(f, Rounding::nearest_even, -2.25), -2.0);
  EXPECT_EQ(qv(f, Rounding::nearest_even, -2.75), -3.0);
}

TEST(NumericDirected, fixed8_0_saturation_and_wrap_boundaries) {
  const Format f = Format::fixed_point(8, 0);
  const Quantizer ne = quantizer(f, Rounding::nearest_even);
  EXPECT_EQ(quantize(ne, 127.4).code, 0x7Fu);
  EXPECT_FALSE(quantize(ne, 127.4).saturated);
  EXPECT_EQ(quantize(ne, 127.5).code, 0x7Fu);  // rounds to 128 (even), then saturates
  EXPECT_TRUE(quantize(ne, 127.5).saturated);
  EXPECT_EQ(quantize(ne, -128.5).code, 0x80u);  // rounds to -128 (even): in range
  EXPECT_FALSE(quantize(ne, -128.5).saturated);
  const Quantizer na = quantizer(f, Rounding::nearest_away);
  EXPECT_EQ(quantize(na, -128.5).code, 0x80u);  // rounds to -129, saturates
  EXPECT_TRUE(quantize(na, -128.5).saturated);
  EXPECT_EQ(quantize(na, 1e9).code, 0x7Fu);
  EXPECT_EQ(quantize(na, -1e9).code, 0x80u);
  const Quantizer wr = quantizer(f, Rounding::nearest_even, Overflow::wrap);
  EXPECT_EQ(quantize(wr, 127.5).code, 0x80u);  // 128 mod 256 = -128
  EXPECT_EQ(quantize(wr, 127.5).value, -128.0);
  EXPECT_TRUE(quantize(wr, 127.5).saturated);
  EXPECT_EQ(quantize(wr, 300.0).code, 300u - 256u);
  EXPECT_EQ(quantize(wr, -129.0).code, 0x7Fu);  // -129 mod 256 = 127
  EXPECT_EQ(quantize(wr, 1e9).code, 1000000000u & 0xFFu);
  EXPECT_EQ(quantize(wr, std::ldexp(1.0, 70) + std::ldexp(3.0, 18)).code, 0u);
  EXPECT_EQ(quantize(wr, HUGE_VAL).code, 0x7Fu);  // infinity has no residue: saturates
  EXPECT_EQ(quantize(wr, -HUGE_VAL).code, 0x80u);
  // fixed<8,-2>: steps of 4, range -512..508
  const Quantizer wneg =
      quantizer(Format::fixed_point(8, -2), Rounding::nearest_even, Overflow::wrap);
  EXPECT_EQ(quantize(wneg, 510.0).value, -512.0);  // 510/4 = 127.5 -> 128 -> wraps
}

TEST(NumericDirected, nan_and_zero_results) {
  for (const Format& f : {Format::fixed_point(8, 4), Format::minifloat(4, 3),
                          Format::minifloat(4, 3, Specials::ristretto)}) {
    const Quantized r = quantize(quantizer(f, Rounding::nearest_even), NAN);
    EXPECT_TRUE(r.nan) << describe(f);
    EXPECT_EQ(r.value, 0.0) << describe(f);
    EXPECT_EQ(bits_of(r.value), bits_of(0.0)) << describe(f);
  }
  // -0.3 in fixed<8,0> becomes +0 (code 0), in IEEE-style minifloat it keeps the sign
  EXPECT_EQ(bits_of(qv(Format::fixed_point(8, 0), Rounding::nearest_even, -0.3)), bits_of(0.0));
  EXPECT_EQ(bits_of(qv(Format::minifloat(2, 1, Specials::none), Rounding::nearest_even, -0.01)),
            bits_of(0.0));
  EXPECT_EQ(quantize(quantizer(Format::e5m2(), Rounding::nearest_even), -1e-9).code, 0x80u);
  EXPECT_EQ(quantize(quantizer(Format::e4m3(), Rounding::nearest_even), -1e-9).code, 0x00u);
}

TEST(NumericDirected, minifloat_subnormals_off_rounds_between_zero_and_min_normal) {
  const Format f = Format::minifloat(4, 3, Specials::none, false);  // min normal 2^-6
  const double mn = std::ldexp(1.0, -6);
  EXPECT_EQ(qv(f, Rounding::nearest_even, mn / 2), 0.0);  // tie: both codes even -> smaller
  EXPECT_EQ(qv(f, Rounding::nearest_away, mn / 2), mn);
  EXPECT_EQ(qv(f, Rounding::nearest_even, std::nextafter(mn / 2, 1.0)), mn);
  EXPECT_EQ(qv(f, Rounding::up, mn / 1000), mn);
  EXPECT_EQ(qv(f, Rounding::down, -mn / 1000), -mn);
  EXPECT_EQ(qv(f, Rounding::toward_zero, mn * 0.99), 0.0);
  EXPECT_EQ(max_value(f), 480.0);  // none: field 15 is a normal binade
}

TEST(NumericDirected, ristretto_variant_zero_code_and_flush) {
  const Format f = Format::minifloat(4, 3, Specials::ristretto);  // bias 7, min normal 2^-7
  EXPECT_EQ(f.code_bits(), 9);
  const Quantizer q = quantizer(f, Rounding::nearest_even);
  EXPECT_EQ(quantize(q, 0.0).code, 1u << 8);
  EXPECT_EQ(quantize(q, -0.0).code, 1u << 8);
  EXPECT_EQ(quantize(quantizer(f, Rounding::up), std::ldexp(0.99, -7)).code, 1u << 8);  // flush
  EXPECT_EQ(quantize(q, std::ldexp(1.0, -7)).code, 0x00u);  // field 0 is normal
  EXPECT_EQ(quantize(q, -std::ldexp(1.0, -7)).code, 0x80u);
  EXPECT_EQ(decode(f, 0x80), -std::ldexp(1.0, -7));
  EXPECT_EQ(max_value(f), std::ldexp(1.875, 8));  // field 15 - bias 7 = 8
  EXPECT_EQ(decode(f, 1u << 8), 0.0);
}

TEST(NumericDirected, pow2_4bit_value_and_log_rounding) {
  // B = 4, exp_max = -1, no zero code: exponents -8..-1 (the thesis' weights)
  const Format v = Format::pow2(4, -1);
  const Format l = Format::pow2(4, -1, false, Pow2Rounding::log);
  EXPECT_EQ(v.exp_min(), -8);
  EXPECT_EQ(max_value(v), 0.5);
  EXPECT_EQ(smallest_positive(v), std::ldexp(1.0, -8));
  EXPECT_EQ(qv(v, Rounding::nearest_even, 0.3), 0.25);  // value boundary 0.375
  EXPECT_EQ(qv(v, Rounding::nearest_even, 0.36), 0.25);
  EXPECT_EQ(qv(l, Rounding::nearest_even, 0.36), 0.5);  // log boundary 0.3536
  EXPECT_EQ(qv(l, Rounding::nearest_even, 0.35), 0.25);
  EXPECT_EQ(qv(v, Rounding::nearest_even, 0.375), 0.5);  // value tie: larger magnitude
  EXPECT_EQ(qv(v, Rounding::nearest_even, -0.375), -0.5);
  EXPECT_EQ(qv(v, Rounding::nearest_even, 0.0), std::ldexp(1.0, -8));  // zero -> +2^-8
  EXPECT_EQ(qv(v, Rounding::nearest_even, -0.0), std::ldexp(1.0, -8));
  EXPECT_EQ(qv(v, Rounding::nearest_even, -1e-9), -std::ldexp(1.0, -8));
  EXPECT_EQ(qv(v, Rounding::nearest_even, NAN), std::ldexp(1.0, -8));
  EXPECT_EQ(qv(v, Rounding::nearest_even, 1e9), 0.5);
  // with a zero code: field 0 is zero, exponents -7..-1
  const Format z = Format::pow2(4, -1, true, Pow2Rounding::log);
  EXPECT_EQ(z.exp_min(), -7);
  EXPECT_EQ(qv(z, Rounding::nearest_even, std::ldexp(1.0, -8)), std::ldexp(1.0, -7));  // value tie
  EXPECT_EQ(qv(z, Rounding::nearest_even, std::ldexp(0.99, -8)), 0.0);
  EXPECT_EQ(quantize(quantizer(z, Rounding::nearest_even), -1e-9).code, 0u);  // +0
}

TEST(NumericDirected, pow2_log_boundary_at_64_bits) {
  // floor((sqrt(2) - 1) * 2^64) = isqrt(2^129) - 2^64 = 0x6A09E667F3BCC908 (Python).
  // x = 1 + F / 2^64 lies just below sqrt(2): log rounding gives 1; one unit of
  // 2^-63 more lies above it and gives 2.
  const uint64_t half_f = 0x3504F333F9DE6484ull;  // F / 2
  const Quantizer q =
      quantizer(Format::pow2(8, 10, false, Pow2Rounding::log), Rounding::nearest_even);
  EXPECT_EQ(quantize(q, Dyadic{false, (uint64_t{1} << 63) + half_f, -63}).value, 1.0);
  EXPECT_EQ(quantize(q, Dyadic{false, (uint64_t{1} << 63) + half_f + 1, -63}).value, 2.0);
  EXPECT_EQ(quantize(q, Dyadic{true, (uint64_t{1} << 63) + half_f + 1, -60}).value, -16.0);
  EXPECT_EQ(quantize(q, std::sqrt(2.0)).value, 2.0);  // the double sqrt(2) is above the boundary
  EXPECT_EQ(quantize(q, std::nextafter(std::sqrt(2.0), 0.0)).value, 1.0);
}

TEST(NumericDirected, wide_fixed_point_edges) {
  // 64-bit accumulator type: -2^63 is in range, 2^63 is not.
  const Quantizer q = quantizer(Format::fixed_point(64, 0), Rounding::nearest_even);
  const Quantized lo = quantize(q, Dyadic{true, uint64_t{1} << 63, 0});
  EXPECT_EQ(lo.code, uint64_t{1} << 63);
  EXPECT_FALSE(lo.saturated);
  const Quantized hi = quantize(q, Dyadic{false, uint64_t{1} << 63, 0});
  EXPECT_EQ(hi.code, (uint64_t{1} << 63) - 1);
  EXPECT_TRUE(hi.saturated);
  const Quantized half = quantize(q, Dyadic{true, (uint64_t{1} << 63) + 1, -1});  // -2^62 - 0.5
  EXPECT_EQ(half.code, uint64_t{0} - (uint64_t{1} << 62));                        // tie to even
  // 32-bit storage with a huge FL
  const Quantizer s = quantizer(Format::fixed_point(32, 300), Rounding::up);
  EXPECT_EQ(quantize(s, std::ldexp(1.0, -400)).code, 1u);
  EXPECT_EQ(quantize(s, -std::ldexp(1.0, -400)).code, 0u);
}

// ---------------------------------------------------------------------------
// The stochastic generator.

TEST(NumericRandom, splitmix64_finaliser_known_output) {
  // SplitMix64 (Steele, Lea, Flood 2014; Vigna's splitmix64.c) seeded with 0
  // returns mix64(0x9E3779B97F4A7C15) first: 0xE220A8397B1DCDAF.
  EXPECT_EQ(mix64(0x9E3779B97F4A7C15ull), 0xE220A8397B1DCDAFull);
}

TEST(NumericRandom, known_outputs_of_the_documented_formula) {
  // Computed with Python from the formula in random.h (not from this code):
  //   key = mix64(seed ^ mix64(stream + G)); r64 = mix64(key + (index + 1) G)
  struct Case {
    uint64_t seed, stream, index, key, r64;
  };
  const Case cases[] = {
      {0, 0, 0, 0x48218226ff3cd4bfull, 0x568a9b0b1a2c05ecull},
      {0, 0, 1, 0x48218226ff3cd4bfull, 0x44e5b8b147ef718bull},
      {1, 0, 0, 0x9e0160293a33aaf7ull, 0x85c61a300ec70fa1ull},
      {0, 1, 0, 0xdce423fc82c0d5b8ull, 0x6ec85f1f8547bc0cull},
      {12345, 7, 1000, 0x891ab65f9738cd72ull, 0x63b069bd942fd788ull},
      {~0ull, 3, 1ull << 40, 0xb20c8509fa2e7763ull, 0xe96f5f79e6b23696ull},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(stream_key(c.seed, c.stream), c.key);
    EXPECT_EQ(random64(c.key, c.index), c.r64);
    EXPECT_EQ(random_bits(c.seed, c.stream, c.index, 16), c.r64 >> 48);
    EXPECT_EQ(random_bits(c.seed, c.stream, c.index, 32), c.r64 >> 32);
    EXPECT_EQ(random_bits(c.seed, c.stream, c.index, 1), c.r64 >> 63);
  }
  EXPECT_EQ(random_bits(0, 0, 0, 16), 22154u);
  EXPECT_EQ(random_bits(12345, 7, 1000, 16), 25520u);
}

TEST(NumericRandom, matches_the_oracle_generator) {
  std::mt19937_64 rng(99);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t seed = rng(), stream = rng() % 1000, index = rng();
    const int R = 1 + static_cast<int>(rng() % 32);
    ASSERT_EQ(random_bits(seed, stream, index, R), oracle::random_r(seed, stream, index, R));
  }
}

// ---------------------------------------------------------------------------
// Stochastic rounding.

TEST(NumericStochastic, documented_threshold_examples) {
  // fixed<8,0>: 2.25 -> 3 iff r >= 49152; -2.25 -> -2 iff r >= 16384 (R = 16)
  Quantizer q = quantizer(Format::fixed_point(8, 0), Rounding::stochastic);
  q.seed = 42;
  q.stream = 3;
  int ups = 0, downs = 0;
  for (uint64_t i = 0; i < 4096; ++i) {
    const uint32_t r = random_bits(42, 3, i, 16);
    EXPECT_EQ(quantize(q, 2.25, i).value, r >= 49152 ? 3.0 : 2.0) << i;
    EXPECT_EQ(quantize(q, -2.25, i).value, r >= 16384 ? -2.0 : -3.0) << i;
    ups += r >= 49152;
    downs += r < 16384;
  }
  EXPECT_GT(ups, 0);
  EXPECT_GT(downs, 0);
}

TEST(NumericStochastic, same_key_same_bits_other_stream_other_bits) {
  Quantizer a = quantizer(Format::fixed_point(8, 2), Rounding::stochastic);
  a.seed = 7;
  a.stream = 1;
  Quantizer b = a, c = a, d = a;
  c.stream = 2;
  d.seed = 8;
  int diff_stream = 0, diff_seed = 0;
  for (uint64_t i = 0; i < 4096; ++i) {
    const double x = 1.1 + 0.25 * static_cast<double>(i % 7);  // 0.4 of a step above the grid
    const Quantized ra = quantize(a, x, i);
    EXPECT_EQ(ra.code, quantize(b, x, i).code);
    EXPECT_EQ(ra.code, quantize(a, x, i).code);  // any order, any repetition
    diff_stream += ra.code != quantize(c, x, i).code;
    diff_seed += ra.code != quantize(d, x, i).code;
  }
  // Two independent streams disagree with probability 2 p (1 - p) = 0.48 per
  // element, about 1966 of 4096 (standard deviation 32); far from zero.
  EXPECT_GT(diff_stream, 1700);
  EXPECT_GT(diff_seed, 1700);
}

double stochastic_mean(const Quantizer& q, double x, int n) {
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += quantize(q, x, static_cast<uint64_t>(i)).value;
  return sum / n;
}

TEST(NumericStochastic, mean_error_is_zero) {
  const int n = 1 << 20;
  struct Case {
    Format f;
    double x, lo, hi;
  };
  const Case cases[] = {
      {Format::fixed_point(8, 0), 2.3, 2.0, 3.0},
      {Format::fixed_point(8, 0), -2.3, -3.0, -2.0},
      {Format::fixed_point(8, 4), 0.3, 0.25, 0.3125},
      {Format::e4m3(), 0.3, 0.28125, 0.3125},
      {Format::minifloat(4, 3, Specials::none, false), std::ldexp(0.3, -6), 0.0,
       std::ldexp(1.0, -6)},  // between zero and the smallest normal
      {Format::pow2(4, -1), 0.3, 0.25, 0.5},
      {Format::pow2(4, -1), -0.3, -0.5, -0.25},
  };
  for (const Case& c : cases) {
    Quantizer q = quantizer(c.f, Rounding::stochastic);
    q.seed = 2026;
    q.stream = 11;
    const double p = (c.x - c.lo) / (c.hi - c.lo);
    const double sigma = (c.hi - c.lo) * std::sqrt(p * (1 - p) / n);
    const double mean = stochastic_mean(q, c.x, n);
    EXPECT_NEAR(mean, c.x, 4 * sigma) << describe(q) << " x=" << c.x << " (seed 2026, stream 11)";
  }
}

TEST(NumericStochastic, exact_values_never_move) {
  for (const Format& f : {Format::fixed_point(8, 3), Format::e4m3(), Format::e5m2(),
                          Format::minifloat(4, 3, Specials::ristretto), Format::pow2(5, 2, true)}) {
    Quantizer q = quantizer(f, Rounding::stochastic);
    q.seed = 5;
    const Oracle o(f);
    for (const auto& p : o.values()) {
      const double v = p.v.to_double();
      for (uint64_t i = 0; i < 64; ++i) {
        const Quantized r = quantize(q, v, i);
        ASSERT_EQ(r.code, p.code) << describe(f) << " v=" << v << " index " << i;
        ASSERT_FALSE(r.saturated);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Bit growth.

TEST(NumericGrowth, product_and_sum_types) {
  EXPECT_EQ(product_type(FixedType{8, 4}, FixedType{8, 6}), (FixedType{16, 10}));
  EXPECT_EQ(product_type(FixedType{4, -2}, FixedType{3, 5}), (FixedType{7, 3}));
  EXPECT_EQ(sum_type(FixedType{16, 10}, 1), (FixedType{16, 10}));
  EXPECT_EQ(sum_type(FixedType{16, 10}, 2), (FixedType{17, 10}));
  EXPECT_EQ(sum_type(FixedType{16, 10}, 3), (FixedType{18, 10}));
  EXPECT_EQ(sum_type(FixedType{16, 10}, 9), (FixedType{20, 10}));
  EXPECT_EQ(sum_type(FixedType{16, 10}, 1024), (FixedType{26, 10}));
  EXPECT_EQ(sum_type(FixedType{16, 10}, 1025), (FixedType{27, 10}));
  EXPECT_EQ(tree_levels(16), 4);
  EXPECT_EQ(tree_levels(17), 5);
  EXPECT_EQ(tree_level_type(FixedType{16, 10}, 3), (FixedType{19, 10}));
}

// Does the signed integer n fit `bits` two's complement bits?
bool fits(__int128 n, int bits) {
  const __int128 lim = static_cast<__int128>(1) << (bits - 1);
  return n >= -lim && n < lim;
}

TEST(NumericGrowth, product_width_is_exact_by_enumeration) {
  for (int m = 1; m <= 8; ++m)
    for (int n = 1; n <= 8; ++n) {
      const FixedType p = product_type(FixedType{m, 0}, FixedType{n, 0});
      bool needs_all = false;
      for (int64_t a = -(1 << (m - 1)); a < (1 << (m - 1)); ++a)
        for (int64_t b = -(1 << (n - 1)); b < (1 << (n - 1)); ++b) {
          ASSERT_TRUE(fits(a * b, p.bits)) << m << "x" << n;
          needs_all |= !fits(a * b, p.bits - 1);
        }
      EXPECT_TRUE(needs_all) << m << "x" << n << ": one bit fewer would do";
    }
}

TEST(NumericGrowth, sum_width_is_enough_and_tight) {
  for (int w = 1; w <= 12; ++w)
    for (uint64_t k : {1u, 2u, 3u, 4u, 5u, 7u, 8u, 9u, 100u, 1024u}) {
      const FixedType t = sum_type(FixedType{w, 0}, k);
      const __int128 mn = -(static_cast<__int128>(1) << (w - 1)) * static_cast<__int128>(k);
      const __int128 mx = ((static_cast<__int128>(1) << (w - 1)) - 1) * static_cast<__int128>(k);
      EXPECT_TRUE(fits(mn, t.bits) && fits(mx, t.bits)) << w << " " << k;
      if (k > 1 && (k & (k - 1)) == 0) {
        EXPECT_FALSE(fits(mn, t.bits - 1)) << w << " " << k;
      }
    }
}

TEST(NumericGrowth, product_type_of_formats_examples) {
  EXPECT_EQ(product_type(Format::fixed_point(8, 7), Format::fixed_point(8, 7)), (FixedType{16, 14}));
  EXPECT_EQ(product_type(Format::e4m3(), Format::e4m3()), (FixedType{37, 18}));  // 19 + 19 - 1
  EXPECT_EQ(product_type(Format::pow2(4, -1), Format::pow2(4, -1)), (FixedType{16, 16}));
  EXPECT_EQ(product_type(Format::fixed_point(8, 0), Format::pow2(4, -1)), (FixedType{16, 8}));
  EXPECT_EQ(product_type(Format::fixed_point(1, 0), Format::fixed_point(1, 0)), (FixedType{2, 0}));
}

// Worked examples of aligned_type, and its closed forms per rounding mode for a
// right shift s >= 1 of a b-bit type (b >= 3), here also for types wider than
// 64 bits, which take a separate path (the exhaustive test covers 1..8 bits).
TEST(NumericGrowth, aligned_type_examples_and_wide_types) {
  EXPECT_EQ(aligned_type(FixedType{16, 10}, 12, Rounding::down), (FixedType{18, 12}));
  EXPECT_EQ(aligned_type(FixedType{10, 7}, 5, Rounding::nearest_away), (FixedType{9, 5}));
  EXPECT_EQ(aligned_type(FixedType{10, 7}, 5, Rounding::down), (FixedType{8, 5}));
  EXPECT_EQ(aligned_type(FixedType{4, 0}, -6, Rounding::nearest_even), (FixedType{1, -6}));
  EXPECT_EQ(aligned_type(FixedType{4, 0}, -6, Rounding::up), (FixedType{2, -6}));
  for (int b : {3, 4, 8, 40, 63, 64, 65, 70, 100, 200})
    for (int s = 1; s <= b + 70; ++s) {
      const auto at = [&](Rounding r) { return aligned_type(FixedType{b, s}, 0, r).bits; };
      const int keep = b - s > 1 ? b - s : 1, carry = b - s + 1 > 2 ? b - s + 1 : 2;
      const int nearest = s <= b - 1 ? b - s + 1 : 1;
      EXPECT_EQ(at(Rounding::down), keep) << b << " " << s;
      EXPECT_EQ(at(Rounding::toward_zero), keep) << b << " " << s;
      EXPECT_EQ(at(Rounding::up), carry) << b << " " << s;
      EXPECT_EQ(at(Rounding::stochastic), carry) << b << " " << s;
      EXPECT_EQ(at(Rounding::nearest_away), nearest) << b << " " << s;
      EXPECT_EQ(at(Rounding::nearest_even), nearest) << b << " " << s;
    }
}

TEST(NumericGrowth, exactly_fixed_holds_every_value_and_is_minimal) {
  std::vector<Format> fs;
  for (int b : {1, 4, 8}) fs.push_back(Format::fixed_point(b, 3));
  for (int b : {1, 4, 8}) fs.push_back(Format::unsigned_fixed_point(b, 3));
  for (Specials sp : {Specials::none, Specials::ieee, Specials::fn, Specials::ristretto})
    for (bool sub : {false, true})
      for (auto [e, m] : {std::pair{2, 1}, {4, 3}, {5, 2}, {3, 0}, {5, 4}}) {
        if ((sp == Specials::ristretto && sub) || (sp == Specials::ieee && m == 0)) continue;
        fs.push_back(Format::minifloat(e, m, sp, sub));
        fs.push_back(Format::minifloat(e, m, sp, sub, -3));
        fs.push_back(Format::minifloat(e, m, sp, sub, 12));
      }
  for (int b : {2, 4, 6})
    for (bool z : {false, true})
      fs.push_back(Format::pow2(b, -1, z)), fs.push_back(Format::pow2(b, 5, z));
  for (const Format& f : fs) {
    const FixedType t = exactly_fixed(f);
    const Oracle o(f);
    bool fl_needed = false, bits_needed = false;
    for (const auto& p : o.values()) {
      // v * 2^fl must be an integer that fits t.bits, and so must -v (symmetric formats).
      const Exact s = p.v.times_pow2(t.fl);
      ASSERT_GE(s.exp, 0) << describe(f) << ": " << p.v.to_double() << " not on the grid of fl "
                          << t.fl;
      ASSERT_LT(s.exp + oracle::msb128(s.mag), 120);
      const __int128 n = static_cast<__int128>(static_cast<unsigned __int128>(s.mag) << s.exp);
      const __int128 sv = s.neg ? -n : n;
      const bool symmetric = f.kind != FormatKind::fixed;
      ASSERT_TRUE(fits(sv, t.bits) && (!symmetric || fits(-sv, t.bits)))
          << describe(f) << ": " << p.v.to_double() << " does not fit " << t.bits << " bits";
      fl_needed |= s.exp == 0 && !s.is_zero();  // an odd multiple of 2^-fl: fl is needed
      bits_needed |= t.bits == 1 || !fits(sv, t.bits - 1) || (symmetric && !fits(-sv, t.bits - 1));
    }
    EXPECT_TRUE(fl_needed) << describe(f) << ": fl " << t.fl << " is one too many";
    EXPECT_TRUE(bits_needed) << describe(f) << ": " << t.bits << " bits is one too many";
  }
}

}  // namespace
}  // namespace ristsim::testing
