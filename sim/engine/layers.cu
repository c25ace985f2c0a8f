// The GPU forward / backward of layers.cpp's layers (the cuda mode, engine/device.h): one
// thread per element running the steps of engine/steps/layer_steps.h, which the host tests
// hold against the CPU code. Data stays on the device (the blobs' mirrors).
//
// SoftmaxWithLoss (and Softmax) keep the host code, by design: their N x C scores are small
// and go to the host anyway (accuracy, the loss), and the host's expf / logf make the loss and
// its gradient the same bits in both modes, which CUDA's expf / logf (within 2 ulp) would not.

#include "engine/gpu.h"
#include "engine/layers.h"
#include "engine/steps/layer_steps.h"

namespace ristsim::engine {

namespace {

namespace st = steps;
using gpu::blocks;
using gpu::kThreads;

// ---- ReLU
__global__ void relu_forward_kernel(const float* x, float* y, int64_t n, float slope) {
  RISTSIM_GRID_LOOP(i, n) y[i] = st::relu(x[i], slope);
}
__global__ void relu_backward_kernel(const float* x, const float* dy, float* dx, int64_t n,
                                     float slope) {
  RISTSIM_GRID_LOOP(i, n) dx[i] = st::relu_grad(x[i], dy[i], slope);
}

// ---- Pooling: outputs (forward) and inputs (backward, a gather) over NC planes
__global__ void max_pool_forward_kernel(st::PoolShape g, const float* x, float* y, int32_t* arg,
                                        int64_t n) {
  const int64_t plane = int64_t{g.oh} * g.ow;
  RISTSIM_GRID_LOOP(i, n) {
    const int64_t nc = i / plane;
    const int o = static_cast<int>(i % plane);
    y[i] = st::max_pool_element(g, x + nc * g.H * g.W, o / g.ow, o % g.ow, &arg[i]);
  }
}
__global__ void ave_pool_forward_kernel(st::PoolShape g, const float* x, float* y, int64_t n) {
  const int64_t plane = int64_t{g.oh} * g.ow;
  RISTSIM_GRID_LOOP(i, n) {
    const int64_t nc = i / plane;
    const int o = static_cast<int>(i % plane);
    y[i] = st::ave_pool_element(g, x + nc * g.H * g.W, o / g.ow, o % g.ow);
  }
}
__global__ void pool_backward_kernel(st::PoolShape g, bool max, const float* dy, const int32_t* arg,
                                     float* dx, int64_t n) {
  const int64_t plane_in = int64_t{g.H} * g.W, plane_out = int64_t{g.oh} * g.ow;
  RISTSIM_GRID_LOOP(i, n) {
    const int64_t nc = i / plane_in;
    const int at = static_cast<int>(i % plane_in);
    dx[i] =
        max ? st::max_pool_grad(g, dy + nc * plane_out, arg + nc * plane_out, at / g.W, at % g.W)
            : st::ave_pool_grad(g, dy + nc * plane_out, at / g.W, at % g.W);
  }
}

// ---- LRN
__global__ void lrn_forward_kernel(const float* x, float* y, float* scale, int C, int64_t S,
                                   int64_t n, int size, float k, float a, float beta) {
  RISTSIM_GRID_LOOP(i, n) {
    const int64_t img = i / (C * S);
    const int c = static_cast<int>((i / S) % C);
    const int64_t p = i % S;
    scale[i] = st::lrn_scale(x + img * C * S, C, S, c, p, size, k, a);
    y[i] = st::lrn_output(x[i], scale[i], beta);
  }
}
__global__ void lrn_backward_kernel(const float* x, const float* y, const float* dy,
                                    const float* scale, float* dx, int C, int64_t S, int64_t n,
                                    int size, float beta, float f) {
  RISTSIM_GRID_LOOP(i, n) {
    const int64_t img = i / (C * S), off = img * C * S;
    const int c = static_cast<int>((i / S) % C);
    dx[i] = st::lrn_grad(x + off, y + off, dy + off, scale + off, C, S, c, i % S, size, beta, f);
  }
}

// ---- Dropout
__global__ void dropout_forward_kernel(const float* x, float* y, uint8_t* mask, int64_t n,
                                       uint64_t key, uint32_t threshold, float scale) {
  RISTSIM_GRID_LOOP(i, n) {
    const bool keep = st::dropout_keep(key, static_cast<uint64_t>(i), threshold);
    mask[i] = keep;
    y[i] = keep ? x[i] * scale : 0.0f;
  }
}
__global__ void dropout_backward_kernel(const float* dy, const uint8_t* mask, float* dx, int64_t n,
                                        float scale) {
  RISTSIM_GRID_LOOP(i, n) dx[i] = mask[i] ? dy[i] * scale : 0.0f;
}

// ---- Split: dx = dy_0 (+ dy_t in order)
__global__ void add_kernel(float* y, const float* x, int64_t n) {
  RISTSIM_GRID_LOOP(i, n) y[i] += x[i];
}

void copy_device(float* to, const float* from, std::size_t n) {
  if (n)
    gpu::check(cudaMemcpy(to, from, n * sizeof(float), cudaMemcpyDeviceToDevice),
               "cudaMemcpy on the GPU");
}

}  // namespace

// ---------------------------------------------------------------- ReLU

void ReLULayer::forward_gpu(const Blobs& bottom, const Blobs& top) {
  const int64_t n = static_cast<int64_t>(bottom[0]->count());
  relu_forward_kernel<<<blocks(n), kThreads>>>(bottom[0]->gpu_data(), top[0]->mutable_gpu_data(), n,
                                               slope_);
  gpu::check_launch("ReLU forward");
}

void ReLULayer::backward_gpu(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) {
  if (!pd[0]) return;
  const int64_t n = static_cast<int64_t>(bottom[0]->count());
  relu_backward_kernel<<<blocks(n), kThreads>>>(bottom[0]->gpu_data(), top[0]->gpu_diff(),
                                                bottom[0]->mutable_gpu_diff(), n, slope_);
  gpu::check_launch("ReLU backward");
}

// ---------------------------------------------------------------- Pooling

void PoolingLayer::forward_gpu(const Blobs& bottom, const Blobs& top) {
  const Blob& b = *bottom[0];
  const st::PoolShape g{b.shape(2), b.shape(3), kh_, kw_, sh_, sw_,         ph_,
                        pw_,        dh_,        dw_, oh_, ow_, include_pad_};
  const int64_t n = static_cast<int64_t>(top[0]->count());
  if (max_) {
    max_pool_forward_kernel<<<blocks(n), kThreads>>>(g, b.gpu_data(), top[0]->mutable_gpu_data(),
                                                     gpu_scratch<int32_t>(0, n), n);
  } else {
    ave_pool_forward_kernel<<<blocks(n), kThreads>>>(g, b.gpu_data(), top[0]->mutable_gpu_data(),
                                                     n);
  }
  gpu::check_launch("Pooling forward");
}

void PoolingLayer::backward_gpu(const Blobs& top, const std::vector<bool>& pd,
                                const Blobs& bottom) {
  if (!pd[0]) return;
  const Blob& b = *bottom[0];
  const st::PoolShape g{b.shape(2), b.shape(3), kh_, kw_, sh_, sw_,         ph_,
                        pw_,        dh_,        dw_, oh_, ow_, include_pad_};
  const int64_t n = static_cast<int64_t>(b.count());
  const int32_t* arg = max_ ? gpu_scratch<int32_t>(0, top[0]->count()) : nullptr;
  pool_backward_kernel<<<blocks(n), kThreads>>>(g, max_, top[0]->gpu_diff(), arg,
                                                bottom[0]->mutable_gpu_diff(), n);
  gpu::check_launch("Pooling backward");
}

// ---------------------------------------------------------------- LRN

void LRNLayer::forward_gpu(const Blobs& bottom, const Blobs& top) {
  const Blob& b = *bottom[0];
  const int64_t n = static_cast<int64_t>(b.count()), S = static_cast<int64_t>(b.count(2));
  lrn_forward_kernel<<<blocks(n), kThreads>>>(b.gpu_data(), top[0]->mutable_gpu_data(),
                                              gpu_scratch<float>(0, n), b.shape(1), S, n, size_, k_,
                                              alpha_ / size_, beta_);
  gpu::check_launch("LRN forward");
}

void LRNLayer::backward_gpu(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) {
  if (!pd[0]) return;
  const Blob& b = *bottom[0];
  const int64_t n = static_cast<int64_t>(b.count()), S = static_cast<int64_t>(b.count(2));
  const float f = 2.0f * alpha_ * beta_ / size_;
  lrn_backward_kernel<<<blocks(n), kThreads>>>(
      b.gpu_data(), top[0]->gpu_data(), top[0]->gpu_diff(), gpu_scratch<float>(0, n),
      bottom[0]->mutable_gpu_diff(), b.shape(1), S, n, size_, beta_, f);
  gpu::check_launch("LRN backward");
}

// ---------------------------------------------------------------- Concat

void ConcatLayer::forward_gpu(const Blobs& bottom, const Blobs& top) {
  const int axis = bottom[0]->canonical_axis(axis_);
  const std::size_t outer = bottom[0]->count(0, axis), top_len = top[0]->count(axis);
  float* y = top[0]->mutable_gpu_data();
  std::size_t off = 0;
  for (Blob* b : bottom) {
    const std::size_t len = b->count(axis);
    if (len && outer)
      gpu::check(cudaMemcpy2D(y + off, top_len * sizeof(float), b->gpu_data(), len * sizeof(float),
                              len * sizeof(float), outer, cudaMemcpyDeviceToDevice),
                 "Concat forward");
    off += len;
  }
}

void ConcatLayer::backward_gpu(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) {
  const int axis = bottom[0]->canonical_axis(axis_);
  const std::size_t outer = bottom[0]->count(0, axis), top_len = top[0]->count(axis);
  const float* dy = top[0]->gpu_diff();
  std::size_t off = 0;
  for (std::size_t i = 0; i < bottom.size(); ++i) {
    const std::size_t len = bottom[i]->count(axis);
    if (pd[i] && len && outer)
      gpu::check(cudaMemcpy2D(bottom[i]->mutable_gpu_diff(), len * sizeof(float), dy + off,
                              top_len * sizeof(float), len * sizeof(float), outer,
                              cudaMemcpyDeviceToDevice),
                 "Concat backward");
    off += len;
  }
}

// ---------------------------------------------------------------- Dropout

void DropoutLayer::forward_gpu(const Blobs& bottom, const Blobs& top) {
  const int64_t n = static_cast<int64_t>(bottom[0]->count());
  if (phase_ != Phase::train) {
    copy_device(top[0]->mutable_gpu_data(), bottom[0]->gpu_data(), n);
    return;
  }
  const uint64_t key = numeric::stream_key(seed_, calls_++);
  dropout_forward_kernel<<<blocks(n), kThreads>>>(
      bottom[0]->gpu_data(), top[0]->mutable_gpu_data(), gpu_scratch<uint8_t>(0, n), n, key,
      st::dropout_threshold(ratio_), 1.0f / (1.0f - ratio_));
  gpu::check_launch("Dropout forward");
}

void DropoutLayer::backward_gpu(const Blobs& top, const std::vector<bool>& pd,
                                const Blobs& bottom) {
  if (!pd[0]) return;
  const int64_t n = static_cast<int64_t>(bottom[0]->count());
  if (phase_ != Phase::train) {
    copy_device(bottom[0]->mutable_gpu_diff(), top[0]->gpu_diff(), n);
    return;
  }
  dropout_backward_kernel<<<blocks(n), kThreads>>>(top[0]->gpu_diff(), gpu_scratch<uint8_t>(0, n),
                                                   bottom[0]->mutable_gpu_diff(), n,
                                                   1.0f / (1.0f - ratio_));
  gpu::check_launch("Dropout backward");
}

// ---------------------------------------------------------------- Split

void SplitLayer::forward_gpu(const Blobs& bottom, const Blobs& top) {
  for (Blob* t : top) copy_device(t->mutable_gpu_data(), bottom[0]->gpu_data(), bottom[0]->count());
}

void SplitLayer::backward_gpu(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) {
  if (!pd[0]) return;
  const int64_t n = static_cast<int64_t>(bottom[0]->count());
  float* dx = bottom[0]->mutable_gpu_diff();
  copy_device(dx, top[0]->gpu_diff(), n);
  for (std::size_t t = 1; t < top.size(); ++t) {  // in the host's order
    add_kernel<<<blocks(n), kThreads>>>(dx, top[t]->gpu_diff(), n);
    gpu::check_launch("Split backward");
  }
}

}  // namespace ristsim::engine
