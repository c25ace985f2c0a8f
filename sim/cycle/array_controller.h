// The PE array's controller (docs/array.md): walks a layer's mapping (tiles in
// the mapper's loop order, each tile's folds), drives the array's edges cycle
// by cycle (rtlgen::ArrayInputs), keeps the partial sums of non-final K folds
// in its output buffer, and knows what every column's south edge must show in
// every cycle (the golden model, kernels/reference exact_dot()).
//
// Plain C++: it drives any model of the array through
//   while (!ctl.done()) { out = model.cycle(ctl.inputs()); ctl.observe(out); }
// (the SystemC array model, the Verilated array RTL, or both in lockstep).
// The psums it drives into fold i > 0 are what the array wrote to the buffer
// (observe()), not the golden ones, so a psum lost or corrupted by the array
// shows up at the next fold's outputs as well as at its own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/arch.h"
#include "cycle/stimulus.h"
#include "kernels/reference/exact_layer.h"
#include "rtlgen/array_io.h"
#include "rtlgen/pe_shape.h"

namespace ristsim::map {
struct Mapping;
}

namespace ristsim::cycle {

/// The array: R rows, C columns, the dataflow; lanes and latency from the PE shape.
struct ArrayGeometry {
  int rows = 1, cols = 1;
  config::Dataflow dataflow = config::Dataflow::output_stationary;
};

/// docs/array.md: cycles per fold, F = 2R + C + T + L - 3.
uint64_t fold_cycles(const ArrayGeometry& g, int latency, uint64_t t);

/// Cycles before fold 0 starts: two reset cycles and the configuration cycle.
inline constexpr uint64_t kArraySetupCycles = 3;

/// One tile of the mapping: ranges of output pixels [m0, m1), output channels
/// [n0, n1) and terms [k0, k1) (k0 a multiple of the lanes).
struct ArrayTile {
  uint64_t m0 = 0, m1 = 0, n0 = 0, n1 = 0, k0 = 0, k1 = 0;
};

/// The tiles of a mapping (tile sizes and DRAM loop order, sim/map) over a
/// layer of m pixels, n channels and k terms, in the order the loops visit them.
std::vector<ArrayTile> mapping_tiles(const map::Mapping& mapping, uint64_t m, uint64_t n,
                                     uint64_t k);

/// A layer as the array computes it: one image of a convolution (groups 1) or
/// inner product; every output element's terms and golden result.
struct ArrayLayer {
  std::string name;
  kernels::ConvShape conv{};
  uint64_t m = 0, n = 0, k = 0;  ///< pixels, channels, terms per output
  std::vector<DotJob> jobs;      ///< NCHW order: element index = channel * m + pixel
  kernels::ExactLayerSpec spec{};
  std::vector<Golden> golden;     ///< per element
  std::vector<int64_t> psum;      ///< per element and chunk: the accumulator after it
  std::vector<uint8_t> psum_ovf;  ///< per element and chunk: sticky overflow up to it
  Golden zero;                    ///< the conversion of a zero sum, bias code 0 (padded columns)
  uint64_t chunks() const;        ///< chunks per element, ceil(k / lanes)
};

/// Builds an ArrayLayer: the jobs of the layer and their golden results for
/// the PE `shape` (its formats, lanes, accumulator) and the stochastic
/// stream. Throws rtlgen::Unsupported for grouped convolutions.
ArrayLayer make_array_layer(const rtlgen::PeShape& shape, const kernels::ConvShape& conv,
                            const uint32_t* in_codes, const uint32_t* w_codes,
                            const uint32_t* bias_codes, uint64_t stream,
                            const std::string& name = "layer");

/// One fold: a tile's R x C piece and its stream.
struct ArrayFold {
  uint64_t start = 0;         ///< cycle of the run it starts in
  uint64_t row0 = 0, col0 = 0;  ///< first row / column item (pixel, channel or chunk)
  uint64_t row_end = 0, col_end = 0;  ///< one past the last real item of the tile
  uint64_t t0 = 0, t = 0;     ///< streamed items t0 .. t0 + t - 1 (OS: chunks)
  size_t tile = 0;
};

/// Where a converted output or a partial sum leaves the array.
struct ArraySlot {
  uint64_t cycle = 0;
  int col = 0;
  int row = -1;             ///< output stationary: the PE's row; else -1 (unknown)
  int64_t element = -1;     ///< NCHW index; -1: a padded PE or column
  bool last = true;         ///< a converted output (else a partial sum)
  uint64_t chunk = 0;       ///< partial sums: the last chunk included
};

/// The first disagreement with the golden model (or with another model).
struct ArrayMismatch {
  bool found = false;
  uint64_t cycle = 0;
  int col = -1, row = -1;  ///< row -1: not known (weight/input stationary psum chain)
  int64_t element = -1;
  std::string port;
  int64_t expected = 0, actual = 0;
  std::string text() const;
};

/// Compares two sets of south outputs port by port; the first differing
/// column and port into *m (cycle and row left to the caller). True if equal.
bool compare_south(const rtlgen::ArrayOutputs& expected, const rtlgen::ArrayOutputs& actual,
                   ArrayMismatch* m);

/// The folds of a layer's tiles in the order the controller runs them (per
/// tile: OS pixel folds x channel folds; WS channel folds x K folds in chunk
/// order; IS pixel folds x K folds), with their start cycles: fold 0 at
/// kArraySetupCycles, stalls[i] idle cycles before fold i, each fold
/// fold_cycles(T) long. *fold_total, *stall_total: the cycles inside folds
/// and between them. Plain arithmetic: what the controller walks and what
/// the mapper's analytic count is tested against.
std::vector<ArrayFold> plan_folds(const ArrayGeometry& g, int latency, int lanes,
                                  const std::vector<ArrayTile>& tiles,
                                  const std::vector<uint64_t>& stalls, uint64_t* fold_total,
                                  uint64_t* stall_total);

struct ArrayRunStats {
  uint64_t cycles = 0;         ///< every cycle driven (setup and stalls included)
  uint64_t fold_cycles = 0;    ///< cycles inside folds (the mapper's compute cycles)
  uint64_t stall_cycles = 0;   ///< idle cycles between folds
  uint64_t folds = 0;
  uint64_t macs = 0;           ///< real multiply-accumulates (terms x outputs)
  uint64_t outputs = 0;        ///< converted outputs of real elements checked
  uint64_t psums = 0;          ///< partial sums of real elements checked
  uint64_t padded_slots = 0;   ///< outputs of padded columns checked
  uint64_t mismatches = 0;     ///< cycles whose south edge differed from the golden one
  double utilisation() const;  ///< macs / (fold cycles + stalls) / (R C K)
  int rows = 1, cols = 1, lanes = 1;
};

class ArrayController {
 public:
  /// `tiles`: the mapping's tiles (mapping_tiles()); empty: the whole layer as one tile.
  /// `stalls`: idle cycles before each fold (empty: none).
  ArrayController(const rtlgen::PeShape& shape, const ArrayGeometry& geometry,
                  const ArrayLayer& layer, std::vector<ArrayTile> tiles = {},
                  std::vector<uint64_t> stalls = {});
  virtual ~ArrayController() = default;

  bool done() const { return cycle_ >= total_; }
  uint64_t cycle() const { return cycle_; }
  uint64_t total_cycles() const { return total_; }
  /// The inputs of the current cycle.
  const rtlgen::ArrayInputs& inputs();
  /// What the south edge must show after the current cycle's edge.
  const rtlgen::ArrayOutputs& expected();
  /// The array's outputs after the current cycle's edge: checked against
  /// expected(), partial sums kept in the output buffer, converted outputs
  /// kept; advances to the next cycle.
  void observe(const rtlgen::ArrayOutputs& out);

  /// Fills m->row and m->element from the slot of column m->col in the current cycle.
  void locate(ArrayMismatch* m) const;

  const ArrayRunStats& stats() const { return stats_; }
  const ArrayMismatch& first_mismatch() const { return first_; }
  /// The converted output codes the array produced (NCHW); `produced` marks each.
  const std::vector<uint32_t>& outputs() const { return out_codes_; }
  const std::vector<uint8_t>& produced() const { return produced_; }
  const std::vector<ArrayFold>& folds() const { return folds_; }
  const ArrayLayer& layer() const { return layer_; }
  const ArrayGeometry& geometry() const { return g_; }
  int latency() const { return latency_; }

 protected:
  /// Fills the F cycles of fold `f` (inputs, and the slots where outputs leave).
  /// Virtual so that tests can plant a controller bug (a stall inside a fold, a
  /// lost partial sum); the production controller is this one.
  virtual void build_fold(const ArrayFold& f, std::vector<rtlgen::ArrayInputs>* in,
                          std::vector<ArraySlot>* slots);
  /// The partial sum driven into an element's first row in a K fold > 0
  /// (what the output buffer holds for it).
  virtual void buffered_psum(int64_t element, int64_t* psum, bool* ovf) const;

  rtlgen::ArrayInputs idle() const;
  const rtlgen::PeShape& shape() const { return shape_; }

 private:
  void plan();
  void load_window(uint64_t cycle);

  rtlgen::PeShape shape_;
  ArrayGeometry g_;
  const ArrayLayer& layer_;
  std::vector<ArrayTile> tiles_;
  std::vector<uint64_t> stalls_;
  int latency_ = 3;
  int lanes_ = 1;
  std::vector<ArrayFold> folds_;
  uint64_t total_ = 0, cycle_ = 0;
  // The window of cycles built so far: [win_start_, win_start_ + win_in_.size()).
  size_t next_fold_ = 0;
  uint64_t win_start_ = 0;
  std::vector<rtlgen::ArrayInputs> win_in_;
  std::vector<ArraySlot> win_slots_;  ///< of the folds built, not yet observed
  rtlgen::ArrayInputs idle_;
  rtlgen::ArrayOutputs expected_;
  uint64_t expected_cycle_ = ~uint64_t{0};
  std::vector<int64_t> buf_psum_;
  std::vector<uint8_t> buf_ovf_;
  std::vector<uint32_t> out_codes_;
  std::vector<uint8_t> produced_;
  ArrayRunStats stats_;
  ArrayMismatch first_;
};

}  // namespace ristsim::cycle
