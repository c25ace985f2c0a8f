// Per-channel weight fractional lengths (ExactLayerSpec::wt_fl, granularity: channel) on the
// exact datapath:
//   - the reference: a per-channel layer equals, channel by channel, the per-layer reference
//     run with that channel's FL (the definition: every product of one output element has the
//     same weight FL, so F and the output shift are the channel's);
//   - exact_conv_cpu against the reference, bit for bit, on every instruction set, the forced
//     generic path, every overflow/rounding/alignment variant, with FLs spread widely across
//     channels (F per channel far apart, rounded alignment with a fixed F, narrow saturating
//     and wrapping accumulators);
//   - a _bad test: a kernel that ignores the per-channel FLs must fail the comparison.
#include <gtest/gtest.h>

#include <map>

#include "exact_cases.h"
#include "kernels/cpu/exact_layer_cpu.h"

namespace ristsim::testing {
namespace {

using kernels::CpuIsa;
using kernels::ExactCpuOptions;
using kernels::ExactCpuReport;
using kernels::ExactKernel;

/// A random case of a fixed-point arch with one weight FL per output channel: the arch's FL
/// plus a spread of -spread..spread (each channel its own), one channel far off when `far`.
ExactCase per_channel_case(const std::string& arch, uint64_t seed, int variant, int spread,
                           bool far) {
  ExactCase c = random_case(arch, seed, variant);
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  ExactLayerSpec& sp = c.spec;
  sp.wt_fl.resize(static_cast<size_t>(c.shape.k));
  for (int& fl : sp.wt_fl) fl = sp.wt.format.fl + pick(-spread, spread);
  if (far) sp.wt_fl[static_cast<size_t>(pick(0, c.shape.k - 1))] += pick(0, 1) ? 14 : -14;
  std::string fls;
  for (int fl : sp.wt_fl) fls += " " + std::to_string(fl);
  c.what += "; weight FLs" + fls;
  return c;
}

ConvFn cpu_fn(ExactCpuOptions opt, ExactCpuReport* report = nullptr) {
  return [opt, report](const ConvShape& s, const ExactLayerSpec& sp, const uint32_t* in,
                       const uint32_t* w, const uint32_t* b, uint32_t* out, ExactStats* st) {
    kernels::exact_conv_cpu(s, sp, in, w, b, out, st, opt, report);
  };
}

const char* const kFixedArchs[] = {"dynfixed8", "dynfixed4", "dynfixed8u", "fixed16"};

TEST(ExactPerChannel, reference_is_the_per_layer_reference_per_channel) {
  // groups 1 shapes, deterministic output rounding (the stochastic element index is the
  // whole layer's, which a one-channel layer does not have).
  int checked = 0;
  for (int v = 0; v < 48 && !HasFailure(); ++v) {
    ExactCase c = per_channel_case(kFixedArchs[v % 4], 7100 + v, v % 72, 5, v % 3 == 0);
    if (c.shape.groups != 1 || c.spec.out.rounding == numeric::Rounding::stochastic) continue;
    SCOPED_TRACE(c.what);
    const ConvShape& s = c.shape;
    const size_t ohw = static_cast<size_t>(s.oh) * s.ow, depth = c.w.size() / s.k;
    std::vector<uint32_t> all(static_cast<size_t>(s.n) * s.k * ohw);
    kernels::exact_conv_reference(s, c.spec, c.in.data(), c.w.data(), c.bias.data(), all.data(),
                                  nullptr);
    for (int k = 0; k < s.k; ++k) {
      ConvShape one = s;
      one.k = 1;
      ExactLayerSpec sp = c.spec;
      sp.wt_fl.clear();
      sp.wt.format.fl = c.spec.wt_fl[static_cast<size_t>(k)];
      std::vector<uint32_t> out(static_cast<size_t>(s.n) * ohw);
      kernels::exact_conv_reference(one, sp, c.in.data(), c.w.data() + k * depth,
                                    c.bias.data() + k, out.data(), nullptr);
      for (int img = 0; img < s.n; ++img)
        for (size_t p = 0; p < ohw; ++p)
          ASSERT_EQ(out[img * ohw + p], all[(static_cast<size_t>(img) * s.k + k) * ohw + p])
              << "channel " << k << " image " << img << " position " << p;
    }
    ++checked;
  }
  EXPECT_GT(checked, 10);
}

TEST(ExactPerChannel, cpu_equals_reference_all_modes) {
  std::map<ExactKernel, int> kernels_seen;
  uint64_t overflows = 0, saturations = 0;
  int fast = 0, generic = 0;
  for (int v = 0; v < 96 && !HasFailure(); ++v) {
    const std::string arch = kFixedArchs[v % 4];
    const ExactCase c = per_channel_case(arch, 8200 + v, v % 72, v % 2 ? 6 : 2, v % 5 == 0);
    SCOPED_TRACE(c.what);
    const bool all_isas = v % 8 == 0;
    for (CpuIsa isa : {CpuIsa::portable, CpuIsa::avx2, CpuIsa::avx512, CpuIsa::avx512_vnni}) {
      if (!kernels::cpu_supports(isa)) continue;
      if (!all_isas && isa != kernels::best_cpu_isa()) continue;
      for (bool force_generic : {false, true}) {
        ExactCpuOptions opt;
        opt.isa = isa;
        opt.threads = 2;
        opt.force_generic = force_generic;
        ExactCpuReport rep;
        ExactStats ref;
        EXPECT_EQ(compare(c, kernels::exact_conv_reference, cpu_fn(opt, &rep), &ref), "")
            << "isa " << kernels::to_string(isa) << " kernel " << kernels::to_string(rep.kernel);
        if (!force_generic && isa == kernels::best_cpu_isa()) {
          ++kernels_seen[rep.kernel];
          fast += rep.fast_channels;
          generic += rep.generic_channels;
          overflows += ref.acc_overflows;
          saturations += ref.out_saturations;
        }
      }
    }
  }
  // The cases must reach what they claim to: overflowing accumulators, saturated outputs,
  // the GEMM kernels (per channel shifts and output stages) and the per-term path.
  EXPECT_GT(overflows, 0u);
  EXPECT_GT(saturations, 0u);
  EXPECT_GT(fast, 0);
  EXPECT_GT(generic, 0);
  EXPECT_GT(kernels_seen[ExactKernel::int8] + kernels_seen[ExactKernel::int16], 0);
  EXPECT_GT(kernels_seen[ExactKernel::int8_chunked] + kernels_seen[ExactKernel::int16_chunked] +
                kernels_seen[ExactKernel::float64_chunked],
            0);
}

TEST(ExactPerChannel, far_apart_fls_with_a_saturating_accumulator) {
  // 8-bit operands, two channels 16 FLs apart: F (auto) 8 + 0 and 8 + 16. The same weight
  // codes; with a 20-bit saturating accumulator only the scale differs, the sums saturate
  // alike, and the output stage's shift (F - FL_o) differs by 16 between the channels.
  ExactCase c;
  c.shape = inner_product(3, 64, 2);
  ExactLayerSpec& sp = c.spec;
  sp.act = quantizer(Format::fixed_point(8, 8));
  sp.wt = quantizer(Format::fixed_point(8, 0));
  sp.bias = quantizer(Format::fixed_point(16, 4));
  sp.out = quantizer(Format::fixed_point(8, 2));
  sp.acc = config::AccumulatorSpec{};
  sp.acc.bits = 20;
  sp.acc.overflow = Overflow::saturate;
  sp.lanes = 16;
  sp.stream = 1;
  sp.has_bias = true;
  sp.wt_fl = {0, 16};
  std::mt19937_64 rng(99);
  c.in = random_codes(sp.act.format, 3 * 64, rng);
  c.w.assign(2 * 64, 0);
  for (int d = 0; d < 64; ++d) c.w[d] = c.w[64 + d] = 0x7f;  // +127 in both channels
  for (int i = 0; i < 3 * 64; ++i) c.in[i] = 0x7f;          // +127/256
  c.bias = {0x0010, 0x0010};                                  // +1.0
  std::vector<uint32_t> ref(6), cpu(6);
  ExactStats rs, cs;
  kernels::exact_conv_reference(c.shape, sp, c.in.data(), c.w.data(), c.bias.data(), ref.data(),
                                &rs);
  kernels::exact_conv_cpu(c.shape, sp, c.in.data(), c.w.data(), c.bias.data(), cpu.data(), &cs);
  EXPECT_EQ(ref, cpu);
  // 64 * 127 * 127 = 1032256 > 2^19 - 1: the accumulator saturates in both channels.
  EXPECT_GT(rs.acc_overflows, 0u);
  EXPECT_EQ(rs.acc_overflows, cs.acc_overflows);
  for (int img = 0; img < 3; ++img) {
    // Channel 0: F = 8, (2^19 - 1) * 2^-8 = 2048 -> saturates fixed<8,2> at +127 (31.75).
    EXPECT_EQ(ref[img * 2 + 0], 0x7fu);
    // Channel 1: F = 24, 2^19 * 2^-24 = 1/32, plus the bias: the accumulator saturated before
    // the bias, so (2^19 - 1) * 2^-24 + 1.0 (saturating again) = 1/32 -> rounds to 0 at FL 2.
    EXPECT_EQ(ref[img * 2 + 1], 0u);
  }
  // The same layer with one FL for both channels differs in channel 1.
  sp.wt_fl.clear();
  std::vector<uint32_t> one(6);
  kernels::exact_conv_reference(c.shape, sp, c.in.data(), c.w.data(), c.bias.data(), one.data(),
                                nullptr);
  EXPECT_EQ(one[0], ref[0]);
  EXPECT_NE(one[1], ref[1]);
}

TEST(ExactPerChannel, rejects_a_wrong_fl_count_and_non_fixed_weights) {
  std::mt19937_64 rng(5);
  ExactLayerSpec sp = shipped_arch("dynfixed8", rng);
  const ConvShape s = inner_product(1, 4, 3);
  std::vector<uint32_t> in(4, 1), w(12, 1), b(3, 0), out(3);
  sp.wt_fl = {4, 5};  // three channels
  EXPECT_THROW(kernels::exact_conv_reference(s, sp, in.data(), w.data(), b.data(), out.data(),
                                             nullptr),
               std::invalid_argument);
  EXPECT_THROW(kernels::exact_conv_cpu(s, sp, in.data(), w.data(), b.data(), out.data(), nullptr),
               std::invalid_argument);
  ExactLayerSpec mf = shipped_arch("minifloat8", rng);
  mf.wt_fl = {0, 0, 0};
  EXPECT_STREQ(kernels::validate(mf), "per-channel weight fractional lengths need fixed-point weights");
}

TEST(ExactPerChannel, ignoring_the_channel_fls_is_caught_bad) {
  // A planted bug: a kernel that runs every channel with the layer's one FL.
  const ConvFn bad = [](const ConvShape& s, const ExactLayerSpec& spec, const uint32_t* in,
                        const uint32_t* w, const uint32_t* b, uint32_t* out, ExactStats* st) {
    ExactLayerSpec one = spec;
    one.wt_fl.clear();
    kernels::exact_conv_cpu(s, one, in, w, b, out, st);
  };
  int caught = 0;
  for (int v = 0; v < 24; ++v) {
    const ExactCase c = per_channel_case(kFixedArchs[v % 4], 9300 + v, v % 72, 3, false);
    if (!compare(c, kernels::exact_conv_reference, bad).empty()) ++caught;
  }
  EXPECT_GT(caught, 12);
}

}  // namespace
}  // namespace ristsim::testing
