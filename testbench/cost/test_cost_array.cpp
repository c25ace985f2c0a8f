// The yosys cross-check of a systolic array (sim/cost/rtl_check.cpp, array
// part): the cells and column stages with their counts, and the same array
// flattened whole, which must agree with their sum.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>

#include "config/arch_yaml.h"
#include "config/tech_yaml.h"
#include "cost/rtl_check.h"

namespace ristsim::cost {
namespace {

// systolic16x16_ws's PE (dynamic fixed 8, runtime_fl, K = 1) on a 2 x 2 array.
TEST(CostYosysArray, ws_2x2_cells_and_whole) {
  const std::string yosys = find_yosys();
  if (yosys.empty()) GTEST_SKIP() << "yosys is not installed";
  const config::TechTable t =
      config::load_tech(std::string(RISTSIM_SOURCE_DIR) + "/configs/tech/45nm.yaml");
  const TechModel m(t, 45);
  config::Arch arch =
      config::load_arch(std::string(RISTSIM_SOURCE_DIR) + "/configs/systolic16x16_ws.yaml");
  arch.array.rows = arch.array.cols = 2;
  arch.array.pes = 4;
  const auto work =
      std::filesystem::temp_directory_path() / ("ristsim_cost_array_" + std::to_string(getpid()));
  const std::vector<CrossCheck> rows = cross_check_arch(arch, m, yosys, work.string());
  std::filesystem::remove_all(work);
  const CrossCheck *cell = nullptr, *col = nullptr, *sum = nullptr, *whole = nullptr;
  for (const CrossCheck& r : rows) {
    std::cout << "[ cost    ] " << r.block << " (" << r.top << "): x" << r.instances << " model "
              << r.model_ge << " GE, yosys " << r.yosys_ge << " GE"
              << (r.error.empty() ? "" : " [" + r.error + "]") << "\n";
    EXPECT_TRUE(r.error.empty()) << r.block << ": " << r.error;
    if (r.top == "ristsim_ws_cell") cell = &r;
    if (r.top == "ristsim_col_out") col = &r;
    if (r.block.rfind("PE array 2 x 2 (", 0) == 0) sum = &r;
    if (r.top == "ristsim_array") whole = &r;
  }
  ASSERT_TRUE(cell && col && sum && whole);
  EXPECT_EQ(cell->instances, 4);
  EXPECT_EQ(col->instances, 2);
  EXPECT_GT(cell->yosys_ge, 0);
  EXPECT_GT(col->yosys_ge, 0);
  EXPECT_DOUBLE_EQ(sum->yosys_ge, cell->yosys_ge + col->yosys_ge);
  EXPECT_DOUBLE_EQ(whole->model_ge, sum->model_ge);  // the model's whole array, both rows
  // The sum of the parts is the flattened array up to what flattening shares
  // or removes across cells (the top row's tag registers are not in the cell).
  EXPECT_NEAR(whole->yosys_ge / sum->yosys_ge, 1.0, 0.15);
}

}  // namespace
}  // namespace ristsim::cost
