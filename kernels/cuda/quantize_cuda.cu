// GPU quantization kernels (see quantize_cuda.h): one thread per element,
// calling the numeric core's quantize() unchanged.
#include "quantize_cuda.h"

#include <cuda_runtime.h>

#include <string>

#include "device.h"

namespace ristsim::cuda {
namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw CudaError(std::string(what) + ": " + cudaGetErrorString(e));
}

__global__ void quantize_kernel(numeric::Quantizer q, const float* in, int64_t n,
                                uint64_t first_index, float* values, uint32_t* codes32,
                                uint64_t* codes64, unsigned long long* counts) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const numeric::Quantized r =
        numeric::quantize(q, static_cast<double>(in[i]), first_index + static_cast<uint64_t>(i));
    if (values) values[i] = static_cast<float>(r.value);
    if (codes32) codes32[i] = static_cast<uint32_t>(r.code);
    if (codes64) codes64[i] = r.code;
    if (counts) {
      if (r.saturated) atomicAdd(&counts[0], 1ull);
      if (r.nan) atomicAdd(&counts[1], 1ull);
    }
  }
}

int grid_for(int64_t n) {
  const int64_t blocks = (n + 255) / 256;
  return static_cast<int>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);
}

}  // namespace

void quantize_device(const numeric::Quantizer& q, const float* d_in, int64_t n,
                     uint64_t first_index, float* d_values, uint32_t* d_codes,
                     unsigned long long* d_counts) {
  quantize_kernel<<<grid_for(n), 256>>>(q, d_in, n, first_index, d_values, d_codes, nullptr,
                                        d_counts);
  check(cudaGetLastError(), "quantize kernel launch");
}

void quantize(const numeric::Quantizer& q, const float* in, int64_t n, uint64_t first_index,
              float* values, uint64_t* codes, uint64_t* saturations, uint64_t* nans) {
  std::string why;
  if (!device_available(&why)) throw CudaError("no usable GPU: " + why);
  float* d_in = nullptr;
  float* d_values = nullptr;
  uint64_t* d_codes = nullptr;
  unsigned long long* d_counts = nullptr;
  const size_t bytes = static_cast<size_t>(n) * sizeof(float);
  check(cudaMalloc(&d_in, bytes), "cudaMalloc");
  check(cudaMalloc(&d_values, bytes), "cudaMalloc");
  check(cudaMalloc(&d_codes, static_cast<size_t>(n) * sizeof(uint64_t)), "cudaMalloc");
  check(cudaMalloc(&d_counts, 2 * sizeof(unsigned long long)), "cudaMalloc");
  check(cudaMemset(d_counts, 0, 2 * sizeof(unsigned long long)), "cudaMemset");
  check(cudaMemcpy(d_in, in, bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
  quantize_kernel<<<grid_for(n), 256>>>(q, d_in, n, first_index, d_values, nullptr, d_codes,
                                        d_counts);
  check(cudaGetLastError(), "quantize kernel launch");
  unsigned long long counts[2] = {0, 0};
  if (values) check(cudaMemcpy(values, d_values, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy");
  if (codes)
    check(cudaMemcpy(codes, d_codes, static_cast<size_t>(n) * sizeof(uint64_t),
                     cudaMemcpyDeviceToHost),
          "cudaMemcpy");
  check(cudaMemcpy(counts, d_counts, sizeof counts, cudaMemcpyDeviceToHost), "cudaMemcpy");
  if (saturations) *saturations = counts[0];
  if (nans) *nans = counts[1];
  cudaFree(d_in);
  cudaFree(d_values);
  cudaFree(d_codes);
  cudaFree(d_counts);
}

}  // namespace ristsim::cuda
