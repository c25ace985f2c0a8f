// The generated PE, Verilated at run time and loaded as a shared library
// (verilated_model.h: why at run time, the cache, the loader).
#pragma once

#include <memory>
#include <string>

#include "rtlgen/pe_io.h"
#include "rtlgen/pe_shape.h"
#include "rtlgen/verilated_model.h"

namespace ristsim::rtlgen {

/// Version of the librtl.so interface (rtl_cycle's input words, its return value).
inline constexpr int kRtlAbiVersion = 3;

/// The C++ wrapper compiled into librtl.so (extern "C" rtl_open, rtl_error,
/// rtl_close, rtl_reset, rtl_cycle) for the PE of this shape
/// (verilator_wrapper_head() and the PE's rtl_cycle).
std::string verilator_wrapper_source(const PeShape& shape, bool trace);
/// Verilates the RTL in `rtl_dir` (files listed in files.f, top ristsim_pe)
/// and builds librtl.so under `cache_root`/<hash>. Reuses a cached build of
/// the same sources. Returns the library's path; throws std::runtime_error
/// with the tool output when Verilator or the compiler fails. `log` (if not
/// null) receives what was done.
std::string build_verilated_pe(const std::string& rtl_dir, const PeShape& shape, bool trace,
                               const std::string& cache_root, std::string* log = nullptr);

/// A loaded Verilated PE. One cycle per call; outputs are the registered values
/// after the rising edge.
class VerilatedPe {
 public:
  /// Loads librtl.so; `vcd_path` empty: no waveform (the library must have been
  /// built with trace for a waveform).
  VerilatedPe(const std::string& so_path, const PeShape& shape, const std::string& vcd_path = "");
  VerilatedPe(const VerilatedPe&) = delete;
  VerilatedPe& operator=(const VerilatedPe&) = delete;

  /// Holds rst_ni low for two cycles (outputs then all zero).
  void reset();
  /// Applies `in` (rst_ni low if in.reset), clocks one rising edge, returns the
  /// outputs. Once stopped(), the RTL no longer advances.
  PeOutputs cycle(const PeInputs& in);
  /// The input words of rtl_cycle for `in` (to pre-pack a stimulus).
  void pack(const PeInputs& in, std::vector<uint32_t>* words) const;
  /// One cycle on pre-packed inputs.
  PeOutputs cycle_packed(const uint32_t* words);
  /// True once the RTL stopped the simulation: a failed assertion (a parameter
  /// assertion fires when the model is built), $fatal, $stop or $finish.
  bool stopped() const { return model_->stopped(); }
  /// What the RTL printed when it stopped (Verilator's messages).
  const std::string& stop_message() const { return model_->stop_message(); }

 private:
  PeShape shape_;
  std::unique_ptr<VerilatedModel> model_;
  std::vector<uint32_t> in_words_;
};

}  // namespace ristsim::rtlgen
