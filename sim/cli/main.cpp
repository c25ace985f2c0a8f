// ristsim: the executable. `ristsim <command> ...` runs one command of the table
// in commands.cpp; anything else (`ristsim --arch X.yaml`, --help, --version) is
// the main job (main_job.cpp).
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"

int main(int argc, char** argv) {
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
