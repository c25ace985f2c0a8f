// The exact datapath, reference implementation (see exact_layer.h and
// docs/datapath.md). Each step below is numbered as in docs/datapath.md.
#include "kernels/reference/exact_layer.h"
#include "kernels/reference/exact_steps.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace ristsim::kernels {

using numeric::Dyadic;
using numeric::Format;
using numeric::Quantized;
using numeric::Quantizer;

const char* validate(const ExactLayerSpec& spec) {
  if (const char* e = numeric::validate(spec.act.format)) return e;
  if (const char* e = numeric::validate(spec.wt.format)) return e;
  if (const char* e = numeric::validate(spec.bias.format)) return e;
  if (const char* e = numeric::validate(spec.out)) return e;
  if (spec.act.format.code_bits() > 32 || spec.wt.format.code_bits() > 32 ||
      spec.bias.format.code_bits() > 32 || spec.out.format.code_bits() > 32)
    return "exact datapath: codes must fit 32 bits";
  if (spec.acc.bits < 2 || spec.acc.bits > 64) return "accumulator needs 2 to 64 bits";
  if (spec.acc.overflow != numeric::Overflow::saturate &&
      spec.acc.overflow != numeric::Overflow::wrap)
    return "accumulator overflow must be saturate or wrap";
  if (spec.acc.align_rounding == numeric::Rounding::stochastic)
    return "stochastic alignment rounding is not allowed";
  if (spec.lanes < 1) return "lanes must be at least 1";
  const int f = accumulator_frac_bits(spec);
  if (f < -512 || f > 512) return "accumulator fractional bits must be in -512..512";
  if (!spec.wt_fl.empty()) {
    if (spec.wt.format.kind != numeric::FormatKind::fixed)
      return "per-channel weight fractional lengths need fixed-point weights";
    for (size_t k = 0; k < spec.wt_fl.size(); ++k)
      if (const char* e = validate(channel_spec(spec, static_cast<int>(k)))) return e;
  }
  return nullptr;
}

ExactLayerSpec channel_spec(const ExactLayerSpec& spec, int k) {
  ExactLayerSpec c = spec;
  if (!spec.wt_fl.empty()) c.wt.format.fl = spec.wt_fl[static_cast<size_t>(k)];
  c.wt_fl.clear();
  return c;
}

const char* validate(const ConvShape& shape, const ExactLayerSpec& spec) {
  if (const char* e = validate(shape)) return e;
  if (const char* e = validate(spec)) return e;
  if (!spec.wt_fl.empty() && spec.wt_fl.size() != static_cast<size_t>(shape.k))
    return "per-channel weights need one fractional length per output channel";
  return nullptr;
}

const char* validate(const ConvShape& s) {
  if (s.n < 1 || s.c < 1 || s.h < 1 || s.w < 1 || s.k < 1 || s.kh < 1 || s.kw < 1 || s.oh < 1 ||
      s.ow < 1)
    return "conv shape: sizes must be positive";
  if (s.stride_h < 1 || s.stride_w < 1 || s.dil_h < 1 || s.dil_w < 1 || s.pad_h < 0 || s.pad_w < 0)
    return "conv shape: stride and dilation must be >= 1, padding >= 0";
  if (s.groups < 1 || s.c % s.groups != 0 || s.k % s.groups != 0)
    return "conv shape: groups must divide c and k";
  const int eh = (s.h + 2 * s.pad_h - s.dil_h * (s.kh - 1) - 1) / s.stride_h + 1;
  const int ew = (s.w + 2 * s.pad_w - s.dil_w * (s.kw - 1) - 1) / s.stride_w + 1;
  if (s.oh != eh || s.ow != ew) return "conv shape: oh/ow do not match the convolution";
  return nullptr;
}

int product_frac_bits(const ExactLayerSpec& spec) {
  return numeric::product_type(numeric::exactly_fixed(spec.act.format),
                               numeric::exactly_fixed(spec.wt.format))
      .fl;
}

int accumulator_frac_bits(const ExactLayerSpec& spec) {
  return spec.acc.frac_bits_auto ? product_frac_bits(spec) : spec.acc.frac_bits;
}

namespace {

/// Steps 4 and 5: the accumulator's overflow mode (shared with the fast kernels).
int64_t accumulator_overflow(const config::AccumulatorSpec& acc, __int128 value,
                             uint64_t* overflows) {
  return steps::accumulate(acc.bits, acc.overflow, value, overflows);
}

}  // namespace

uint32_t exact_dot(const ExactLayerSpec& spec, const ExactTerm* terms, size_t count,
                   uint32_t bias_code, uint64_t out_index, ExactStats* stats,
                   ExactDotTrace* trace) {
  const int frac_bits = accumulator_frac_bits(spec);
  const Quantizer grid = steps::alignment_grid(frac_bits, spec.acc.align_rounding);
  bool nan = false;
  if (trace) *trace = ExactDotTrace{};

  // Steps 1 and 2: exact products, aligned onto the grid 2^-F.
  std::vector<int64_t> aligned(count, 0);
  for (size_t i = 0; i < count; ++i) {
    if (terms[i].padding) continue;  // a padded position: zero product
    Dyadic p;
    if (!steps::product(spec.act.format, terms[i].act_code, spec.wt.format, terms[i].wt_code,
                        &p)) {  // inf or NaN operand: the output is NaN
      nan = true;
      continue;
    }
    aligned[i] = steps::align(grid, p);
  }

  // Steps 3 and 4: chunks of K lanes, summed exactly, then the accumulator.
  uint64_t overflows = 0;
  int64_t acc = 0;
  const size_t lanes = static_cast<size_t>(spec.lanes);
  for (size_t start = 0; start < count; start += lanes) {
    __int128 chunk_sum = 0;
    for (size_t lane = 0; lane < lanes; ++lane) {
      const size_t i = start + lane;
      chunk_sum += i < count ? aligned[i] : 0;  // the last chunk is padded with zeros
    }
    acc = accumulator_overflow(spec.acc, static_cast<__int128>(acc) + chunk_sum, &overflows);
    if (trace) {
      trace->chunk_sums.push_back(static_cast<int64_t>(chunk_sum));
      trace->acc_after.push_back(acc);
    }
  }

  // Step 5: the bias, aligned like a product, added once.
  int64_t bias_aligned = 0;
  if (spec.has_bias) {
    Dyadic b;
    if (numeric::decode_exact(spec.bias.format, bias_code, &b)) {
      bias_aligned = steps::align(grid, b);
    } else {
      nan = true;
    }
    acc = accumulator_overflow(spec.acc, static_cast<__int128>(acc) + bias_aligned, &overflows);
  }

  // Step 6: the output, acc * 2^-F, quantized with its element index.
  Quantizer out = spec.out;
  out.stream = spec.stream;
  Quantized q;
  if (nan) {
    q = numeric::quantize(out, std::nan(""), out_index);
  } else {
    Dyadic value;
    value.neg = acc < 0;
    value.mag = acc < 0 ? uint64_t{0} - static_cast<uint64_t>(acc) : static_cast<uint64_t>(acc);
    value.exp = -frac_bits;
    q = numeric::quantize(out, value, out_index);
  }

  if (stats) {
    stats->acc_overflows += overflows;
    stats->out_saturations += q.saturated ? 1 : 0;
    stats->out_nans += nan ? 1 : 0;
  }
  if (trace) {
    trace->aligned = aligned;
    trace->bias_aligned = bias_aligned;
    trace->acc_final = acc;
    trace->nan = nan;
    trace->out = q;
  }
  return static_cast<uint32_t>(q.code);
}

std::vector<ExactTerm> conv_terms(const ConvShape& s, const uint32_t* in_codes,
                                  const uint32_t* w_codes, int img, int k, int oy, int ox) {
  const int cg = s.c / s.groups;  // input channels per group
  const int group = k / (s.k / s.groups);
  std::vector<ExactTerm> terms;
  terms.reserve(static_cast<size_t>(cg) * s.kh * s.kw);
  for (int ci = 0; ci < cg; ++ci) {
    const int c = group * cg + ci;
    for (int ky = 0; ky < s.kh; ++ky) {
      for (int kx = 0; kx < s.kw; ++kx) {
        ExactTerm t;
        t.wt_code = w_codes[((static_cast<size_t>(k) * cg + ci) * s.kh + ky) * s.kw + kx];
        const int y = oy * s.stride_h - s.pad_h + ky * s.dil_h;
        const int x = ox * s.stride_w - s.pad_w + kx * s.dil_w;
        if (y < 0 || y >= s.h || x < 0 || x >= s.w) {
          t.padding = true;
        } else {
          t.act_code = in_codes[((static_cast<size_t>(img) * s.c + c) * s.h + y) * s.w + x];
        }
        terms.push_back(t);
      }
    }
  }
  return terms;
}

void exact_conv_reference(const ConvShape& s, const ExactLayerSpec& spec, const uint32_t* in_codes,
                          const uint32_t* w_codes, const uint32_t* bias_codes, uint32_t* out_codes,
                          ExactStats* stats) {
  if (const char* e = validate(s, spec)) throw std::invalid_argument(e);
  std::vector<ExactLayerSpec> channel(static_cast<size_t>(s.k));
  for (int k = 0; k < s.k; ++k) channel[k] = channel_spec(spec, k);
  for (int img = 0; img < s.n; ++img) {
    for (int k = 0; k < s.k; ++k) {
      const uint32_t bias_code = spec.has_bias ? bias_codes[k] : 0;
      for (int oy = 0; oy < s.oh; ++oy) {
        for (int ox = 0; ox < s.ow; ++ox) {
          const std::vector<ExactTerm> terms = conv_terms(s, in_codes, w_codes, img, k, oy, ox);
          const uint64_t index = ((static_cast<uint64_t>(img) * s.k + k) * s.oh + oy) * s.ow + ox;
          out_codes[index] =
              exact_dot(channel[k], terms.data(), terms.size(), bias_code, index, stats);
        }
      }
    }
  }
}

}  // namespace ristsim::kernels
