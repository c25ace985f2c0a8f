// The array RTL on whole layers: the generated ristsim_array (rtl/ristsim_pe_array.sv)
// Verilated and driven in lockstep with the SystemC array by the array
// controller (sim/cycle run_array_layer, docs/array.md): every column's south
// edge compared every cycle (the first divergence names the PE column, row
// where known, and cycle), every converted output checked against
// kernels/reference, the simulated cycles against the mapper's.
//
//   array_cosim ARCH.yaml C,H,W,K,KH,KW,STRIDE,PAD ROWSxCOLS os|ws|is LANES [BUG|bench]
//
// The layer's codes are random (seeded), its shape given. BUG (tests only):
// forward, stall or psum (array_bugs.h), a text edit of a copy of the
// generated RTL; the run must then diverge. Prints the run's summary and
// "ARRAY COSIM PASS", "ARRAY COSIM FAIL" or, with a bug, "ARRAY RTL BAD CAUGHT".
// bench (scripts/bench_array_rtl.sh): the layer's inputs, recorded in the
// lockstep run, replayed through the Verilated array alone, for at
// least 3 s of CPU: its cycles per second of CPU and of wall time.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "array_bugs.h"
#include "config/arch_yaml.h"
#include "cycle/array_run.h"
#include "cycle/stimulus.h"
#include "rtlgen/verilated_array.h"

using namespace ristsim;

namespace {

/// The Verilated array as the run's second model.
class RtlArray : public cycle::ArrayDut {
 public:
  RtlArray(const std::string& so, const rtlgen::PeShape& shape, const rtlgen::ArrayDims& dims)
      : rtl_(so, shape, dims) {}
  std::string name() const override { return "rtl"; }
  rtlgen::ArrayOutputs cycle(const rtlgen::ArrayInputs& in) override {
    ++cycles_;
    if (record_) inputs_.push_back(in);
    return rtl_.cycle(in);
  }
  void record() { record_ = true; }
  const std::vector<rtlgen::ArrayInputs>& inputs() const { return inputs_; }
  const rtlgen::VerilatedArray& rtl() const { return rtl_; }
  rtlgen::VerilatedArray& rtl() { return rtl_; }
  uint64_t cycles() const { return cycles_; }

 private:
  rtlgen::VerilatedArray rtl_;
  uint64_t cycles_ = 0;
  bool record_ = false;
  std::vector<rtlgen::ArrayInputs> inputs_;
};

/// Replays `inputs` (they start with the reset cycles) through the Verilated
/// array until 3 s of CPU have passed. The same model as the lockstep run: a
/// second Verilated model in the process hangs in its destructor (Verilator 5.006).
void bench(rtlgen::VerilatedArray& rtl, const rtlgen::ArrayDims& dims,
           const std::vector<rtlgen::ArrayInputs>& inputs) {
  rtl.reset();
  const std::clock_t c0 = std::clock();
  const auto w0 = std::chrono::steady_clock::now();
  uint64_t cycles = 0, valid = 0;
  while (std::clock() - c0 < 3 * CLOCKS_PER_SEC)
    for (const rtlgen::ArrayInputs& in : inputs) {
      for (const rtlgen::ArraySouth& s : rtl.cycle(in).south) valid += s.valid;
      ++cycles;
    }
  const double cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  std::printf("bench: Verilated %dx%d array alone, %llu cycles (%llu outputs): %.3g cycles/s CPU, "
              "%.3g cycles/s wall\n",
              dims.rows, dims.cols, static_cast<unsigned long long>(cycles),
              static_cast<unsigned long long>(valid), cycles / cpu, cycles / wall);
}

config::Dataflow parse_dataflow(const std::string& s) {
  if (s == "os") return config::Dataflow::output_stationary;
  if (s == "ws") return config::Dataflow::weight_stationary;
  if (s == "is") return config::Dataflow::input_stationary;
  throw std::invalid_argument("dataflow must be os, ws or is, not '" + s + "'");
}

}  // namespace

extern "C" int sc_main(int argc, char** argv) {
  if (argc < 6 || argc > 7) {
    std::fprintf(stderr,
                 "usage: array_cosim ARCH.yaml C,H,W,K,KH,KW,STRIDE,PAD ROWSxCOLS os|ws|is LANES "
                 "[forward|stall|psum|bench]\n");
    return 2;
  }
  try {
    config::Arch arch = config::load_arch(argv[1]);
    int rows = 0, cols = 0;
    if (std::sscanf(argv[3], "%dx%d", &rows, &cols) != 2 || rows < 1 || cols < 1)
      throw std::invalid_argument(std::string("array must be ROWSxCOLS, not ") + argv[3]);
    arch.array.rows = rows;
    arch.array.cols = cols;
    arch.array.pes = rows * cols;
    arch.array.interconnect = config::Interconnect::systolic;
    arch.array.dataflow = parse_dataflow(argv[4]);
    arch.array.lanes = std::atoi(argv[5]);
    const bool benchmark = argc > 6 && std::string(argv[6]) == "bench";
    const std::string bug = argc > 6 && !benchmark ? argv[6] : "";

    // The RTL: `ristsim rtl`'s files for this arch (with a planted bug: edited), Verilated.
    const rtlgen::PeShape shape = rtlgen::make_pe_shape(arch, nullptr, "auto");
    std::vector<rtlgen::RtlFile> files =
        rtlgen::generate_pe_rtl(arch, rtlgen::PlantedBug::none, "auto");
    if (!bug.empty()) planted::apply_edits(files, planted::array_bug(bug));
    const std::string leaf = std::string(argv[4]) + "_" + argv[3] + "_k" + argv[5] + "_" +
                             arch.name + (bug.empty() ? "" : "_" + bug);
    const std::string dir = std::string(RISTSIM_BINARY_DIR) + "/array_cosim_rtl/" + leaf;
    rtlgen::write_rtl(dir, files);
    const std::string cache = std::getenv("RISTSIM_CACHE") ? std::getenv("RISTSIM_CACHE")
                                                           : rtlgen::default_cache_root();
    const auto t0 = std::chrono::steady_clock::now();
    const std::string so =
        rtlgen::build_verilated_array(dir, shape, rtlgen::array_dims(arch), false, cache);
    std::printf("rtl: %s (built or reused in %.1f s)\n", so.c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    RtlArray dut(so, shape, rtlgen::array_dims(arch));
    if (benchmark) dut.record();

    cycle::LayerData layer;
    layer.name = argv[2];
    layer.conv = cycle::parse_conv_shape(argv[2]);
    layer.formats = arch.formats;
    layer.stream = 3;
    const kernels::ConvShape& c = layer.conv;
    std::mt19937_64 rng(11);
    auto codes = [&](const numeric::Format& f, size_t n) {
      std::vector<uint32_t> v(n);
      for (uint32_t& x : v) x = cycle::random_finite_code(f, rng);
      return v;
    };
    layer.in = codes(shape.fmt.act, size_t(c.c) * c.h * c.w);
    layer.w = codes(shape.fmt.wt, size_t(c.k) * c.c * c.kh * c.kw);
    layer.bias = codes(shape.fmt.bias, size_t(c.k));

    cycle::ArrayRunOptions opt;
    opt.dut = &dut;
    const cycle::ArrayRunResult r = cycle::run_array_layer(arch, shape, layer, opt);
    std::printf("%s", r.text().c_str());
    std::printf("rtl cycles: %llu, %.3g cycles/s in lockstep\n",
                static_cast<unsigned long long>(dut.cycles()),
                r.rtl_seconds > 0 ? double(dut.cycles()) / r.rtl_seconds : 0.0);
    if (dut.rtl().stopped()) std::printf("RTL STOPPED: %s\n", dut.rtl().stop_message().c_str());
    const uint64_t elements = uint64_t(c.k) * c.oh * c.ow;
    const bool pass = r.ok() && !dut.rtl().stopped() && r.rtl_name == "rtl" &&
                      r.rtl_mismatch_cycles == 0 && r.stats.outputs == elements && r.mapped &&
                      r.analytic_equal;
    if (!bug.empty()) {
      const bool caught = r.rtl_mismatch_cycles > 0 || dut.rtl().stopped();
      std::printf(caught ? "ARRAY RTL BAD CAUGHT\n"
                         : "ARRAY RTL BAD MISSED: the planted bug went unnoticed\n");
      return caught ? 0 : 1;
    }
    if (benchmark && pass) bench(dut.rtl(), rtlgen::array_dims(arch), dut.inputs());
    std::printf(pass ? "ARRAY COSIM PASS\n" : "ARRAY COSIM FAIL\n");
    return pass ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "array_cosim: %s\n", e.what());
    return 2;
  }
}
