// The GPU kernel's per-element code (steps::conv_element), run on the host and
// held bit for bit against the reference, so the arithmetic of the CUDA path is
// checked on machines without a GPU too. A planted bug must be caught.
#include <gtest/gtest.h>

#include <string>

#include "../backends_exact/exact_cases.h"
#include "kernels/reference/exact_steps.h"

namespace rt = ristsim::testing;
namespace kn = ristsim::kernels;

namespace {

/// exact_conv through steps::conv_element; `lane_bug` plants a wrong chunk size.
rt::ConvFn steps_fn(int lane_bug = 0) {
  return [lane_bug](const kn::ConvShape& s, const kn::ExactLayerSpec& spec, const uint32_t* in,
                    const uint32_t* w, const uint32_t* b, uint32_t* out, kn::ExactStats* st) {
    kn::steps::ElementSpec d = kn::steps::element_spec(spec);
    d.lanes += lane_bug;
    const int64_t total = int64_t{s.n} * s.k * s.oh * s.ow;
    for (int64_t i = 0; i < total; ++i) {
      const kn::steps::ElementResult r = kn::steps::conv_element(s, d, in, w, b, i);
      out[i] = r.code;
      st->acc_overflows += r.acc_overflows;
      st->out_saturations += r.saturated;
      st->out_nans += r.nan;
    }
  };
}

}  // namespace

TEST(ExactSteps, conv_element_equals_reference_on_every_shipped_arch) {
  int cases = 0;
  for (const char* arch : rt::kShippedArchs) {
    for (int variant = 0; variant < 72; variant += 5) {
      const uint64_t seed = 1000 + variant;
      const rt::ExactCase c = rt::random_case(arch, seed, variant, variant % 3 == 0 ? 0.01 : 0.0);
      EXPECT_EQ(rt::compare(c, kn::exact_conv_reference, steps_fn()), "")
          << arch << " seed " << seed << " variant " << variant << ": " << rt::describe(c.shape)
          << "; " << rt::describe(c.spec);
      ++cases;
    }
  }
  EXPECT_EQ(cases, int(std::size(rt::kShippedArchs)) * 15);
}

TEST(ExactSteps, planted_chunking_bug_is_caught_bad) {
  int caught = 0, cases = 0;
  for (const char* arch : rt::kShippedArchs) {
    for (int variant = 2; variant < 72; variant += 4) {  // narrow accumulators: chunking matters
      const rt::ExactCase c = rt::random_case(arch, 77 + variant, variant);
      if (!rt::compare(c, kn::exact_conv_reference, steps_fn(1)).empty()) ++caught;
      ++cases;
    }
  }
  // A wrong chunk size is invisible unless a chunk boundary meets an overflow,
  // so only some cases show it (21 of 108 when this test was written).
  EXPECT_GE(caught, cases / 10) << caught << " of " << cases << " caught";
}
