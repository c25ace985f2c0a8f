// The layers without weights (and BatchNorm / Scale): activation, pooling,
// normalisation, shape and loss layers. Formulas follow Caffe's CPU code.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "engine/filler.h"
#include "engine/layers.h"
#include "engine/math.h"
#include "numeric/checked.h"
#include "numeric/random.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ristsim::engine {

// ---------------------------------------------------------------- ReLU

ReLULayer::ReLULayer(const LayerSpec& spec) : Layer(spec) {
  slope_ = static_cast<float>(spec_.get_double("negative_slope", 0.0));
}

void ReLULayer::reshape(const Blobs& bottom, const Blobs& top) { top[0]->reshape_like(*bottom[0]); }

void ReLULayer::forward(const Blobs& bottom, const Blobs& top) {
  const float* x = bottom[0]->data();
  float* y = top[0]->data();
  const std::size_t n = bottom[0]->count();
  for (std::size_t i = 0; i < n; ++i) y[i] = x[i] > 0 ? x[i] : slope_ * x[i];
}

void ReLULayer::backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) {
  if (!pd[0]) return;
  const float* x = bottom[0]->data();
  const float* dy = top[0]->diff();
  float* dx = bottom[0]->diff();
  const std::size_t n = bottom[0]->count();
  for (std::size_t i = 0; i < n; ++i) dx[i] = x[i] > 0 ? dy[i] : slope_ * dy[i];
}

// ---------------------------------------------------------------- Pooling

PoolingLayer::PoolingLayer(const LayerSpec& spec) : Layer(spec) {
  const std::string pool = spec_.get_string("pool", "max");
  if (pool == "max" || pool == "MAX") max_ = true;
  else if (pool == "ave" || pool == "AVE" || pool == "average") max_ = false;
  else throw NetSpecError(spec_.where("pool") + "expected max or ave, got '" + pool + "'");
  global_ = spec_.get_bool("global_pooling", false);
  const std::string round = spec_.get_string("round", "ceil");
  if (round != "ceil" && round != "floor")
    throw NetSpecError(spec_.where("round") + "expected ceil (Caffe) or floor, got '" + round + "'");
  ceil_ = round == "ceil";
  include_pad_ = spec_.get_bool("count_include_pad", true);
  if (!global_) {
    spec_.get_hw("kernel_size", 0, &kh_, &kw_);
    if (kh_ <= 0 || kw_ <= 0) fail("kernel_size must be positive (or global_pooling: true)");
  }
  spec_.get_hw("stride", 1, &sh_, &sw_);
  spec_.get_hw("pad", 0, &ph_, &pw_);
  spec_.get_hw("dilation", 1, &dh_, &dw_);
  if (sh_ <= 0 || sw_ <= 0) fail("stride must be positive");
  if (ph_ < 0 || pw_ < 0) fail("pad must not be negative");
  if (dh_ <= 0 || dw_ <= 0) fail("dilation must be positive");
  if ((dh_ != 1 || dw_ != 1) && (!max_ || global_))
    fail("dilation is supported for max pooling with a kernel_size only");
  if (!global_ && (ph_ >= std::max<int64_t>(int64_t(kh_ - 1) * dh_ + 1, 1) ||
                   pw_ >= std::max<int64_t>(int64_t(kw_ - 1) * dw_ + 1, 1)))
    fail("pad must be smaller than the (dilated) kernel");
}

void PoolingLayer::reshape(const Blobs& bottom, const Blobs& top) {
  const Blob& b = *bottom[0];
  if (b.num_axes() != 4) fail("input must be 4-D (N, C, H, W), got " + b.shape_string());
  const int H = b.shape(2), W = b.shape(3);
  if (global_) {
    kh_ = H, kw_ = W, sh_ = sw_ = 1, ph_ = pw_ = 0;
  }
  // In 64 bits (each factor is at most 2^31 - 1); the padded input must fit an int.
  const int64_t ekh = int64_t(kh_ - 1) * dh_ + 1, ekw = int64_t(kw_ - 1) * dw_ + 1;  // dilated
  const int64_t PH = int64_t(H) + 2 * int64_t(ph_), PW = int64_t(W) + 2 * int64_t(pw_);
  if (PH > checked::kMaxDim || PW > checked::kMaxDim)
    fail("the padded input (" + std::to_string(PH) + "x" + std::to_string(PW) + ") is larger than " +
         std::to_string(checked::kMaxDim));
  if (PH < ekh || PW < ekw)
    fail("kernel is larger than the padded input " + b.shape_string());
  auto out = [&](int64_t in, int64_t k, int64_t s, int64_t p) {
    const int64_t span = in + 2 * p - k;
    int64_t o = (ceil_ ? (span + s - 1) / s : span / s) + 1;
    if (p > 0 && (o - 1) * s >= in + p) --o;  // the last window must start inside the input
    return static_cast<int>(o);
  };
  oh_ = out(H, ekh, sh_, ph_);
  ow_ = out(W, ekw, sw_, pw_);
  top[0]->reshape({b.shape(0), b.shape(1), oh_, ow_});
  if (max_) argmax_.resize(top[0]->count());
}

namespace {
/// Max pooling of one channel whose windows all lie inside it: each window
/// scanned row by row from its first element, a strictly larger one taking
/// over (as the general loop does; a NaN never does), by selects.
void max_pool_inside(const float* __restrict x, int w, int oh, int ow, int kh, int kw, int sh,
                     int sw, float* __restrict y, int32_t* __restrict arg) {
  int ox0 = 0;
#if defined(__SSE2__)
  // 2x2 windows, stride 2 (LeNet, most CNNs): four outputs at a time, the
  // same scan as four vector compares and bitwise selects.
  if (kh == 2 && kw == 2 && sh == 2 && sw == 2) {
    ox0 = ow - ow % 4;
    for (int oy = 0; oy < oh; ++oy) {
      const int r0 = 2 * oy * w, r1 = r0 + w;
      for (int ox = 0; ox < ox0; ox += 4) {
        const __m128 a0 = _mm_loadu_ps(x + r0 + 2 * ox), a1 = _mm_loadu_ps(x + r0 + 2 * ox + 4);
        const __m128 b0 = _mm_loadu_ps(x + r1 + 2 * ox), b1 = _mm_loadu_ps(x + r1 + 2 * ox + 4);
        const __m128 v[4] = {_mm_shuffle_ps(a0, a1, _MM_SHUFFLE(2, 0, 2, 0)),   // (0, 0)
                             _mm_shuffle_ps(a0, a1, _MM_SHUFFLE(3, 1, 3, 1)),   // (0, 1)
                             _mm_shuffle_ps(b0, b1, _MM_SHUFFLE(2, 0, 2, 0)),   // (1, 0)
                             _mm_shuffle_ps(b0, b1, _MM_SHUFFLE(3, 1, 3, 1))};  // (1, 1)
        const __m128i even = _mm_add_epi32(_mm_set1_epi32(r0 + 2 * ox), _mm_setr_epi32(0, 2, 4, 6));
        const __m128i at[4] = {even, _mm_add_epi32(even, _mm_set1_epi32(1)),
                               _mm_add_epi32(even, _mm_set1_epi32(w)),
                               _mm_add_epi32(even, _mm_set1_epi32(w + 1))};
        __m128 m = v[0];
        __m128i a = at[0];
        for (int k = 1; k < 4; ++k) {
          const __m128 larger = _mm_cmpgt_ps(v[k], m);
          m = _mm_or_ps(_mm_and_ps(larger, v[k]), _mm_andnot_ps(larger, m));
          const __m128i li = _mm_castps_si128(larger);
          a = _mm_or_si128(_mm_and_si128(li, at[k]), _mm_andnot_si128(li, a));
        }
        _mm_storeu_ps(y + oy * ow + ox, m);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(arg + oy * ow + ox), a);
      }
    }
  }
#endif
  for (int oy = 0; oy < oh; ++oy)
    for (int ox = ox0; ox < ow; ++ox) {
      const int start = oy * sh * w + ox * sw;
      float m = x[start];
      int32_t a = start;
      for (int yy = 0; yy < kh; ++yy)
        for (int xx = 0; xx < kw; ++xx) {
          const int at = start + yy * w + xx;
          const bool larger = x[at] > m;
          m = larger ? x[at] : m;
          a = larger ? at : a;
        }
      y[oy * ow + ox] = m;
      arg[oy * ow + ox] = a;
    }
}
}  // namespace

void PoolingLayer::forward(const Blobs& bottom, const Blobs& top) {
  const Blob& b = *bottom[0];
  const int NC = b.shape(0) * b.shape(1), H = b.shape(2), W = b.shape(3);
  const float* x = b.data();
  float* y = top[0]->data();
  // Undilated max pooling whose windows all lie inside the input (LeNet's): max_pool_inside.
  const bool inside = max_ && dh_ == 1 && dw_ == 1 && ph_ == 0 && pw_ == 0 &&
                      (oh_ - 1) * sh_ + kh_ <= H && (ow_ - 1) * sw_ + kw_ <= W;
  parallel_for(NC, 16, [&](std::size_t c0, std::size_t c1) {
    for (std::size_t nc = c0; nc < c1; ++nc) {
      const float* xi = x + nc * H * W;
      float* yo = y + nc * oh_ * ow_;
      int32_t* am = max_ ? argmax_.data() + nc * oh_ * ow_ : nullptr;
      if (inside) {
        max_pool_inside(xi, W, oh_, ow_, kh_, kw_, sh_, sw_, yo, am);
        continue;
      }
      for (int oy = 0; oy < oh_; ++oy)
        for (int ox = 0; ox < ow_; ++ox) {
          int hs = oy * sh_ - ph_, ws = ox * sw_ - pw_;
          int he = std::min(hs + kh_, H + ph_), we = std::min(ws + kw_, W + pw_);
          int pool_size = (he - hs) * (we - ws);
          hs = std::max(hs, 0), ws = std::max(ws, 0);
          he = std::min(he, H), we = std::min(we, W);
          if (!include_pad_) pool_size = (he - hs) * (we - ws);
          const int o = oy * ow_ + ox;
          if (max_) {  // taps (y0 + i dh, x0 + j dw) inside the input
            const int y0 = oy * sh_ - ph_, x0 = ox * sw_ - pw_;
            float m = -FLT_MAX;
            int32_t arg = -1;
            for (int i = 0; i < kh_; ++i) {
              const int yy = y0 + i * dh_;
              if (yy < 0 || yy >= H) continue;
              for (int j = 0; j < kw_; ++j) {
                const int xx = x0 + j * dw_;
                if (xx < 0 || xx >= W) continue;
                if (xi[yy * W + xx] > m || arg < 0) m = xi[yy * W + xx], arg = yy * W + xx;
              }
            }
            yo[o] = arg < 0 ? 0.0f : m;
            am[o] = arg;
          } else {
            float s = 0;
            for (int yy = hs; yy < he; ++yy)
              for (int xx = ws; xx < we; ++xx) s += xi[yy * W + xx];
            yo[o] = s / pool_size;
          }
        }
    }
  });
}

void PoolingLayer::backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) {
  if (!pd[0]) return;
  const Blob& b = *bottom[0];
  const int NC = b.shape(0) * b.shape(1), H = b.shape(2), W = b.shape(3);
  const float* dy = top[0]->diff();
  float* dx = bottom[0]->diff();
  parallel_for(NC, 16, [&](std::size_t c0, std::size_t c1) {
    for (std::size_t nc = c0; nc < c1; ++nc) {
      float* dxi = dx + nc * H * W;
      std::fill(dxi, dxi + H * W, 0.0f);
      const float* dyo = dy + nc * oh_ * ow_;
      if (max_) {
        const int32_t* am = argmax_.data() + nc * oh_ * ow_;
        for (int o = 0; o < oh_ * ow_; ++o)
          if (am[o] >= 0) dxi[am[o]] += dyo[o];
        continue;
      }
      for (int oy = 0; oy < oh_; ++oy)
        for (int ox = 0; ox < ow_; ++ox) {
          int hs = oy * sh_ - ph_, ws = ox * sw_ - pw_;
          int he = std::min(hs + kh_, H + ph_), we = std::min(ws + kw_, W + pw_);
          int pool_size = (he - hs) * (we - ws);
          hs = std::max(hs, 0), ws = std::max(ws, 0);
          he = std::min(he, H), we = std::min(we, W);
          if (!include_pad_) pool_size = (he - hs) * (we - ws);
          const float g = dyo[oy * ow_ + ox] / pool_size;
          for (int yy = hs; yy < he; ++yy)
            for (int xx = ws; xx < we; ++xx) dxi[yy * W + xx] += g;
        }
    }
  });
}

// ---------------------------------------------------------------- LRN

LRNLayer::LRNLayer(const LayerSpec& spec) : Layer(spec) {
  size_ = spec_.get_int("local_size", 5);
  alpha_ = static_cast<float>(spec_.get_double("alpha", 1.0));
  beta_ = static_cast<float>(spec_.get_double("beta", 0.75));
  k_ = static_cast<float>(spec_.get_double("k", 1.0));
  const std::string region = spec_.get_string("norm_region", "across_channels");
  if (region != "across_channels" && region != "ACROSS_CHANNELS")
    throw NetSpecError(spec_.where("norm_region") + "only across_channels is supported");
  if (size_ <= 0 || size_ % 2 == 0) fail("local_size must be a positive odd number");
}

void LRNLayer::reshape(const Blobs& bottom, const Blobs& top) {
  if (bottom[0]->num_axes() != 4) fail("input must be 4-D, got " + bottom[0]->shape_string());
  top[0]->reshape_like(*bottom[0]);
  scale_.resize(bottom[0]->count());
}

void LRNLayer::forward(const Blobs& bottom, const Blobs& top) {
  const Blob& b = *bottom[0];
  const int N = b.shape(0), C = b.shape(1);
  const std::size_t S = b.count(2);
  const int pre = (size_ - 1) / 2;
  const float a = alpha_ / size_;
  const float* x = b.data();
  float* y = top[0]->data();
  parallel_for(N, 1, [&](std::size_t n0, std::size_t n1) {
    for (std::size_t n = n0; n < n1; ++n) {
      const float* xn = x + n * C * S;
      float* sn = scale_.data() + n * C * S;
      float* yn = y + n * C * S;
      for (int c = 0; c < C; ++c) {
        float* sc = sn + c * S;
        std::fill(sc, sc + S, 0.0f);
        for (int j = std::max(0, c - pre); j <= std::min(C - 1, c - pre + size_ - 1); ++j) {
          const float* xj = xn + j * S;
          for (std::size_t p = 0; p < S; ++p) sc[p] += xj[p] * xj[p];
        }
        for (std::size_t p = 0; p < S; ++p) {
          sc[p] = k_ + a * sc[p];
          yn[c * S + p] = xn[c * S + p] * std::pow(sc[p], -beta_);
        }
      }
    }
  });
}

void LRNLayer::backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) {
  if (!pd[0]) return;
  const Blob& b = *bottom[0];
  const int N = b.shape(0), C = b.shape(1);
  const std::size_t S = b.count(2);
  const int pre = (size_ - 1) / 2, post = size_ - pre - 1;
  const float f = 2.0f * alpha_ * beta_ / size_;
  const float* x = b.data();
  const float* y = top[0]->data();
  const float* dy = top[0]->diff();
  float* dx = bottom[0]->diff();
  parallel_for(N, 1, [&](std::size_t n0, std::size_t n1) {
    std::vector<float> ratio(C * S);
    for (std::size_t n = n0; n < n1; ++n) {
      const std::size_t off = n * C * S;
      for (std::size_t i = 0; i < C * S; ++i) ratio[i] = dy[off + i] * y[off + i] / scale_[off + i];
      for (int c = 0; c < C; ++c) {
        for (std::size_t p = 0; p < S; ++p) {
          float acc = 0;
          for (int j = std::max(0, c - post); j <= std::min(C - 1, c + pre); ++j) acc += ratio[j * S + p];
          const std::size_t i = off + c * S + p;
          dx[i] = dy[i] * std::pow(scale_[i], -beta_) - f * x[i] * acc;
        }
      }
    }
  });
}

// ---------------------------------------------------------------- BatchNorm

BatchNormLayer::BatchNormLayer(const LayerSpec& spec) : Layer(spec) {
  eps_ = static_cast<float>(spec_.get_double("eps", 1e-5));
  maf_ = static_cast<float>(spec_.get_double("moving_average_fraction", 0.999));
  if (spec_.has("use_global_stats")) global_mode_ = spec_.get_bool("use_global_stats", false) ? 1 : 0;
}

bool BatchNormLayer::use_global() const {
  return global_mode_ < 0 ? phase_ == Phase::test : global_mode_ == 1;
}

void BatchNormLayer::setup(const Blobs& bottom, const Blobs&) {
  if (bottom[0]->num_axes() < 2) fail("input must have a channel axis, got " + bottom[0]->shape_string());
  if (!params_.empty()) return;
  const int C = bottom[0]->shape(1);
  // Caffe's three state blobs: sum of means, sum of variances, scale factor.
  for (std::vector<int> shape : {std::vector<int>{C}, std::vector<int>{C}, std::vector<int>{1}}) {
    Param p;
    p.blob = std::make_shared<Blob>(shape);
    p.lr_mult = 0;
    p.decay_mult = 0;
    p.learnable = false;
    params_.push_back(p);
  }
}

void BatchNormLayer::reshape(const Blobs& bottom, const Blobs& top) {
  if (bottom[0]->shape(1) != params_[0].blob->shape(0))
    fail("input channels changed to " + bottom[0]->shape_string());
  top[0]->reshape_like(*bottom[0]);
  mean_.resize(bottom[0]->shape(1));
  inv_std_.resize(bottom[0]->shape(1));
}

void BatchNormLayer::forward(const Blobs& bottom, const Blobs& top) {
  const Blob& b = *bottom[0];
  const int N = b.shape(0), C = b.shape(1);
  const std::size_t S = b.count(2);
  const float* x = b.data();
  float* y = top[0]->data();
  float* mean_sum = params_[0].blob->data();
  float* var_sum = params_[1].blob->data();
  float* factor = params_[2].blob->data();
  if (use_global()) {
    const float f = factor[0] == 0 ? 0.0f : 1.0f / factor[0];
    for (int c = 0; c < C; ++c) {
      mean_[c] = mean_sum[c] * f;
      inv_std_[c] = 1.0f / std::sqrt(var_sum[c] * f + eps_);
    }
  } else {
    const double m = double(N) * S;
    for (int c = 0; c < C; ++c) {
      double s = 0, s2 = 0;
      for (int n = 0; n < N; ++n) {
        const float* xc = x + (std::size_t(n) * C + c) * S;
        for (std::size_t p = 0; p < S; ++p) s += xc[p];
      }
      const double mu = s / m;
      for (int n = 0; n < N; ++n) {
        const float* xc = x + (std::size_t(n) * C + c) * S;
        for (std::size_t p = 0; p < S; ++p) s2 += (xc[p] - mu) * (xc[p] - mu);
      }
      const double var = s2 / m;
      mean_[c] = static_cast<float>(mu);
      inv_std_[c] = static_cast<float>(1.0 / std::sqrt(var + eps_));
      if (phase_ == Phase::train) {
        mean_sum[c] = maf_ * mean_sum[c] + static_cast<float>(mu);
        var_sum[c] = maf_ * var_sum[c] + static_cast<float>(m > 1 ? var * m / (m - 1) : var);
      }
    }
    if (phase_ == Phase::train) factor[0] = maf_ * factor[0] + 1.0f;
  }
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) {
      const std::size_t o = (std::size_t(n) * C + c) * S;
      for (std::size_t p = 0; p < S; ++p) y[o + p] = (x[o + p] - mean_[c]) * inv_std_[c];
    }
}

void BatchNormLayer::backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) {
  if (!pd[0]) return;
  const Blob& b = *bottom[0];
  const int N = b.shape(0), C = b.shape(1);
  const std::size_t S = b.count(2);
  const float* x = b.data();
  const float* dy = top[0]->diff();
  float* dx = bottom[0]->diff();
  const bool global = use_global();
  const double m = double(N) * S;
  for (int c = 0; c < C; ++c) {
    double sdy = 0, sdyy = 0;
    if (!global)
      for (int n = 0; n < N; ++n) {
        const std::size_t o = (std::size_t(n) * C + c) * S;
        for (std::size_t p = 0; p < S; ++p) {
          const double yv = (x[o + p] - mean_[c]) * inv_std_[c];
          sdy += dy[o + p];
          sdyy += dy[o + p] * yv;
        }
      }
    const float mdy = static_cast<float>(sdy / m), mdyy = static_cast<float>(sdyy / m);
    for (int n = 0; n < N; ++n) {
      const std::size_t o = (std::size_t(n) * C + c) * S;
      for (std::size_t p = 0; p < S; ++p) {
        if (global) {
          dx[o + p] = dy[o + p] * inv_std_[c];
        } else {
          const float yv = (x[o + p] - mean_[c]) * inv_std_[c];
          dx[o + p] = inv_std_[c] * (dy[o + p] - mdy - yv * mdyy);
        }
      }
    }
  }
}

// ---------------------------------------------------------------- Scale

ScaleLayer::ScaleLayer(const LayerSpec& spec) : Layer(spec) {
  bias_term_ = spec_.get_bool("bias_term", true);
}

void ScaleLayer::setup(const Blobs& bottom, const Blobs&) {
  if (bottom[0]->num_axes() < 2) fail("input must have a channel axis, got " + bottom[0]->shape_string());
  if (!params_.empty()) return;
  const int C = bottom[0]->shape(1);
  Rng rng(seed_);
  Param g;
  g.blob = std::make_shared<Blob>(std::vector<int>{C});
  if (spec_.has("filler.type")) fill(*g.blob, spec_, "filler", "constant", 1, rng);
  else std::fill(g.blob->data(), g.blob->data() + C, 1.0f);
  params_.push_back(g);
  if (bias_term_) {
    Param b;
    b.blob = std::make_shared<Blob>(std::vector<int>{C});
    fill(*b.blob, spec_, "bias_filler", "constant", 1, rng);
    params_.push_back(b);
  }
  apply_multipliers();
}

void ScaleLayer::reshape(const Blobs& bottom, const Blobs& top) {
  if (bottom[0]->shape(1) != params_[0].blob->shape(0))
    fail("input channels changed to " + bottom[0]->shape_string());
  top[0]->reshape_like(*bottom[0]);
}

void ScaleLayer::forward(const Blobs& bottom, const Blobs& top) {
  const Blob& b = *bottom[0];
  const int N = b.shape(0), C = b.shape(1);
  const std::size_t S = b.count(2);
  const float* g = params_[0].blob->data();
  const float* be = bias_term_ ? params_[1].blob->data() : nullptr;
  const float* x = b.data();
  float* y = top[0]->data();
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) {
      const std::size_t o = (std::size_t(n) * C + c) * S;
      const float bias = be ? be[c] : 0.0f;
      for (std::size_t p = 0; p < S; ++p) y[o + p] = g[c] * x[o + p] + bias;
    }
}

void ScaleLayer::backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) {
  const Blob& b = *bottom[0];
  const int N = b.shape(0), C = b.shape(1);
  const std::size_t S = b.count(2);
  const float* g = params_[0].blob->data();
  float* dg = params_[0].blob->diff();
  float* db = bias_term_ ? params_[1].blob->diff() : nullptr;
  const float* x = b.data();
  const float* dy = top[0]->diff();
  float* dx = bottom[0]->diff();
  for (int c = 0; c < C; ++c) {
    float sg = 0, sb = 0;
    for (int n = 0; n < N; ++n) {
      const std::size_t o = (std::size_t(n) * C + c) * S;
      for (std::size_t p = 0; p < S; ++p) {
        sg += dy[o + p] * x[o + p];
        sb += dy[o + p];
        if (pd[0]) dx[o + p] = g[c] * dy[o + p];
      }
    }
    dg[c] += sg;
    if (db) db[c] += sb;
  }
}

// ---------------------------------------------------------------- Concat

ConcatLayer::ConcatLayer(const LayerSpec& spec) : Layer(spec) { axis_ = spec_.get_int("axis", 1); }

void ConcatLayer::reshape(const Blobs& bottom, const Blobs& top) {
  std::vector<int> shape = bottom[0]->shape();
  const int axis = bottom[0]->canonical_axis(axis_);
  if (axis < 0 || axis >= bottom[0]->num_axes()) fail("axis out of range for " + bottom[0]->shape_string());
  for (std::size_t i = 1; i < bottom.size(); ++i) {
    const std::vector<int>& s = bottom[i]->shape();
    bool ok = s.size() == shape.size();
    for (std::size_t a = 0; ok && a < s.size(); ++a)
      if (int(a) != axis && s[a] != shape[a]) ok = false;
    if (!ok)
      fail("inputs " + bottom[0]->shape_string() + " and " + bottom[i]->shape_string() +
           " differ outside the concatenation axis " + std::to_string(axis));
    shape[axis] += s[axis];
  }
  top[0]->reshape(shape);
}

void ConcatLayer::forward(const Blobs& bottom, const Blobs& top) {
  const int axis = bottom[0]->canonical_axis(axis_);
  const std::size_t outer = bottom[0]->count(0, axis);
  const std::size_t top_len = top[0]->count(axis);
  std::size_t off = 0;
  for (Blob* b : bottom) {
    const std::size_t len = b->count(axis);
    for (std::size_t o = 0; o < outer; ++o)
      std::memcpy(top[0]->data() + o * top_len + off, b->data() + o * len, sizeof(float) * len);
    off += len;
  }
}

void ConcatLayer::backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) {
  const int axis = bottom[0]->canonical_axis(axis_);
  const std::size_t outer = bottom[0]->count(0, axis);
  const std::size_t top_len = top[0]->count(axis);
  std::size_t off = 0;
  for (std::size_t i = 0; i < bottom.size(); ++i) {
    const std::size_t len = bottom[i]->count(axis);
    if (pd[i])
      for (std::size_t o = 0; o < outer; ++o)
        std::memcpy(bottom[i]->diff() + o * len, top[0]->diff() + o * top_len + off, sizeof(float) * len);
    off += len;
  }
}

// ---------------------------------------------------------------- Eltwise

EltwiseLayer::EltwiseLayer(const LayerSpec& spec) : Layer(spec) {
  const std::string op = spec_.get_string("operation", "sum");
  if (op != "sum" && op != "SUM")
    throw NetSpecError(spec_.where("operation") + "only sum is supported, got '" + op + "'");
  coeff_ = spec_.get_list("coeff", {});
}

void EltwiseLayer::reshape(const Blobs& bottom, const Blobs& top) {
  if (bottom.size() < 2) fail("needs at least two inputs");
  if (!coeff_.empty() && coeff_.size() != bottom.size())
    fail("coeff has " + std::to_string(coeff_.size()) + " values for " + std::to_string(bottom.size()) +
         " inputs");
  for (Blob* b : bottom)
    if (b->shape() != bottom[0]->shape())
      fail("inputs " + bottom[0]->shape_string() + " and " + b->shape_string() + " differ");
  top[0]->reshape_like(*bottom[0]);
}

void EltwiseLayer::forward(const Blobs& bottom, const Blobs& top) {
  const std::size_t n = top[0]->count();
  float* y = top[0]->data();
  std::fill(y, y + n, 0.0f);
  for (std::size_t i = 0; i < bottom.size(); ++i) {
    const float c = coeff_.empty() ? 1.0f : static_cast<float>(coeff_[i]);
    const float* x = bottom[i]->data();
    for (std::size_t j = 0; j < n; ++j) y[j] += c * x[j];
  }
}

void EltwiseLayer::backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) {
  const std::size_t n = top[0]->count();
  for (std::size_t i = 0; i < bottom.size(); ++i) {
    if (!pd[i]) continue;
    const float c = coeff_.empty() ? 1.0f : static_cast<float>(coeff_[i]);
    for (std::size_t j = 0; j < n; ++j) bottom[i]->diff()[j] = c * top[0]->diff()[j];
  }
}

// ---------------------------------------------------------------- Dropout

DropoutLayer::DropoutLayer(const LayerSpec& spec) : Layer(spec) {
  ratio_ = static_cast<float>(spec_.get_double("dropout_ratio", 0.5));
  if (!(ratio_ >= 0 && ratio_ < 1)) fail("dropout_ratio must be in [0, 1)");
}

void DropoutLayer::reshape(const Blobs& bottom, const Blobs& top) {
  top[0]->reshape_like(*bottom[0]);
  mask_.resize(bottom[0]->count());
}

void DropoutLayer::forward(const Blobs& bottom, const Blobs& top) {
  const std::size_t n = bottom[0]->count();
  const float* x = bottom[0]->data();
  float* y = top[0]->data();
  if (phase_ != Phase::train) {
    std::memcpy(y, x, sizeof(float) * n);
    return;
  }
  const uint64_t key = numeric::stream_key(seed_, calls_++);
  const uint32_t threshold = static_cast<uint32_t>(std::ldexp(double(ratio_), 24));
  const float scale = 1.0f / (1.0f - ratio_);
  for (std::size_t i = 0; i < n; ++i) {
    mask_[i] = (numeric::random64(key, i) >> 40) >= threshold;
    y[i] = mask_[i] ? x[i] * scale : 0.0f;
  }
}

void DropoutLayer::backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) {
  if (!pd[0]) return;
  const std::size_t n = bottom[0]->count();
  const float* dy = top[0]->diff();
  float* dx = bottom[0]->diff();
  if (phase_ != Phase::train) {
    std::memcpy(dx, dy, sizeof(float) * n);
    return;
  }
  const float scale = 1.0f / (1.0f - ratio_);
  for (std::size_t i = 0; i < n; ++i) dx[i] = mask_[i] ? dy[i] * scale : 0.0f;
}

// ---------------------------------------------------------------- Flatten

FlattenLayer::FlattenLayer(const LayerSpec& spec) : Layer(spec) { axis_ = spec_.get_int("axis", 1); }

void FlattenLayer::reshape(const Blobs& bottom, const Blobs& top) {
  const int axis = bottom[0]->canonical_axis(axis_);
  if (axis < 0 || axis >= bottom[0]->num_axes()) fail("axis out of range for " + bottom[0]->shape_string());
  std::vector<int> shape(bottom[0]->shape().begin(), bottom[0]->shape().begin() + axis);
  shape.push_back(static_cast<int>(bottom[0]->count(axis)));
  top[0]->reshape(shape);
}

void FlattenLayer::forward(const Blobs& bottom, const Blobs& top) {
  std::memcpy(top[0]->data(), bottom[0]->data(), sizeof(float) * bottom[0]->count());
}

void FlattenLayer::backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) {
  if (pd[0]) std::memcpy(bottom[0]->diff(), top[0]->diff(), sizeof(float) * bottom[0]->count());
}

// ---------------------------------------------------------------- Reshape

ReshapeLayer::ReshapeLayer(const LayerSpec& spec) : Layer(spec) {
  if (!spec_.has("shape")) fail("needs shape: [...] (0 copies an input size, -1 is inferred)");
  allowzero_ = spec_.get_bool("allowzero", false);
  int inferred = 0, zeros = 0;
  for (double d : spec_.get_list("shape", {})) {
    if (d != std::floor(d) || d < -1 || d > 1e9)
      throw NetSpecError(spec_.where("shape") + "entries must be integers >= -1, got " +
                         std::to_string(d));
    inferred += d == -1;
    zeros += d == 0;
    shape_.push_back(static_cast<int>(d));
  }
  if (inferred > 1) throw NetSpecError(spec_.where("shape") + "more than one -1");
  if (allowzero_ && inferred && zeros)
    throw NetSpecError(spec_.where("shape") +
                       "with allowzero: true a 0 is a size of zero, so -1 cannot be inferred");
}

void ReshapeLayer::reshape(const Blobs& bottom, const Blobs& top) {
  const Blob& b = *bottom[0];
  std::vector<int> s = shape_;
  std::size_t known = 1;
  int infer = -1;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == 0 && !allowzero_) {
      if (int(i) >= b.num_axes())
        fail("shape entry " + std::to_string(i) + " is 0 (copy) but the input " +
             b.shape_string() + " has no axis " + std::to_string(i));
      s[i] = b.shape(int(i));
    }
    if (s[i] == -1)
      infer = int(i);
    else
      known *= static_cast<std::size_t>(s[i]);
  }
  if (infer >= 0) {
    if (known == 0 || b.count() % known != 0)
      fail("cannot infer the -1 of " + shape_string(shape_) + " from the " +
           std::to_string(b.count()) + " elements of " + b.shape_string());
    s[infer] = static_cast<int>(b.count() / known);
  } else if (known != b.count()) {
    fail("shape " + shape_string(shape_) + " holds " + std::to_string(known) +
         " elements, the input " + b.shape_string() + " has " + std::to_string(b.count()));
  }
  top[0]->reshape(s);
}

void ReshapeLayer::forward(const Blobs& bottom, const Blobs& top) {
  std::copy(bottom[0]->data(), bottom[0]->data() + bottom[0]->count(), top[0]->data());
}

void ReshapeLayer::backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) {
  if (pd[0]) std::copy(top[0]->diff(), top[0]->diff() + top[0]->count(), bottom[0]->diff());
}

// ---------------------------------------------------------------- Softmax

void softmax(const float* x, float* y, std::size_t outer, int C, std::size_t inner, float temperature) {
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t s = 0; s < inner; ++s) {
      const float* xo = x + o * C * inner + s;
      float* yo = y + o * C * inner + s;
      float m = -FLT_MAX;
      for (int c = 0; c < C; ++c) m = std::max(m, xo[c * inner]);
      float sum = 0;
      for (int c = 0; c < C; ++c) sum += yo[c * inner] = std::exp((xo[c * inner] - m) / temperature);
      for (int c = 0; c < C; ++c) yo[c * inner] /= sum;
    }
}

SoftmaxLayer::SoftmaxLayer(const LayerSpec& spec) : Layer(spec) {}

void SoftmaxLayer::reshape(const Blobs& bottom, const Blobs& top) {
  if (bottom[0]->num_axes() < 2) fail("input must have a class axis, got " + bottom[0]->shape_string());
  top[0]->reshape_like(*bottom[0]);
}

void SoftmaxLayer::forward(const Blobs& bottom, const Blobs& top) {
  const Blob& b = *bottom[0];
  softmax(b.data(), top[0]->data(), b.shape(0), b.shape(1), b.count(2));
}

void SoftmaxLayer::backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) {
  if (!pd[0]) return;
  const Blob& b = *bottom[0];
  const std::size_t outer = b.shape(0), inner = b.count(2);
  const int C = b.shape(1);
  const float* y = top[0]->data();
  const float* dy = top[0]->diff();
  float* dx = bottom[0]->diff();
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t s = 0; s < inner; ++s) {
      const std::size_t base = o * C * inner + s;
      float dot = 0;
      for (int c = 0; c < C; ++c) dot += dy[base + c * inner] * y[base + c * inner];
      for (int c = 0; c < C; ++c)
        dx[base + c * inner] = y[base + c * inner] * (dy[base + c * inner] - dot);
    }
}

// ---------------------------------------------------------------- SoftmaxWithLoss

SoftmaxWithLossLayer::SoftmaxWithLossLayer(const LayerSpec& spec) : Layer(spec) {}

void SoftmaxWithLossLayer::reshape(const Blobs& bottom, const Blobs& top) {
  const Blob& b = *bottom[0];
  if (b.num_axes() < 2) fail("scores must have a class axis, got " + b.shape_string());
  if (bottom[1]->count() != b.shape(0) * b.count(2))
    fail("labels " + bottom[1]->shape_string() + " do not match scores " + b.shape_string());
  top[0]->reshape({1});
  prob_.resize(b.count());
}

void SoftmaxWithLossLayer::set_soft_targets(const float* targets, float weight, float temperature) {
  if (targets && !(weight >= 0 && weight <= 1 && temperature > 0))
    fail("distillation needs a weight in [0, 1] and a positive temperature");
  soft_ = targets, soft_weight_ = weight, temperature_ = temperature;
}

void SoftmaxWithLossLayer::forward(const Blobs& bottom, const Blobs& top) {
  const Blob& b = *bottom[0];
  const std::size_t outer = b.shape(0), inner = b.count(2);
  const int C = b.shape(1);
  softmax(b.data(), prob_.data(), outer, C, inner);
  const float* label = bottom[1]->data();
  double loss = 0;
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t s = 0; s < inner; ++s) {
      const int l = static_cast<int>(label[o * inner + s]);
      if (l < 0 || l >= C)
        throw std::runtime_error(spec_.where() + "label " + std::to_string(l) + " is outside [0, " +
                                 std::to_string(C) + ")");
      loss -= std::log(std::max(prob_[o * C * inner + l * inner + s], FLT_MIN));
    }
  if (soft_) {
    // (1 - w) * cross-entropy + w * T^2 * KL(targets || softmax(x / T)).
    soft_prob_.resize(b.count());
    softmax(b.data(), soft_prob_.data(), outer, C, inner, temperature_);
    double kl = 0;
    for (std::size_t i = 0; i < b.count(); ++i)
      if (soft_[i] > 0)
        kl += double(soft_[i]) * (std::log(double(soft_[i])) - std::log(std::max(double(soft_prob_[i]), 1e-300)));
    const double T = temperature_;
    loss = (1 - soft_weight_) * loss + soft_weight_ * T * T * kl;
  }
  top[0]->data()[0] = static_cast<float>(loss / double(outer * inner));
}

void SoftmaxWithLossLayer::backward(const Blobs& top, const std::vector<bool>& pd,
                                    const Blobs& bottom) {
  if (!pd[0]) return;
  const Blob& b = *bottom[0];
  const std::size_t outer = b.shape(0), inner = b.count(2);
  const int C = b.shape(1);
  const float* label = bottom[1]->data();
  float* dx = bottom[0]->diff();
  const float scale = top[0]->diff()[0] / static_cast<float>(outer * inner);
  for (std::size_t i = 0; i < b.count(); ++i) dx[i] = prob_[i] * scale;
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t s = 0; s < inner; ++s) {
      const int l = static_cast<int>(label[o * inner + s]);
      dx[o * C * inner + l * inner + s] -= scale;
    }
  if (soft_) {
    // d/dx of T^2 * KL(t || softmax(x / T)) is T * (softmax(x / T) - t).
    const float hard = 1 - soft_weight_, soft = soft_weight_ * temperature_;
    for (std::size_t i = 0; i < b.count(); ++i)
      dx[i] = hard * dx[i] + soft * scale * (soft_prob_[i] - soft_[i]);
  }
}

// ---------------------------------------------------------------- Split

void SplitLayer::reshape(const Blobs& bottom, const Blobs& top) {
  for (Blob* t : top) t->reshape_like(*bottom[0]);
}

void SplitLayer::forward(const Blobs& bottom, const Blobs& top) {
  for (Blob* t : top) std::memcpy(t->data(), bottom[0]->data(), sizeof(float) * bottom[0]->count());
}

void SplitLayer::backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) {
  if (!pd[0]) return;
  const std::size_t n = bottom[0]->count();
  float* dx = bottom[0]->diff();
  std::memcpy(dx, top[0]->diff(), sizeof(float) * n);
  for (std::size_t t = 1; t < top.size(); ++t)
    for (std::size_t i = 0; i < n; ++i) dx[i] += top[t]->diff()[i];
}

}  // namespace ristsim::engine
