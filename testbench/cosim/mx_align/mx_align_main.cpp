// rtl/ristsim_mx_align.sv (Verilated) against the reference's shared-scale
// alignment: random MX blocks go through kernels::exact_mx_dot() with a trace,
// whose exact block sums and scale codes drive the RTL; its output must equal
// the trace's aligned value bit for bit (nan_o where a scale is 255).
// usage: mx_align_check good|bad|fp4 [vectors]; prints "MX ALIGN PASS" or
// "MX ALIGN MISMATCH" with the first difference. `bad` is a patched copy of the
// module (made by CMake) that adds the activations' scale twice.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "Vmx_align.h"
#include "Vmx_align_bad.h"
#include "Vmx_align_fp4.h"
#include "kernels/reference/exact_mx.h"
#include "verilated.h"

namespace {

using namespace ristsim;

struct Setup {
  numeric::MxElement element;
  int frac_bits;
  numeric::Rounding rounding;
};

template <class Model>
int run(const Setup& su, int vectors, uint64_t seed) {
  auto ctx = std::make_unique<VerilatedContext>();
  auto m = std::make_unique<Model>(ctx.get());
  numeric::MxFormat f;
  f.element = su.element;
  kernels::ExactLayerSpec spec;
  spec.act = spec.wt = numeric::mx_element_quantizer(f);
  spec.bias.format = numeric::Format::fixed_point(16, 8);
  spec.out.format = numeric::Format::fixed_point(32, 8);
  spec.acc.bits = 64;
  spec.acc.frac_bits = su.frac_bits;
  spec.acc.frac_bits_auto = false;
  spec.acc.overflow = numeric::Overflow::wrap;
  spec.acc.align_rounding = su.rounding;
  spec.lanes = 16;
  spec.stream = 0;
  spec.has_bias = false;
  kernels::ExactMxSpec mx;
  mx.act_mx = mx.wt_mx = true;
  if (const char* e = kernels::validate(spec, mx)) {
    std::printf("bad spec: %s\n", e);
    return 2;
  }
  std::mt19937_64 rng(seed);
  const uint32_t codes = 1u << f.element_bits();
  int checked = 0;
  for (int v = 0; v < vectors; ++v) {
    std::vector<kernels::ExactTerm> terms(32);
    const int zeros = static_cast<int>(rng() % 4);  // some sparse blocks
    for (auto& t : terms) {
      t.act_code = static_cast<uint32_t>(rng() % codes);
      t.wt_code = static_cast<uint32_t>(rng() % codes);
      t.padding = zeros > 0 && rng() % 4 < static_cast<uint64_t>(zeros);
    }
    uint8_t sa = static_cast<uint8_t>(rng() % 256), sw = static_cast<uint8_t>(rng() % 256);
    if (rng() % 2) {  // mostly near 2^0, where the shift crosses zero
      sa = static_cast<uint8_t>(110 + rng() % 30);
      sw = static_cast<uint8_t>(110 + rng() % 30);
    }
    kernels::ExactDotTrace tr;
    kernels::exact_mx_dot(spec, mx, terms.data(), terms.size(), &sa, &sw, 0, 0, nullptr, &tr);
    if (tr.nan && sa != 255 && sw != 255) continue;  // a NaN element (not the block's business)
    const int64_t sum = tr.chunk_sums[0];
    m->sum_i = static_cast<uint64_t>(sum);
    m->sa_i = sa;
    m->sw_i = sw;
    m->eval();
    const bool nan = sa == 255 || sw == 255;
    const uint64_t want = static_cast<uint64_t>(tr.aligned[0]);
    if (m->val_o != want || static_cast<bool>(m->nan_o) != nan) {
      std::printf("MX ALIGN MISMATCH at vector %d (seed %llu): sum %lld, sa %d, sw %d: RTL 0x%016llx nan %d, "
                  "reference 0x%016llx nan %d\n",
                  v, static_cast<unsigned long long>(seed), static_cast<long long>(sum), sa, sw,
                  static_cast<unsigned long long>(m->val_o), int(m->nan_o),
                  static_cast<unsigned long long>(want), int(nan));
      m->final();
      return 1;
    }
    ++checked;
  }
  m->final();
  std::printf("MX ALIGN PASS: %d blocks bit-exact\n", checked);
  return 0;
}

}  // namespace

/// The RTL's parameters (CMake) are the growth rules' widths.
bool widths_match(numeric::MxElement e, int sum_bits, int fl) {
  numeric::MxFormat f;
  f.element = e;
  const numeric::FixedType x = numeric::exactly_fixed(f.element_format());
  const numeric::FixedType s = numeric::sum_type(numeric::product_type(x, x), 32);
  if (s.bits == sum_bits && s.fl == fl) return true;
  std::printf("MX ALIGN SETUP: %s block sums are fixed<%d,%d>, the RTL was built for <%d,%d>\n",
              numeric::mx_name(e), s.bits, s.fl, sum_bits, fl);
  return false;
}

int main(int argc, char** argv) {
  if (!widths_match(numeric::MxElement::e4m3, RISTSIM_MX_E4M3_SUM, RISTSIM_MX_E4M3_FL) ||
      !widths_match(numeric::MxElement::e2m1, RISTSIM_MX_FP4_SUM, RISTSIM_MX_FP4_FL))
    return 2;
  const std::string which = argc > 1 ? argv[1] : "good";
  const int vectors = argc > 2 ? std::atoi(argv[2]) : 20000;
  // The shipped MX configs: E4M3 elements, F = 24, truncation (align_rounding down).
  const Setup e4m3{numeric::MxElement::e4m3, 24, numeric::Rounding::down};
  // MXFP4 with nearest-even alignment on a coarse grid: every rounding path.
  const Setup fp4{numeric::MxElement::e2m1, 2, numeric::Rounding::nearest_even};
  if (which == "good") return run<Vmx_align>(e4m3, vectors, 1);
  if (which == "bad") return run<Vmx_align_bad>(e4m3, vectors, 1);
  if (which == "fp4") return run<Vmx_align_fp4>(fp4, vectors, 2);
  std::printf("usage: mx_align_check good|bad|fp4 [vectors]\n");
  return 2;
}
