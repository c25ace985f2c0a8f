// ristsim: the executable. `ristsim <command> ...` runs one command of the table
// in commands.cpp; anything else (`ristsim --arch X.yaml`, --help, --version) is
// the main job (main_job.cpp).
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "engine/math.h"

namespace {

/// OpenBLAS picks its kernels when it loads, from the CPU model. On a CPU it
/// does not know (a virtual "Intel Xeon Processor" with AVX-512, say) it falls
/// back to its Prescott (SSE3) kernels, which made LeNet's float GEMMs 2x slower
/// on the development machine. Then, unless the user chose a core type, run
/// again with OPENBLAS_CORETYPE set from the CPU's own features. The GEMM's
/// float results may change in their last bits (another kernel); the exact
/// datapath does not use the BLAS.
void rerun_with_better_blas(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") || ristsim::engine::blas_core() != "Prescott") return;
  __builtin_cpu_init();
  const char* core = __builtin_cpu_supports("avx512f") ? "SkylakeX"
                     : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
                         ? "Haswell"
                         : nullptr;
  if (!core) return;
  setenv("OPENBLAS_CORETYPE", core, 1);
  execv("/proc/self/exe", argv);  // only returns on failure: carry on with Prescott
}

}  // namespace

int main(int argc, char** argv) {
  rerun_with_better_blas(argv);
  using namespace ristsim::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && !args[0].empty() && args[0][0] != '-') {
    const Command* c = find_command(args[0]);
    if (!c) {
      std::string names;
      for (const Command& k : commands()) names += std::string(names.empty() ? "" : ", ") + k.name;
      std::cerr << "ristsim: error: unknown command '" << args[0] << "' (commands: " << names
                << ")\n(see 'ristsim --help')\n";
      return kExitUsage;
    }
    const std::string name = c->name;
    args.erase(args.begin());
    return run_guarded(name, c->fn, args);
  }
  return run_guarded("", main_job, args);
}
