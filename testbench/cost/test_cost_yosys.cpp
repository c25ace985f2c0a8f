// e2e: the yosys cross-check on tiny designs (an 8x8 signed multiplier, a 4-input
// widening adder tree with a pipeline register). Skipped when yosys is absent.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "config/tech_yaml.h"
#include "cost/model.h"
#include "cost/yosys.h"

namespace ristsim::cost {
namespace {

namespace fs = std::filesystem;

const std::string kVerilog = RISTSIM_COST_VERILOG;

config::TechTable table45() {
  return config::load_tech(std::string(RISTSIM_SOURCE_DIR) + "/configs/tech/45nm.yaml");
}

TEST(CostYosys, multiplier_and_tree_against_model) {
  const std::string yosys = find_yosys();
  if (yosys.empty()) GTEST_SKIP() << "yosys is not installed";
  const config::TechTable t = table45();
  const TechModel m(t, 45);
  const fs::path work =
      fs::temp_directory_path() / ("ristsim_cost_yosys_" + std::to_string(getpid()));

  const Synthesis mul =
      synthesize(yosys, {kVerilog + "/mul_signed.sv"}, "mul_signed", work.string(), t);
  EXPECT_TRUE(mul.unknown_cells.empty());
  EXPECT_GT(mul.cells.count("XOR") + mul.cells.count("XNOR"), 0u);
  EXPECT_EQ(mul.cells.count("DFF_P"), 0u);  // combinational
  double ge = 0;
  for (const auto& [c, n] : mul.cells) ge += double(n) * t.cells_um2.at(c) / 0.798;
  EXPECT_NEAR(mul.ge, ge, 1e-9);
  CrossCheck cm;
  cm.block = "8x8 multiplier";
  cm.top = "mul_signed";
  cm.model_ge = m.int_multiplier(8, 8).ge;
  cm.yosys_ge = mul.ge;
  std::cout << "[ cost    ] 8x8 multiplier: model " << cm.model_ge << " GE, yosys " << cm.yosys_ge
            << " GE, ratio " << cm.ratio() << (cm.warn() ? " (WARNING: > 50 % apart)" : "") << "\n";
  EXPECT_GT(cm.ratio(), 0.25);  // same order of magnitude
  EXPECT_LT(cm.ratio(), 4.0);

  const Synthesis tree =
      synthesize(yosys, {kVerilog + "/add_tree4.sv"}, "add_tree4", work.string(), t);
  // The level-1 pipeline register: two 17-bit sums.
  ASSERT_TRUE(tree.cells.count("DFF_P"));
  EXPECT_EQ(tree.cells.at("DFF_P"), 34u);
  CrossCheck ct;
  ct.model_ge = m.adder_tree(numeric::FixedType{16, 0}, 4).ge + m.registers(34).ge;
  ct.yosys_ge = tree.ge;
  std::cout << "[ cost    ] 4-input 16-bit adder tree + 34 register bits: model " << ct.model_ge
            << " GE, yosys " << ct.yosys_ge << " GE, ratio " << ct.ratio()
            << (ct.warn() ? " (WARNING: > 50 % apart)" : "") << "\n";
  EXPECT_GT(ct.ratio(), 0.25);
  EXPECT_LT(ct.ratio(), 4.0);
  EXPECT_TRUE(fs::exists(mul.script_path));  // a .ys file, not a -p string
  fs::remove_all(work);
}

TEST(CostYosys, bad_verilog_fails_clearly) {
  const std::string yosys = find_yosys();
  if (yosys.empty()) GTEST_SKIP() << "yosys is not installed";
  const fs::path work =
      fs::temp_directory_path() / ("ristsim_cost_yosys_bad_" + std::to_string(getpid()));
  try {
    synthesize(yosys, {kVerilog + "/mul_signed.sv"}, "no_such_module", work.string(), table45());
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_module"), std::string::npos) << e.what();
  }
  fs::remove_all(work);
}

}  // namespace
}  // namespace ristsim::cost
