// The exact datapath with MX operands (kernels/reference/exact_mx.h) against a
// slow oracle written from the spec's dot-product definition: element values
// from mx_oracle.h, each as an integer in units of its type's smallest
// subnormal, the block sum in 128-bit integers, times 2^(sa + sb) and the
// quanta, put on the grid 2^-F by its own shift-and-round code, the
// accumulator's saturation or wrap on A bits written out here. Only the output
// stage (acc * 2^-F to the output format) is the numeric core's quantize(),
// which the exhaustive format tests cover. MxExact.per_product_rounding_bad shows
// the comparison fails on a datapath that rounds each product instead of each block.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "kernels/reference/exact_mx.h"
#include "mx_oracle.h"
#include "numeric/numeric.h"

namespace ristsim::testing {
namespace {

using i128 = __int128;
using numeric::MxElement;
using numeric::Rounding;

/// log2 of the element type's smallest positive value (its integer unit).
int unit_exp(MxElement e) {
  double m = INFINITY;
  for (uint32_t c = 0; c < (1u << oracle::mx_spec(e).bits); ++c) {
    const double v = std::fabs(oracle::mx_element_value(e, c));
    if (std::isfinite(v) && v > 0) m = std::fmin(m, v);
  }
  int ex = 0;
  std::frexp(m, &ex);
  return ex - 1;
}

/// s * 2^sh rounded to an integer (sh may be negative), modulo 2^64.
int64_t oracle_align(i128 s, int sh, Rounding r) {
  if (sh >= 0) return sh >= 64 ? 0 : static_cast<int64_t>(static_cast<uint64_t>(s) << sh);
  const int d = -sh;
  if (s == 0) return 0;
  if (d >= 100) {  // |s| < 2^70: the value lies strictly between -1 and 1, never a half
    const bool neg = s < 0;
    switch (r) {
      case Rounding::down: return neg ? -1 : 0;
      case Rounding::up: return neg ? 0 : 1;
      default: return 0;  // toward zero and nearest
    }
  }
  const i128 fl = s >> d;  // arithmetic shift: floor(s / 2^d)
  const i128 rem = s - fl * (static_cast<i128>(1) << d);  // in [0, 2^d)
  i128 q = fl;
  if (rem != 0) {
    const i128 half = static_cast<i128>(1) << (d - 1);
    switch (r) {
      case Rounding::down: break;
      case Rounding::up: q = fl + 1; break;
      case Rounding::toward_zero: q = s < 0 ? fl + 1 : fl; break;
      case Rounding::nearest_even:
        if (rem > half || (rem == half && (fl & 1))) q = fl + 1;
        break;
      default: throw std::runtime_error("oracle: rounding not covered");
    }
  }
  return static_cast<int64_t>(static_cast<uint64_t>(q));
}

int64_t oracle_acc(i128 v, int bits, bool saturate, uint64_t* ovf) {
  const i128 max = (static_cast<i128>(1) << (bits - 1)) - 1, min = -max - 1;
  if (v >= min && v <= max) return static_cast<int64_t>(v);
  ++*ovf;
  if (saturate) return static_cast<int64_t>(v > max ? max : min);
  const uint64_t low = static_cast<uint64_t>(v) & numeric::low_mask(bits);
  return numeric::sign_extend(low, bits);
}

struct Case {
  MxElement ea, ew;
  int block = 32;
  std::vector<kernels::ExactTerm> terms;
  std::vector<uint8_t> sa, sw;
  uint32_t bias = 0;
  int frac_bits = 16, acc_bits = 48;
  bool saturate = true;
  Rounding align = Rounding::down;
};

kernels::ExactLayerSpec layer_spec(const Case& c) {
  kernels::ExactLayerSpec s;
  numeric::MxFormat fa, fw;
  fa.element = c.ea;
  fw.element = c.ew;
  s.act = numeric::mx_element_quantizer(fa);
  s.wt = numeric::mx_element_quantizer(fw);
  s.bias.format = numeric::Format::fixed_point(16, 8);
  s.out.format = numeric::Format::fixed_point(32, 8);
  s.acc.bits = c.acc_bits;
  s.acc.frac_bits = c.frac_bits;
  s.acc.frac_bits_auto = false;
  s.acc.overflow = c.saturate ? numeric::Overflow::saturate : numeric::Overflow::wrap;
  s.acc.align_rounding = c.align;
  s.lanes = 16;
  s.stream = 0;
  s.has_bias = true;
  return s;
}

/// The oracle's output code and accumulator; per_product: the planted bug.
uint32_t oracle_dot(const Case& c, bool per_product = false) {
  const kernels::ExactLayerSpec spec = layer_spec(c);
  const int ua = unit_exp(c.ea), uw = unit_exp(c.ew);
  uint64_t ovf = 0;
  int64_t acc = 0;
  bool nan = false;
  for (size_t b = 0; b * c.block < c.terms.size(); ++b) {
    const bool nan_scale = c.sa[b] == 255 || c.sw[b] == 255;
    nan = nan || nan_scale;
    const int sh = ua + uw + (c.sa[b] - 127) + (c.sw[b] - 127) + c.frac_bits;
    i128 sum = 0, aligned_sum = 0;
    for (size_t i = b * c.block; i < c.terms.size() && i < (b + 1) * c.block; ++i) {
      const kernels::ExactTerm& t = c.terms[i];
      if (t.padding) continue;
      const double va = oracle::mx_element_value(c.ea, t.act_code);
      const double vw = oracle::mx_element_value(c.ew, t.wt_code);
      if (!std::isfinite(va) || !std::isfinite(vw)) {
        nan = true;
        continue;
      }
      const i128 p = static_cast<i128>(std::ldexp(va, -ua)) * static_cast<i128>(std::ldexp(vw, -uw));
      sum += p;
      if (per_product) aligned_sum += oracle_align(p, sh, c.align);
    }
    const int64_t aligned = nan_scale ? 0 : per_product ? static_cast<int64_t>(aligned_sum)
                                                        : oracle_align(sum, sh, c.align);
    acc = oracle_acc(static_cast<i128>(acc) + aligned, c.acc_bits, c.saturate, &ovf);
  }
  const int64_t bias_q = numeric::sign_extend(c.bias, 16);  // fixed<16,8>
  acc = oracle_acc(static_cast<i128>(acc) + oracle_align(bias_q, c.frac_bits - 8, c.align),
                   c.acc_bits, c.saturate, &ovf);
  numeric::Quantizer out = spec.out;
  if (nan) return static_cast<uint32_t>(numeric::quantize(out, std::nan("")).code);
  numeric::Dyadic v{acc < 0, acc < 0 ? 0 - static_cast<uint64_t>(acc) : static_cast<uint64_t>(acc),
                    -c.frac_bits};
  return static_cast<uint32_t>(numeric::quantize(out, v).code);
}

uint32_t reference_dot(const Case& c) {
  const kernels::ExactLayerSpec spec = layer_spec(c);
  kernels::ExactMxSpec mx;
  mx.act_mx = mx.wt_mx = true;
  mx.block = c.block;
  EXPECT_EQ(kernels::validate(spec, mx), nullptr);
  return kernels::exact_mx_dot(spec, mx, c.terms.data(), c.terms.size(), c.sa.data(), c.sw.data(),
                               c.bias, 0, nullptr);
}

const MxElement kPairs[][2] = {
    {MxElement::e4m3, MxElement::e4m3}, {MxElement::e4m3, MxElement::e5m2},
    {MxElement::e3m2, MxElement::e2m3}, {MxElement::e2m1, MxElement::e2m1},
    {MxElement::int8, MxElement::int8}, {MxElement::e2m1, MxElement::int8}};

Case random_case(std::mt19937& rng, MxElement ea, MxElement ew) {
  Case c;
  c.ea = ea;
  c.ew = ew;
  std::uniform_int_distribution<int> len(1, 100), pad(0, 9), bias(0, 65535), fbits(-8, 40),
      wide(0, 254), near(117, 137), pick(0, 3), abits(12, 64);
  const int n = len(rng);
  const uint32_t na = 1u << oracle::mx_spec(ea).bits, nw = 1u << oracle::mx_spec(ew).bits;
  for (int i = 0; i < n; ++i) {
    kernels::ExactTerm t;
    t.act_code = static_cast<uint32_t>(rng() % na);
    t.wt_code = static_cast<uint32_t>(rng() % nw);
    t.padding = pad(rng) == 0;
    c.terms.push_back(t);
  }
  const bool spread = pick(rng) == 0;
  for (int b = 0; b * 32 < n; ++b) {
    c.sa.push_back(static_cast<uint8_t>(spread ? wide(rng) : near(rng)));
    c.sw.push_back(static_cast<uint8_t>(spread ? wide(rng) : near(rng)));
  }
  c.bias = static_cast<uint32_t>(bias(rng));
  c.frac_bits = fbits(rng);
  c.acc_bits = abits(rng);
  c.saturate = pick(rng) != 0;
  const Rounding modes[] = {Rounding::down, Rounding::nearest_even, Rounding::toward_zero,
                            Rounding::up};
  c.align = modes[pick(rng)];
  return c;
}

TEST(MxExact, random_blocks_against_the_oracle) {
  const unsigned seed = 77;
  std::mt19937 rng(seed);
  for (int it = 0; it < 3000; ++it)
    for (const auto& p : kPairs) {
      const Case c = random_case(rng, p[0], p[1]);
      ASSERT_EQ(reference_dot(c), oracle_dot(c))
          << "seed " << seed << " iteration " << it << ", " << numeric::mx_name(p[0]) << " x "
          << numeric::mx_name(p[1]) << ", F " << c.frac_bits << ", A " << c.acc_bits << ", "
          << numeric::to_string(c.align);
    }
}

TEST(MxExact, corner_blocks) {
  for (const auto& p : kPairs) {
    const uint32_t na = 1u << oracle::mx_spec(p[0]).bits;
    Case c;
    c.ea = p[0];
    c.ew = p[1];
    // The largest magnitude codes (0x7e / 0x7b / 0x1f / 0x7 / 0x7f ...) in every lane.
    const numeric::Format fa = numeric::MxFormat{p[0]}.element_format();
    const numeric::Format fw = numeric::MxFormat{p[1]}.element_format();
    for (int i = 0; i < 64; ++i)
      c.terms.push_back({static_cast<uint32_t>(numeric::max_code(fa)),
                         static_cast<uint32_t>(i % 2 ? numeric::max_code(fw) : numeric::min_code(fw)),
                         false});
    for (uint8_t s : {uint8_t{254}, uint8_t{0}, uint8_t{127}, uint8_t{140}}) {
      c.sa = {s, 127};
      c.sw = {127, s};
      for (int f : {0, 16, 40}) {
        c.frac_bits = f;
        EXPECT_EQ(reference_dot(c), oracle_dot(c)) << numeric::mx_name(p[0]) << " scale " << int(s);
      }
    }
    // A NaN scale makes the output NaN (the output format's NaN, here fixed: 0).
    c.sa = {255, 127};
    EXPECT_EQ(reference_dot(c), oracle_dot(c));
    // All padding: zero products, the bias alone.
    for (auto& t : c.terms) t.padding = true;
    c.sa = {127, 127};
    c.bias = 0x0180;  // 1.5
    c.frac_bits = 8;
    EXPECT_EQ(reference_dot(c), 0x180u);
    (void)na;
  }
}

TEST(MxExact, worked_example) {
  // MXFP4 x MXFP4, one block: a = {1, -0.5, 6}, w = {2, 2, 0.5} at scales 2^1 and 2^-2:
  // sum = 2 - 1 + 3 = 4, times 2^(1 - 2) = 2; no bias: output 2.0 in fixed<32,8> = 0x200.
  Case c;
  c.ea = c.ew = MxElement::e2m1;
  c.terms = {{0x2, 0x4, false}, {0x9, 0x4, false}, {0x7, 0x1, false}};
  c.sa = {128};
  c.sw = {125};
  c.frac_bits = 8;
  EXPECT_EQ(reference_dot(c), 0x200u);
  EXPECT_EQ(oracle_dot(c), 0x200u);
}

TEST(MxExact, validation) {
  Case c;
  c.ea = c.ew = MxElement::e5m2;
  kernels::ExactMxSpec mx;
  mx.act_mx = mx.wt_mx = true;
  EXPECT_NE(kernels::validate(layer_spec(c), mx), nullptr);  // E5M2 x E5M2: > 64 bits
  c.ea = MxElement::e4m3;
  EXPECT_EQ(kernels::validate(layer_spec(c), mx), nullptr);
  kernels::ExactLayerSpec s = layer_spec(c);
  s.acc.frac_bits_auto = true;
  EXPECT_NE(kernels::validate(s, mx), nullptr);
  mx.act_mx = mx.wt_mx = false;
  EXPECT_NE(kernels::validate(layer_spec(c), mx), nullptr);
}

// The comparison must catch a datapath that aligns (truncates) each product on
// its own instead of the block's exact sum.
TEST(MxExact, per_product_rounding_bad) {
  std::mt19937 rng(5);
  int differ = 0;
  for (int it = 0; it < 200; ++it) {
    Case c = random_case(rng, MxElement::e4m3, MxElement::e4m3);
    c.align = Rounding::down;
    c.frac_bits = 0;  // coarse: most products have bits below the grid
    c.sa.assign(c.sa.size(), 127);
    c.sw.assign(c.sw.size(), 127);
    c.acc_bits = 48;
    differ += oracle_dot(c, true) != reference_dot(c);
  }
  EXPECT_GT(differ, 50);
}

}  // namespace
}  // namespace ristsim::testing
