// Arch YAML: the accelerator keys (`array` rows x cols and dataflow, `memory`
// levels). Defaults keep the shipped 1-PE configs as 1 x 1 broadcast arrays with
// the default hierarchy; every bad key gives FILE:LINE:COLUMN and what was expected.
#include <gtest/gtest.h>

#include <string>

#include "config/arch_yaml.h"
#include "config/describe.h"

namespace {

using namespace ristsim;
using config::ConfigError;

const std::string kHead =
    "name: t\n"                                     // 1
    "formats:\n"                                    // 2
    "  activations: {type: fixed, bits: 8, fl: 4}\n"  // 3
    "  weights:     {type: fixed, bits: 8, fl: 7}\n"  // 4
    "  bias:        {type: fixed, bits: 16, fl: 8}\n"  // 5
    "  outputs:     {type: fixed, bits: 8, fl: 4}\n";  // 6

const std::string kMemory =
    "memory:\n"                                                                         // 8
    "  - {name: wrf, kind: register_file, operand: weights, bytes: 2}\n"                // 9
    "  - {name: ibuf, kind: sram, operand: inputs, capacity_kib: 64, width_bits: 128, banks: 2}\n"  // 10
    "  - {name: wbuf, kind: sram, operand: weights, capacity_kib: 64, width_bits: 128}\n"  // 11
    "  - {name: obuf, kind: sram, operand: outputs, capacity_kib: 16}\n"                // 12
    "  - {name: dram, kind: dram, type: ddr4, bandwidth_bytes_per_cycle: 16}\n";        // 13

config::Arch parse(const std::string& tail) {
  return config::parse_arch(kHead + tail, "x.yaml");
}

/// The error of parsing `tail`, as "LINE:COLUMN: message".
std::string error_of(const std::string& tail) {
  try {
    parse(tail);
  } catch (const ConfigError& e) {
    return std::to_string(e.line()) + ":" + std::to_string(e.column()) + ": " + e.message();
  }
  return "no error";
}

TEST(ArchMemoryYaml, defaults_are_a_1x1_broadcast_array_with_one_buffer_and_dram) {
  const config::Arch a = parse("");
  EXPECT_EQ(a.array.rows, 1);
  EXPECT_EQ(a.array.cols, 1);
  EXPECT_EQ(a.array.pes, 1);
  EXPECT_EQ(a.array.interconnect, config::Interconnect::broadcast);
  EXPECT_EQ(a.array.dataflow, config::Dataflow::output_stationary);
  EXPECT_FALSE(a.memory.given);
  ASSERT_EQ(a.memory.levels.size(), 2u);
  EXPECT_EQ(a.memory.levels[0].kind, config::MemoryKind::sram);
  EXPECT_EQ(a.memory.levels[0].operand, config::MemoryOperand::shared);
  EXPECT_EQ(a.memory.levels[1].kind, config::MemoryKind::dram);
}

TEST(ArchMemoryYaml, pes_is_a_column_of_broadcast_pes) {
  const config::Arch a = parse("array: {pes: 4, lanes: 8}\n");
  EXPECT_EQ(a.array.rows, 4);
  EXPECT_EQ(a.array.cols, 1);
  EXPECT_EQ(a.array.pes, 4);
  EXPECT_EQ(a.array.interconnect, config::Interconnect::broadcast);
}

TEST(ArchMemoryYaml, rows_cols_dataflow_and_levels) {
  const config::Arch a =
      parse("array: {rows: 16, cols: 8, lanes: 1, dataflow: weight_stationary}\n" + kMemory);
  EXPECT_EQ(a.array.rows, 16);
  EXPECT_EQ(a.array.cols, 8);
  EXPECT_EQ(a.array.pes, 128);
  EXPECT_EQ(a.array.interconnect, config::Interconnect::systolic);
  EXPECT_EQ(a.array.dataflow, config::Dataflow::weight_stationary);
  ASSERT_EQ(a.memory.levels.size(), 5u);
  EXPECT_TRUE(a.memory.given);
  const config::MemoryLevel& rf = a.memory.levels[0];
  EXPECT_EQ(rf.kind, config::MemoryKind::register_file);
  EXPECT_EQ(rf.operand, config::MemoryOperand::weights);
  EXPECT_EQ(rf.capacity_bytes, 2);
  const config::MemoryLevel& ib = a.memory.levels[1];
  EXPECT_EQ(ib.name, "ibuf");
  EXPECT_EQ(ib.capacity_bytes, 65536);
  EXPECT_EQ(ib.width_bits, 128);
  EXPECT_EQ(ib.banks, 2);
  EXPECT_EQ(ib.words_per_cycle(8), 32);  // 128 bits x 2 banks / 8 bits
  EXPECT_EQ(ib.line, 10);
  EXPECT_EQ(a.memory.levels[3].words_per_cycle(8), 0);  // no width: unlimited
  const config::MemoryLevel& d = a.memory.levels[4];
  EXPECT_EQ(d.dram_type, "ddr4");
  EXPECT_EQ(d.bandwidth_bytes_per_cycle, 16);
  EXPECT_EQ(d.words_per_cycle(8), 16);
  const std::string text = config::describe(a);
  EXPECT_NE(text.find("128 PEs x 1 lanes (16 x 8, systolic, weight_stationary)"), std::string::npos) << text;
  EXPECT_NE(text.find("ibuf: sram for inputs, 64 KiB, 128 bits/cycle x 2 banks"), std::string::npos)
      << text;
  EXPECT_NE(text.find("dram: dram ddr4, 16 bytes/cycle"), std::string::npos) << text;
}

TEST(ArchMemoryYaml, errors_name_line_column_and_what_was_expected) {
  EXPECT_EQ(error_of("array: {pes: 4, rows: 2}\n"),
            "7:14: array.pes and array.rows / array.cols exclude each other (pes: P is a P x 1 "
            "broadcast array; give rows and cols for a systolic array)");
  EXPECT_EQ(error_of("array: {rows: 4, cols: 4, dataflow: diagonal}\n"),
            "7:37: unknown value 'diagonal' for array.dataflow (expected one of: "
            "output_stationary, weight_stationary, input_stationary)");
  EXPECT_EQ(error_of("array: {pes: 4, dataflow: weight_stationary}\n"),
            "7:27: array.dataflow weight_stationary needs interconnect: systolic (a broadcast "
            "array is output stationary: every PE keeps its own outputs)");
  EXPECT_EQ(error_of("array: {rows: 1024, cols: 1024}\n"),
            "7:15: array.rows x array.cols is 1048576 PEs, expected at most 65536");
  EXPECT_EQ(error_of("memory: {name: x}\n"),
            "7:9: expected a list of memory levels (innermost first, DRAM last) for memory, got "
            "a map");
  EXPECT_EQ(error_of("memory:\n  - {name: b, kind: sram, capacity_kib: 8}\n"),
            "8:3: memory has no DRAM level (the last level must be kind: dram)");
  EXPECT_EQ(error_of("memory:\n  - {name: b, kind: sram, operand: inputs, capacity_kib: 8}\n"
                     "  - {name: d, kind: dram}\n"),
            "8:3: memory has no buffer (kind: sram) for weights (give it its own, or a buffer "
            "with operand: shared)");
  EXPECT_EQ(error_of("memory:\n  - {name: b, kind: sram, capacity_kib: 8}\n"
                     "  - {name: d, kind: dram}\n  - {name: e, kind: sram, capacity_kib: 8}\n"),
            "10:5: memory[2] follows the DRAM level; DRAM is the outermost level and comes last");
  EXPECT_EQ(error_of("memory:\n  - {name: b, kind: sram, capacity_kib: 8}\n"
                     "  - {name: r, kind: register_file, operand: inputs, bytes: 1}\n"
                     "  - {name: d, kind: dram}\n"),
            "9:5: memory[1] (register_file) follows a sram level; levels go innermost first: "
            "register files, buffers, DRAM");
  EXPECT_EQ(error_of("memory:\n  - {name: b, kind: sram, capacity_kib: 8}\n"
                     "  - {name: c, kind: sram, operand: weights, capacity_kib: 8}\n"
                     "  - {name: d, kind: dram}\n"),
            "9:5: memory[1]: a second sram for weights (one per operand)");
  EXPECT_EQ(error_of("memory:\n  - {name: b, kind: sram, capacity_kib: 0}\n  - {name: d, kind: dram}\n"),
            "8:41: memory[0].capacity_kib is 0, expected a number above 0.000000");
  EXPECT_EQ(error_of("memory:\n  - {name: b, kind: sram, capacity_kib: 8, type: ddr4}\n"
                     "  - {name: d, kind: dram}\n"),
            "8:44: unknown key 'type' in memory[0] (expected one of: name, kind, operand, "
            "capacity_kib, width_bits, banks)");
  EXPECT_EQ(error_of("memory:\n  - {name: r, kind: register_file, bytes: 2}\n"
                     "  - {name: b, kind: sram, capacity_kib: 8}\n  - {name: d, kind: dram}\n"),
            "8:5: missing key 'operand' in memory[0] (a register file holds one operand)");
  EXPECT_EQ(error_of("memory:\n  - {name: b, kind: sram, capacity_kib: 8}\n"
                     "  - {name: b, kind: dram}\n"),
            "9:5: duplicate memory level name 'b' (first at line 8)");
  EXPECT_EQ(error_of("memory:\n  - {name: b, kind: sram, capacity_kib: 8}\n"
                     "  - {name: d, kind: dram, bandwidth_bytes_per_cycle: -1}\n"),
            "9:54: memory[1].bandwidth_bytes_per_cycle is -1, expected a number above 0.000000");
}

}  // namespace
