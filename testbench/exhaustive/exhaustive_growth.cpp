// The growth rules of sim/numeric/growth.h against the oracle (oracle.h), by
// enumeration: product_type() of two formats and aligned_type() of small
// fixed-point types hold every value they are meant to hold, and are tight:
// some value needs every bit (one bit fewer would lose it).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness.h"

namespace ristsim::testing {
namespace {

/// Does the signed integer n fit `bits` two's complement bits (0 bits hold nothing)?
bool fits(__int128 n, int bits) {
  if (bits <= 0) return false;
  const __int128 lim = static_cast<__int128>(1) << (bits - 1);
  return n >= -lim && n < lim;
}

/// x * 2^fl as an integer; fails the test if x is not on that grid.
__int128 scaled(const Exact& x, int fl, const std::string& what) {
  const Exact s = x.times_pow2(fl);
  EXPECT_GE(s.exp, 0) << what << ": " << x.to_double() << " is not on the grid 2^-" << fl;
  return oracle::floor_times_pow2(x, fl, true);
}

std::vector<Format> small_formats() {
  std::vector<Format> fs = {Format::fixed_point(1, 0), Format::fixed_point(3, 1),
                            Format::fixed_point(5, -2), Format::fixed_point(6, 4),
                            Format::unsigned_fixed_point(4, 2), Format::unsigned_fixed_point(1, 0)};
  fs.push_back(Format::minifloat(2, 1));
  fs.push_back(Format::minifloat(2, 1, Specials::none, true));
  fs.push_back(Format::minifloat(3, 0));                   // maxima are powers of two
  fs.push_back(Format::minifloat(3, 2, Specials::fn, true));
  fs.push_back(Format::minifloat(4, 3, Specials::none));   // minifloat8 of configs/
  fs.push_back(Format::e4m3());
  fs.push_back(Format::e5m2());
  fs.push_back(Format::minifloat(2, 2, Specials::ristretto));
  fs.push_back(Format::minifloat(3, 1, Specials::ieee, false, 5));
  fs.push_back(Format::pow2(2, 0, true));                  // 0 and +-1 only
  fs.push_back(Format::pow2(3, -1));
  fs.push_back(Format::pow2(4, -1));                       // pow2_4 of configs/
  fs.push_back(Format::pow2(5, 3, true));
  return fs;
}

// Every product of two finite values is an integer on the grid 2^-fl that fits
// product_type(a, w); some product needs all its bits, and some is an odd
// multiple of 2^-fl (the FL is needed too).
TEST(ExhaustiveGrowth, product_type_of_formats_holds_every_product_and_is_tight) {
  const std::vector<Format> fs = small_formats();
  for (size_t i = 0; i < fs.size(); ++i)
    for (size_t j = i; j < fs.size(); ++j) {
      const Format& a = fs[i];
      const Format& w = fs[j];
      const std::string what = describe(a) + " x " + describe(w);
      const FixedType t = product_type(a, w);
      EXPECT_EQ(t, product_type(w, a)) << what;
      const Oracle oa(a), ow(w);
      bool bits_needed = false, fl_needed = false;
      for (const auto& x : oa.values())
        for (const auto& y : ow.values()) {
          const Exact p = oracle::mul(x.v, y.v);
          const __int128 q = scaled(p, t.fl, what);
          ASSERT_TRUE(fits(q, t.bits))
              << what << ": " << p.to_double() << " does not fit " << t.bits << " bits";
          bits_needed |= !fits(q, t.bits - 1);
          fl_needed |= !p.is_zero() && p.times_pow2(t.fl).exp == 0;
        }
      EXPECT_TRUE(bits_needed) << what << ": " << t.bits << " bits is one too many";
      EXPECT_TRUE(fl_needed) << what << ": fl " << t.fl << " is one too many";
      if (a.kind == FormatKind::fixed && w.kind == FormatKind::fixed && a.is_signed &&
          w.is_signed) {
        EXPECT_EQ(t, product_type(exactly_fixed(a), exactly_fixed(w))) << what;
      } else {
        // A symmetric range has no -2^(m-1) corner, and an unsigned one no negative
        // values: at least one bit below m + n.
        EXPECT_LT(t.bits, exactly_fixed(a).bits + exactly_fixed(w).bits) << what;
      }
    }
}

// aligned_type(t, F, r) for every type of 1..8 bits, shifts -3..10 and every
// rounding mode: the oracle rounds each code's value onto fixed<W, F> (W wide
// enough never to saturate); the result must fit the type, and some code must
// need its every bit. Stochastic rounding is tried with 64 element indices per
// code, and for tightness the extreme codes with up to 2^16 indices.
TEST(ExhaustiveGrowth, aligned_type_holds_every_code_and_is_tight) {
  for (int bits = 1; bits <= 8; ++bits)
    for (int fl : {0, 3})
      for (int s = -3; s <= 10; ++s) {
        const FixedType t{bits, fl};
        const int F = fl - s;
        const Oracle grid(Format::fixed_point(bits + 5, F));
        for (Rounding r : kAllRoundings) {
          const FixedType at = aligned_type(t, F, r);
          const std::string what = "fixed<" + std::to_string(bits) + "," + std::to_string(fl) +
                                   "> on F = " + std::to_string(F) + " " + to_string(r) +
                                   ": fixed<" + std::to_string(at.bits) + "," +
                                   std::to_string(at.fl) + ">";
          ASSERT_EQ(at.fl, F) << what;
          Quantizer q;
          q.format = Format::fixed_point(bits + 5, F);
          q.rounding = r;
          q.seed = 3;
          const int tries = r == Rounding::stochastic ? 64 : 1;
          bool needed = false;
          auto rounded = [&](int64_t code, uint64_t index) {
            const Exact x = Exact::make(code < 0, static_cast<uint64_t>(code < 0 ? -code : code), -fl);
            const oracle::Result res = grid.round(grid.locate(x, false), q, index);
            EXPECT_FALSE(res.saturated) << what;
            return static_cast<__int128>(sign_extend(res.code, bits + 5));
          };
          for (int64_t code = -(int64_t{1} << (bits - 1)); code < (int64_t{1} << (bits - 1)); ++code)
            for (int i = 0; i < tries; ++i) {
              const __int128 v = rounded(code, static_cast<uint64_t>(i));
              ASSERT_TRUE(fits(v, at.bits)) << what << ": code " << code << " index " << i;
              needed |= !fits(v, at.bits - 1);
            }
          if (r == Rounding::stochastic)
            for (int64_t code : {-(int64_t{1} << (bits - 1)), (int64_t{1} << (bits - 1)) - 1})
              for (uint64_t i = 0; i < 65536 && !needed; ++i) {
                const __int128 v = rounded(code, i);
                ASSERT_TRUE(fits(v, at.bits)) << what << ": code " << code << " index " << i;
                needed |= !fits(v, at.bits - 1);
              }
          EXPECT_TRUE(needed) << what << " is one bit too wide";
        }
      }
}

}  // namespace
}  // namespace ristsim::testing
