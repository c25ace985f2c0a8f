// Co-simulation of the PE: the SystemC model (pe_model.h) and the Verilated
// RTL (rtlgen/verilated_pe.h) run in lockstep on the same corner-weighted
// stimulus (stimulus.h); every output port is compared every cycle, and every
// streamed result is compared with the golden model, kernels/reference
// exact_dot(). SystemC elaborates once per process: call run_cosim() once.
#pragma once

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
  std::string rtl_dir;              ///< RTL to Verilate; empty: generate it from the arch
  int vectors = 200;                ///< output elements (jobs) to stream
  uint64_t seed = 1;                ///< stimulus seed
  uint64_t stream = 0;              ///< stochastic stream (the layer's index)
  std::string dynamic_fl = "auto";  ///< see rtlgen::pe_formats()
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
  uint64_t cycles = 0;      ///< clock cycles simulated (each simulator)
  uint64_t vectors = 0;     ///< output elements streamed
  uint64_t outputs = 0;     ///< results checked against the golden model
  uint64_t functional_checked = 0;  ///< results also checked against LayerData::functional
  uint64_t mismatches = 0;  ///< cycles x ports that disagreed, plus golden disagreements
  // Coverage of the golden results: how many corners the vectors reached.
  uint64_t cover_saturated = 0;  ///< outputs the output overflow mode acted on
  uint64_t cover_acc_ovf = 0;    ///< outputs whose accumulator overflowed
  uint64_t cover_ties = 0;       ///< outputs exactly halfway between two output values
  double systemc_cycles_per_s = 0;
  double rtl_cycles_per_s = 0;
  double build_seconds = 0;  ///< generation + Verilation (0 when cached)
  std::string rtl_dir, library;
  Divergence first;
  bool ok() const { return mismatches == 0 && !first.found; }
};

/// Generates (unless options.rtl_dir is set) and Verilates the RTL, reusing
/// the cache; returns the library path and sets *rtl_dir. No SystemC involved.
std::string prepare_rtl(const config::Arch& arch, const CosimOptions& options,
                        std::string* rtl_dir = nullptr);

/// Runs the co-simulation. Throws rtlgen::Unsupported for an arch without
/// hardware and std::runtime_error when Verilation fails.
CosimResult run_cosim(const config::Arch& arch, const CosimOptions& options);

/// "0b0101..." of the low `width` bits.
std::string bits_text(uint32_t v, int width);

}  // namespace ristsim::cycle
