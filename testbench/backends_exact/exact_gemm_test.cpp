// The int8 GEMM of the exact datapath (kernels/cpu/exact_gemm.h) on its own:
// every instruction set this CPU has against a plain sum in int64 reduced
// modulo 2^32, including sums that wrap int32 on the way (the offset
// correction relies on that), both column paths (64 and 32 columns), and the
// interleaving into its layout. exact_cpu_test.cpp checks whole layers.
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/cpu/exact_gemm.h"

namespace ristsim::testing {
namespace {

using kernels::CpuIsa;

struct GemmCase {
  int kk, d4, pp;
  std::vector<uint8_t> x;     // [d4][pp][4]
  std::vector<int32_t> w;     // [kk][d4], 4 int8 each
  std::vector<int32_t> init;  // [kk]
};

GemmCase random_gemm(uint64_t seed, int kk, int d4, int pp, bool extreme) {
  std::mt19937_64 rng(seed);
  GemmCase g{kk, d4, pp, {}, {}, {}};
  g.x.resize(static_cast<size_t>(d4) * pp * 4);
  g.w.resize(static_cast<size_t>(kk) * d4);
  g.init.resize(kk);
  for (uint8_t& v : g.x) v = extreme ? 255 : static_cast<uint8_t>(rng());
  for (int32_t& v : g.w)
    v = extreme ? static_cast<int32_t>(0x80808080u) : static_cast<int32_t>(rng());
  for (int k = 0; k < kk; ++k) g.init[k] = extreme ? -k : static_cast<int32_t>(rng());
  return g;
}

/// init[k] + sum_d x[d][p] * w[k][d] in int64, then its low 32 bits.
std::vector<int32_t> plain_sums(const GemmCase& g) {
  std::vector<int32_t> out(static_cast<size_t>(g.kk) * g.pp);
  for (int k = 0; k < g.kk; ++k)
    for (int p = 0; p < g.pp; ++p) {
      int64_t s = g.init[k];
      for (int j = 0; j < g.d4; ++j)
        for (int e = 0; e < 4; ++e) {
          const int8_t wv =
              static_cast<int8_t>(static_cast<uint32_t>(g.w[k * g.d4 + j]) >> (8 * e));
          s += int64_t{g.x[(static_cast<size_t>(j) * g.pp + p) * 4 + e]} * wv;
        }
      out[static_cast<size_t>(k) * g.pp + p] = static_cast<int32_t>(static_cast<uint32_t>(s));
    }
  return out;
}

void expect_all_isas_agree(const GemmCase& g) {
  const std::vector<int32_t> expected = plain_sums(g);
  for (CpuIsa isa : {CpuIsa::portable, CpuIsa::avx512_vnni}) {
    if (!kernels::cpu_supports(isa)) continue;
    std::vector<int32_t> out(expected.size(), 0x5a5a5a5a);
    kernels::cpu_detail::gemm_u8i8(isa, g.x.data(), g.w.data(), g.d4, g.init.data(), out.data(),
                                   g.kk, g.d4, g.pp);
    for (size_t i = 0; i < out.size(); ++i)
      ASSERT_EQ(out[i], expected[i]) << kernels::to_string(isa) << " element " << i << ", kk "
                                     << g.kk << " d4 " << g.d4 << " pp " << g.pp;
  }
}

TEST(ExactGemm, u8i8_equals_plain_sums) {
  uint64_t seed = 1;
  for (int pp : {32, 64, 96, 160})
    for (int d4 : {1, 3, 17}) expect_all_isas_agree(random_gemm(seed++, 8, d4, pp, false));
}

TEST(ExactGemm, u8i8_wraps_modulo_2_to_32) {
  // 255 x -128 over 4 * 20000 terms: -2,611,200,000, beyond int32.
  const GemmCase g = random_gemm(7, 4, 20000, 32, true);
  ASSERT_LT(int64_t{-255} * 128 * 4 * 20000, int64_t{INT32_MIN});  // the true sums leave int32
  expect_all_isas_agree(g);
}

TEST(ExactGemm, interleave_quads) {
  const int d4 = 3, pp = 48;
  std::vector<uint8_t> rows(static_cast<size_t>(d4) * 4 * pp), x(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<uint8_t>(i * 7 + 3);
  kernels::cpu_detail::interleave_quads(rows.data(), d4, pp, x.data());
  for (int d = 0; d < 4 * d4; ++d)
    for (int p = 0; p < pp; ++p)
      ASSERT_EQ(x[(static_cast<size_t>(d / 4) * pp + p) * 4 + d % 4],
                rows[static_cast<size_t>(d) * pp + p])
          << "term " << d << " column " << p;
}

}  // namespace
}  // namespace ristsim::testing
