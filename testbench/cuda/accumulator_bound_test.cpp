// The integer-GEMM route of the exact datapath (kernels/reference/accumulator_bound.h) on the
// host: where integer_gemm_exact() admits a layer, exact integer sums of the codes through
// gemm_element() must equal exact_conv_reference code for code (and never meet an
// accumulator overflow); where it refuses, the per-output kernel runs. Directed cases show the
// bound refuses exactly where an overflow becomes possible. A planted wrong shift is caught.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

#include "../backends_exact/exact_cases.h"
#include "kernels/reference/accumulator_bound.h"

namespace rt = ristsim::testing;
namespace kn = ristsim::kernels;

namespace {

constexpr kn::IntegerGemm kImma8{8, 8, 32};  // cuBLASLt IMMA: int8 x int8, int32 sums

int64_t terms_per_output(const kn::ConvShape& s) {
  return int64_t{s.c / s.groups} * s.kh * s.kw;
}

/// The GPU's routing, on the host: the GEMM where the bound admits the layer (an exact
/// integer sum, whatever its order, as IMMA's), else steps::conv_element. Counts the routes.
rt::ConvFn routed(int* gemm_layers, int* element_layers, int shift_bug = 0) {
  return [=](const kn::ConvShape& s, const kn::ExactLayerSpec& spec, const uint32_t* in,
             const uint32_t* w, const uint32_t* b, uint32_t* out, kn::ExactStats* st) {
    const kn::GemmPlan plan = kn::integer_gemm_exact(spec, terms_per_output(s), kImma8);
    const kn::steps::ElementSpec d = kn::steps::element_spec(spec);
    (plan.exact ? *gemm_layers : *element_layers) += 1;
    const int64_t total = int64_t{s.n} * s.k * s.oh * s.ow;
    for (int64_t i = 0; i < total; ++i) {
      kn::steps::ElementResult r;
      if (plan.exact) {
        const int ox = int(i % s.ow), oy = int((i / s.ow) % s.oh),
                  k = int((i / (int64_t{s.ow} * s.oh)) % s.k);
        const int img = int(i / (int64_t{s.ow} * s.oh * s.k));
        int64_t sum = 0;
        for (const kn::ExactTerm& t : kn::conv_terms(s, in, w, img, k, oy, ox))
          if (!t.padding)
            sum += int64_t{kn::code_value(spec.act.format, t.act_code)} *
                   kn::code_value(spec.wt.format, t.wt_code);
        r = kn::gemm_element(d, plan.shift + shift_bug, sum, b, k, i);
      } else {
        r = kn::steps::conv_element(s, d, in, w, b, i);
      }
      out[i] = r.code;
      st->acc_overflows += r.acc_overflows;
      st->out_saturations += r.saturated;
      st->out_nans += r.nan;
    }
  };
}

kn::ExactLayerSpec fixed_spec(int bits, int acc_bits) {
  kn::ExactLayerSpec s{};
  s.act = rt::quantizer(ristsim::numeric::Format::fixed_point(bits, 0));
  s.wt = rt::quantizer(ristsim::numeric::Format::fixed_point(bits, 0));
  s.bias = rt::quantizer(ristsim::numeric::Format::fixed_point(bits, 0));
  s.out = rt::quantizer(ristsim::numeric::Format::fixed_point(16, 0));
  s.acc = ristsim::config::AccumulatorSpec{};
  s.acc.bits = acc_bits;
  s.lanes = 4;
  s.has_bias = false;
  return s;
}

}  // namespace

TEST(AccumulatorBound, gemm_route_equals_reference_on_every_shipped_arch) {
  int gemm = 0, element = 0;
  for (const char* arch : rt::kShippedArchs) {
    for (int variant = 0; variant < 72; variant += 3) {
      const uint64_t seed = 4000 + variant;
      const rt::ExactCase c = rt::random_case(arch, seed, variant);
      const int before = gemm;
      kn::ExactStats ref;
      EXPECT_EQ(rt::compare(c, kn::exact_conv_reference, routed(&gemm, &element), &ref), "")
          << arch << " seed " << seed << " variant " << variant << ": " << rt::describe(c.shape)
          << "; " << rt::describe(c.spec);
      if (gemm > before) EXPECT_EQ(ref.acc_overflows, 0u) << arch << " seed " << seed;
    }
  }
  // Both routes are taken: dynfixed8 with the arch's 32-bit accumulator fits IMMA; 16-bit
  // operands, minifloats, narrow accumulators and rounded alignments do not.
  EXPECT_GT(gemm, 10);
  EXPECT_GT(element, 10);
}

TEST(AccumulatorBound, refuses_exactly_where_an_overflow_becomes_possible) {
  // 4-bit codes (most negative -8: products up to 64), a 12-bit accumulator (limit 2047):
  // 31 products fit (1984), 32 can reach 2048.
  kn::ExactLayerSpec spec = fixed_spec(4, 12);
  EXPECT_TRUE(kn::integer_gemm_exact(spec, 31, kImma8).exact);
  const kn::GemmPlan refused = kn::integer_gemm_exact(spec, 32, kImma8);
  EXPECT_FALSE(refused.exact);
  EXPECT_NE(refused.why.find("12-bit accumulator"), std::string::npos) << refused.why;
  // The refusal is needed: 32 products of -8 x -8 overflow the reference's accumulator.
  for (int K : {31, 32}) {
    const kn::ConvShape s = rt::inner_product(1, K, 1);
    std::vector<uint32_t> in(K, 0x8), w(K, 0x8), out(1);  // code 0b1000 = -8
    kn::ExactStats st;
    kn::exact_conv_reference(s, spec, in.data(), w.data(), nullptr, out.data(), &st);
    EXPECT_EQ(st.acc_overflows, K == 32 ? 1u : 0u) << K;
  }
}

TEST(AccumulatorBound, refuses_what_an_int8_gemm_cannot_compute) {
  kn::ExactLayerSpec spec = fixed_spec(8, 32);
  EXPECT_TRUE(kn::integer_gemm_exact(spec, 131071, kImma8).exact);   // 131071 * 2^14 < 2^31
  EXPECT_FALSE(kn::integer_gemm_exact(spec, 131072, kImma8).exact);  // int32 sums can overflow
  spec.acc.bits = 24;
  EXPECT_TRUE(kn::integer_gemm_exact(spec, 511, kImma8).exact);  // 511 * 2^14 = 8372224 < 2^23
  EXPECT_FALSE(kn::integer_gemm_exact(spec, 512, kImma8).exact);
  spec.acc.bits = 32;
  spec.acc.frac_bits_auto = false;
  spec.acc.frac_bits = -1;  // products rounded onto the grid
  EXPECT_FALSE(kn::integer_gemm_exact(spec, 9, kImma8).exact);
  spec.acc.frac_bits = 3;  // a wider grid: an exact shift of 3
  const kn::GemmPlan shifted = kn::integer_gemm_exact(spec, 9, kImma8);
  EXPECT_TRUE(shifted.exact);
  EXPECT_EQ(shifted.shift, 3);
  EXPECT_FALSE(kn::integer_gemm_exact(fixed_spec(9, 32), 9, kImma8).exact);  // 9-bit operands
  kn::ExactLayerSpec mf = fixed_spec(8, 48);
  mf.act = rt::quantizer(ristsim::numeric::Format::e4m3());
  EXPECT_FALSE(kn::integer_gemm_exact(mf, 9, kImma8).exact);
}

TEST(AccumulatorBound, planted_shift_bug_is_caught_bad) {
  int gemm = 0, element = 0, caught = 0;
  for (int variant = 0; variant < 24; ++variant) {
    const rt::ExactCase c = rt::random_case("dynfixed8", 900 + variant, variant);
    const int before = gemm;
    const std::string diff = rt::compare(c, kn::exact_conv_reference, routed(&gemm, &element, 1));
    if (gemm > before && !diff.empty()) ++caught;
  }
  // A doubled sum hides only where every output saturates or rounds to the same code (a
  // coarse output format): 8 of the 13 GEMM layers show it (when this test was written).
  EXPECT_GT(gemm, 0);
  EXPECT_GE(2 * caught, gemm);
}

TEST(AccumulatorBound, unsigned_codes_need_one_more_signed_bit) {
  // An unsigned 8-bit activation (0..255) does not fit IMMA's int8; an unsigned 7-bit one does.
  kn::ExactLayerSpec spec = fixed_spec(8, 32);
  spec.act.format.is_signed = false;
  const kn::GemmPlan refused = kn::integer_gemm_exact(spec, 16, kImma8);
  EXPECT_FALSE(refused.exact);
  EXPECT_NE(refused.why.find("9 x 8 signed bits"), std::string::npos) << refused.why;
  spec.act.format = ristsim::numeric::Format::fixed_point(7, 0);
  spec.act.format.is_signed = false;
  EXPECT_TRUE(kn::integer_gemm_exact(spec, 16, kImma8).exact);
  EXPECT_EQ(kn::code_value(spec.act.format, 0x7f), 127);  // not -1: zero-extended
}

// The one bound both integer routes call (the CUDA IMMA route per format, the CPU's int16 /
// VNNI kernels per value): at the accumulator's limit exactly, one more unit refuses.
TEST(AccumulatorBound, shared_bound_is_tight_at_the_limit) {
  using U = unsigned __int128;
  // 20-bit accumulator: limit 2^19 - 1 = 524287.
  EXPECT_TRUE(kn::accumulator_holds(524287, 0, 0, 20));
  EXPECT_FALSE(kn::accumulator_holds(524288, 0, 0, 20));
  EXPECT_TRUE(kn::accumulator_holds(524287 >> 3, 3, 524287 - ((524287 >> 3) << 3), 20));
  EXPECT_FALSE(kn::accumulator_holds(524287 >> 3, 3, 524287 - ((524287 >> 3) << 3) + 1, 20));
  EXPECT_FALSE(kn::accumulator_holds((524287 >> 3) + 1, 3, 0, 20));
  EXPECT_FALSE(kn::accumulator_holds(1, 64, 0, 127));  // no shift of 64 bits or more
  EXPECT_FALSE(kn::accumulator_holds(0, 0, 0, 0));
  // The worked numbers of accumulator_bound.h.
  EXPECT_TRUE(kn::accumulator_holds(kn::format_sum_bound(800, 8, 8), 0, 0, 32));
  EXPECT_EQ(kn::format_sum_bound(800, 8, 8), U(13107200));
  EXPECT_EQ(kn::value_sum_bound(90, 3000), U(270000));
  EXPECT_TRUE(kn::accumulator_holds(kn::value_sum_bound(90, 3000), 0, 0, 20));
  // A product that does not fit 128 bits saturates, and nothing holds it.
  EXPECT_EQ(kn::value_sum_bound(~uint64_t{0}, ~U{0} / 2), ~U{0});
  EXPECT_FALSE(kn::accumulator_holds(kn::value_sum_bound(~uint64_t{0}, ~U{0} / 2), 0, 0, 127));
}

// The value bound refines the format bound: never above it for codes of the format, so every
// layer the per-format route admits the per-value route admits too (seeded random channels).
TEST(AccumulatorBound, value_bound_never_exceeds_format_bound) {
  std::mt19937_64 rng(20261203);
  for (int trial = 0; trial < 2000; ++trial) {
    const int a_bits = 2 + int(rng() % 15), w_bits = 2 + int(rng() % 15);
    const int terms = 1 + int(rng() % 5000);
    uint64_t max_a = 0;
    unsigned __int128 sum_w = 0;
    for (int t = 0; t < terms; ++t) {
      const int64_t a = int64_t(rng() % (uint64_t{1} << a_bits)) - (int64_t{1} << (a_bits - 1));
      const int64_t w = int64_t(rng() % (uint64_t{1} << w_bits)) - (int64_t{1} << (w_bits - 1));
      max_a = std::max<uint64_t>(max_a, uint64_t(a < 0 ? -a : a));
      sum_w += uint64_t(w < 0 ? -w : w);
    }
    EXPECT_LE(kn::value_sum_bound(max_a, sum_w), kn::format_sum_bound(terms, a_bits, w_bits))
        << "trial " << trial << " seed 20261203";
  }
}
