// The GPU engine's per-element arithmetic (sim/engine/steps/*.h) against the CPU engine's
// layers and solvers, bit for bit, on the host (label unit: every machine runs it, so the
// kernels' arithmetic is checked where no GPU is present). Each *_bad test plants a bug in a
// copy of a step (in the test only) and shows that the comparison catches it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/layers.h"
#include "engine/net.h"
#include "engine/solver.h"
#include "engine/steps/layer_steps.h"
#include "engine/steps/solver_steps.h"
#include "engine/synced_memory.h"

namespace ristsim::testbench {
namespace {

using engine::Blob;
using engine::Blobs;
using engine::LayerSpec;
namespace steps = engine::steps;

constexpr uint32_t kSeed = 20261203;

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

/// Index of the first element whose bits differ, or -1.
int64_t first_difference(const float* a, const float* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (bits(a[i]) != bits(b[i])) return static_cast<int64_t>(i);
  return -1;
}

#define EXPECT_SAME_BITS(a, b, n)                                                            \
  do {                                                                                       \
    const int64_t at_ = first_difference(a, b, n);                                           \
    EXPECT_EQ(at_, -1) << "element " << at_ << ": " << (at_ >= 0 ? (a)[at_] : 0.f) << " vs " \
                       << (at_ >= 0 ? (b)[at_] : 0.f) << " (seed " << kSeed << ")";          \
  } while (0)

/// Values on a coarse grid (so that windows hold ties) in [-range, range].
void fill(Blob& b, std::mt19937& rng, float range = 4, bool diff = false) {
  std::uniform_int_distribution<int> d(-16, 16);
  float* p = diff ? b.diff() : b.data();
  for (std::size_t i = 0; i < b.count(); ++i) p[i] = range * d(rng) / 16.0f;
}

LayerSpec spec(const std::string& type) {
  LayerSpec s;
  s.name = "l";
  s.type = type;
  return s;
}

/// A layer with one bottom of `shape` and one top, set up and reshaped.
struct OneLayer {
  std::unique_ptr<engine::Layer> layer;
  Blob bottom, top;
  OneLayer(const LayerSpec& s, std::vector<int> shape)
      : layer(engine::create_layer(s)), bottom(shape) {
    layer->setup({&bottom}, {&top});
    layer->reshape({&bottom}, {&top});
  }
  void forward() { layer->forward({&bottom}, {&top}); }
  void backward() { layer->backward({&top}, {true}, {&bottom}); }
};

// ---------------------------------------------------------------- Pooling

struct PoolCase {
  const char* pool;
  int kh, kw, sh, sw, ph, pw, dh, dw;
  bool ceil, include_pad, global;
  int H, W;
};

steps::PoolShape pool_shape(const PoolCase& p, const Blob& top) {
  steps::PoolShape g{p.H,  p.W,  p.kh, p.kw,         p.sh,         p.sw,         p.ph,
                     p.pw, p.dh, p.dw, top.shape(2), top.shape(3), p.include_pad};
  if (p.global) g.kh = p.H, g.kw = p.W, g.sh = g.sw = 1, g.ph = g.pw = 0;
  return g;
}

OneLayer pool_layer(const PoolCase& p) {
  LayerSpec s = spec("Pooling");
  s.set("pool", p.pool).set("round", p.ceil ? "ceil" : "floor");
  if (p.global) {
    s.set("global_pooling", "true");
  } else {
    s.set("kernel_size", std::vector<double>{double(p.kh), double(p.kw)});
    s.set("stride", std::vector<double>{double(p.sh), double(p.sw)});
    s.set("pad", std::vector<double>{double(p.ph), double(p.pw)});
    if (p.dh != 1 || p.dw != 1) s.set("dilation", std::vector<double>{double(p.dh), double(p.dw)});
  }
  if (!p.include_pad) s.set("count_include_pad", "false");
  return OneLayer(s, {2, 3, p.H, p.W});
}

/// The steps' forward (values and argmax) and backward over every plane.
void pool_by_steps(const steps::PoolShape& g, bool max, const Blob& bottom, const Blob& top,
                   std::vector<float>* y, std::vector<float>* dx) {
  const int NC = bottom.shape(0) * bottom.shape(1);
  const int plane_in = g.H * g.W, plane_out = g.oh * g.ow;
  y->assign(top.count(), 0);
  dx->assign(bottom.count(), 0);
  std::vector<int32_t> arg(top.count());
  for (int nc = 0; nc < NC; ++nc) {
    const float* x = bottom.data() + nc * plane_in;
    for (int oy = 0; oy < g.oh; ++oy)
      for (int ox = 0; ox < g.ow; ++ox) {
        const int o = nc * plane_out + oy * g.ow + ox;
        (*y)[o] = max ? steps::max_pool_element(g, x, oy, ox, &arg[o])
                      : steps::ave_pool_element(g, x, oy, ox);
      }
    for (int yy = 0; yy < g.H; ++yy)
      for (int xx = 0; xx < g.W; ++xx)
        (*dx)[nc * plane_in + yy * g.W + xx] =
            max ? steps::max_pool_grad(g, top.diff() + nc * plane_out, arg.data() + nc * plane_out,
                                       yy, xx)
                : steps::ave_pool_grad(g, top.diff() + nc * plane_out, yy, xx);
  }
}

class PoolingSteps : public ::testing::TestWithParam<PoolCase> {};

TEST_P(PoolingSteps, match_cpu_layer) {
  const PoolCase p = GetParam();
  std::mt19937 rng(kSeed);
  OneLayer l = pool_layer(p);
  fill(l.bottom, rng);
  l.forward();
  fill(l.top, rng, 4, true);
  l.backward();
  const steps::PoolShape g = pool_shape(p, l.top);
  const int64_t ekh = int64_t(g.kh - 1) * g.dh + 1, ekw = int64_t(g.kw - 1) * g.dw + 1;
  EXPECT_EQ(steps::pool_output_size(p.H, ekh, g.sh, g.ph, p.ceil || p.global), l.top.shape(2));
  EXPECT_EQ(steps::pool_output_size(p.W, ekw, g.sw, g.pw, p.ceil || p.global), l.top.shape(3));
  std::vector<float> y, dx;
  pool_by_steps(g, std::string(p.pool) == "max", l.bottom, l.top, &y, &dx);
  EXPECT_SAME_BITS(y.data(), l.top.data(), l.top.count());
  EXPECT_SAME_BITS(dx.data(), l.bottom.diff(), l.bottom.count());
}

INSTANTIATE_TEST_SUITE_P(
    LayerSteps, PoolingSteps,
    ::testing::Values(
        // caffenet / googlenet: 3x3 stride 2, ceil (the last window hangs over the edge)
        PoolCase{"max", 3, 3, 2, 2, 0, 0, 1, 1, true, true, false, 13, 13},
        PoolCase{"max", 2, 2, 2, 2, 0, 0, 1, 1, true, true, false, 8, 9},     // lenet, odd width
        PoolCase{"max", 3, 3, 1, 1, 1, 1, 1, 1, true, true, false, 7, 7},     // googlenet's padded
        PoolCase{"max", 3, 2, 2, 1, 1, 0, 2, 3, true, true, false, 11, 10},   // dilated
        PoolCase{"max", 3, 3, 2, 2, 1, 1, 1, 1, false, true, false, 10, 10},  // floor
        PoolCase{"ave", 3, 3, 2, 2, 1, 1, 1, 1, true, true, false, 9, 9},     // Caffe's divisor
        PoolCase{"ave", 3, 3, 2, 2, 1, 1, 1, 1, true, false, false, 9, 9},    // ONNX's divisor
        PoolCase{"ave", 5, 3, 3, 2, 2, 1, 1, 1, true, true, false, 12, 8},
        PoolCase{"ave", 0, 0, 1, 1, 0, 0, 1, 1, true, true, true, 7, 7}));  // global (squeezenet)

TEST(LayerSteps, pooling_bad) {
  // A planted bug: the average's divisor without the padding (ONNX's) against Caffe's layer.
  const PoolCase p{"ave", 3, 3, 2, 2, 1, 1, 1, 1, true, true, false, 9, 9};
  std::mt19937 rng(kSeed);
  OneLayer l = pool_layer(p);
  fill(l.bottom, rng);
  l.forward();
  steps::PoolShape g = pool_shape(p, l.top);
  g.include_pad = false;
  std::vector<float> y, dx;
  pool_by_steps(g, false, l.bottom, l.top, &y, &dx);
  EXPECT_NE(first_difference(y.data(), l.top.data(), l.top.count()), -1);
}

// ---------------------------------------------------------------- ReLU, LRN, dropout

TEST(LayerSteps, relu_matches_cpu_layer) {
  for (float slope : {0.0f, 0.1f}) {
    std::mt19937 rng(kSeed);
    LayerSpec s = spec("ReLU");
    if (slope != 0) s.set("negative_slope", slope);
    OneLayer l(s, {2, 3, 5, 5});
    fill(l.bottom, rng);
    l.forward();
    fill(l.top, rng, 4, true);
    l.backward();
    std::vector<float> y(l.top.count()), dx(l.top.count());
    for (std::size_t i = 0; i < y.size(); ++i) {
      y[i] = steps::relu(l.bottom.data()[i], static_cast<float>(double(slope)));
      dx[i] =
          steps::relu_grad(l.bottom.data()[i], l.top.diff()[i], static_cast<float>(double(slope)));
    }
    EXPECT_SAME_BITS(y.data(), l.top.data(), y.size());
    EXPECT_SAME_BITS(dx.data(), l.bottom.diff(), dx.size());
  }
}

/// LRN by the steps: y and dx.
void lrn_by_steps(const Blob& bottom, const Blob& top, int size, float alpha, float beta, float k,
                  std::vector<float>* y, std::vector<float>* dx) {
  const int N = bottom.shape(0), C = bottom.shape(1);
  const std::size_t S = bottom.count(2), CS = C * S;
  std::vector<float> scale(bottom.count());
  y->resize(bottom.count());
  dx->resize(bottom.count());
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (std::size_t p = 0; p < S; ++p) {
        const std::size_t i = n * CS + c * S + p;
        scale[i] = steps::lrn_scale(bottom.data() + n * CS, C, S, c, p, size, k, alpha / size);
        (*y)[i] = steps::lrn_output(bottom.data()[i], scale[i], beta);
      }
  const float f = 2.0f * alpha * beta / size;
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (std::size_t p = 0; p < S; ++p)
        (*dx)[n * CS + c * S + p] =
            steps::lrn_grad(bottom.data() + n * CS, top.data() + n * CS, top.diff() + n * CS,
                            scale.data() + n * CS, C, S, c, p, size, beta, f);
}

TEST(LayerSteps, lrn_matches_cpu_layer) {
  std::mt19937 rng(kSeed);
  LayerSpec s = spec("LRN");  // caffenet's norm1
  s.set("local_size", 5).set("alpha", 1e-4).set("beta", 0.75).set("k", 1.0);
  OneLayer l(s, {2, 7, 4, 3});
  fill(l.bottom, rng, 40);
  l.forward();
  fill(l.top, rng, 4, true);
  l.backward();
  std::vector<float> y, dx;
  lrn_by_steps(l.bottom, l.top, 5, 1e-4f, 0.75f, 1.0f, &y, &dx);
  EXPECT_SAME_BITS(y.data(), l.top.data(), y.size());
  EXPECT_SAME_BITS(dx.data(), l.bottom.diff(), dx.size());
}

TEST(LayerSteps, lrn_bad) {
  // A planted bug: a window of 3 channels where the layer has 5.
  std::mt19937 rng(kSeed);
  LayerSpec s = spec("LRN");
  s.set("local_size", 5).set("alpha", 1e-2).set("beta", 0.75).set("k", 1.0);
  OneLayer l(s, {1, 7, 3, 3});
  fill(l.bottom, rng, 40);
  l.forward();
  std::vector<float> y, dx;
  lrn_by_steps(l.bottom, l.top, 3, 1e-2f * 3 / 5, 0.75f, 1.0f, &y, &dx);
  EXPECT_NE(first_difference(y.data(), l.top.data(), y.size()), -1);
}

TEST(LayerSteps, dropout_mask_matches_cpu_layer) {
  std::mt19937 rng(kSeed);
  LayerSpec s = spec("Dropout");
  s.set("dropout_ratio", 0.3);
  OneLayer l(s, {4, 50});
  l.layer->set_seed(77);
  l.layer->set_phase(engine::Phase::train);
  fill(l.bottom, rng);
  std::vector<float> y(l.bottom.count());
  const uint32_t threshold = steps::dropout_threshold(0.3f);
  const float scale = 1.0f / (1.0f - 0.3f);
  for (uint64_t call = 0; call < 3; ++call) {  // the key follows the layer's forward count
    l.forward();
    const uint64_t key = numeric::stream_key(77, call);
    int kept = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
      const bool keep = steps::dropout_keep(key, i, threshold);
      kept += keep;
      y[i] = keep ? l.bottom.data()[i] * scale : 0.0f;
    }
    EXPECT_SAME_BITS(y.data(), l.top.data(), y.size());
    EXPECT_GT(kept, 100);  // about 70 % of 200
    EXPECT_LT(kept, 180);
  }
}

// ---------------------------------------------------------------- im2col

struct ConvCase {
  int c, h, w, k, kh, kw, sh, sw, ph, pw, dh, dw, groups;
};

/// Convolution of integer-valued data through the im2col steps and a plain GEMM: every sum
/// is exact, so the bits equal the CPU layer's whatever its summation order.
std::vector<float> conv_by_im2col(const steps::ConvIndex& s, int n, int k, const Blob& in,
                                  const Blob& w) {
  const int cg = s.c / s.groups, kg = k / s.groups;
  const int64_t rows = int64_t{cg} * s.kh * s.kw, cols = int64_t{s.oh} * s.ow;
  std::vector<float> out(std::size_t(n) * k * cols, 0), col(rows * cols);
  for (int img = 0; img < n; ++img)
    for (int g = 0; g < s.groups; ++g) {
      const float* x = in.data() + std::size_t(img) * s.c * s.h * s.w;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t p = 0; p < cols; ++p) {
          const int64_t at = steps::im2col_source(s, g, r, p);
          col[r * cols + p] = at < 0 ? 0.0f : x[at];
        }
      for (int kk = 0; kk < kg; ++kk)
        for (int64_t p = 0; p < cols; ++p) {
          float acc = 0;
          for (int64_t r = 0; r < rows; ++r)
            acc += w.data()[(g * kg + kk) * rows + r] * col[r * cols + p];
          out[(std::size_t(img) * k + g * kg + kk) * cols + p] = acc;
        }
    }
  return out;
}

struct ConvRun {
  std::unique_ptr<engine::Layer> layer;
  Blob in, out;
  steps::ConvIndex index;
};

ConvRun conv_run(const ConvCase& p) {
  LayerSpec s = spec("Convolution");
  s.set("num_output", p.k).set("kernel_size", std::vector<double>{double(p.kh), double(p.kw)});
  s.set("stride", std::vector<double>{double(p.sh), double(p.sw)});
  s.set("pad", std::vector<double>{double(p.ph), double(p.pw)});
  s.set("dilation", std::vector<double>{double(p.dh), double(p.dw)});
  s.set("group", p.groups).set("bias_term", "false");
  ConvRun r{engine::create_layer(s), Blob({2, p.c, p.h, p.w}), Blob(), {}};
  r.layer->setup({&r.in}, {&r.out});
  r.layer->reshape({&r.in}, {&r.out});
  std::mt19937 rng(kSeed);
  std::uniform_int_distribution<int> d(-3, 3);
  for (std::size_t i = 0; i < r.in.count(); ++i) r.in.data()[i] = float(d(rng));
  Blob& w = *r.layer->params()[0].blob;
  for (std::size_t i = 0; i < w.count(); ++i) w.data()[i] = float(d(rng));
  r.layer->forward({&r.in}, {&r.out});
  r.index = {p.c,  p.h,  p.w,  p.kh, p.kw,     p.sh,           p.sw,
             p.ph, p.pw, p.dh, p.dw, p.groups, r.out.shape(2), r.out.shape(3)};
  return r;
}

TEST(LayerSteps, im2col_matches_cpu_convolution) {
  for (const ConvCase& p :
       {ConvCase{3, 11, 11, 8, 5, 5, 4, 4, 2, 2, 1, 1, 1},   // caffenet-like conv1
        ConvCase{4, 7, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2},     // grouped (conv2)
        ConvCase{2, 9, 8, 3, 3, 2, 2, 1, 0, 1, 2, 3, 1},     // dilated, unequal
        ConvCase{6, 5, 5, 6, 1, 1, 1, 1, 0, 0, 1, 1, 3}}) {  // 1x1, grouped
    ConvRun r = conv_run(p);
    const std::vector<float> out =
        conv_by_im2col(r.index, 2, p.k, r.in, *r.layer->params()[0].blob);
    ASSERT_EQ(out.size(), r.out.count());
    EXPECT_SAME_BITS(out.data(), r.out.data(), out.size());
  }
}

TEST(LayerSteps, im2col_bad) {
  // A planted bug: the strides swapped, on a layer whose strides differ.
  ConvRun r = conv_run(ConvCase{2, 9, 8, 3, 3, 2, 2, 1, 0, 1, 2, 3, 1});
  std::swap(r.index.stride_h, r.index.stride_w);
  const std::vector<float> out = conv_by_im2col(r.index, 2, 3, r.in, *r.layer->params()[0].blob);
  EXPECT_NE(first_difference(out.data(), r.out.data(), out.size()), -1);
}

// ---------------------------------------------------------------- Solvers

engine::NetSpec tiny_net() {
  engine::NetSpec s;
  s.name = "tiny";
  s.input_shape = {1, 3, 3};
  s.classes = 4;
  LayerSpec ip = spec("InnerProduct");
  ip.name = "ip";
  ip.bottoms = {"data"};
  ip.tops = {"ip"};
  ip.set("num_output", 4)
      .set("lr_mult", std::vector<double>{1, 2})
      .set("decay_mult", std::vector<double>{1, 0});
  s.layers = {ip};
  s.output = "ip";
  return s;
}

/// Three updates of the solver against the steps on copies of the parameters.
void check_solver(engine::SolverType type, bool plant_bug) {
  engine::NetOptions no;
  no.batch = 1;
  engine::Net net(tiny_net(), no);
  engine::SolverOptions so;
  so.type = type;
  so.base_lr = 0.05f;
  so.weight_decay = 1e-3f;
  so.policy = engine::LrPolicy::step;
  engine::Solver solver(net, so);
  std::mt19937 rng(kSeed);
  std::vector<engine::ParamRef> params = net.params();
  std::vector<std::vector<float>> w(params.size()), m(params.size()), v(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    Blob& b = *params[i].param->blob;
    fill(b, rng);
    w[i].assign(b.data(), b.data() + b.count());
    m[i].assign(b.count(), 0);
    v[i].assign(b.count(), 0);
  }
  int64_t mismatches = 0;
  for (int it = 0; it < 3; ++it) {
    std::vector<std::vector<float>> g(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      fill(*params[i].param->blob, rng, 1, true);
      g[i].assign(params[i].param->blob->diff(), params[i].param->blob->diff() + w[i].size());
    }
    const float lr = solver.learning_rate(solver.iter());
    solver.update();
    const double t = double(solver.iter());
    const float b1 = so.momentum, b2 = plant_bug ? so.momentum : so.beta2;
    const float correction = static_cast<float>(std::sqrt(1.0 - std::pow(double(so.beta2), t)) /
                                                (1.0 - std::pow(double(b1), t)));
    for (std::size_t i = 0; i < params.size(); ++i) {
      const engine::Param& p = *params[i].param;
      const float rate = lr * p.lr_mult, wd = so.weight_decay * p.decay_mult;
      for (std::size_t j = 0; j < w[i].size(); ++j) {
        if (type == engine::SolverType::sgd)
          steps::sgd_update(w[i][j], m[i][j], g[i][j], rate, plant_bug ? 0 : wd, so.momentum);
        else
          steps::adam_update(w[i][j], m[i][j], v[i][j], g[i][j], rate, correction, wd, b1, b2,
                             so.eps);
      }
      if (plant_bug) {
        mismatches += first_difference(w[i].data(), p.blob->data(), w[i].size()) >= 0;
      } else {
        EXPECT_SAME_BITS(w[i].data(), p.blob->data(), w[i].size());
      }
    }
  }
  if (plant_bug) EXPECT_GT(mismatches, 0);
}

TEST(LayerSteps, sgd_matches_cpu_solver) {
  check_solver(engine::SolverType::sgd, false);
}
TEST(LayerSteps, adam_matches_cpu_solver) {
  check_solver(engine::SolverType::adam, false);
}
TEST(LayerSteps, sgd_bad) {
  check_solver(engine::SolverType::sgd, true);
}  // no weight decay
TEST(LayerSteps, adam_bad) {
  check_solver(engine::SolverType::adam, true);
}  // beta2 = beta1

// ---------------------------------------------------------------- SyncedMemory (host side)

TEST(SyncedMemory, host_side_keeps_values_and_copies) {
  engine::SyncedMemory a;
  a.resize(4);
  EXPECT_EQ(a.head(), engine::SyncedMemory::Head::host);
  for (int i = 0; i < 4; ++i) a.mutable_host()[i] = float(i + 1);
  a.resize(6);  // values kept, new ones zero
  const std::vector<float> want = {1, 2, 3, 4, 0, 0};
  EXPECT_SAME_BITS(a.host(), want.data(), 6);
  engine::SyncedMemory b = a;
  a.mutable_host()[0] = 9;
  EXPECT_EQ(b.host()[0], 1.0f);
  EXPECT_EQ(b.size(), 6u);
  Blob blob({2, 3});
  blob.data()[5] = 7;
  Blob copy = blob;
  EXPECT_EQ(copy.data()[5], 7.0f);
}

}  // namespace
}  // namespace ristsim::testbench
