// Yosys cross-check (see yosys.h).
#include "cost/yosys.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace ristsim::cost {

namespace fs = std::filesystem;

namespace {

std::string shell_quote(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

std::string read_text(const fs::path& p) {
  std::ifstream is(p);
  std::stringstream ss;
  ss << is.rdbuf();
  return ss.str();
}

}  // namespace

std::string find_yosys() {
  if (const char* e = std::getenv("RISTSIM_YOSYS"))
    return fs::exists(e) ? std::string(e) : std::string();
  const char* path = std::getenv("PATH");
  if (!path) return "";
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    const fs::path p = fs::path(dir.empty() ? "." : dir) / "yosys";
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return "";
}

std::map<std::string, uint64_t> parse_yosys_stat(const std::string& text) {
  std::map<std::string, uint64_t> cells;
  const size_t at = text.rfind("Number of cells:");
  if (at == std::string::npos) return cells;
  std::stringstream ss(text.substr(at));
  std::string line;
  std::getline(ss, line);  // the "Number of cells" line itself
  static const std::regex cell(R"(^\s+\$_([A-Za-z0-9_]+?)_\s+([0-9]+)\s*$)");
  while (std::getline(ss, line)) {
    std::smatch m;
    if (std::regex_match(line, m, cell)) {
      cells[m[1].str()] += std::stoull(m[2].str());
    } else if (line.find_first_not_of(" \t\r") == std::string::npos) {
      if (!cells.empty()) break;
    } else if (line.find("$") == std::string::npos) {
      break;
    }
  }
  return cells;
}

double gate_equivalents(const std::map<std::string, uint64_t>& cells,
                        const config::TechTable& table, std::vector<std::string>* unknown) {
  double ge = 0;
  for (const auto& [name, n] : cells) {
    const auto it = table.cells_um2.find(name);
    if (it == table.cells_um2.end()) {
      if (unknown) unknown->push_back(name);
      continue;
    }
    ge += double(n) * it->second / table.nand2_area_um2;
  }
  return ge;
}

Synthesis synthesize(const std::string& yosys, const std::vector<std::string>& verilog,
                     const std::string& top, const std::string& work_dir,
                     const config::TechTable& table) {
  if (yosys.empty()) throw std::runtime_error("yosys is not installed");
  fs::create_directories(work_dir);
  Synthesis s;
  const fs::path dir = fs::absolute(work_dir);
  s.script_path = (dir / ("synth_" + top + ".ys")).string();
  s.log_path = (dir / ("synth_" + top + ".log")).string();
  const fs::path stat = dir / ("synth_" + top + ".stat");
  {
    std::ofstream ys(s.script_path);
    ys << "# ristsim cost cross-check: generic gates of " << top << "\n";
    ys << "read_verilog -sv";
    for (const std::string& v : verilog) ys << " \"" << fs::absolute(v).string() << "\"";
    ys << "\nsynth -top " << top << " -flatten\n"
       << "async2sync\n"
       << "dfflegalize -cell $_DFF_P_ 01\n"
       << "abc -g AND,NAND,OR,NOR,XOR,XNOR,MUX\n"
       << "opt_clean\n"
       << "tee -q -o " << stat.filename().string() << " stat\n";  // relative: yosys runs in `dir`
    if (!ys) throw std::runtime_error("cannot write " + s.script_path);
  }
  std::error_code ec;
  fs::remove(stat, ec);
  const std::string cmd = "cd " + shell_quote(dir.string()) + " && " + shell_quote(yosys) +
                          " -q -l " + shell_quote(s.log_path) + " -s " +
                          shell_quote(s.script_path) + " > /dev/null 2>&1";
  const int rc = std::system(cmd.c_str());
  if (rc != 0 || !fs::exists(stat)) {
    std::string first_error;
    std::stringstream log(read_text(s.log_path));
    for (std::string line; std::getline(log, line);)
      if (line.find("ERROR") != std::string::npos) {
        first_error = ": " + line;
        break;
      }
    throw std::runtime_error("yosys failed on " + top + " (exit " + std::to_string(rc) + ")" +
                             first_error);
  }
  const std::string report = read_text(stat);
  s.cells = parse_yosys_stat(report);
  if (report.find("Number of cells:") == std::string::npos)
    throw std::runtime_error("no cells in the yosys report of " + top + "; see " + s.log_path);
  s.ge = gate_equivalents(s.cells, table, &s.unknown_cells);
  return s;
}

}  // namespace ristsim::cost
