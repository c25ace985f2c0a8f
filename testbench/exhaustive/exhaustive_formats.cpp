// Exhaustive comparison of the numeric core with the oracle (oracle.h) over the
// formats of up to 16 bits, every rounding and every valid overflow mode.
//
// Coverage (runtime on one core, Release, is printed by each test):
//   fixed point   B = 1..16 with FL in {-3, 0, 1, B-1, B, B+5} (B <= 10) and
//                 {-2, B/2, B+3} (B = 11..16), and FL = +-512; every code up to
//                 kFullPoints grid points, sampled above (see harness.h).
//   minifloat     every (E, M) with 1 + E + M <= 16, for specials none / ieee /
//                 fn with subnormals off and on, and ristretto; every code up to
//                 kFullPoints grid points, sampled above; extra biases (-256..512).
//   power of two  B = 2..8 (and 10), zero code off/on, value/log rounding,
//                 several exp_max (-500..500); every code.
// Full 16-bit: fixed<16,8> and E8M7 ieee (bfloat16) with every code, unsampled.
// Codes: every code of each format up to 12 bits and of one 16-bit minifloat per
// exponent width and specials mode. Monotonicity: formats up to 10-12 bits.
#include <chrono>

#include "harness.h"

namespace ristsim::testing {
namespace {

// Formats with more grid points than this are sampled (8-bit exponent fields of
// 16-bit minifloats have 65536 codes; all of them times ~10 inputs times ~16
// quantizers would take minutes on the 2-core CI machine).
constexpr size_t kFullPoints = 2048;
constexpr size_t kSampledPoints = 1536;

struct Timer {
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
};

std::vector<Format> fixed_formats() {
  std::vector<Format> v;
  for (int b = 1; b <= 16; ++b) {
    std::vector<int> fls =
        b <= 10 ? std::vector<int>{-3, 0, 1, b - 1, b, b + 5} : std::vector<int>{-2, b / 2, b + 3};
    std::sort(fls.begin(), fls.end());
    fls.erase(std::unique(fls.begin(), fls.end()), fls.end());
    for (int fl : fls) v.push_back(Format::fixed_point(b, fl));
  }
  for (int fl : {-512, 512})
    v.push_back(Format::fixed_point(3, fl));  // the extremes validate() allows
  return v;
}

/// Unsigned fixed point: every width to 16 bits; FL below, inside and beyond the width up to
/// 8 bits (the wider ones are sampled grids: one FL each keeps the test short).
std::vector<Format> unsigned_fixed_formats() {
  std::vector<Format> v;
  for (int b = 1; b <= 16; ++b)
    for (int fl : b <= 8 ? std::vector<int>{-2, b / 2, b + 3} : std::vector<int>{b / 2})
      v.push_back(Format::unsigned_fixed_point(b, fl));
  for (int fl : {-512, 512}) v.push_back(Format::unsigned_fixed_point(3, fl));
  return v;
}

std::vector<Format> minifloat_formats(Specials sp, bool subnormals) {
  std::vector<Format> v;
  for (int e = 2; e <= 8; ++e)
    for (int m = 0; 1 + e + m <= 16; ++m) {
      if (sp == Specials::ieee && m < 1) continue;  // NaN needs a mantissa bit
      v.push_back(Format::minifloat(e, m, sp, subnormals));
    }
  return v;
}

std::vector<Format> pow2_formats() {
  std::vector<Format> v;
  for (int b : {2, 3, 4, 5, 6, 7, 8, 10})
    for (int exp_max : {-1, 0, 3, -20})
      for (bool zero : {false, true})
        for (Pow2Rounding r : {Pow2Rounding::value, Pow2Rounding::log})
          v.push_back(Format::pow2(b, exp_max, zero, r));
  for (int exp_max : {-500, 500})  // the extremes validate() allows
    for (bool zero : {false, true}) v.push_back(Format::pow2(10, exp_max, zero, Pow2Rounding::log));
  return v;
}

void run_family(const char* name, const std::vector<Format>& formats) {
  Timer t;
  CheckStats total;
  uint64_t sampled = 0;
  for (const Format& f : formats) {
    const CheckStats s = check_format(f, kFullPoints, 20261123);
    if (Oracle(f).grid().size() > kFullPoints) ++sampled;
    total.comparisons += s.comparisons;
    total.mismatches += s.mismatches;
  }
  EXPECT_EQ(total.mismatches, 0u);
  std::printf("[ %s ] %zu formats (%" PRIu64 " sampled to ~%zu grid points), %" PRIu64
              " comparisons with the oracle, %.2f s\n",
              name, formats.size(), sampled, kSampledPoints, total.comparisons, t.seconds());
}

TEST(ExhaustiveFixed, every_rounding_and_overflow) {
  run_family("fixed", fixed_formats());
}

// Two 16-bit formats with every one of their 65536 codes (no sampling).
TEST(ExhaustiveFixed, unsigned_every_rounding_and_overflow) {
  run_family("unsigned fixed", unsigned_fixed_formats());
}

// The oracle tells unsigned from two's complement: the core's bits for fixed<4,2> (a planted
// bug: the sign ignored) disagree with the oracle of unsigned fixed<4,2> on negative inputs
// (they saturate to 0) and above 1.75 (unsigned reaches 3.75).
TEST(ExhaustiveFixed, unsigned_oracle_catches_a_signed_core_bad) {
  const Oracle o(Format::unsigned_fixed_point(4, 2));
  Quantizer want_q, bug_q;
  want_q.format = Format::unsigned_fixed_point(4, 2);
  bug_q.format = Format::fixed_point(4, 2);
  uint64_t mismatches = 0, compared = 0;
  for (double x = -4; x <= 4; x += 0.125, ++compared) {
    const oracle::Result want = o.quantize(want_q, x);
    mismatches += quantize(bug_q, x).code != want.code ? 1 : 0;
    EXPECT_EQ(quantize(want_q, x).code, want.code) << x;  // the real core agrees
  }
  EXPECT_GT(mismatches, compared / 4);
}

TEST(ExhaustiveFull16, fixed16_8_and_bfloat16) {
  Timer t;
  CheckStats total;
  for (const Format& f :
       {Format::fixed_point(16, 8), Format::minifloat(8, 7, Specials::ieee, true)}) {
    const CheckStats s = check_format(f);
    total.comparisons += s.comparisons;
    total.mismatches += s.mismatches;
  }
  EXPECT_EQ(total.mismatches, 0u);
  std::printf("[ full 16-bit ] fixed<16,8>, E8M7 ieee: %" PRIu64 " comparisons, %.2f s\n",
              total.comparisons, t.seconds());
}

TEST(ExhaustiveMinifloat, specials_none_subnormals_off) {
  run_family("minifloat none", minifloat_formats(Specials::none, false));
}
TEST(ExhaustiveMinifloat, specials_none_subnormals_on) {
  run_family("minifloat none+sub", minifloat_formats(Specials::none, true));
}
TEST(ExhaustiveMinifloat, specials_ieee_subnormals_off) {
  run_family("minifloat ieee", minifloat_formats(Specials::ieee, false));
}
TEST(ExhaustiveMinifloat, specials_ieee_subnormals_on) {
  run_family("minifloat ieee+sub", minifloat_formats(Specials::ieee, true));
}
TEST(ExhaustiveMinifloat, specials_fn_subnormals_off) {
  run_family("minifloat fn", minifloat_formats(Specials::fn, false));
}
TEST(ExhaustiveMinifloat, specials_fn_subnormals_on) {
  run_family("minifloat fn+sub", minifloat_formats(Specials::fn, true));
}
TEST(ExhaustiveMinifloat, ristretto_variant) {
  run_family("minifloat ristretto", minifloat_formats(Specials::ristretto, false));
}

TEST(ExhaustiveMinifloat, other_biases) {
  std::vector<Format> v;
  for (Specials sp : {Specials::none, Specials::ieee, Specials::fn, Specials::ristretto})
    for (bool sub : {false, true}) {
      if (sp == Specials::ristretto && sub) continue;
      for (auto [e, m] : {std::pair{2, 1}, {3, 2}, {4, 3}, {5, 2}, {4, 0}, {8, 3}})
        for (int bias : {0, 1, -3, 7, 20, 127, -100})
          if (!(sp == Specials::ieee && m == 0))  // NaN needs a mantissa bit
            v.push_back(Format::minifloat(e, m, sp, sub, bias));
      for (int bias : {-256, 512})  // the extremes validate() allows
        v.push_back(Format::minifloat(8, 3, sp, sub, bias));
    }
  run_family("minifloat biases", v);
}

TEST(ExhaustivePow2, value_and_log_rounding) {
  run_family("pow2", pow2_formats());
}

TEST(ExhaustiveWideInputs, sixty_four_bit_magnitudes) {
  Timer t;
  std::vector<Format> fs;
  for (int b : {1, 2, 5, 8, 12})
    fs.push_back(Format::fixed_point(b, b / 2)), fs.push_back(Format::fixed_point(b, -3)),
        fs.push_back(Format::unsigned_fixed_point(b, b / 2));
  for (Specials sp : {Specials::none, Specials::ieee, Specials::fn, Specials::ristretto})
    for (bool sub : {false, true}) {
      if (sp == Specials::ristretto && sub) continue;
      for (auto [e, m] : {std::pair{2, 1}, {4, 3}, {5, 2}, {3, 0}, {5, 5}})
        if (!(sp == Specials::ieee && m == 0)) fs.push_back(Format::minifloat(e, m, sp, sub));
    }
  for (bool z : {false, true})
    for (Pow2Rounding r : {Pow2Rounding::value, Pow2Rounding::log})
      fs.push_back(Format::pow2(4, -1, z, r)), fs.push_back(Format::pow2(6, 3, z, r));
  CheckStats total;
  for (const Format& f : fs) {
    const CheckStats s = check_wide_inputs(f, 3, 77);
    total.comparisons += s.comparisons;
    total.mismatches += s.mismatches;
  }
  EXPECT_EQ(total.mismatches, 0u);
  std::printf("[ wide inputs ] %zu formats, %" PRIu64 " comparisons (seed 77), %.2f s\n", fs.size(),
              total.comparisons, t.seconds());
}

TEST(ExhaustiveCodes, decode_and_idempotence) {
  Timer t;
  std::vector<Format> all = fixed_formats();
  for (const Format& f : unsigned_fixed_formats()) all.push_back(f);
  for (Specials sp : {Specials::none, Specials::ieee, Specials::fn})
    for (bool sub : {false, true})
      for (const Format& f : minifloat_formats(sp, sub))
        if (f.bits <= 12) all.push_back(f);
  for (const Format& f : minifloat_formats(Specials::ristretto, false))
    if (f.bits <= 12) all.push_back(f);
  // 16-bit ones: one per exponent width and specials mode.
  for (int e = 2; e <= 8; ++e)
    for (Specials sp : {Specials::none, Specials::ieee, Specials::fn})
      all.push_back(Format::minifloat(e, 15 - e, sp, e % 2 == 0));
  all.push_back(Format::minifloat(8, 7, Specials::ristretto, false));
  for (const Format& f : pow2_formats()) all.push_back(f);
  uint64_t checks = 0;
  for (const Format& f : all) checks += check_codes(f);
  std::printf("[ codes ] %zu formats, %" PRIu64 " code checks, %.2f s\n", all.size(), checks,
              t.seconds());
}

TEST(ExhaustiveMonotonic, non_stochastic_modes) {
  Timer t;
  std::vector<Format> all;
  for (const Format& f : fixed_formats())
    if (f.bits <= 12) all.push_back(f);
  for (const Format& f : unsigned_fixed_formats())
    if (f.bits <= 12) all.push_back(f);
  for (Specials sp : {Specials::none, Specials::ieee, Specials::fn, Specials::ristretto})
    for (bool sub : {false, true}) {
      if (sp == Specials::ristretto && sub) continue;
      for (const Format& f : minifloat_formats(sp, sub))
        if (f.bits <= 10) all.push_back(f);
    }
  for (const Format& f : pow2_formats()) all.push_back(f);
  uint64_t checks = 0;
  for (const Format& f : all) checks += check_monotonic(f, kFullPoints);
  std::printf("[ monotonic ] %zu formats, %" PRIu64 " steps, %.2f s\n", all.size(), checks,
              t.seconds());
}

}  // namespace
}  // namespace ristsim::testing
