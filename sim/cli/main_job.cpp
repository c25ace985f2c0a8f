// The main job: `ristsim --arch configs/dynfixed8.yaml [--out DIR]`.
//
// Today it loads and validates the arch, prints its datapath and formats, and
// writes that description to DIR/arch.txt. Later issues grow it into the
// end-to-end job (train, quantize, evaluate, generate RTL, estimate cost): add
// options in main_job() and steps in run_main_job().
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/cli.h"
#include "config/describe.h"

namespace ristsim::cli {

struct MainJobOptions {
  std::string arch_path;
  std::string out_dir = "out";
};

/// The job itself, on a loaded and validated arch.
static int run_main_job(const config::Arch& arch, const MainJobOptions& opt) {
  const std::string text = config::describe(arch);
  std::cout << text;

  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (ec) throw JobError("cannot create output folder '" + opt.out_dir + "': " + ec.message());
  const fs::path report = fs::path(opt.out_dir) / "arch.txt";
  std::ofstream os(report);
  os << text;
  os.close();
  if (!os) throw JobError("cannot write '" + report.string() + "'");
  std::cout << "wrote " << report.string() << "\n";
  return kExitOk;
}

int main_job(const std::vector<std::string>& args) {
  CommandLine cl("", "--arch FILE [--out DIR]",
                 "ristsim: bit-accurate datapath simulator for quantized CNN accelerators.\n"
                 "The main job loads the accelerator description FILE (YAML, see docs/arch.md),\n"
                 "validates it and reports its datapath and number formats.");
  MainJobOptions opt;
  // clang-format off
  cl.options()
      ("arch", po::value<std::string>(&opt.arch_path)->value_name("FILE"),
       "accelerator description (e.g. configs/dynfixed8.yaml)")
      ("out", po::value<std::string>(&opt.out_dir)->value_name("DIR")->default_value("out"),
       "folder for the job's results")
      ("version", "print the version and exit");
  // clang-format on
  if (!cl.parse(args)) return kExitOk;
  if (cl.has("version")) {
    std::cout << "ristsim " << version() << "\n";
    return kExitOk;
  }
  if (opt.arch_path.empty())
    throw UsageError("missing --arch FILE (for example: ristsim --arch configs/dynfixed8.yaml)");
  const config::Arch arch = load_arch(opt.arch_path);
  return run_main_job(arch, opt);
}

}  // namespace ristsim::cli
