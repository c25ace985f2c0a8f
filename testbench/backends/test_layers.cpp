// Layer tests of the float engine: finite-difference gradient checks for every
// layer type (gradient_check.h states the tolerance and why), and forward
// values checked against direct formulas.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/layers.h"
#include "gradient_check.h"

namespace ristsim::testbench {
namespace {

using engine::LayerSpec;
using engine::Phase;

LayerSpec spec(const std::string& type, const std::string& name = "l") {
  LayerSpec s;
  s.name = name;
  s.type = type;
  return s;
}

struct ConvCase {
  int n, c, h, w, k, kh, kw, sh, sw, ph, pw, dh, dw, groups;
  bool bias;
};

/// Direct convolution in double: the definition.
std::vector<double> direct_conv(const ConvCase& p, const Blob& in, const Blob& wt, const Blob* b,
                                int oh, int ow) {
  std::vector<double> out(std::size_t(p.n) * p.k * oh * ow, 0.0);
  const int cg = p.c / p.groups, kg = p.k / p.groups;
  for (int n = 0; n < p.n; ++n)
    for (int k = 0; k < p.k; ++k)
      for (int y = 0; y < oh; ++y)
        for (int x = 0; x < ow; ++x) {
          double s = b ? b->data()[k] : 0.0;
          const int g = k / kg;
          for (int c = 0; c < cg; ++c)
            for (int i = 0; i < p.kh; ++i)
              for (int j = 0; j < p.kw; ++j) {
                const int iy = y * p.sh - p.ph + i * p.dh, ix = x * p.sw - p.pw + j * p.dw;
                if (iy < 0 || iy >= p.h || ix < 0 || ix >= p.w) continue;
                s += double(in.data()[((std::size_t(n) * p.c + g * cg + c) * p.h + iy) * p.w + ix]) *
                     wt.data()[((std::size_t(k) * cg + c) * p.kh + i) * p.kw + j];
              }
          out[((std::size_t(n) * p.k + k) * oh + y) * ow + x] = s;
        }
  return out;
}

class Convolution : public ::testing::TestWithParam<ConvCase> {};

TEST_P(Convolution, forward_matches_direct_and_gradients) {
  const ConvCase p = GetParam();
  LayerSpec s = spec("Convolution");
  s.set("num_output", p.k).set("kernel_size", std::vector<double>{double(p.kh), double(p.kw)});
  s.set("stride", std::vector<double>{double(p.sh), double(p.sw)});
  s.set("pad", std::vector<double>{double(p.ph), double(p.pw)});
  s.set("dilation", std::vector<double>{double(p.dh), double(p.dw)});
  s.set("group", p.groups).set("bias_term", p.bias ? "true" : "false");
  s.set("weight_filler.type", "gaussian").set("weight_filler.std", 0.5);
  if (p.bias) s.set("bias_filler.type", "uniform").set("bias_filler.min", -1.0).set("bias_filler.max", 1.0);
  Blob in({p.n, p.c, p.h, p.w}), out;
  fill_uniform(in, -1, 1, 11);
  auto l = make_layer(s, {&in}, {&out});
  const int oh = (p.h + 2 * p.ph - (p.dh * (p.kh - 1) + 1)) / p.sh + 1;
  const int ow = (p.w + 2 * p.pw - (p.dw * (p.kw - 1) + 1)) / p.sw + 1;
  ASSERT_EQ(out.shape(), (std::vector<int>{p.n, p.k, oh, ow}));
  l->forward({&in}, {&out});
  const auto ref = direct_conv(p, in, *l->params()[0].blob, p.bias ? l->params()[1].blob.get() : nullptr, oh, ow);
  for (std::size_t i = 0; i < ref.size(); ++i)  // float sums of <= 100 terms of size <= 1.5
    ASSERT_NEAR(out.data()[i], ref[i], 1e-4 * std::max(1.0, std::fabs(ref[i]))) << "element " << i;
  check_gradients(*l, {&in}, {&out});
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, Convolution,
    ::testing::Values(ConvCase{2, 3, 7, 6, 4, 3, 3, 1, 1, 0, 0, 1, 1, 1, true},   // plain
                      ConvCase{2, 4, 8, 8, 6, 3, 3, 2, 2, 1, 1, 1, 1, 2, true},   // groups, stride, pad
                      ConvCase{1, 2, 9, 9, 3, 3, 2, 1, 2, 2, 1, 2, 2, 1, false},  // dilation, rect
                      ConvCase{3, 2, 5, 5, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1, true},   // 1x1
                      ConvCase{2, 4, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4, true},   // depthwise
                      ConvCase{2, 2, 6, 7, 3, 5, 5, 1, 1, 2, 2, 1, 1, 1, true},   // pad 2 (cifar10)
                      ConvCase{1, 1, 4, 3, 2, 2, 5, 1, 1, 1, 3, 1, 1, 1, true}));  // pad > kw / 2

TEST(InnerProduct, forward_and_gradients) {
  LayerSpec s = spec("InnerProduct");
  s.set("num_output", 5).set("weight_filler.type", "gaussian").set("bias_filler.type", "gaussian");
  Blob in({3, 2, 3, 2}), out;
  fill_uniform(in, -1, 1, 3);
  auto l = make_layer(s, {&in}, {&out});
  ASSERT_EQ(out.shape(), (std::vector<int>{3, 5}));
  l->forward({&in}, {&out});
  const Blob& w = *l->params()[0].blob;
  const Blob& b = *l->params()[1].blob;
  for (int n = 0; n < 3; ++n)
    for (int k = 0; k < 5; ++k) {
      double s2 = b.data()[k];
      for (int i = 0; i < 12; ++i) s2 += double(in.data()[n * 12 + i]) * w.data()[k * 12 + i];
      EXPECT_NEAR(out.data()[n * 5 + k], s2, 1e-5);
    }
  check_gradients(*l, {&in}, {&out});
}

TEST(ReLU, forward_and_gradients) {
  for (double slope : {0.0, 0.1}) {
    LayerSpec s = spec("ReLU");
    s.set("negative_slope", slope);
    Blob in({2, 3, 4, 5}), out;
    fill_away_from_zero(in, 0.05f, 5);
    auto l = make_layer(s, {&in}, {&out});
    l->forward({&in}, {&out});
    for (std::size_t i = 0; i < in.count(); ++i)
      EXPECT_EQ(out.data()[i], in.data()[i] > 0 ? in.data()[i] : float(slope) * in.data()[i]);
    check_gradients(*l, {&in}, {&out});
  }
}

TEST(Pooling, caffe_output_size_ceil_and_floor) {
  // Caffe: ceil((H + 2p - k) / s) + 1, minus one when the last window starts in the padding.
  struct Case { int h, k, s, p; const char* round; int out; };
  for (Case c : {Case{28, 3, 2, 0, "ceil", 14}, Case{28, 3, 2, 0, "floor", 13},
                 Case{24, 2, 2, 0, "ceil", 12}, Case{13, 3, 2, 0, "ceil", 6},
                 Case{14, 3, 2, 1, "ceil", 8}, Case{6, 2, 2, 1, "ceil", 4}, Case{7, 3, 2, 1, "floor", 4}}) {
    LayerSpec s = spec("Pooling");
    s.set("pool", "max").set("kernel_size", c.k).set("stride", c.s).set("pad", c.p).set("round", c.round);
    Blob in({1, 1, c.h, c.h}), out;
    auto l = make_layer(s, {&in}, {&out});
    EXPECT_EQ(out.shape(3), c.out) << "H=" << c.h << " k=" << c.k << " s=" << c.s << " p=" << c.p << " " << c.round;
  }
}

TEST(Pooling, average_divisor_counts_padding_like_caffe) {
  // 3x3 input of ones, kernel 3, stride 2, pad 1: corner windows cover 4 real
  // pixels of a 3x3 padded window, so Caffe averages 4 / 9.
  LayerSpec s = spec("Pooling");
  s.set("pool", "ave").set("kernel_size", 3).set("stride", 2).set("pad", 1);
  Blob in({1, 1, 3, 3}), out;
  std::fill(in.data(), in.data() + 9, 1.0f);
  auto l = make_layer(s, {&in}, {&out});
  l->forward({&in}, {&out});
  ASSERT_EQ(out.shape(), (std::vector<int>{1, 1, 2, 2}));
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(out.data()[i], 4.0f / 9.0f);
  // count_include_pad: false (ONNX's default) divides by the 4 real pixels.
  for (int i = 0; i < 9; ++i) in.data()[i] = float(i);  // 0..8 row-major
  s.set("count_include_pad", "false");
  auto v = make_layer(s, {&in}, {&out});
  v->forward({&in}, {&out});
  EXPECT_EQ(out.data()[0], (0 + 1 + 3 + 4) / 4.0f);
  EXPECT_EQ(out.data()[1], (1 + 2 + 4 + 5) / 4.0f);
  EXPECT_EQ(out.data()[2], (3 + 4 + 6 + 7) / 4.0f);
  EXPECT_EQ(out.data()[3], (4 + 5 + 7 + 8) / 4.0f);
  check_gradients(*v, {&in}, {&out});
}

TEST(Pooling, max_forward_values) {
  LayerSpec s = spec("Pooling");
  s.set("pool", "max").set("kernel_size", 2).set("stride", 2);
  Blob in({1, 1, 3, 3}), out;
  const float v[9] = {1, 5, 2, -1, 0, 7, 3, 4, -2};
  std::copy(v, v + 9, in.data());
  auto l = make_layer(s, {&in}, {&out});  // ceil: 2x2 output, last windows clipped
  l->forward({&in}, {&out});
  ASSERT_EQ(out.count(), 4u);
  EXPECT_EQ(out.data()[0], 5);
  EXPECT_EQ(out.data()[1], 7);
  EXPECT_EQ(out.data()[2], 4);
  EXPECT_EQ(out.data()[3], -2);
}

TEST(Pooling, dilated_max_forward_and_gradients) {
  // kernel 2x2 with dilation [2, 3], stride 1, pad 1, floor: taps (y0 + 2i, x0 + 3j).
  LayerSpec s = spec("Pooling");
  s.set("pool", "max").set("kernel_size", 2).set("stride", 1).set("pad", 1).set("round", "floor");
  s.set("dilation", std::vector<double>{2, 3});
  Blob in({2, 3, 6, 7}), out;
  fill_distinct(in, 0.05f, 4);
  auto l = make_layer(s, {&in}, {&out});
  // (6 + 2 - 3) / 1 + 1 = 6 rows, (7 + 2 - 4) / 1 + 1 = 6 columns.
  ASSERT_EQ(out.shape(), (std::vector<int>{2, 3, 6, 6}));
  l->forward({&in}, {&out});
  for (int nc = 0; nc < 6; ++nc)
    for (int oy = 0; oy < 6; ++oy)
      for (int ox = 0; ox < 6; ++ox) {
        float m = -1e30f;
        for (int i = 0; i < 2; ++i)
          for (int j = 0; j < 2; ++j) {
            const int y = oy - 1 + 2 * i, x = ox - 1 + 3 * j;
            if (y >= 0 && y < 6 && x >= 0 && x < 7) m = std::max(m, in.data()[(nc * 6 + y) * 7 + x]);
          }
        ASSERT_EQ(out.data()[(nc * 6 + oy) * 6 + ox], m) << nc << " " << oy << " " << ox;
      }
  check_gradients(*l, {&in}, {&out});
  LayerSpec ave = spec("Pooling");
  ave.set("pool", "ave").set("kernel_size", 2).set("dilation", 2);
  EXPECT_THROW(make_layer(ave, {&in}, {&out}), engine::NetSpecError);  // max pooling only
}

TEST(Pooling, max_inside_windows_equal_the_plain_scan) {
  // Windows inside the input take max_pool_inside (vector code for 2x2 stride 2):
  // the first element of a window, then strictly larger ones row by row, a NaN
  // never taking over; ties keep the earlier element (checked through the
  // gradient, which goes to the arg max). Widths with and without a tail of 4.
  for (int k : {2, 3})
    for (int width : {8, 10, 14, 24}) {
      LayerSpec s = spec("Pooling");
      s.set("pool", "max").set("kernel_size", k).set("stride", 2).set("round", "floor");
      Blob in({2, 3, 6, width}), out;
      engine::Rng rng(width * 10 + k);
      for (std::size_t i = 0; i < in.count(); ++i) {
        const uint64_t r = rng.below(8);  // few values: many ties
        in.data()[i] = r == 7 ? NAN : float(r) - 3.0f;
      }
      auto l = make_layer(s, {&in}, {&out});
      l->forward({&in}, {&out});
      for (std::size_t i = 0; i < out.count(); ++i) out.diff()[i] = float(i + 1);
      std::fill(in.diff(), in.diff() + in.count(), 0.0f);
      l->backward({&out}, {true}, {&in});
      const int H = 6, W = width, oh = out.shape(2), ow = out.shape(3);
      std::vector<float> grad(in.count(), 0.0f);
      for (int nc = 0; nc < 6; ++nc)
        for (int oy = 0; oy < oh; ++oy)
          for (int ox = 0; ox < ow; ++ox) {
            const float* x = in.data() + nc * H * W;
            int best = (2 * oy) * W + 2 * ox;
            for (int yy = 0; yy < k; ++yy)
              for (int xx = 0; xx < k; ++xx) {
                const int at = (2 * oy + yy) * W + 2 * ox + xx;
                if (x[at] > x[best]) best = at;
              }
            const std::size_t o = (std::size_t(nc) * oh + oy) * ow + ox;
            const float want = x[best], got = out.data()[o];
            EXPECT_TRUE(want == got || (std::isnan(want) && std::isnan(got)))
                << "k " << k << " width " << width << " output " << o;
            grad[nc * H * W + best] += out.diff()[o];
          }
      for (std::size_t i = 0; i < in.count(); ++i)
        ASSERT_EQ(in.diff()[i], grad[i]) << "k " << k << " width " << width << " input " << i;
    }
}

TEST(Pooling, gradients) {
  struct Case { const char* pool; int k, s, p; bool global; };
  for (Case c : {Case{"max", 3, 2, 0, false}, Case{"max", 3, 2, 1, false}, Case{"ave", 3, 2, 0, false},
                 Case{"ave", 3, 2, 1, false}, Case{"ave", 2, 1, 0, false}, Case{"ave", 0, 1, 0, true},
                 Case{"max", 0, 1, 0, true}}) {
    LayerSpec s = spec("Pooling");
    s.set("pool", c.pool);
    if (c.global) s.set("global_pooling", "true");
    else s.set("kernel_size", c.k).set("stride", c.s).set("pad", c.p);
    Blob in({2, 3, 7, 7}), out;
    fill_distinct(in, 0.05f, 9);
    auto l = make_layer(s, {&in}, {&out});
    if (c.global) {
      EXPECT_EQ(out.shape(), (std::vector<int>{2, 3, 1, 1}));
    }
    check_gradients(*l, {&in}, {&out});
  }
}

TEST(LRN, forward_formula_and_gradients) {
  LayerSpec s = spec("LRN");
  s.set("local_size", 3).set("alpha", 0.5).set("beta", 0.75).set("k", 2.0);
  Blob in({2, 5, 3, 3}), out;
  fill_uniform(in, -1, 1, 21);
  auto l = make_layer(s, {&in}, {&out});
  l->forward({&in}, {&out});
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 5; ++c)
      for (int p = 0; p < 9; ++p) {
        double sum = 0;
        for (int j = std::max(0, c - 1); j <= std::min(4, c + 1); ++j) {
          const double x = in.data()[(n * 5 + j) * 9 + p];
          sum += x * x;
        }
        const double x = in.data()[(n * 5 + c) * 9 + p];
        EXPECT_NEAR(out.data()[(n * 5 + c) * 9 + p], x * std::pow(2.0 + 0.5 / 3 * sum, -0.75), 1e-6);
      }
  check_gradients(*l, {&in}, {&out});
  LayerSpec s5 = spec("LRN");
  s5.set("local_size", 5).set("alpha", 1e-2).set("beta", 0.75);
  auto l5 = make_layer(s5, {&in}, {&out});
  check_gradients(*l5, {&in}, {&out});
}

TEST(BatchNorm, normalises_and_gradients) {
  Blob in({4, 3, 2, 2}), out;
  fill_uniform(in, -2, 3, 31);
  LayerSpec s = spec("BatchNorm");
  auto l = make_layer(s, {&in}, {&out});
  l->forward({&in}, {&out});
  for (int c = 0; c < 3; ++c) {  // zero mean, unit (biased) variance per channel
    double m = 0, v = 0;
    for (int n = 0; n < 4; ++n)
      for (int p = 0; p < 4; ++p) m += out.data()[(n * 3 + c) * 4 + p];
    m /= 16;
    for (int n = 0; n < 4; ++n)
      for (int p = 0; p < 4; ++p) v += std::pow(out.data()[(n * 3 + c) * 4 + p] - m, 2);
    EXPECT_NEAR(m, 0, 1e-6);
    EXPECT_NEAR(v / 16, 1, 1e-3);  // eps = 1e-5 shrinks it slightly
  }
  check_gradients(*l, {&in}, {&out});
  // Test phase: the running averages (Caffe's sums / scale factor).
  l->set_phase(Phase::test);
  check_gradients(*l, {&in}, {&out});
}

TEST(Scale, forward_and_gradients) {
  LayerSpec s = spec("Scale");
  s.set("filler.type", "uniform").set("filler.min", 0.5).set("filler.max", 1.5);
  s.set("bias_filler.type", "gaussian");
  Blob in({2, 3, 2, 3}), out;
  fill_uniform(in, -1, 1, 41);
  auto l = make_layer(s, {&in}, {&out});
  l->forward({&in}, {&out});
  const float* g = l->params()[0].blob->data();
  const float* b = l->params()[1].blob->data();
  EXPECT_FLOAT_EQ(out.data()[7], g[1] * in.data()[7] + b[1]);
  check_gradients(*l, {&in}, {&out});
}

TEST(Concat, forward_and_gradients) {
  Blob a({2, 2, 3, 3}), b({2, 3, 3, 3}), out;
  fill_uniform(a, -1, 1, 1);
  fill_uniform(b, -1, 1, 2);
  LayerSpec s = spec("Concat");
  auto l = make_layer(s, {&a, &b}, {&out});
  ASSERT_EQ(out.shape(), (std::vector<int>{2, 5, 3, 3}));
  l->forward({&a, &b}, {&out});
  EXPECT_EQ(out.data()[5 * 9 + 2 * 9 + 4], b.data()[3 * 9 + 0 * 9 + 4]);  // n=1, c=2 -> b's c=0
  check_gradients(*l, {&a, &b}, {&out});
}

TEST(Eltwise, sum_with_coefficients_and_gradients) {
  Blob a({2, 3, 2, 2}), b({2, 3, 2, 2}), out;
  fill_uniform(a, -1, 1, 1);
  fill_uniform(b, -1, 1, 2);
  LayerSpec s = spec("Eltwise");
  s.set("coeff", std::vector<double>{1.0, -0.5});
  auto l = make_layer(s, {&a, &b}, {&out});
  l->forward({&a, &b}, {&out});
  EXPECT_FLOAT_EQ(out.data()[3], a.data()[3] - 0.5f * b.data()[3]);
  check_gradients(*l, {&a, &b}, {&out});
}

TEST(Dropout, train_masks_scales_and_backward_matches) {
  LayerSpec s = spec("Dropout");
  s.set("dropout_ratio", 0.25);
  Blob in({4, 8, 8, 8}), out;
  fill_away_from_zero(in, 0.1f, 3);
  auto l = make_layer(s, {&in}, {&out});
  l->forward({&in}, {&out});
  std::size_t kept = 0;
  for (std::size_t i = 0; i < in.count(); ++i) {
    if (out.data()[i] != 0) {
      ++kept;
      EXPECT_FLOAT_EQ(out.data()[i], in.data()[i] / 0.75f);
    }
  }
  const double frac = double(kept) / in.count();
  EXPECT_NEAR(frac, 0.75, 0.03);  // 2048 Bernoulli(0.75) draws: sd ~ 0.01
  for (std::size_t i = 0; i < out.count(); ++i) out.diff()[i] = 1.0f;
  l->backward({&out}, {true}, {&in});
  for (std::size_t i = 0; i < in.count(); ++i)
    EXPECT_FLOAT_EQ(in.diff()[i], out.data()[i] != 0 ? 1.0f / 0.75f : 0.0f);
  // Test phase: identity.
  l->set_phase(Phase::test);
  l->forward({&in}, {&out});
  for (std::size_t i = 0; i < in.count(); ++i) ASSERT_EQ(out.data()[i], in.data()[i]);
  check_gradients(*l, {&in}, {&out});
}

TEST(Flatten, shape_and_gradients) {
  Blob in({2, 3, 4, 5}), out;
  fill_uniform(in, -1, 1, 1);
  auto l = make_layer(spec("Flatten"), {&in}, {&out});
  EXPECT_EQ(out.shape(), (std::vector<int>{2, 60}));
  check_gradients(*l, {&in}, {&out});
}

TEST(Reshape, onnx_shape_rules_values_and_gradients) {
  Blob in({2, 3, 4, 5}), out;
  fill_uniform(in, -1, 1, 1);
  // 0 copies the input's size, -1 is inferred: [2, 3, 4, 5] -> [2, 3 * 4 * 5 / 10 = 6, 10].
  auto l = make_layer(spec("Reshape").set("shape", std::vector<double>{0, -1, 10}), {&in}, {&out});
  EXPECT_EQ(out.shape(), (std::vector<int>{2, 6, 10}));
  l->forward({&in}, {&out});
  for (std::size_t i = 0; i < in.count(); ++i) ASSERT_EQ(out.data()[i], in.data()[i]) << i;
  check_gradients(*l, {&in}, {&out});
  // A new batch size flows through the 0.
  Blob in3({3, 3, 4, 5});
  l->reshape({&in3}, {&out});
  EXPECT_EQ(out.shape(), (std::vector<int>{3, 6, 10}));
  // allowzero: a 0 is a size of zero.
  Blob empty({0, 3, 4}), out0;
  auto z = make_layer(spec("Reshape").set("shape", std::vector<double>{3, 4, 0}).set("allowzero", std::string("true")),
                      {&empty}, {&out0});
  EXPECT_EQ(out0.shape(), (std::vector<int>{3, 4, 0}));
}

TEST(Reshape, bad_shapes_are_errors) {
  Blob in({2, 3, 4}), out;
  auto error_of = [&](const LayerSpec& s) -> std::string {
    try {
      make_layer(s, {&in}, {&out});
    } catch (const engine::NetSpecError& e) {
      return e.what();
    }
    return "";
  };
  auto has = [](const std::string& text, const char* part) {
    return text.find(part) != std::string::npos;
  };
  EXPECT_TRUE(has(error_of(spec("Reshape")), "needs shape"));
  EXPECT_TRUE(has(error_of(spec("Reshape").set("shape", std::vector<double>{-1, -1})),
                  "more than one -1"));
  EXPECT_TRUE(has(error_of(spec("Reshape").set("shape", std::vector<double>{5, 5})),
                  "shape [5, 5] holds 25 elements, the input [2, 3, 4] has 24"));
  EXPECT_TRUE(has(error_of(spec("Reshape").set("shape", std::vector<double>{5, -1})),
                  "cannot infer the -1 of [5, -1] from the 24 elements"));
  EXPECT_TRUE(has(error_of(spec("Reshape").set("shape", std::vector<double>{0, 0, 0, 0})),
                  "shape entry 3 is 0 (copy) but the input [2, 3, 4] has no axis 3"));
  EXPECT_TRUE(has(error_of(spec("Reshape").set("shape", std::vector<double>{0, -1}).set("allowzero", std::string("true"))),
                  "-1 cannot be inferred"));
  EXPECT_TRUE(has(error_of(spec("Reshape").set("shape", std::vector<double>{2, -2, 12})),
                  "integers >= -1"));
}

TEST(Softmax, sums_to_one_and_gradients) {
  Blob in({3, 7, 2, 1}), out;
  fill_uniform(in, -3, 3, 1);
  auto l = make_layer(spec("Softmax"), {&in}, {&out});
  l->forward({&in}, {&out});
  for (int n = 0; n < 3; ++n)
    for (int p = 0; p < 2; ++p) {
      double s = 0;
      for (int c = 0; c < 7; ++c) s += out.data()[(n * 7 + c) * 2 + p];
      EXPECT_NEAR(s, 1.0, 1e-6);
    }
  check_gradients(*l, {&in}, {&out});
}

TEST(SoftmaxWithLoss, value_and_gradients) {
  Blob in({4, 5}), label({4}), out;
  fill_uniform(in, -2, 2, 5);
  const float labels[4] = {0, 3, 4, 1};
  std::copy(labels, labels + 4, label.data());
  auto l = make_layer(spec("SoftmaxWithLoss"), {&in, &label}, {&out});
  l->forward({&in, &label}, {&out});
  double loss = 0;
  for (int n = 0; n < 4; ++n) {
    double z = 0;
    for (int c = 0; c < 5; ++c) z += std::exp(double(in.data()[n * 5 + c]));
    loss -= std::log(std::exp(double(in.data()[n * 5 + int(labels[n])])) / z);
  }
  EXPECT_NEAR(out.data()[0], loss / 4, 1e-6);
  GradCheckOptions opt;
  opt.check_bottom = {true, false};
  check_gradients(*l, {&in, &label}, {&out}, opt);
  label.data()[2] = 5;  // out of range: a clear error
  EXPECT_THROW(l->forward({&in, &label}, {&out}), std::runtime_error);
}

TEST(SoftmaxWithLoss, distillation_value_and_gradients) {
  // Loss = (1 - w) * CE + w * T^2 * KL(t || softmax(x / T)), computed here in double.
  Blob in({4, 5}), label({4}), out;
  fill_uniform(in, -2, 2, 6);
  const float labels[4] = {2, 0, 1, 4};
  std::copy(labels, labels + 4, label.data());
  std::vector<float> teacher(20);
  for (int n = 0; n < 4; ++n) {  // a teacher's probabilities: softmax of other scores
    double z = 0;
    for (int c = 0; c < 5; ++c) z += std::exp(0.3 * (c - n));
    for (int c = 0; c < 5; ++c) teacher[n * 5 + c] = float(std::exp(0.3 * (c - n)) / z);
  }
  const float w = 0.7f, T = 3.0f;
  auto l = make_layer(spec("SoftmaxWithLoss"), {&in, &label}, {&out});
  auto* sl = dynamic_cast<engine::SoftmaxWithLossLayer*>(l.get());
  ASSERT_NE(sl, nullptr);
  sl->set_soft_targets(teacher.data(), w, T);
  l->forward({&in, &label}, {&out});
  double ce = 0, kl = 0;
  for (int n = 0; n < 4; ++n) {
    double z = 0, zt = 0;
    for (int c = 0; c < 5; ++c) z += std::exp(double(in.data()[n * 5 + c])), zt += std::exp(in.data()[n * 5 + c] / T);
    ce -= std::log(std::exp(double(in.data()[n * 5 + int(labels[n])])) / z);
    for (int c = 0; c < 5; ++c) {
      const double q = std::exp(in.data()[n * 5 + c] / T) / zt, t = teacher[n * 5 + c];
      kl += t * (std::log(t) - std::log(q));
    }
  }
  EXPECT_NEAR(out.data()[0], ((1 - w) * ce + w * T * T * kl) / 4, 1e-5);
  GradCheckOptions opt;
  opt.check_bottom = {true, false};
  check_gradients(*l, {&in, &label}, {&out}, opt);
  // Targets equal to the student's own softmax at T: the KL term and its gradient vanish, so
  // with w = 1 the loss is 0 and so is every gradient.
  std::vector<float> own(20);
  engine::softmax(in.data(), own.data(), 4, 5, 1, T);
  sl->set_soft_targets(own.data(), 1.0f, T);
  l->forward({&in, &label}, {&out});
  EXPECT_NEAR(out.data()[0], 0.0, 1e-6);
  out.diff()[0] = 1;
  l->backward({&out}, {true, false}, {&in, &label});
  for (int i = 0; i < 20; ++i) EXPECT_NEAR(in.diff()[i], 0.0, 1e-6) << i;
  // Cleared: the plain cross-entropy again, bit for bit.
  sl->set_soft_targets(nullptr, 0, 1);
  l->forward({&in, &label}, {&out});
  EXPECT_NEAR(out.data()[0], ce / 4, 1e-6);
  EXPECT_THROW(sl->set_soft_targets(teacher.data(), 1.5f, T), std::runtime_error);
}

TEST(Split, copies_and_sums) {
  Blob in({2, 3}), a, b;
  fill_uniform(in, -1, 1, 1);
  engine::SplitLayer l(spec("Split"));
  l.setup({&in}, {&a, &b});
  l.reshape({&in}, {&a, &b});
  check_gradients(l, {&in}, {&a, &b});
}

TEST(LayerSpec, unknown_parameter_and_type_are_errors) {
  LayerSpec s = spec("Convolution", "conv9");
  s.file = "m.yaml";
  s.line = 12;
  s.set("num_output", 4).set("kernel_size", 3).set("kernal", 3);
  s.params["kernal"].line = 14;
  Blob in({1, 1, 5, 5}), out;
  try {
    make_layer(s, {&in}, {&out});
    FAIL() << "no error for an unknown parameter";
  } catch (const engine::NetSpecError& e) {
    EXPECT_NE(std::string(e.what()).find("m.yaml:14: layer 'conv9' (Convolution), parameter 'kernal'"),
              std::string::npos)
        << e.what();
  }
  LayerSpec t = spec("Convolutoin", "c");
  EXPECT_THROW(engine::create_layer(t), engine::NetSpecError);
}

}  // namespace
}  // namespace ristsim::testbench
