// Float-datapath convolution on the GPU (see float_conv_cuda.h).
#include "float_conv_cuda.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "device.h"
#include "quantize_cuda.h"

namespace ristsim::cuda {
namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw CudaError(std::string(what) + ": " + cudaGetErrorString(e));
}
void check(cublasStatus_t e, const char* what) {
  if (e != CUBLAS_STATUS_SUCCESS) throw CudaError(std::string(what) + ": cuBLAS status " + std::to_string(e));
}

// col[(ci*kh + ky)*kw + kx][oy*ow + ox] for one image and one group.
__global__ void im2col_kernel(kernels::ConvShape s, const float* img, int group, float* col) {
  const int cg = s.c / s.groups;
  const int64_t rows = int64_t{cg} * s.kh * s.kw, cols = int64_t{s.oh} * s.ow;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < rows * cols;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = i / cols, p = i % cols;
    const int kx = static_cast<int>(r % s.kw), ky = static_cast<int>((r / s.kw) % s.kh);
    const int ci = static_cast<int>(r / (int64_t{s.kw} * s.kh));
    const int ox = static_cast<int>(p % s.ow), oy = static_cast<int>(p / s.ow);
    const int y = oy * s.stride_h - s.pad_h + ky * s.dil_h;
    const int x = ox * s.stride_w - s.pad_w + kx * s.dil_w;
    const int c = group * cg + ci;
    col[i] = (y >= 0 && y < s.h && x >= 0 && x < s.w) ? img[(int64_t{c} * s.h + y) * s.w + x] : 0.f;
  }
}

__global__ void add_bias_kernel(float* out, const float* bias, int k, int64_t plane, int64_t total) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total;
       i += int64_t{gridDim.x} * blockDim.x)
    out[i] += bias[(i / plane) % k];
}

int blocks(int64_t n) {
  const int64_t b = (n + 255) / 256;
  return static_cast<int>(b < 65535 ? (b > 0 ? b : 1) : 65535);
}

template <typename T>
T* alloc(size_t count) {
  T* d = nullptr;
  check(cudaMalloc(&d, count * sizeof(T) + 4), "cudaMalloc");
  return d;
}

}  // namespace

void float_conv(const kernels::ConvShape& s, const FloatLayerSpec& spec, const float* in,
                const float* weights, const float* bias, float* out) {
  if (const char* e = kernels::validate(s)) throw std::invalid_argument(e);
  std::string why;
  if (!device_available(&why)) throw CudaError("no usable GPU: " + why);
  const int cg = s.c / s.groups, kg = s.k / s.groups;
  const size_t n_in = size_t(s.n) * s.c * s.h * s.w, n_w = size_t(s.k) * cg * s.kh * s.kw;
  const size_t n_out = size_t(s.n) * s.k * s.oh * s.ow;
  const int64_t rows = int64_t{cg} * s.kh * s.kw, cols = int64_t{s.oh} * s.ow;
  float* d_in = alloc<float>(n_in);
  float* d_w = alloc<float>(n_w);
  float* d_b = alloc<float>(size_t(s.k));
  float* d_out = alloc<float>(n_out);
  float* d_col = alloc<float>(size_t(rows * cols));
  check(cudaMemcpy(d_in, in, n_in * 4, cudaMemcpyHostToDevice), "cudaMemcpy");
  check(cudaMemcpy(d_w, weights, n_w * 4, cudaMemcpyHostToDevice), "cudaMemcpy");
  if (spec.has_bias) check(cudaMemcpy(d_b, bias, size_t(s.k) * 4, cudaMemcpyHostToDevice), "cudaMemcpy");

  auto q = [&](const numeric::Quantizer& base, uint64_t stream, float* d, size_t n) {
    numeric::Quantizer qz = base;
    qz.stream = spec.stream_base + stream;
    quantize_device(qz, d, static_cast<int64_t>(n), 0, d, nullptr, nullptr);
  };
  if (spec.quantize_act) q(spec.act, 0, d_in, n_in);
  if (spec.quantize_wt) {
    q(spec.wt, 1, d_w, n_w);
    if (spec.has_bias) q(spec.wt, 2, d_b, size_t(s.k));
  }

  cublasHandle_t h;
  check(cublasCreate(&h), "cublasCreate");
  const float one = 1.f, zero = 0.f;
  for (int img = 0; img < s.n; ++img) {
    for (int g = 0; g < s.groups; ++g) {
      im2col_kernel<<<blocks(rows * cols), 256>>>(s, d_in + size_t(img) * s.c * s.h * s.w, g, d_col);
      // Row-major out_g[kg x cols] = W_g[kg x rows] * col[rows x cols]; in
      // cuBLAS's column-major terms: out^T = col^T * W^T.
      float* o = d_out + (size_t(img) * s.k + size_t(g) * kg) * cols;
      const float* w = d_w + size_t(g) * kg * rows;
      check(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(cols), kg,
                        static_cast<int>(rows), &one, d_col, static_cast<int>(cols), w,
                        static_cast<int>(rows), &zero, o, static_cast<int>(cols)),
            "cublasSgemm");
    }
  }
  cublasDestroy(h);
  if (spec.has_bias)
    add_bias_kernel<<<blocks(int64_t(n_out)), 256>>>(d_out, d_b, s.k, cols, int64_t(n_out));
  if (spec.quantize_out) q(spec.out, 3, d_out, n_out);
  check(cudaGetLastError(), "float_conv kernels");
  check(cudaMemcpy(out, d_out, n_out * 4, cudaMemcpyDeviceToHost), "cudaMemcpy");
  cudaFree(d_in);
  cudaFree(d_w);
  cudaFree(d_b);
  cudaFree(d_out);
  cudaFree(d_col);
}

}  // namespace ristsim::cuda
