// The mapper's cycle and access model (sim/map).
//  - SCALE-Sim agreement: on the conv/FC shapes of lenet, cifar10_full and the
//    SCALE-Sim paper's examples, for the three dataflows on 16x16, 32x8 and
//    8x32 arrays, the mapper's cycles are within 2 % of SCALE-Sim's published
//    runtime (2R + C + T - 2) ceil(Sr/R) ceil(Sc/C) (Samajdar et al. 2018/2020).
//    The _bad variant plants a model without the output drain and shows the
//    same check fails.
//  - Register-level steps of an output-stationary fold (operands shifted PE to
//    PE, outputs shifted down the columns) and of a weight-stationary fold
//    (weights loaded, inputs moving right, partial sums down) give the
//    mapper's fold length.
//  - A broadcast array of P PEs takes the cycles of sim/cycle's schedule
//    (ceil(outputs / P) chunks per PE + latency - 1, equal to SystemC).
//  - Access counts: each operand crosses DRAM once when the layer fits, more
//    when it does not; buffer width stalls; a layer that fits nowhere is refused.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "map/mapper.h"

namespace {

using namespace ristsim;
using config::Dataflow;
using map::LayerShape;

/// A layer from a conv's shape: output HxW, out channels, in channels x kernel.
LayerShape conv(const char* name, uint64_t oh, uint64_t ow, uint64_t oc, uint64_t ic,
                uint64_t kh, uint64_t kw) {
  LayerShape l;
  l.name = name;
  l.m = oh * ow;
  l.n = oc;
  l.k = ic * kh * kw;
  return l;
}

/// lenet, cifar10_full, and SCALE-Sim's example shapes (a GEMM-like FC, a 3x3 conv).
std::vector<LayerShape> shapes() {
  return {conv("lenet.conv1", 24, 24, 20, 1, 5, 5),  conv("lenet.conv2", 8, 8, 50, 20, 5, 5),
          conv("lenet.ip1", 1, 1, 500, 800, 1, 1),   conv("lenet.ip2", 1, 1, 10, 500, 1, 1),
          conv("cifar.conv1", 32, 32, 32, 3, 5, 5),  conv("cifar.conv2", 16, 16, 32, 32, 5, 5),
          conv("cifar.conv3", 8, 8, 64, 32, 5, 5),   conv("cifar.ip1", 1, 1, 10, 1024, 1, 1),
          conv("resnet.conv3x3", 56, 56, 64, 64, 3, 3), conv("gemm.256", 16, 16, 256, 256, 1, 1)};
}

/// Buffers large enough for every layer in one tile, unlimited widths and DRAM.
config::MemoryHierarchy big_memory() {
  config::MemoryHierarchy h = config::default_memory();
  h.levels[0].capacity_bytes = 64.0 * 1024 * 1024;
  return h;
}

config::ArraySpec systolic(int rows, int cols, Dataflow df, int lanes = 1) {
  config::ArraySpec a;
  a.rows = rows;
  a.cols = cols;
  a.pes = rows * cols;
  a.lanes = lanes;
  a.dataflow = df;
  a.interconnect = config::Interconnect::systolic;
  return a;
}

/// The check: |measured - reference| <= 2 % of the reference.
bool within_2_percent(double measured, double reference) {
  return std::fabs(measured - reference) <= 0.02 * reference;
}

const Dataflow kDataflows[] = {Dataflow::output_stationary, Dataflow::weight_stationary,
                               Dataflow::input_stationary};
const int kArrays[][2] = {{16, 16}, {32, 8}, {8, 32}};

TEST(MapScaleSim, cycles_within_2_percent_of_the_published_formula) {
  int checked = 0;
  for (Dataflow df : kDataflows)
    for (const auto& rc : kArrays)
      for (const LayerShape& l : shapes()) {
        const map::LayerMap r =
            map::map_layer(l, systolic(rc[0], rc[1], df), big_memory(), map::Options{});
        const uint64_t ref = map::scalesim_cycles(df, l.m, l.n, l.k, rc[0], rc[1]);
        EXPECT_TRUE(within_2_percent(double(r.cycles), double(ref)))
            << l.name << " " << config::to_string(df) << " " << rc[0] << "x" << rc[1]
            << ": mapper " << r.cycles << ", SCALE-Sim " << ref << "; " << r.mapping.text();
        EXPECT_EQ(r.fetch_stall_cycles + r.dram_stall_cycles, 0u);
        ++checked;
      }
  EXPECT_EQ(checked, 90);
}

TEST(MapScaleSim, cycles_within_2_percent_bad) {
  // Planted bug: a model that forgets the drain of the outputs (R cycles per fold).
  int caught = 0, total = 0;
  for (Dataflow df : kDataflows)
    for (const LayerShape& l : shapes()) {
      const map::LayerMap r = map::map_layer(l, systolic(16, 16, df), big_memory(), {});
      const uint64_t wrong = r.cycles - r.mapping.folds * 16;
      const uint64_t ref = map::scalesim_cycles(df, l.m, l.n, l.k, 16, 16);
      caught += !within_2_percent(double(wrong), double(ref));
      ++total;
    }
  // Only folds with a very long T hide the drain below 2 % (WS/IS on large M or N).
  EXPECT_GE(caught, total * 2 / 3) << caught << " of " << total;
}

TEST(MapScaleSim, a_register_level_output_stationary_fold_takes_2R_plus_C_plus_T_minus_2) {
  // Inputs enter row i at the left with a skew of i cycles and move one PE right
  // per cycle; weights enter column j at the top with a skew of j and move one PE
  // down; a PE multiplies when both arrive. Then the R x C results shift down
  // and out of the columns, one row per cycle.
  for (const auto& rc : kArrays)
    for (uint64_t T : {1u, 5u, 25u, 200u}) {
      const int R = rc[0], C = rc[1];
      std::vector<std::vector<int>> a_reg(R, std::vector<int>(C, -1)), b_reg = a_reg;
      std::vector<std::vector<uint64_t>> macs(R, std::vector<uint64_t>(C, 0));
      uint64_t cycle = 0, done = 0;
      while (done < uint64_t(R) * C) {
        for (int i = R; i-- > 0;)  // shift right / down, then feed the edges
          for (int j = C; j-- > 0;) {
            a_reg[i][j] = j ? a_reg[i][j - 1] : (cycle >= uint64_t(i) && cycle - i < T ? int(cycle - i) : -1);
            b_reg[i][j] = i ? b_reg[i - 1][j] : (cycle >= uint64_t(j) && cycle - j < T ? int(cycle - j) : -1);
          }
        for (int i = 0; i < R; ++i)
          for (int j = 0; j < C; ++j)
            if (a_reg[i][j] >= 0 && a_reg[i][j] == b_reg[i][j] && ++macs[i][j] == T) ++done;
        ++cycle;
      }
      const uint64_t total = cycle + uint64_t(R);  // drain: R shifts out of the columns
      EXPECT_EQ(total, map::scalesim_cycles(Dataflow::output_stationary, R, C, T, R, C))
          << R << "x" << C << " T " << T;
      LayerShape l;
      l.name = "fold";
      l.m = uint64_t(R), l.n = uint64_t(C), l.k = T;
      EXPECT_EQ(map::map_layer(l, systolic(R, C, Dataflow::output_stationary), big_memory(), {})
                    .compute_cycles,
                total);
    }
}

TEST(MapScaleSim, a_register_level_weight_stationary_fold_takes_2R_plus_C_plus_T_minus_2) {
  // R cycles shift the weights down into the rows (row r holds weight r of its
  // column). Then input vector t enters row i at the left at cycle i + t and
  // moves one PE right per cycle; a partial sum for (t, column j) starts at the
  // top and moves one PE down per cycle, adding the product in every row; it
  // leaves the bottom of column j one cycle after row R - 1. T = M inputs.
  for (const auto& rc : kArrays)
    for (uint64_t T : {1u, 7u, 64u}) {
      const int R = rc[0], C = rc[1];
      uint64_t cycle = 0;
      // Weight load: a weight for row r enters the top and needs r + 1 shifts;
      // all R rows are loaded after R cycles.
      std::vector<int> w_reg(size_t(R), -1);
      for (int k = 0; k < R; ++k, ++cycle) {
        for (int r = R - 1; r > 0; --r) w_reg[size_t(r)] = w_reg[size_t(r - 1)];
        w_reg[0] = R - 1 - k;  // the bottom row's weight goes in first
      }
      for (int r = 0; r < R; ++r) ASSERT_EQ(w_reg[size_t(r)], r);
      // Streaming: in_reg[i][j] holds the input index t passing PE(i, j);
      // ps_reg[i][j] the index t of the partial sum leaving PE(i, j) downwards.
      std::vector<std::vector<int>> in_reg(R, std::vector<int>(C, -1)), ps_reg = in_reg;
      uint64_t exited = 0, start = cycle;
      while (exited < T * uint64_t(C)) {
        const uint64_t c = cycle - start;
        for (int j = 0; j < C; ++j)  // the bottom row's sums leave the array
          if (ps_reg[R - 1][j] >= 0) ++exited;
        for (int i = R; i-- > 0;)
          for (int j = C; j-- > 0;) {
            in_reg[i][j] = j ? in_reg[i][j - 1]
                             : (c >= uint64_t(i) && c - i < T ? int(c - i) : -1);
            // A PE adds when its input arrives, to the sum from the PE above (same t).
            const int above = i ? ps_reg[i - 1][j] : in_reg[i][j];
            ps_reg[i][j] = in_reg[i][j] >= 0 && above == in_reg[i][j] ? in_reg[i][j] : -1;
          }
        ++cycle;
      }
      // The last sums were counted at the start of the cycle after they left row R - 1.
      const uint64_t total = cycle - 1;
      EXPECT_EQ(total, map::scalesim_cycles(Dataflow::weight_stationary, T, C, R, R, C))
          << R << "x" << C << " T " << T;
      LayerShape l;
      l.name = "fold";
      l.m = T, l.n = uint64_t(C), l.k = uint64_t(R);
      EXPECT_EQ(map::map_layer(l, systolic(R, C, Dataflow::weight_stationary), big_memory(), {})
                    .compute_cycles,
                total);
    }
}

TEST(MapBroadcast, equals_the_cycle_model_of_p_pes) {
  // cycle/schedule.h count_layer without a fetch limit (= the SystemC array):
  // ceil(outputs / P) * ceil(terms / K) + latency - 1.
  for (int P : {1, 3, 16})
    for (int K : {1, 16})
      for (const LayerShape& l : shapes()) {
        config::ArraySpec a;
        a.pes = a.rows = P;
        a.lanes = K;
        map::Options o;
        o.latency = 5;
        const map::LayerMap r = map::map_layer(l, a, big_memory(), o);
        const uint64_t outputs = l.m * l.n;
        const uint64_t want = (outputs + P - 1) / P * ((l.k + K - 1) / K) + 5 - 1;
        EXPECT_EQ(r.cycles, want) << l.name << " P " << P << " K " << K;
      }
}

TEST(MapAccess, each_operand_crosses_dram_once_when_the_layer_fits) {
  for (Dataflow df : kDataflows) {
    const LayerShape l = conv("conv2", 8, 8, 50, 20, 5, 5);
    const map::LayerMap r = map::map_layer(l, systolic(16, 16, df), big_memory(), {});
    const map::LevelCount& dram = r.levels.back();
    EXPECT_EQ(dram.op[map::kInputs].reads, double(l.m * l.k));
    EXPECT_EQ(dram.op[map::kWeights].reads, double(l.k * l.n));
    EXPECT_EQ(dram.op[map::kOutputs].writes, double(l.m * l.n));
    EXPECT_EQ(dram.op[map::kOutputs].reads, 0);
    EXPECT_EQ(dram.read_bits, 8.0 * (l.m * l.k + l.k * l.n));
  }
}

TEST(MapAccess, output_stationary_buffer_reads_follow_the_folds) {
  // OS on 16x16: each input row is read once per column fold, each weight once
  // per row fold; lenet conv1: M 576 (36 row folds), N 20 (2 column folds), K 25.
  const LayerShape l = conv("conv1", 24, 24, 20, 1, 5, 5);
  const map::LayerMap r =
      map::map_layer(l, systolic(16, 16, Dataflow::output_stationary), big_memory(), {});
  EXPECT_EQ(r.levels[0].op[map::kInputs].reads, 576.0 * 25 * 2);
  EXPECT_EQ(r.levels[0].op[map::kWeights].reads, 25.0 * 20 * 36);
  EXPECT_EQ(r.levels[0].op[map::kOutputs].writes, 576.0 * 20);
  EXPECT_EQ(r.mapping.folds, 72u);
  EXPECT_EQ(r.compute_cycles, 72u * (2 * 16 + 16 + 25 - 2));
}

TEST(MapAccess, a_small_buffer_refetches_and_the_search_picks_the_cheaper_order) {
  // lenet ip1: 800 x 500 weights (400 KB) through a 32 KiB shared buffer: the
  // weights stream once, the 800 inputs stay; no order refetches the weights.
  LayerShape l = conv("ip1", 1, 1, 500, 800, 1, 1);
  config::MemoryHierarchy h = config::default_memory();
  h.levels[0].capacity_bytes = 32 * 1024;
  map::Options o;
  o.energy = {{1, 1}, {100, 100}};  // DRAM 100x the buffer per bit
  const map::LayerMap r = map::map_layer(l, systolic(16, 16, Dataflow::weight_stationary), h, o);
  EXPECT_EQ(r.levels.back().op[map::kWeights].reads, 400000.0);
  EXPECT_EQ(r.levels.back().op[map::kInputs].reads, 800.0);
  EXPECT_LE(r.levels[0].bytes_used, 32u * 1024);
  EXPECT_GT(r.mapping.valid, 1u);
  EXPECT_LT(r.mapping.valid, r.mapping.candidates);  // some tilings did not fit
  // A 2 KiB buffer cannot hold ip1's inputs (800 B, twice) and a weight tile
  // (16 x 16 lanes... at least one column of 800 weights): tiling K refetches.
  h.levels[0].capacity_bytes = 2 * 1024;
  const map::LayerMap s = map::map_layer(l, systolic(16, 16, Dataflow::weight_stationary), h, o);
  EXPECT_GE(s.levels.back().op[map::kInputs].reads + s.levels.back().op[map::kOutputs].reads,
            800.0);
  EXPECT_GE(s.energy_pj, r.energy_pj);
}

TEST(MapAccess, nothing_fits_a_tiny_buffer) {
  const LayerShape l = conv("conv2", 8, 8, 50, 20, 5, 5);
  config::MemoryHierarchy h = config::default_memory();
  h.levels[0].capacity_bytes = 16;
  try {
    map::map_layer(l, systolic(16, 16, Dataflow::output_stationary), h, {});
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    // OS on 16 x 16: the smallest tiles are 16 pixels x 16 channels over all 500 terms,
    // 2 x (16 x 500 + 500 x 16 + 16 x 16) = 32512 bytes in the one shared buffer.
    EXPECT_EQ(std::string(e.what()),
              "layer conv2: no tiling fits the buffers (buffer needs 32512 bytes for the "
              "smallest tiles (m16 n16 k500, double buffered) and holds 16)");
  }
}

TEST(MapStalls, a_narrow_buffer_and_slow_dram_stall_the_array) {
  const LayerShape l = conv("conv2", 8, 8, 50, 20, 5, 5);
  config::MemoryHierarchy h = big_memory();
  h.levels[0].width_bits = 8;  // one 8-bit word per cycle for the whole array
  const map::LayerMap r =
      map::map_layer(l, systolic(16, 16, Dataflow::output_stationary), h, {});
  const map::LevelCount& b = r.levels[0];
  EXPECT_EQ(r.fetch_stall_cycles,
            uint64_t(std::ceil((b.read_bits + b.write_bits) / 8.0)) - r.compute_cycles);
  EXPECT_EQ(r.cycles, r.compute_cycles + r.fetch_stall_cycles);
  EXPECT_NEAR(b.demand_bits_per_cycle, 8.0, 0.01);

  h = big_memory();
  h.levels[1].bandwidth_bytes_per_cycle = 1;  // 1 byte per cycle
  const map::LayerMap d =
      map::map_layer(l, systolic(16, 16, Dataflow::output_stationary), h, {});
  const double dram_bytes = (d.levels[1].read_bits + d.levels[1].write_bits) / 8;
  EXPECT_EQ(d.fetch_stall_cycles, 0u);
  EXPECT_EQ(d.cycles, uint64_t(dram_bytes));  // DRAM-bound: every byte one cycle
  EXPECT_GT(d.dram_stall_cycles, 0u);
}

}  // namespace

namespace {

TEST(MapSearch, the_objective_trades_cycles_against_energy) {
  // cifar10_full conv2 on a WS array with small buffers: the two objectives
  // pick different tilings, each best at its own objective.
  LayerShape l = conv("cifar.conv2", 16, 16, 32, 32, 5, 5);
  l.psum_bits = 32;
  config::MemoryHierarchy h = config::default_memory();
  h.levels[0].capacity_bytes = 16 * 1024;
  map::Options o;
  o.energy = {{0.5, 0.5}, {15, 15}};
  o.latency = 3;
  const map::LayerMap e = map::map_layer(l, systolic(16, 16, Dataflow::weight_stationary), h, o);
  o.objective = map::Objective::cycles;
  const map::LayerMap c = map::map_layer(l, systolic(16, 16, Dataflow::weight_stationary), h, o);
  EXPECT_LE(c.cycles, e.cycles);
  EXPECT_LE(e.energy_pj, c.energy_pj);
  EXPECT_TRUE(c.cycles < e.cycles || e.energy_pj < c.energy_pj) << e.mapping.text() << " | "
                                                               << c.mapping.text();
}

TEST(MapSearch, exhaustive_for_small_layers_heuristic_beyond_64_tiles) {
  // lenet conv2 on OS 16x16: M = 64 (4 tiles of 16), N = 50 (4 of 16): exhaustive.
  const map::LayerMap a = map::map_layer(conv("conv2", 8, 8, 50, 20, 5, 5),
                                         systolic(16, 16, Dataflow::output_stationary),
                                         big_memory(), {});
  EXPECT_TRUE(a.mapping.exhaustive);
  // 3025 output pixels in steps of 16 are 190 tiles: tile counts 1..64, then powers of two.
  const map::LayerMap b = map::map_layer(conv("caffenet.conv1", 55, 55, 96, 3, 11, 11),
                                         systolic(16, 16, Dataflow::output_stationary),
                                         big_memory(), {});
  EXPECT_FALSE(b.mapping.exhaustive);
  EXPECT_GT(b.mapping.valid, 0u);
}

}  // namespace
