// The main job: `ristsim --arch configs/dynfixed8.yaml [--out DIR]`.
//
// End to end on the default model (the trained LeNet of models/, Fashion-MNIST):
//   1. the arch, described (DIR/arch.txt);
//   2. float32 top-1 on the test split;
//   3. the network quantized by the arch (its datapath; dynamic fixed point
//      ranged over training images), top-1 and the drop;
//   4. one real layer (default: the one with the most MACs) on a test image,
//      co-simulated: SystemC model and Verilated RTL in lockstep, against the
//      golden model and the functional model's codes (DIR/cosim.json);
//   5. the area and energy report (DIR/report.md, .html, .json, plots/), the
//      dynamic compute energy of each layer scaled by the switching activity
//      of its real operand stream on that image (cycle::operand_activity).
// DIR is checked before any work and staged (util::OutputDir): everything is
// written into ".DIR.partial-PID" next to DIR and moved in at the end, so a failed
// or interrupted job leaves no partial results (and the next run removes what a
// killed one left). A folder ristsim did not write is never replaced; a previous
// output is replaced only with --force, or when DIR is the default `out/`.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/cli.h"
#include "cli/model_data.h"
#include "config/describe.h"
#include "cost/engine_work.h"
#include "cost/report.h"
#include "cost/tech.h"
#include "cycle/array_run.h"
#include "cycle/stimulus.h"
#include "engine/quant.h"
#include "engine/report.h"
#include "util/output.h"

namespace ristsim::cli {

namespace fs = std::filesystem;

namespace {

struct MainJobOptions {
  std::string arch_path;
  std::string out_dir = "out";
  std::string model = "models/lenet_fmnist.onnx";
  std::string data = "fashion-mnist";
  std::string layer;  // empty: the layer with the most MACs
  int image = 0, limit = 0, calib = 1000, batch = 100;
  bool quiet = false;
  bool measured_activity = true;
};

/// The default model is found from the working directory or the source tree.
std::string resolve_model(const std::string& path, bool is_default) {
  if (!is_default || fs::exists(path)) return path;
#ifdef RISTSIM_SOURCE_DIR
  const fs::path p = fs::path(RISTSIM_SOURCE_DIR) / path;
  if (fs::exists(p)) return p.string();
#endif
  return path;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

uint64_t saturations(engine::Net& net) {
  uint64_t n = 0;
  for (const engine::LayerStats& s : engine::collect_stats(net))
    for (const engine::GroupStats& g : s.groups) n += g.saturations;
  return n;
}

std::string cosim_json(const config::Arch& arch, const std::string& model, int image,
                       const cycle::LayerData& d, const cycle::CosimResult& r) {
  std::ostringstream js;
  js << "{\"arch\": " << engine::json_string(arch.name)
     << ", \"model\": " << engine::json_string(model)
     << ", \"layer\": " << engine::json_string(d.name) << ", \"image\": " << image << ", \"cycles\": " << r.cycles
     << ", \"outputs_checked\": " << r.outputs
     << ", \"functional_checked\": " << r.functional_checked
     << ", \"mismatches\": " << r.mismatches
     << ", \"systemc_cycles_per_s\": " << static_cast<uint64_t>(r.systemc_cycles_per_s)
     << ", \"rtl_cycles_per_s\": " << static_cast<uint64_t>(r.rtl_cycles_per_s)
     << ", \"cover_saturated\": " << r.cover_saturated << ", \"cover_acc_ovf\": " << r.cover_acc_ovf
     << ", \"cover_ties\": " << r.cover_ties << ", \"cover_idle_elements\": " << r.cover_idle_elements
     << ", \"cover_resets\": " << r.cover_resets << ", \"coverage_warnings\": [";
  for (size_t i = 0; i < r.coverage_warnings.size(); ++i)
    js << (i ? ", " : "") << engine::json_string(r.coverage_warnings[i]);
  js << "], \"rtl\": " << engine::json_string(r.rtl_dir) << ", \"ok\": " << (r.ok() ? "true" : "false");
  if (!r.rtl_stop.empty()) js << ", \"rtl_stopped\": " << engine::json_string(r.rtl_stop);
  js << "}\n";
  return js.str();
}

/// The job itself, on a loaded and validated arch, writing into `stage`.
int run_main_job(config::Arch arch, MainJobOptions opt, util::OutputDir& stage) {
  using Clock = std::chrono::steady_clock;
  const auto t_job = Clock::now();
  auto say = [&](const std::string& line) {
    if (!opt.quiet) std::printf("%s\n", line.c_str()), std::fflush(stdout);
  };
  char buf[512];

  // Everything that can be wrong with the input is found before any output.
  const cost::TechModel tech = [&] {
    try {
      return cost::tech_model_for(arch, "");
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }();
  const io::Dataset test_set = io::load_dataset(opt.data, false);
  engine::Samples test = flow::samples_of(test_set);
  if (opt.limit > 0)
    test.n = bounded_count("limit", opt.limit, test.n, "the images of the test split of " + test_set.source);
  engine::NetOptions no;
  no.batch = opt.batch;
  no.input_shape = {test_set.c, test_set.h, test_set.w};
  no.with_loss = true;
  no.phase = engine::Phase::test;
  std::unique_ptr<engine::Net> net = flow::load_model(opt.model, no);
  engine::check_samples(*net, test, "evaluation");
  if (opt.image < 0 || opt.image >= test.n)
    throw UsageError("--image " + std::to_string(opt.image) + ": the test split has images 0.." +
                     std::to_string(test.n - 1));
  if (!opt.layer.empty()) weighted_layer(*net, opt.layer);
  engine::check_overrides(*net, arch);  // a `layers:` entry the model does not have
  const std::string net_name = net->spec().name.empty() ? opt.model : net->spec().name;

  // 1. The arch.
  const std::string arch_text = config::describe(arch);
  util::write_file(stage.path("arch.txt"), arch_text);
  if (!opt.quiet) std::cout << arch_text;

  // 2. Float32.
  const engine::EvalResult fp32 = engine::evaluate(*net, test, opt.batch);
  std::snprintf(buf, sizeof buf, "[fp32]      %s on %s: top-1 %.2f %% (%lld test images, %.1f s)",
                net_name.c_str(), test_set.source.c_str(), 100 * fp32.top1,
                static_cast<long long>(fp32.images), fp32.seconds);
  say(buf);

  // 3. Quantized by the arch.
  const auto t_q = Clock::now();
  const int calib_used = quantize_with(*net, arch, opt.data, opt.calib, opt.batch);
  const engine::EvalResult q = engine::evaluate(*net, test, opt.batch);
  const char* datapath = arch.datapath == config::Datapath::exact ? "exact" : "float";
  std::snprintf(buf, sizeof buf,
                "[quantized] %s, %s datapath: top-1 %.2f %% (drop %.2f points; %llu saturated "
                "values; %.1f s with the range analysis over %d training images)",
                arch.name.c_str(), datapath, 100 * q.top1, 100 * (fp32.top1 - q.top1),
                static_cast<unsigned long long>(saturations(*net)), seconds_since(t_q),
                calib_used);
  say(buf);

  // 4. One real layer, co-simulated. The hardware is the exact datapath: a
  //    float-datapath arch gets an exact twin of the network for this step.
  std::unique_ptr<engine::Net> exact_net;
  engine::Net* hw = net.get();
  config::Arch hw_arch = arch;
  if (arch.datapath != config::Datapath::exact) {
    hw_arch.datapath = config::Datapath::exact;
    exact_net = flow::load_model(opt.model, no);
    quantize_with(*exact_net, hw_arch, opt.data, std::max(calib_used, 1), opt.batch);
    hw = exact_net.get();
  }
  hw->reshape(1);
  std::vector<cost::LayerWork> work = cost::layer_work_from_net(*hw, hw_arch);
  if (work.empty()) throw JobError("the model has no convolution or inner-product layer");
  if (opt.layer.empty())
    opt.layer = std::max_element(work.begin(), work.end(), [](const auto& a, const auto& b) {
                  return a.macs < b.macs;
                })->name;
  // Every layer's real operand stream on the image gives its switching
  // activity, which scales its dynamic compute energy in the report.
  cycle::CosimOptions co;
  std::string activities;
  for (cost::LayerWork& w : work) {
    cycle::LayerData d = real_layer(*hw, w.name, test, opt.image);
    if (opt.measured_activity) {
      const rtlgen::PeShape shape = rtlgen::make_pe_shape(hw_arch, &d.formats, "arch");
      w.activity = cycle::operand_activity(
                       shape, cycle::layer_jobs(d.conv, d.in.data(), d.w.data(), d.bias.data()))
                       .factor();
      std::snprintf(buf, sizeof buf, "%s%s %.2f", activities.empty() ? "" : ", ", w.name.c_str(),
                    w.activity);
      activities += buf;
    }
    if (w.name == opt.layer) co.real = std::move(d);
  }
  // An array arch (systolic, rows x cols > 1): the layer runs through the whole
  // array, SystemC array and Verilated array RTL in lockstep (docs/array.md).
  const bool array = hw_arch.array.interconnect == config::Interconnect::systolic &&
                     hw_arch.array.rows * hw_arch.array.cols > 1;
  std::string cosim_note;
  if (array) {
    cycle::ArrayRunResult ar;
    try {
      const rtlgen::PeShape shape = rtlgen::make_pe_shape(hw_arch, &co.real->formats, "arch");
      double build = 0;
      cycle::ArrayRtlOptions ro;
      ro.arch_path = hw_arch.path;
      std::unique_ptr<cycle::ArrayDut> rtl = cycle::make_array_rtl(
          cycle::array_rtl_shape(hw_arch, shape), cycle::array_geometry(hw_arch), ro, &build);
      if (build > 1) {
        std::snprintf(buf, sizeof buf, "[cosim]     array RTL generated and Verilated in %.0f s", build);
        say(buf);
      }
      cycle::ArrayRunOptions ao;
      ao.dut = rtl.get();
      ar = cycle::run_array_layer(hw_arch, shape, *co.real, ao);
    } catch (const std::exception& e) {  // rtlgen::Unsupported, a failed Verilation
      throw JobError(std::string("co-simulation: ") + e.what());
    }
    util::write_file(stage.path("cosim.json"), cycle::array_json(hw_arch, ar) + "\n");
    const kernels::ConvShape& c = co.real->conv;
    const cycle::ArrayRunStats& st = ar.stats;
    std::snprintf(buf, sizeof buf,
                  "[cosim]     layer %s (%dx%dx%d -> %dx%dx%d) on test image %d: %llu outputs, "
                  "%llu cycles through the %dx%d %s array (%llu in %llu folds, %llu stalls), "
                  "utilisation %.1f %%; SystemC array vs Verilated array RTL vs golden vs "
                  "functional: %s",
                  opt.layer.c_str(), c.c, c.h, c.w, c.k, c.oh, c.ow, opt.image,
                  static_cast<unsigned long long>(st.outputs),
                  static_cast<unsigned long long>(st.cycles), ar.geometry.rows,
                  ar.geometry.cols, config::to_string(ar.geometry.dataflow),
                  static_cast<unsigned long long>(st.fold_cycles),
                  static_cast<unsigned long long>(st.folds),
                  static_cast<unsigned long long>(st.stall_cycles), 100.0 * st.utilisation(),
                  ar.ok() ? "0 mismatches" : "FAILED");
    say(buf);
    std::snprintf(buf, sizeof buf,
                  "[cosim]     mapper: %llu compute cycles in %llu folds, simulated %llu in %llu "
                  "folds (%s); the mapper adds %llu fetch and %llu DRAM stall cycles",
                  static_cast<unsigned long long>(ar.map.compute_cycles),
                  static_cast<unsigned long long>(ar.map.mapping.folds),
                  static_cast<unsigned long long>(st.fold_cycles),
                  static_cast<unsigned long long>(st.folds), ar.analytic_equal ? "equal" : "DIFFERENT",
                  static_cast<unsigned long long>(ar.map.fetch_stall_cycles),
                  static_cast<unsigned long long>(ar.map.dram_stall_cycles));
    say(buf);
    if (!ar.ok()) throw JobError("co-simulation of layer " + opt.layer + " through the array failed:\n" + ar.text());
    std::snprintf(buf, sizeof buf,
                  "layer %s was co-simulated through the %dx%d %s array on test image %d: %llu "
                  "outputs, 0 mismatches between the SystemC array, the Verilated array RTL "
                  "(every column's south edge every cycle), the golden model and the functional "
                  "model; %llu cycles in %llu folds, utilisation %.1f %% of the array's MACs, "
                  "equal to the mapper's analytic compute cycles (cosim.json).",
                  opt.layer.c_str(), ar.geometry.rows, ar.geometry.cols,
                  config::to_string(ar.geometry.dataflow), opt.image,
                  static_cast<unsigned long long>(st.outputs),
                  static_cast<unsigned long long>(st.fold_cycles),
                  static_cast<unsigned long long>(st.folds), 100.0 * st.utilisation());
    cosim_note = buf;
  } else {
    cycle::CosimResult cr;
    try {
      cr = cycle::run_cosim(hw_arch, co);
    } catch (const std::exception& e) {  // rtlgen::Unsupported, a failed Verilation
      throw JobError(std::string("co-simulation: ") + e.what());
    }
    util::write_file(stage.path("cosim.json"), cosim_json(hw_arch, opt.model, opt.image, *co.real, cr));
    const kernels::ConvShape& c = co.real->conv;
    std::snprintf(buf, sizeof buf,
                  "[cosim]     layer %s (%dx%dx%d -> %dx%dx%d) on test image %d: %llu outputs, %llu "
                  "cycles, SystemC model vs Verilated RTL vs golden vs functional: %llu mismatches",
                  opt.layer.c_str(), c.c, c.h, c.w, c.k, c.oh, c.ow, opt.image,
                  static_cast<unsigned long long>(cr.outputs),
                  static_cast<unsigned long long>(cr.cycles),
                  static_cast<unsigned long long>(cr.mismatches));
    say(buf);
    for (const std::string& w : cr.coverage_warnings) say("[cosim]     WARN coverage: " + w);
    const cycle::Divergence& d = cr.first;
    if (!cr.ok()) {
      std::ostringstream m;
      m << "co-simulation of layer " << opt.layer << " failed";
      if (!cr.rtl_stop.empty()) m << ": the RTL stopped the simulation: " << cr.rtl_stop;
      if (d.found)
        m << ": first divergence (" << d.against << ") at output index " << d.output_index
          << ", cycle " << d.cycle << ", port " << d.port << ": expected "
          << cycle::bits_text(d.expected, d.width) << ", actual "
          << cycle::bits_text(d.actual, d.width);
      throw JobError(m.str());
    }
    cosim_note = "layer " + opt.layer + " was co-simulated on test image " +
                 std::to_string(opt.image) + ": " + std::to_string(cr.outputs) +
                 " outputs, 0 mismatches between the SystemC model, the Verilated RTL, the "
                 "golden model and the functional model (cosim.json).";
  }

  // 5. The report.
  cost::ReportInput in;
  in.arch = arch;
  in.model_name = net_name;
  in.data_name = test_set.source + " (" + std::to_string(test.n) + " test images)";
  in.layers = std::move(work);
  in.accuracy_fp32 = fp32.top1;
  in.accuracy_quantized = q.top1;
  in.notes.push_back(cosim_note);
  if (opt.measured_activity)
    in.notes.push_back(
        "dynamic compute energy scaled by each layer's operand switching activity on test image " +
        std::to_string(opt.image) +
        " (toggled activation and weight code bits per chunk against the 0.5 of random codes, "
        "which the published anchors stand for): " + activities + ".");
  const cost::ReportFiles files = cost::write_report(in, tech, stage.dir());
  const cost::Summary s = cost::summarize(in, tech);
  std::snprintf(buf, sizeof buf,
                "[report]    %.4g mm^2 logic, %.4g uJ per inference (%.3g pJ/MAC, %.3g TOPS/W), "
                "%.4g inferences/s at %.0f MHz",
                s.arch.area_um2 * 1e-6, s.energy_pj * 1e-6, s.energy_per_mac_pj, s.tops_per_w,
                s.inferences_per_s, arch.tech.frequency_mhz);
  say(buf);
  if (opt.measured_activity) say("            switching activity (1 = random data): " + activities);
  if (!files.plot_note.empty()) say("            plots: " + files.plot_note);

  stage.commit();
  const fs::path out(opt.out_dir);
  std::printf(
      "\nsummary: %s on %s: fp32 %.2f %%, %s %.2f %% (drop %.2f points); layer %s co-simulated "
      "bit- and cycle-exact; %.3g pJ/MAC; %.0f s in all\n",
      net_name.c_str(), arch.name.c_str(), 100 * fp32.top1, arch.name.c_str(), 100 * q.top1,
      100 * (fp32.top1 - q.top1), opt.layer.c_str(), s.energy_per_mac_pj, seconds_since(t_job));
  std::printf("report: %s (also report.md, report.json, report.csv, cosim.json, arch.txt in %s/)\n",
              (out / "report.html").string().c_str(), out.string().c_str());
  return kExitOk;
}

}  // namespace

int main_job(const std::vector<std::string>& args) {
  CommandLine cl("", "--arch FILE [--out DIR] [options]",
                 "ristsim: bit-accurate datapath simulator for quantized CNN accelerators.\n"
                 "The main job runs the accelerator described by FILE (YAML, see docs/arch.md)\n"
                 "end to end on a trained network (default: LeNet on Fashion-MNIST): float32 and\n"
                 "quantized accuracy, a co-simulation of one real layer (SystemC model against\n"
                 "the Verilated RTL, both against the golden and the functional model), and the\n"
                 "area and energy report, all written to DIR.");
  MainJobOptions opt;
  // clang-format off
  cl.options()
      ("arch", po::value<std::string>(&opt.arch_path)->value_name("FILE"),
       "accelerator description (e.g. configs/dynfixed8.yaml)")
      ("out", po::value<std::string>(&opt.out_dir)->value_name("DIR")->default_value("out"),
       "folder for the job's results")
      ("model", po::value<std::string>(&opt.model)->default_value(opt.model),
       "trained network (.onnx or weight file)")
      ("data", po::value<std::string>(&opt.data)->default_value(opt.data),
       "data set (fashion-mnist, or a directory)")
      ("layer", po::value<std::string>(&opt.layer),
       "layer to co-simulate (default: the one with the most MACs)")
      ("image", po::value<int>(&opt.image)->default_value(0), "test image of the co-simulation")
      ("limit", po::value<int>(&opt.limit)->default_value(0),
       "evaluate only the first N test images (0: all)")
      ("calib", po::value<int>(&opt.calib)->default_value(1000),
       "training images for the dynamic fixed-point range analysis")
      ("anchor-activity", "dynamic energy at the anchors' activity (random data), not the\n"
       "switching activity measured on the real layers")
      ("force", "replace a previous ristsim output in DIR (the default out/ is replaced\n"
       "without it)")
      ("quiet", po::bool_switch(&opt.quiet), "print only the summary")
      ("version", "print the version and exit");
  // clang-format on
  add_device_option(cl);
  if (!cl.parse(args)) return kExitOk;
  if (cl.has("version")) {
    std::cout << "ristsim " << version() << "\n";
    return kExitOk;
  }
  if (opt.arch_path.empty())
    throw UsageError("missing --arch FILE (for example: ristsim --arch configs/dynfixed8.yaml)");
  if (opt.limit < 0) throw UsageError("--limit must not be negative");
  if (opt.calib < 1) throw UsageError("--calib must be at least 1");
  apply_device(cl);
  opt.measured_activity = !cl.has("anchor-activity");
  opt.model = resolve_model(opt.model, cl.vm()["model"].defaulted());
  check_input("model", opt.model, InputKind::file);
  check_input("data", opt.data, InputKind::data_set);
  const config::Arch arch = load_arch(opt.arch_path);
  if (config::has_mx_groups(arch))  // step 4 co-simulates the PE: checked before any work
    throw UsageError("arch '" + arch.name + "': OCP MX groups have no PE RTL to co-simulate yet "
                     "(docs/rtl.md); run MX archs with 'ristsim eval' and 'ristsim report'");
  // The default folder `out/` is the job's own: a previous ristsim output there is replaced
  // without --force, so the README's command can be run again. A folder the user names, and
  // anything ristsim did not write, keep the rule of every command.
  const bool replace = cl.has("force") || cl.vm()["out"].defaulted();
  util::OutputDir stage(opt.out_dir, replace ? util::Existing::replace : util::Existing::refuse,
                        "ristsim --arch " + opt.arch_path);
  return run_main_job(arch, opt, stage);
}

}  // namespace ristsim::cli
