// One layer through the PE array: the mapping the cost report uses (sim/map
// via sim/cost), the controller walking its tiles and folds, the SystemC
// array model and, when given, a second model of the array (the Verilated
// array RTL) in lockstep: every column's south edge compared every cycle, the
// first divergence reported with its PE column (row where known) and cycle,
// every converted output checked against kernels/reference and, when given,
// the functional model's codes; the simulated cycles compared with the
// mapper's analytic count. SystemC elaborates once per process: one run per
// process.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/arch.h"
#include "cycle/array_controller.h"
#include "cycle/array_model.h"
#include "cycle/cosim.h"
#include "map/mapper.h"
#include "rtlgen/rtlgen.h"

namespace ristsim::cycle {

/// A second model of the array driven in lockstep with the SystemC one.
class ArrayDut {
 public:
  virtual ~ArrayDut() = default;
  virtual std::string name() const = 0;
  virtual rtlgen::ArrayOutputs cycle(const rtlgen::ArrayInputs& in) = 0;
};

/// The Verilated array RTL (rtl/ristsim_pe_array.sv under the generated
/// ristsim_array top, h-arrayrtl's rtlgen::VerilatedArray) as an ArrayDut.
struct ArrayRtlOptions {
  std::string rtl_dir;     ///< RTL written by `ristsim rtl` for this array; empty: generate it
  std::string cache_root;  ///< Verilator builds; empty: rtlgen::default_cache_root()
  std::string vcd;         ///< waveform file; empty: none
  std::string arch_path;   ///< recorded in the generated headers
  /// Tests only: edits the generated files before they are built (a patched
  /// copy of the RTL with a planted bug); throws if an edit matches nothing.
  std::function<void(std::vector<rtlgen::RtlFile>&)> edit;
};
/// The PE shape the array RTL is generated for: a runtime_fl arch's hardware
/// does not depend on the layer's fractional lengths (they come through the
/// configuration register), so it is the arch's own, one build for every
/// layer; otherwise the layer's.
rtlgen::PeShape array_rtl_shape(const config::Arch& arch, const rtlgen::PeShape& layer_shape);

/// Generates (or reads), Verilates and loads the array RTL for the PE `shape`
/// and the array `g`; *build_seconds: generation + Verilation (0 when cached).
/// Throws rtlgen::Unsupported for an array the RTL does not implement and
/// std::runtime_error when Verilation fails.
std::unique_ptr<ArrayDut> make_array_rtl(const rtlgen::PeShape& shape, const ArrayGeometry& g,
                                         const ArrayRtlOptions& options,
                                         double* build_seconds = nullptr);

struct ArrayRunOptions {
  /// Use the cost report's mapping (tiles, loop order) of the arch's memory;
  /// false: the whole layer as one tile (and no analytic comparison).
  bool use_mapper = true;
  ArrayDut* dut = nullptr;  ///< the RTL side; null: SystemC against the golden model only
  ArrayPeFactory pes;       ///< tests: PEs with a planted bug
  /// Tests: a controller with a planted bug (null: the real one).
  std::function<std::unique_ptr<ArrayController>(const rtlgen::PeShape&, const ArrayGeometry&,
                                                 const ArrayLayer&, std::vector<ArrayTile>)>
      controller;
  uint64_t progress_every = 0;  ///< print a line every so many cycles (0: never)
};

struct ArrayRunResult {
  std::string layer;
  ArrayGeometry geometry;
  int lanes = 1, latency = 3;
  ArrayRunStats stats;
  ArrayMismatch golden;            ///< first SystemC vs golden difference
  ArrayMismatch rtl;               ///< first RTL vs SystemC difference
  uint64_t rtl_mismatch_cycles = 0;
  std::string rtl_name;            ///< empty: no RTL side
  uint64_t functional_checked = 0, functional_mismatches = 0;
  uint64_t missing_outputs = 0;    ///< elements whose converted output never came out
  uint64_t cover_sat = 0, cover_acc_ovf = 0;  ///< outputs that saturated / whose accumulator overflowed
  bool mapped = false;
  map::LayerMap map;               ///< the mapping used (mapped)
  bool analytic_equal = false;     ///< the simulated fold cycles and folds equal the mapper's
  double systemc_seconds = 0, rtl_seconds = 0;
  double systemc_cycles_per_s() const;
  bool ok() const;
  std::string text() const;  ///< a few lines for the console and reports
};

/// The result as one JSON object (cosim --json, the main job's cosim.json).
std::string array_json(const config::Arch& arch, const ArrayRunResult& r);

/// The array geometry of an arch (systolic rows x cols and its dataflow).
ArrayGeometry array_geometry(const config::Arch& arch);

/// The cost report's mapping of a layer (cost::layer_energy's mapper call).
map::LayerMap report_mapping(const config::Arch& arch, const config::LayerFormats& formats,
                             const kernels::ConvShape& conv, const std::string& name);

/// Runs one layer through the array. `shape`: the PE (the layer's formats).
ArrayRunResult run_array_layer(const config::Arch& arch, const rtlgen::PeShape& shape,
                               const LayerData& layer, const ArrayRunOptions& options = {});

}  // namespace ristsim::cycle
