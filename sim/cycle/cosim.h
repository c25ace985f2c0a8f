// Co-simulation of the PE: the SystemC model (pe_model.h) and the Verilated
// RTL (rtlgen/verilated_pe.h) run in lockstep on the same corner-weighted
// stimulus (stimulus.h); every output port is compared every cycle, and every
// streamed result is compared with the golden model, kernels/reference
// exact_dot(). SystemC elaborates once per process: call run_cosim() once.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/arch.h"
#include "kernels/reference/exact_layer.h"
#include "rtlgen/rtlgen.h"

namespace ristsim::cycle {

/// A real layer to stream whole: one image's operand codes as the functional
/// model's exact datapath quantized them, the layer's formats (dynamic
/// fractional lengths resolved) and, to compare with, the functional model's
/// output codes for that image.
struct LayerData {
  std::string name;
  config::LayerFormats formats;  ///< the layer's formats, FLs resolved
  kernels::ConvShape conv;       ///< one image (n = 1)
  std::vector<uint32_t> in, w, bias;
  std::vector<uint32_t> functional;  ///< the engine's output codes (NCHW); empty: none
  uint64_t stream = 0;               ///< the layer's output stochastic stream
};

struct CosimOptions {
  std::string rtl_dir;  ///< RTL to Verilate; empty: generate it from the arch
  int vectors = 200;    ///< output elements (jobs) to stream
  uint64_t seed = 1;    ///< stimulus seed
  uint64_t stream = 0;  ///< stochastic stream (the layer's index)
  /// Fractional lengths of the dynamic fixed-point groups (rtlgen::pe_formats()):
  /// "arch", "auto" or "A,W,B,O"; empty: what the RTL's header says it was
  /// generated for (see resolve_dynamic_fl()).
  std::string dynamic_fl;
  double idle_rate = 0.1;    ///< StreamOptions::idle_rate
  double reset_rate = 0.01;  ///< StreamOptions::reset_rate
  /// A mode the arch enables that the run never exercised fails the run
  /// (otherwise it is only reported, CosimResult::coverage_warnings).
  bool require_coverage = false;
  std::string vcd;         ///< RTL waveform file (SystemC model: vcd + ".systemc.vcd"); empty: none
  std::string cache_root;  ///< Verilator builds; empty: rtlgen::default_cache_root()
  rtlgen::PlantedBug bug = rtlgen::PlantedBug::none;  ///< tests only (generated RTL)
  std::string layer = "random";                       ///< names the stimulus in reports
  /// A layer geometry "C,H,W,K,KH,KW,STRIDE,PAD" to stream whole (random codes,
  /// real indices and padding) instead of `vectors` random elements; empty: none.
  std::string conv;
  /// A real layer instead of random codes (formats, codes and stream from it:
  /// `conv`, `vectors`, `stream` and `dynamic_fl` do not apply).
  std::optional<LayerData> real;
  /// runtime_fl arches: several layers through the one PE, each with its own
  /// fractional lengths {act, wgt, bias, out} and `vectors` random elements;
  /// the configuration register is written at the start of each layer (and
  /// after every reset, which clears it). Empty: one layer, the shape's FLs.
  std::vector<std::array<int, 4>> runtime_layers;
  /// runtime_fl arches: several real layers through the one PE (each with its
  /// ranged FLs, its codes and the functional model's outputs), the register
  /// written per layer as for `runtime_layers`. Excludes `real` and `runtime_layers`.
  std::vector<LayerData> real_layers;
  /// Tests only: the driver writes the configuration register for the first
  /// layer only (a controller that forgets the per-layer write).
  bool skip_cfg_write = false;
};

/// The first place where something disagreed.
struct Divergence {
  bool found = false;
  std::string layer;
  uint64_t output_index = 0;  ///< the output element (job) concerned
  uint64_t cycle = 0;
  std::string port;     ///< valid_o, out_o, sat_o, acc_ovf_o
  std::string against;  ///< "rtl vs systemc", "systemc vs golden", "rtl vs functional", ...
  int width = 1;
  uint32_t expected = 0, actual = 0;
};

struct CosimResult {
  uint64_t cycles = 0;              ///< clock cycles simulated (each simulator)
  uint64_t vectors = 0;             ///< output elements streamed
  uint64_t outputs = 0;             ///< results checked against the golden model
  uint64_t functional_checked = 0;  ///< results also checked against LayerData::functional
  uint64_t mismatches = 0;          ///< cycles x ports that disagreed, plus golden disagreements
  // Coverage: how many corners the stimulus reached (golden results and the stream).
  uint64_t cover_saturated = 0;      ///< outputs the output overflow mode acted on
  uint64_t cover_acc_ovf = 0;        ///< outputs whose accumulator overflowed
  uint64_t cover_ties = 0;           ///< outputs exactly halfway between two output values
  uint64_t cover_idle_elements = 0;  ///< outputs with an idle cycle between their chunks
  uint64_t cover_idle_inside = 0;    ///< idle cycles between the chunks of an element
  uint64_t cover_idle_between = 0;   ///< idle cycles between elements
  uint64_t cover_resets = 0;         ///< reset pulses in mid-stream
  uint64_t cover_reset_cycles = 0;   ///< cycles with rst_ni low (outputs compared too)
  uint64_t cover_restreamed = 0;     ///< elements streamed again after a reset flushed them
  /// Modes the arch enables that no output exercised (each a "WARN" line).
  std::vector<std::string> coverage_warnings;
  /// Modes that cannot occur in this run, and why (not warnings).
  std::vector<std::string> coverage_notes;
  bool coverage_required = false;  ///< CosimOptions::require_coverage
  /// Set when the RTL stopped the simulation (a failed assertion, $fatal,
  /// $stop, $finish): what it printed. The run has failed.
  std::string rtl_stop;
  uint64_t rtl_stop_cycle = 0;  ///< the stream cycle it stopped in (0: while being built)
  std::string dynamic_fl;       ///< the dynamic fractional lengths used, and where from
  double systemc_cycles_per_s = 0;
  double rtl_cycles_per_s = 0;
  double build_seconds = 0;  ///< generation + Verilation (0 when cached)
  std::string rtl_dir, library;
  Divergence first;
  bool coverage_ok() const { return !coverage_required || coverage_warnings.empty(); }
  bool ok() const { return mismatches == 0 && !first.found && rtl_stop.empty() && coverage_ok(); }
};

/// The "// PE: ..." line of a generated RTL directory's header (the PE's
/// formats and accumulator; docs/rtl.md); empty when its sources have none
/// (hand-written RTL).
std::string rtl_header_pe_line(const std::string& rtl_dir);

/// The dynamic fractional lengths the co-simulation uses, and where they come
/// from (*source): options.dynamic_fl when given; else, with options.rtl_dir,
/// the ones its header records ("A,W,B,O"); else "arch" for RTL without a
/// header (what `ristsim rtl` generates by default) and "auto" for RTL
/// generated here (every rounding and saturation path reachable).
std::string resolve_dynamic_fl(const CosimOptions& options, std::string* source = nullptr);

/// Throws std::invalid_argument naming both when the RTL in options.rtl_dir
/// has a header recording another PE than the one co-simulated (other
/// formats, lanes or accumulator: e.g. generated with other --dynamic-fl).
void check_rtl_header(const config::Arch& arch, const CosimOptions& options);

/// Generates (unless options.rtl_dir is set) and Verilates the RTL, reusing
/// the cache; returns the library path and sets *rtl_dir. No SystemC involved.
std::string prepare_rtl(const config::Arch& arch, const CosimOptions& options,
                        std::string* rtl_dir = nullptr);

/// Runs the co-simulation. Throws rtlgen::Unsupported for an arch without
/// hardware, std::invalid_argument for RTL generated for another PE
/// (check_rtl_header()) and std::runtime_error when Verilation fails. An RTL
/// that stops the simulation (an assertion) is a failed run, not an exception.
CosimResult run_cosim(const config::Arch& arch, const CosimOptions& options);

/// The coverage lines of a run: counts, notes, then one "WARN coverage: ..."
/// (or, with require_coverage, "COVERAGE FAIL coverage: ...") line per mode
/// the arch enables that no output exercised.
std::string coverage_text(const CosimResult& r);

/// "0b0101..." of the low `width` bits.
std::string bits_text(uint32_t v, int width);

}  // namespace ristsim::cycle
