// exact_conv_cpu against exact_conv_reference, bit for bit: every shipped arch,
// every accumulator overflow mode, narrow accumulators that overflow, every
// output rounding (stochastic included), exact and rounded alignment, random
// shapes (groups, stride, padding, dilation, inner products), every
// instruction set this CPU has, several thread counts. Seeds are in the
// failure messages.
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

ConvFn reference_fn() {
  return kernels::exact_conv_reference;
}

ConvFn cpu_fn(ExactCpuOptions opt, ExactCpuReport* report = nullptr) {
  return [opt, report](const ConvShape& s, const ExactLayerSpec& sp, const uint32_t* in,
                       const uint32_t* w, const uint32_t* b, uint32_t* out, ExactStats* st) {
    kernels::exact_conv_cpu(s, sp, in, w, b, out, st, opt, report);
  };
}

std::vector<CpuIsa> supported_isas() {
  std::vector<CpuIsa> v;
  for (CpuIsa isa : {CpuIsa::portable, CpuIsa::avx2, CpuIsa::avx512, CpuIsa::avx512_vnni})
    if (kernels::cpu_supports(isa)) v.push_back(isa);
  return v;
}

struct Coverage {
  std::map<ExactKernel, int> kernels;
  std::map<int, int> int8_offsets;  ///< act_offset -> layers on an int8 kernel
  int generic_channels = 0, fast_channels = 0, chunked_channels = 0;
  uint64_t overflows = 0, saturations = 0, nans = 0;
};

void check_case(const ExactCase& c, Coverage* cov, bool all_isas) {
  SCOPED_TRACE(c.what);
  const std::vector<CpuIsa> isas =
      all_isas ? supported_isas() : std::vector<CpuIsa>{kernels::best_cpu_isa()};
  for (CpuIsa isa : isas) {
    ExactCpuOptions opt;
    opt.isa = isa;
    opt.threads = 2;
    ExactCpuReport rep;
    ExactStats ref_stats;
    const std::string diff = compare(c, reference_fn(), cpu_fn(opt, &rep), &ref_stats);
    EXPECT_EQ(diff, "") << "isa " << kernels::to_string(isa) << " kernel "
                        << kernels::to_string(rep.kernel);
    if (cov && isa == isas.back()) {
      ++cov->kernels[rep.kernel];
      if (rep.kernel == ExactKernel::int8 || rep.kernel == ExactKernel::int8_chunked)
        ++cov->int8_offsets[rep.act_offset];
      cov->fast_channels += rep.fast_channels;
      cov->generic_channels += rep.generic_channels;
      cov->chunked_channels += rep.chunked_channels;
      cov->overflows += ref_stats.acc_overflows;
      cov->saturations += ref_stats.out_saturations;
      cov->nans += ref_stats.out_nans;
    }
    if (!diff.empty()) return;
  }
}

constexpr int kVariants = 72;  // 2 overflow modes x 2 widths x 6 roundings x 3 alignments

class ShippedArch : public ::testing::TestWithParam<const char*> {};

TEST_P(ShippedArch, cpu_equals_reference_all_modes) {
  const std::string arch = GetParam();
  Coverage cov;
  for (int v = 0; v < kVariants; ++v) {
    const uint64_t seed = 1000003ull * (std::hash<std::string>{}(arch) % 1000) + v;
    ExactCase c = random_case(arch, seed, v);
    if (v % 3 == 2) {  // activations after a ReLU
      make_nonnegative(c.spec.act.format, c.in);
      c.what += "; activations >= 0";
    }
    check_case(c, &cov, v % 6 == 0);
    if (HasFailure()) break;
  }
  // The suite must exercise what it claims to.
  EXPECT_GT(cov.overflows, 0u) << "no accumulator overflow happened";
  EXPECT_GT(cov.saturations, 0u);
  EXPECT_GT(cov.fast_channels, 0);
  EXPECT_GT(cov.generic_channels, 0);
  EXPECT_GT(cov.kernels[ExactKernel::int8_chunked] + cov.kernels[ExactKernel::int16_chunked] +
                cov.kernels[ExactKernel::float64_chunked],
            0);
  // With VNNI, the archs of 8-bit fixed point operands take both int8
  // kernels, with uint8 activations (offset 0) and int8 ones (offset 128).
  const bool int8_arch = arch == "dynfixed8" || arch == "dynfixed4";
  if (int8_arch && kernels::cpu_supports(CpuIsa::avx512_vnni)) {
    EXPECT_GT(cov.kernels[ExactKernel::int8], 0);
    EXPECT_GT(cov.kernels[ExactKernel::int8_chunked], 0);
    EXPECT_GT(cov.int8_offsets[0], 0);
    EXPECT_GT(cov.int8_offsets[128], 0);
  }
  std::printf(
      "[%s] kernels: int8 %d, int16 %d, float64 %d, int8_chunked %d, int16_chunked %d, "
      "float64_chunked %d, generic %d; int8 offsets 0: %d, 128: %d; channels fast %d "
      "chunked %d generic %d; acc overflows %llu, out saturations %llu\n",
      arch.c_str(), cov.kernels[ExactKernel::int8], cov.kernels[ExactKernel::int16],
      cov.kernels[ExactKernel::float64], cov.kernels[ExactKernel::int8_chunked],
      cov.kernels[ExactKernel::int16_chunked], cov.kernels[ExactKernel::float64_chunked],
      cov.kernels[ExactKernel::generic], cov.int8_offsets[0], cov.int8_offsets[128],
      cov.fast_channels, cov.chunked_channels, cov.generic_channels,
      static_cast<unsigned long long>(cov.overflows),
      static_cast<unsigned long long>(cov.saturations));
}

INSTANTIATE_TEST_SUITE_P(ExactCpu, ShippedArch, ::testing::ValuesIn(kShippedArchs),
                         [](const auto& info) { return std::string(info.param); });

TEST(ExactCpu, shipped_archs_take_the_fast_path) {
  // The shipped archs with their own accumulators on lenet-like data must not
  // fall back to the generic path.
  for (const char* arch : kShippedArchs) {
    std::mt19937_64 rng(7);
    ExactCase c;
    c.spec = shipped_arch(arch, rng);
    c.shape = finish_shape(ConvShape{4, 20, 12, 12, 50, 5, 5, 1, 1, 0, 0, 1, 1, 1, 0, 0});
    c.in = random_codes(c.spec.act.format, 4 * 20 * 12 * 12, rng, 0.0, 6);
    c.w = random_codes(c.spec.wt.format, 50 * 20 * 25, rng, 0.0, 5);
    c.bias = random_codes(c.spec.bias.format, 50, rng, 0.0, 10);
    c.what = arch;
    SCOPED_TRACE(arch);
    ExactCpuReport rep;
    EXPECT_EQ(compare(c, reference_fn(), cpu_fn(ExactCpuOptions{}, &rep)), "");
    EXPECT_NE(rep.kernel, ExactKernel::generic);
    EXPECT_EQ(rep.generic_channels, 0);
    std::printf("[%s] kernel %s isa %s\n", arch, kernels::to_string(rep.kernel),
                kernels::to_string(rep.isa));
  }
}

TEST(ExactCpu, many_random_layers) {
  // More seeds, random arch and variant each.
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    const char* arch = kShippedArchs[seed % 6];
    check_case(random_case(arch, 77000 + seed, static_cast<int>((seed * 13) % kVariants)), nullptr,
               seed % 10 == 0);
    if (HasFailure()) break;
  }
}

TEST(ExactCpu, inf_and_nan_codes) {
  Coverage cov;
  for (int v = 0; v < 48; ++v) {
    check_case(random_case("e4m3", 5550 + v, v, 0.02), &cov, v % 8 == 0);
    if (HasFailure()) break;
  }
  EXPECT_GT(cov.nans, 0u);
}

TEST(ExactCpu, thread_counts_and_isas_agree) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    const ExactCase c = random_case(kShippedArchs[seed % 6], 999 + seed, static_cast<int>(seed));
    SCOPED_TRACE(c.what);
    for (int threads : {1, 3, 8}) {
      for (CpuIsa isa : supported_isas()) {
        ExactCpuOptions opt;
        opt.threads = threads;
        opt.isa = isa;
        EXPECT_EQ(compare(c, reference_fn(), cpu_fn(opt)), "") << threads << " threads";
      }
    }
  }
}

TEST(ExactCpu, forced_generic_path) {
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    ExactCpuOptions opt;
    opt.force_generic = true;
    const ExactCase c =
        random_case(kShippedArchs[seed % 6], 4242 + seed, static_cast<int>(seed * 5));
    SCOPED_TRACE(c.what);
    EXPECT_EQ(compare(c, reference_fn(), cpu_fn(opt)), "");
  }
}

TEST(ExactCpu, wide_formats) {
  // Codes wider than 16 bits (no tables), 32-bit fixed point (float64 or
  // generic), a 64-bit accumulator, minifloats with wide exponents, pow2 with
  // a zero code, Ristretto's minifloat.
  struct Wide {
    Format a, w;
    int acc_bits;
  };
  const Wide wides[] = {
      {Format::fixed_point(24, 10), Format::fixed_point(12, 11), 64},
      {Format::fixed_point(32, 16), Format::fixed_point(16, 15), 64},
      {Format::fixed_point(20, 4), Format::fixed_point(20, 18), 48},
      {Format::e5m2(), Format::e5m2(), 64},
      {Format::minifloat(5, 10, numeric::Specials::ieee, true), Format::fixed_point(8, 7), 64},
      {Format::fixed_point(8, 3), Format::pow2(6, 2, true), 32},
      {Format::minifloat(3, 2, numeric::Specials::ristretto, false), Format::fixed_point(8, 6), 24},
      {Format::fixed_point(16, 8), Format::fixed_point(16, 15), 40},
  };
  int i = 0;
  for (const Wide& wd : wides) {
    for (int v = 0; v < 12; ++v, ++i) {
      std::mt19937_64 rng(31337 + i);
      ExactCase c;
      c.spec = shipped_arch("fixed16", rng);
      c.spec.act.format = wd.a;
      c.spec.wt.format = wd.w;
      c.spec.acc.bits = wd.acc_bits - (v % 3) * 8;
      c.spec.acc.overflow = v % 2 ? Overflow::wrap : Overflow::saturate;
      c.spec.out.rounding = numeric::kAllRoundings[v % 6];
      c.spec.out.seed = 99;
      if (v >= 8) {
        c.spec.acc.frac_bits_auto = false;
        c.spec.acc.frac_bits = kernels::product_frac_bits(c.spec) + (v % 2 ? 5 : -5);
      }
      c.shape = random_shape(rng, 60);
      const ConvShape& s = c.shape;
      c.in = random_codes(wd.a, static_cast<size_t>(s.n) * s.c * s.h * s.w, rng, 0.0,
                          v % 4 == 0 ? 6 : 32);
      c.w = random_codes(wd.w, static_cast<size_t>(s.k) * (s.c / s.groups) * s.kh * s.kw, rng);
      c.bias = random_codes(c.spec.bias.format, s.k, rng);
      c.what = "wide case " + std::to_string(i) + ": " + describe(s) + "; " + describe(c.spec);
      check_case(c, nullptr, v % 4 == 0);
      if (HasFailure()) return;
    }
  }
}

TEST(ExactCpu, rejects_invalid_specs) {
  std::mt19937_64 rng(1);
  ExactLayerSpec sp = shipped_arch("dynfixed8", rng);
  const ConvShape s = inner_product(1, 4, 2);
  std::vector<uint32_t> in(4), w(8), b(2), out(2);
  sp.acc.align_rounding = Rounding::stochastic;
  EXPECT_THROW(kernels::exact_conv_cpu(s, sp, in.data(), w.data(), b.data(), out.data(), nullptr),
               std::invalid_argument);
  EXPECT_THROW(
      kernels::exact_conv_reference(s, sp, in.data(), w.data(), b.data(), out.data(), nullptr),
      std::invalid_argument);
  sp.acc.align_rounding = Rounding::down;
  sp.lanes = 0;
  EXPECT_THROW(kernels::exact_conv_cpu(s, sp, in.data(), w.data(), b.data(), out.data(), nullptr),
               std::invalid_argument);
  sp.lanes = 16;
  ConvShape bad = s;
  bad.oh = 2;
  EXPECT_THROW(kernels::exact_conv_cpu(bad, sp, in.data(), w.data(), b.data(), out.data(), nullptr),
               std::invalid_argument);
}

}  // namespace
}  // namespace ristsim::testing

namespace ristsim::testing {
namespace {

/// Every pair of codes of small formats as one inner product layer (image i
/// holds activation code i, output j has weight code j), under several
/// alignments, output roundings and accumulators: CPU == reference.
TEST(ExactCpu, exhaustive_code_pairs) {
  struct Pair {
    const char* name;
    Format a, w;
  };
  const Pair pairs[] = {
      {"fixed<4,1> x fixed<4,3>", Format::fixed_point(4, 1), Format::fixed_point(4, 3)},
      {"fixed<8,0> x fixed<8,7>", Format::fixed_point(8, 0), Format::fixed_point(8, 7)},
      {"fixed<8,3> x pow2<4,-1>", Format::fixed_point(8, 3), Format::pow2(4, -1, false)},
      {"e4m3 x e4m3", Format::e4m3(), Format::e4m3()},
      {"minifloat8 x fixed<8,6>", Format::minifloat(4, 3, numeric::Specials::none, false),
       Format::fixed_point(8, 6)},
      {"ristretto e3m2 x pow2<5,0,zero>", Format::minifloat(3, 2, numeric::Specials::ristretto),
       Format::pow2(5, 0, true)},
  };
  int n = 0;
  for (const Pair& p : pairs) {
    const uint32_t na = 1u << p.a.code_bits(), nw = 1u << p.w.code_bits();
    for (int v = 0; v < 8; ++v, ++n) {
      std::mt19937_64 rng(600 + n);
      ExactCase c;
      c.spec = shipped_arch("dynfixed8", rng);
      c.spec.act.format = p.a;
      c.spec.wt.format = p.w;
      c.spec.out.format = Format::fixed_point(8, 2);
      c.spec.out.rounding = numeric::kAllRoundings[v % 6];
      c.spec.acc.bits = v % 4 == 3 ? 12 : 48;
      c.spec.acc.overflow = v % 2 ? Overflow::wrap : Overflow::saturate;
      if (v >= 4) {
        c.spec.acc.frac_bits_auto = false;
        c.spec.acc.frac_bits = kernels::product_frac_bits(c.spec) - 3 + (v % 3) * 3;
      }
      c.shape = inner_product(static_cast<int>(na), 1, static_cast<int>(nw));
      c.in.resize(na);
      c.w.resize(nw);
      for (uint32_t i = 0; i < na; ++i) c.in[i] = i;
      for (uint32_t i = 0; i < nw; ++i) c.w[i] = i;
      c.bias = random_codes(c.spec.bias.format, nw, rng);
      c.what = std::string(p.name) + " variant " + std::to_string(v) + ": " + describe(c.spec);
      Coverage cov;
      check_case(c, &cov, v % 4 == 0);
      if (HasFailure()) return;
      // Every int8 x int8 pair through vpdpbusd, the offset included (variants
      // 0 to 2 have a 48-bit accumulator: no overflow, the int8 kernel).
      if (p.a.bits == 8 && p.a.kind == numeric::FormatKind::fixed &&
          p.w.kind == numeric::FormatKind::fixed && v < 3 &&
          kernels::cpu_supports(CpuIsa::avx512_vnni)) {
        EXPECT_EQ(cov.kernels[ExactKernel::int8], 1) << c.what;
        EXPECT_EQ(cov.int8_offsets[128], 1) << c.what;
      }
    }
  }
}

/// The int8 kernel's bound at its edge: D terms of (-128) x (-128) = 2^14
/// sum to 2^31 - 2^14 (int32 holds it: int8) or 2^31 (it does not: another
/// kernel); with the offset, the uint8 activations are all 0 and the start
/// value -128 * sum(w) = D * 2^14 wraps in int32 on the way.
TEST(ExactCpu, int8_bound_edges) {
  for (const int depth : {131071, 131072}) {
    for (const bool chunked : {false, true}) {
      std::mt19937_64 rng(5);
      ExactCase c;
      c.spec = shipped_arch("dynfixed8", rng);
      c.spec.act.format = Format::fixed_point(8, 0);
      c.spec.wt.format = Format::fixed_point(8, 7);
      c.spec.acc.bits = chunked ? 31 : 48;  // 31 bits: chunks overflow, a chunked kernel
      c.spec.acc.overflow = Overflow::saturate;
      c.spec.lanes = chunked ? 16 : 64;
      c.shape = inner_product(2, depth, 4);
      c.in.assign(2 * static_cast<size_t>(depth), 0x80);  // -128
      c.w.assign(4 * static_cast<size_t>(depth), 0x80);   // -1 (code -128)
      c.in[depth] = 0x7f;                                 // image 1: one +127
      c.bias = random_codes(c.spec.bias.format, 4, rng);
      c.what = "depth " + std::to_string(depth) + (chunked ? " chunked" : "");
      SCOPED_TRACE(c.what);
      ExactCpuReport rep;
      ExactCpuOptions opt;
      opt.threads = 2;
      EXPECT_EQ(compare(c, reference_fn(), cpu_fn(opt, &rep)), "");
      std::printf("[%s] kernel %s\n", c.what.c_str(), kernels::to_string(rep.kernel));
      if (!kernels::cpu_supports(CpuIsa::avx512_vnni)) continue;
      if (chunked)
        EXPECT_EQ(rep.kernel, ExactKernel::int8_chunked);
      else
        EXPECT_EQ(rep.kernel, depth < 131072 ? ExactKernel::int8 : ExactKernel::float64);
    }
  }
}

}  // namespace
}  // namespace ristsim::testing

namespace ristsim::testing {
namespace {

/// A layer large enough that the operand conversion and the weight packing
/// are split over threads too.
TEST(ExactCpu, large_layer_parallel_preparation) {
  for (const char* arch : {"dynfixed8", "e4m3"}) {
    std::mt19937_64 rng(4711);
    ExactCase c;
    c.spec = shipped_arch(arch, rng);
    c.shape = inner_product(64, 2048, 64);
    c.in = random_codes(c.spec.act.format, 64 * 2048, rng, 0.0, 5);
    c.w = random_codes(c.spec.wt.format, 64 * 2048, rng, 0.0, 5);
    c.bias = random_codes(c.spec.bias.format, 64, rng);
    c.what = std::string(arch) + " large inner product";
    SCOPED_TRACE(c.what);
    for (int threads : {3}) {
      ExactCpuOptions opt;
      opt.threads = threads;
      EXPECT_EQ(compare(c, reference_fn(), cpu_fn(opt)), "") << threads << " threads";
    }
  }
}

}  // namespace
}  // namespace ristsim::testing
