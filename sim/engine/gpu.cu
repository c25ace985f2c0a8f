#include "engine/gpu.h"

#include <stdexcept>
#include <string>

namespace ristsim::engine::gpu {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

void check(cublasStatus_t e, const char* what) {
  if (e != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string(what) + ": cuBLAS status " + std::to_string(int(e)));
}

void check_launch(const char* what) {
  check(cudaGetLastError(), what);
}

cublasHandle_t cublas() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    check(cublasCreate(&h), "cublasCreate");
    // Deterministic results: no atomics-based reductions inside cuBLAS.
    check(cublasSetAtomicsMode(h, CUBLAS_ATOMICS_NOT_ALLOWED), "cublasSetAtomicsMode");
    return h;
  }();
  return handle;
}

}  // namespace ristsim::engine::gpu
