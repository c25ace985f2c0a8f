// cycle::operand_activity(): the switching activity of the PE's operand buses
// that scales the cost model's dynamic energy (no SystemC elaboration here).
#include <gtest/gtest.h>

#include <random>

#include "config/arch_yaml.h"
#include "cycle/stimulus.h"

namespace ristsim::cycle {
namespace {

rtlgen::PeShape shape_of(const char* arch, int lanes) {
  config::Arch a = config::load_arch(std::string(RISTSIM_SOURCE_DIR) + "/configs/" + arch);
  a.array.lanes = lanes;
  return rtlgen::make_pe_shape(a, nullptr, "auto");
}

DotJob job(std::vector<kernels::ExactTerm> terms) {
  DotJob j;
  j.terms = std::move(terms);
  return j;
}

// Two lanes, 8-bit codes: hand-counted toggles.
TEST(OperandActivity, known_answer) {
  const rtlgen::PeShape s = shape_of("dynfixed8.yaml", 2);
  // chunk 1: (0x00,0x00) (0xff,0x0f); chunk 2: (0x01,0x03) (0xff,0x0f)
  // chunk 3 (next job, one term; lane 1 gated): (0x81,0x03)
  const std::vector<DotJob> jobs = {
      job({{0x00, 0x00, false}, {0xff, 0x0f, false}, {0x01, 0x03, false}, {0xff, 0x0f, false}}),
      job({{0x81, 0x03, false}})};
  const OperandActivity a = operand_activity(s, jobs);
  // chunk 1 -> 2: lane 0 0x00->0x01 (1) + 0x00->0x03 (2); lane 1 no change.
  // chunk 2 -> 3: lane 0 0x01->0x81 (1) + 0x03->0x03 (0); lane 1 gated.
  EXPECT_EQ(a.toggles, 4u);
  EXPECT_EQ(a.bit_slots, 2u * 2u * 16u);
  EXPECT_DOUBLE_EQ(a.factor(), 4.0 / 64.0 / 0.5);
}

// Padding lanes hold their codes: a padded term changes nothing.
TEST(OperandActivity, padding_holds) {
  const rtlgen::PeShape s = shape_of("dynfixed8.yaml", 1);
  const OperandActivity a = operand_activity(
      s, {job({{0x55, 0x55, false}, {0xaa, 0xaa, true}, {0x55, 0x55, false}})});
  EXPECT_EQ(a.toggles, 0u);
  EXPECT_EQ(a.bit_slots, 2u * 16u);
}

// Uniformly random codes toggle half their bits: factor 1, the anchors' activity.
TEST(OperandActivity, random_codes_are_the_anchor) {
  const rtlgen::PeShape s = shape_of("dynfixed8.yaml", 16);
  std::mt19937_64 rng(7);
  std::vector<DotJob> jobs;
  for (int n = 0; n < 500; ++n) {
    std::vector<kernels::ExactTerm> t(64);
    for (auto& x : t) x = {random_finite_code(s.fmt.act, rng), random_finite_code(s.fmt.wt, rng), false};
    jobs.push_back(job(t));
  }
  const OperandActivity a = operand_activity(s, jobs);
  EXPECT_NEAR(a.factor(), 1.0, 0.01);  // 511 000 bit slots: 1 sigma is 0.0014
  // Constant codes never toggle.
  for (auto& j : jobs)
    for (auto& x : j.terms) x = {3, 5, false};
  EXPECT_EQ(operand_activity(s, jobs).toggles, 0u);
}

}  // namespace
}  // namespace ristsim::cycle

// libsystemc's main() calls sc_main (TOOLCHAIN.md): run the tests from there.
extern "C" int sc_main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
