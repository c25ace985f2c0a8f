// The cost model against its published anchors (Horowitz, ISSCC 2014, 45 nm),
// the adder-tree formula, monotonicity in bit-width, node scaling and the
// technology table reader.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "config/arch_yaml.h"
#include "config/tech_yaml.h"
#include "cost/arch_cost.h"
#include "cost/model.h"
#include "cost/tech.h"
#include "cost/yosys.h"
#include "lenet_fixture.h"

namespace ristsim::cost {
namespace {

const std::string kTable = std::string(RISTSIM_SOURCE_DIR) + "/configs/tech/45nm.yaml";

TechModel model45() {
  return TechModel(config::load_tech(kTable), 45);
}

TEST(CostAnchors, horowitz_45nm_exact) {
  const TechModel m = model45();
  // Horowitz 2014: integer add 8/32 bits, multiply 8/32 bits, float add and multiply 16/32 bits.
  EXPECT_EQ(m.adder(8).energy_pj, 0.03);
  EXPECT_EQ(m.adder(8).area_um2, 36);
  EXPECT_EQ(m.adder(32).energy_pj, 0.1);
  EXPECT_EQ(m.adder(32).area_um2, 137);
  EXPECT_EQ(m.int_multiplier(8, 8).energy_pj, 0.2);
  EXPECT_EQ(m.int_multiplier(8, 8).area_um2, 282);
  EXPECT_EQ(m.int_multiplier(32, 32).energy_pj, 3.1);
  EXPECT_EQ(m.int_multiplier(32, 32).area_um2, 3495);
  EXPECT_EQ(m.fp_multiplier(16).energy_pj, 1.1);
  EXPECT_EQ(m.fp_multiplier(16).area_um2, 1640);
  EXPECT_EQ(m.fp_multiplier(32).energy_pj, 3.7);
  EXPECT_EQ(m.fp_multiplier(32).area_um2, 7700);
  EXPECT_EQ(m.fp_adder(16).energy_pj, 0.4);
  EXPECT_EQ(m.fp_adder(16).area_um2, 1360);
  EXPECT_EQ(m.fp_adder(32).energy_pj, 0.9);
  EXPECT_EQ(m.fp_adder(32).area_um2, 4184);
  // 64-bit SRAM reads: 10 pJ at 8 KB, 20 pJ at 32 KB, 100 pJ at 1 MB.
  EXPECT_DOUBLE_EQ(m.sram_pj_per_bit(8192) * 64, 10);
  EXPECT_DOUBLE_EQ(m.sram_pj_per_bit(32768) * 64, 20);
  EXPECT_DOUBLE_EQ(m.sram_pj_per_bit(1048576) * 64, 100);
  // DRAM: 1.3 to 2.6 nJ per 64-bit access.
  EXPECT_DOUBLE_EQ(m.dram_pj_per_bit("ddr3_low") * 64, 1300);
  EXPECT_DOUBLE_EQ(m.dram_pj_per_bit("ddr3") * 64, 2600);
  // NAND2_X1 of NanGate 45 nm: 0.798 um^2 is one gate equivalent.
  EXPECT_EQ(m.nand2_um2(), 0.798);
  EXPECT_DOUBLE_EQ(m.int_multiplier(8, 8).ge, 282 / 0.798);
  EXPECT_EQ(m.area_factor(), 1.0);
  EXPECT_EQ(m.energy_factor(), 1.0);
}

TEST(CostAnchors, interpolation_between_anchors) {
  const TechModel m = model45();
  // 16x16 = 256 is the geometric mean of 64 and 1024: log-log midpoint of the anchors.
  EXPECT_NEAR(m.int_multiplier(16, 16).area_um2, std::sqrt(282.0 * 3495.0), 1e-9);
  EXPECT_NEAR(m.int_multiplier(16, 16).energy_pj, std::sqrt(0.2 * 3.1), 1e-12);
  EXPECT_NEAR(m.adder(16).energy_pj, std::sqrt(0.03 * 0.1), 1e-12);
  // sqrt of capacity between 8 KB and 32 KB: 16 KB reads cost 10 * sqrt(2) pJ.
  EXPECT_NEAR(m.sram_pj_per_bit(16384) * 64, 10 * std::sqrt(2.0), 1e-9);
  // m x n depends on m*n only.
  EXPECT_EQ(m.int_multiplier(4, 16).area_um2, m.int_multiplier(8, 8).area_um2);
}

TEST(CostAnchors, node_scaling_stillmaker) {
  const TechModel m7(config::load_tech(kTable), 7);
  // Area: the 45 nm row of the area table, 7 nm column. Energy: the per-node
  // polynomials at the table's Vdd (7 nm at 0.7 V, 45 nm at 1.0 V).
  const double e7 = 0.1776 * 0.7 * 0.7 - 0.09097 * 0.7 + 0.02447;
  const double e45 = 1.103 - 0.362 + 0.2767;
  EXPECT_NEAR(m7.int_multiplier(8, 8).area_um2, 282 * 0.059, 1e-9);
  EXPECT_NEAR(m7.int_multiplier(8, 8).energy_pj, 0.2 * e7 / e45, 1e-12);
  EXPECT_DOUBLE_EQ(m7.int_multiplier(8, 8).ge, 282 / 0.798);    // GE is node independent
  EXPECT_NEAR(m7.dram_pj_per_bit("ddr3"), 2600.0 / 64, 1e-12);  // DRAM not scaled
  EXPECT_THROW(TechModel(config::load_tech(kTable), 5), std::invalid_argument);
  EXPECT_EQ(parse_node_nm("45nm"), 45);
  EXPECT_EQ(parse_node_nm("7 nm"), 7);
  EXPECT_EQ(parse_node_nm("28"), 28);
  EXPECT_EQ(parse_node_nm("nm"), -1);
  EXPECT_EQ(parse_node_nm("45um"), -1);
}

TEST(CostTree, adder_bits_formula) {
  // (K-1)(w0+1) - log2 K for K a power of two, against hand sums of level widths.
  struct Case {
    int k, w0, bits, adders, levels, out;
  };
  const Case cases[] = {
      {1, 8, 0, 0, 0, 8},        // no tree
      {2, 8, 8, 1, 1, 9},        // one 8-bit adder
      {4, 16, 49, 3, 2, 18},     // 2*16 + 17
      {8, 4, 32, 7, 3, 7},       // 4*4 + 2*5 + 6
      {16, 16, 251, 15, 4, 20},  // 8*16 + 4*17 + 2*18 + 19
      {32, 24, 31 * 25 - 5, 31, 5, 29},
  };
  for (const Case& c : cases) {
    const AdderTreeShape s = adder_tree_shape(numeric::FixedType{c.w0, 3}, c.k);
    EXPECT_EQ(s.adder_bits, c.bits) << "K=" << c.k << " w0=" << c.w0;
    EXPECT_EQ(s.adders, c.adders);
    EXPECT_EQ(s.levels, c.levels);
    EXPECT_EQ(s.output.bits, c.out);
    EXPECT_EQ(s.output.fl, 3);
    if (c.k > 1) {
      EXPECT_EQ(s.adder_bits, (c.k - 1) * (c.w0 + 1) - numeric::ceil_log2(c.k));
    }
  }
  // Not a power of two: 3 inputs = one adder at level 1, one at level 2 (odd value passes).
  const AdderTreeShape s3 = adder_tree_shape(numeric::FixedType{10, 0}, 3);
  EXPECT_EQ(s3.adders, 2);
  EXPECT_EQ(s3.adder_bits, 10 + 11);
  // Cost: one adder per node, 8 of 16 bits, 4 of 17, 2 of 18, 1 of 19.
  const TechModel m = model45();
  const double e = 8 * m.adder(16).energy_pj + 4 * m.adder(17).energy_pj +
                   2 * m.adder(18).energy_pj + m.adder(19).energy_pj;
  EXPECT_NEAR(m.adder_tree(numeric::FixedType{16, 0}, 16).energy_pj, e, 1e-12);
}

TEST(CostBlocks, shifter_and_registers) {
  const TechModel m = model45();
  // W * ceil(log2 S) 2:1 muxes; MUX2_X1 = 1.862 um^2, DFF_X1 = 4.522 um^2 (NanGate 45 nm).
  EXPECT_NEAR(m.barrel_shifter(16, 8).area_um2, 16 * 3 * 1.862, 1e-9);
  EXPECT_NEAR(m.barrel_shifter(16, 9).area_um2, 16 * 4 * 1.862, 1e-9);
  EXPECT_EQ(m.barrel_shifter(16, 1).area_um2, 0);
  EXPECT_NEAR(m.registers(32).area_um2, 32 * 4.522, 1e-9);
  EXPECT_NEAR(m.registers(32).ge, 32 * 4.522 / 0.798, 1e-9);
  // Logic energy per GE: 32-bit add energy / (its area in GE).
  EXPECT_NEAR(m.energy_per_ge_pj(), 0.1 / (137 / 0.798), 1e-15);
}

TEST(CostMonotonic, primitives_in_bits) {
  const TechModel m = model45();
  for (int b = 1; b < 64; ++b) {
    EXPECT_LT(m.int_multiplier(b, b).area_um2, m.int_multiplier(b + 1, b + 1).area_um2) << b;
    EXPECT_LT(m.int_multiplier(b, b).energy_pj, m.int_multiplier(b + 1, b + 1).energy_pj) << b;
    EXPECT_LT(m.adder(b).area_um2, m.adder(b + 1).area_um2) << b;
    EXPECT_LT(m.adder(b).energy_pj, m.adder(b + 1).energy_pj) << b;
  }
  for (double kb = 1; kb < 65536; kb *= 2)
    EXPECT_LT(m.sram_pj_per_bit(kb * 1024), m.sram_pj_per_bit(kb * 2048));
}

TEST(CostMonotonic, lane_in_bits_per_format) {
  const TechModel m = model45();
  double last_e = 0, last_a = 0;
  for (int b = 2; b <= 16; ++b) {  // fixed point
    const ArchCost c = arch_cost(testing::fixed_arch(b), m);
    EXPECT_GT(c.energy_per_mac_pj, last_e) << b;
    EXPECT_GT(c.area_um2, last_a) << b;
    last_e = c.energy_per_mac_pj;
    last_a = c.area_um2;
  }
  for (int e : {3, 4, 5}) {  // minifloat: more mantissa bits at a fixed exponent width
    last_e = last_a = 0;
    for (int mant = 0; mant <= 10; ++mant) {
      config::Arch a = testing::fixed_arch(8);
      a.formats.activations.quantizer.format = a.formats.weights.quantizer.format =
          numeric::Format::minifloat(e, mant);
      a.formats.activations.dynamic = a.formats.weights.dynamic = false;
      const ArchCost c = arch_cost(a, m);
      EXPECT_GT(c.energy_per_mac_pj, last_e) << "E" << e << "M" << mant;
      EXPECT_GT(c.area_um2, last_a) << "E" << e << "M" << mant;
      last_e = c.energy_per_mac_pj;
      last_a = c.area_um2;
    }
  }
  last_e = last_a = 0;
  for (int b = 2; b <= 8; ++b) {  // power-of-two weights on 8-bit activations
    config::Arch a = testing::fixed_arch(8);
    a.formats.weights.quantizer.format = numeric::Format::pow2(b, -1);
    a.formats.weights.dynamic = false;
    const ArchCost c = arch_cost(a, m);
    EXPECT_GT(c.energy_per_mac_pj, last_e) << b;
    EXPECT_GT(c.area_um2, last_a) << b;
    last_e = c.energy_per_mac_pj;
    last_a = c.area_um2;
  }
}

TEST(CostArch, dynfixed8_blocks) {
  const TechModel m = model45();
  const config::Arch a = testing::fixed_arch(8);
  const ArchCost c = arch_cost(a, m);
  // Widths from growth.h: 8x8 -> 16-bit products, K = 16 -> 4 levels, 251 adder bits, 20-bit sum.
  EXPECT_EQ(c.pe.mult_m, 8);
  EXPECT_EQ(c.pe.mult_n, 8);
  EXPECT_EQ(c.pe.product.bits, 16);
  EXPECT_EQ(c.pe.product.fl, 8);
  EXPECT_EQ(c.pe.tree.adder_bits, 251);
  EXPECT_EQ(c.pe.tree.output.bits, 20);
  EXPECT_EQ(c.pe.shifter_width, 0);
  // Registers after levels 1..4 as in the generated RTL: 8*17 + 4*18 + 2*19 + 1*20
  // data bits, and per register the valid bit and the tag {first, last, 16-bit bias}.
  EXPECT_EQ(c.pe.pipeline_register_bits, 8 * 17 + 4 * 18 + 2 * 19 + 20 + 4 * (1 + 2 + 16));
  // Registers with the RTL's asynchronous reset: a DFF and an AND2 per bit.
  const double tree = 8 * m.adder(16).energy_pj + 4 * m.adder(17).energy_pj +
                      2 * m.adder(18).energy_pj + m.adder(19).energy_pj +
                      m.reset_registers(8 * 17 + 4 * 18 + 2 * 19 + 20 + 4 * 19, false).energy_pj;
  // Stage 1 (rtl/ristsim_pe_core.sv): 16 aligned products, valid, the 18-bit tag.
  const double products = m.reset_registers(16 * 16 + 1 + 18, false).energy_pj;
  // rtl/ristsim_accumulator.sv: a 33-bit add of the 20-bit sum (20-bit adder, 13-bit
  // carry chain), the first-chunk clear, the overflow check (2 bits agree), the sticky
  // flag, 32 saturation muxes; accumulator, flag and 16-bit tag load on valid; done.
  const double acc =
      m.adder(20).energy_pj + m.incrementer(13).energy_pj + m.gates("AND", 32).energy_pj +
      m.agree_detect(2).energy_pj + m.gates("OR", 2).energy_pj + m.mux2(32).energy_pj +
      m.reset_registers(32 + 1 + 16, true).energy_pj + m.reset_registers(1, false).energy_pj;
  EXPECT_NEAR(c.energy_per_mac_pj,
              0.2 + m.gates("AND", 16).energy_pj + (products + tree + acc) / 16, 1e-12);
  EXPECT_EQ(c.components.front().name, "multipliers");
  EXPECT_EQ(c.components.front().count, 16);
  EXPECT_EQ(c.components.front().each.area_um2, 282);
}

// Unsigned activations (u8 x s8): the same 8x8 multiplier (an unsigned x signed array has
// the same partial products), 16-bit products (255 * -128 fits) and so the same PE cost:
// the fractional bit the sign gave up is free.
TEST(CostArch, unsigned_activations_cost_the_same) {
  const TechModel m = model45();
  config::Arch a = testing::fixed_arch(8);
  const ArchCost s = arch_cost(a, m);
  a.formats.activations.quantizer.format.is_signed = false;
  const ArchCost u = arch_cost(a, m);
  EXPECT_EQ(u.pe.mult_m, 8);
  EXPECT_EQ(u.pe.mult_n, 8);
  EXPECT_EQ(u.pe.product.bits, 16);
  EXPECT_EQ(u.pe.tree.output.bits, s.pe.tree.output.bits);
  EXPECT_EQ(u.energy_per_mac_pj, s.energy_per_mac_pj);
  // Both operands unsigned: 255 * 255 needs 17 bits, one more tree bit everywhere.
  a.formats.weights.quantizer.format.is_signed = false;
  EXPECT_EQ(arch_cost(a, m).pe.product.bits, 17);
}

// OCP MX (configs/mxfp8.yaml): the lane is the element formats' (E4M3: 4x4 significands),
// the tree sums element products on their own grid, and the block adds a 9-bit scale adder
// and a 48-bit alignment shifter once per 32 terms. The same PE without MX, on the products'
// grid (F = 18), differs by exactly those two blocks / 32 per MAC.
TEST(CostArch, mx_adds_the_shared_scale_alignment_per_block) {
  const TechModel m = model45();
  config::Arch mx = config::load_arch(std::string(RISTSIM_SOURCE_DIR) + "/configs/mxfp8.yaml");
  const ArchCost c = arch_cost(mx, m);
  EXPECT_EQ(c.pe.mx_block, 32);
  EXPECT_EQ(c.pe.mx_scale_adder_bits, 9);
  EXPECT_EQ(c.pe.mx_shifter_width, 48);
  EXPECT_EQ(c.pe.mult_m, 4);
  EXPECT_EQ(c.pe.tree_input.bits, c.pe.product.bits);
  double mx_pj = 0;
  int rows = 0;
  for (const Component& x : c.components)
    if (x.name.rfind("MX ", 0) == 0) mx_pj += x.each.energy_pj, ++rows;
  EXPECT_EQ(rows, 2);
  config::Arch plain = mx;
  plain.formats.activations.is_mx = plain.formats.weights.is_mx = false;
  plain.accumulator.frac_bits = c.pe.product.fl;
  const ArchCost p = arch_cost(plain, m);
  EXPECT_EQ(p.pe.mx_block, 0);
  EXPECT_EQ(p.pe.tree_input.bits, c.pe.tree_input.bits);
  EXPECT_NEAR(c.energy_per_mac_pj - p.energy_per_mac_pj, mx_pj / 32, 1e-12);
  EXPECT_GT(mx_pj, 0.0);
}

TEST(CostArch, pow2_and_minifloat_lanes) {
  const TechModel m = model45();
  config::Arch a = testing::fixed_arch(8);
  a.formats.weights.quantizer.format = numeric::Format::pow2(4, -1);  // exponents -8..-1
  a.formats.weights.dynamic = false;
  PeDesign d = pe_design(a, a.formats);
  EXPECT_EQ(d.mult_m, 0);  // no multiplier: a shifter
  EXPECT_EQ(d.shifter_positions, 8u);
  // fixed<8> x pow2 (fixed<9,8>): -128 * -2^-1 = 64 = 2^14 quanta needs 16 bits, not 8 + 9.
  EXPECT_EQ(d.shifter_width, 16);
  a.formats.weights.quantizer.format = numeric::Format::e4m3();
  a.formats.activations.quantizer.format = numeric::Format::e4m3();
  d = pe_design(a, a.formats);
  EXPECT_EQ(d.mult_m, 4);  // (M+1) x (M+1) significands
  EXPECT_EQ(d.mult_n, 4);
  EXPECT_EQ(d.exp_adder_bits, 4);
  EXPECT_EQ(d.shifter_positions, 16u + 16u - 1u);
  EXPECT_EQ(d.shifter_width, 37);  // 448^2 * 2^18 < 2^36: fixed<37,18>
}

TEST(CostLayers, energy_split_adds_up) {
  const TechModel m = model45();
  const config::Arch a = testing::fixed_arch(8);
  const auto layers = testing::lenet_layers(a);
  ASSERT_EQ(layers.size(), 4u);
  EXPECT_EQ(layers[0].macs, 288000u);
  EXPECT_EQ(layers[1].macs, 1600000u);
  EXPECT_EQ(layers[2].macs, 400000u);
  EXPECT_EQ(layers[3].macs, 5000u);
  const auto e = layer_energy(a, m, layers);
  // conv1: 25 terms -> 2 chunks of 16 per output, 11520 outputs; 8-bit everything.
  EXPECT_EQ(e[0].chunks, 11520u * 2);
  // Cycles from the cycle model: one PE issues 23040 chunks back to back, the
  // last result 7 - 1 cycles after the last chunk (the latency of a K = 16 PE
  // with a register per tree level): what the SystemC scheduler measures
  // (ctest systemc_count_conv1_p1).
  EXPECT_EQ(e[0].cycles, 11520u * 2 + 6);
  EXPECT_EQ(e[0].stall_cycles, 0u);
  EXPECT_FALSE(e[0].cycles_given);
  EXPECT_NEAR(e[0].utilisation, 288000.0 / (23046.0 * 16), 1e-12);
  // Each lane: the 8x8 multiplier and 16 lane-enable ANDs.
  EXPECT_NEAR(e[0].multipliers, 23040.0 * 16 * (0.2 + m.gates("AND", 16).energy_pj), 1e-6);
  // DRAM: (weights + inputs + outputs) * 8 bits + biases * 16 bits at 2600/64 pJ per bit.
  EXPECT_EQ(layers[0].dram_bits, (500u + 784u + 11520u) * 8u + 20u * 16u);
  EXPECT_NEAR(e[0].dram, double(layers[0].dram_bits) * 2600.0 / 64, 1e-6);
  EXPECT_NEAR(e[0].total(),
              e[0].multipliers + e[0].tree + e[0].shifters + e[0].accumulator + e[0].output_stage +
                  e[0].sram + e[0].dram,
              1e-9);
  EXPECT_GT(e[0].output_stage, 0);
  EXPECT_EQ(e[0].shifters, 0);
}

TEST(CostLayers, cycles_on_several_pes_and_given_cycles) {
  const TechModel m = model45();
  config::Arch a = testing::fixed_arch(8);
  a.array.pes = 3;
  a.array.pipeline_every = 2;  // latency 1 + 2 + 2 = 5
  auto layers = testing::lenet_layers(a);
  auto e = layer_energy(a, m, layers);
  // ip2: 10 outputs on 3 PEs -> 4 elements of 32 chunks on the busiest one.
  EXPECT_EQ(e[3].cycles, 4u * 32 + 5 - 1);
  EXPECT_NEAR(e[3].utilisation, 5000.0 / (132.0 * 3 * 16), 1e-12);
  layers[3].cycles = 1000;  // measured elsewhere: taken as given
  e = layer_energy(a, m, layers);
  EXPECT_EQ(e[3].cycles, 1000u);
  EXPECT_TRUE(e[3].cycles_given);
}

TEST(CostLayers, activity_scales_compute_only) {
  const TechModel m = model45();
  const config::Arch a = testing::fixed_arch(8);
  auto layers = testing::lenet_layers(a);
  const auto full = layer_energy(a, m, layers);
  for (LayerWork& w : layers) w.activity = 0.25;
  const auto quarter = layer_energy(a, m, layers);
  for (size_t i = 0; i < layers.size(); ++i) {
    EXPECT_DOUBLE_EQ(quarter[i].multipliers, full[i].multipliers * 0.25);
    EXPECT_DOUBLE_EQ(quarter[i].tree, full[i].tree * 0.25);
    EXPECT_DOUBLE_EQ(quarter[i].accumulator, full[i].accumulator * 0.25);
    EXPECT_DOUBLE_EQ(quarter[i].output_stage, full[i].output_stage * 0.25);
    EXPECT_EQ(quarter[i].sram, full[i].sram);
    EXPECT_EQ(quarter[i].dram, full[i].dram);
  }
}

TEST(CostTable, errors_name_the_line) {
  try {
    config::parse_tech("name: x\nnode_nm: 45\nbogus: 1\n", "t.yaml");
    FAIL() << "no error";
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.line(), 3);
    EXPECT_NE(std::string(e.what()).find("unknown key 'bogus'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(config::load_tech("/nonexistent/tech.yaml"), config::ConfigError);
  const config::TechTable t = config::load_tech(kTable);
  EXPECT_EQ(t.node_nm, 45);
  EXPECT_EQ(t.operations.at("int_mult").size(), 2u);
  EXPECT_EQ(t.operations.at("int_mult")[0].source, "horowitz2014");
  EXPECT_EQ(t.sram.size(), 3u);
  EXPECT_EQ(t.nodes.size(), 7u);
  EXPECT_TRUE(t.sources.count("stillmaker2017"));
}

TEST(CostYosysParse, stat_block) {
  const std::string stat =
      "=== mul_signed ===\n\n   Number of wires:                397\n   Number of cells:           "
      "     410\n"
      "     $_AND_                         75\n     $_MUX_                          4\n"
      "     $_NAND_                       181\n     $_NOT_                          9\n"
      "     $_XOR_                        114\n     $_DFF_P_                        2\n\n";
  const auto cells = parse_yosys_stat(stat);
  ASSERT_EQ(cells.size(), 6u);
  EXPECT_EQ(cells.at("AND"), 75u);
  EXPECT_EQ(cells.at("DFF_P"), 2u);
  const config::TechTable t = config::load_tech(kTable);
  std::vector<std::string> unknown;
  const double ge = gate_equivalents(cells, t, &unknown);
  EXPECT_TRUE(unknown.empty());
  EXPECT_NEAR(ge,
              (75 * 1.064 + 4 * 1.862 + 181 * 0.798 + 9 * 0.532 + 114 * 1.596 + 2 * 4.522) / 0.798,
              1e-9);
}

TEST(CostTable, arch_node_and_table_path) {
  config::Arch a = testing::fixed_arch(8);
  a.path = std::string(RISTSIM_SOURCE_DIR) + "/configs/dynfixed8.yaml";
  // No technology.table: the arch folder's tech/45nm.yaml.
  EXPECT_EQ(tech_table_path(a), std::string(RISTSIM_SOURCE_DIR) + "/configs/tech/45nm.yaml");
  a.tech.table = "tech/45nm.yaml";  // relative to the arch file's folder
  EXPECT_EQ(tech_table_path(a), std::string(RISTSIM_SOURCE_DIR) + "/configs/tech/45nm.yaml");
  EXPECT_EQ(tech_table_path(a, "/x/y.yaml"), "/x/y.yaml");
  a.tech.node = "14nm";
  const TechModel m = tech_model_for(a);
  EXPECT_EQ(m.node_nm(), 14);
  EXPECT_NEAR(m.int_multiplier(8, 8).area_um2, 282 * 0.17, 1e-9);
  // A node the table lacks is a config error at technology.node's position in the arch file.
  a.tech.node = "28nm";  // not tabulated
  a.tech.node_line = 14;
  a.tech.node_column = 20;
  try {
    tech_model_for(a);
    ADD_FAILURE() << "no error for 28nm";
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.line(), 14);
    EXPECT_EQ(e.column(), 20);
    EXPECT_NE(e.message().find("technology.node '28nm' is not a node of the technology table"),
              std::string::npos);
  }
  a.tech.node = "fast";
  EXPECT_THROW(tech_model_for(a), config::ConfigError);
}

}  // namespace
}  // namespace ristsim::cost

namespace ristsim::cost {
namespace {

TEST(CostMapping, a_1x1_default_arch_keeps_the_no_reuse_traffic_and_the_cycle_model) {
  // The shipped 1-PE configs: a 1 x 1 broadcast array, one shared 64 KiB buffer,
  // DDR3. The mapper's DRAM traffic equals the no-reuse model's (every operand
  // crosses once; lenet ip1's 400 KB of weights stream through the buffer once),
  // its buffer traffic adds the outputs' drain to DRAM (M N reads), and the
  // cycles are count_layer's: ceil(outputs / P) chunks + latency - 1.
  const TechModel m = model45();
  const config::Arch a = testing::fixed_arch(8);
  const auto layers = testing::lenet_layers(a);
  const auto e = layer_energy(a, m, layers);
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerWork& w = layers[i];
    EXPECT_EQ(e[i].dram_bits, double(w.dram_bits)) << w.name;
    EXPECT_EQ(e[i].sram_bits, double(w.sram_read_bits + w.sram_write_bits + w.outputs * 8))
        << w.name;
    EXPECT_EQ(e[i].cycles, w.outputs * ((w.terms + 15) / 16) + 7 - 1) << w.name;
    EXPECT_EQ(e[i].rf, 0);  // no register-file level
  }
}

TEST(CostMapping, a_systolic_arch_prices_every_level_and_reuse_cuts_dram) {
  const TechModel m = model45();
  config::Arch a = config::parse_arch(
      "name: t\nformats:\n"
      "  activations: {type: fixed, bits: 8, fl: 4}\n  weights: {type: fixed, bits: 8, fl: 7}\n"
      "  bias: {type: fixed, bits: 16, fl: 8}\n  outputs: {type: fixed, bits: 8, fl: 4}\n"
      "array: {rows: 16, cols: 16, lanes: 1, dataflow: weight_stationary}\n"
      "memory:\n"
      "  - {name: wreg, kind: register_file, operand: weights, bytes: 1}\n"
      "  - {name: buf, kind: sram, capacity_kib: 256}\n"
      "  - {name: dram, kind: dram, type: ddr4}\n",
      "t.yaml");
  const auto layers = testing::lenet_layers(a);
  const ArchCost ac = arch_cost(a, m);
  ASSERT_EQ(ac.level_energy.size(), 3u);
  // Register file of 1 byte, 8-bit words: one MUX2 level per bit read, one DFF per bit written.
  EXPECT_DOUBLE_EQ(ac.level_energy[0].read_pj_per_bit, m.mux2(1).energy_pj);
  EXPECT_DOUBLE_EQ(ac.level_energy[0].write_pj_per_bit, m.registers(1).energy_pj);
  EXPECT_DOUBLE_EQ(ac.level_energy[1].read_pj_per_bit, m.sram_pj_per_bit(256 * 1024));
  EXPECT_DOUBLE_EQ(ac.level_energy[2].read_pj_per_bit, 15.0);
  const auto e = layer_energy(a, m, layers);
  for (size_t i = 0; i < layers.size(); ++i) {
    double levels = 0;
    for (const map::LevelCount& c : e[i].map.levels) levels += c.energy_pj;
    EXPECT_NEAR(e[i].rf + e[i].sram + e[i].dram, levels, 1e-6 * levels) << layers[i].name;
    EXPECT_GT(e[i].rf, 0);
    // Every MAC reads its weight from the PE's register, not from the buffer.
    EXPECT_EQ(e[i].map.levels[0].op[map::kWeights].reads, double(layers[i].macs));
  }
  // conv2's 25 000 weights cross DRAM once and leave the buffer once (WS: each
  // weight is loaded into its PE once and used by all 64 output pixels there),
  // against 1.6 M buffer reads of the no-reuse model.
  EXPECT_EQ(e[1].map.levels[2].op[map::kWeights].reads, 25000.0);
  EXPECT_EQ(e[1].map.levels[1].op[map::kWeights].reads, 25000.0);
}

TEST(CostMapping, an_unknown_dram_type_names_the_level) {
  const TechModel m = model45();
  const config::Arch a = config::parse_arch(
      "name: t\nformats:\n"
      "  activations: {type: fixed, bits: 8, fl: 4}\n  weights: {type: fixed, bits: 8, fl: 7}\n"
      "  bias: {type: fixed, bits: 16, fl: 8}\n  outputs: {type: fixed, bits: 8, fl: 4}\n"
      "memory:\n  - {name: buf, kind: sram, capacity_kib: 64}\n  - {name: d, kind: dram, type: ddr9}\n",
      "t.yaml");
  try {
    arch_cost(a, m);
    FAIL() << "no error";
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.line(), 9);
    EXPECT_EQ(e.column(), 5);
    EXPECT_NE(e.message().find("memory level d: unknown DRAM type 'ddr9'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace ristsim::cost
