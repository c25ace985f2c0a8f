// The exact datapath on the GPU: the same signature as exact_conv_reference
// (kernels/reference/exact_layer.h) and the same bits, by one of two routes:
//   gemm     where kernels::integer_gemm_exact() proves, from the formats, the accumulator and
//            K alone, that no partial sum can leave either accumulator: the codes as int8
//            through cuBLASLt's IMMA (tensor cores, int32 sums), then the reference's own
//            bias and output stage per element (kernels::gemm_element);
//   element  everywhere else: one thread per output running steps::conv_element.
// Both routes' arithmetic is tested on the host (ExactSteps.*, AccumulatorBound.*).
#pragma once

#include "kernels/reference/exact_layer.h"

namespace ristsim::cuda {

enum class ExactRoute { automatic, element, gemm };

/// Host pointers in and out; throws CudaError without a GPU, std::invalid_argument
/// on a bad shape or spec, and on ExactRoute::gemm for a layer the bound refuses.
/// `used` (may be null) receives the route taken.
void exact_conv(const kernels::ConvShape& shape, const kernels::ExactLayerSpec& spec,
                const uint32_t* in_codes, const uint32_t* w_codes, const uint32_t* bias_codes,
                uint32_t* out_codes, kernels::ExactStats* stats,
                ExactRoute route = ExactRoute::automatic, ExactRoute* used = nullptr);

/// The same on device pointers (no copies, no allocation of the operands): in, w, bias (may
/// be null without bias), out as in exact_conv; counts: 3 device counters [accumulator
/// overflows, saturations, NaNs], added to. For the engine and the benchmark.
void exact_conv_device(const kernels::ConvShape& shape, const kernels::ExactLayerSpec& spec,
                       const uint32_t* d_in, const uint32_t* d_w, const uint32_t* d_bias,
                       uint32_t* d_out, unsigned long long* d_counts,
                       ExactRoute route = ExactRoute::automatic, ExactRoute* used = nullptr);

}  // namespace ristsim::cuda
