// The SystemC model of the PE array (docs/array.md): R x C PEs on one clock,
// each a SystemC module with its own registers, wired PE to PE by signals.
//
//   output stationary   OsPe: operands forwarded east (activations, with
//                       first/last and the pixel index) and south (weights,
//                       bias, the channel index); each PE is a whole PE
//                       (products, tree, accumulator, output stage); OsDrain:
//                       a column's results shifted out of its south edge,
//                       bottom row first.
//   weight / input      StationaryPe: a stationary register per PE (loaded by
//   stationary          shifting south), the streamed operand forwarded east,
//                       a partial-sum register per PE on the column's chain;
//                       ColumnOutput: the column's output stage (bias, output
//                       conversion, or the partial sum out).
//
// The arithmetic is the PE blocks' (pe_model.h: LaneMultiplier,
// AdderTreeModel::add_levels, acc_overflow, convert_output, FlConfig), every
// width from rtlgen::PeShape (growth.h); the array RTL (rtl/) computes its
// own widths, so their agreement in co-simulation is evidence.
#pragma once

#include <systemc>

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "cycle/array_controller.h"
#include "cycle/pe_model.h"
#include "rtlgen/array_io.h"
#include "rtlgen/pe_shape.h"

namespace ristsim::rtlgen {
std::ostream& operator<<(std::ostream& os, const ArraySouth& s);
inline void sc_trace(sc_core::sc_trace_file*, const ArraySouth&, const std::string&) {}
}  // namespace ristsim::rtlgen

namespace ristsim::cycle {

/// An operand word forwarded one PE per cycle (east or south), or a
/// stationary register's contents.
struct EdgeWord {
  bool valid = false, first = false, last = false;
  std::vector<uint8_t> lane_en;
  std::vector<uint32_t> code;
  uint32_t bias = 0;
  uint64_t index = 0;
  bool operator==(const EdgeWord& o) const {
    return valid == o.valid && first == o.first && last == o.last && lane_en == o.lane_en &&
           code == o.code && bias == o.bias && index == o.index;
  }
};
std::ostream& operator<<(std::ostream& os, const EdgeWord& w);
inline void sc_trace(sc_core::sc_trace_file*, const EdgeWord&, const std::string&) {}

/// A partial sum on a column's chain (weight/input stationary); at the top,
/// the north edge's psum_first/psum/psum_ovf.
struct PsumWord {
  bool valid = false, first = false;
  int64_t psum = 0;
  bool ovf = false;
  bool operator==(const PsumWord& o) const {
    return valid == o.valid && first == o.first && psum == o.psum && ovf == o.ovf;
  }
};
std::ostream& operator<<(std::ostream& os, const PsumWord& w);
inline void sc_trace(sc_core::sc_trace_file*, const PsumWord&, const std::string&) {}

/// An output-stationary PE's output register: `done` pulses when the
/// element's last chunk (valid or not) has been converted.
struct ResultWord {
  bool done = false, valid = false;
  uint32_t out = 0;
  bool sat = false, acc_ovf = false;
  bool operator==(const ResultWord& o) const {
    return done == o.done && valid == o.valid && out == o.out && sat == o.sat &&
           acc_ovf == o.acc_ovf;
  }
};
std::ostream& operator<<(std::ostream& os, const ResultWord& w);
inline void sc_trace(sc_core::sc_trace_file*, const ResultWord&, const std::string&) {}

/// A weight/input-stationary column's output stage controls.
struct SouthCtlWord {
  bool last = false;
  uint32_t bias = 0;
  uint64_t index = 0;
  bool operator==(const SouthCtlWord& o) const {
    return last == o.last && bias == o.bias && index == o.index;
  }
};
std::ostream& operator<<(std::ostream& os, const SouthCtlWord& w);
inline void sc_trace(sc_core::sc_trace_file*, const SouthCtlWord&, const std::string&) {}

/// What travels down a PE's pipeline with a chunk.
struct PipeTag {
  bool valid = false;  ///< the chunk counts (OS: both operands valid; WS/IS: west valid)
  bool first = false, last = false;
  bool slot = false;   ///< OS: the last-tagged chunk, valid or not (the drain slot)
  uint32_t bias = 0;
  uint64_t index = 0;
  PsumWord psum_in;    ///< WS/IS row 0: the north psum sampled with the operand
};

/// Stages 1 and 2 of a PE: the product register and the adder tree's
/// registers (a register after every pipeline_every levels); sum() is the
/// chunk sum after the last register (the levels after it combinational).
class ProductPipe {
 public:
  explicit ProductPipe(const rtlgen::PeShape& s);
  void reset();
  /// One rising edge: the registers take this cycle's products and tag.
  void clock(const std::vector<int64_t>& products, const PipeTag& tag);
  int64_t sum();
  const PipeTag& tag() const { return tag_.back(); }

 private:
  rtlgen::PeShape s_;
  std::vector<int> level_;                    ///< tree level after each register (0: products)
  std::vector<std::vector<int64_t>> nodes_;   ///< each register's contents
  std::vector<PipeTag> tag_;
  std::vector<int64_t> work_;
};

/// Output stationary PE (r, c).
SC_MODULE(OsPe) {
  sc_core::sc_in<bool> clk, rst_n;
  sc_core::sc_in<EdgeWord> west_i, north_i;
  sc_core::sc_in<uint64_t> seed_i, stream_i;
  sc_core::sc_in<bool> cfg_we_i;
  sc_core::sc_in<uint32_t> cfg_fl_i;
  sc_core::sc_out<EdgeWord> east_o, south_o;
  sc_core::sc_out<ResultWord> result_o;

  SC_HAS_PROCESS(OsPe);
  OsPe(sc_core::sc_module_name n, const rtlgen::PeShape& shape, int row, int col);
  virtual ~OsPe() = default;
  void tick();

 protected:
  /// The forwarding registers' next values (tests override it to plant a bug).
  virtual void forward(const EdgeWord& west, const EdgeWord& north);
  int row_, col_;

 private:
  rtlgen::PeShape s_;
  LaneMultiplier mul_;
  FlConfig cfg_;
  ProductPipe pipe_;
  std::vector<int64_t> prod_;
  int64_t acc_ = 0;
  bool ovf_ = false;
  PipeTag acc_tag_;  ///< valid: the accumulator holds a finished element
};

/// Output stationary column c's drain: captures each PE's result when it is
/// done and, from its bottom PE's done slot on, shifts the R results out of
/// the south edge, bottom row first.
SC_MODULE(OsDrain) {
  sc_core::sc_in<bool> clk, rst_n;
  sc_core::sc_vector<sc_core::sc_in<ResultWord>> result_i;  ///< R
  sc_core::sc_out<rtlgen::ArraySouth> south_o;

  SC_HAS_PROCESS(OsDrain);
  OsDrain(sc_core::sc_module_name n, int rows);
  void tick();

 private:
  std::vector<ResultWord> hold_;
  int left_ = 0;
};

/// Weight/input stationary PE (r, c).
SC_MODULE(StationaryPe) {
  sc_core::sc_in<bool> clk, rst_n;
  sc_core::sc_in<EdgeWord> west_i;   ///< the streamed operand
  sc_core::sc_in<EdgeWord> stat_i;   ///< row 0: the north word; else the PE above's register
  sc_core::sc_in<bool> load_i;       ///< the column's north valid: shift the stationary registers
  sc_core::sc_in<PsumWord> psum_i;   ///< row 0: the north psum; else the PE above's psum register
  sc_core::sc_out<EdgeWord> east_o;
  sc_core::sc_out<EdgeWord> stat_o;
  sc_core::sc_out<PsumWord> psum_o;

  SC_HAS_PROCESS(StationaryPe);
  StationaryPe(sc_core::sc_module_name n, const rtlgen::PeShape& shape, bool weight_stationary,
               int row, int col);
  virtual ~StationaryPe() = default;
  void tick();

 protected:
  /// The psum register's next value from psum_in and the chunk sum, and the
  /// forwarding register's (tests override them to plant a bug).
  virtual PsumWord add_psum(const PsumWord& in, const PipeTag& tag, int64_t sum);
  virtual void forward(const EdgeWord& west);
  int row_, col_;
  rtlgen::PeShape s_;

 private:
  bool ws_;
  LaneMultiplier mul_;
  ProductPipe pipe_;
  std::vector<int64_t> prod_;
  EdgeWord stat_;
};

/// Weight/input stationary column c's output stage.
SC_MODULE(ColumnOutput) {
  sc_core::sc_in<bool> clk, rst_n;
  sc_core::sc_in<PsumWord> psum_i;  ///< the bottom PE's psum register
  sc_core::sc_in<SouthCtlWord> ctl_i;
  sc_core::sc_in<uint64_t> seed_i, stream_i;
  sc_core::sc_in<bool> cfg_we_i;
  sc_core::sc_in<uint32_t> cfg_fl_i;
  sc_core::sc_out<rtlgen::ArraySouth> south_o;

  SC_HAS_PROCESS(ColumnOutput);
  ColumnOutput(sc_core::sc_module_name n, const rtlgen::PeShape& shape);
  void tick();

 private:
  rtlgen::PeShape s_;
  FlConfig cfg_;
};

/// Makes the PEs (tests pass their own to plant a bug; empty: the real ones).
struct ArrayPeFactory {
  std::function<OsPe*(const char* name, const rtlgen::PeShape&, int row, int col)> os;
  std::function<StationaryPe*(const char* name, const rtlgen::PeShape&, bool ws, int row, int col)>
      stationary;
};

/// The array and its edge signals; cycle() drives one ArrayInputs and returns
/// the south edge after the rising edge (as PeHarness).
class ArrayModel : public sc_core::sc_module {
 public:
  ArrayModel(sc_core::sc_module_name n, const rtlgen::PeShape& shape, const ArrayGeometry& g,
             const ArrayPeFactory& factory = {});
  rtlgen::ArrayOutputs cycle(const rtlgen::ArrayInputs& in);
  const ArrayGeometry& geometry() const { return g_; }

  sc_core::sc_clock clk;
  sc_core::sc_signal<bool> rst_n;
  sc_core::sc_vector<sc_core::sc_signal<EdgeWord>> west;   ///< R
  sc_core::sc_vector<sc_core::sc_signal<EdgeWord>> north;  ///< C
  sc_core::sc_vector<sc_core::sc_signal<bool>> load;       ///< C
  sc_core::sc_vector<sc_core::sc_signal<PsumWord>> north_psum;     ///< C
  sc_core::sc_vector<sc_core::sc_signal<SouthCtlWord>> south_ctl;  ///< C
  sc_core::sc_signal<uint64_t> seed, stream;
  sc_core::sc_signal<bool> cfg_we;
  sc_core::sc_signal<uint32_t> cfg_fl;
  sc_core::sc_vector<sc_core::sc_signal<rtlgen::ArraySouth>> south;  ///< C

 private:
  rtlgen::PeShape s_;
  ArrayGeometry g_;
  bool os_;
  // PE (r, c) is at r * C + c; horizontal signal (r, c) leaves PE (r, c) east,
  // vertical (r, c) leaves it south.
  sc_core::sc_vector<OsPe> os_pes_;
  sc_core::sc_vector<OsDrain> drains_;
  sc_core::sc_vector<StationaryPe> st_pes_;
  sc_core::sc_vector<ColumnOutput> outs_;
  sc_core::sc_vector<sc_core::sc_signal<EdgeWord>> east_, down_;
  sc_core::sc_vector<sc_core::sc_signal<ResultWord>> result_;
  sc_core::sc_vector<sc_core::sc_signal<PsumWord>> psum_;
  EdgeWord west_buf_, north_buf_;
};

}  // namespace ristsim::cycle
