// Cycle-level SystemC models of the processing element (PE) and its blocks.
// They have the RTL's pipeline (sim/rtlgen: same stages, same registers, same
// port behaviour every cycle) and take their widths from rtlgen::PeShape
// (growth.h); the arithmetic that rounds calls the numeric core (quantize()),
// the one place rounding is decided. Each block has an untimed twin: the
// corresponding step of kernels/reference exact_dot() (its ExactDotTrace),
// which the monitors of testbench/systemc compare against.
//
//   MultiplyStage   K exact products aligned onto 2^-F, registered (1 cycle)
//   AdderTreeModel  widening tree, each node wrapped to its level's width, a
//                   register after every pipeline_every levels
//   AccumulatorModel acc = ovf(first ? sum : acc + sum), sticky overflow flag
//   OutputStageModel acc = ovf(acc + bias); quantize(O, acc 2^-F, index); with
//                   runtime_fl the layer's FLs from its configuration register
//   PeModel         the four, wired as ristsim_pe
#pragma once

#include <systemc>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "rtlgen/pe_io.h"
#include "rtlgen/pe_shape.h"

namespace ristsim::cycle {

/// K values in a signal (codes, aligned products). Copy-assigning vectors of
/// the same size reuses their storage, so a signal update does not allocate.
template <class T>
struct Lanes {
  std::vector<T> v;
  bool operator==(const Lanes& o) const { return v == o.v; }
};
template <class T>
std::ostream& operator<<(std::ostream& os, const Lanes<T>& l) {
  os << "[";
  for (size_t i = 0; i < l.v.size(); ++i) os << (i ? " " : "") << +l.v[i];
  return os << "]";
}
template <class T>
void sc_trace(sc_core::sc_trace_file*, const Lanes<T>&, const std::string&) {}

/// What travels with a chunk down the pipeline (the RTL's tag).
struct ChunkTag {
  bool first = false, last = false;
  uint32_t bias = 0;
  uint64_t index = 0;
  bool operator==(const ChunkTag& o) const {
    return first == o.first && last == o.last && bias == o.bias && index == o.index;
  }
};
std::ostream& operator<<(std::ostream& os, const ChunkTag& t);
inline void sc_trace(sc_core::sc_trace_file*, const ChunkTag&, const std::string&) {}

// ---- untimed functions (the arithmetic of each block, also used by the twins' checks) ----

/// Stage 1 of one lane: the product of two codes on the grid 2^-F (0 when disabled).
int64_t aligned_product(const rtlgen::PeShape& s, uint32_t act, uint32_t wgt, bool enabled);
/// The bias code on the grid 2^-F.
int64_t aligned_bias(const rtlgen::PeShape& s, uint32_t bias);
/// Two's complement wrap of v to `bits` bits (what a `bits`-wide register holds).
int64_t wrap_to(int64_t v, int bits);
/// The accumulator's overflow mode on A bits; *ovf set when it changed the value.
int64_t acc_overflow(const rtlgen::PeShape& s, int64_t v, bool* ovf);

/// The arithmetic of stage 1's K lanes: two codes -> their exact product on
/// the grid 2^-F, wrapped to the register's width (= aligned_product()), by
/// tables of the operands' exactly_fixed() integers when the codes have at
/// most 16 bits and F >= the product's FL (then alignment is a left shift).
class LaneMultiplier {
 public:
  explicit LaneMultiplier(const rtlgen::PeShape& s);
  int64_t operator()(uint32_t act, uint32_t wgt, bool enabled) const {
    if (!enabled) return 0;
    if (!exact_align_) return aligned_product(s_, act, wgt, true);
    const int64_t p = act_table_[act] * wt_table_[wgt];
    return wrap_to(static_cast<int64_t>(static_cast<uint64_t>(p) << shift_), s_.aligned.bits);
  }

 private:
  rtlgen::PeShape s_;
  std::vector<int64_t> act_table_, wt_table_;
  bool exact_align_ = false;
  int shift_ = 0;
};

/// Stage 4's arithmetic for one element: acc = ovf(acc + bias aligned);
/// out = quantize(O, acc 2^-F, index) with the stochastic key (seed, stream).
struct Conversion {
  uint32_t out = 0;
  bool sat = false;
  bool acc_ovf = false;  ///< acc_ovf_in or the bias add overflowed
};
Conversion convert_output(const rtlgen::PeShape& s, int64_t acc, bool acc_ovf_in, uint32_t bias,
                          uint64_t seed, uint64_t stream, uint64_t index);

/// The output stage's runtime-FL configuration register and the layer shape
/// it selects (without runtime_fl: always the hardware's shape).
class FlConfig {
 public:
  explicit FlConfig(const rtlgen::PeShape& hw);
  void reset() {
    if (hw_.runtime_fl && word_ != 0) write(0);
  }
  void write(uint32_t word);
  const rtlgen::PeShape& layer() const { return layer_; }

 private:
  rtlgen::PeShape hw_, layer_;
  uint32_t word_ = 0;
};

/// Stage 1: multipliers and alignment, one register stage.
SC_MODULE(MultiplyStage) {
  sc_core::sc_in<bool> clk, rst_n;
  sc_core::sc_in<bool> valid_i;
  sc_core::sc_in<ChunkTag> tag_i;
  sc_core::sc_in<Lanes<uint8_t>> lane_en_i;
  sc_core::sc_in<Lanes<uint32_t>> act_i, wgt_i;
  sc_core::sc_out<bool> valid_o;
  sc_core::sc_out<ChunkTag> tag_o;
  sc_core::sc_out<Lanes<int64_t>> prod_o;

  SC_HAS_PROCESS(MultiplyStage);
  MultiplyStage(sc_core::sc_module_name n, const rtlgen::PeShape& shape);
  void tick();

 private:
  rtlgen::PeShape s_;
  Lanes<int64_t> prod_;
  LaneMultiplier mul_;
};

/// Stage 2: the widening adder tree.
SC_MODULE(AdderTreeModel) {
  sc_core::sc_in<bool> clk, rst_n;
  sc_core::sc_in<bool> valid_i;
  sc_core::sc_in<ChunkTag> tag_i;
  sc_core::sc_in<Lanes<int64_t>> data_i;
  sc_core::sc_out<bool> valid_o;
  sc_core::sc_out<ChunkTag> tag_o;
  sc_core::sc_out<int64_t> sum_o;

  SC_HAS_PROCESS(AdderTreeModel);
  AdderTreeModel(sc_core::sc_module_name n, const rtlgen::PeShape& shape);
  void tick();
  void comb();  ///< only without pipeline registers: the tree is combinational

  /// Levels from `from` (a level index, 0 = inputs) up to and including `to`.
  static void add_levels(const rtlgen::PeShape& s, std::vector<int64_t>& nodes, int from, int to);

 private:
  rtlgen::PeShape s_;
  std::vector<int> reg_levels_;             ///< levels followed by a register
  std::vector<std::vector<int64_t>> regs_;  ///< their contents
  std::vector<bool> reg_valid_;
  std::vector<ChunkTag> reg_tag_;
  std::vector<int64_t> work_;
};

/// Stage 3: the accumulator.
SC_MODULE(AccumulatorModel) {
  sc_core::sc_in<bool> clk, rst_n;
  sc_core::sc_in<bool> valid_i;
  sc_core::sc_in<ChunkTag> tag_i;
  sc_core::sc_in<int64_t> sum_i;
  sc_core::sc_out<bool> valid_o;  ///< one cycle after a last chunk
  sc_core::sc_out<int64_t> acc_o;
  sc_core::sc_out<bool> ovf_o;
  sc_core::sc_out<ChunkTag> tag_o;

  SC_HAS_PROCESS(AccumulatorModel);
  AccumulatorModel(sc_core::sc_module_name n, const rtlgen::PeShape& shape);
  void tick();

 private:
  rtlgen::PeShape s_;
  int64_t acc_ = 0;
  bool ovf_ = false;
};

/// Stage 4: bias and output conversion.
SC_MODULE(OutputStageModel) {
  sc_core::sc_in<bool> clk, rst_n;
  sc_core::sc_in<bool> valid_i;
  sc_core::sc_in<int64_t> acc_i;
  sc_core::sc_in<bool> acc_ovf_i;
  sc_core::sc_in<ChunkTag> tag_i;
  sc_core::sc_in<uint64_t> seed_i, stream_i;  ///< the RTL's key_i = stream_key(seed, stream)
  sc_core::sc_in<bool> cfg_we_i;              ///< runtime_fl: write cfg_fl_i into the register
  sc_core::sc_in<uint32_t> cfg_fl_i;          ///< runtime_fl: {act, wgt, bias, out} FLs
  sc_core::sc_out<bool> valid_o;
  sc_core::sc_out<uint32_t> out_o;
  sc_core::sc_out<bool> sat_o, acc_ovf_o;

  SC_HAS_PROCESS(OutputStageModel);
  OutputStageModel(sc_core::sc_module_name n, const rtlgen::PeShape& shape);
  void tick();

 private:
  rtlgen::PeShape s_;
  FlConfig cfg_;  ///< runtime_fl: the register and the shape of the configured layer
};

/// The PE: ports as ristsim_pe (docs/rtl.md), key_i as (seed_i, stream_i).
SC_MODULE(PeModel) {
  sc_core::sc_in<bool> clk, rst_n;
  sc_core::sc_in<bool> valid_i;
  sc_core::sc_in<ChunkTag> tag_i;  ///< first_i, last_i, bias_i, index_i
  sc_core::sc_in<Lanes<uint8_t>> lane_en_i;
  sc_core::sc_in<Lanes<uint32_t>> act_i, wgt_i;
  sc_core::sc_in<uint64_t> seed_i, stream_i;
  sc_core::sc_in<bool> cfg_we_i;
  sc_core::sc_in<uint32_t> cfg_fl_i;
  sc_core::sc_out<bool> valid_o;
  sc_core::sc_out<uint32_t> out_o;
  sc_core::sc_out<bool> sat_o, acc_ovf_o;

  SC_HAS_PROCESS(PeModel);
  PeModel(sc_core::sc_module_name n, const rtlgen::PeShape& shape);

  MultiplyStage mul;
  AdderTreeModel tree;
  AccumulatorModel acc;
  OutputStageModel out;

  // Internal signals, public so that monitors can probe each block.
  sc_core::sc_signal<bool> s1_valid, s2_valid, s3_valid, s3_ovf;
  sc_core::sc_signal<ChunkTag> s1_tag, s2_tag, s3_tag;
  sc_core::sc_signal<Lanes<int64_t>> s1_prod;
  sc_core::sc_signal<int64_t> s2_sum, s3_acc;
};

/// Signals and a driver around a PeModel: write the inputs of one cycle, then
/// read the registered outputs after its rising edge. The clock is an
/// sc_clock of period 1 ns whose rising edge falls at n + 0.25 ns.
class PeHarness {
 public:
  explicit PeHarness(const rtlgen::PeShape& shape, const char* name = "pe");
  /// Writes the inputs that the next rising edge samples.
  void drive(const rtlgen::PeInputs& in);
  /// The outputs as of now.
  rtlgen::PeOutputs outputs() const;
  /// Resets (two cycles with rst_n low).
  void reset();
  /// One clock cycle: drive(in), run to after the rising edge, return outputs.
  rtlgen::PeOutputs cycle(const rtlgen::PeInputs& in);

  PeModel& model() { return pe_; }
  sc_core::sc_clock clk;
  sc_core::sc_signal<bool> rst_n, valid;
  sc_core::sc_signal<ChunkTag> tag;
  sc_core::sc_signal<Lanes<uint8_t>> lane_en;
  sc_core::sc_signal<Lanes<uint32_t>> act, wgt;
  sc_core::sc_signal<uint64_t> seed, stream;
  sc_core::sc_signal<bool> cfg_we;
  sc_core::sc_signal<uint32_t> cfg_fl;
  sc_core::sc_signal<bool> valid_o, sat_o, acc_ovf_o;
  sc_core::sc_signal<uint32_t> out_o;

 private:
  rtlgen::PeShape shape_;
  PeModel pe_;
  Lanes<uint8_t> en_buf_;
  Lanes<uint32_t> act_buf_, wgt_buf_;
};

}  // namespace ristsim::cycle
