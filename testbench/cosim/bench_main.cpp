// Simulated cycles per second of the PE, each simulator on its own (no
// lockstep, no comparison): the SystemC model free-running under its clock
// with a driver process feeding back-to-back chunks, and the Verilated RTL
// clocked in a loop on pre-packed inputs. scripts/bench_cosim.sh runs it.
//
//   cosim_bench ARCH.yaml [CYCLES] [LIBRTL.so]
//
// LIBRTL.so: a librtl.so of the same PE built some other way (to measure
// Verilator or compiler options); default: the one cosim builds and caches.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "config/arch_yaml.h"
#include "cycle/cosim.h"
#include "cycle/pe_model.h"
#include "cycle/stimulus.h"
#include "rtlgen/verilated_pe.h"

using namespace ristsim;
using Clock = std::chrono::steady_clock;

namespace {

/// Writes the next cycle's inputs at every falling edge.
SC_MODULE(Driver) {
  SC_HAS_PROCESS(Driver);
  Driver(sc_core::sc_module_name n, cycle::PeHarness * h, const std::vector<rtlgen::PeInputs>* s)
      : sc_module(n), h_(h), s_(s) {
    SC_METHOD(next);
    sensitive << h_->clk.negedge_event();
    dont_initialize();
  }
  void next() {
    h_->drive((*s_)[i_]);
    if (++i_ == s_->size()) i_ = 0;
  }
  cycle::PeHarness* h_;
  const std::vector<rtlgen::PeInputs>* s_;
  size_t i_ = 0;
};

}  // namespace

extern "C" int sc_main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: cosim_bench ARCH.yaml [CYCLES] [LIBRTL.so]\n");
    return 2;
  }
  const config::Arch arch = config::load_arch(argv[1]);
  const uint64_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 2000000;
  cycle::CosimOptions o;
  const rtlgen::PeShape shape = rtlgen::make_pe_shape(arch, nullptr, cycle::resolve_dynamic_fl(o));
  const kernels::ExactLayerSpec spec = cycle::exact_spec(shape, 0);
  const std::vector<cycle::DotJob> jobs = cycle::make_jobs(shape, spec, 2000, 1);
  cycle::StreamOptions so;
  so.idle_rate = 0;  // back-to-back chunks: the throughput of a busy PE
  const cycle::PeStream st = cycle::stream_jobs(shape, jobs, 0, 1, so);
  std::printf("arch %s: K = %d lanes, activations %d bits, weights %d bits, latency %d cycles\n",
              arch.name.c_str(), shape.lanes, shape.act_bits, shape.wt_bits, shape.latency());

  // Verilated RTL.
  const std::string lib = argc > 3 ? std::string(argv[3]) : cycle::prepare_rtl(arch, o);
  rtlgen::VerilatedPe rtl(lib, shape);
  std::vector<std::vector<uint32_t>> packed(st.cycles.size());
  for (size_t i = 0; i < st.cycles.size(); ++i) rtl.pack(st.cycles[i], &packed[i]);
  rtl.reset();
  uint64_t sink = 0;
  auto t0 = Clock::now();
  std::clock_t c0 = std::clock();
  for (uint64_t c = 0, i = 0; c < n; ++c) {
    sink += rtl.cycle_packed(packed[i].data()).out;
    if (++i == packed.size()) i = 0;
  }
  const double rtl_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double rtl_cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;

  // SystemC model.
  cycle::PeHarness h(shape);
  Driver d("driver", &h, &st.cycles);
  h.reset();
  t0 = Clock::now();
  c0 = std::clock();
  sc_core::sc_start(static_cast<double>(n), sc_core::SC_NS);
  const double sc_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double sc_cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;

  // CPU time is what one core spent; wall time also counts waiting on a busy machine.
  std::printf(
      "Verilated RTL: %llu cycles, %.3f s CPU (%.3g cycles/s), %.3f s wall (%.3g cycles/s)\n",
      static_cast<unsigned long long>(n), rtl_cpu, n / rtl_cpu, rtl_s, n / rtl_s);
  std::printf(
      "SystemC model: %llu cycles, %.3f s CPU (%.3g cycles/s), %.3f s wall (%.3g cycles/s)\n",
      static_cast<unsigned long long>(n), sc_cpu, n / sc_cpu, sc_s, n / sc_s);
  std::printf("(checksum %llu)\n", static_cast<unsigned long long>(sink));
  return 0;
}
