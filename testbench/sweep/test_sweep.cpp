// Unit tests of sweeps: the sweep file (sim/config/sweep_yaml), row files, the
// results database and CSV, the Pareto fronts and the Slurm array spec (sim/sweep).
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/arch_yaml.h"
#include "config/sweep_yaml.h"
#include "sweep/report.h"
#include "sweep/results.h"
#include "sweep/run.h"

namespace {

namespace fs = std::filesystem;
using ristsim::config::ConfigError;
using ristsim::config::parse_sweep;
using ristsim::config::Sweep;

const std::string kArch =
    "name: base\n"
    "datapath: exact\n"
    "formats:\n"
    "  activations: {type: fixed, bits: 8, fl: 4}\n"
    "  weights: {type: fixed, bits: 8, fl: 6}\n"
    "  bias: {type: fixed, bits: 16, fl: 8}\n"
    "  outputs: {type: fixed, bits: 8, fl: 4}\n"
    "array: {pes: 1, lanes: 16}\n";

/// A temporary folder with the base arch in it, removed at the end.
class SweepFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ristsim-sweep-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::ofstream(dir_ / "base.yaml") << kArch;
  }
  void TearDown() override { fs::remove_all(dir_); }
  Sweep parse(const std::string& body) { return parse_sweep(body, (dir_ / "s.yaml").string()); }
  /// The ConfigError message of parsing `body` ("" if it parses).
  std::string error(const std::string& body) {
    try {
      parse(body);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_;
};

const std::string kHead =
    "name: t\n"
    "arch: base.yaml\n"
    "models: [{model: m.onnx, data: fashion-mnist}]\n";

TEST_F(SweepFile, grid_order_values_and_ids) {
  const Sweep sw = parse(kHead +
                         "axes:\n"
                         "  formats.weights.bits: [4, 6, 8]\n"
                         "  array.lanes: [8, 32]\n");
  ASSERT_EQ(sw.points.size(), 6u);
  ASSERT_EQ(sw.axes.size(), 2u);
  EXPECT_EQ(sw.axes[0].path, "formats.weights.bits");
  EXPECT_EQ(sw.axes[1].values, (std::vector<std::string>{"8", "32"}));
  EXPECT_EQ(sw.axes[1].lines[1], 6);
  EXPECT_EQ(sw.axes[1].columns[1], 20);
  // The last axis varies fastest; every arch carries its values.
  const int bits[] = {4, 4, 6, 6, 8, 8}, lanes[] = {8, 32, 8, 32, 8, 32};
  std::set<std::string> ids;
  for (size_t i = 0; i < 6; ++i) {
    const auto& p = sw.points[i];
    EXPECT_EQ(p.index, static_cast<int>(i));
    EXPECT_EQ(p.arch.formats.weights.quantizer.format.bits, bits[i]) << i;
    EXPECT_EQ(p.arch.formats.weights.quantizer.format.fl, 6) << i;  // the rest of the map stays
    EXPECT_EQ(p.arch.array.lanes, lanes[i]) << i;
    EXPECT_EQ(p.arch.array.pes, 1);
    EXPECT_EQ(p.id.size(), 16u);
    ids.insert(p.id);
  }
  EXPECT_EQ(ids.size(), 6u);
  EXPECT_EQ(sw.label(sw.points[3]), "formats.weights.bits=6 array.lanes=32");
  // The same file gives the same ids (they name the points across runs).
  EXPECT_EQ(parse(kHead + "axes:\n"
                          "  formats.weights.bits: [4, 6, 8]\n"
                          "  array.lanes: [8, 32]\n")
                .points[3]
                .id,
            sw.points[3].id);
}

TEST_F(SweepFile, models_are_the_outer_axis_and_maps_are_values) {
  const Sweep sw = parse(
      "name: t\narch: base.yaml\n"
      "models: [{model: a.onnx, data: fashion-mnist, name: a}, {model: b.onnx, data: d, name: b}]\n"
      "axes:\n"
      "  formats.weights: [{type: fixed, bits: 4, fl: 2}, {type: pow2, bits: 4}]\n"
      "  accumulator.bits: [24]\n");
  ASSERT_EQ(sw.points.size(), 4u);
  EXPECT_EQ(sw.points[0].model, 0);
  EXPECT_EQ(sw.points[2].model, 1);
  EXPECT_EQ(sw.points[1].arch.formats.weights.quantizer.format.kind,
            ristsim::numeric::FormatKind::pow2);
  EXPECT_EQ(sw.points[1].arch.accumulator.bits, 24);  // a map created on the way
  EXPECT_EQ(sw.axes[0].values[0], "{type: fixed, bits: 4, fl: 2}");
  EXPECT_EQ(sw.label(sw.points[3]),
            "model=b formats.weights={type: pow2, bits: 4} accumulator.bits=24");
  EXPECT_EQ(sw.models[0].model, (dir_ / "a.onnx").lexically_normal().string());
  EXPECT_NE(sw.points[0].id, sw.points[2].id);  // same arch, another model
}

TEST_F(SweepFile, random_sample_is_seeded_distinct_and_in_grid_order) {
  const std::string axes =
      "axes:\n"
      "  formats.weights.bits: [2, 3, 4, 5, 6, 7, 8]\n"
      "  formats.activations.bits: [4, 5, 6, 7, 8]\n"
      "  array.lanes: [4, 8, 16, 32]\n";
  const Sweep a = parse(kHead + axes + "sample: {random: 20, seed: 7}\n");
  const Sweep b = parse(kHead + axes + "sample: {random: 20, seed: 7}\n");
  const Sweep c = parse(kHead + axes + "sample: {random: 20, seed: 8}\n");
  ASSERT_EQ(a.points.size(), 20u);
  std::set<std::string> ids;
  bool all_same_as_c = true;
  for (size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(a.points[i].id, b.points[i].id) << i;
    all_same_as_c = all_same_as_c && a.points[i].id == c.points[i].id;
    ids.insert(a.points[i].id);
    if (i) {  // grid order: the value indices increase lexicographically
      EXPECT_LT(a.points[i - 1].value, a.points[i].value) << i;
    }
  }
  EXPECT_EQ(ids.size(), 20u);
  EXPECT_FALSE(all_same_as_c);
  // The whole grid as a sample is the grid.
  EXPECT_EQ(parse(kHead + axes + "sample: {random: 140}\n").points.size(), 140u);
}

TEST_F(SweepFile, errors_name_file_line_and_column) {
  EXPECT_EQ(error(kHead + "axis: {}\n"),
            (dir_ / "s.yaml").string() +
                ":4:1: unknown key 'axis' in the sweep (expected one of: name, arch, models, "
                "axes, sample, measure, slurm)");
  EXPECT_NE(error(kHead + "axes: {array.lanes: []}\n").find(":4:21: expected a non-empty list"),
            std::string::npos);
  EXPECT_NE(error(kHead + "axes: {array.lanes: [8]}\nsample: {random: 2}\n")
                .find(":5:18: sample.random is 2 but the grid has only 1 points"),
            std::string::npos);
  EXPECT_NE(error(kHead + "axes: {array.lanes: [8, 8]}\n").find(":4:25: value 8 appears twice"),
            std::string::npos);
  EXPECT_NE(error("name: t\narch: nope.yaml\nmodels: [{model: m, data: d}]\n")
                .find(":2:7: arch: cannot open"),
            std::string::npos);
  EXPECT_NE(error(kHead + "measure: {images: -1}\n").find(":4:19: measure.images is -1"),
            std::string::npos);
}

TEST_F(SweepFile, image_preparation_keys_are_the_cli_data_options) {
  const Sweep sw = parse(
      "name: t\narch: base.yaml\n"
      "models: [{model: m.onnx, data: imgs, preprocess: caffe_imagenet, mean: [1, 2.5, 3],\n"
      "          order: class, max_images: 50}]\n");
  const ristsim::io::ImageFolderOptions& im = sw.models[0].image;
  EXPECT_EQ(im.crop, 227);
  EXPECT_EQ(im.resize_h, 256);
  EXPECT_TRUE(im.bgr);
  EXPECT_EQ(im.mean, (std::array<float, 3>{1.f, 2.5f, 3.f}));
  EXPECT_EQ(im.scale, 1.f);
  EXPECT_FALSE(im.interleave);
  EXPECT_EQ(im.max_images, 50);
  // Without keys: the CLI's defaults (224 crop of 256x256, x/255, interleaved), and a point id
  // without the preparation (the ids of older sweep files stay); with keys the id changes.
  const Sweep plain = parse("name: t\narch: base.yaml\nmodels: [{model: m.onnx, data: imgs}]\n");
  EXPECT_EQ(plain.models[0].image.crop, 224);
  EXPECT_FALSE(plain.models[0].image.bgr);
  EXPECT_TRUE(plain.models[0].image.interleave);
  EXPECT_NE(plain.points[0].id, sw.points[0].id);
  const std::string h = "name: t\narch: base.yaml\nmodels: [{model: m.onnx, data: imgs, ";
  EXPECT_NE(
      error(h + "scale: 0}]\n").find(":3:45: models[].scale must be a finite non-zero number"),
      std::string::npos);
  EXPECT_NE(error(h + "resize: shorter=256, crop: 0}]\n")
                .find(":3:46: models[].resize shorter=N gives images of different sizes: set "
                      "models[].crop"),
            std::string::npos);
  EXPECT_NE(error(h + "channels: 2}]\n").find(":3:48: models[].channels must be 1 or 3"),
            std::string::npos);
  EXPECT_NE(error(h + "crop: x}]\n").find(":3:44: expected an integer for models[].crop, got 'x'"),
            std::string::npos);
}

TEST_F(SweepFile, an_invalid_point_is_a_load_time_error_at_its_value) {
  // 40 bits: the arch validation rejects it; the error points at the value.
  const std::string e = error(kHead +
                              "axes:\n"
                              "  array.lanes: [8, 16]\n"
                              "  formats.weights.bits: [4, 40]\n");
  EXPECT_NE(e.find("s.yaml:6:29: point 1 (array.lanes=8 formats.weights.bits=40) is not a valid "
                   "arch: formats.weights.bits is 40"),
            std::string::npos)
      << e;
  // A key the arch does not have.
  EXPECT_NE(error(kHead + "axes: {array.width: [8]}\n").find("unknown key 'width' in array"),
            std::string::npos);
  // A path through a scalar.
  EXPECT_NE(error(kHead + "axes: {name.x: [8]}\n").find("'name' is a scalar, not a map"),
            std::string::npos);
}

TEST(SweepArchKey, sets_and_creates) {
  const std::string t = ristsim::config::set_arch_key("a: {b: 1}\n", "a.c.d", "[1, 2]");
  EXPECT_NE(t.find("c:"), std::string::npos);
  EXPECT_THROW(ristsim::config::set_arch_key("a: 1\n", "a.b", "2"), std::invalid_argument);
}

TEST(SweepRows, row_file_round_trip_and_malformed) {
  const fs::path dir = fs::temp_directory_path() / ("ristsim-rows-" + std::to_string(getpid()));
  ristsim::sweep::Row r;
  r.set("point_id", "00000000000000ab");
  r.set("error", "line 1\nline\t2 \\ end");
  r.set("top1", 0.875);
  r.set_int("cycles", 150784);
  ristsim::sweep::write_row_file(dir.string(), r);
  const auto rows = ristsim::sweep::read_row_files(dir.string());
  ASSERT_EQ(rows.size(), 1u);
  const auto& back = rows.at("00000000000000ab");
  EXPECT_EQ(back.cells, r.cells);
  EXPECT_EQ(back.number("top1"), 0.875);
  EXPECT_TRUE(std::isnan(back.number("error")));
  std::ofstream(dir / "rows" / "bad.row") << "# ristsim sweep row 1\nno tab here\n";
  try {
    ristsim::sweep::read_row_files(dir.string());
    ADD_FAILURE() << "a malformed row file was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.row:2: malformed row line"), std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

TEST(SweepDatabase, upsert_read_csv_and_new_axes) {
  const fs::path dir = fs::temp_directory_path() / ("ristsim-db-" + std::to_string(getpid()));
  fs::create_directories(dir);
  using ristsim::sweep::Row;
  {
    ristsim::sweep::Database db(dir.string(), {"array.lanes"});
    Row a, b;
    a.set("point_id", "a");
    a.set_int("idx", 1);
    a.set("array.lanes", "16");
    a.set("status", "ok");
    a.set("top1", 0.5);
    b.set("point_id", "b");
    b.set_int("idx", 0);
    b.set("array.lanes", "{x: 1}");
    b.set("status", "failed");
    b.set("error", "it said \"no\", twice");
    db.upsert({a, b});
    a.set("top1", 0.75);  // replaced, not added
    db.upsert({a});
    db.set_meta("name", "t");
  }
  {
    // The sweep gained an axis: its column is added, old rows keep NULL there.
    ristsim::sweep::Database db(dir.string(), {"array.lanes", "array.pes"});
    const auto rows = db.rows();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].get("point_id"), "b");  // by idx
    EXPECT_EQ(rows[1].number("top1"), 0.75);
    EXPECT_EQ(rows[1].get("array.lanes"), "16");
    EXPECT_FALSE(rows[1].has("array.pes"));
    EXPECT_EQ(db.meta("name"), "t");
    db.write_csv((dir / "r.csv").string());
  }
  std::ifstream is(dir / "r.csv");
  std::stringstream ss;
  ss << is.rdbuf();
  const std::string csv = ss.str();
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "point_id,idx,model,arch_name,arch_hash,array.lanes,status,error,top1,"
            "top1_fp32,images,energy_pj,energy_per_mac_pj,area_um2,macs,cycles,inferences_per_s,"
            "cosim_layer,cosim_outputs,cosim_mismatches,version,seconds,started_at,finished_at,"
            "host,backend,task,attempt,array.pes");  // an added column comes last
  EXPECT_NE(csv.find("\nb,0,,,,{x: 1},failed,\"it said \"\"no\"\", twice\",,,"), std::string::npos)
      << csv;
  EXPECT_THROW(ristsim::sweep::Database::open_read_only((dir / "none").string()),
               std::runtime_error);
  fs::remove_all(dir);
}

TEST(SweepPareto, fronts_per_model_and_cost) {
  using ristsim::sweep::Row;
  auto row = [](const char* id, const char* model, double top1, double e, double area,
                double cycles, const char* status = "ok") {
    Row r;
    r.set("point_id", id);
    r.set("model", model);
    r.set("status", status);
    r.set("top1", top1);
    r.set("energy_pj", e);
    r.set("area_um2", area);
    r.set("cycles", cycles);
    return r;
  };
  const std::vector<Row> rows = {
      row("p0", "m", 0.90, 100, 5, 10), row("p1", "m", 0.92, 200, 4, 10),
      row("p2", "m", 0.91, 300, 6, 20),  // dominated in energy and area
      row("p3", "m", 0.95, 400, 9, 20), row("p4", "m", 0.99, 50, 1, 1, "failed"),
      row("q0", "n", 0.5, 1, 1, 1)};
  const auto fronts = ristsim::sweep::pareto_fronts(rows);
  ASSERT_EQ(fronts.size(), 6u);  // 2 models x 3 costs
  auto ids = [](const std::vector<Row>& v) {
    std::vector<std::string> s;
    for (const Row& r : v) s.push_back(r.get("point_id"));
    return s;
  };
  EXPECT_EQ(fronts[0].model, "m");
  EXPECT_EQ(std::string(fronts[0].axis->column), "energy_pj");
  EXPECT_EQ(fronts[0].points.size(), 4u);  // the failed point is not drawn
  EXPECT_EQ(ids(fronts[0].front), (std::vector<std::string>{"p0", "p1", "p3"}));
  EXPECT_EQ(ids(fronts[1].front), (std::vector<std::string>{"p1", "p3"}));  // area: p0 is 5 > 4
  EXPECT_EQ(ids(fronts[2].front), (std::vector<std::string>{"p1", "p3"}));  // cycles: tie at 10
  EXPECT_EQ(ids(fronts[3].front), (std::vector<std::string>{"q0"}));
}

TEST_F(SweepFile, slurm_script_resources_offset_and_attempt) {
  const Sweep sw = parse(kHead +
                         "axes: {array.lanes: [8, 16]}\n"
                         "slurm: {partition: short, account: hw, time: '00:02:00', mem: 1G,\n"
                         "        cpus_per_task: 2, extra: ['--constraint=avx2']}\n");
  ristsim::sweep::RunOptions opt;
  opt.out_dir = "/o";
  opt.exe = "/bin/ristsim";
  const std::string first = ristsim::sweep::slurm_script(sw, opt, "/o/tasks/r.tasks", 2, 1, 0);
  for (const char* line :
       {"#SBATCH --array=0-1\n", "#SBATCH --output=/o/logs/slurm-%A_%a.out\n",
        "#SBATCH --cpus-per-task=2\n", "#SBATCH --mem=1G\n", "#SBATCH --time=00:02:00\n",
        "#SBATCH --partition=short\n", "#SBATCH --account=hw\n",
        "#SBATCH --constraint=avx2\n",
        "'--worker' '/o/tasks/r.tasks' '--task' \"${SLURM_ARRAY_TASK_ID}\" '--attempt' '1' "
        "'--backend' 'slurm'"})
    EXPECT_NE(first.find(line), std::string::npos) << line << " not in:\n" << first;
  // A later block of tasks (beyond MaxArraySize) in a retry.
  const std::string later = ristsim::sweep::slurm_script(sw, opt, "/o/tasks/r.tasks", 3, 2, 1001);
  EXPECT_NE(later.find("#SBATCH --array=0-2\n"), std::string::npos) << later;
  EXPECT_NE(later.find("'--task' \"$((SLURM_ARRAY_TASK_ID + 1001))\" '--attempt' '2'"),
            std::string::npos)
      << later;
}

TEST(SweepSlurm, array_spec_and_quoting) {
  EXPECT_EQ(ristsim::sweep::array_spec({0, 1, 2, 3}), "0-3");
  EXPECT_EQ(ristsim::sweep::array_spec({7, 3, 9, 10}), "3,7,9-10");
  EXPECT_EQ(ristsim::sweep::shell_quote("it's"), "'it'\\''s'");
}

}  // namespace
