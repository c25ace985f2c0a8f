// Convolution (groups, stride, padding, dilation) and InnerProduct, by
// im2col + SGEMM over a whole chunk of images at once (one large GEMM per
// group instead of one small GEMM per image), and the shared WeightedLayer
// forward/backward that hands over to the quantizer when one is attached.
#include <algorithm>
#include <cstring>

#include "engine/filler.h"
#include "engine/layers.h"
#include "engine/math.h"
#include "engine/quant.h"
#include "numeric/checked.h"

namespace ristsim::engine {

namespace {

// Largest im2col buffer (floats) a chunk of images may use.
constexpr std::size_t kColLimit = std::size_t{1} << 24;
// The forward pass's chunks: an im2col buffer that stays in the L2 cache (2 MB).
constexpr std::size_t kColCache = std::size_t{1} << 19;

/// dst[0, n) = src[0, n) for the short rows of im2col (8 to 24 floats in
/// LeNet): fixed-size copies the compiler turns into vector moves, no call.
inline void copy_row(float* __restrict dst, const float* __restrict src, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8) std::memcpy(dst + i, src + i, 8 * sizeof(float));
  for (; i + 4 <= n; i += 4) std::memcpy(dst + i, src + i, 4 * sizeof(float));
  for (; i < n; ++i) dst[i] = src[i];
}

/// dst[0, n) += src[0, n) (col2im's rows).
inline void add_row(float* __restrict dst, const float* __restrict src, int n) {
  for (int i = 0; i < n; ++i) dst[i] += src[i];
}

/// Stride 1, no padding, no dilation: every window lies inside the image and
/// the rows of a window are contiguous.
bool dense_windows(const ConvGeometry& g) {
  return g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0 && g.dil_h == 1 &&
         g.dil_w == 1;
}

/// col[r, col_off + p] for r = (c * kh + i) * kw + j over channels [0, cg) of
/// one image (cg x h x w), p = oy * ow + ox; ld = row length of col.
void im2col(const float* img, const ConvGeometry& g, int cg, float* col, std::size_t ld,
            std::size_t col_off) {
  if (dense_windows(g)) {
    for (int c = 0; c < cg; ++c)
      for (int i = 0; i < g.kh; ++i)
        for (int j = 0; j < g.kw; ++j) {
          float* row = col + (std::size_t(c * g.kh + i) * g.kw + j) * ld + col_off;
          const float* src = img + (std::size_t(c) * g.h + i) * g.w + j;
          for (int oy = 0; oy < g.oh; ++oy) copy_row(row + oy * g.ow, src + oy * g.w, g.ow);
        }
    return;
  }
  for (int c = 0; c < cg; ++c) {
    const float* ch = img + std::size_t(c) * g.h * g.w;
    for (int i = 0; i < g.kh; ++i) {
      for (int j = 0; j < g.kw; ++j) {
        float* row = col + (std::size_t(c * g.kh + i) * g.kw + j) * ld + col_off;
        if (g.stride_w == 1) std::fill(row, row + std::size_t(g.oh) * g.ow, 0.0f);  // padding
        for (int oy = 0; oy < g.oh; ++oy) {
          const int y = oy * g.stride_h - g.pad_h + i * g.dil_h;
          float* dst = row + oy * g.ow;
          if (y < 0 || y >= g.h) {
            if (g.stride_w != 1) std::fill(dst, dst + g.ow, 0.0f);
            continue;
          }
          const float* src = ch + std::size_t(y) * g.w;
          const int x0 = j * g.dil_w - g.pad_w;
          if (g.stride_w == 1) {  // the run inside the image (the row was zeroed)
            const int lo = std::clamp(-x0, 0, g.ow), hi = std::clamp(g.w - x0, lo, g.ow);
            if (hi > lo) copy_row(dst + lo, src + x0 + lo, hi - lo);
            continue;
          }
          for (int ox = 0; ox < g.ow; ++ox) {
            const int x = x0 + ox * g.stride_w;
            dst[ox] = (x >= 0 && x < g.w) ? src[x] : 0.0f;
          }
        }
      }
    }
  }
}

/// The adjoint of im2col: adds col back into img (cg x h x w), which the caller zeroed.
void col2im(const float* col, const ConvGeometry& g, int cg, std::size_t ld, std::size_t col_off,
            float* img) {
  if (dense_windows(g)) {  // the same additions in the same order, without the bounds
    for (int c = 0; c < cg; ++c)
      for (int i = 0; i < g.kh; ++i)
        for (int j = 0; j < g.kw; ++j) {
          const float* row = col + (std::size_t(c * g.kh + i) * g.kw + j) * ld + col_off;
          float* dst = img + (std::size_t(c) * g.h + i) * g.w + j;
          for (int oy = 0; oy < g.oh; ++oy) add_row(dst + oy * g.w, row + oy * g.ow, g.ow);
        }
    return;
  }
  for (int c = 0; c < cg; ++c) {
    float* ch = img + std::size_t(c) * g.h * g.w;
    for (int i = 0; i < g.kh; ++i) {
      for (int j = 0; j < g.kw; ++j) {
        const float* row = col + (std::size_t(c * g.kh + i) * g.kw + j) * ld + col_off;
        for (int oy = 0; oy < g.oh; ++oy) {
          const int y = oy * g.stride_h - g.pad_h + i * g.dil_h;
          if (y < 0 || y >= g.h) continue;
          float* dst = ch + std::size_t(y) * g.w;
          const float* src = row + oy * g.ow;
          const int x0 = j * g.dil_w - g.pad_w;
          if (g.stride_w == 1) {  // the same additions, the run inside the image only
            const int lo = std::clamp(-x0, 0, g.ow), hi = std::clamp(g.w - x0, lo, g.ow);
            if (hi > lo) add_row(dst + x0 + lo, src + lo, hi - lo);
            continue;
          }
          for (int ox = 0; ox < g.ow; ++ox) {
            const int x = x0 + ox * g.stride_w;
            if (x >= 0 && x < g.w) dst[x] += src[ox];
          }
        }
      }
    }
  }
}

}  // namespace

// ---------------------------------------------------------------- WeightedLayer

void WeightedLayer::create_params(int fan_in) {
  Rng rng(seed_);
  params_.clear();
  Param w;
  w.blob = std::make_shared<Blob>(std::vector<int>{g_.k, g_.c / g_.groups, g_.kh, g_.kw});
  fill(*w.blob, spec_, "weight_filler", "xavier", fan_in, rng);
  params_.push_back(w);
  if (bias_term_) {
    Param b;
    b.blob = std::make_shared<Blob>(std::vector<int>{g_.k});
    fill(*b.blob, spec_, "bias_filler", "constant", fan_in, rng);
    params_.push_back(b);
  }
  apply_multipliers();
}

void WeightedLayer::forward(const Blobs& bottom, const Blobs& top) {
  const float* b = bias_term_ ? params_[1].blob->data() : nullptr;
  if (quant_) {
    quant_->forward(*this, bottom[0]->data(), params_[0].blob->data(), b, top[0]->data());
    return;
  }
  compute_forward(bottom[0]->data(), params_[0].blob->data(), b, top[0]->data());
}

void WeightedLayer::backward(const Blobs& top, const std::vector<bool>& propagate_down,
                             const Blobs& bottom) {
  const float* in = bottom[0]->data();
  const float* w = params_[0].blob->data();
  if (quant_) {  // gradients through the values the forward pass used (straight-through)
    in = quant_->used_input(in);
    w = quant_->used_weights(w);
    quant_->clip_output_grad(top[0]->diff());
  }
  compute_backward(in, w, top[0]->diff(), propagate_down[0] ? bottom[0]->diff() : nullptr,
                   params_[0].blob->diff(), bias_term_ ? params_[1].blob->diff() : nullptr);
  if (quant_ && propagate_down[0]) quant_->clip_input_grad(bottom[0]->diff());
}

// ---------------------------------------------------------------- Convolution

ConvolutionLayer::ConvolutionLayer(const LayerSpec& spec) : WeightedLayer(spec) {
  num_output_ = spec_.get_int("num_output", 0);
  if (num_output_ <= 0) fail("num_output must be a positive integer");
  spec_.get_hw("kernel_size", 0, &g_.kh, &g_.kw);
  spec_.get_hw("stride", 1, &g_.stride_h, &g_.stride_w);
  spec_.get_hw("pad", 0, &g_.pad_h, &g_.pad_w);
  spec_.get_hw("dilation", 1, &g_.dil_h, &g_.dil_w);
  g_.groups = spec_.get_int("group", 1);
  bias_term_ = spec_.get_bool("bias_term", true);
  if (g_.kh <= 0 || g_.kw <= 0) fail("kernel_size must be positive");
  if (g_.stride_h <= 0 || g_.stride_w <= 0) fail("stride must be positive");
  if (g_.pad_h < 0 || g_.pad_w < 0) fail("pad must not be negative");
  if (g_.dil_h <= 0 || g_.dil_w <= 0) fail("dilation must be positive");
  if (g_.groups <= 0 || num_output_ % g_.groups)
    fail("num_output (" + std::to_string(num_output_) + ") must be a multiple of group (" +
         std::to_string(g_.groups) + ")");
  g_.k = num_output_;
}

void ConvolutionLayer::setup(const Blobs& bottom, const Blobs&) {
  if (bottom[0]->num_axes() != 4)
    fail("input must be 4-D (N, C, H, W), got " + bottom[0]->shape_string());
  g_.c = bottom[0]->shape(1);
  if (g_.c % g_.groups)
    fail("input channels (" + std::to_string(g_.c) + ") must be a multiple of group (" +
         std::to_string(g_.groups) + ")");
  // Parameters exist once; re-running setup (a new Net phase) keeps them. The weight count
  // is checked before anything is allocated (kernel 65537 x 65537 overflows an int).
  const int64_t per_output[3] = {g_.c / g_.groups, g_.kh, g_.kw};
  const auto fan_in = checked::product(per_output, Blob::element_limit());
  if (!fan_in || !checked::mul(*fan_in, g_.k) || *checked::mul(*fan_in, g_.k) > Blob::element_limit())
    fail("the weights [" + std::to_string(g_.k) + ", " + std::to_string(g_.c / g_.groups) + ", " +
         std::to_string(g_.kh) + ", " + std::to_string(g_.kw) + "] have more than " +
         std::to_string(Blob::element_limit()) + " elements (the limit of one blob)");
  if (params_.empty()) create_params(static_cast<int>(*fan_in));
}

void ConvolutionLayer::reshape(const Blobs& bottom, const Blobs& top) {
  const Blob& b = *bottom[0];
  if (b.num_axes() != 4 || b.shape(1) != g_.c)
    fail("input shape " + b.shape_string() + " does not match the weights (C = " +
         std::to_string(g_.c) + ")");
  g_.n = b.shape(0);
  g_.h = b.shape(2);
  g_.w = b.shape(3);
  // In 64 bits: each factor is at most 2^31 - 1, so no product or sum below overflows. The
  // padded input and the dilated kernel must each fit an int (the kernels index in int).
  const int64_t ekh = int64_t(g_.dil_h) * (g_.kh - 1) + 1, ekw = int64_t(g_.dil_w) * (g_.kw - 1) + 1;
  const int64_t ph = int64_t(g_.h) + 2 * int64_t(g_.pad_h), pw = int64_t(g_.w) + 2 * int64_t(g_.pad_w);
  if (ph > checked::kMaxDim || pw > checked::kMaxDim)
    fail("the padded input (" + std::to_string(ph) + "x" + std::to_string(pw) + ") is larger than " +
         std::to_string(checked::kMaxDim));
  if (ph < ekh || pw < ekw)
    fail("kernel " + std::to_string(ekh) + "x" + std::to_string(ekw) + " is larger than the padded input " +
         b.shape_string());
  g_.oh = static_cast<int>((ph - ekh) / g_.stride_h + 1);
  g_.ow = static_cast<int>((pw - ekw) / g_.stride_w + 1);
  top[0]->reshape({g_.n, g_.k, g_.oh, g_.ow});
}

int ConvolutionLayer::images_per_chunk() const {
  const std::size_t per = std::size_t(g_.c / g_.groups) * g_.kh * g_.kw * g_.oh * g_.ow;
  return static_cast<int>(std::max<std::size_t>(1, std::min<std::size_t>(g_.n, kColLimit / std::max<std::size_t>(per, 1))));
}

int ConvolutionLayer::images_per_forward_chunk() const {
  const std::size_t per = std::size_t(g_.c / g_.groups) * g_.kh * g_.kw * g_.oh * g_.ow;
  return static_cast<int>(std::max<std::size_t>(1, std::min<std::size_t>(g_.n, kColCache / std::max<std::size_t>(per, 1))));
}

void ConvolutionLayer::compute_forward(const float* in, const float* w, const float* b,
                                       float* out) {
  const int cg = g_.c / g_.groups, kg = g_.k / g_.groups;
  const int rows = cg * g_.kh * g_.kw;
  const std::size_t P = std::size_t(g_.oh) * g_.ow;
  const int chunk = images_per_forward_chunk();
  const int chunks = (g_.n + chunk - 1) / chunk;
  // One chunk of images: im2col, one GEMM per group, then the columns back to
  // NCHW with the bias. Several chunks: the chunks are spread over the threads
  // (each with its own buffers); one: its images and GEMM tiles are.
  auto run_chunk = [&](int ci, bool spread) {
    thread_local std::vector<float> col_buffer, gemm_buffer;
    const int n0 = ci * chunk, nc = std::min(chunk, g_.n - n0);
    const std::size_t ld = nc * P;
    col_buffer.resize(rows * ld);
    gemm_buffer.resize(kg * ld);
    // Pointers: the lambdas below may run on other threads, whose thread_locals differ.
    float* const col = col_buffer.data();
    float* const buf = gemm_buffer.data();
    auto images = [&](const std::function<void(std::size_t, std::size_t)>& fn) {
      if (spread) parallel_for(nc, 1, fn);
      else fn(0, nc);
    };
    for (int gi = 0; gi < g_.groups; ++gi) {
      images([&](std::size_t b0, std::size_t b1) {
        for (std::size_t i = b0; i < b1; ++i)
          im2col(in + ((n0 + i) * std::size_t(g_.c) + gi * cg) * g_.h * g_.w, g_, cg, col, ld,
                 i * P);
      });
      (spread ? gemm : gemm_serial)(false, false, kg, static_cast<int>(ld), rows, 1.0f,
                                    w + std::size_t(gi) * kg * rows, col, 0.0f, buf);
      images([&](std::size_t b0, std::size_t b1) {
        for (std::size_t i = b0; i < b1; ++i)
          for (int k = 0; k < kg; ++k) {
            const int ko = gi * kg + k;
            float* dst = out + ((n0 + i) * std::size_t(g_.k) + ko) * P;
            const float* src = buf + std::size_t(k) * ld + i * P;
            const float bias = b ? b[ko] : 0.0f;
            for (std::size_t p = 0; p < P; ++p) dst[p] = src[p] + bias;
          }
      });
    }
  };
  if (chunks == 1) {
    run_chunk(0, true);
    return;
  }
  parallel_for(chunks, 1, [&](std::size_t c0, std::size_t c1) {
    for (std::size_t c = c0; c < c1; ++c) run_chunk(static_cast<int>(c), false);
  });
}

void ConvolutionLayer::compute_backward(const float* in, const float* w, const float* top_diff,
                                        float* bottom_diff, float* w_diff, float* b_diff) {
  const int cg = g_.c / g_.groups, kg = g_.k / g_.groups;
  const int rows = cg * g_.kh * g_.kw;
  const std::size_t P = std::size_t(g_.oh) * g_.ow;
  const int chunk = images_per_chunk();
  if (b_diff) {  // fixed summation order: images, then pixels
    for (int n = 0; n < g_.n; ++n)
      for (int k = 0; k < g_.k; ++k) {
        const float* d = top_diff + (std::size_t(n) * g_.k + k) * P;
        float s = 0;
        for (std::size_t p = 0; p < P; ++p) s += d[p];
        b_diff[k] += s;
      }
  }
  for (int n0 = 0; n0 < g_.n; n0 += chunk) {
    const int nc = std::min(chunk, g_.n - n0);
    const std::size_t ld = nc * P;
    col_.resize(rows * ld);
    buf_.resize(kg * ld);
    if (bottom_diff)
      std::fill(bottom_diff + std::size_t(n0) * g_.c * g_.h * g_.w,
                bottom_diff + std::size_t(n0 + nc) * g_.c * g_.h * g_.w, 0.0f);
    for (int gi = 0; gi < g_.groups; ++gi) {
      // Gather this group's top diff as [kg, nc * P].
      parallel_for(nc, 1, [&](std::size_t b0, std::size_t b1) {
        for (std::size_t i = b0; i < b1; ++i)
          for (int k = 0; k < kg; ++k)
            std::memcpy(buf_.data() + std::size_t(k) * ld + i * P,
                        top_diff + ((n0 + i) * std::size_t(g_.k) + gi * kg + k) * P,
                        sizeof(float) * P);
      });
      parallel_for(nc, 1, [&](std::size_t b0, std::size_t b1) {
        for (std::size_t i = b0; i < b1; ++i)
          im2col(in + ((n0 + i) * std::size_t(g_.c) + gi * cg) * g_.h * g_.w, g_, cg, col_.data(),
                 ld, i * P);
      });
      // dW_g[kg, rows] += dY_g[kg, ld] * col^T[ld, rows]
      gemm_accumulate_k(false, true, kg, rows, static_cast<int>(ld), buf_.data(), col_.data(),
                        w_diff + std::size_t(gi) * kg * rows);
      if (!bottom_diff) continue;
      // dcol[rows, ld] = W_g^T[rows, kg] * dY_g[kg, ld]
      gemm(true, false, rows, static_cast<int>(ld), kg, 1.0f, w + std::size_t(gi) * kg * rows,
           buf_.data(), 0.0f, col_.data());
      parallel_for(nc, 1, [&](std::size_t b0, std::size_t b1) {
        for (std::size_t i = b0; i < b1; ++i)
          col2im(col_.data(), g_, cg, ld, i * P,
                 bottom_diff + ((n0 + i) * std::size_t(g_.c) + gi * cg) * g_.h * g_.w);
      });
    }
  }
}

// ---------------------------------------------------------------- InnerProduct

InnerProductLayer::InnerProductLayer(const LayerSpec& spec) : WeightedLayer(spec) {
  num_output_ = spec_.get_int("num_output", 0);
  if (num_output_ <= 0) fail("num_output must be a positive integer");
  bias_term_ = spec_.get_bool("bias_term", true);
  g_.k = num_output_;
  g_.h = g_.w = 1;  // ConvShape's inner-product convention
}

void InnerProductLayer::setup(const Blobs& bottom, const Blobs&) {
  if (bottom[0]->num_axes() < 2) fail("input must have at least 2 axes, got " + bottom[0]->shape_string());
  g_.c = static_cast<int>(bottom[0]->count(1));
  if (params_.empty()) create_params(g_.c);
}

void InnerProductLayer::reshape(const Blobs& bottom, const Blobs& top) {
  const Blob& b = *bottom[0];
  if (b.num_axes() < 2 || static_cast<int>(b.count(1)) != g_.c)
    fail("input shape " + b.shape_string() + " does not match the weights (" + std::to_string(g_.c) +
         " inputs)");
  g_.n = b.shape(0);
  top[0]->reshape({g_.n, g_.k});
}

void InnerProductLayer::compute_forward(const float* in, const float* w, const float* b,
                                        float* out) {
  gemm(false, true, g_.n, g_.k, g_.c, 1.0f, in, w, 0.0f, out);
  if (b)
    for (int n = 0; n < g_.n; ++n)
      for (int k = 0; k < g_.k; ++k) out[std::size_t(n) * g_.k + k] += b[k];
}

void InnerProductLayer::compute_backward(const float* in, const float* w, const float* top_diff,
                                         float* bottom_diff, float* w_diff, float* b_diff) {
  gemm(true, false, g_.k, g_.c, g_.n, 1.0f, top_diff, in, 1.0f, w_diff);  // split over c: deterministic
  if (b_diff)
    for (int n = 0; n < g_.n; ++n)
      for (int k = 0; k < g_.k; ++k) b_diff[k] += top_diff[std::size_t(n) * g_.k + k];
  if (bottom_diff) gemm(false, false, g_.n, g_.c, g_.k, 1.0f, top_diff, w, 0.0f, bottom_diff);
}

}  // namespace ristsim::engine
