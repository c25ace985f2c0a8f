// The report writer: files produced atomically, report.json parseable with the
// expected keys and values, the thesis claims on an 8-bit and a float32 arch.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "config/arch_yaml.h"
#include "config/tech_yaml.h"
#include "cost/report.h"
#include "lenet_fixture.h"

namespace ristsim::cost {
namespace {

namespace fs = std::filesystem;

// A small strict JSON reader, enough to check report.json.
struct Json {
  enum Kind { null, boolean, number, string, array, object } kind = null;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<Json> items;
  std::map<std::string, Json> fields;
  const Json& operator[](const std::string& k) const {
    static const Json none;
    const auto it = fields.find(k);
    return it == fields.end() ? none : it->second;
  }
  bool has(const std::string& k) const { return fields.count(k) > 0; }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& s) : s_(s) {}
  Json parse() {
    Json v = value();
    ws();
    if (i_ != s_.size()) throw std::runtime_error("trailing text at " + std::to_string(i_));
    return v;
  }

 private:
  void ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  void expect(char c) {
    ws();
    if (i_ >= s_.size() || s_[i_] != c)
      throw std::runtime_error(std::string("expected ") + c + " at " + std::to_string(i_));
    ++i_;
  }
  bool word(const char* w) {
    const std::string x(w);
    if (s_.compare(i_, x.size(), x) == 0) {
      i_ += x.size();
      return true;
    }
    return false;
  }
  std::string string() {
    expect('"');
    std::string r;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c == '\\') {
        const char e = s_.at(i_++);
        if (e == 'n')
          c = '\n';
        else if (e == 't')
          c = '\t';
        else if (e == 'r')
          c = '\r';
        else if (e == 'u') {
          c = '?';
          i_ += 4;
        } else
          c = e;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        throw std::runtime_error("control character in a string");
      }
      r += c;
    }
    expect('"');
    return r;
  }
  Json value() {
    ws();
    Json v;
    if (i_ >= s_.size()) throw std::runtime_error("unexpected end");
    const char c = s_[i_];
    if (c == '{') {
      v.kind = Json::object;
      ++i_;
      ws();
      if (s_[i_] == '}') {
        ++i_;
        return v;
      }
      for (;;) {
        const std::string k = string();
        expect(':');
        if (v.fields.count(k)) throw std::runtime_error("duplicate key " + k);
        v.fields[k] = value();
        ws();
        if (s_[i_] == ',') {
          ++i_;
          continue;
        }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      v.kind = Json::array;
      ++i_;
      ws();
      if (s_[i_] == ']') {
        ++i_;
        return v;
      }
      for (;;) {
        v.items.push_back(value());
        ws();
        if (s_[i_] == ',') {
          ++i_;
          continue;
        }
        expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.kind = Json::string;
      v.str = string();
      return v;
    }
    if (word("true")) {
      v.kind = Json::boolean;
      v.b = true;
      return v;
    }
    if (word("false")) {
      v.kind = Json::boolean;
      return v;
    }
    if (word("null")) return v;
    size_t used = 0;
    v.num = std::stod(s_.substr(i_, 40), &used);
    if (used == 0) throw std::runtime_error("bad number");
    i_ += used;
    v.kind = Json::number;
    return v;
  }
  const std::string& s_;
  size_t i_ = 0;
};

std::string slurp(const fs::path& p) {
  std::ifstream is(p);
  std::stringstream ss;
  ss << is.rdbuf();
  return ss.str();
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d =
      fs::temp_directory_path() / ("ristsim_cost_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  return d;
}

TechModel model45() {
  return TechModel(config::load_tech(std::string(RISTSIM_SOURCE_DIR) + "/configs/tech/45nm.yaml"),
                   45);
}

TEST(CostReport, files_and_json) {
  const TechModel m = model45();
  ReportInput in;
  in.arch = testing::fixed_arch(8);
  in.model_name = "lenet (test fixture shapes)";
  in.layers = testing::lenet_layers(in.arch);
  in.accuracy_fp32 = 0.91;
  in.accuracy_quantized = 0.905;
  in.pareto = {
      {"fixed16", 9e6, 0.91}, {"dynfixed8", 5e6, 0.905}, {"bad", 6e6, 0.80}, {"pow2", 3e6, 0.85}};
  const fs::path dir = fresh_dir("report");
  const ReportFiles f = write_report(in, m, dir.string());
  ASSERT_TRUE(fs::exists(dir / "report.md"));
  ASSERT_TRUE(fs::exists(dir / "report.html"));
  ASSERT_TRUE(fs::exists(dir / "report.json"));
  // No temporary files left behind.
  for (const auto& e : fs::recursive_directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();

  const Json j = JsonParser(slurp(dir / "report.json")).parse();
  for (const char* k : {"format", "units", "arch", "summary", "components", "layers", "memory",
                        "claims", "cross_check", "pareto", "plots", "sources"})
    EXPECT_TRUE(j.has(k)) << k;
  const Json& s = j["summary"];
  for (const char* k : {"area_um2", "area_ge", "energy_per_inference_pj", "energy_per_mac_pj",
                        "tops_per_w", "inferences_per_s", "macs", "cycles", "utilisation",
                        "sram_bits", "dram_bits", "accuracy_fp32", "accuracy_quantized"})
    EXPECT_TRUE(s.has(k)) << k;
  EXPECT_EQ(s["macs"].num, 2293000);
  EXPECT_DOUBLE_EQ(s["accuracy_quantized"].num, 0.905);
  // Consistency: TOPS/W = 2 MACs / energy in pJ; inferences/s = f / cycles.
  EXPECT_NEAR(s["tops_per_w"].num, 2 * 2293000 / s["energy_per_inference_pj"].num, 1e-9);
  EXPECT_NEAR(s["inferences_per_s"].num, 500e6 / s["cycles"].num, 1e-3);
  const Summary sum = summarize(in, m);
  EXPECT_NEAR(s["energy_per_inference_pj"].num, sum.energy_pj, 1e-6 * sum.energy_pj);
  // Cycles: the cycle model's, outputs * ceil(terms / 16) per layer on one PE,
  // plus 7 - 1 cycles of pipeline drain per layer.
  EXPECT_EQ(s["cycles"].num, 11520 * 2 + 3200 * 32 + 500 * 50 + 10 * 32 + 4 * 6);
  EXPECT_EQ(s["stall_cycles"].num, 0);
  EXPECT_EQ(j["layers"].items[0]["cycles_source"].str, "cycle model");

  ASSERT_EQ(j["layers"].items.size(), 4u);
  EXPECT_EQ(j["layers"].items[1]["name"].str, "conv2");
  for (const char* k :
       {"multipliers", "tree", "shifters", "accumulator", "output_stage", "sram", "dram", "total"})
    EXPECT_TRUE(j["layers"].items[1]["energy_pj"].has(k)) << k;
  EXPECT_EQ(j["components"].items[0]["name"].str, "multipliers");
  EXPECT_EQ(j["components"].items[0]["area_um2_each"].num, 282);
  EXPECT_EQ(j["components"].items[0]["source"].str.rfind("horowitz2014", 0), 0u);
  EXPECT_EQ(j["units"]["energy"].str, "pJ");

  // Pareto: "bad" (6e6 pJ, 0.80) is dominated by dynfixed8 (5e6, 0.905).
  int on_front = 0;
  for (const Json& p : j["pareto"].items) {
    if (p["label"].str == "bad") {
      EXPECT_FALSE(p["on_front"].b);
    }
    on_front += p["on_front"].b;
  }
  EXPECT_EQ(on_front, 3);

  // Claims: 8-bit multiplier 282 um^2 against 7700 um^2 float32 (27.3x); bandwidth
  // 32 / 8 = 4x exactly (weights, inputs, outputs all 8 bits).
  ASSERT_EQ(j["claims"].items.size(), 3u);
  EXPECT_NEAR(j["claims"].items[0]["value"].num, 7700.0 / 282, 1e-9);
  EXPECT_TRUE(j["claims"].items[0]["holds"].b);
  EXPECT_NEAR(j["claims"].items[1]["value"].num, 7700.0 / 282,
              1e-9);  // the lane is the 8x8 multiplier
  EXPECT_TRUE(j["claims"].items[1]["holds"].b);
  EXPECT_DOUBLE_EQ(j["claims"].items[2]["value"].num, 4.0);
  EXPECT_TRUE(j["claims"].items[2]["holds"].b);

  const std::string html = slurp(dir / "report.html");
  EXPECT_NE(html.find("<table>"), std::string::npos);
  // Self-contained: nothing fetched from elsewhere.
  EXPECT_EQ(html.find("src=\""), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://www.w3.org/1999/xlink\" xlink:href=\"http"), std::string::npos);
  if (!f.plots.empty()) {
    // Bit-width energy and area, Pareto, layers, energy by level, utilisation, roofline.
    EXPECT_EQ(f.plots.size(), 7u);
    EXPECT_NE(html.find("<svg"), std::string::npos);
    for (const std::string& p : f.plots) EXPECT_TRUE(fs::exists(p)) << p;
  } else {
    EXPECT_FALSE(f.plot_note.empty());
  }
  const std::string md = slurp(dir / "report.md");
  EXPECT_NE(md.find("| conv1 |"), std::string::npos);
  // report.csv: SCALE-Sim's compute-report columns, one row per layer, the
  // cycles those of report.json.
  std::istringstream csv(slurp(dir / "report.csv"));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line.rfind("LayerID,LayerName,Total Cycles,Compute Cycles,Stall Cycles,", 0), 0u)
      << line;
  int rows = 0;
  while (std::getline(csv, line)) {
    const std::string want = std::to_string(rows) + "," + j["layers"].items[size_t(rows)]["name"].str +
                             "," + std::to_string(uint64_t(j["layers"].items[size_t(rows)]["cycles"].num)) + ",";
    EXPECT_EQ(line.rfind(want, 0), 0u) << line;
    ++rows;
  }
  EXPECT_EQ(rows, 4);
  // A second report into the same folder without Pareto points drops the old plot.
  if (!f.plots.empty()) {
    ASSERT_TRUE(fs::exists(dir / "plots" / "pareto.svg"));
    in.pareto.clear();
    write_report(in, m, dir.string());
    EXPECT_FALSE(fs::exists(dir / "plots" / "pareto.svg"));
    EXPECT_TRUE(fs::exists(dir / "plots" / "energy_vs_bits.svg"));
  }
  fs::remove_all(dir);
}

TEST(CostReport, claims_float32_and_16bit) {
  const TechModel m = model45();
  ReportInput in;
  in.arch = testing::fixed_arch(16);
  in.layers = testing::lenet_layers(in.arch);
  Summary s = summarize(in, m);
  // 16 bits: 32/16 = 2x bandwidth, outside 4..8x: the claim does not hold, and says so.
  EXPECT_DOUBLE_EQ(s.claims[2].value, 2.0);
  EXPECT_FALSE(s.claims[2].holds);
  // 16x16 multiplier: sqrt(282 * 3495) um^2 by log-log interpolation: 7.76x.
  EXPECT_NEAR(s.claims[1].value, 7700 / std::sqrt(282.0 * 3495.0), 1e-9);
  EXPECT_TRUE(s.claims[1].holds);

  in.arch.datapath = config::Datapath::float32;
  for (config::NumberSpec* g : {&in.arch.formats.activations, &in.arch.formats.weights,
                                &in.arch.formats.bias, &in.arch.formats.outputs})
    g->is_float = true;
  in.layers = testing::lenet_layers(in.arch);
  s = summarize(in, m);
  EXPECT_DOUBLE_EQ(s.claims[1].value, 1.0);  // a float32 lane is the float multiplier
  EXPECT_FALSE(s.claims[1].holds);
  EXPECT_EQ(s.arch.components[0].each.area_um2, 7700);
  EXPECT_NEAR(s.arch.energy_per_mac_pj,
              3.7 + (15 * 0.9 + m.reset_registers(15 * 32 + 4 * (1 + 2 + 32), false).energy_pj +
                     0.9 + m.registers(32).energy_pj) /
                        16,
              1e-12);
}

// The thesis' claims on the shipped configs (configs/*.yaml, read with the arch loader).
TEST(CostReport, claims_on_shipped_configs) {
  const TechModel m = model45();
  struct Case {
    const char* file;
    double bandwidth;  // float32 bits / the config's bits over LeNet's weights, inputs, outputs
    bool bandwidth_holds;
  };
  const Case cases[] = {
      {"dynfixed8", 4.0, true}, {"dynfixed4", 8.0, true}, {"fixed16", 2.0, false}};
  for (const Case& c : cases) {
    const std::string path = std::string(RISTSIM_SOURCE_DIR) + "/configs/" + c.file + ".yaml";
    if (!fs::exists(path)) GTEST_SKIP() << path << " is not there";
    ReportInput in;
    in.arch = config::load_arch(path);
    in.layers = testing::lenet_layers(in.arch);
    const Summary s = summarize(in, m);
    // The 8-bit claim does not depend on the arch: 7700 / 282 um^2 at 45 nm.
    EXPECT_NEAR(s.claims[0].value, 7700.0 / 282, 1e-9) << c.file;
    EXPECT_TRUE(s.claims[0].holds);
    EXPECT_TRUE(s.claims[1].holds) << c.file << ": lane " << s.claims[1].value;
    EXPECT_DOUBLE_EQ(s.claims[2].value, c.bandwidth) << c.file;
    EXPECT_EQ(s.claims[2].holds, c.bandwidth_holds) << c.file;
  }
}

TEST(CostReport, failed_run_leaves_nothing) {
  const TechModel m = model45();
  ReportInput in;
  in.arch = testing::fixed_arch(8);
  in.layers = testing::lenet_layers(in.arch);
  // The output folder is a file: nothing can be written, and the error says so.
  const fs::path dir = fresh_dir("blocked");
  { std::ofstream(dir.string()) << "x"; }
  EXPECT_THROW(write_report(in, m, dir.string()), std::runtime_error);
  EXPECT_TRUE(fs::is_regular_file(dir));
  fs::remove(dir);
}

TEST(CostReport, pareto_front) {
  const auto f =
      pareto_front({{"a", 1, 0.5}, {"b", 2, 0.4}, {"c", 2, 0.9}, {"d", 3, 0.9}, {"e", 0.5, 0.1}});
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].label, "e");
  EXPECT_EQ(f[1].label, "a");
  EXPECT_EQ(f[2].label, "c");
}

}  // namespace
}  // namespace ristsim::cost
