// `ristsim sweep SWEEP.yaml --out DIR [--backend local|slurm] [--jobs N]`: a
// design-space sweep (docs/sweep.md). The sweep file (sim/config/sweep_yaml.h)
// is loaded and every point's arch validated before anything runs; the points
// not done yet run as tasks on a local process pool or a Slurm job array
// (sim/sweep/run.h), and the results land in DIR/results.sqlite and
// DIR/results.csv. The evaluation of one point lives here, next to the other
// commands' use of models and data: top-1 of the model quantized by the point's
// arch on the first N test images (optionally the float32 top-1), the area,
// energy and cycles of the cost model, and optionally a co-simulation of one
// real layer. A task runs as `ristsim sweep SWEEP.yaml --out DIR --worker FILE
// --task K` (the hidden options below).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <tuple>

#include "cli/cli.h"
#include "cli/model_data.h"
#include "config/sweep_yaml.h"
#include "cost/engine_work.h"
#include "cost/report.h"
#include "cost/tech.h"
#include "engine/math.h"
#include "sweep/run.h"

namespace ristsim::cli {

namespace fs = std::filesystem;

namespace {

/// A split of a model's data set, streamed with the model's preparation keys and opened once
/// per process (a task may evaluate many points): only its first `count` images (0: all) are
/// ever read, so memory does not grow with the folder.
io::DataSource& data_source(const config::Sweep& sw, int model, bool train, int count) {
  static std::map<std::tuple<int, bool, int>, std::unique_ptr<io::DataSource>> cache;
  std::unique_ptr<io::DataSource>& src = cache[{model, train, count}];
  if (!src) {
    const config::SweepModel& m = sw.models[model];
    io::ImageFolderOptions image = m.image;
    if (count > 0)
      image.max_images = image.max_images > 0 ? std::min(image.max_images, count) : count;
    io::StreamOptions stream;
    stream.threads = engine::num_threads();  // the worker's --threads (--jobs: the processes)
    src = io::open_dataset(m.data, train, image, stream);
  }
  return *src;
}

/// One point: accuracy, cost, cycles, co-simulation (as the sweep's measure says).
void evaluate_point(const config::Sweep& sw, const config::SweepPoint& p, sweep::Row& row) {
  const config::SweepModel& m = sw.models[p.model];
  const config::SweepMeasure& ms = sw.measure;
  const config::Arch& arch = p.arch;
  io::DataSource& test_set = data_source(sw, p.model, false, ms.images);
  const engine::SampleStream test = flow::stream_of(test_set);
  engine::NetOptions no;
  no.batch = ms.batch;
  no.input_shape = {test_set.c, test_set.h, test_set.w};
  no.with_loss = true;
  no.phase = engine::Phase::test;
  std::unique_ptr<engine::Net> net = flow::load_model(m.model, no);
  engine::check_samples(*net, test, "evaluation");
  flow::check_layer_names(arch, *net);
  row.set_int("images", test.n);
  if (ms.fp32) row.set("top1_fp32", engine::evaluate(*net, test, ms.batch).top1);
  engine::SampleStream calib;
  int calib_n = 0;
  if (engine::has_dynamic_groups(arch)) {
    calib = flow::stream_of(data_source(sw, p.model, true, ms.calib));
    calib_n = std::min(ms.calib, calib.n);
  }
  engine::quantize_net(*net, arch, calib, calib_n, ms.batch);
  row.set("top1", engine::evaluate(*net, test, ms.batch).top1);

  if (ms.cost || ms.cycles) {
    const cost::TechModel tech = cost::tech_model_for(arch, "");
    engine::NetOptions one = no;
    one.batch = 1;
    one.with_loss = false;
    std::unique_ptr<engine::Net> net1 = flow::load_model(m.model, one);
    cost::ReportInput in;
    in.arch = arch;
    in.layers = cost::layer_work_from_net(*net1, arch);
    if (in.layers.empty()) throw JobError("the model has no convolution or inner-product layer");
    const cost::Summary s = cost::summarize(in, tech);
    row.set_int("macs", static_cast<int64_t>(s.macs));
    if (ms.cost) {
      row.set("energy_pj", s.energy_pj);
      row.set("energy_per_mac_pj", s.energy_per_mac_pj);
      row.set("area_um2", s.arch.area_um2);
    }
    if (ms.cycles) {
      row.set_int("cycles", static_cast<int64_t>(s.cycles));
      row.set("inferences_per_s", s.inferences_per_s);
    }
  }

  if (!ms.cosim.empty()) {
    // The hardware is the exact datapath: a float-datapath arch gets an exact twin.
    std::unique_ptr<engine::Net> exact_net;
    engine::Net* hw = net.get();
    config::Arch hw_arch = arch;
    if (arch.datapath != config::Datapath::exact) {
      hw_arch.datapath = config::Datapath::exact;
      exact_net = flow::load_model(m.model, no);
      engine::quantize_net(*exact_net, hw_arch, calib, calib_n, ms.batch);
      hw = exact_net.get();
    }
    cycle::CosimOptions co;
    const io::Dataset first = io::read_dataset(test_set, 0, 1);
    co.real = real_layer(*hw, ms.cosim, flow::samples_of(first), 0);
    const cycle::CosimResult r = cycle::run_cosim(hw_arch, co);
    row.set("cosim_layer", ms.cosim);
    row.set_int("cosim_outputs", static_cast<int64_t>(r.outputs));
    row.set_int("cosim_mismatches", static_cast<int64_t>(r.mismatches));
    if (!r.ok())
      throw JobError("co-simulation of layer " + ms.cosim + ": " + std::to_string(r.mismatches) +
                     " mismatches between the SystemC model, the RTL and the golden model");
  }
}

std::string self_exe() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw JobError("cannot find the ristsim executable (/proc/self/exe): " + ec.message());
  return p.string();
}

}  // namespace

int cmd_sweep(const std::vector<std::string>& args) {
  CommandLine cl(
      "sweep", "SWEEP.yaml --out DIR [--backend local|slurm] [--jobs N] [options]",
      "Runs a design-space sweep: every point of SWEEP.yaml (a base arch, axes of arch keys,\n"
      "models and data, what to measure) is evaluated and recorded in DIR/results.sqlite and\n"
      "DIR/results.csv. Every point's arch is validated before anything runs. Backend local\n"
      "runs --jobs worker processes here; backend slurm submits one sbatch --array job\n"
      "array and follows it with squeue. A task that dies is retried (--retries); a re-run\n"
      "of the same sweep skips the points already done. 'ristsim report --sweep DIR' draws\n"
      "the Pareto fronts. See docs/sweep.md.");
  std::string out, backend = "local", worker;
  int jobs = 0, retries = -1, task = -1, attempt = 1, threads = 1;
  // clang-format off
  cl.options()
      ("out", po::value<std::string>(&out)->required()->value_name("DIR"), "results folder (created)")
      ("backend", po::value<std::string>(&backend)->default_value("local"), "local or slurm")
      ("jobs", po::value<int>(&jobs)->default_value(0),
       "local: worker processes at once (0: the number of cores)")
      ("retries", po::value<int>(&retries),
       "restarts of a task that died (default: the sweep file's slurm.max_retries)")
      ("dry-run", po::bool_switch(), "slurm: print the generated batch script, submit nothing")
      ("threads", po::value<int>(&threads)->default_value(1), "threads of each worker")
      ("partition", po::value<std::string>(), "slurm: partition (overrides the sweep file's)")
      ("account", po::value<std::string>(), "slurm: account (overrides the sweep file's)")
      ("time", po::value<std::string>(), "slurm: time limit of a task, e.g. 00:30:00")
      ("mem", po::value<std::string>(), "slurm: memory of a task, e.g. 2G")
      ("quiet", po::bool_switch(), "no progress bar");
  // clang-format on
  cl.positional("sweep", po::value<std::string>()->required(), 1);
  // The worker side of a task (started by the backends, not by hand).
  cl.options()("worker", po::value<std::string>(&worker), "(internal) task file of a worker")(
      "task", po::value<int>(&task), "(internal) task index")("attempt", po::value<int>(&attempt),
                                                              "(internal) attempt number");
  if (!cl.parse(args)) return kExitOk;
  if (backend != "local" && backend != "slurm")
    throw UsageError("--backend must be local or slurm, not '" + backend + "'");
  if (jobs < 0 || jobs > 1024) throw UsageError("--jobs must be in 0..1024 (0: one per core)");
  if (threads < 1 || threads > 1024) throw UsageError("--threads must be in 1..1024");
  if (cl.has("retries") && retries < 0) throw UsageError("--retries must not be negative");
  const bool dry_run = cl.vm()["dry-run"].as<bool>();
  if (dry_run && backend != "slurm") throw UsageError("--dry-run applies to --backend slurm");

  config::Sweep sw = config::load_sweep(cl.get<std::string>("sweep"));
  const std::pair<const char*, std::string*> overrides[] = {{"partition", &sw.slurm.partition},
                                                            {"account", &sw.slurm.account},
                                                            {"time", &sw.slurm.time},
                                                            {"mem", &sw.slurm.mem}};
  for (const auto& [name, field] : overrides)
    if (cl.has(name)) {
      *field = cl.get<std::string>(name);
      if (field->empty() || field->find_first_of(" \t\n\r'\"") != std::string::npos)
        throw UsageError(std::string("--") + name + " must be one word");
    }
  engine::set_num_threads(threads);

  if (!worker.empty()) {
    if (task < 0) throw UsageError("--worker needs --task");
    const int failed =
        sweep::run_worker(sw, out, worker, task, attempt, backend, version(), evaluate_point);
    return failed ? kExitFailure : kExitOk;
  }

  sweep::RunOptions opt;
  opt.out_dir = out;
  opt.backend = backend == "slurm" ? sweep::Backend::slurm : sweep::Backend::local;
  opt.jobs = jobs > 0 ? jobs : std::max(1, static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
  opt.retries = retries;
  opt.dry_run = dry_run;
  opt.progress = !cl.vm()["quiet"].as<bool>() && isatty(fileno(stderr));
  opt.exe = self_exe();
  opt.version = version();
  opt.worker_args = {"--threads", std::to_string(threads)};
  if (!dry_run) {
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) throw JobError("cannot create output folder '" + out + "': " + ec.message());
  }
  if (opt.backend == sweep::Backend::slurm && !dry_run &&
      system("command -v sbatch >/dev/null 2>&1") != 0)
    throw UsageError(
        "--backend slurm: sbatch is not on the PATH (install slurm-wlm, or see "
        "docs/sweep.md)");
  const sweep::RunSummary s = sweep::run_sweep(sw, opt);
  if (dry_run) return kExitOk;
  std::printf(
      "sweep %s: %d points, %d done before, %d run now: %d ok, %d failed, %d missing "
      "(%d task restarts%s%s); %.1f s; %s\n",
      sw.name.c_str(), s.points, s.skipped, s.ok + s.failed + s.missing, s.ok, s.failed, s.missing,
      s.task_restarts, s.job_ids.empty() ? "" : "; slurm jobs ", s.job_ids.c_str(), s.seconds,
      sweep::database_path(out).c_str());
  if (s.failed || s.missing)
    throw JobError(std::to_string(s.failed) + " points failed and " + std::to_string(s.missing) +
                   " have no result (see the error column of " + sweep::csv_path(out) +
                   " and the logs in " + (fs::path(out) / "logs").string() + ")");
  return kExitOk;
}

}  // namespace ristsim::cli
