// The numeric core against references nobody here wrote:
//   * IEEE 754 binary16 = minifloat E5 M10, ieee specials, subnormals on,
//     overflow `special`:
//       - the CPU's F16C instruction VCVTPS2PH (float -> half) with its four
//         rounding immediates (nearest even, down, up, toward zero), and
//         VCVTPH2PS (half -> float) for decoding;
//       - the compiler's _Float16 conversion from double (round to nearest even).
//     Inputs: every half code, every midpoint, and their float/double neighbours,
//     plus a few million random floats and doubles from a fixed, printed seed.
//   * The OCP 8-bit floating point specification (OFP8, rev. 1.0, 2023), whose
//     table of E4M3 / E5M2 facts is hard-coded below.
// This file is compiled with -mf16c; the F16C tests skip on a CPU without it.
#include <immintrin.h>

#include <chrono>

#include "harness.h"

namespace ristsim::testing {
namespace {

constexpr uint64_t kRandomSeed = 0x5EED0F16;  // printed by the tests that use it

Quantizer half_quantizer(Rounding r) {
  Quantizer q;
  q.format = Format::minifloat(5, 10, Specials::ieee, true);
  q.rounding = r;
  q.overflow = Overflow::special;
  return q;
}

bool cpu_has_f16c() {
  return __builtin_cpu_supports("f16c");
}

// VCVTPS2PH with an immediate rounding control (bit 2 clear: use the immediate).
template <int kImm>
uint16_t f16c_from_float(float x) {
  return static_cast<uint16_t>(_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(x), kImm), 0));
}
float f16c_to_float(uint16_t h) {
  return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

uint16_t compiler_half_from_double(double x) {
  const _Float16 h = static_cast<_Float16>(x);
  uint16_t b;
  std::memcpy(&b, &h, sizeof b);
  return b;
}

bool is_half_nan(uint64_t h) {
  return (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0;
}

/// Every half code's value, the midpoints, and the float neighbours of both.
std::vector<float> half_grid_floats() {
  std::vector<float> xs;
  std::vector<float> pos;
  for (uint32_t h = 0; h < 0x7C00; ++h) pos.push_back(f16c_to_float(static_cast<uint16_t>(h)));
  pos.push_back(65536.0f);  // the next grid point beyond 65504 (the unbounded grid)
  for (size_t i = 0; i < pos.size(); ++i) {
    for (float s : {1.0f, -1.0f}) {
      const float v = s * pos[i];
      xs.push_back(v);
      xs.push_back(std::nextafter(v, -HUGE_VALF));
      xs.push_back(std::nextafter(v, HUGE_VALF));
      if (i + 1 < pos.size()) {
        const float mid = s * (pos[i] + (pos[i + 1] - pos[i]) / 2);  // exact in float
        xs.push_back(mid);
        xs.push_back(std::nextafter(mid, -HUGE_VALF));
        xs.push_back(std::nextafter(mid, HUGE_VALF));
      }
    }
  }
  for (float x : {HUGE_VALF, -HUGE_VALF, NAN, -NAN, 1e30f, -1e30f, 1e-30f, -1e-30f})
    xs.push_back(x);
  return xs;
}

TEST(ReferenceBinary16, decode_matches_f16c_for_every_code) {
  if (!cpu_has_f16c()) GTEST_SKIP() << "this CPU has no F16C";
  const Format f = Format::minifloat(5, 10, Specials::ieee, true);
  for (uint32_t h = 0; h < 65536; ++h) {
    const double want = f16c_to_float(static_cast<uint16_t>(h));
    const double got = decode(f, h);
    ASSERT_TRUE(same_value(got, want))
        << "code 0x" << std::hex << h << std::dec << ": " << got << " vs F16C " << want;
  }
}

template <int kImm>
uint64_t compare_with_f16c(Rounding r, const std::vector<float>& xs, const char* what) {
  const Quantizer q = half_quantizer(r);
  uint64_t bad = 0;
  for (float x : xs) {
    const uint16_t want = f16c_from_float<kImm>(x);
    const Quantized got = quantize(q, static_cast<double>(x));
    // F16C keeps a NaN's sign and payload; the core gives its one canonical NaN.
    const bool ok =
        std::isnan(x) ? (is_half_nan(got.code) && got.nan && got.code == 0x7E00) : got.code == want;
    if (!ok && ++bad <= 10)
      ADD_FAILURE() << to_string(r) << " " << what << " x=" << std::hexfloat << x
                    << std::defaultfloat << " (" << x << "): core 0x" << std::hex << got.code
                    << " F16C 0x" << want << std::dec << " (random seed 0x" << std::hex
                    << kRandomSeed << ")";
  }
  return bad;
}

std::vector<float> random_floats(size_t n) {
  std::mt19937_64 rng(kRandomSeed);
  std::vector<float> xs;
  xs.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    uint32_t b;
    if (i % 2 == 0) {
      b = static_cast<uint32_t>(rng());  // any float bit pattern
    } else {
      // concentrated on the binary16 range: exponents 2^-26 .. 2^17
      const uint32_t e = 127 - 26 + static_cast<uint32_t>(rng() % 44);
      b = (static_cast<uint32_t>(rng()) & 0x807FFFFF) | (e << 23);
    }
    float x;
    std::memcpy(&x, &b, sizeof x);
    xs.push_back(x);
  }
  return xs;
}

TEST(ReferenceBinary16, quantize_matches_f16c_all_four_roundings) {
  if (!cpu_has_f16c()) GTEST_SKIP() << "this CPU has no F16C";
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<float> grid = half_grid_floats();
  const std::vector<float> rnd = random_floats(size_t{1} << 22);
  uint64_t bad = 0;
  bad += compare_with_f16c<_MM_FROUND_TO_NEAREST_INT>(Rounding::nearest_even, grid, "grid");
  bad += compare_with_f16c<_MM_FROUND_TO_NEG_INF>(Rounding::down, grid, "grid");
  bad += compare_with_f16c<_MM_FROUND_TO_POS_INF>(Rounding::up, grid, "grid");
  bad += compare_with_f16c<_MM_FROUND_TO_ZERO>(Rounding::toward_zero, grid, "grid");
  bad += compare_with_f16c<_MM_FROUND_TO_NEAREST_INT>(Rounding::nearest_even, rnd, "random");
  bad += compare_with_f16c<_MM_FROUND_TO_NEG_INF>(Rounding::down, rnd, "random");
  bad += compare_with_f16c<_MM_FROUND_TO_POS_INF>(Rounding::up, rnd, "random");
  bad += compare_with_f16c<_MM_FROUND_TO_ZERO>(Rounding::toward_zero, rnd, "random");
  EXPECT_EQ(bad, 0u);
  std::printf("[ F16C ] %zu grid + %zu random floats (seed 0x%" PRIx64 ") x 4 roundings, %.2f s\n",
              grid.size(), rnd.size(), kRandomSeed,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

TEST(ReferenceBinary16, quantize_matches_compiler_float16_from_double) {
  const auto t0 = std::chrono::steady_clock::now();
  const Quantizer q = half_quantizer(Rounding::nearest_even);
  // Double inputs: every half value and midpoint with its double neighbours.
  const Format f = q.format;
  std::vector<double> xs;
  std::vector<double> pos;
  for (uint64_t h = 0; h < 0x7C00; ++h) pos.push_back(decode(f, h));
  pos.push_back(65536.0);
  for (size_t i = 0; i < pos.size(); ++i)
    for (double s : {1.0, -1.0}) {
      add_with_neighbours(&xs, s * pos[i]);
      if (i + 1 < pos.size()) add_with_neighbours(&xs, s * (pos[i] + pos[i + 1]) / 2);
    }
  std::mt19937_64 rng(kRandomSeed);
  for (int i = 0; i < (1 << 21); ++i) {
    uint64_t b = rng();
    if (i % 2) b = (b & 0x800FFFFFFFFFFFFFull) | ((1023 - 26 + rng() % 44) << 52);
    double x;
    std::memcpy(&x, &b, sizeof x);
    xs.push_back(x);
  }
  uint64_t bad = 0;
  for (double x : xs) {
    const uint16_t want = compiler_half_from_double(x);
    const Quantized got = quantize(q, x);
    const bool ok = std::isnan(x) ? is_half_nan(got.code) : got.code == want;
    if (!ok && ++bad <= 10)
      ADD_FAILURE() << "x=" << std::hexfloat << x << std::defaultfloat << ": core 0x" << std::hex
                    << got.code << " _Float16 0x" << want << std::dec << " (random seed 0x"
                    << std::hex << kRandomSeed << ")";
  }
  EXPECT_EQ(bad, 0u);
  std::printf("[ _Float16 ] %zu doubles (random seed 0x%" PRIx64 "), %.2f s\n", xs.size(),
              kRandomSeed,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

// ---------------------------------------------------------------------------
// OCP 8-bit Floating Point Specification (OFP8), Revision 1.0, 2023, section 4.1
// (table "OFP8 exponent parameters" and "OFP8 value encoding details"):
//                      E4M3              E5M2
//   exponent bias      7                 15
//   infinities         N/A               S.11111.00
//   NaN                S.1111.111        S.11111.{01, 10, 11}
//   zeros              S.0000.000        S.00000.00
//   max normal         S.1111.110 = 448  S.11110.11 = 57344
//   min normal         S.0001.000 = 2^-6 S.00001.00 = 2^-14
//   max subnormal      S.0000.111 = 0.875 * 2^-6   S.00000.11 = 0.75 * 2^-14
//   min subnormal      S.0000.001 = 2^-9 S.00000.01 = 2^-16
// Conversion (section 5): round to nearest even; saturating mode clamps
// overflows to the max normal; non-saturating mode sends them to NaN (E4M3) or
// infinity (E5M2).

TEST(ReferenceOcpFp8, e4m3_table) {
  const Format f = Format::e4m3();
  EXPECT_EQ(f.bias, 7);
  EXPECT_EQ(max_code(f), 0x7Eu);
  EXPECT_EQ(decode(f, 0x7E), 448.0);
  EXPECT_EQ(decode(f, 0xFE), -448.0);
  EXPECT_EQ(max_value(f), 448.0);
  EXPECT_EQ(min_value(f), -448.0);
  EXPECT_EQ(decode(f, 0x08), std::ldexp(1.0, -6));
  EXPECT_EQ(decode(f, 0x07), 0.875 * std::ldexp(1.0, -6));
  EXPECT_EQ(decode(f, 0x01), std::ldexp(1.0, -9));
  EXPECT_EQ(smallest_positive(f), std::ldexp(1.0, -9));
  EXPECT_EQ(bits_of(decode(f, 0x00)), bits_of(0.0));
  EXPECT_EQ(bits_of(decode(f, 0x80)), bits_of(-0.0));
  EXPECT_FALSE(f.has_inf());
  for (uint64_t c = 0; c < 256; ++c) {
    const bool nan = (c & 0x7F) == 0x7F;  // only S.1111.111
    EXPECT_EQ(std::isnan(decode(f, c)), nan) << std::hex << c;
    EXPECT_FALSE(std::isinf(decode(f, c))) << std::hex << c;
    if (!nan) {  // the OFP8 value formula
      const int e = static_cast<int>((c >> 3) & 15), m = static_cast<int>(c & 7);
      const double mag = e ? std::ldexp(1.0 + m / 8.0, e - 7) : std::ldexp(m / 8.0, -6);
      EXPECT_EQ(bits_of(decode(f, c)), bits_of((c & 0x80) ? -mag : mag)) << std::hex << c;
    }
  }
  Quantizer sat{f, Rounding::nearest_even, Overflow::saturate};
  Quantizer nonsat{f, Rounding::nearest_even, Overflow::special};
  EXPECT_EQ(quantize(sat, 464.0).code, 0x7Eu);  // tie between 448 (even) and 480: 448
  EXPECT_FALSE(quantize(sat, 464.0).saturated);
  EXPECT_EQ(quantize(nonsat, 464.0).code, 0x7Eu);
  EXPECT_EQ(quantize(sat, 464.5).code, 0x7Eu);
  EXPECT_TRUE(quantize(sat, 464.5).saturated);
  EXPECT_EQ(quantize(nonsat, 464.5).code, 0x7Fu);     // NaN
  EXPECT_EQ(quantize(nonsat, -464.5).code, 0xFFu);    // NaN, sign kept
  EXPECT_EQ(quantize(nonsat, HUGE_VAL).code, 0x7Fu);  // no infinity: NaN
  EXPECT_EQ(quantize(sat, HUGE_VAL).code, 0x7Eu);
  EXPECT_EQ(quantize(sat, NAN).code, 0x7Fu);
  EXPECT_TRUE(quantize(sat, NAN).nan);
  EXPECT_EQ(quantize(sat, std::ldexp(1.0, -10)).code, 0x00u);  // tie 0 / 2^-9: even is 0
  EXPECT_EQ(quantize(sat, std::ldexp(1.5, -10)).code, 0x01u);
  EXPECT_EQ(quantize(sat, std::ldexp(3.0, -10)).code, 0x02u);  // tie 2^-9 / 2^-8: even
}

TEST(ReferenceOcpFp8, e5m2_table) {
  const Format f = Format::e5m2();
  EXPECT_EQ(f.bias, 15);
  EXPECT_EQ(max_code(f), 0x7Bu);
  EXPECT_EQ(decode(f, 0x7B), 57344.0);
  EXPECT_EQ(max_value(f), 57344.0);
  EXPECT_EQ(decode(f, 0x04), std::ldexp(1.0, -14));
  EXPECT_EQ(decode(f, 0x03), 0.75 * std::ldexp(1.0, -14));
  EXPECT_EQ(decode(f, 0x01), std::ldexp(1.0, -16));
  EXPECT_EQ(smallest_positive(f), std::ldexp(1.0, -16));
  EXPECT_EQ(decode(f, 0x7C), HUGE_VAL);
  EXPECT_EQ(decode(f, 0xFC), -HUGE_VAL);
  for (uint64_t c = 0; c < 256; ++c) {
    const bool nan = (c & 0x7C) == 0x7C && (c & 3) != 0;  // S.11111.{01,10,11}
    EXPECT_EQ(std::isnan(decode(f, c)), nan) << std::hex << c;
    if ((c & 0x7C) != 0x7C) {
      const int e = static_cast<int>((c >> 2) & 31), m = static_cast<int>(c & 3);
      const double mag = e ? std::ldexp(1.0 + m / 4.0, e - 15) : std::ldexp(m / 4.0, -14);
      EXPECT_EQ(bits_of(decode(f, c)), bits_of((c & 0x80) ? -mag : mag)) << std::hex << c;
    }
  }
  Quantizer sat{f, Rounding::nearest_even, Overflow::saturate};
  Quantizer nonsat{f, Rounding::nearest_even, Overflow::special};
  // 61440 is the tie between 57344 (S.11110.11, odd) and 65536 on the unbounded grid.
  EXPECT_EQ(quantize(nonsat, 61440.0).code, 0x7Cu);  // infinity
  EXPECT_EQ(quantize(sat, 61440.0).code, 0x7Bu);
  EXPECT_TRUE(quantize(sat, 61440.0).saturated);
  EXPECT_EQ(quantize(nonsat, 61439.0).code, 0x7Bu);
  EXPECT_FALSE(quantize(nonsat, 61439.0).saturated);
  EXPECT_EQ(quantize(nonsat, -1e9).code, 0xFCu);
  EXPECT_EQ(quantize(nonsat, -HUGE_VAL).code, 0xFCu);
  EXPECT_FALSE(quantize(nonsat, -HUGE_VAL).saturated);  // infinity is exact here
  EXPECT_EQ(quantize(sat, -HUGE_VAL).code, 0xFBu);
  EXPECT_EQ(quantize(sat, NAN).code, 0x7Eu);  // the canonical (quiet) NaN
  // IEEE 754 7.4: toward zero overflows to the max finite value.
  Quantizer tz{f, Rounding::toward_zero, Overflow::special};
  EXPECT_EQ(quantize(tz, 1e9).code, 0x7Bu);
  EXPECT_EQ(quantize(tz, -1e9).code, 0xFBu);
  Quantizer dn{f, Rounding::down, Overflow::special};
  EXPECT_EQ(quantize(dn, 1e9).code, 0x7Bu);
  EXPECT_EQ(quantize(dn, -1e9).code, 0xFCu);
  // Signed zero survives (IEEE specials).
  EXPECT_EQ(quantize(sat, -0.0).code, 0x80u);
  EXPECT_EQ(quantize(sat, -1e-10).code, 0x80u);
}

}  // namespace
}  // namespace ristsim::testing
