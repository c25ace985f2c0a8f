// The cost report: from an arch, the work of each layer and the accuracy
// numbers, report.md, report.html (self-contained: CSS and SVG plots inline, no
// network) and report.json, plus the plots as SVG files under plots/.
//
// Every file is built in memory first and then written through util::write_file
// (temporary file, fsync, rename); the commands write into a staged folder
// (util::OutputDir), so a failed run leaves no partial report.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/arch.h"
#include "cost/arch_cost.h"
#include "cost/model.h"
#include "cost/yosys.h"

namespace ristsim::cost {

/// One result of a quantization search: its accuracy and energy per inference.
struct ParetoPoint {
  std::string label;
  double energy_pj = 0;  ///< per inference
  double accuracy = 0;   ///< fraction 0..1
};

struct ReportInput {
  config::Arch arch;
  std::string model_name;  ///< e.g. "lenet"
  std::string data_name;   ///< e.g. "fashion-mnist t10k"
  std::vector<LayerWork> layers;
  std::optional<double> accuracy_fp32, accuracy_quantized;  ///< fractions 0..1
  std::vector<ParetoPoint> pareto;
  std::vector<CrossCheck> cross_checks;
  MemorySpec memory;
  std::vector<std::string> notes;  ///< caveats shown under the summary (e.g. random weights)
};

/// A thesis claim checked on the arch.
struct Claim {
  std::string claim;
  double value = 0;
  std::string expected;
  bool holds = false;
  std::string how;
};

/// The summary numbers of the report.
struct Summary {
  ArchCost arch;
  std::vector<LayerEnergy> layers;
  uint64_t macs = 0, cycles = 0;  ///< cycles: the layers' cycle-model counts, one after another
  uint64_t stall_cycles = 0;       ///< PE-cycles waiting for operands
  double energy_pj = 0, compute_pj = 0, rf_pj = 0, sram_pj = 0, dram_pj = 0;  ///< per inference
  double energy_per_mac_pj = 0;  ///< everything (memory included) / MACs
  double tops_per_w = 0;         ///< 2 ops per MAC
  double inferences_per_s = 0;   ///< frequency / cycles
  double utilisation = 0;        ///< MACs / (cycles * P * K)
  uint64_t sram_bits = 0, dram_bits = 0;  ///< the mapper's buffer and DRAM traffic
  std::vector<Claim> claims;
};

Summary summarize(const ReportInput& in, const TechModel& model);

/// The points of the Pareto front (no other point has lower or equal energy and
/// higher or equal accuracy, one of them strictly), sorted by energy.
std::vector<ParetoPoint> pareto_front(const std::vector<ParetoPoint>& points);

struct ReportFiles {
  std::string md, html, json;
  std::string csv;  ///< report.csv: SCALE-Sim-style per-layer cycles and traffic
  std::vector<std::string> plots;  ///< SVG files written (empty without gnuplot)
  std::string plot_note;           ///< why plots are missing, if they are
};

/// SCALE-Sim-style CSV: one row per layer (mapping, cycles, stalls,
/// utilisation, SCALE-Sim's formula, traffic and energy per level).
std::string render_csv(const ReportInput& in, const Summary& s);

/// Writes report.md, report.html, report.json, report.csv and plots/*.svg into `out_dir`
/// (created if needed). Throws util::WriteError on failure; no file is ever half
/// written (write into a util::OutputDir's staging folder for all-or-nothing).
ReportFiles write_report(const ReportInput& in, const TechModel& model, const std::string& out_dir);

}  // namespace ristsim::cost
