// The generated PE, Verilated at run time and loaded as a shared library.
//
// Why at run time: `ristsim cosim --rtl DIR` must accept any RTL directory (a
// designer's own implementation of the PE interface, or a planted-bug
// variant), so a build-time verilate() could only cover the shipped configs.
// One mechanism for all: verilator --cc + make build a position-independent
// model, a generated extern "C" wrapper (a context, the model, one clock
// cycle per call, optional VCD) is linked with it into librtl.so, which is
// cached under a hash of the sources and loaded with dlopen. The Verilator
// runtime then lives only in that library, so it never meets SystemC.
#pragma once

#include <string>

#include "rtlgen/pe_io.h"
#include "rtlgen/pe_shape.h"

namespace ristsim::rtlgen {

/// Version of the librtl.so interface (rtl_cycle's input words, its return value).
inline constexpr int kRtlAbiVersion = 3;
/// The header force-included into every Verilated translation unit.
inline constexpr const char* kHooksHeader = "ristsim_vl_hooks.h";

/// The C++ wrapper compiled into librtl.so (extern "C" rtl_open, rtl_error,
/// rtl_close, rtl_reset, rtl_cycle) for the PE of this shape. The Verilated
/// context runs with fatalOnError(false): a failed assertion, $fatal or $stop
/// in the RTL ends the simulation (rtl_cycle returns 1, rtl_error() says why)
/// instead of calling abort().
std::string verilator_wrapper_source(const PeShape& shape, bool trace);
/// The text of kHooksHeader: routes Verilator's printing (VL_PRINTF) into the
/// wrapper, so that assertion messages reach rtl_error(), not stdout.
std::string verilator_hooks_header();

/// Verilates the RTL in `rtl_dir` (files listed in files.f, top ristsim_pe)
/// and builds librtl.so under `cache_root`/<hash>. Reuses a cached build of
/// the same sources. Returns the library's path; throws std::runtime_error
/// with the tool output when Verilator or the compiler fails. `log` (if not
/// null) receives what was done.
std::string build_verilated_pe(const std::string& rtl_dir, const PeShape& shape, bool trace,
                               const std::string& cache_root, std::string* log = nullptr);

/// The default cache: $RISTSIM_CACHE, else $XDG_CACHE_HOME/ristsim, else
/// ~/.cache/ristsim, else /tmp/ristsim-cache.
std::string default_cache_root();

/// A loaded Verilated PE. One cycle per call; outputs are the registered values
/// after the rising edge.
class VerilatedPe {
 public:
  /// Loads librtl.so; `vcd_path` empty: no waveform (the library must have been
  /// built with trace for a waveform).
  VerilatedPe(const std::string& so_path, const PeShape& shape, const std::string& vcd_path = "");
  ~VerilatedPe();
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
  bool stopped() const { return !stop_message_.empty(); }
  /// What the RTL printed when it stopped (Verilator's messages).
  const std::string& stop_message() const { return stop_message_; }

 private:
  void pack(const PeInputs& in);
  void poll(int status);
  PeShape shape_;
  void* lib_ = nullptr;
  void* handle_ = nullptr;
  void (*close_)(void*) = nullptr;
  int (*reset_)(void*) = nullptr;
  int (*cycle_)(void*, const uint32_t*, uint32_t*) = nullptr;
  const char* (*error_)(void*) = nullptr;
  std::string stop_message_;
  std::vector<uint32_t> in_words_, out_words_;
};

}  // namespace ristsim::rtlgen
