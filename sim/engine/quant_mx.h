// OCP MX block formats on the engine's float datapath (Ristretto style: fake
// quantization, float32 GEMM). An MX block runs along a layer's reduction
// dimension K = (C / groups) x kh x kw, in the exact datapath's term order
// (input channel, kernel row, kernel column; docs/datapath.md):
//   weights      the row of output channel k in OIHW memory is its K terms in
//                that order: blocks of 32 consecutive weights of the row, the
//                last one shorter when K is not a multiple of 32.
//   activations  the im2col column of output position (n, oy, ox), in the same
//                order (padded positions are zeros and take part in the block);
//                one input value is quantized once per window that holds it, and
//                may get a different scale in each.
// An inner product is the 1x1 case: K = C, the blocks run along each image's input.
#pragma once

#include <cstddef>

#include "config/arch.h"
#include "engine/layers.h"
#include "numeric/mx.h"

namespace ristsim::engine {

/// Fake-quantizes `rows` rows of `len` elements (row r at x + r * len) with
/// blocks that restart at every row: y = X * P per element (y may be x). Adds to *st.
void mx_quantize_rows(const numeric::MxFormat& f, const float* x, std::size_t rows,
                      std::size_t len, float* y, numeric::MxStats* st);

/// The float datapath of a convolution or inner product whose activations are
/// MX: per image and group the im2col columns, each quantized in blocks along
/// K, then the float32 GEMM with the (already quantized) weights w and bias b
/// (may be null). out is NCHW. Adds the activations' block counts to *st.
void mx_conv_forward(const ConvGeometry& g, const numeric::MxFormat& act, const float* in,
                     const float* w, const float* b, float* out, numeric::MxStats* st);

/// True when this build has the exact MX datapath (kernels/reference through kernels/cpu).
bool mx_exact_available();

/// The exact datapath of a layer with MX activations and/or weights
/// (kernels/reference/exact_mx.h, docs/datapath.md "MX blocks"). `spec` holds the
/// element quantizers of MX groups (act/wt), the others' quantizers, the bias,
/// output, accumulator, stream. Quantizes the weights per output-channel row and
/// the activations per im2col column (MX groups) or element-wise by their
/// quantizer (element index = NCHW / OIHW position), then runs exact_mx_dot for
/// every output element. Writes the element codes of the weights (w_codes, OIHW)
/// and the output codes; adds to *es and the MX counts. Throws
/// std::invalid_argument when the spec is not valid for the MX datapath.
void mx_exact_forward(const ConvGeometry& g, const config::NumberSpec& act,
                      const config::NumberSpec& wt, const numeric::Quantizer& act_q,
                      const numeric::Quantizer& wt_q, const numeric::Quantizer& bias_q,
                      const numeric::Quantizer& out_q, const config::AccumulatorSpec& acc,
                      int lanes, uint64_t stream, const float* in, const float* w,
                      const uint32_t* bias_codes, bool has_bias, uint32_t* w_codes,
                      uint32_t* out_codes, uint64_t* acc_overflows, uint64_t* out_saturations,
                      uint64_t* out_nans, numeric::MxStats* act_st, numeric::MxStats* wt_st);

}  // namespace ristsim::engine
