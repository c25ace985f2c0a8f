// Shared pieces of the ristsim commands: option parsing, --arch loading and the
// mapping of errors to exit codes.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/cli.h"
#include "config/arch_yaml.h"
#include "util/output.h"

#ifndef RISTSIM_VERSION
#define RISTSIM_VERSION "unknown"
#endif

namespace ristsim::cli {

const char* version() {
  return RISTSIM_VERSION;
}

CommandLine::CommandLine(std::string command, std::string synopsis, std::string about)
    : command_(std::move(command)),
      synopsis_(std::move(synopsis)),
      about_(std::move(about)),
      options_("options", 100, 50) {
  options_.add_options()("help", "show this help and exit");
}

bool CommandLine::parse(const std::vector<std::string>& args) {
  // Long options only, no abbreviations: "-2.5" is a value, "--fl -3" works.
  namespace st = po::command_line_style;
  const int style = st::allow_long | st::long_allow_adjacent | st::long_allow_next;
  po::options_description all;
  all.add(options_).add(hidden_);
  po::store(po::command_line_parser(args).options(all).positional(positional_).style(style).run(),
            vm_);
  if (vm_.count("help")) {
    print_help(std::cout);
    return false;
  }
  po::notify(vm_);
  return true;
}

void CommandLine::print_help(std::ostream& os) const {
  const std::string prefix = command_.empty() ? "ristsim" : "ristsim " + command_;
  os << "usage: " << prefix << " " << synopsis_ << "\n";
  if (command_.empty()) {
    os << "       ristsim <command> [options]     (ristsim <command> --help for its options)\n";
    os << "       ristsim --version\n";
  }
  os << "\n" << about_ << "\n\n";
  if (command_.empty()) {
    os << "commands:\n";
    size_t width = 0;
    for (const Command& c : commands()) width = std::max(width, std::string(c.name).size());
    std::vector<Command> sorted = commands();
    std::sort(sorted.begin(), sorted.end(),
              [](const Command& a, const Command& b) { return std::string(a.name) < b.name; });
    for (const Command& c : sorted) {
      std::string name = c.name;
      name.resize(width, ' ');
      os << "  " << name << "  " << c.summary << "\n";
    }
    os << "\n";
  }
  os << options_;
  os << "\nexit codes: 0 success, 1 the job failed, 2 bad usage or bad config\n";
}

config::Arch load_arch(const std::string& path) {
  return config::load_arch(path);
}

int run_guarded(const std::string& command, CommandFn fn, const std::vector<std::string>& args) {
  const std::string who = command.empty() ? "ristsim" : "ristsim " + command;
  const std::string help = who + " --help";
  try {
    const int rc = fn(args);
    util::check_stdout();  // output lost behind a full disk or a closed pipe: the job failed
    return rc;
  } catch (const UsageError& e) {
    std::cerr << who << ": error: " << e.what() << "\n(see '" << help << "')\n";
    return kExitUsage;
  } catch (const util::BadOutput& e) {  // an --out that cannot be used: found before any work
    std::cerr << who << ": error: " << e.what() << "\n(see '" << help << "')\n";
    return kExitUsage;
  } catch (const po::error& e) {
    std::cerr << who << ": error: " << e.what() << "\n(see '" << help << "')\n";
    return kExitUsage;
  } catch (const InputError& e) {  // a bad config, model, weight or data file (every reader's)
    std::cerr << who << ": error: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << who << ": error: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace ristsim::cli
