// The cost model's area of every PE block against yosys (docs/cost.md "Yosys
// cross-check"). yosys's GE of one instance of each rtl/ module of each arch
// are cached in area_yosys.csv (UPDATE=1 scripts/area_check.sh writes it; a full
// synthesis of every arch takes minutes); the unit tests recompute the model
// and fail when a block is beyond 1.25x of yosys without an entry of
// area_explained.csv that covers its ratio. The e2e test re-synthesizes one
// block and checks the cache still holds its yosys figure.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>

#include "config/arch_yaml.h"
#include "config/tech_yaml.h"
#include "cost/arch_cost.h"
#include "cost/rtl_check.h"
#include "cost/yosys.h"
#include "rtlgen/rtlgen.h"

namespace ristsim::cost {
namespace {

namespace fs = std::filesystem;

const std::string kSource = RISTSIM_SOURCE_DIR;
const std::string kHere = kSource + "/testbench/cost";
constexpr double kBound = 1.25;

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream is(path);
  if (!is) throw std::runtime_error("cannot read " + path);
  std::vector<std::vector<std::string>> rows;
  bool header = true;
  for (std::string line; std::getline(is, line);) {
    if (line.empty() || line[0] == '#') continue;
    if (header) {  // the column names
      header = false;
      continue;
    }
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    rows.push_back(cells);
  }
  return rows;
}

struct YosysRow {
  std::string arch, module;
  double ge = 0;
};

std::vector<YosysRow> yosys_rows() {
  std::vector<YosysRow> rows;
  for (const auto& c : read_csv(kHere + "/area_yosys.csv")) {
    if (c.size() != 3) throw std::runtime_error("area_yosys.csv: a row without 3 columns");
    rows.push_back({c[0], c[1], std::stod(c[2])});
  }
  return rows;
}

struct Explained {
  std::string arch, module, reason;
  double min_ratio = 0, max_ratio = 0;
};

std::vector<Explained> explained_rows() {
  std::vector<Explained> rows;
  for (const auto& c : read_csv(kHere + "/area_explained.csv")) {
    if (c.size() < 5) throw std::runtime_error("area_explained.csv: a row without 5 columns");
    std::string reason = c[4];
    for (size_t i = 5; i < c.size(); ++i) reason += "," + c[i];
    rows.push_back({c[0], c[1], reason, std::stod(c[2]), std::stod(c[3])});
  }
  return rows;
}

/// The arch files the cache covers: the shipped and the co-simulation archs.
/// The shipped and co-simulation arches that have PE RTL (rtlgen refuses the others,
/// e.g. OCP MX groups: nothing to synthesize).
std::map<std::string, std::string> arch_files() {
  std::map<std::string, std::string> files;
  for (const std::string& dir : {kSource + "/configs", kSource + "/testbench/cosim/arch"})
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() != ".yaml") continue;
      const config::Arch a = config::load_arch(e.path().string());
      try {
        rtlgen::pe_formats(a, a.formats);
      } catch (const rtlgen::Unsupported&) {
        continue;
      }
      files[e.path().stem().string()] = e.path().string();
    }
  return files;
}

const TechModel& model45() {
  static const TechModel m(config::load_tech(kSource + "/configs/tech/45nm.yaml"), 45);
  return m;
}

/// One block's verdict.
struct Verdict {
  std::string arch, module, reason;
  double model_ge = 0, yosys_ge = 0;
  bool ok = false;
};

using ModelFn = std::function<double(const config::Arch&, const ArchCost&, const std::string&)>;

/// Every cached block against `model_ge`: within 1/kBound .. kBound, both zero
/// (wires), or covered by an explained entry for its arch (or any, "*").
std::vector<Verdict> check(const ModelFn& model_ge) {
  const auto files = arch_files();
  const auto explained = explained_rows();
  std::map<std::string, std::pair<config::Arch, ArchCost>> costs;
  std::vector<Verdict> out;
  for (const YosysRow& y : yosys_rows()) {
    const auto f = files.find(y.arch);
    if (f == files.end()) throw std::runtime_error("area_yosys.csv: no arch file for " + y.arch);
    auto it = costs.find(y.arch);
    if (it == costs.end()) {
      const config::Arch a = config::load_arch(f->second);
      it = costs.emplace(y.arch, std::make_pair(a, arch_cost(a, model45()))).first;
    }
    Verdict v;
    v.arch = y.arch;
    v.module = y.module;
    v.yosys_ge = y.ge;
    v.model_ge = model_ge(it->second.first, it->second.second, y.module);
    const double ratio = v.model_ge > 0 ? v.yosys_ge / v.model_ge : (v.yosys_ge > 0 ? 1e9 : 1);
    if (v.model_ge == 0 && v.yosys_ge == 0) {
      v.ok = true;
      v.reason = "wires";
    } else if (ratio >= 1 / kBound && ratio <= kBound) {
      v.ok = true;
    } else {
      for (const Explained& e : explained)
        if (e.module == v.module && (e.arch == "*" || e.arch == v.arch) && ratio >= e.min_ratio &&
            ratio <= e.max_ratio) {
          v.ok = true;
          v.reason = e.reason;
          break;
        }
    }
    out.push_back(v);
  }
  return out;
}

double real_model(const config::Arch&, const ArchCost& c, const std::string& module) {
  return block_model_ge(c, module);
}

TEST(CostArea, every_block_within_bound_or_explained) {
  const std::vector<Verdict> v = check(real_model);
  ASSERT_GE(v.size(), 6u * arch_files().size());  // six modules per arch
  for (const Verdict& x : v) {
    if (x.model_ge > 0 || x.yosys_ge > 0)
      std::cout << "[ area    ] " << x.arch << " " << x.module << ": model " << x.model_ge
                << " GE, yosys " << x.yosys_ge << " GE, ratio "
                << (x.model_ge > 0 ? x.yosys_ge / x.model_ge : 0)
                << (x.reason.empty() ? "" : " (" + x.reason + ")") << "\n";
    EXPECT_TRUE(x.ok) << x.arch << " " << x.module << ": model " << x.model_ge << " GE, yosys "
                      << x.yosys_ge << " GE, ratio " << x.yosys_ge / x.model_ge << ": beyond "
                      << kBound << "x and not in area_explained.csv";
  }
}

// Planted bug: the accumulator without its registers (the accumulator, its
// overflow flag, the tag waiting for the output stage, the done flag), the
// model's state before this check. The check must flag it on every arch.
TEST(CostArea, every_block_within_bound_or_explained_bad) {
  const ModelFn planted = [](const config::Arch&, const ArchCost& c, const std::string& module) {
    double ge = block_model_ge(c, module);
    if (module == "ristsim_accumulator")
      ge -= model45().reset_registers(c.pe.acc_bits + 1 + c.pe.tag_bits - 2, true).ge +
            model45().reset_registers(1, false).ge;
    return ge;
  };
  size_t flagged = 0, accumulators = 0;
  for (const Verdict& x : check(planted)) {
    if (x.module != "ristsim_accumulator") continue;
    ++accumulators;
    if (!x.ok) ++flagged;
  }
  EXPECT_EQ(accumulators, arch_files().size());
  EXPECT_EQ(flagged, accumulators);
}

TEST(CostArea, cache_covers_every_arch) {
  std::map<std::string, int> modules;
  for (const YosysRow& y : yosys_rows()) ++modules[y.arch];
  for (const auto& [name, path] : arch_files())
    EXPECT_GE(modules[name], 6) << name << " (" << path
                                << ") is not in area_yosys.csv: run UPDATE=1 scripts/area_check.sh";
}

// e2e: the cache against yosys today, on two blocks of dynfixed8 (about a
// second): the accumulator and the output stage.
TEST(CostAreaYosys, cache_matches_yosys) {
  const std::string yosys = find_yosys();
  if (yosys.empty()) GTEST_SKIP() << "yosys is not installed";
  const config::Arch arch = config::load_arch(kSource + "/configs/dynfixed8.yaml");
  const fs::path work =
      fs::temp_directory_path() / ("ristsim_cost_area_" + std::to_string(getpid()));
  rtlgen::write_rtl((work / "rtl").string(), rtlgen::generate_pe_rtl(arch));
  std::map<std::string, double> cached;
  for (const YosysRow& y : yosys_rows())
    if (y.arch == "dynfixed8") cached[y.module] = y.ge;
  std::vector<std::string> all;
  for (const auto& e : fs::directory_iterator(work / "rtl")) all.push_back(e.path().string());
  std::sort(all.begin(), all.end());  // as the cross-check reads them
  for (const char* top : {"ristsim_accumulator", "ristsim_output_stage"}) {
    const Synthesis s = synthesize(yosys, files_for_module(all, top), top, (work / top).string(),
                                   model45().table());
    ASSERT_TRUE(cached.count(top)) << top;
    EXPECT_NEAR(s.ge, cached[top], 0.01) << top << ": area_yosys.csv is stale, run "
                                         << "UPDATE=1 scripts/area_check.sh";
  }
  fs::remove_all(work);
}

}  // namespace
}  // namespace ristsim::cost
