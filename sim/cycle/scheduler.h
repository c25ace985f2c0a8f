// The layer scheduler: streams a convolution or inner-product layer through
// an array of P PEs of K lanes (SystemC PeModel instances on one clock) and
// reports cycles, utilisation and stalls; the results are checked against
// kernels/reference exact_conv_reference().
//
// The issue schedule (dataflow, operand port, serving order) is schedule.h's
// IssueSchedule, which count_layer() also runs without the PEs.
#pragma once

#include <cstdint>
#include <vector>

#include "cycle/schedule.h"
#include "kernels/reference/exact_layer.h"
#include "rtlgen/pe_shape.h"

namespace ristsim::cycle {

struct LayerStats {
  uint64_t cycles = 0;  ///< rising edges from the first chunk to the last result
  uint64_t outputs = 0;
  uint64_t chunks = 0;              ///< chunks issued (all PEs)
  uint64_t macs = 0;                ///< useful multiply-accumulates (non-padding terms)
  uint64_t lane_slots = 0;          ///< P * K * cycles
  uint64_t stall_cycles = 0;        ///< PE-cycles with work waiting for operands
  uint64_t idle_cycles = 0;         ///< PE-cycles with no work left (or pipeline drain)
  uint64_t mismatches = 0;          ///< results that differ from exact_conv_reference
  double utilisation = 0;           ///< macs / lane_slots
  std::vector<uint32_t> out_codes;  ///< the layer's output, NCHW
};

/// Runs the layer on the SystemC model (one elaboration per process: call once).
/// Throws std::invalid_argument on a bad shape.
LayerStats simulate_layer(const rtlgen::PeShape& shape, const kernels::ConvShape& conv,
                          const uint32_t* in_codes, const uint32_t* w_codes,
                          const uint32_t* bias_codes, const LayerRun& run);

}  // namespace ristsim::cycle
