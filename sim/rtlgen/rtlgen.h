// The RTL generator: synthesizable SystemVerilog for one processing element
// (PE) of an arch, one module per file, in the lowRISC style (docs/rtl.md).
// Every width comes from PeShape (pe_shape.h), which takes it from the
// numeric core's growth rules; every rounding implements rounding.h's one
// decision, bit for bit. Plain C++: no SystemC, no Verilator.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/arch.h"
#include "rtlgen/pe_shape.h"

namespace ristsim::rtlgen {

/// Deliberate defects, used only by the tests that prove the co-simulation
/// catches them (*_bad tests). Never used by `ristsim rtl`.
enum class PlantedBug {
  none,
  tree_narrow,  ///< adder-tree level 1 one bit too narrow (the sign extension dropped)
  truncate,     ///< output conversion truncates (rounds down) instead of its rounding mode
  no_saturate,  ///< output conversion drops the saturation (keeps the low bits)
  drop_lane,    ///< the last lane's product is never added
};

const char* to_string(PlantedBug b);
/// Parses a bug name ("none", "tree_narrow", ...); false if unknown.
bool parse_planted_bug(const std::string& s, PlantedBug* out);

/// The PE array of a systolic arch (docs/array.md): rows x cols PEs and the dataflow.
struct ArrayDims {
  int rows = 1, cols = 1;
  config::Dataflow dataflow = config::Dataflow::output_stationary;
  /// True when the arch gets the array top (ristsim_array): a systolic array of more than one PE.
  bool is_array() const { return rows * cols > 1; }
};

/// The array of an arch: its rows, columns and dataflow when the interconnect is
/// systolic, else 1 x 1 (a broadcast array is P independent PEs: the PE top).
ArrayDims array_dims(const config::Arch& arch);

struct RtlOptions {
  std::string arch_path;  ///< recorded in the headers
  std::string arch_hash;  ///< "0x..." FNV-1a of the arch file's text, recorded in the headers
  PlantedBug bug = PlantedBug::none;
  ArrayDims array;  ///< rows x cols > 1: also the array top (ristsim_array.sv)
};

/// One port of a generated top: its name, width in bits and direction.
struct RtlPort {
  std::string name;
  int width = 1;
  bool input = true;
};

/// Name of the array's top module.
inline const char* kArrayTop = "ristsim_array";

/// The ports of ristsim_array, in declaration order (clk_i and rst_ni first;
/// cfg_we_i / cfg_fl_i only with runtime_fl): west_* per row, north_* and
/// south_* and the outputs per column, row / column i at bits [i*W +: W]
/// (rtl/ristsim_pe_array.sv). The Verilated array's wrapper packs its inputs
/// by this list.
std::vector<RtlPort> array_ports(const PeShape& shape, const ArrayDims& dims);

/// One generated file: its name (e.g. "ristsim_pe.sv") and its text.
struct RtlFile {
  std::string name;
  std::string text;
};

/// The one printer of the generated RTL's sized literals, as lowRISC writes
/// them: the width in decimal, then the value in decimal (W'dV) or hex (W'hV);
/// one bit is 1'b0 / 1'b1. A value that does not fit its width is a generator
/// bug (Verilog would drop the top bits): throws std::logic_error.
/// verilog_literal(15, 0x7bff, true) is "15'h7bff".
std::string verilog_literal(int width, uint64_t value, bool hex = false);

/// Name of the PE's top module.
inline const char* kPeTop = "ristsim_pe";

/// Generates the PE's modules (deterministic: the same shape and options give
/// the same bytes): the library, the PE top ristsim_pe.sv and, for an array
/// (options.array.is_array()), the array top ristsim_array.sv. The last file
/// is "files.f", the list of sources in compilation order. Throws Unsupported.
std::vector<RtlFile> generate_pe_rtl(const PeShape& shape, const RtlOptions& options);

/// Generates the PE of an arch (its default layer formats), recording its name,
/// path and the hash of its text.
std::vector<RtlFile> generate_pe_rtl(const config::Arch& arch, PlantedBug bug = PlantedBug::none,
                                     const std::string& dynamic_fl = "arch");

/// Writes the files into `dir` (created if missing), each through util::write_file (throws
/// util::WriteError). Commands write into a util::OutputDir staging folder.
void write_rtl(const std::string& dir, const std::vector<RtlFile>& files);

}  // namespace ristsim::rtlgen
