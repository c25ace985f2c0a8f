// Directed tests of the reference exact datapath against values computed by
// hand (docs/datapath.md, steps 1 to 6).
#include <gtest/gtest.h>

#include "exact_cases.h"

namespace ristsim::testing {
namespace {

using kernels::exact_dot;
using kernels::ExactDotTrace;
using kernels::ExactTerm;

/// fixed<8,0> activations and weights, no bias, fixed<8,0> output, A bits.
ExactLayerSpec int8_spec(int acc_bits, Overflow ovf, int lanes) {
  ExactLayerSpec s{};
  s.act = quantizer(Format::fixed_point(8, 0));
  s.wt = quantizer(Format::fixed_point(8, 0));
  s.bias = quantizer(Format::fixed_point(8, 0));
  s.out = quantizer(Format::fixed_point(8, 0));
  s.acc = config::AccumulatorSpec{};
  s.acc.bits = acc_bits;
  s.acc.overflow = ovf;
  s.lanes = lanes;
  s.stream = 0;
  s.has_bias = false;
  return s;
}

uint32_t code8(int v) {
  return static_cast<uint32_t>(v) & 0xff;
}

std::vector<ExactTerm> terms8(std::initializer_list<std::pair<int, int>> aw) {
  std::vector<ExactTerm> t;
  for (auto [a, w] : aw) t.push_back(ExactTerm{code8(a), code8(w), false});
  return t;
}

TEST(ExactReference, three_terms_chunk_overflow_saturate) {
  // Products 100, 100, -100 in an 8-bit accumulator [-128, 127].
  const auto t = terms8({{100, 1}, {100, 1}, {-100, 1}});
  struct Row {
    int lanes;
    Overflow ovf;
    int out;
    uint64_t overflows;
  };
  const Row rows[] = {
      {1, Overflow::saturate, 27, 1},   // 100, 200 -> 127 (1), 27
      {1, Overflow::wrap, 100, 2},      // 100, 200 -> -56 (1), -156 -> 100 (2)
      {2, Overflow::saturate, 27, 1},   // chunk 200 -> 127 (1), then -100: 27
      {2, Overflow::wrap, 100, 2},      // chunk 200 -> -56 (1), then -100: -156 -> 100 (2)
      {3, Overflow::saturate, 100, 0},  // one chunk: 100
      {4, Overflow::saturate, 100, 0},  // one chunk padded with a zero lane
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(::testing::Message() << "lanes " << r.lanes << " " << to_string(r.ovf));
    ExactStats st;
    ExactDotTrace tr;
    const uint32_t out =
        exact_dot(int8_spec(8, r.ovf, r.lanes), t.data(), t.size(), 0, 0, &st, &tr);
    EXPECT_EQ(out, code8(r.out));
    EXPECT_EQ(st.acc_overflows, r.overflows);
    EXPECT_EQ(tr.chunk_sums.size(), (t.size() + r.lanes - 1) / r.lanes);
  }
}

TEST(ExactReference, chunk_trace) {
  const auto t = terms8({{100, 1}, {100, 1}, {-100, 1}});
  ExactDotTrace tr;
  exact_dot(int8_spec(8, Overflow::saturate, 1), t.data(), t.size(), 0, 0, nullptr, &tr);
  EXPECT_EQ(tr.aligned, (std::vector<int64_t>{100, 100, -100}));
  EXPECT_EQ(tr.chunk_sums, (std::vector<int64_t>{100, 100, -100}));
  EXPECT_EQ(tr.acc_after, (std::vector<int64_t>{100, 127, 27}));
  EXPECT_EQ(tr.acc_final, 27);
}

TEST(ExactReference, bias_overflow) {
  const auto t = terms8({{120, 1}});
  ExactLayerSpec s = int8_spec(8, Overflow::saturate, 16);
  s.has_bias = true;
  ExactStats st;
  EXPECT_EQ(exact_dot(s, t.data(), t.size(), code8(10), 0, &st), code8(127));  // 130 -> 127
  EXPECT_EQ(st.acc_overflows, 1u);
  s.acc.overflow = Overflow::wrap;
  EXPECT_EQ(exact_dot(s, t.data(), t.size(), code8(10), 0, nullptr), code8(-126));  // 130 - 256
}

TEST(ExactReference, alignment_rounding) {
  // fixed<8,1> x fixed<8,1>: 1.5 * 1.5 = 2.25 and 1.5 * -1.5 = -2.25 onto F = 0.
  ExactLayerSpec s = int8_spec(16, Overflow::saturate, 16);
  s.act.format = Format::fixed_point(8, 1);
  s.wt.format = Format::fixed_point(8, 1);
  s.acc.frac_bits_auto = false;
  s.acc.frac_bits = 0;
  struct Row {
    Rounding r;
    int pos, neg;
  };
  const Row rows[] = {{Rounding::down, 2, -3},
                      {Rounding::up, 3, -2},
                      {Rounding::toward_zero, 2, -2},
                      {Rounding::nearest_even, 2, -2},
                      {Rounding::nearest_away, 2, -2}};
  for (const Row& r : rows) {
    SCOPED_TRACE(to_string(r.r));
    s.acc.align_rounding = r.r;
    const auto tp = terms8({{3, 3}});
    const auto tn = terms8({{3, -3}});
    EXPECT_EQ(exact_dot(s, tp.data(), 1, 0, 0, nullptr), code8(r.pos));
    EXPECT_EQ(exact_dot(s, tn.data(), 1, 0, 0, nullptr), code8(r.neg));
  }
  // 2.5 (1.25 * 2, fixed<8,2> x fixed<8,0>): ties.
  s.act.format = Format::fixed_point(8, 2);
  s.wt.format = Format::fixed_point(8, 0);
  const auto t = terms8({{5, 2}});  // 1.25 * 2 = 2.5
  s.acc.align_rounding = Rounding::nearest_even;
  EXPECT_EQ(exact_dot(s, t.data(), 1, 0, 0, nullptr), code8(2));
  s.acc.align_rounding = Rounding::nearest_away;
  EXPECT_EQ(exact_dot(s, t.data(), 1, 0, 0, nullptr), code8(3));
}

TEST(ExactReference, padding_keeps_its_lane) {
  // One input pixel (5), a 3x3 kernel of ones, padding 1: nine terms, only the
  // centre one real; 4 lanes: chunks {0,0,0,0}, {5,0,0,0}, {0}.
  ConvShape s = finish_shape(ConvShape{1, 1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0});
  ASSERT_EQ(s.oh, 1);
  const std::vector<uint32_t> in = {5}, w(9, 1);
  const auto terms = kernels::conv_terms(s, in.data(), w.data(), 0, 0, 0, 0);
  ASSERT_EQ(terms.size(), 9u);
  for (size_t i = 0; i < 9; ++i) EXPECT_EQ(terms[i].padding, i != 4);
  ExactDotTrace tr;
  EXPECT_EQ(exact_dot(int8_spec(32, Overflow::saturate, 4), terms.data(), 9, 0, 0, nullptr, &tr),
            5u);
  EXPECT_EQ(tr.chunk_sums, (std::vector<int64_t>{0, 5, 0}));
  EXPECT_EQ(tr.acc_after, (std::vector<int64_t>{0, 5, 5}));
}

TEST(ExactReference, padding_is_zero_without_a_zero_code) {
  // Ristretto's minifloat has no zero at code 0 and pow2 without a zero code
  // none at all: a padded term is still a zero product.
  ExactLayerSpec s = int8_spec(32, Overflow::saturate, 16);
  s.act.format = Format::pow2(4, 0, false);  // code 0 is 2^-7
  const ExactTerm pad{0, 1, true};
  EXPECT_EQ(exact_dot(s, &pad, 1, 0, 0, nullptr), 0u);
  const ExactTerm real{0x7, 64, false};  // 2^0 * 64
  EXPECT_EQ(exact_dot(s, &real, 1, 0, 0, nullptr), 64u);
}

TEST(ExactReference, pow2_weight_is_a_shift) {
  // 5 x 2^-2 = 1.25; pow2<4, exp_max -1>: exponents -8..-1, FL 8, so F = 0 + 8
  // and the aligned product is 1.25 * 2^8 = 320; output fixed<8,2>: code 5.
  ExactLayerSpec s = int8_spec(32, Overflow::saturate, 16);
  s.wt.format = Format::pow2(4, -1, false);
  s.out.format = Format::fixed_point(8, 2);
  EXPECT_EQ(kernels::accumulator_frac_bits(s), 8);
  const ExactTerm t{5, 6, false};  // field 6: 2^(-8 + 6)
  ExactDotTrace tr;
  EXPECT_EQ(exact_dot(s, &t, 1, 0, 0, nullptr, &tr), 5u);
  EXPECT_EQ(tr.aligned, (std::vector<int64_t>{320}));
  const ExactTerm tn{5, 8 | 6, false};  // -2^-2
  EXPECT_EQ(exact_dot(s, &tn, 1, 0, 0, nullptr), code8(-5));
}

TEST(ExactReference, frac_bits_auto) {
  ExactLayerSpec s = int8_spec(32, Overflow::saturate, 16);
  s.act.format = Format::fixed_point(8, 4);
  s.wt.format = Format::fixed_point(8, 6);
  EXPECT_EQ(kernels::product_frac_bits(s), 10);
  s.act.format = Format::e4m3();
  s.wt.format = Format::e4m3();
  EXPECT_EQ(kernels::product_frac_bits(s), 18);
  s.act.format = Format::fixed_point(8, 3);
  s.wt.format = Format::pow2(4, -1, false);
  EXPECT_EQ(kernels::product_frac_bits(s), 11);
  s.acc.frac_bits_auto = false;
  s.acc.frac_bits = 4;
  EXPECT_EQ(kernels::accumulator_frac_bits(s), 4);
}

TEST(ExactReference, minifloat_exact_products) {
  // e4m3: 1.125 (0x39) x -3.5 (0xC6) = -3.9375, exactly; output e4m3 nearest
  // even: between -3.75 and -4.0, nearer -4.0 (0xC8).
  ExactLayerSpec s = int8_spec(48, Overflow::saturate, 16);
  s.act.format = s.wt.format = s.out.format = Format::e4m3();
  ASSERT_EQ(numeric::decode(Format::e4m3(), 0x39), 1.125);
  ASSERT_EQ(numeric::decode(Format::e4m3(), 0xC6), -3.5);
  const ExactTerm t{0x39, 0xC6, false};
  ExactDotTrace tr;
  EXPECT_EQ(exact_dot(s, &t, 1, 0, 0, nullptr, &tr), 0xC8u);
  EXPECT_EQ(tr.aligned, (std::vector<int64_t>{-(63 << 14)}));  // -3.9375 * 2^18
}

TEST(ExactReference, nan_operand) {
  ExactLayerSpec s = int8_spec(48, Overflow::saturate, 16);
  s.act.format = s.wt.format = s.out.format = Format::e4m3();
  const ExactTerm t[2] = {{0x7F, 0x38, false}, {0x38, 0x38, false}};  // NaN x 1, 1 x 1
  ExactStats st;
  EXPECT_EQ(exact_dot(s, t, 2, 0, 0, &st), 0x7Fu);
  EXPECT_EQ(st.out_nans, 1u);
  // A NaN weight on a padded position does not count: the product is zero.
  const ExactTerm p[2] = {{0, 0x7F, true}, {0x38, 0x38, false}};
  EXPECT_EQ(exact_dot(s, p, 2, 0, 0, nullptr), 0x38u);
  // A format without NaN gives zero (quantize's rule for NaN) and counts it.
  s.out.format = Format::fixed_point(8, 0);
  ExactStats st2;
  EXPECT_EQ(exact_dot(s, t, 2, 0, 0, &st2), 0u);
  EXPECT_EQ(st2.out_nans, 1u);
}

TEST(ExactReference, hand_convolution) {
  // 3x3 input 1..9, 2x2 kernel {1,2,3,4}, stride 1: 37 47 67 77; bias 1.
  const ConvShape s = finish_shape(ConvShape{1, 1, 3, 3, 1, 2, 2, 1, 1, 0, 0, 1, 1, 1, 0, 0});
  const std::vector<uint32_t> in = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w = {1, 2, 3, 4}, b = {1};
  ExactLayerSpec sp = int8_spec(32, Overflow::saturate, 16);
  sp.has_bias = true;
  std::vector<uint32_t> out(4);
  kernels::exact_conv_reference(s, sp, in.data(), w.data(), b.data(), out.data(), nullptr);
  EXPECT_EQ(out, (std::vector<uint32_t>{38, 48, 68, 78}));
  // Output fixed<8,-1> (steps of 2), nearest even, no bias: 18.5 -> 18,
  // 23.5 -> 24, 33.5 -> 34, 38.5 -> 38.
  sp.has_bias = false;
  sp.out.format = Format::fixed_point(8, -1);
  kernels::exact_conv_reference(s, sp, in.data(), w.data(), b.data(), out.data(), nullptr);
  EXPECT_EQ(out, (std::vector<uint32_t>{18, 24, 34, 38}));
  // Output saturation: fixed<8,2> tops out at 31.75.
  sp.out.format = Format::fixed_point(8, 2);
  ExactStats st;
  kernels::exact_conv_reference(s, sp, in.data(), w.data(), b.data(), out.data(), &st);
  EXPECT_EQ(out, (std::vector<uint32_t>{127, 127, 127, 127}));
  EXPECT_EQ(st.out_saturations, 4u);
}

TEST(ExactReference, grouped_term_order) {
  // groups 2: output channel 1 reads input channels 2..3; terms ordered by
  // input channel, then kernel row, then column.
  const ConvShape s = finish_shape(ConvShape{1, 4, 2, 2, 2, 2, 1, 1, 1, 0, 0, 1, 1, 2, 0, 0});
  std::vector<uint32_t> in(16), w(2 * 2 * 2 * 1);
  for (uint32_t i = 0; i < 16; ++i) in[i] = i;
  for (uint32_t i = 0; i < 8; ++i) w[i] = 100 + i;
  const auto t = kernels::conv_terms(s, in.data(), w.data(), 0, 1, 0, 1);
  ASSERT_EQ(t.size(), 4u);
  // channel 2 rows 0,1 at x = 1: 9, 11; channel 3: 13, 15.
  EXPECT_EQ(t[0].act_code, 9u);
  EXPECT_EQ(t[1].act_code, 11u);
  EXPECT_EQ(t[2].act_code, 13u);
  EXPECT_EQ(t[3].act_code, 15u);
  EXPECT_EQ(t[0].wt_code, 104u);
  EXPECT_EQ(t[3].wt_code, 107u);
}

TEST(ExactReference, stochastic_output_uses_stream_and_index) {
  ExactLayerSpec s = int8_spec(32, Overflow::saturate, 16);
  s.act.format = Format::fixed_point(8, 4);
  s.out.rounding = Rounding::stochastic;
  s.out.seed = 1234;
  s.out.stream = 999;  // replaced by s.stream
  s.stream = 7;
  const ExactTerm t{0x13, 0x3, false};  // 19/16 * 3 = 57/16 = 3.5625
  Quantizer q = s.out;
  q.stream = 7;
  numeric::Dyadic v{false, 57, -4};
  int differ = 0;
  for (uint64_t index = 0; index < 64; ++index) {
    const uint32_t got = exact_dot(s, &t, 1, 0, index, nullptr);
    EXPECT_EQ(got, numeric::quantize(q, v, index).code) << index;
    differ += got != exact_dot(s, &t, 1, 0, 0, nullptr);
  }
  EXPECT_GT(differ, 0);
}

}  // namespace
}  // namespace ristsim::testing

namespace ristsim::testing {
namespace {

/// Every pair of codes of two small formats: with exact alignment (F auto) the
/// aligned product is the product of the decoded values times 2^F, which a
/// double holds exactly for these formats (an independent oracle).
TEST(ExactReference, exhaustive_products_exact_alignment) {
  struct Pair {
    const char* name;
    Format a, w;
  };
  const Pair pairs[] = {
      {"e4m3 x e4m3", Format::e4m3(), Format::e4m3()},
      {"minifloat8 x minifloat8", Format::minifloat(4, 3, numeric::Specials::none, false),
       Format::minifloat(4, 3, numeric::Specials::none, false)},
      {"fixed<8,3> x pow2<4,-1>", Format::fixed_point(8, 3), Format::pow2(4, -1, false)},
      {"fixed<4,1> x fixed<4,3>", Format::fixed_point(4, 1), Format::fixed_point(4, 3)},
      {"fixed<8,5> x fixed<8,7>", Format::fixed_point(8, 5), Format::fixed_point(8, 7)},
      {"e5m2 x fixed<8,0>", Format::e5m2(), Format::fixed_point(8, 0)},
  };
  for (const Pair& p : pairs) {
    SCOPED_TRACE(p.name);
    ExactLayerSpec s{};
    s.act = quantizer(p.a);
    s.wt = quantizer(p.w);
    s.bias = quantizer(Format::fixed_point(8, 0));
    s.out = quantizer(Format::fixed_point(8, 0));
    s.acc = config::AccumulatorSpec{};
    s.acc.bits = 64;
    s.lanes = 1;
    s.has_bias = false;
    const int f = kernels::accumulator_frac_bits(s);
    int checked = 0;
    for (uint32_t ac = 0; ac < (1u << p.a.code_bits()); ++ac) {
      for (uint32_t wc = 0; wc < (1u << p.w.code_bits()); ++wc) {
        numeric::Dyadic da, dw;
        if (!numeric::decode_exact(p.a, ac, &da) || !numeric::decode_exact(p.w, wc, &dw)) continue;
        const ExactTerm t{ac, wc, false};
        ExactDotTrace tr;
        exact_dot(s, &t, 1, 0, 0, nullptr, &tr);
        const double expected = std::ldexp(numeric::decode(p.a, ac) * numeric::decode(p.w, wc), f);
        ASSERT_EQ(static_cast<double>(tr.aligned[0]), expected) << "codes " << ac << ", " << wc;
        ++checked;
      }
    }
    EXPECT_GT(checked, 200);
  }
}

}  // namespace
}  // namespace ristsim::testing
