// OutputStage (kernels/cpu) against numeric::quantize on the accumulator's
// exact value: code and saturation flag, bit for bit, for random accumulator
// values of every length, the values near every output boundary, every
// rounding and overflow mode, fixed and minifloat outputs.
#include <gtest/gtest.h>

#include <random>

#include "exact_cases.h"
#include "kernels/cpu/output_stage.h"

namespace ristsim::testing {
namespace {

using kernels::OutputStage;

/// Accumulator values: random of every bit length, and each power of two
/// with its neighbours, both signs.
std::vector<int64_t> accumulator_values(std::mt19937_64& rng) {
  std::vector<int64_t> v = {0, 1, -1, INT64_MAX, INT64_MIN, INT64_MIN + 1};
  for (int b = 1; b < 63; ++b) {
    for (int64_t d = -3; d <= 3; ++d) {
      v.push_back((int64_t{1} << b) + d);
      v.push_back(-(int64_t{1} << b) + d);
      v.push_back((int64_t{3} << (b - 1)) + d);  // ties at many positions
      v.push_back(-(int64_t{3} << (b - 1)) + d);
    }
    for (int i = 0; i < 40; ++i) {
      const int64_t r = static_cast<int64_t>(rng() >> (64 - b));
      v.push_back(r);
      v.push_back(-r);
    }
  }
  return v;
}

void check_stage(const Quantizer& q, int frac_bits, const std::vector<int64_t>& accs,
                 const std::string& what) {
  SCOPED_TRACE(what);
  const OutputStage fast(q, frac_bits, uint64_t{1} << 40);  // tables wherever they apply
  const OutputStage small(q, frac_bits, 1);
  std::vector<uint64_t> index(accs.size());
  std::vector<uint32_t> many(accs.size()), many_small(accs.size());
  for (size_t i = 0; i < accs.size(); ++i) index[i] = i;
  const uint64_t sat_many =
      fast.convert_many(accs.data(), index.data(), int(accs.size()), many.data());
  const uint64_t sat_many_small =
      small.convert_many(accs.data(), index.data(), int(accs.size()), many_small.data());
  // convert_many's row pass on every instruction set this CPU has.
  std::vector<std::vector<uint32_t>> by_isa;
  for (kernels::CpuIsa isa : {kernels::CpuIsa::portable, kernels::CpuIsa::avx2,
                              kernels::CpuIsa::avx512, kernels::CpuIsa::avx512_vnni}) {
    if (!kernels::cpu_supports(isa)) continue;
    const OutputStage st(q, frac_bits, uint64_t{1} << 40, isa);
    by_isa.emplace_back(accs.size());
    st.convert_many(accs.data(), index.data(), int(accs.size()), by_isa.back().data());
  }
  uint64_t sat_count = 0;
  for (size_t i = 0; i < accs.size(); ++i) {
    bool sat_ref = false, sat_fast = false, sat_small = false;
    const uint32_t ref = fast.convert_quantize(accs[i], i, &sat_ref);
    ASSERT_EQ(fast.convert(accs[i], i, &sat_fast), ref) << "acc " << accs[i];
    ASSERT_EQ(sat_fast, sat_ref) << "acc " << accs[i];
    ASSERT_EQ(small.convert(accs[i], i, &sat_small), ref) << "acc " << accs[i];
    ASSERT_EQ(sat_small, sat_ref) << "acc " << accs[i];
    ASSERT_EQ(many[i], ref) << "convert_many, acc " << accs[i];
    ASSERT_EQ(many_small[i], ref) << "convert_many, acc " << accs[i];
    for (const auto& codes : by_isa)
      ASSERT_EQ(codes[i], ref) << "convert_many by isa, acc " << accs[i];
    sat_count += sat_ref ? 1 : 0;
  }
  EXPECT_EQ(sat_many, sat_count);
  EXPECT_EQ(sat_many_small, sat_count);
}

TEST(OutputStage, fixed_equals_quantize) {
  std::mt19937_64 rng(2024);
  const auto accs = accumulator_values(rng);
  for (int bits : {2, 4, 8, 16, 32}) {
    for (int fl : {-6, 0, 3, 8, 14, 30}) {
      for (int F : {-4, 0, 5, 12, 22, 40}) {
        for (Rounding r : numeric::kAllRoundings) {
          for (Overflow o : {Overflow::saturate, Overflow::wrap}) {
            Quantizer q = quantizer(Format::fixed_point(bits, fl), r, o);
            q.seed = 17;
            q.stream = 4;
            check_stage(q, F, accs,
                        "fixed<" + std::to_string(bits) + "," + std::to_string(fl) + "> F " +
                            std::to_string(F) + " " + to_string(r) + " " + to_string(o));
            if (HasFatalFailure()) return;
          }
        }
      }
    }
  }
}

TEST(OutputStage, unsigned_fixed_equals_quantize) {
  std::mt19937_64 rng(2025);
  const auto accs = accumulator_values(rng);
  for (int bits : {1, 4, 8, 16}) {
    for (int fl : {-3, 0, 8}) {
      for (int F : {0, 5, 12}) {
        for (Rounding r : numeric::kAllRoundings) {
          for (Overflow o : {Overflow::saturate, Overflow::wrap}) {
            Quantizer q = quantizer(Format::unsigned_fixed_point(bits, fl), r, o);
            q.seed = 17;
            q.stream = 4;
            check_stage(q, F, accs,
                        "unsigned fixed<" + std::to_string(bits) + "," + std::to_string(fl) +
                            "> F " + std::to_string(F) + " " + to_string(r) + " " +
                            to_string(o));
            if (HasFatalFailure()) return;
          }
        }
      }
    }
  }
}

TEST(OutputStage, minifloat_equals_quantize) {
  std::mt19937_64 rng(99);
  const auto accs = accumulator_values(rng);
  const Format formats[] = {Format::e4m3(),
                            Format::e5m2(),
                            Format::minifloat(4, 3, numeric::Specials::none, false),
                            Format::minifloat(3, 4, numeric::Specials::none, true),
                            Format::minifloat(3, 2, numeric::Specials::ristretto, false),
                            Format::minifloat(5, 2, numeric::Specials::ieee, false),
                            Format::minifloat(2, 1, numeric::Specials::none, true, 5)};
  for (const Format& f : formats) {
    for (int F : {-10, 0, 9, 18, 30}) {
      for (Rounding r : numeric::kAllRoundings) {
        for (Overflow o : {Overflow::saturate, Overflow::special}) {
          if (numeric::validate(f, o)) continue;
          Quantizer q = quantizer(f, r, o);
          q.seed = 5;
          check_stage(q, F, accs,
                      "minifloat e" + std::to_string(f.exp_bits) + "m" +
                          std::to_string(f.mant_bits) + " " + to_string(f.specials) + " F " +
                          std::to_string(F) + " " + to_string(r) + " " + to_string(o));
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST(OutputStage, pow2_equals_quantize) {
  std::mt19937_64 rng(7);
  const auto accs = accumulator_values(rng);
  for (Rounding r : numeric::kAllRoundings)
    check_stage(quantizer(Format::pow2(5, 3, true), r), 8, accs, to_string(r));
}

}  // namespace
}  // namespace ristsim::testing
