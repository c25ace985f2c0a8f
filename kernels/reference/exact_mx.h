// The exact datapath with OCP MX operands (docs/datapath.md, "MX blocks"): the
// spec's dot product Dot(A, B) = 2^(sa + sb) * sum_i a_i * b_i over each block of
// the reduction dimension, with every block's sum exact and the blocks summed
// on the accumulator's grid 2^-F.
//
// For each block b of `block` consecutive terms (the last one may be shorter):
//   1. the element products a_i * w_i, exact integers in units of the elements'
//      exactly_fixed() quanta (padding: 0), summed exactly (the block register);
//   2. the shared-scale alignment: the block sum times 2^(sa - 127 + sw - 127)
//      (an operand that is not MX has scale code 127, i.e. 2^0) put on the grid
//      2^-F with the accumulator's align_rounding (numeric::quantize, wrap to 64
//      bits): one rounding per block, none when F is fine enough;
//   3. acc = ovf(acc + aligned), the accumulator's overflow mode once per block.
// Then the bias and the output stage as in exact_dot(). A NaN scale (code 255) or
// an inf/NaN element makes the output NaN. The lanes K of the PE do not change
// the numbers: a block passes the adder tree in ceil(block / K) exact passes.
//
// This is the reference the RTL shared-scale alignment block (rtl/ristsim_mx_align.sv)
// and any fast MX kernel are held to.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/reference/exact_layer.h"

namespace ristsim::kernels {

/// Which operands of an exact layer are MX, and the block size. The element
/// formats are spec.act.format / spec.wt.format (numeric::MxFormat::element_format()).
struct ExactMxSpec {
  bool act_mx = false;
  bool wt_mx = false;
  int block = 32;
};

/// Checks an MX layer spec; nullptr if valid. On top of validate(spec): at least
/// one MX operand; block 1..1024; frac_bits given (not auto: block scales span
/// 2^-127..2^127, there is no one product grid to follow); a block sum that fits
/// 64 bits of magnitude (every element pair but MXFP8 E5M2 x E5M2 does).
const char* validate(const ExactLayerSpec& spec, const ExactMxSpec& mx);

/// The scale code of a non-MX operand: 2^0.
inline constexpr uint8_t kMxUnitScale = 127;

/// ONE output element with MX operands: terms in datapath order, act_scales[b] and
/// wt_scales[b] the scale codes of block b (null for an operand that is not MX).
/// The trace (if given) holds per block: chunk_sums = the exact block sum (in
/// element-product units), aligned = the aligned block, acc_after = the
/// accumulator after it. The spec must be valid.
uint32_t exact_mx_dot(const ExactLayerSpec& spec, const ExactMxSpec& mx, const ExactTerm* terms,
                      size_t count, const uint8_t* act_scales, const uint8_t* wt_scales,
                      uint32_t bias_code, uint64_t out_index, ExactStats* stats,
                      ExactDotTrace* trace = nullptr);

/// Step 2 alone (the RTL block's function): a block sum `sum` in units of
/// 2^-(fl_a + fl_w), scale codes sa, sw (not 255), onto the grid 2^-frac_bits with
/// `rounding`, as the 64-bit two's complement integer.
int64_t mx_align_block(__int128 sum, int product_fl, uint8_t sa, uint8_t sw, int frac_bits,
                       numeric::Rounding rounding);

}  // namespace ristsim::kernels
