// `ristsim rtl`: writes the synthesizable SystemVerilog of the arch's PE (one
// module per file, docs/rtl.md) and, with --lint, checks it with
// `verilator --lint-only -Wall`.
#include <cstdlib>
#include <iostream>
#include <string>

#include "cli/cli.h"
#include "rtlgen/rtlgen.h"
#include "util/output.h"

namespace ristsim::cli {

int cmd_rtl(const std::vector<std::string>& args) {
  CommandLine cl("rtl", "--arch A.yaml --out DIR [options]",
                 "Generates the SystemVerilog of one processing element of the arch: multiplier\n"
                 "array, alignment, widening adder tree, accumulator, output stage and the PE top\n"
                 "(ristsim_pe). Widths come from the numeric core's growth rules; the output is\n"
                 "deterministic and its headers record the arch and the hash of its file.\n"
                 "The port interface is documented in docs/rtl.md.");
  cl.options()("arch", po::value<std::string>()->required(), "arch YAML file")(
      "out", po::value<std::string>()->required(),
      "output directory (created; a previous ristsim output is replaced only with --force)")(
      "force", "replace a previous ristsim output in --out")(
      "dynamic-fl", po::value<std::string>()->default_value("arch"),
      "fractional lengths of dynamic fixed-point groups: arch, auto or A,W,B,O")(
      "lint", "run verilator --lint-only -Wall on the result (exit 1 on warnings)")(
      "plant-bug", po::value<std::string>()->default_value("none"),
      "TESTS ONLY: none, tree_narrow, truncate, no_saturate, drop_lane");
  if (!cl.parse(args)) return kExitOk;
  const config::Arch arch = load_arch(cl.get<std::string>("arch"));
  const std::string out = cl.get<std::string>("out");
  util::OutputDir out_dir(out, cl.has("force") ? util::Existing::replace : util::Existing::refuse,
                          "ristsim rtl");
  rtlgen::PlantedBug bug;
  if (!rtlgen::parse_planted_bug(cl.get<std::string>("plant-bug"), &bug))
    throw UsageError("unknown --plant-bug '" + cl.get<std::string>("plant-bug") + "'");
  std::vector<rtlgen::RtlFile> files;
  try {
    files = rtlgen::generate_pe_rtl(arch, bug, cl.get<std::string>("dynamic-fl"));
  } catch (const rtlgen::Unsupported& e) {
    throw UsageError(e.what());
  }
  rtlgen::write_rtl(out_dir.dir(), files);
  out_dir.commit();
  std::cout << "wrote " << files.size() - 1 << " modules of ristsim_pe for arch '" << arch.name
            << "' to " << out << " (file list: " << out << "/files.f)\n";
  if (cl.has("lint")) {
    std::string cmd = "cd '" + out + "' && verilator --lint-only -Wall --top-module ristsim_pe";
    for (size_t i = 0; i + 1 < files.size(); ++i) cmd += " " + files[i].name;
    const int rc = std::system(cmd.c_str());
    if (rc != 0) throw JobError("verilator --lint-only -Wall reported problems");
    std::cout << "verilator --lint-only -Wall: clean\n";
  }
  return kExitOk;
}

}  // namespace ristsim::cli
