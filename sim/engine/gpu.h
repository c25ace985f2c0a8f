// Helpers of the engine's .cu files (included by them only): launch geometry, error checks and
// the process's cuBLAS handle.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace ristsim::engine::gpu {

inline constexpr int kThreads = 256;

/// Blocks of a grid-stride loop over n elements.
inline int blocks(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<int>(b < 65535 ? (b > 0 ? b : 1) : 65535);
}

/// Throws std::runtime_error "<what>: <CUDA's message>" after a failed call or launch.
void check(cudaError_t e, const char* what);
void check(cublasStatus_t e, const char* what);
/// check(cudaGetLastError(), what) after a kernel launch.
void check_launch(const char* what);

/// The cuBLAS handle of the process (created on first use).
cublasHandle_t cublas();

}  // namespace ristsim::engine::gpu

/// for (i = this thread's first element; i < n; i += the grid's size)
#define RISTSIM_GRID_LOOP(i, n)                                             \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); \
       i += int64_t{gridDim.x} * blockDim.x)
