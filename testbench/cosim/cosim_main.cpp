// Co-simulation regression: one arch, SystemC model vs Verilated RTL vs the
// golden model (sim/cycle/cosim.h). Self-checking: prints "COSIM PASS" or the
// first divergence and "COSIM FAIL". The *_bad tests run it on RTL with a
// planted bug and pass only if the divergence is reported.
//
//   cosim_check ARCH.yaml [VECTORS] [SEED] [BUG] [DYNAMIC_FL]
// VECTORS = "build": only generate and Verilate (the ctest fixture that keeps
// Verilation, a build step, out of the timed simulation tests).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "config/arch_yaml.h"
#include "cycle/cosim.h"

extern "C" int sc_main(int, char**) {
  return 1;
}  // libsystemc wants it; main() below wins

int main(int argc, char** argv) {
  using namespace ristsim;
  if (argc < 2) {
    std::fprintf(stderr, "usage: cosim_check ARCH.yaml [VECTORS] [SEED] [BUG] [DYNAMIC_FL]\n");
    return 2;
  }
  try {
    const config::Arch arch = config::load_arch(argv[1]);
    cycle::CosimOptions o;
    const bool build_only = argc > 2 && std::string(argv[2]) == "build";
    o.vectors = argc > 2 && !build_only ? std::atoi(argv[2]) : 300;
    o.seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1;
    if (argc > 4 && !rtlgen::parse_planted_bug(argv[4], &o.bug)) {
      std::fprintf(stderr, "unknown bug %s\n", argv[4]);
      return 2;
    }
    if (argc > 5) o.dynamic_fl = argv[5];
    o.layer = "random(" + arch.name + ")";
    if (build_only) {
      std::string dir;
      const std::string lib = cycle::prepare_rtl(arch, o, &dir);
      std::printf("RTL %s Verilated: %s\nBUILD OK\n", dir.c_str(), lib.c_str());
      return 0;
    }
    const cycle::CosimResult r = cycle::run_cosim(arch, o);
    const cycle::Divergence& d = r.first;
    if (!r.rtl_stop.empty())
      std::printf("RTL STOPPED (cycle %llu): %s\n",
                  static_cast<unsigned long long>(r.rtl_stop_cycle), r.rtl_stop.c_str());
    if (d.found)
      std::printf(
          "FIRST DIVERGENCE (%s): layer %s, output index %llu, cycle %llu, port %s: "
          "expected %s, actual %s\n",
          d.against.c_str(), d.layer.c_str(), static_cast<unsigned long long>(d.output_index),
          static_cast<unsigned long long>(d.cycle), d.port.c_str(),
          cycle::bits_text(d.expected, d.width).c_str(),
          cycle::bits_text(d.actual, d.width).c_str());
    std::printf(
        "arch %s (seed %llu, bug %s): cycles %llu, vectors %llu, outputs checked %llu, "
        "mismatches = %llu, build %.1f s\n",
        arch.name.c_str(), static_cast<unsigned long long>(o.seed), rtlgen::to_string(o.bug),
        static_cast<unsigned long long>(r.cycles), static_cast<unsigned long long>(r.vectors),
        static_cast<unsigned long long>(r.outputs), static_cast<unsigned long long>(r.mismatches),
        r.build_seconds);
    std::printf("%s", cycle::coverage_text(r).c_str());
    std::printf("%s\n", r.ok() ? "COSIM PASS" : "COSIM FAIL");
    return r.ok() ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cosim_check: error: %s\n", e.what());
    return 3;
  }
}
