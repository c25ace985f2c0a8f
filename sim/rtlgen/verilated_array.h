// The generated PE array (ristsim_array, rtl/ristsim_pe_array.sv), Verilated
// at run time and loaded as a shared library, as the PE (verilated_model.h).
// The controller (sim/cycle) drives it with the same ArrayInputs as the
// SystemC array model, one clock cycle per call (docs/array.md).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rtlgen/array_io.h"
#include "rtlgen/pe_shape.h"
#include "rtlgen/rtlgen.h"
#include "rtlgen/verilated_model.h"

namespace ristsim::rtlgen {

/// Version of the array's librtl.so interface (the port word layout below).
inline constexpr int kArrayAbiVersion = 1;

/// The C++ wrapper compiled into the array's librtl.so: rtl_cycle's input
/// words are word 0 (bit 0: rst_ni low), then every input port of
/// array_ports() after rst_ni, each from a new word; its output words every
/// output port, each from a new word.
std::string array_wrapper_source(const PeShape& shape, const ArrayDims& dims, bool trace);

/// Verilates the RTL in `rtl_dir` (files.f, top ristsim_array, as written by
/// `ristsim rtl` for an array arch) and builds librtl.so under `cache_root`,
/// reusing a cached build of the same sources (build_verilated_model()).
std::string build_verilated_array(const std::string& rtl_dir, const PeShape& shape,
                                  const ArrayDims& dims, bool trace, const std::string& cache_root,
                                  std::string* log = nullptr);

/// A loaded Verilated array: one cycle per call, outputs are the registered
/// values after the rising edge.
class VerilatedArray {
 public:
  /// Loads librtl.so; `vcd_path` empty: no waveform (the library must have been
  /// built with trace for a waveform).
  VerilatedArray(const std::string& so_path, const PeShape& shape, const ArrayDims& dims,
                 const std::string& vcd_path = "");

  /// Holds rst_ni low for two cycles (outputs then all zero).
  void reset();
  /// Applies `in` (rst_ni low if in.reset; missing rows / columns / lanes are
  /// driven 0), clocks one rising edge, returns the outputs of every column.
  /// Once stopped(), the RTL no longer advances.
  ArrayOutputs cycle(const ArrayInputs& in);
  /// True once the RTL stopped the simulation (a failed assertion, $fatal, $stop).
  bool stopped() const { return model_->stopped(); }
  const std::string& stop_message() const { return model_->stop_message(); }

 private:
  struct Slot {
    int word = 0, width = 0;
  };
  void put(const Slot& port, int element, uint64_t v, int width);
  uint64_t get(const Slot& port, int element, int width) const;
  PeShape shape_;
  ArrayDims dims_;
  std::map<std::string, Slot> in_, out_;
  int in_total_ = 1, out_total_ = 0;
  std::unique_ptr<VerilatedModel> model_;
  std::vector<uint32_t> in_words_;
};

}  // namespace ristsim::rtlgen
