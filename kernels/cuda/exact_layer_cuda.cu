// Exact datapath kernel (see exact_layer_cuda.h): one thread per output
// element, each running steps::conv_element (kernels/reference/exact_steps.h),
// which the host tests hold against exact_conv_reference.
#include "exact_layer_cuda.h"

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "device.h"
#include "kernels/reference/exact_steps.h"
#include "quantize_cuda.h"

namespace ristsim::cuda {
namespace {

namespace steps = kernels::steps;

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw CudaError(std::string(what) + ": " + cudaGetErrorString(e));
}

__global__ void exact_conv_kernel(kernels::ConvShape s, steps::ElementSpec d, const uint32_t* in,
                                  const uint32_t* wts, const uint32_t* bias, uint32_t* out,
                                  unsigned long long* counts) {
  const int64_t total = int64_t{s.n} * s.k * s.oh * s.ow;
  for (int64_t index = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; index < total;
       index += int64_t{gridDim.x} * blockDim.x) {
    const steps::ElementResult r = steps::conv_element(s, d, in, wts, bias, index);
    out[index] = r.code;
    if (r.acc_overflows) atomicAdd(&counts[0], static_cast<unsigned long long>(r.acc_overflows));
    if (r.saturated) atomicAdd(&counts[1], 1ull);
    if (r.nan) atomicAdd(&counts[2], 1ull);
  }
}

template <typename T>
T* upload(const T* host, size_t count) {
  T* d = nullptr;
  check(cudaMalloc(&d, count * sizeof(T) + 1), "cudaMalloc");
  if (host && count) check(cudaMemcpy(d, host, count * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
  return d;
}

}  // namespace

void exact_conv(const kernels::ConvShape& s, const kernels::ExactLayerSpec& spec,
                const uint32_t* in_codes, const uint32_t* w_codes, const uint32_t* bias_codes,
                uint32_t* out_codes, kernels::ExactStats* stats) {
  if (const char* e = kernels::validate(s)) throw std::invalid_argument(e);
  if (const char* e = kernels::validate(spec)) throw std::invalid_argument(e);
  std::string why;
  if (!device_available(&why)) throw CudaError("no usable GPU: " + why);

  const steps::ElementSpec d = steps::element_spec(spec);

  const size_t n_in = size_t(s.n) * s.c * s.h * s.w;
  const size_t n_w = size_t(s.k) * (s.c / s.groups) * s.kh * s.kw;
  const size_t n_out = size_t(s.n) * s.k * s.oh * s.ow;
  uint32_t* d_in = upload(in_codes, n_in);
  uint32_t* d_w = upload(w_codes, n_w);
  uint32_t* d_b = upload(spec.has_bias ? bias_codes : nullptr, size_t(s.k));
  uint32_t* d_out = upload<uint32_t>(nullptr, n_out);
  unsigned long long* d_counts = upload<unsigned long long>(nullptr, 3);
  check(cudaMemset(d_counts, 0, 3 * sizeof(unsigned long long)), "cudaMemset");
  const int64_t blocks = (int64_t(n_out) + 127) / 128;
  exact_conv_kernel<<<static_cast<int>(blocks < 65535 ? blocks : 65535), 128>>>(
      s, d, d_in, d_w, d_b, d_out, d_counts);
  check(cudaGetLastError(), "exact_conv kernel launch");
  check(cudaMemcpy(out_codes, d_out, n_out * sizeof(uint32_t), cudaMemcpyDeviceToHost), "cudaMemcpy");
  unsigned long long counts[3];
  check(cudaMemcpy(counts, d_counts, sizeof counts, cudaMemcpyDeviceToHost), "cudaMemcpy");
  if (stats) {
    stats->acc_overflows += counts[0];
    stats->out_saturations += counts[1];
    stats->out_nans += counts[2];
  }
  cudaFree(d_in);
  cudaFree(d_w);
  cudaFree(d_b);
  cudaFree(d_out);
  cudaFree(d_counts);
}

}  // namespace ristsim::cuda
