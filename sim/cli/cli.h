// The ristsim command line: the command table, exit codes and the helpers every
// command shares (option parsing with --help, --arch loading, error mapping).
//
// Adding a command `foo` takes a new file sim/cli/cmd_foo.cpp defining
//   int ristsim::cli::cmd_foo(const std::vector<std::string>& args);
// and two lines in sim/cli/commands.cpp (its declaration and its table row).
// CMake picks up cmd_*.cpp by itself.
//
// Commands report problems by throwing: UsageError (or any Boost.Program_options
// error), config::ConfigError, InputError (numeric/checked.h: the base of every reader's
// error, a bad config, model, weight or data file) and util::BadOutput (an output location
// that cannot be used) give exit code 2, everything else exit code 1 (util::WriteError: a
// write failed).
//
// Outputs (sim/util/output.h): every command checks its output locations before any work
// (util::check_output_file, util::OutputDir), writes every file through util::write_file and
// every folder through a util::OutputDir (staged, moved into place at the end), and never
// replaces a folder ristsim did not write; --force replaces a previous ristsim output.
// main.cpp does the mapping and prints the message; commands never call exit().
#pragma once

#include <boost/program_options.hpp>
#include <initializer_list>
#include <utility>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/arch.h"

namespace ristsim::cli {

namespace po = boost::program_options;

/// Exit codes of every ristsim command.
enum ExitCode : int {
  kExitOk = 0,       ///< success
  kExitFailure = 1,  ///< the job ran and failed
  kExitUsage = 2,    ///< bad usage or bad config: nothing was run
};

/// Bad command-line usage (exit code 2). The message says what was expected.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The job itself failed (exit code 1), e.g. a check did not pass.
class JobError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A command's entry point: `args` are the arguments after the command name.
using CommandFn = int (*)(const std::vector<std::string>& args);

struct Command {
  const char* name;
  const char* summary;  ///< one line, shown by `ristsim --help`
  CommandFn fn;
};

/// The command table (commands.cpp).
const std::vector<Command>& commands();

/// Finds a command by name; nullptr if there is none.
const Command* find_command(const std::string& name);

/// The default action `ristsim --arch X.yaml [--out DIR]` (main_job.cpp).
int main_job(const std::vector<std::string>& args);

/// Option parsing for one command: long options only (so that negative numbers
/// like `-2.5` and `--fl -3` are values), with --help built in.
class CommandLine {
 public:
  /// `command` is e.g. "format" (empty for the main job); `synopsis` follows it
  /// in the usage line, e.g. "--type T [options] [VALUES...]"; `about` is a
  /// paragraph printed under it by --help.
  CommandLine(std::string command, std::string synopsis, std::string about);

  /// Adds options: `cl.options()("bits", po::value<int>(), "width in bits")`.
  po::options_description_easy_init options() { return options_.add_options(); }

  /// Positional arguments collected into option `name` (max_count -1: any
  /// number), e.g. cl.positional("values", po::value<std::vector<std::string>>(), -1).
  /// They are named in the synopsis, not listed among the options.
  void positional(const char* name, const po::value_semantic* value, int max_count) {
    hidden_.add_options()(name, value);
    positional_.add(name, max_count);
  }
  /// The same, collecting the arguments as strings (get<std::vector<std::string>>(name)).
  void positional(const char* name, int max_count) {
    positional(name, po::value<std::vector<std::string>>(), max_count);
  }

  /// Parses `args`. Returns false when --help was given (help printed to stdout;
  /// the command should then return kExitOk). Throws on bad usage, and for every
  /// command alike: a negative value for an unsigned option (Boost would wrap
  /// "-1" to 2^64-1) and a NaN or infinite value for a float option.
  bool parse(const std::vector<std::string>& args);

  const po::variables_map& vm() const { return vm_; }
  bool has(const char* name) const { return vm_.count(name) > 0; }
  template <class T>
  T get(const char* name) const {
    return vm_[name].as<T>();
  }

  void print_help(std::ostream& os) const;

 private:
  std::string command_, synopsis_, about_;
  po::options_description options_;
  po::options_description hidden_;
  po::positional_options_description positional_;
  po::variables_map vm_;
};

/// What an input path option must name.
enum class InputKind {
  file,       ///< a readable regular file (--arch, --model, --weights, --tech, ...)
  directory,  ///< an existing directory (--rtl, --search)
  data_set,   ///< a known data set name (fashion-mnist) or an existing directory (--data)
};

/// The one check of every input path a command reads, before anything is read or
/// written: throws UsageError (exit code 2) naming the option, the path and what is
/// wrong with it ("--arch configs: is a directory, not a file").
void check_input(const std::string& option, const std::string& path, InputKind kind);

/// check_input for each of these options that was given, in order.
void check_inputs(const CommandLine& cl,
                  std::initializer_list<std::pair<const char*, InputKind>> options);

/// A count option that reads "at most N" of something the data has (images, a batch):
/// returns min(value, available). When it clamps, a note on stderr says so, e.g.
/// "--calib 999999 is more than the images of the training split of fashion-mnist
/// (60000); using 60000" (`what`: "the images of the training split of fashion-mnist").
/// Every report of the count then shows the number used. `value` must already be >= 1.
int bounded_count(const std::string& option, int value, int available, const std::string& what);

/// --threads of every command: 0 (all cores) to kMaxThreads; sets the engine's thread count.
inline constexpr int kMaxThreads = 1024;
void apply_threads(const CommandLine& cl);

/// --device of the engine commands (eval, train, quantize, finetune, the main job): cpu (the
/// default) or cuda. apply_device sets the engine's device (engine/device.h); `cuda` in a build
/// without CUDA, or without a usable GPU, is a UsageError (exit code 2) naming the reason the
/// driver gives.
void add_device_option(CommandLine& cl);
void apply_device(const CommandLine& cl);

/// Loads and validates an arch file (throws config::ConfigError: exit code 2).
/// Checks the path with check_input("arch", ...) first.
config::Arch load_arch(const std::string& path);

/// Runs a command body and maps exceptions to exit codes, printing
/// "ristsim[ <command>]: error: ..." to stderr.
int run_guarded(const std::string& command, CommandFn fn, const std::vector<std::string>& args);

/// The version string (from CMake's project version).
const char* version();

}  // namespace ristsim::cli
