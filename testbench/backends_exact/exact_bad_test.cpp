// _bad tests: datapaths with a planted bug must fail the same comparison that
// holds exact_conv_cpu to exact_conv_reference. If one of these passes, the
// comparison (or the random cases) has gone blind to that class of bug.
#include <gtest/gtest.h>

#include "exact_cases.h"

namespace ristsim::testing {
namespace {

using kernels::ExactTerm;

/// A conv built on exact_dot with a change to the terms or the spec.
ConvFn planted(std::function<void(std::vector<ExactTerm>&, ExactLayerSpec&, uint64_t&)> bug) {
  return [bug](const ConvShape& s, const ExactLayerSpec& spec, const uint32_t* in,
               const uint32_t* w, const uint32_t* b, uint32_t* out, ExactStats* st) {
    for (int img = 0; img < s.n; ++img)
      for (int k = 0; k < s.k; ++k)
        for (int oy = 0; oy < s.oh; ++oy)
          for (int ox = 0; ox < s.ow; ++ox) {
            std::vector<ExactTerm> t = kernels::conv_terms(s, in, w, img, k, oy, ox);
            ExactLayerSpec sp = spec;
            const uint64_t index = ((static_cast<uint64_t>(img) * s.k + k) * s.oh + oy) * s.ow + ox;
            uint64_t idx = index;
            bug(t, sp, idx);
            out[index] =
                kernels::exact_dot(sp, t.data(), t.size(), spec.has_bias ? b[k] : 0, idx, st);
          }
  };
}

/// How many of the random cases tell `bad` from the reference.
int caught(const ConvFn& bad, int cases) {
  int n = 0;
  for (int v = 0; v < cases; ++v) {
    const ExactCase c = random_case(kShippedArchs[v % 6], 31000 + v, v % 72);
    if (!compare(c, kernels::exact_conv_reference, bad).empty()) ++n;
  }
  return n;
}

TEST(ExactCompare, reference_against_itself) {
  const ConvFn same = planted([](auto&, auto&, auto&) {});
  EXPECT_EQ(caught(same, 72), 0);
}

TEST(ExactCompare, saturate_only_at_the_end_bad) {
  // One chunk for the whole dot product: the overflow mode acts once, at the end.
  const ConvFn bad = planted([](std::vector<ExactTerm>& t, ExactLayerSpec& sp, uint64_t&) {
    sp.lanes = static_cast<int>(t.size());
  });
  EXPECT_GT(caught(bad, 144), 0);
}

TEST(ExactCompare, drop_last_lane_bad) {
  const ConvFn bad = planted([](std::vector<ExactTerm>& t, ExactLayerSpec& sp, uint64_t&) {
    for (size_t i = sp.lanes - 1; i < t.size(); i += sp.lanes) t[i].padding = true;
  });
  EXPECT_GT(caught(bad, 72), 0);
}

TEST(ExactCompare, stochastic_index_off_by_one_bad) {
  const ConvFn bad =
      planted([](std::vector<ExactTerm>&, ExactLayerSpec&, uint64_t& idx) { ++idx; });
  EXPECT_GT(caught(bad, 144), 0);
}

TEST(ExactCompare, int8_offset_correction_off_by_one_bad) {
  // The int8 kernels hold int8 activations as a + 128 in uint8 and start each
  // sum at -128 * sum(w). With -127 * sum(w) instead, every term of the
  // window (padding, whose uint8 is 128, included) counts as a + 1 quantum:
  // modelled here exactly, on a fixed point format one bit wider.
  const ConvFn bad = planted([](std::vector<ExactTerm>& t, ExactLayerSpec& sp, uint64_t&) {
    const Format f = sp.act.format;
    sp.act.format = Format::fixed_point(f.bits + 1, f.fl);
    for (ExactTerm& e : t) {
      const int64_t a = e.padding ? 0 : numeric::sign_extend(e.act_code, f.bits);
      e.act_code =
          static_cast<uint32_t>(static_cast<uint64_t>(a + 1) & numeric::low_mask(f.bits + 1));
      e.padding = false;
    }
  });
  // The archs whose layers take the int8 kernels with the offset.
  int n = 0;
  for (int v = 0; v < 96; ++v) {
    const ExactCase c = random_case(v % 2 ? "dynfixed8" : "dynfixed4", 32000 + v, v % 72);
    if (!compare(c, kernels::exact_conv_reference, bad).empty()) ++n;
  }
  EXPECT_GT(n, 48) << "of 96 cases";
}

TEST(ExactCompare, wrong_stream_bad) {
  const ConvFn bad =
      planted([](std::vector<ExactTerm>&, ExactLayerSpec& sp, uint64_t&) { sp.stream += 1; });
  EXPECT_GT(caught(bad, 144), 0);
}

}  // namespace
}  // namespace ristsim::testing
