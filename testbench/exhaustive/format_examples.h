// The worked-example tables of docs/formats.md, generated from the numeric core.
// gen_format_examples prints them; the test DocsFormats.tables_are_current
// checks that the copy in docs/formats.md is what the core does today.
#pragma once

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "numeric/numeric.h"

namespace ristsim::docs {

using namespace ristsim::numeric;

/// The shortest %g text that reads back as exactly v.
inline std::string g17(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-inf" : "+inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  char buf[64];
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  if (std::strchr(buf, 'e') && std::fabs(v) >= 1 && std::fabs(v) < 1e16 && v == std::floor(v))
    std::snprintf(buf, sizeof buf, "%.0f", v);  // 1000000000, not 1e+09
  return buf;
}

inline std::string cell(const Quantizer& q, double x, uint64_t index = 0) {
  const Quantized r = quantize(q, x, index);
  char code[32];
  std::snprintf(code, sizeof code, "0x%0*" PRIx64, (q.format.code_bits() + 3) / 4, r.code);
  std::string s = g17(r.value) + " `" + code + "`";
  if (r.saturated) s += " sat";
  if (r.nan) s += " nan";
  return s;
}

struct Example {
  const char* title;
  Format format;
  std::vector<double> extra_inputs;  ///< after the issue's -2.5, -0.3, 1e9, NaN
};

inline std::vector<Example> examples() {
  return {
      {"fixed<8,0> (B = 8, FL = 0: integers -128..127)",
       Format::fixed_point(8, 0),
       {-3.5, 2.5, -128.5, 127.5, 300}},
      {"fixed<8,4> (B = 8, FL = 4: -8..7.9375 in steps of 1/16)",
       Format::fixed_point(8, 4),
       {-2.53125, -0.03125, 7.96875, -8.03125}},
      {"e4m3 (OCP: fn specials, subnormals, bias 7, max 448)",
       Format::e4m3(),
       {-0.0, 464, 465, -1e-3, 0x1p-10}},
      {"e5m2 (OCP: ieee specials, subnormals, bias 15, max 57344)",
       Format::e5m2(),
       {-0.0, 61440, -1e-6, -HUGE_VAL}},
      {"minifloat E4M3 `none` (the thesis' style: no inf/NaN, subnormals off, bias 7, max 480)",
       Format::minifloat(4, 3, Specials::none, false),
       {-0.0, 0x1p-7, -0x1.2p-7, 500}},
      {"minifloat E4M3 `ristretto` (9-bit code, zero = 0x100, bias 7, smallest 2^-7, max 480)",
       Format::minifloat(4, 3, Specials::ristretto, false),
       {-0x1p-7, -0x1.fp-8, 0x1p-7 * 1.0625}},
      {"pow2 4-bit, exp_max -1, no zero code, value rounding (+-2^-8..+-2^-1)",
       Format::pow2(4, -1),
       {0.36, -0.375, 0.001, -0.0}},
      {"pow2 4-bit, exp_max -1, no zero code, log rounding",
       Format::pow2(4, -1, false, Pow2Rounding::log),
       {0.36, -0.375, 0.001, -0.0}},
      {"pow2 4-bit, exp_max -1, zero code, value rounding (0, +-2^-7..+-2^-1)",
       Format::pow2(4, -1, true),
       {0.36, -0.375, 0.001, 0x1p-8}},
  };
}

/// The markdown of all tables.
inline std::string tables() {
  const Rounding modes[] = {Rounding::nearest_even, Rounding::nearest_away, Rounding::toward_zero,
                            Rounding::down, Rounding::up};
  std::string out;
  for (const Example& e : examples()) {
    out += "#### " + std::string(e.title) + "\n\n";
    std::vector<double> inputs{-2.5, -0.3, 1e9, NAN};
    inputs.insert(inputs.end(), e.extra_inputs.begin(), e.extra_inputs.end());
    std::vector<Overflow> extra;
    if (e.format.kind == FormatKind::fixed) extra.push_back(Overflow::wrap);
    if (e.format.has_nan()) extra.push_back(Overflow::special);
    const bool tz_special = e.format.has_nan();  // IEEE 754: toward zero overflows to max
    out += "| input |";
    for (Rounding r : modes) out += std::string(" ") + to_string(r) + " |";
    for (Overflow o : extra) out += std::string(" nearest_even, ") + to_string(o) + " |";
    if (tz_special) out += " toward_zero, special |";
    out += " stochastic (seed 1, stream 0), index 0..3 |\n|---|";
    for (size_t i = 0; i < std::size(modes) + extra.size() + tz_special + 1; ++i) out += "---|";
    out += "\n";
    for (double x : inputs) {
      out += "| " + g17(x) + " |";
      for (Rounding r : modes) {
        Quantizer q;
        q.format = e.format;
        q.rounding = r;
        out += " " + cell(q, x) + " |";
      }
      for (Overflow o : extra) {
        Quantizer q;
        q.format = e.format;
        q.overflow = o;
        out += " " + cell(q, x) + " |";
      }
      if (tz_special) {
        Quantizer q;
        q.format = e.format;
        q.rounding = Rounding::toward_zero;
        q.overflow = Overflow::special;
        out += " " + cell(q, x) + " |";
      }
      Quantizer q;
      q.format = e.format;
      q.rounding = Rounding::stochastic;
      q.seed = 1;
      std::string st;
      for (uint64_t i = 0; i < 4; ++i) {
        const Quantized r = quantize(q, x, i);
        st += (i ? ", " : "") + g17(r.value);
      }
      out += " " + st + " |\n";
    }
    out += "\n";
  }
  return out;
}

}  // namespace ristsim::docs
