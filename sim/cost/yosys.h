// Cross-check of the cost model against Yosys: synthesize a block of Verilog to
// generic gates, count them in NAND2 equivalents (cell area / NAND2 area from the
// technology table: NOT 0.67, NAND/NOR 1, AND/OR 1.33, XOR/XNOR 2, MUX 2.33,
// DFF 5.67 with the NanGate 45 nm areas), and compare with the model.
//
// The script (a .ys file, never a -p string):
//   read_verilog -sv FILES; synth -top TOP -flatten; async2sync;
//   dfflegalize -cell $_DFF_P_ 01; abc -g AND,NAND,OR,NOR,XOR,XNOR,MUX; opt_clean;
//   tee -o STAT stat
// async2sync turns the lowRISC-style asynchronous resets (rst_ni) into reset
// gating in front of a plain DFF, which dfflegalize can then map to $_DFF_P_;
// a NanGate DFFR_X1 would be slightly smaller than DFF_X1 plus that gating.
// Yosys 0.23 cannot parse immediate assertions with an action block
// (`assert (...) else $fatal(...)`); the generated RTL keeps its parameter
// assertions inside `ifndef SYNTHESIS (yosys defines SYNTHESIS), so it is read
// as written.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/tech_yaml.h"

namespace ristsim::cost {

/// The yosys executable: $RISTSIM_YOSYS if set, else `yosys` on PATH; "" if none.
std::string find_yosys();

/// Cell counts of a `stat` report, by generic cell name without the $_ _ marks
/// ("AND", "MUX", "DFF_P"). The last "Number of cells" block counts.
std::map<std::string, uint64_t> parse_yosys_stat(const std::string& text);

/// NAND2 equivalents of `cells`; cells the table does not know are listed in
/// `unknown` (and count 0).
double gate_equivalents(const std::map<std::string, uint64_t>& cells,
                        const config::TechTable& table,
                        std::vector<std::string>* unknown = nullptr);

struct Synthesis {
  std::map<std::string, uint64_t> cells;
  double ge = 0;
  std::vector<std::string> unknown_cells;
  std::string script_path, log_path;
};

/// Synthesizes `top` from `verilog` files in `work_dir` (created if needed).
/// Throws std::runtime_error when yosys fails (the message names its log).
Synthesis synthesize(const std::string& yosys, const std::vector<std::string>& verilog,
                     const std::string& top, const std::string& work_dir,
                     const config::TechTable& table);

/// Model against yosys for one block.
struct CrossCheck {
  std::string block;     ///< e.g. "lane multiplier 8x8"
  std::string top;       ///< the synthesized module
  double instances = 1;  ///< the block is synthesized once and multiplied by this
  double model_ge = 0;   ///< the model's GE for all instances
  double yosys_ge = 0;   ///< yosys GE for all instances
  double ratio() const { return model_ge > 0 ? yosys_ge / model_ge : 0; }
  /// More than 50 % apart (ratio outside [1/1.5, 1.5]).
  bool warn() const { return model_ge <= 0 || ratio() > 1.5 || ratio() < 1 / 1.5; }
  std::map<std::string, uint64_t> cells;  ///< of one instance
  std::string error;                      ///< yosys failed on this block (then yosys_ge is 0)
};

}  // namespace ristsim::cost
