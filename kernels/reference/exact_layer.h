// The exact datapath, reference implementation: what the integer hardware of
// the arch computes for a convolution or an inner product, bit for bit
// (docs/datapath.md). Every product is formed exactly, put on the
// accumulator's grid 2^-F by the numeric core's quantize(), summed in chunks of
// K lanes (one chunk per pass of the PE's adder tree), the accumulator's
// overflow applied after each chunk and after the bias, and the result
// converted to the output format by quantize().
//
// These are plain loops, written for reading, not for speed. kernels/cpu and
// kernels/cuda hold the fast kernels with the same signatures; every one of
// them is tested bit for bit against this file. The SystemC models and the
// co-simulation use exact_dot() as their golden model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "config/arch.h"
#include "numeric/numeric.h"

namespace ristsim::kernels {

/// The shape of a convolution. Input n x c x h x w, weights k x (c/groups) x kh x kw,
/// output n x k x oh x ow. An inner product is h = w = kh = kw = oh = ow = 1,
/// c = inputs, k = outputs (stride 1, pad 0, dilation 1, groups 1).
struct ConvShape {
  int n, c, h, w;
  int k, kh, kw, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups;
  int oh, ow;
};

/// The formats of one quantized layer on the exact datapath.
/// Only the `format` of act, wt and bias matters (their codes are given); `out`
/// is the full output quantizer, whose `stream` is replaced by `stream` and
/// whose `seed` is the arch's stochastic seed.
/// Per-channel weights (granularity: channel, fixed point only): wt_fl holds one
/// fractional length per output channel, and output channel k computes with
/// channel_spec(spec, k), i.e. wt.format.fl = wt_fl[k]. Every product of one output
/// element then has the same weight FL, so the accumulator's grid (F, when
/// frac_bits_auto) and the output stage's shift are per channel. A weight code is
/// the same integer whatever its FL; only its scale 2^-FL changes.
struct ExactLayerSpec {
  numeric::Quantizer act, wt, bias, out;
  config::AccumulatorSpec acc;
  int lanes;        ///< K: terms summed per pass of the adder tree (>= 1)
  uint64_t stream;  ///< stochastic stream of the output (the layer's index)
  bool has_bias;
  std::vector<int> wt_fl;  ///< empty: one weight FL (wt.format.fl); else one per output channel
};

/// The spec of output channel k: `spec` with wt.format.fl = wt_fl[k] and wt_fl
/// empty (spec itself, without wt_fl, when wt_fl is empty).
ExactLayerSpec channel_spec(const ExactLayerSpec& spec, int k);

/// Event counts of a layer. The kernels ADD to these counters.
struct ExactStats {
  uint64_t acc_overflows = 0;    ///< times the accumulator's overflow mode changed a value
  uint64_t out_saturations = 0;  ///< outputs the output overflow mode acted on
  uint64_t out_nans = 0;         ///< outputs that are NaN (an operand was inf or NaN)
};

/// Checks a spec; nullptr if valid, else what is wrong. The kernels throw
/// std::invalid_argument with this text. Rules: valid formats; accumulator of
/// 2..64 bits with overflow saturate or wrap; alignment rounding not
/// stochastic; lanes >= 1; F in -512..512.
const char* validate(const ExactLayerSpec& spec);

/// Checks a shape (positive sizes, groups divide c and k, oh/ow match the
/// convolution arithmetic); nullptr if valid.
const char* validate(const ConvShape& shape);

/// Both, and that a per-channel spec has one weight FL per output channel of the shape.
const char* validate(const ConvShape& shape, const ExactLayerSpec& spec);

/// The fractional length of the exact products: FL of
/// product_type(exactly_fixed(act), exactly_fixed(wt)) (growth.h).
/// fixed<8,4> x fixed<8,6>: 10. E4M3 (subnormals) x E4M3: 18.
int product_frac_bits(const ExactLayerSpec& spec);

/// F, the accumulator's fractional bits: product_frac_bits() when
/// acc.frac_bits_auto, else acc.frac_bits. Per-channel specs: of the spec's own
/// wt.format.fl (use channel_spec() for a channel's F).
int accumulator_frac_bits(const ExactLayerSpec& spec);

/// One term of a dot product: an activation code and a weight code.
/// `padding`: the activation is a padded (outside the image) position; the
/// product is zero whatever the weight, but the term keeps its lane.
struct ExactTerm {
  uint32_t act_code = 0;
  uint32_t wt_code = 0;
  bool padding = false;
};

/// What happened inside one exact_dot() (for the cycle-level models to
/// compare against, register by register).
struct ExactDotTrace {
  std::vector<int64_t> aligned;  ///< step 2: each term's product on the grid 2^-F (0 for padding)
  std::vector<int64_t> chunk_sums;  ///< step 3: each chunk's sum (its low 64 bits; see exact_dot)
  std::vector<int64_t> acc_after;   ///< step 4: the accumulator after each chunk
  int64_t bias_aligned = 0;         ///< step 5: the aligned bias (0 without bias)
  int64_t acc_final = 0;            ///< the accumulator after the bias
  bool nan = false;                 ///< an operand was inf or NaN
  numeric::Quantized out;           ///< step 6
};

/// ONE output element of the exact datapath (docs/datapath.md steps 1 to 6):
/// the terms in order, chunked by spec.lanes; the bias code (ignored when
/// !spec.has_bias); `out_index` is the element's NCHW index in the output
/// tensor (the stochastic element index). Returns the output code; adds to
/// *stats and fills (overwrites) *trace when they are not null. The spec must
/// be valid (validate()).
/// A chunk sum of K aligned products of 64 bits each is kept exactly (128
/// bits) before the accumulator's overflow mode; trace->chunk_sums holds its
/// low 64 bits (exact whenever the sum fits, as with any sane accumulator).
uint32_t exact_dot(const ExactLayerSpec& spec, const ExactTerm* terms, size_t count,
                   uint32_t bias_code, uint64_t out_index, ExactStats* stats,
                   ExactDotTrace* trace = nullptr);

/// A convolution or inner product on the exact datapath, by exact_dot() for
/// every output element (with channel_spec(spec, k) for output channel k). in_codes: n*c*h*w activation codes (NCHW); w_codes:
/// k*(c/groups)*kh*kw; bias_codes: k (may be null without bias); out_codes:
/// n*k*oh*ow. Throws std::invalid_argument on an invalid shape or spec.
void exact_conv_reference(const ConvShape& shape, const ExactLayerSpec& spec,
                          const uint32_t* in_codes, const uint32_t* w_codes,
                          const uint32_t* bias_codes, uint32_t* out_codes, ExactStats* stats);

/// The terms of output element (img, k, oy, ox) in datapath order: input
/// channel of the group, then kernel row, then kernel column.
std::vector<ExactTerm> conv_terms(const ConvShape& shape, const uint32_t* in_codes,
                                  const uint32_t* w_codes, int img, int k, int oy, int ox);

}  // namespace ristsim::kernels
