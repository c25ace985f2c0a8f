// Quantization on the GPU: the numeric core's quantize(), compiled for the
// device from the same header, so CPU and GPU give the same bits for every
// format, rounding and overflow mode (stochastic included: the generator is a
// pure function of (seed, stream, element index)).
#pragma once

#include <cstdint>
#include <stdexcept>

#include "numeric/numeric.h"

namespace ristsim::cuda {

struct CudaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Quantizes n host floats on the GPU. Element i uses stochastic index
/// first_index + i. values/codes may be null. Throws CudaError without a GPU.
void quantize(const numeric::Quantizer& q, const float* in, int64_t n, uint64_t first_index,
              float* values, uint64_t* codes, uint64_t* saturations = nullptr,
              uint64_t* nans = nullptr);

/// The same on device pointers (no copies), for the layers.
void quantize_device(const numeric::Quantizer& q, const float* d_in, int64_t n,
                     uint64_t first_index, float* d_values, uint32_t* d_codes,
                     unsigned long long* d_counts /* [saturations, nans] or null */);

}  // namespace ristsim::cuda
