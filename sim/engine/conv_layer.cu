// The GPU forward / backward of Convolution and InnerProduct (the cuda mode): Caffe's way,
// im2col (engine/steps/layer_steps.h's im2col_source, held against the CPU convolution on
// the host) and cuBLAS SGEMM per image and group; inner product as one SGEMM over the batch.
// A layer with a quantizer attached (LayerQuant, engine/quant.h) hands over to
// LayerQuant::forward_gpu (quant.cu), which quantizes on the device and calls the GEMMs here.
//
// The float sums are cuBLAS's, in its own order: equal to the CPU layer within float
// rounding, not bit for bit (as any two GEMMs).
#include "engine/gpu.h"
#include "engine/layers.h"
#include "engine/quant.h"
#include "engine/steps/layer_steps.h"

namespace ristsim::engine {

namespace {

namespace st = steps;
using gpu::blocks;
using gpu::kThreads;

st::ConvIndex conv_index(const ConvGeometry& g) {
  return {g.c,     g.h,     g.w,     g.kh,    g.kw,     g.stride_h, g.stride_w,
          g.pad_h, g.pad_w, g.dil_h, g.dil_w, g.groups, g.oh,       g.ow};
}

__global__ void im2col_kernel(st::ConvIndex s, const float* img, int group, float* col,
                              int64_t rows, int64_t cols) {
  RISTSIM_GRID_LOOP(i, rows * cols) {
    const int64_t at = st::im2col_source(s, group, i / cols, i % cols);
    col[i] = at < 0 ? 0.0f : img[at];
  }
}

/// dx of one image's channels of group `group`: the sum of the column gradients of every tap
/// that reads the input element (a gather: no atomics, the same order every run).
__global__ void col2im_kernel(st::ConvIndex s, const float* dcol, int group, float* dimg,
                              int64_t cols) {
  const int cg = s.c / s.groups;
  const int64_t n = int64_t{cg} * s.h * s.w;
  RISTSIM_GRID_LOOP(i, n) {
    const int ci = static_cast<int>(i / (int64_t{s.h} * s.w));
    const int y = static_cast<int>((i / s.w) % s.h), x = static_cast<int>(i % s.w);
    float acc = 0;
    for (int ky = 0; ky < s.kh; ++ky) {
      const int ty = y + s.pad_h - ky * s.dil_h;
      if (ty < 0 || ty % s.stride_h) continue;
      const int oy = ty / s.stride_h;
      if (oy >= s.oh) continue;
      for (int kx = 0; kx < s.kw; ++kx) {
        const int tx = x + s.pad_w - kx * s.dil_w;
        if (tx < 0 || tx % s.stride_w) continue;
        const int ox = tx / s.stride_w;
        if (ox >= s.ow) continue;
        acc += dcol[((int64_t{ci} * s.kh + ky) * s.kw + kx) * cols + int64_t{oy} * s.ow + ox];
      }
    }
    dimg[int64_t{group} * cg * s.h * s.w + i] = acc;
  }
}

__global__ void add_bias_kernel(float* out, const float* bias, int k, int64_t plane, int64_t n) {
  RISTSIM_GRID_LOOP(i, n) out[i] += bias[(i / plane) % k];
}

/// b_diff[k] += the sum of dy over the batch and the plane, in the host's order.
__global__ void bias_grad_kernel(const float* dy, float* b_diff, int images, int k, int64_t plane) {
  RISTSIM_GRID_LOOP(kk, k) {
    float s = 0;
    for (int img = 0; img < images; ++img)
      for (int64_t p = 0; p < plane; ++p) s += dy[(int64_t{img} * k + kk) * plane + p];
    b_diff[kk] += s;
  }
}

void sgemm(cublasOperation_t ta, cublasOperation_t tb, int64_t m, int64_t n, int64_t k,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc) {
  const float one = 1.0f;
  gpu::check(cublasSgemm(gpu::cublas(), ta, tb, static_cast<int>(m), static_cast<int>(n),
                         static_cast<int>(k), &one, a, static_cast<int>(lda), b,
                         static_cast<int>(ldb), &beta, c, static_cast<int>(ldc)),
             "cublasSgemm");
}

}  // namespace

// ---------------------------------------------------------------- WeightedLayer

void WeightedLayer::forward_gpu(const Blobs& bottom, const Blobs& top) {
  const float* b = bias_term_ ? params_[1].blob->gpu_data() : nullptr;
  if (quant_)
    return quant_->forward_gpu(*this, bottom[0]->gpu_data(), params_[0].blob->gpu_data(), b,
                               top[0]->mutable_gpu_data());
  compute_forward_gpu(bottom[0]->gpu_data(), params_[0].blob->gpu_data(), b,
                      top[0]->mutable_gpu_data());
}

void WeightedLayer::backward_gpu(const Blobs& top, const std::vector<bool>& pd,
                                 const Blobs& bottom) {
  const float* in = bottom[0]->gpu_data();
  const float* w = params_[0].blob->gpu_data();
  const float* dy = top[0]->gpu_diff();
  if (quant_) {  // gradients through the values the forward pass used (straight-through)
    in = quant_->used_input_gpu(in);
    w = quant_->used_weights_gpu(w);
    float* mdy = top[0]->mutable_gpu_diff();
    quant_->clip_output_grad_gpu(mdy);
    dy = mdy;
  }
  float* dx = pd[0] ? bottom[0]->mutable_gpu_diff() : nullptr;
  compute_backward_gpu(in, w, dy, dx, params_[0].blob->mutable_gpu_diff(),
                       bias_term_ ? params_[1].blob->mutable_gpu_diff() : nullptr);
  if (quant_ && dx) quant_->clip_input_grad_gpu(dx);
}

// ---------------------------------------------------------------- Convolution

void ConvolutionLayer::compute_forward_gpu(const float* in, const float* w, const float* b,
                                           float* out) {
  const ConvGeometry& g = g_;
  const st::ConvIndex s = conv_index(g);
  const int cg = g.c / g.groups, kg = g.k / g.groups;
  const int64_t rows = int64_t{cg} * g.kh * g.kw, cols = int64_t{g.oh} * g.ow;
  float* col = gpu_scratch<float>(0, rows * cols);
  for (int img = 0; img < g.n; ++img)
    for (int grp = 0; grp < g.groups; ++grp) {
      im2col_kernel<<<blocks(rows * cols), kThreads>>>(s, in + int64_t{img} * g.c * g.h * g.w, grp,
                                                       col, rows, cols);
      gpu::check_launch("im2col");
      // Row-major out_g[kg x cols] = W_g[kg x rows] col[rows x cols]; column-major: out^T = col^T
      // W^T.
      sgemm(CUBLAS_OP_N, CUBLAS_OP_N, cols, kg, rows, col, cols, w + int64_t{grp} * kg * rows, rows,
            0.0f, out + (int64_t{img} * g.k + int64_t{grp} * kg) * cols, cols);
    }
  if (b) {
    const int64_t n = int64_t{g.n} * g.k * cols;
    add_bias_kernel<<<blocks(n), kThreads>>>(out, b, g.k, cols, n);
    gpu::check_launch("Convolution bias");
  }
}

void ConvolutionLayer::compute_backward_gpu(const float* in, const float* w, const float* dy,
                                            float* dx, float* dw, float* db) {
  const ConvGeometry& g = g_;
  const st::ConvIndex s = conv_index(g);
  const int cg = g.c / g.groups, kg = g.k / g.groups;
  const int64_t rows = int64_t{cg} * g.kh * g.kw, cols = int64_t{g.oh} * g.ow;
  float* col = gpu_scratch<float>(0, rows * cols);
  float* dcol = gpu_scratch<float>(1, rows * cols);
  if (db) {
    bias_grad_kernel<<<blocks(g.k), kThreads>>>(dy, db, g.n, g.k, cols);
    gpu::check_launch("Convolution bias gradient");
  }
  for (int img = 0; img < g.n; ++img)
    for (int grp = 0; grp < g.groups; ++grp) {
      const float* dy_g = dy + (int64_t{img} * g.k + int64_t{grp} * kg) * cols;
      const float* w_g = w + int64_t{grp} * kg * rows;
      im2col_kernel<<<blocks(rows * cols), kThreads>>>(s, in + int64_t{img} * g.c * g.h * g.w, grp,
                                                       col, rows, cols);
      gpu::check_launch("im2col");
      // dW_g[kg x rows] += dy_g[kg x cols] col^T; column-major: dW^T = col dy^T.
      sgemm(CUBLAS_OP_T, CUBLAS_OP_N, rows, kg, cols, col, cols, dy_g, cols, 1.0f,
            dw + int64_t{grp} * kg * rows, rows);
      if (!dx) continue;
      // dcol[rows x cols] = W_g^T dy_g; column-major: dcol^T = dy^T W.
      sgemm(CUBLAS_OP_N, CUBLAS_OP_T, cols, rows, kg, dy_g, cols, w_g, rows, 0.0f, dcol, cols);
      col2im_kernel<<<blocks(int64_t{cg} * g.h * g.w), kThreads>>>(
          s, dcol, grp, dx + int64_t{img} * g.c * g.h * g.w, cols);
      gpu::check_launch("col2im");
    }
}

// ---------------------------------------------------------------- InnerProduct

void InnerProductLayer::compute_forward_gpu(const float* in, const float* w, const float* b,
                                            float* out) {
  const int64_t n = g_.n, c = g_.c, k = g_.k;
  // Row-major out[n x k] = in[n x c] W^T; column-major: out^T = W in^T.
  sgemm(CUBLAS_OP_T, CUBLAS_OP_N, k, n, c, w, c, in, c, 0.0f, out, k);
  if (b) {
    add_bias_kernel<<<blocks(n * k), kThreads>>>(out, b, static_cast<int>(k), 1, n * k);
    gpu::check_launch("InnerProduct bias");
  }
}

void InnerProductLayer::compute_backward_gpu(const float* in, const float* w, const float* dy,
                                             float* dx, float* dw, float* db) {
  const int64_t n = g_.n, c = g_.c, k = g_.k;
  // dW[k x c] += dy^T in; column-major: dW^T = in^T dy.
  sgemm(CUBLAS_OP_N, CUBLAS_OP_T, c, k, n, in, c, dy, k, 1.0f, dw, c);
  if (db) {
    bias_grad_kernel<<<blocks(k), kThreads>>>(dy, db, static_cast<int>(n), static_cast<int>(k), 1);
    gpu::check_launch("InnerProduct bias gradient");
  }
  // dx[n x c] = dy W; column-major: dx^T = W^T dy^T.
  if (dx) sgemm(CUBLAS_OP_N, CUBLAS_OP_N, c, n, k, w, c, dy, k, 0.0f, dx, c);
}

}  // namespace ristsim::engine
