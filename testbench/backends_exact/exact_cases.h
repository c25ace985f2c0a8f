// Test vectors for the exact datapath: the shipped arch formats (configs/*.yaml,
// written out here so the tests do not depend on the YAML loader), random conv
// shapes and random codes, and a comparison that reports the first mismatch.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/reference/exact_layer.h"

namespace ristsim::testing {

using kernels::ConvShape;
using kernels::ExactLayerSpec;
using kernels::ExactStats;
using numeric::Format;
using numeric::Overflow;
using numeric::Quantizer;
using numeric::Rounding;

inline Quantizer quantizer(Format f, Rounding r = Rounding::nearest_even,
                           Overflow o = Overflow::saturate) {
  Quantizer q;
  q.format = f;
  q.rounding = r;
  q.overflow = o;
  return q;
}

inline const char* const kShippedArchs[] = {"dynfixed8",  "dynfixed4", "fixed16",
                                            "minifloat8", "pow2_4",    "e4m3",
                                            "dynfixed8u"};

/// The formats of configs/<name>.yaml. Dynamic fixed point gets the fractional
/// lengths drawn from `rng` (a range analysis would pick them per layer).
inline ExactLayerSpec shipped_arch(const std::string& name, std::mt19937_64& rng) {
  auto pick = [&](int lo, int hi) {
    return static_cast<int>(std::uniform_int_distribution<int>(lo, hi)(rng));
  };
  ExactLayerSpec s{};
  s.acc = config::AccumulatorSpec{};
  s.lanes = 16;
  s.stream = 3;
  s.has_bias = true;
  s.out.seed = 1;
  if (name == "dynfixed8") {
    s.act = quantizer(Format::fixed_point(8, pick(0, 7)));
    s.wt = quantizer(Format::fixed_point(8, pick(4, 9)));
    s.bias = quantizer(Format::fixed_point(16, pick(6, 14)));
    s.out = quantizer(Format::fixed_point(8, pick(-2, 6)));
    s.acc.bits = 32;
  } else if (name == "dynfixed8u") {  // signed: auto, here the unsigned case: u8 x s8
    s.act = quantizer(Format::unsigned_fixed_point(8, pick(0, 8)));
    s.wt = quantizer(Format::fixed_point(8, pick(4, 9)));
    s.bias = quantizer(Format::fixed_point(16, pick(6, 14)));
    s.out = quantizer(Format::fixed_point(8, pick(-2, 6)));
    s.acc.bits = 32;
  } else if (name == "dynfixed4") {
    s.act = quantizer(Format::fixed_point(4, pick(0, 3)));
    s.wt = quantizer(Format::fixed_point(4, pick(1, 5)));
    s.bias = quantizer(Format::fixed_point(8, pick(2, 8)));
    s.out = quantizer(Format::fixed_point(4, pick(-3, 2)));
    s.acc.bits = 24;
  } else if (name == "fixed16") {
    s.act = quantizer(Format::fixed_point(16, 8));
    s.wt = quantizer(Format::fixed_point(16, 14));
    s.bias = quantizer(Format::fixed_point(16, 8));
    s.out = quantizer(Format::fixed_point(16, 8));
    s.acc.bits = 48;
  } else if (name == "minifloat8") {
    const Format mf = Format::minifloat(4, 3, numeric::Specials::none, false);
    s.act = quantizer(mf);
    s.wt = quantizer(mf);
    s.bias = quantizer(Format::fixed_point(16, pick(4, 12)));
    s.out = quantizer(mf);
    s.acc.bits = 48;
  } else if (name == "pow2_4") {
    s.act = quantizer(Format::fixed_point(8, pick(0, 7)));
    s.wt = quantizer(Format::pow2(4, -1, false));
    s.bias = quantizer(Format::fixed_point(16, pick(6, 14)));
    s.out = quantizer(Format::fixed_point(8, pick(-2, 6)));
    s.acc.bits = 32;
  } else if (name == "e4m3") {
    s.act = quantizer(Format::e4m3());
    s.wt = quantizer(Format::e4m3());
    s.bias = quantizer(Format::fixed_point(16, pick(4, 12)));
    s.out = quantizer(Format::e4m3());
    s.acc.bits = 48;
  }
  s.out.seed = 1;
  return s;
}

inline ConvShape finish_shape(ConvShape s) {
  s.oh = (s.h + 2 * s.pad_h - s.dil_h * (s.kh - 1) - 1) / s.stride_h + 1;
  s.ow = (s.w + 2 * s.pad_w - s.dil_w * (s.kw - 1) - 1) / s.stride_w + 1;
  return s;
}

inline ConvShape inner_product(int n, int inputs, int outputs) {
  return finish_shape(ConvShape{n, inputs, 1, 1, outputs, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0});
}

/// A random convolution (groups, stride, padding, dilation) or inner product.
inline ConvShape random_shape(std::mt19937_64& rng, int max_depth = 120) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  if (pick(0, 4) == 0) return inner_product(pick(1, 6), pick(1, max_depth * 2), pick(1, 12));
  for (;;) {
    ConvShape s{};
    s.groups = pick(0, 2) == 0 ? pick(2, 3) : 1;
    s.n = pick(1, 2);
    s.c = s.groups * pick(1, 4);
    s.k = s.groups * pick(1, 5);
    s.kh = pick(1, 5);
    s.kw = pick(1, 5);
    s.stride_h = pick(1, 3);
    s.stride_w = pick(1, 3);
    s.dil_h = pick(0, 3) == 0 ? 2 : 1;
    s.dil_w = pick(0, 3) == 0 ? 2 : 1;
    s.pad_h = pick(0, 2);
    s.pad_w = pick(0, 2);
    const int eh = s.dil_h * (s.kh - 1) + 1, ew = s.dil_w * (s.kw - 1) + 1;
    s.h = std::max(1, eh - 2 * s.pad_h) + pick(0, 9);
    s.w = std::max(1, ew - 2 * s.pad_w) + pick(0, 9);
    s = finish_shape(s);
    if (s.oh >= 1 && s.ow >= 1 && (s.c / s.groups) * s.kh * s.kw <= max_depth) return s;
  }
}

/// Random codes of a format; inf/NaN codes only with probability `special_rate`.
inline std::vector<uint32_t> random_codes(const Format& f, size_t count, std::mt19937_64& rng,
                                          double special_rate = 0.0, int max_bits = 32) {
  const int cb = std::min(f.code_bits(), 32);
  std::vector<uint32_t> v(count);
  std::uniform_real_distribution<double> u(0, 1);
  for (uint32_t& c : v) {
    for (;;) {
      uint64_t code = rng() & numeric::low_mask(cb);
      if (f.kind == numeric::FormatKind::fixed && max_bits < f.bits) {
        code = numeric::sign_extend(rng(), max_bits) & numeric::low_mask(cb);  // small values
      } else if (f.kind != numeric::FormatKind::fixed && max_bits < f.bits) {
        // Small magnitude codes (low exponent fields), either sign.
        const uint64_t sign = (rng() & 1) << (f.bits - 1);
        code = sign | (rng() & numeric::low_mask(max_bits - 1));
      }
      numeric::Dyadic d;
      const bool finite = numeric::decode_exact(f, code, &d);
      if (finite || u(rng) < special_rate) {
        c = static_cast<uint32_t>(code);
        break;
      }
    }
  }
  return v;
}

/// Negative codes of a fixed point format replaced by zero, as after a ReLU
/// (the int8 kernels take such activations as uint8, without an offset).
inline void make_nonnegative(const Format& f, std::vector<uint32_t>& codes) {
  if (f.kind != numeric::FormatKind::fixed) return;
  for (uint32_t& c : codes) {
    numeric::Dyadic d;
    if (numeric::decode_exact(f, c, &d) && d.neg && d.mag != 0) c = 0;
  }
}

/// One layer's inputs.
struct ExactCase {
  ConvShape shape;
  ExactLayerSpec spec;
  std::vector<uint32_t> in, w, bias;
  std::string what;  ///< for failure messages (seed, arch, modes)
};

using ConvFn = std::function<void(const ConvShape&, const ExactLayerSpec&, const uint32_t*,
                                  const uint32_t*, const uint32_t*, uint32_t*, ExactStats*)>;

inline std::string describe(const ConvShape& s) {
  std::ostringstream o;
  o << "n" << s.n << " c" << s.c << " " << s.h << "x" << s.w << " k" << s.k << " " << s.kh << "x"
    << s.kw << " stride " << s.stride_h << "," << s.stride_w << " pad " << s.pad_h << "," << s.pad_w
    << " dil " << s.dil_h << "," << s.dil_w << " groups " << s.groups << " -> " << s.oh << "x"
    << s.ow;
  return o.str();
}

inline std::string describe(const ExactLayerSpec& s) {
  std::ostringstream o;
  o << "acc " << s.acc.bits << " bits F " << (s.acc.frac_bits_auto ? "auto" : "")
    << kernels::accumulator_frac_bits(s) << " " << numeric::to_string(s.acc.overflow) << " align "
    << numeric::to_string(s.acc.align_rounding) << " lanes " << s.lanes << " out "
    << numeric::to_string(s.out.format.kind) << " fl " << s.out.format.fl << " "
    << numeric::to_string(s.out.rounding) << " " << numeric::to_string(s.out.overflow)
    << (s.has_bias ? " bias" : " no bias");
  return o.str();
}

/// Runs both functions; "" if every output code and every counter agree, else
/// the first difference.
inline std::string compare(const ExactCase& c, const ConvFn& expected, const ConvFn& actual,
                           ExactStats* expected_stats = nullptr) {
  const ConvShape& s = c.shape;
  const size_t outs = static_cast<size_t>(s.n) * s.k * s.oh * s.ow;
  std::vector<uint32_t> a(outs, 0xdeadbeef), b(outs, 0xabcdabcd);
  ExactStats sa, sb;
  expected(s, c.spec, c.in.data(), c.w.data(), c.bias.data(), a.data(), &sa);
  actual(s, c.spec, c.in.data(), c.w.data(), c.bias.data(), b.data(), &sb);
  if (expected_stats) *expected_stats = sa;
  for (size_t i = 0; i < outs; ++i) {
    if (a[i] != b[i]) {
      std::ostringstream o;
      o << "output " << i << ": expected code 0x" << std::hex << a[i] << ", got 0x" << b[i];
      return o.str();
    }
  }
  std::ostringstream o;
  if (sa.acc_overflows != sb.acc_overflows)
    o << "acc_overflows " << sa.acc_overflows << " vs " << sb.acc_overflows << "; ";
  if (sa.out_saturations != sb.out_saturations)
    o << "out_saturations " << sa.out_saturations << " vs " << sb.out_saturations << "; ";
  if (sa.out_nans != sb.out_nans) o << "out_nans " << sa.out_nans << " vs " << sb.out_nans;
  return o.str();
}

/// A random case of a shipped arch. `variant` picks the modes so that a loop
/// over variants covers them all: accumulator overflow mode (saturate, wrap),
/// width (the arch's, or narrow enough to overflow), output rounding (all six),
/// alignment (auto, wider F, narrower F with a rounding).
inline ExactCase random_case(const std::string& arch, uint64_t seed, int variant,
                             double special_rate = 0.0) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  ExactCase c;
  c.spec = shipped_arch(arch, rng);
  c.shape = random_shape(rng);
  ExactLayerSpec& sp = c.spec;
  sp.acc.overflow = variant % 2 == 0 ? Overflow::saturate : Overflow::wrap;
  const bool narrow = (variant / 2) % 2 == 1;
  sp.out.rounding = numeric::kAllRoundings[(variant / 4) % 6];
  const int align_kind = (variant / 24) % 3;
  const int fl_p = kernels::product_frac_bits(sp);
  if (align_kind == 1) {
    sp.acc.frac_bits_auto = false;
    sp.acc.frac_bits = fl_p + pick(1, 6);
  } else if (align_kind == 2) {
    sp.acc.frac_bits_auto = false;
    sp.acc.frac_bits = fl_p - pick(1, 6);
    const Rounding aligns[] = {Rounding::down, Rounding::nearest_even, Rounding::nearest_away,
                               Rounding::toward_zero, Rounding::up};
    sp.acc.align_rounding = aligns[pick(0, 4)];
  }
  if (narrow) {
    const numeric::FixedType pt = numeric::product_type(numeric::exactly_fixed(sp.act.format),
                                                        numeric::exactly_fixed(sp.wt.format));
    const int extra = kernels::accumulator_frac_bits(sp) - pt.fl;
    // A few bits below the product's width, or narrow outright (for small values).
    sp.acc.bits = std::clamp(
        pick(0, 1) == 0 ? pt.bits + extra - pick(2, 8) : pick(6, 20) + std::max(extra, 0), 2, 64);
  }
  sp.lanes = pick(0, 3) == 0 ? pick(1, 40) : 16;
  sp.has_bias = pick(0, 5) != 0;
  sp.stream = static_cast<uint64_t>(pick(0, 50));
  sp.out.seed = rng();
  if (sp.out.format.kind == numeric::FormatKind::minifloat && pick(0, 3) == 0 &&
      sp.out.format.has_nan())
    sp.out.overflow = Overflow::special;
  const ConvShape& s = c.shape;
  // Small activations now and then, so that the fast paths are taken with
  // narrow accumulators too.
  const bool small = pick(0, 2) == 0;
  const int act_bits = small ? std::max(2, sp.act.format.bits / 2) : 32;
  c.in = random_codes(sp.act.format, static_cast<size_t>(s.n) * s.c * s.h * s.w, rng, special_rate,
                      act_bits);
  const int wt_bits = small ? std::max(2, sp.wt.format.bits * 3 / 4) : 32;
  c.w = random_codes(sp.wt.format, static_cast<size_t>(s.k) * (s.c / s.groups) * s.kh * s.kw, rng,
                     special_rate, wt_bits);
  c.bias = random_codes(sp.bias.format, s.k, rng, special_rate);
  std::ostringstream o;
  o << arch << " seed " << seed << " variant " << variant << ": " << describe(s) << "; "
    << describe(sp);
  c.what = o.str();
  return c;
}

}  // namespace ristsim::testing
