// Shared pieces of the ristsim commands: option parsing, --arch loading and the
// mapping of errors to exit codes.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <typeinfo>

#include "cli/cli.h"
#include "config/arch_yaml.h"
#include "util/output.h"
#include "engine/device.h"
#include "engine/math.h"
#include "engine/spec.h"
#include "io/dataset.h"

#ifndef RISTSIM_VERSION
#define RISTSIM_VERSION "unknown"
#endif

namespace ristsim::cli {

namespace {

/// "ristsim eval" while a command runs (for notes on stderr).
std::string g_who = "ristsim";

bool is_unsigned(const std::type_info& t) {
  return t == typeid(unsigned) || t == typeid(unsigned long) || t == typeid(unsigned long long);
}

/// The checks that hold for every option of a type, whatever the command.
void check_values(const po::parsed_options& parsed, const po::variables_map& vm) {
  for (const po::option& o : parsed.options) {
    if (o.string_key.empty() || !vm.count(o.string_key)) continue;
    const boost::any& value = vm[o.string_key].value();
    const std::type_info& t = value.type();
    const std::string text = o.value.empty() ? "" : o.value.front();
    if (is_unsigned(t) && text.find('-') != std::string::npos)
      throw UsageError("--" + o.string_key + " must be a non-negative integer, not '" + text + "'");
    bool finite = true;
    if (t == typeid(float)) finite = std::isfinite(boost::any_cast<float>(value));
    if (t == typeid(double)) finite = std::isfinite(boost::any_cast<double>(value));
    if (!finite)
      throw UsageError("--" + o.string_key + " must be a finite number, not '" + text + "'");
  }
}

}  // namespace

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
  const po::parsed_options parsed =
      po::command_line_parser(args).options(all).positional(positional_).style(style).run();
  po::store(parsed, vm_);
  if (vm_.count("help")) {
    print_help(std::cout);
    return false;
  }
  po::notify(vm_);
  check_values(parsed, vm_);
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

void check_input(const std::string& option, const std::string& path, InputKind kind) {
  namespace fs = std::filesystem;
  const std::string who = "--" + option + " " + (path.empty() ? "''" : path) + ": ";
  if (path.empty()) throw UsageError("--" + option + ": the path is empty");
  if (kind == InputKind::data_set && (path == "fashion-mnist" || path == "fashion_mnist")) return;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  const bool exists = fs::exists(st);
  if (kind == InputKind::file) {
    if (!exists) throw UsageError(who + "no such file");
    if (fs::is_directory(st)) throw UsageError(who + "is a directory, not a file");
    if (!fs::is_regular_file(st)) throw UsageError(who + "is not a regular file");
    std::ifstream f(path, std::ios::binary);
    if (!f) throw UsageError(who + "cannot be read (permission denied?)");
    return;
  }
  const char* what = kind == InputKind::data_set
                         ? "a data set directory (or a data set name: fashion-mnist)"
                         : "a directory";
  if (!exists)
    throw UsageError(who + (kind == InputKind::data_set
                                ? "no such directory, and not a known data set name (known: "
                                  "fashion-mnist)"
                                : "no such directory"));
  if (!fs::is_directory(st)) throw UsageError(who + "is a file; expected " + what);
  if (fs::directory_iterator(path, ec) == fs::directory_iterator() || ec)
    throw UsageError(who + (ec ? "cannot be read (" + ec.message() + ")" : "is an empty directory"));
}

void check_inputs(const CommandLine& cl,
                  std::initializer_list<std::pair<const char*, InputKind>> options) {
  for (const auto& [name, kind] : options)
    if (cl.has(name)) check_input(name, cl.get<std::string>(name), kind);
}

int bounded_count(const std::string& option, int value, int available, const std::string& what) {
  if (value <= available) return value;
  std::cerr << g_who << ": note: --" << option << " " << value << " is more than " << what
            << " (" << available << "); using " << available << "\n";
  return available;
}

void apply_threads(const CommandLine& cl) {
  const int t = cl.get<int>("threads");
  if (t < 0 || t > kMaxThreads)
    throw UsageError("--threads must be in 0.." + std::to_string(kMaxThreads) +
                     " (0: all cores), not " + std::to_string(t));
  if (t > 0) engine::set_num_threads(t);
}

void add_device_option(CommandLine& cl) {
  cl.options()("device", po::value<std::string>()->default_value("cpu"),
               "where the engine runs: cpu, or cuda (a CUDA GPU; docs/cuda.md)");
}

void apply_device(const CommandLine& cl) {
  const std::string name = cl.get<std::string>("device");
  engine::Device d;
  if (!engine::parse_device(name, &d)) throw UsageError("--device must be cpu or cuda, not '" + name + "'");
  std::string why;
  if (!engine::device_usable(d, &why)) throw UsageError("--device " + name + ": " + why);
  engine::set_device(d);
}

config::Arch load_arch(const std::string& path) {
  check_input("arch", path, InputKind::file);
  return config::load_arch(path);
}

int run_guarded(const std::string& command, CommandFn fn, const std::vector<std::string>& args) {
  const std::string who = command.empty() ? "ristsim" : "ristsim " + command;
  const std::string help = who + " --help";
  g_who = who;
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
