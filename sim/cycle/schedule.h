// The issue schedule of the PE array in plain C++ (no SystemC): which PE
// starts which chunk in each cycle, and what a layer costs in cycles.
//
// Dataflow (output-stationary, scheduler.h): output element e goes to PE
// e mod P; a PE takes its elements in order, one chunk of K terms per cycle,
// elements back to back, so a PE never idles while it has work. Operands come
// over a shared port of `words_per_cycle` codes per cycle (0: unlimited) into a
// credit that holds at most P chunks' worth; a chunk needs K activation and K
// weight codes, and a PE whose chunk the credit cannot pay this cycle stalls.
// PEs are served in a rotating order (the first PE served moves by one each
// cycle), so the schedule is deterministic.
//
// simulate_layer() drives its SystemC PEs from IssueSchedule, and
// count_layer() runs the same IssueSchedule without PEs: a result leaves a PE
// `latency` cycles after its last chunk, so the count is the SystemC run's
// cycle count, stalls and idle PE-cycles, exactly (testbench/systemc checks
// this on the LeNet layer shapes). The cost report takes its cycles from here.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace ristsim::cycle {

/// The array a layer runs on.
struct LayerRun {
  int pes = 1;
  double words_per_cycle = 0;  ///< operand codes fetched per cycle for the whole array; 0: unlimited
  uint64_t stream = 0;         ///< stochastic stream (layer index)
};

/// One PE's decision in one cycle.
struct Issue {
  bool valid = false;    ///< a chunk starts
  uint64_t element = 0;  ///< output element (valid only)
  uint64_t chunk = 0;    ///< chunk index within the element (valid only)
  bool first = false, last = false;
};

class IssueSchedule {
 public:
  /// `outputs` elements of `chunks_per_output` chunks each, on run.pes PEs of `lanes` lanes.
  IssueSchedule(uint64_t outputs, uint64_t chunks_per_output, int lanes, const LayerRun& run)
      : outputs_(outputs), chunks_per_(chunks_per_output), pes_(run.pes),
        words_(run.words_per_cycle), words_per_chunk_(2.0 * lanes),
        next_(static_cast<size_t>(std::max(run.pes, 1)), 0), chunk_(next_.size(), 0) {
    if (run.pes < 1) throw std::invalid_argument("IssueSchedule: pes must be >= 1");
    if (lanes < 1) throw std::invalid_argument("IssueSchedule: lanes must be >= 1");
    if (outputs > 0 && chunks_per_output < 1)
      throw std::invalid_argument("IssueSchedule: an output needs at least one chunk");
    for (int i = 0; i < pes_; ++i) next_[static_cast<size_t>(i)] = static_cast<uint64_t>(i);
  }

  /// Decides one cycle: calls f(pe, issue) once for every PE, in serving order.
  template <class F>
  void step(F&& f) {
    if (words_ > 0) credit_ = std::min(credit_ + words_, words_per_chunk_ * pes_);
    for (int j = 0; j < pes_; ++j) {
      const int pe = static_cast<int>((rotate_ + static_cast<uint64_t>(j)) % pes_);
      const size_t p = static_cast<size_t>(pe);
      Issue is;
      if (next_[p] >= outputs_) {
        ++idle_cycles_;
      } else if (words_ > 0 && credit_ < words_per_chunk_) {
        ++stall_cycles_;
      } else {
        if (words_ > 0) credit_ -= words_per_chunk_;
        is.valid = true;
        is.element = next_[p];
        is.chunk = chunk_[p];
        is.first = chunk_[p] == 0;
        is.last = chunk_[p] + 1 == chunks_per_;
        ++chunks_;
        if (is.last) {
          next_[p] += static_cast<uint64_t>(pes_);
          chunk_[p] = 0;
          ++elements_issued_;
        } else {
          ++chunk_[p];
        }
      }
      f(pe, is);
    }
    ++rotate_;
  }

  /// Every element's last chunk has been issued.
  bool issued_all() const { return elements_issued_ == outputs_; }
  uint64_t chunks() const { return chunks_; }
  uint64_t stall_cycles() const { return stall_cycles_; }  ///< PE-cycles with work waiting for operands
  uint64_t idle_cycles() const { return idle_cycles_; }    ///< PE-cycles with no work left

 private:
  uint64_t outputs_, chunks_per_;
  int pes_;
  double words_, words_per_chunk_, credit_ = 0;
  std::vector<uint64_t> next_;   ///< per PE: its next element (>= outputs: done)
  std::vector<uint64_t> chunk_;  ///< per PE: next chunk of that element
  uint64_t rotate_ = 0, chunks_ = 0, elements_issued_ = 0, stall_cycles_ = 0, idle_cycles_ = 0;
};

/// What a layer costs on the array, without simulating the PEs.
struct LayerCount {
  uint64_t cycles = 0;        ///< rising edges from the first chunk to the last result
  uint64_t chunks = 0;        ///< chunks issued (all PEs)
  uint64_t stall_cycles = 0;  ///< PE-cycles with work waiting for operands
  uint64_t idle_cycles = 0;   ///< PE-cycles with no work left (or pipeline drain)
};

/// The cycle count of `outputs` dot products of `terms` terms each on run.pes
/// PEs of `lanes` lanes whose pipeline takes `latency` cycles from a chunk to
/// its result (rtlgen::pe_latency). Without a fetch limit this is
/// ceil(outputs / P) * ceil(terms / K) + latency - 1 cycles.
inline LayerCount count_layer(uint64_t outputs, uint64_t terms, int lanes, int latency,
                              const LayerRun& run) {
  LayerCount c;
  if (outputs == 0) return c;
  const uint64_t k = static_cast<uint64_t>(lanes);
  IssueSchedule s(outputs, terms == 0 ? 1 : (terms + k - 1) / k, lanes, run);
  uint64_t cycle = 0;
  while (!s.issued_all()) {
    s.step([](int, const Issue&) {});
    ++cycle;
  }
  // The last chunk went in at cycle - 1; its result leaves latency cycles
  // later, every PE idle meanwhile.
  c.cycles = cycle - 1 + static_cast<uint64_t>(latency);
  c.chunks = s.chunks();
  c.stall_cycles = s.stall_cycles();
  c.idle_cycles = s.idle_cycles() + static_cast<uint64_t>(run.pes) * (c.cycles - cycle);
  return c;
}

}  // namespace ristsim::cycle
