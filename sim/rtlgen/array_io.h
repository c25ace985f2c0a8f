// The PE array's port values for one clock cycle, as plain C++ (docs/array.md):
// what the array controller (sim/cycle) drives into both the SystemC array
// model and the Verilated array RTL, and what it reads back and compares.
// R rows, C columns, K lanes per PE. Which operand streams and which stays
// depends on the dataflow (docs/array.md "Timing"):
//   output_stationary  west: activations (+ first/last, pixel index part)
//                      north: weights   (+ bias, channel index part)
//                      each PE accumulates and converts its own output;
//                      results leave at the south edge during the drain
//   weight_stationary  north: weight chunks loaded into the PEs (load phase)
//                      west: activations stream; partial sums flow south;
//                      each column's output stage converts at the south edge
//   input_stationary   as weight_stationary with the operands' roles swapped
//                      (north loads activation chunks, west streams weights)
#pragma once

#include <cstdint>
#include <vector>

#include "numeric/random.h"

namespace ristsim::rtlgen {

/// One row's west input (sampled at PE(r, 0); forwarded east one PE per cycle).
struct ArrayWest {
  bool valid = false;
  std::vector<uint8_t> lane_en;  ///< K
  std::vector<uint32_t> code;    ///< K operand codes (the streaming operand)
  // output_stationary only (travel with the activations):
  bool first = false, last = false;
  uint64_t index = 0;  ///< this row's part of the output element index
};

/// One column's north input (sampled at PE(0, c); forwarded south one PE per cycle).
struct ArrayNorth {
  bool valid = false;            ///< output_stationary: a streamed chunk; else: a load shift
  std::vector<uint8_t> lane_en;  ///< K (weight/input stationary: stored with the codes)
  std::vector<uint32_t> code;    ///< K operand codes
  // output_stationary only (travel with the weights):
  uint32_t bias = 0;
  uint64_t index = 0;  ///< this column's part of the output element index
  // weight/input stationary: the partial sum entering PE(0, c) with this
  // column's streamed operand (docs/array.md); psum_first: start from zero.
  bool psum_first = true;
  int64_t psum = 0;   ///< A-bit two's complement partial sum of an earlier fold
  bool psum_ovf = false;
};

/// weight/input stationary: one column's south output stage controls, sampled
/// with the partial sum that reaches it (docs/array.md).
struct ArraySouthCtl {
  bool last = false;   ///< convert (bias, output format) instead of emitting a partial sum
  uint32_t bias = 0;
  uint64_t index = 0;  ///< the whole output element index
};

struct ArrayInputs {
  bool reset = false;
  std::vector<ArrayWest> west;        ///< R
  std::vector<ArrayNorth> north;      ///< C
  std::vector<ArraySouthCtl> south;   ///< C (weight/input stationary)
  uint64_t seed = 0, stream = 0;      ///< stochastic rounding (key_i = stream_key(seed, stream))
  bool cfg_we = false;                ///< runtime_fl: write cfg_fl into every output stage
  uint32_t cfg_fl = 0;                ///< runtime_fl_word()
  uint64_t key() const { return numeric::stream_key(seed, stream); }
};

/// One column's registered south outputs, read after the rising edge.
struct ArraySouth {
  bool valid = false;  ///< a converted output element
  uint32_t out = 0;
  bool sat = false, acc_ovf = false;
  bool psum_valid = false;  ///< weight/input stationary: a partial sum leaves (not last)
  int64_t psum = 0;         ///< A-bit value, sign-extended
  bool psum_ovf = false;
  bool operator==(const ArraySouth& o) const {
    return valid == o.valid && out == o.out && sat == o.sat && acc_ovf == o.acc_ovf &&
           psum_valid == o.psum_valid && psum == o.psum && psum_ovf == o.psum_ovf;
  }
  bool operator!=(const ArraySouth& o) const { return !(*this == o); }
};

struct ArrayOutputs {
  std::vector<ArraySouth> south;  ///< C
};

/// Names of the compared per-column output ports, in order.
inline const char* const kArrayOutputPorts[] = {"valid_o",   "out_o",  "sat_o",     "acc_ovf_o",
                                                "psum_valid_o", "psum_o", "psum_ovf_o"};

}  // namespace ristsim::rtlgen
