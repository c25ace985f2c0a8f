// The PE's port values for one clock cycle, as plain C++ (docs/rtl.md):
// what the co-simulation drives into both the SystemC model and the
// Verilated RTL, and what it reads back and compares.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "numeric/random.h"

namespace ristsim::rtlgen {

/// Inputs sampled at a rising clock edge.
struct PeInputs {
  bool reset = false;  ///< rst_ni low this cycle (every register cleared, outputs 0)
  bool valid = false;
  bool first = false;            ///< the chunk starts an output element (acc := chunk sum)
  bool last = false;             ///< the chunk ends it (bias added, output converted)
  std::vector<uint8_t> lane_en;  ///< K: lane i's product counts (else zero)
  std::vector<uint32_t> act;     ///< K activation codes
  std::vector<uint32_t> wgt;     ///< K weight codes
  uint32_t bias = 0;             ///< bias code (used with last)
  uint64_t index = 0;            ///< output element index (stochastic rounding; used with last)
  uint64_t seed = 0;             ///< stochastic seed (the arch's)
  uint64_t stream = 0;           ///< stochastic stream (the layer's index)
  bool cfg_we = false;           ///< runtime_fl: write cfg_fl into the configuration register
  uint32_t cfg_fl = 0;           ///< runtime_fl: {act, wgt, bias, out} FLs (runtime_fl_word)
  /// What the RTL's key_i port gets: random.h stream_key(seed, stream), held
  /// constant while a layer streams. (numeric::quantize takes seed and stream,
  /// so the SystemC model keeps those two.)
  uint64_t key() const;
};

inline uint64_t PeInputs::key() const {
  return numeric::stream_key(seed, stream);
}

/// Registered outputs, read after the rising edge.
struct PeOutputs {
  bool valid = false;
  uint32_t out = 0;      ///< output code
  bool sat = false;      ///< the output overflow mode acted
  bool acc_ovf = false;  ///< the accumulator overflowed in this element (chunks or bias)

  bool operator==(const PeOutputs& o) const {
    return valid == o.valid && out == o.out && sat == o.sat && acc_ovf == o.acc_ovf;
  }
  bool operator!=(const PeOutputs& o) const { return !(*this == o); }
};

/// Names of the compared output ports, in order.
inline const char* const kPeOutputPorts[] = {"valid_o", "out_o", "sat_o", "acc_ovf_o"};

/// The value of output port i (0..3) of kPeOutputPorts.
inline uint32_t output_port(const PeOutputs& o, int i) {
  switch (i) {
    case 0: return o.valid;
    case 1: return o.out;
    case 2: return o.sat;
    default: return o.acc_ovf;
  }
}

}  // namespace ristsim::rtlgen
