// What the Verilated PE (verilated_pe.h) and the Verilated array
// (verilated_array.h) share: the run-time build of a Verilated top into a
// cached librtl.so, the common part of its extern "C" wrapper, and the dlopen
// loader that steps it one clock cycle per call.
//
// Why at run time: `ristsim cosim --rtl DIR` must accept any RTL directory (a
// designer's own implementation of the interface, or a planted-bug variant),
// so a build-time verilate() could only cover the shipped configs. One
// mechanism for all: verilator --cc + make build a position-independent model,
// a generated extern "C" wrapper (a context, the model, one clock cycle per
// call, optional VCD) is linked with it into librtl.so, which is cached under a
// hash of the sources and loaded with dlopen. The Verilator runtime then lives
// only in that library, so it never meets SystemC.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ristsim::rtlgen {

/// The header force-included into every Verilated translation unit.
inline constexpr const char* kHooksHeader = "ristsim_vl_hooks.h";

/// The text of kHooksHeader: routes Verilator's printing (VL_PRINTF) into the
/// wrapper, so that assertion messages reach rtl_error(), not stdout.
std::string verilator_hooks_header();

/// The default cache: $RISTSIM_CACHE, else $XDG_CACHE_HOME/ristsim, else
/// ~/.cache/ristsim, else /tmp/ristsim-cache.
std::string default_cache_root();

/// The wrapper's common part for top module `top`: the includes, the printing
/// hook, the Handle (context, model `V<top>`, optional VCD, one cycle = a
/// falling then a rising edge) and extern "C" rtl_abi_version, rtl_input_words,
/// rtl_open, rtl_error, rtl_close and rtl_reset (rst_ni low for two cycles).
/// The caller appends rtl_cycle(void*, const uint32_t* in, uint32_t* out) and
/// the closing "}  // extern \"C\"". The Verilated context runs with
/// fatalOnError(false): a failed assertion, $fatal or $stop in the RTL ends
/// the simulation (rtl_cycle returns 1, rtl_error() says why) instead of
/// calling abort().
std::string verilator_wrapper_head(const std::string& top, bool trace, int abi_version,
                                   int input_words);

/// Verilates the RTL in `rtl_dir` (files listed in files.f, top module `top`)
/// with the wrapper source `wrapper` and builds librtl.so under
/// `cache_root`/<hash>. Reuses a cached build of the same sources. Returns the
/// library's path; throws std::runtime_error with the tool output when
/// Verilator or the compiler fails. `log` (if not null) receives what was done.
std::string build_verilated_model(const std::string& rtl_dir, const std::string& top,
                                  const std::string& wrapper, bool trace,
                                  const std::string& cache_root, std::string* log = nullptr);

/// ORs the low `width` (<= 32) bits of v in at bit `pos` of the words from `base`.
void put_bits(std::vector<uint32_t>& w, int base, int pos, uint64_t v, int width);
/// The `width` (<= 64) bits at bit `pos` of the words from `base`.
uint64_t get_bits(const std::vector<uint32_t>& w, int base, int pos, int width);

/// A loaded librtl.so: one clock cycle per call on packed input words.
class VerilatedModel {
 public:
  /// Loads the library and opens the model; throws std::runtime_error when the
  /// library is missing, built by another ABI version or for another input layout.
  VerilatedModel(const std::string& so_path, int abi_version, int input_words, int output_words,
                 const std::string& vcd_path);
  ~VerilatedModel();
  VerilatedModel(const VerilatedModel&) = delete;
  VerilatedModel& operator=(const VerilatedModel&) = delete;

  /// Holds rst_ni low for two cycles.
  void reset();
  /// One cycle on `words` (rtl_input_words of them); the outputs are out().
  void cycle(const uint32_t* words);
  const std::vector<uint32_t>& out() const { return out_words_; }
  /// True once the RTL stopped the simulation (a failed assertion, $fatal, $stop, $finish).
  bool stopped() const { return !stop_message_.empty(); }
  const std::string& stop_message() const { return stop_message_; }

 private:
  void poll(int status);
  void* lib_ = nullptr;
  void* handle_ = nullptr;
  void (*close_)(void*) = nullptr;
  int (*reset_)(void*) = nullptr;
  int (*cycle_)(void*, const uint32_t*, uint32_t*) = nullptr;
  const char* (*error_)(void*) = nullptr;
  std::string stop_message_;
  std::vector<uint32_t> out_words_;
};

}  // namespace ristsim::rtlgen
