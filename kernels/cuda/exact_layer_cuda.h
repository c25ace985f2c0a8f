// The exact datapath on the GPU: the same signature as exact_conv_reference
// (kernels/reference/exact_layer.h) and the same bits, one thread per output
// element running the shared steps of kernels/reference/exact_steps.h.
#pragma once

#include "kernels/reference/exact_layer.h"

namespace ristsim::cuda {

/// Host pointers in and out; throws CudaError without a GPU, std::invalid_argument
/// on a bad shape or spec.
void exact_conv(const kernels::ConvShape& shape, const kernels::ExactLayerSpec& spec,
                const uint32_t* in_codes, const uint32_t* w_codes, const uint32_t* bias_codes,
                uint32_t* out_codes, kernels::ExactStats* stats);

}  // namespace ristsim::cuda
