// The OCP MX block formats of the numeric core (sim/numeric/mx.h) against the
// independent oracle of mx_oracle.h: every element code of every element type
// decoded; every representable value, every midpoint between neighbours and the
// doubles next to them quantized under several scales; the scale selection on
// blocks of zeros, of float subnormals, at the largest values and NaN/inf; seeded
// random blocks. MxOracle.catches_a_ceil_scale_bad shows the comparison fails on a
// planted bug (a scale chosen with ceil instead of floor).
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <random>
#include <vector>

#include "mx_oracle.h"
#include "numeric/mx.h"

namespace ristsim::testing {
namespace {

using numeric::kAllMxElements;
using numeric::MxElement;
using numeric::MxFormat;

MxFormat mx(MxElement e) {
  MxFormat f;
  f.element = e;
  return f;
}

uint32_t code_count(MxElement e) { return 1u << oracle::mx_spec(e).bits; }

/// Sorted distinct finite element values.
std::vector<double> finite_values(MxElement e) {
  std::vector<double> v;
  for (uint32_t c = 0; c < code_count(e); ++c) {
    const double x = oracle::mx_element_value(e, c);
    if (std::isfinite(x)) v.push_back(x);
  }
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

TEST(MxElements, every_code_decodes_as_the_spec_says) {
  for (MxElement e : kAllMxElements) {
    const MxFormat f = mx(e);
    for (uint32_t c = 0; c < code_count(e); ++c) {
      const double want = oracle::mx_element_value(e, c);
      for (int scale : {127, 0, 100, 130, 254}) {
        const double got = numeric::mx_decode(f, static_cast<uint8_t>(scale), c);
        const double w = std::ldexp(want, scale - 127);
        if (std::isnan(want)) {
          EXPECT_TRUE(std::isnan(got)) << numeric::mx_name(e) << " code " << c;
        } else {
          EXPECT_EQ(got, w) << numeric::mx_name(e) << " code " << c << " scale " << scale;
        }
      }
      EXPECT_TRUE(std::isnan(numeric::mx_decode(f, numeric::kMxScaleNan, c)));
    }
  }
}

TEST(MxElements, ranges_of_the_spec_table) {
  // Spec table 1: the largest normal of each element type, and emax_elem.
  const struct { MxElement e; double max; int emax; int bits; } rows[] = {
      {MxElement::e4m3, 448, 8, 8},   {MxElement::e5m2, 57344, 15, 8},
      {MxElement::e3m2, 28, 4, 6},    {MxElement::e2m3, 7.5, 2, 6},
      {MxElement::e2m1, 6, 2, 4},     {MxElement::int8, 127.0 / 64, 0, 8}};
  for (const auto& r : rows) {
    EXPECT_EQ(finite_values(r.e).back(), r.max) << numeric::mx_name(r.e);
    EXPECT_EQ(numeric::max_value(mx(r.e).element_format()), r.max) << numeric::mx_name(r.e);
    EXPECT_EQ(mx(r.e).emax_elem(), r.emax);
    EXPECT_EQ(mx(r.e).element_bits(), r.bits);
    EXPECT_EQ(oracle::mx_spec(r.e).emax, r.emax);
  }
  EXPECT_EQ(finite_values(MxElement::e2m1),
            (std::vector<double>{-6, -4, -3, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3, 4, 6}));
  EXPECT_EQ(finite_values(MxElement::int8).front(), -2.0);
}

TEST(MxElements, every_value_and_midpoint_quantized) {
  for (MxElement e : kAllMxElements) {
    const MxFormat f = mx(e);
    const std::vector<double> v = finite_values(e);
    std::vector<double> inputs;
    for (size_t i = 0; i < v.size(); ++i) {
      inputs.push_back(v[i]);
      if (i + 1 < v.size()) {
        const double mid = (v[i] + v[i + 1]) / 2;  // exact: a dyadic with one more bit
        inputs.push_back(mid);
        inputs.push_back(std::nextafter(mid, -INFINITY));
        inputs.push_back(std::nextafter(mid, INFINITY));
      }
    }
    // Beyond the range (saturation) and negative zero.
    const double step = v.back() - v[v.size() - 2];
    for (double x : {v.back() + step / 2, v.back() + step, v.back() * 4, -v.back() - step / 2,
                     -v.back() * 4, -0.0, -1e-30})
      inputs.push_back(x);
    for (int scale : {127, 0, 90, 131, 254}) {
      for (double t : inputs) {
        const double x = std::ldexp(t, scale - 127);
        const uint32_t want = oracle::mx_element_code(e, t);
        const numeric::Quantized got = numeric::mx_quantize_element(f, static_cast<uint8_t>(scale), x);
        ASSERT_EQ(got.code, want) << numeric::mx_name(e) << " scale " << scale << " x/X " << t;
        EXPECT_EQ(got.value, oracle::mx_element_value(e, want));
      }
    }
  }
}

/// A block quantizer: scale code, element codes, dequantized values.
using BlockFn = uint8_t (*)(const MxFormat&, const double*, size_t, uint32_t*, double*);

uint8_t core_block(const MxFormat& f, const double* x, size_t n, uint32_t* c, double* v) {
  return numeric::mx_quantize_block(f, x, n, c, v);
}

/// The mismatches between a block quantizer and the oracle (scale, codes, and the
/// dequantized values against mx_decode of the codes); each is reported.
int block_mismatches(MxElement e, const std::vector<double>& x, const char* what,
                     BlockFn fn = core_block, bool report = true) {
  const MxFormat f = mx(e);
  std::vector<uint32_t> codes(x.size());
  std::vector<double> values(x.size());
  const uint8_t s = fn(f, x.data(), x.size(), codes.data(), values.data());
  const oracle::MxBlockResult want = oracle::mx_block(e, x);
  int bad = 0;
  if (s != want.scale) {
    ++bad;
    if (report)
      ADD_FAILURE() << numeric::mx_name(e) << ": " << what << ": scale " << int(s) << ", oracle "
                  << int(want.scale);
  }
  for (size_t i = 0; i < x.size(); ++i) {
    if (codes[i] != want.codes[i]) {
      ++bad;
      if (report)
        ADD_FAILURE() << numeric::mx_name(e) << ": " << what << ", element " << i << " = " << x[i]
                    << ": code " << codes[i] << ", oracle " << want.codes[i];
    }
    const double d = numeric::mx_decode(f, s, codes[i]);
    if (std::isnan(d) ? !std::isnan(values[i]) : values[i] != d) ++bad;
  }
  return bad;
}

void expect_block(MxElement e, const std::vector<double>& x, const char* what) {
  EXPECT_EQ(block_mismatches(e, x, what), 0);
  // The float datapath's fast path gives the same values and saturation counts.
  const MxFormat f = mx(e);
  std::vector<double> y(x.size()), v(x.size());
  numeric::MxStats sf, sc;
  EXPECT_EQ(numeric::mx_fake_quantize_block(f, x.data(), x.size(), y.data(), &sf),
            numeric::mx_quantize_block(f, x.data(), x.size(), static_cast<uint32_t*>(nullptr),
                                       v.data(), &sc));
  for (size_t i = 0; i < x.size(); ++i)
    if (!(std::isnan(v[i]) && std::isnan(y[i])))
      EXPECT_EQ(y[i], v[i]) << numeric::mx_name(e) << ": " << what << ", element " << i;
  EXPECT_EQ(sf.saturations, sc.saturations);
  EXPECT_EQ(sf.nan_blocks, sc.nan_blocks);
}

TEST(MxScale, blocks_of_zeros_subnormals_and_extremes) {
  for (MxElement e : kAllMxElements) {
    const MxFormat f = mx(e);
    const double maxn = finite_values(e).back();
    expect_block(e, std::vector<double>(32, 0.0), "zeros");
    expect_block(e, {0.0, -0.0, 0.0}, "signed zeros");
    // The largest element value at scale 1: shared_exp 0 exactly.
    expect_block(e, {maxn, 1.0, -0.25, 0.0}, "max normal at X = 1");
    EXPECT_EQ(numeric::mx_scale_code(f, maxn), 127);
    // Just below and at a power of two.
    expect_block(e, {std::nextafter(std::ldexp(1.0, 10), 0.0), 3.0, -7.0}, "below 2^10");
    expect_block(e, {std::ldexp(1.0, 10), 3.0, -7.0}, "at 2^10");
    // Float subnormals and the smallest scale (clamped at -127).
    expect_block(e, {1e-45, -1e-45, 0.0}, "float subnormals");
    expect_block(e, {std::ldexp(1.0, -126), std::ldexp(3.0, -130), std::ldexp(1.0, -140)},
                 "float normal minimum");
    EXPECT_EQ(numeric::mx_scale_code(f, std::ldexp(1.0, -149)), 0);
    // The largest floats: scale 127 - emax + 127, never above 254.
    expect_block(e, {FLT_MAX, -FLT_MAX, 1.0}, "FLT_MAX");
    expect_block(e, {1e300, -1.0}, "beyond the scale's range");
    EXPECT_EQ(numeric::mx_scale_code(f, 1e300), 254);
    // NaN and infinity: the NaN scale.
    expect_block(e, {1.0, NAN, 2.0}, "NaN");
    expect_block(e, {1.0, -INFINITY}, "-inf");
    EXPECT_EQ(numeric::mx_quantize_block(f, std::vector<double>{INFINITY}.data(), 1, nullptr,
                                         static_cast<double*>(nullptr)),
              numeric::kMxScaleNan);
  }
}

TEST(MxScale, worked_example_of_the_header) {
  const MxFormat f = mx(MxElement::e2m1);
  const double x[] = {1.0, -0.3, 5.0};
  uint32_t c[3];
  double v[3];
  EXPECT_EQ(numeric::mx_quantize_block(f, x, 3, c, v), 127);
  EXPECT_EQ(c[0], 0x2u);
  EXPECT_EQ(c[1], 0x9u);
  EXPECT_EQ(c[2], 0x6u);
  EXPECT_EQ(v[1], -0.5);
  EXPECT_EQ(v[2], 4.0);
}

TEST(MxScale, random_blocks_against_the_oracle) {
  const unsigned seed = 20261203;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> mant(-1.0f, 1.0f);
  std::uniform_int_distribution<int> ex(-140, 120), spread(0, 24), len(1, 32), zero(0, 7);
  for (int it = 0; it < 1500; ++it) {
    for (MxElement e : kAllMxElements) {
      const int base = ex(rng), sp = spread(rng);
      std::vector<double> x(len(rng));
      for (double& v : x) {
        v = zero(rng) == 0 ? 0.0 : static_cast<double>(std::ldexp(mant(rng), base - sp / 2 + spread(rng) % (sp + 1)));
        v = static_cast<float>(v);  // float inputs, as the engine gives
      }
      SCOPED_TRACE("seed " + std::to_string(seed) + ", iteration " + std::to_string(it));
      expect_block(e, x, "random");
    }
  }
}

TEST(MxArray, blocks_of_an_array_and_a_short_last_block) {
  const MxFormat f = mx(MxElement::e4m3);
  std::vector<float> x(70);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i + 1) * (i < 32 ? 1.0 : 1e-3));
  std::vector<uint8_t> s(3);
  std::vector<uint32_t> c(70);
  std::vector<float> y(70);
  numeric::mx_quantize_array(f, x.data(), x.size(), s.data(), c.data(), y.data());
  for (int b = 0; b < 3; ++b) {
    const size_t b0 = b * 32, n = std::min<size_t>(32, 70 - b0);
    const oracle::MxBlockResult want =
        oracle::mx_block(MxElement::e4m3, std::vector<double>(x.begin() + b0, x.begin() + b0 + n));
    EXPECT_EQ(s[b], want.scale) << "block " << b;
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(c[b0 + i], want.codes[i]);
  }
  EXPECT_EQ(s[0], 127 + 5 - 8);  // max 32: floor(log2 32) = 5, emax 8
  EXPECT_EQ(y[31], 32.0f);
}

// The comparison must fail on a planted bug: a patched copy of the block quantizer
// that picks the scale with ceil(log2 max) instead of floor. Blocks whose maximum
// is not a power of two then get a scale one larger than the oracle's.
uint8_t ceil_scale_block(const MxFormat& f, const double* x, size_t n, uint32_t* c, double* v) {
  double amax = 0;
  for (size_t i = 0; i < n; ++i) amax = std::fmax(amax, std::fabs(x[i]));
  const uint8_t s = amax > 0 ? static_cast<uint8_t>(
                                   static_cast<int>(std::ceil(std::log2(amax))) - f.emax_elem() + 127)
                             : 0;
  for (size_t i = 0; i < n; ++i) {
    c[i] = static_cast<uint32_t>(numeric::mx_quantize_element(f, s, x[i]).code);
    v[i] = numeric::mx_decode(f, s, c[i]);
  }
  return s;
}

TEST(MxOracle, catches_a_ceil_scale_bad) {
  EXPECT_GE(block_mismatches(MxElement::e4m3, {3.0, 1.0, -0.7}, "", ceil_scale_block, false), 1);
  EXPECT_GE(block_mismatches(MxElement::e2m1, {5.5, 0.25}, "", ceil_scale_block, false), 1);
  // A power-of-two maximum is where floor and ceil agree: no mismatch, as it should.
  EXPECT_EQ(block_mismatches(MxElement::e2m1, {4.0, 0.25}, "", ceil_scale_block, false), 0);
  EXPECT_EQ(block_mismatches(MxElement::e2m1, {5.5, 0.25}, "core"), 0);
}

}  // namespace
}  // namespace ristsim::testing
