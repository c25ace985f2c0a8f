// The float (Ristretto) datapath on the GPU: inputs and weights quantized by
// the numeric core on the device, im2col, cuBLAS SGEMM in float32, bias, and
// the outputs quantized. Equal to the CPU float datapath within float
// tolerance (the GEMM's summation order differs); the quantizers are bit-exact.
#pragma once

#include "kernels/reference/exact_layer.h"
#include "numeric/numeric.h"

namespace ristsim::cuda {

struct FloatLayerSpec {
  numeric::Quantizer act, wt, out;  ///< bias uses `wt`, as Ristretto does
  bool quantize_act = true, quantize_wt = true, quantize_out = true;
  uint64_t stream_base = 0;  ///< streams: base + 0 inputs, + 1 weights, + 2 bias, + 3 outputs
  bool has_bias = true;
};

/// Host pointers: in n*c*h*w, weights k*(c/groups)*kh*kw, bias k, out n*k*oh*ow.
void float_conv(const kernels::ConvShape& shape, const FloatLayerSpec& spec, const float* in,
                const float* weights, const float* bias, float* out);

}  // namespace ristsim::cuda
