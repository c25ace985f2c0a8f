// The per-element arithmetic of the engine's layers, as host/device functions: the GPU
// kernels (layers.cu, conv_layer.cu) run one element per thread through these, and the host
// tests (testbench/cuda/layer_steps_test.cpp, label unit) hold them against the CPU layers of
// layers.cpp bit for bit, so the GPU's arithmetic is checked on every machine.
//
// Each function repeats the CPU layer's operations in the CPU layer's order (the same float
// operations, the same summation order), so the same inputs give the same bits on the host.
// On the device, the basic operations (+, *, /, sqrtf) are IEEE-rounded as on the host when
// the kernels are compiled without FMA contraction (--fmad=false, sim/engine/CMakeLists.txt);
// powf is CUDA's own (within 2 ulp, CUDA C Programming Guide, "Mathematical Functions"), so
// LRN can differ from the host in the last bits of a float; the softmax loss stays on the host
// in the cuda mode for that reason (layers.cu).
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "numeric/hd.h"
#include "numeric/random.h"

namespace ristsim::engine::steps {

// ---------------------------------------------------------------- ReLU

RISTSIM_HD inline float relu(float x, float slope) {
  return x > 0 ? x : slope * x;
}
/// dx from dy at input x.
RISTSIM_HD inline float relu_grad(float x, float dy, float slope) {
  return x > 0 ? dy : slope * dy;
}

// ---------------------------------------------------------------- Pooling

/// One channel plane of a pooling layer: input H x W, kernel kh x kw (taps every d-th input),
/// stride, padding, output oh x ow, and the average's divisor rule.
struct PoolShape {
  int H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
  bool include_pad;  ///< average divisor: the window clipped to the padded input (Caffe)
};

/// Caffe's output size: ceil((in + 2p - k) / s) + 1 (floor with ceil_mode false), less one
/// when the last window would start in the padding. k is the dilated kernel extent.
RISTSIM_HD inline int pool_output_size(int64_t in, int64_t k, int64_t s, int64_t p,
                                       bool ceil_mode) {
  const int64_t span = in + 2 * p - k;
  int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (p > 0 && (o - 1) * s >= in + p) --o;
  return static_cast<int>(o);
}

/// Max of output (oy, ox): the taps inside the input scanned row by row, the first one and
/// then every strictly larger one taking over (a NaN first stays). *arg: its index in the
/// plane, -1 (and 0.0f) when no tap lies inside.
RISTSIM_HD inline float max_pool_element(const PoolShape& g, const float* x, int oy, int ox,
                                         int32_t* arg) {
  const int y0 = oy * g.sh - g.ph, x0 = ox * g.sw - g.pw;
  float m = -FLT_MAX;
  int32_t a = -1;
  for (int i = 0; i < g.kh; ++i) {
    const int yy = y0 + i * g.dh;
    if (yy < 0 || yy >= g.H) continue;
    for (int j = 0; j < g.kw; ++j) {
      const int xx = x0 + j * g.dw;
      if (xx < 0 || xx >= g.W) continue;
      if (x[yy * g.W + xx] > m || a < 0) m = x[yy * g.W + xx], a = yy * g.W + xx;
    }
  }
  *arg = a;
  return a < 0 ? 0.0f : m;
}

/// The window of average output (oy, ox) clipped to the input, and its divisor.
struct PoolWindow {
  int hs, ws, he, we, size;
};
RISTSIM_HD inline PoolWindow ave_pool_window(const PoolShape& g, int oy, int ox) {
  int hs = oy * g.sh - g.ph, ws = ox * g.sw - g.pw;
  int he = hs + g.kh < g.H + g.ph ? hs + g.kh : g.H + g.ph;
  int we = ws + g.kw < g.W + g.pw ? ws + g.kw : g.W + g.pw;
  int size = (he - hs) * (we - ws);
  hs = hs > 0 ? hs : 0, ws = ws > 0 ? ws : 0;
  he = he < g.H ? he : g.H, we = we < g.W ? we : g.W;
  if (!g.include_pad) size = (he - hs) * (we - ws);
  return {hs, ws, he, we, size};
}

/// Average of output (oy, ox), summed row by row.
RISTSIM_HD inline float ave_pool_element(const PoolShape& g, const float* x, int oy, int ox) {
  const PoolWindow w = ave_pool_window(g, oy, ox);
  float s = 0;
  for (int yy = w.hs; yy < w.he; ++yy)
    for (int xx = w.ws; xx < w.we; ++xx) s += x[yy * g.W + xx];
  return s / w.size;
}

/// The outputs whose (dilated) windows may hold input row y: [*lo, *hi).
RISTSIM_HD inline void pool_rows_over(int y, int k, int s, int p, int d, int out, int* lo,
                                      int* hi) {
  const int first = y + p - (k - 1) * d;  // oy * s >= first
  *lo = first <= 0 ? 0 : (first + s - 1) / s;
  const int last = (y + p) / s + 1;
  *hi = last < out ? last : out;
}

/// Gradient of input (y, x) of a plane: the sum, over the outputs in row-major order, of what
/// the CPU's backward pass scatters there (max: dy of every output whose argmax it is;
/// average: dy / divisor of every output whose clipped window holds it). The CPU adds them in
/// the same order into a zeroed gradient, so the bits agree.
RISTSIM_HD inline float max_pool_grad(const PoolShape& g, const float* dy, const int32_t* argmax,
                                      int y, int x) {
  int oy0, oy1, ox0, ox1;
  pool_rows_over(y, g.kh, g.sh, g.ph, g.dh, g.oh, &oy0, &oy1);
  pool_rows_over(x, g.kw, g.sw, g.pw, g.dw, g.ow, &ox0, &ox1);
  const int32_t at = y * g.W + x;
  float s = 0;
  for (int oy = oy0; oy < oy1; ++oy)
    for (int ox = ox0; ox < ox1; ++ox)
      if (argmax[oy * g.ow + ox] == at) s += dy[oy * g.ow + ox];
  return s;
}

RISTSIM_HD inline float ave_pool_grad(const PoolShape& g, const float* dy, int y, int x) {
  int oy0, oy1, ox0, ox1;
  pool_rows_over(y, g.kh, g.sh, g.ph, 1, g.oh, &oy0, &oy1);
  pool_rows_over(x, g.kw, g.sw, g.pw, 1, g.ow, &ox0, &ox1);
  float s = 0;
  for (int oy = oy0; oy < oy1; ++oy)
    for (int ox = ox0; ox < ox1; ++ox) {
      const PoolWindow w = ave_pool_window(g, oy, ox);
      if (y >= w.hs && y < w.he && x >= w.ws && x < w.we) s += dy[oy * g.ow + ox] / w.size;
    }
  return s;
}

// ---------------------------------------------------------------- LRN (across channels)

/// k + alpha / size * (sum of x^2 over the channels c - pre .. c - pre + size - 1 inside
/// [0, C)), at position p of image `xn` ([C, S]).
RISTSIM_HD inline float lrn_scale(const float* xn, int C, std::size_t S, int c, std::size_t p,
                                  int size, float k, float alpha_over_size) {
  const int pre = (size - 1) / 2;
  const int j0 = c - pre > 0 ? c - pre : 0;
  const int j1 = c - pre + size - 1 < C - 1 ? c - pre + size - 1 : C - 1;
  float sc = 0;
  for (int j = j0; j <= j1; ++j) sc += xn[j * S + p] * xn[j * S + p];
  return k + alpha_over_size * sc;
}

RISTSIM_HD inline float lrn_output(float x, float scale, float beta) {
  return x * powf(scale, -beta);
}

/// dx at (c, p) of image n: dy * scale^-beta - 2 alpha beta / size * x * sum over the window
/// (c - post .. c + pre) of dy * y / scale.
RISTSIM_HD inline float lrn_grad(const float* xn, const float* yn, const float* dyn,
                                 const float* scalen, int C, std::size_t S, int c, std::size_t p,
                                 int size, float beta, float f) {
  const int pre = (size - 1) / 2, post = size - pre - 1;
  const int j0 = c - post > 0 ? c - post : 0, j1 = c + pre < C - 1 ? c + pre : C - 1;
  float acc = 0;
  for (int j = j0; j <= j1; ++j) {
    const std::size_t q = j * S + p;
    acc += dyn[q] * yn[q] / scalen[q];
  }
  const std::size_t i = c * S + p;
  return dyn[i] * powf(scalen[i], -beta) - f * xn[i] * acc;
}

// ---------------------------------------------------------------- Dropout

/// The dropout threshold of a ratio: element i is kept when the top 24 of its 64 random bits
/// are >= ldexp(ratio, 24).
inline uint32_t dropout_threshold(float ratio) {
  return static_cast<uint32_t>(std::ldexp(double(ratio), 24));
}

/// Whether element i is kept in the forward pass whose key is stream_key(seed, call).
RISTSIM_HD inline bool dropout_keep(uint64_t key, uint64_t i, uint32_t threshold) {
  return (numeric::random64(key, i) >> 40) >= threshold;
}

// ---------------------------------------------------------------- im2col

/// The geometry of a convolution (kernels::ConvShape's fields).
struct ConvIndex {
  int c, h, w, kh, kw, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups, oh, ow;
};

/// Element (r, p) of one image's column matrix for group g: row r = (ci * kh + ky) * kw + kx
/// (ci within the group), column p = oy * ow + ox. Returns the index of the input element in
/// the image ([C, H, W]) or -1 for a tap in the padding (the value 0).
RISTSIM_HD inline int64_t im2col_source(const ConvIndex& s, int group, int64_t r, int64_t p) {
  const int kx = static_cast<int>(r % s.kw), ky = static_cast<int>((r / s.kw) % s.kh);
  const int ci = static_cast<int>(r / (int64_t{s.kw} * s.kh));
  const int ox = static_cast<int>(p % s.ow), oy = static_cast<int>(p / s.ow);
  const int y = oy * s.stride_h - s.pad_h + ky * s.dil_h;
  const int x = ox * s.stride_w - s.pad_w + kx * s.dil_w;
  if (y < 0 || y >= s.h || x < 0 || x >= s.w) return -1;
  const int c = group * (s.c / s.groups) + ci;
  return (int64_t{c} * s.h + y) * s.w + x;
}

}  // namespace ristsim::engine::steps
