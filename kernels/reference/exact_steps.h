// The steps of the exact datapath (docs/datapath.md) as host/device functions,
// so that the reference (exact_layer.cpp), the CPU kernels and the CUDA kernels
// run the same code for each step rather than their own copies.
#pragma once

#include <cstdint>

#include "kernels/reference/exact_layer.h"
#include "numeric/numeric.h"

namespace ristsim::kernels::steps {

/// The alignment grid 2^-F: a 64-bit fixed-point quantizer that wraps (step 2).
RISTSIM_HD inline numeric::Quantizer alignment_grid(int frac_bits, numeric::Rounding rounding) {
  numeric::Quantizer grid;
  grid.format = numeric::Format::fixed_point(64, frac_bits);
  grid.rounding = rounding;
  grid.overflow = numeric::Overflow::wrap;
  return grid;
}

/// Step 1: the exact product of two codes. Returns false when an operand is
/// infinite or NaN. Storage formats have magnitudes below 2^32, so the product's
/// magnitude fits 64 bits.
RISTSIM_HD inline bool product(const numeric::Format& act, uint32_t a_code,
                               const numeric::Format& wt, uint32_t w_code, numeric::Dyadic* p) {
  numeric::Dyadic a, w;
  if (!numeric::decode_exact(act, a_code, &a) || !numeric::decode_exact(wt, w_code, &w)) return false;
  p->neg = a.neg != w.neg;
  p->mag = a.mag * w.mag;
  p->exp = a.exp + w.exp;
  return true;
}

/// Step 2: a value on the grid, as an integer.
RISTSIM_HD inline int64_t align(const numeric::Quantizer& grid, const numeric::Dyadic& v) {
  return numeric::sign_extend(numeric::quantize(grid, v).code, 64);
}

/// Steps 4 and 5: the accumulator's overflow mode on `bits` bits (saturate or
/// wrap). Adds one to *overflows when it changes the value.
RISTSIM_HD inline int64_t accumulate(int bits, numeric::Overflow mode, __int128 value,
                                     uint64_t* overflows) {
  const __int128 max = (static_cast<__int128>(1) << (bits - 1)) - 1;
  const __int128 min = -(static_cast<__int128>(1) << (bits - 1));
  if (value >= min && value <= max) return static_cast<int64_t>(value);
  ++*overflows;
  if (mode == numeric::Overflow::saturate) return static_cast<int64_t>(value > max ? max : min);
  const unsigned __int128 low =
      static_cast<unsigned __int128>(value) & ((static_cast<unsigned __int128>(1) << bits) - 1);
  return numeric::sign_extend(static_cast<uint64_t>(low), bits);
}

/// Step 6: the accumulator acc * 2^-F in the output format (NaN when an operand was).
RISTSIM_HD inline numeric::Quantized output(const numeric::Quantizer& out, int64_t acc,
                                            int frac_bits, bool nan, uint64_t index) {
  if (nan) return numeric::quantize(out, static_cast<double>(NAN), index);
  numeric::Dyadic value;
  value.neg = acc < 0;
  value.mag = acc < 0 ? uint64_t{0} - static_cast<uint64_t>(acc) : static_cast<uint64_t>(acc);
  value.exp = -frac_bits;
  return numeric::quantize(out, value, index);
}

/// What one output element needs, in a form that can be copied to a device.
struct ElementSpec {
  numeric::Format act, wt, bias;
  numeric::Quantizer out;   ///< with the layer's stream
  numeric::Quantizer grid;  ///< alignment_grid(frac_bits, align rounding)
  int acc_bits;
  numeric::Overflow acc_overflow;
  int frac_bits;
  int lanes;
  bool has_bias;
};

inline ElementSpec element_spec(const ExactLayerSpec& spec) {
  ElementSpec e;
  e.act = spec.act.format;
  e.wt = spec.wt.format;
  e.bias = spec.bias.format;
  e.out = spec.out;
  e.out.stream = spec.stream;
  e.frac_bits = accumulator_frac_bits(spec);
  e.grid = alignment_grid(e.frac_bits, spec.acc.align_rounding);
  e.acc_bits = spec.acc.bits;
  e.acc_overflow = spec.acc.overflow;
  e.lanes = spec.lanes;
  e.has_bias = spec.has_bias;
  return e;
}

struct ElementResult {
  uint32_t code;
  uint64_t acc_overflows;
  bool saturated;
  bool nan;
};

/// The end of an output element once its products are accumulated into `acc`: the bias
/// (aligned, through the accumulator's overflow mode) and the output stage. Shared by
/// conv_element and the integer-GEMM path's epilogue (kernels/cuda/exact_layer_cuda.cu).
RISTSIM_HD inline ElementResult finish_element(const ElementSpec& d, int64_t acc, const uint32_t* bias,
                                               int k, int64_t index, uint64_t overflows, bool nan) {
  if (d.has_bias) {
    numeric::Dyadic b;
    int64_t aligned = 0;
    if (numeric::decode_exact(d.bias, bias[k], &b)) {
      aligned = align(d.grid, b);
    } else {
      nan = true;
    }
    acc = accumulate(d.acc_bits, d.acc_overflow, static_cast<__int128>(acc) + aligned, &overflows);
  }
  const numeric::Quantized q = output(d.out, acc, d.frac_bits, nan, static_cast<uint64_t>(index));
  return ElementResult{static_cast<uint32_t>(q.code), overflows, q.saturated, nan};
}

/// Output element `index` (NCHW) of a convolution, streaming its terms in
/// datapath order (input channel of the group, kernel row, kernel column) in
/// chunks of `lanes`; padded positions are zero products that keep their lane.
/// This is the whole per-element work of the GPU kernel, and runs on the host
/// too, where it is tested against exact_conv_reference.
RISTSIM_HD inline ElementResult conv_element(const ConvShape& s, const ElementSpec& d,
                                             const uint32_t* in, const uint32_t* wts,
                                             const uint32_t* bias, int64_t index) {
  const int ox = static_cast<int>(index % s.ow);
  const int oy = static_cast<int>((index / s.ow) % s.oh);
  const int k = static_cast<int>((index / (int64_t{s.ow} * s.oh)) % s.k);
  const int img = static_cast<int>(index / (int64_t{s.ow} * s.oh * s.k));
  const int cg = s.c / s.groups;
  const int group = k / (s.k / s.groups);
  uint64_t overflows = 0;
  bool nan = false;
  int64_t acc = 0;
  __int128 chunk = 0;
  int lane = 0;
  for (int ci = 0; ci < cg; ++ci) {
    const int c = group * cg + ci;
    for (int ky = 0; ky < s.kh; ++ky) {
      for (int kx = 0; kx < s.kw; ++kx) {
        const int y = oy * s.stride_h - s.pad_h + ky * s.dil_h;
        const int x = ox * s.stride_w - s.pad_w + kx * s.dil_w;
        if (y >= 0 && y < s.h && x >= 0 && x < s.w) {
          const uint32_t a = in[((int64_t{img} * s.c + c) * s.h + y) * s.w + x];
          const uint32_t w = wts[((int64_t{k} * cg + ci) * s.kh + ky) * s.kw + kx];
          numeric::Dyadic p;
          if (product(d.act, a, d.wt, w, &p)) {
            chunk += align(d.grid, p);
          } else {
            nan = true;
          }
        }
        if (++lane == d.lanes) {
          acc = accumulate(d.acc_bits, d.acc_overflow, static_cast<__int128>(acc) + chunk,
                           &overflows);
          chunk = 0;
          lane = 0;
        }
      }
    }
  }
  if (lane != 0)  // the last chunk, padded with zero products
    acc = accumulate(d.acc_bits, d.acc_overflow, static_cast<__int128>(acc) + chunk, &overflows);
  return finish_element(d, acc, bias, k, index, overflows, nan);
}

}  // namespace ristsim::kernels::steps
