// The report of a sweep (`ristsim report --sweep DIR`): for each model, the
// Pareto fronts of top-1 accuracy against energy per inference, against logic
// area and against cycles per inference (cost::pareto_front: no other point is at
// most as costly and at least as accurate, one of them strictly), each as a table
// and as a gnuplot SVG with every point drawn and the front's points labelled by
// their index. Written to OUT/sweep_report.md, .html (self-contained), .json and
// OUT/plots/*.svg.
#pragma once

#include <string>
#include <vector>

#include "sweep/results.h"

namespace ristsim::sweep {

/// The cost axes of the fronts: column, its title, unit scale for display.
struct CostAxis {
  const char* column;  ///< energy_pj, area_um2, cycles
  const char* title;   ///< "energy per inference (uJ)"
  double scale;        ///< column value x scale = displayed value
};
const std::vector<CostAxis>& cost_axes();

struct Front {
  std::string model;
  const CostAxis* axis = nullptr;
  std::vector<Row> points;  ///< every ok point of the model with both values
  std::vector<Row> front;   ///< the Pareto front, by cost ascending
};

/// The fronts of every model and cost axis of the rows (ok rows only).
std::vector<Front> pareto_fronts(const std::vector<Row>& rows);

struct SweepReportFiles {
  std::string md, html, json;
  std::vector<std::string> plots;
  std::string plot_note;  ///< why plots are missing, if they are
};

/// Reads DIR/results.sqlite and writes the report into `out_dir`. Throws
/// std::runtime_error (no database, no ok point).
SweepReportFiles write_sweep_report(const std::string& dir, const std::string& out_dir);

}  // namespace ristsim::sweep
