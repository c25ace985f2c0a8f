// `ristsim report`: the area/energy report of an arch running a model
// (docs/cost.md): report.md, report.html, report.json and report.csv in --out, with plots.
// Layer shapes come from the engine's Net of --model; accuracy from evaluating
// it on --data (float32 and quantized) or from --accuracy-*; the yosys
// cross-check of the arch's generated PE with --yosys (or of --rtl DIR).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/model_data.h"
#include "config/arch_yaml.h"
#include "cost/engine_work.h"
#include "cost/report.h"
#include "cost/rtl_check.h"
#include "cost/tech.h"
#include "engine/net.h"
#include "engine/train.h"
#include "engine/weights_io.h"
#include "io/dataset.h"
#include "util/output.h"
#include "sweep/report.h"

namespace ristsim::cli {

namespace {

/// Quantization-search results: lines "label,energy_pj,accuracy" (accuracy a
/// fraction 0..1); '#' comments and a non-numeric header line are skipped.
std::vector<cost::ParetoPoint> read_pareto(const std::string& path) {
  std::ifstream is(path);
  if (!is) throw UsageError("cannot read --pareto file '" + path + "'");
  std::vector<cost::ParetoPoint> pts;
  std::string line;
  int n = 0;
  while (std::getline(is, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::stringstream ss(line);
    std::string label, e, a;
    if (!std::getline(ss, label, ',') || !std::getline(ss, e, ',') || !std::getline(ss, a))
      throw UsageError(path + ":" + std::to_string(n) + ": expected label,energy_pj,accuracy");
    try {
      cost::ParetoPoint p{label, std::stod(e), std::stod(a)};
      if (!(p.energy_pj > 0) || p.accuracy < 0 || p.accuracy > 1)
        throw UsageError(path + ":" + std::to_string(n) +
                         ": energy must be > 0 and accuracy in 0..1");
      pts.push_back(p);
    } catch (const std::invalid_argument&) {
      if (pts.empty() && n == 1) continue;  // header
      throw UsageError(path + ":" + std::to_string(n) + ": expected numbers, got '" + line + "'");
    }
  }
  return pts;
}

/// The quantized top-1 on the test split in a `ristsim quantize` report.json
/// ("quantized": {"search_top1": ..., "test_top1": X}, a fraction).
double search_top1(const std::string& path) {
  std::ifstream is(path);
  if (!is) throw UsageError("--search: cannot read '" + path + "' (a 'ristsim quantize' output?)");
  std::stringstream ss;
  ss << is.rdbuf();
  const std::string text = ss.str();
  const size_t q = text.find("\"quantized\":");
  const size_t t = q == std::string::npos ? q : text.find("\"test_top1\":", q);
  double v = -1;
  if (t == std::string::npos || std::sscanf(text.c_str() + t, "\"test_top1\": %lf", &v) != 1 ||
      v < 0 || v > 1)
    throw UsageError(path + ": no quantized test_top1 fraction (not a 'ristsim quantize' report)");
  return v;
}

double fraction(const CommandLine& cl, const char* name) {
  const double v = cl.get<double>(name);
  if (v < 0 || v > 1) throw UsageError(std::string("--") + name + " must be a fraction in 0..1");
  return v;
}

}  // namespace

int cmd_report(const std::vector<std::string>& args) {
  CommandLine cl(
      "report", "--arch A.yaml --model W [--data D] [--out DIR] [options]\n"
      "       ristsim report --sweep DIR [--out DIR2]",
      "Writes the area and energy report of the arch running the model: report.md,\n"
      "report.html (self-contained) and report.json, with SVG plots (gnuplot). Area and\n"
      "energy come from the cost model calibrated to the technology table (default\n"
      "configs/tech/45nm.yaml: Horowitz, ISSCC 2014; node scaling Stillmaker and Baas\n"
      "2017); layer shapes from the model's network; accuracy from --data (float32 and\n"
      "quantized top-1 on the test split) or from --accuracy-fp32/--accuracy-quantized.\n"
      "See docs/cost.md. With --sweep: the Pareto fronts of a 'ristsim sweep' results folder\n"
      "(top-1 against energy per inference, logic area and cycles, per model), written to\n"
      "--out (default DIR/report) as sweep_report.md, .html, .json and plots (docs/sweep.md).");
  cl.options()("sweep", po::value<std::string>()->value_name("DIR"),
               "report the Pareto fronts of the sweep results in DIR")(
      "arch", po::value<std::string>(), "arch YAML file")(
      "model", po::value<std::string>(),
      "model: .onnx, weight file, network description (.yaml), or a Caffe .prototxt (with "
      "--weights)")(
      "weights", po::value<std::string>(),
      "the .caffemodel of a Caffe .prototxt --model (or a weight file for a .yaml one)")(
      "data", po::value<std::string>(),
      "data set (fashion-mnist, or a directory): measure accuracy")(
      "out", po::value<std::string>()->default_value("out"),
      "output directory (created; a previous ristsim output is replaced only with --force)")(
      "force", po::bool_switch(), "replace a previous ristsim output in --out")(
      "tech", po::value<std::string>(), "technology table (default: the arch's technology.table)")(
      "sram-kib", po::value<double>(), "on-chip buffer size in KiB (default: the table's)")(
      "dram", po::value<std::string>(), "DRAM type of the table (default: the table's)")(
      "map-objective", po::value<std::string>()->default_value("energy"),
      "what the mapper minimises per layer: energy (then cycles) or cycles (then energy)")(
      "yosys", po::bool_switch(), "cross-check the arch's generated PE with yosys")(
      "rtl", po::value<std::string>(),
      "cross-check the RTL in this folder (from 'ristsim rtl') with yosys")(
      "accuracy-fp32", po::value<double>(), "float32 top-1 accuracy (fraction) when not measured")(
      "accuracy-quantized", po::value<double>(),
      "quantized top-1 accuracy (fraction) when not measured")(
      "activity", po::value<double>()->default_value(1.0),
      "scale of the dynamic compute energy (toggle rate against the anchors' activity)")(
      "pareto", po::value<std::string>(),
      "quantization-search results: CSV label,energy_pj,accuracy")(
      "search", po::value<std::vector<std::string>>()->multitoken()->composing(),
      "'ristsim quantize' output folders: each one's arch.yaml costed on the model against "
      "its quantized test top-1, on the Pareto plot")(
      "limit", po::value<int>()->default_value(1000),
      "test images to evaluate with --data (0: all)")(
      "calib", po::value<int>()->default_value(1000),
      "training images for dynamic fixed point ranges")(
      "batch", po::value<int>()->default_value(100), "evaluation batch size")(
      "seed", po::value<uint64_t>()->default_value(1),
      "seed of random weights (.yaml without --weights)");
  if (!cl.parse(args)) return kExitOk;
  if (cl.has("sweep")) {
    for (const char* o : {"arch", "model", "data", "search", "pareto", "yosys", "rtl"})
      if (cl.has(o) && !cl.vm()[o].defaulted())
        throw UsageError(std::string("--sweep takes no --") + o);
    const std::string dir = cl.get<std::string>("sweep");
    const std::string out =
        cl.vm()["out"].defaulted() ? (std::filesystem::path(dir) / "report").string()
                                   : cl.get<std::string>("out");
    try {
      sweep::Database::open_read_only(dir);  // a folder without results is named as such first
    } catch (const std::runtime_error& e) {
      throw UsageError(e.what());
    }
    // Checked before any work and staged, like every output folder (README "Outputs").
    util::OutputDir out_dir(out,
                            cl.get<bool>("force") ? util::Existing::replace : util::Existing::refuse,
                            "ristsim report --sweep");
    sweep::SweepReportFiles f;
    try {
      f = sweep::write_sweep_report(dir, out_dir.dir());
    } catch (const util::WriteError&) {
      throw;
    } catch (const std::runtime_error& e) {
      throw UsageError(e.what());
    }
    out_dir.commit();
    const auto final_path = [&](const std::string& p) {
      return (std::filesystem::path(out_dir.out()) / std::filesystem::path(p).filename()).string();
    };
    if (!f.plot_note.empty()) std::printf("plots: %s\n", f.plot_note.c_str());
    std::printf("wrote %s, %s, %s (%zu plots)\n", final_path(f.md).c_str(),
                final_path(f.html).c_str(), final_path(f.json).c_str(), f.plots.size());
    return kExitOk;
  }
  check_inputs(cl, {{"arch", InputKind::file},
                    {"model", InputKind::file},
                    {"weights", InputKind::file},
                    {"tech", InputKind::file},
                    {"pareto", InputKind::file},
                    {"rtl", InputKind::directory},
                    {"data", InputKind::data_set}});
  if (cl.has("search"))
    for (const std::string& dir : cl.get<std::vector<std::string>>("search"))
      check_input("search", dir, InputKind::directory);
  if (!cl.has("arch")) throw UsageError("missing --arch FILE (or --sweep DIR)");
  if (!cl.has("model")) throw UsageError("missing --model FILE");

  const config::Arch arch = load_arch(cl.get<std::string>("arch"));
  // Checked before any work; staged: a failed run leaves nothing.
  util::OutputDir out_dir(cl.get<std::string>("out"),
                          cl.get<bool>("force") ? util::Existing::replace : util::Existing::refuse,
                          "ristsim report");
  const cost::TechModel model = [&] {
    try {
      return cost::tech_model_for(arch, cl.has("tech") ? cl.get<std::string>("tech") : "");
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }();

  cost::ReportInput in;
  in.arch = arch;
  {
    const std::string o = cl.get<std::string>("map-objective");
    if (o != "energy" && o != "cycles")
      throw UsageError("--map-objective is '" + o + "', expected energy or cycles");
    in.memory.objective = o == "energy" ? map::Objective::energy : map::Objective::cycles;
  }
  if (cl.has("sram-kib")) {
    if (!(cl.get<double>("sram-kib") > 0)) throw UsageError("--sram-kib must be positive");
    in.memory.sram_bytes = cl.get<double>("sram-kib") * 1024;
  }
  if (cl.has("dram")) {
    in.memory.dram_type = cl.get<std::string>("dram");
    try {
      model.dram_pj_per_bit(in.memory.dram_type);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  int batch = cl.get<int>("batch");
  const int limit = cl.get<int>("limit");
  if (batch < 1) throw UsageError("--batch must be at least 1");
  if (limit < 0) throw UsageError("--limit must not be negative");
  if (cl.get<int>("calib") < 1) throw UsageError("--calib must be at least 1");

  // Layer shapes: the model's network at batch 1 (input shape of --data, if given).
  const std::string model_path = cl.get<std::string>("model");
  const std::string weights_path = cl.has("weights") ? cl.get<std::string>("weights") : "";
  io::Dataset test_set;
  engine::NetOptions no;
  no.phase = engine::Phase::test;
  no.seed = cl.get<uint64_t>("seed");
  if (cl.has("data")) {
    test_set = io::load_dataset(cl.get<std::string>("data"), false);
    no.input_shape = {test_set.c, test_set.h, test_set.w};
    in.data_name = test_set.source;
  }
  {
    std::unique_ptr<engine::Net> net = load_model_weights(model_path, weights_path, no);
    in.model_name = net->spec().name.empty() ? model_path : net->spec().name;
    const std::string untrained = untrained_note(model_path, cl.has("weights"), no.seed);
    if (!untrained.empty()) {
      in.notes.push_back(untrained + ".");
      if (cl.has("data")) std::cerr << "ristsim report: warning: " << untrained << "\n";
    }
    in.layers = cost::layer_work_from_net(*net, arch);
  }
  const double activity = cl.get<double>("activity");
  if (!(activity >= 0)) throw UsageError("--activity must not be negative");
  for (cost::LayerWork& w : in.layers) w.activity = activity;
  if (activity != 1.0)
    in.notes.push_back("dynamic compute energy scaled by --activity " + std::to_string(activity) +
                       ".");
  if (in.layers.empty())
    throw JobError("the model has no Convolution or InnerProduct layer to cost");

  // Accuracy: measured on --data, or given.
  if (cl.has("data")) {
    engine::Samples test = flow::samples_of(test_set);
    if (limit > 0)
      test.n = bounded_count("limit", limit, test.n, "the images of the test split of " + test_set.source);
    batch = bounded_count("batch", batch, test.n, "the images evaluated");
    engine::NetOptions eo = no;
    eo.batch = batch;
    eo.with_loss = true;
    std::unique_ptr<engine::Net> net = load_model_weights(model_path, weights_path, eo);
    in.accuracy_fp32 = engine::evaluate(*net, test, batch).top1;
    quantize_with(*net, arch, cl.get<std::string>("data"), cl.get<int>("calib"), batch);
    in.accuracy_quantized = engine::evaluate(*net, test, batch).top1;
    cost::attach_formats(*net, &in.layers);  // the layers' actual fractional lengths
    in.data_name += " (" + std::to_string(test.n) + " test images)";
  }
  if (cl.has("accuracy-fp32")) in.accuracy_fp32 = fraction(cl, "accuracy-fp32");
  if (cl.has("accuracy-quantized")) in.accuracy_quantized = fraction(cl, "accuracy-quantized");
  if (cl.has("pareto")) in.pareto = read_pareto(cl.get<std::string>("pareto"));
  if (cl.has("search")) {
    // Each `ristsim quantize` result: its arch (DIR/arch.yaml) costed on this
    // model, and its quantized top-1 on the test split (DIR/report.json).
    engine::NetOptions one = no;
    one.batch = 1;
    std::unique_ptr<engine::Net> net = load_model_weights(model_path, weights_path, one);
    for (const std::string& dir : cl.get<std::vector<std::string>>("search")) {
      const double top1 = search_top1(dir + "/report.json");
      cost::ReportInput point = in;
      check_input("search", dir + "/arch.yaml", InputKind::file);
      point.arch = config::load_arch(dir + "/arch.yaml");
      point.layers = cost::layer_work_from_net(*net, point.arch);
      for (cost::LayerWork& w : point.layers) w.activity = activity;
      in.pareto.push_back(
          {std::filesystem::path(dir).filename().string() + " (" + point.arch.name + ")",
           cost::summarize(point, model).energy_pj, top1});
    }
  }
  if (in.accuracy_quantized && (cl.has("search") || cl.has("pareto")))
    in.pareto.push_back({arch.name, cost::summarize(in, model).energy_pj, *in.accuracy_quantized});

  // Yosys cross-check.
  if (cl.get<bool>("yosys") || cl.has("rtl")) {
    const std::string yosys = cost::find_yosys();
    if (yosys.empty()) {
      std::cerr << "ristsim report: yosys is not installed; the cross-check is skipped\n";
    } else {
      namespace fs = std::filesystem;
      const fs::path work =
          fs::temp_directory_path() / ("ristsim-report-yosys-" + std::to_string(::getpid()));
      const int cleanup = util::register_cleanup(work.string());  // also on SIGINT/SIGTERM
      try {
        in.cross_checks = cl.has("rtl")
                              ? cost::cross_check_dir(arch, model, yosys,
                                                      cl.get<std::string>("rtl"), work.string())
                              : cost::cross_check_arch(arch, model, yosys, work.string());
      } catch (const std::exception& e) {
        std::cerr << "ristsim report: the yosys cross-check failed: " << e.what() << "\n";
      }
      std::error_code ec;
      fs::remove_all(work, ec);
      util::unregister_cleanup(cleanup);
      for (const cost::CrossCheck& c : in.cross_checks)
        if (!c.error.empty())
          std::cerr << "ristsim report: yosys could not synthesize " << c.top << ": " << c.error
                    << "\n";
        else if (c.warn() && c.model_ge > 0)
          std::cerr << "ristsim report: warning: " << c.block << ": model " << c.model_ge
                    << " GE, yosys " << c.yosys_ge << " GE (ratio " << c.ratio()
                    << ", more than 50 % apart)\n";
    }
  }

  const std::string staged = out_dir.dir();
  cost::ReportFiles files = cost::write_report(in, model, staged);
  out_dir.commit();
  // The paths the user sees: in --out, not in the staging folder.
  auto final_path = [&](std::string& p) { p = out_dir.out() + p.substr(staged.size()); };
  final_path(files.md), final_path(files.html), final_path(files.json), final_path(files.csv);
  for (std::string& p : files.plots) final_path(p);
  const cost::Summary s = cost::summarize(in, model);
  std::printf(
      "%s on %s at %d nm, %.0f MHz: %.4g mm^2 logic (%.4g GE), %.4g uJ per inference "
      "(%.3g pJ/MAC, %.3g TOPS/W), %.4g inferences/s\n",
      in.model_name.c_str(), arch.name.c_str(), model.node_nm(), arch.tech.frequency_mhz,
      s.arch.area_um2 * 1e-6, s.arch.ge, s.energy_pj * 1e-6, s.energy_per_mac_pj, s.tops_per_w,
      s.inferences_per_s);
  for (const cost::Claim& c : s.claims)
    std::printf("claim: %s: %.3gx (%s): %s\n", c.claim.c_str(), c.value, c.expected.c_str(),
                c.holds ? "holds" : "does not hold");
  if (!files.plot_note.empty()) std::printf("plots: %s\n", files.plot_note.c_str());
  std::printf("wrote %s, %s, %s, %s\n", files.md.c_str(), files.html.c_str(), files.json.c_str(),
              files.csv.c_str());
  return kExitOk;
}

}  // namespace ristsim::cli
