// `ristsim train`: trains a network description on a data set with the
// engine (sim/engine) and writes the weights. With --arch the convolution and
// inner-product layers train quantized (Ristretto fine-tuning: weights
// quantized every batch with stochastic rounding from float shadow weights).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/data_options.h"
#include "cli/model_data.h"
#include "engine/math.h"
#include "engine/net.h"
#include "engine/quant.h"
#include "engine/report.h"
#include "engine/solver.h"
#include "engine/train.h"
#include "engine/weights_io.h"
#include "io/dataset.h"
#include "util/output.h"
#ifdef RISTSIM_HAVE_ONNX_ENGINE
#include "io/onnx.h"
#include "io/onnx_export.h"
#include "io/onnx_import.h"
#endif

namespace ristsim::cli {

/// Writes .onnx through sim/io's exporter (quantized when `arch` is given:
/// weights on their grid, formats in the metadata), anything else as the
/// engine's weight file.
/// `metadata` goes into the ONNX file's metadata_props (the weight file has none).
void save_model_file(engine::Net& net, const std::string& path, const config::Arch* arch,
                     const std::string& command,
                     const std::map<std::string, std::string>& metadata = {}) {
  if (flow::is_onnx(path)) {
#ifdef RISTSIM_HAVE_ONNX_ENGINE
    io::ExportOptions eo;
    eo.quantized = arch != nullptr;
    eo.arch = arch;
    eo.metadata = metadata;
    eo.metadata["ristsim.command"] = command;
    io::export_onnx(net, path, eo);
    return;
#else
    throw JobError(path + ": writing ONNX needs sim/io's ONNX bridge (ristsim_io_engine), which this build lacks");
#endif
  }
  engine::save_weights(net, path);
}

int cmd_train(const std::vector<std::string>& args) {
  CommandLine cl("train", "--model M.yaml --data D --epochs N --out W [options]",
                 "Trains a network (models/*.yaml, or an .onnx / weight file to continue from) on a\n"
                 "data set and writes the model: ONNX for --out *.onnx, else the engine's weight file\n"
                 "(docs/engine.md). The same seed and options give the same bits.");
  cl.options()
      ("model", po::value<std::string>()->required(), "network description (.yaml), or .onnx / weight file to start from")
      ("data", po::value<std::string>()->required(), "data set: fashion-mnist, or a directory (idx, CIFAR-10, image folders)")
      ("epochs", po::value<int>()->default_value(10), "passes over the training set (0: convert --model to --out)")
      ("out", po::value<std::string>()->required(), "model to write: .onnx (ONNX), else the engine's weight file")
      ("seed", po::value<uint64_t>()->default_value(1), "seed of initialisation, shuffling, augmentation, dropout")
      ("solver", po::value<std::string>()->default_value("sgd"), "sgd (momentum) or adam")
      ("lr", po::value<float>(), "base learning rate (default 0.01 for sgd, 0.001 for adam)")
      ("lr-policy", po::value<std::string>()->default_value("cosine"), "fixed, step or cosine")
      ("step-size", po::value<int64_t>()->default_value(0), "step policy: iterations per step (0: one epoch)")
      ("gamma", po::value<float>()->default_value(0.1f), "step policy factor")
      ("momentum", po::value<float>()->default_value(0.9f), "sgd momentum / adam beta1")
      ("weight-decay", po::value<float>()->default_value(5e-4f), "L2 weight decay")
      ("batch", po::value<int>()->default_value(64), "batch size")
      ("mirror", po::bool_switch(), "augment with random horizontal flips")
      ("shift", po::value<int>()->default_value(0), "augment with random shifts of up to this many pixels")
      ("arch", po::value<std::string>(), "train quantized with this arch (Ristretto fine-tuning)")
      ("calib", po::value<int>()->default_value(1000), "--arch with dynamic fixed point: images for the range analysis")
      ("no-test", po::bool_switch(), "do not evaluate on the test split after each epoch")
      ("checkpoint", po::bool_switch(), "also write --out after every epoch (the last write is the final model)")
      ("threads", po::value<int>()->default_value(0), "threads (0: all cores)")
      ("quiet", po::bool_switch(), "no progress output");
  add_data_options(cl, false);
  add_device_option(cl);
  if (!cl.parse(args)) return kExitOk;
  check_inputs(cl, {{"model", InputKind::file}, {"arch", InputKind::file}, {"data", InputKind::data_set}});

  engine::SolverOptions so;
  if (!engine::parse_solver_type(cl.get<std::string>("solver"), &so.type))
    throw UsageError("--solver must be sgd or adam, not '" + cl.get<std::string>("solver") + "'");
  if (!engine::parse_lr_policy(cl.get<std::string>("lr-policy"), &so.policy))
    throw UsageError("--lr-policy must be fixed, step or cosine");
  so.base_lr = cl.has("lr") ? cl.get<float>("lr") : (so.type == engine::SolverType::adam ? 1e-3f : 1e-2f);
  so.momentum = cl.get<float>("momentum");
  so.weight_decay = cl.get<float>("weight-decay");
  so.gamma = cl.get<float>("gamma");
  const int epochs = cl.get<int>("epochs");
  int batch = cl.get<int>("batch");
  if (epochs < 0) throw UsageError("--epochs must not be negative (0: just write --out)");
  if (batch < 1) throw UsageError("--batch must be at least 1");
  if (so.base_lr <= 0) throw UsageError("--lr must be positive");
  if (!(so.momentum >= 0 && so.momentum < 1)) throw UsageError("--momentum must be in [0, 1)");
  if (so.weight_decay < 0) throw UsageError("--weight-decay must not be negative");
  if (!(so.gamma > 0)) throw UsageError("--gamma must be positive");
  if (cl.get<int64_t>("step-size") < 0) throw UsageError("--step-size must not be negative (0: one epoch)");
  if (cl.get<int>("shift") < 0) throw UsageError("--shift must not be negative");
  if (cl.get<int>("calib") < 1) throw UsageError("--calib must be at least 1");
  apply_threads(cl);
  apply_device(cl);
  // Before any work: an --out that cannot be written is found now, not after the training.
  util::check_output_file(cl.get<std::string>("out"));

  const bool quiet = cl.get<bool>("quiet");
  const bool tty = isatty(fileno(stdout)) != 0;
  const std::string data = cl.get<std::string>("data");
  // Training shuffles the whole split: it is read into memory (--max-images bounds it).
  const DataOptions data_opts = data_options(cl, data);
  const io::Dataset train_set = load_data(data, true, data_opts);
  batch = bounded_count("batch", batch, train_set.n, "the images of the training split of " + train_set.source);
  io::Dataset test_set;
  const bool test = !cl.get<bool>("no-test");
  if (test) test_set = load_data(data, false, data_opts);

  engine::NetOptions no;
  no.batch = batch;
  no.input_shape = {train_set.c, train_set.h, train_set.w};
  no.with_loss = true;
  no.phase = engine::Phase::train;
  no.seed = cl.get<uint64_t>("seed");
  std::unique_ptr<engine::Net> net = flow::load_model(cl.get<std::string>("model"), no);

  engine::TrainConfig tc;
  tc.epochs = epochs;
  tc.batch = batch;
  tc.seed = no.seed;
  so.step_size = cl.get<int64_t>("step-size") > 0 ? cl.get<int64_t>("step-size") : train_set.n / batch;
  tc.solver = so;
  tc.mirror = cl.get<bool>("mirror");
  tc.shift = cl.get<int>("shift");
  if (tc.shift >= std::max(train_set.h, train_set.w))
    throw UsageError("--shift " + std::to_string(tc.shift) + ": the images are " +
                     std::to_string(train_set.h) + "x" + std::to_string(train_set.w) +
                     " pixels; a shift must be smaller");

  config::Arch arch;
  if (cl.has("arch")) {
    arch = load_arch(cl.get<std::string>("arch"));
    const int calib = bounded_count("calib", cl.get<int>("calib"), train_set.n,
                                    "the images of the training split of " + train_set.source);
    engine::quantize_net(*net, arch, flow::samples_of(train_set), calib, 100);
  }

  if (!quiet)
    std::printf("training %s on %s (%d images %dx%dx%d), %d epochs, batch %d, %s lr %g (%s), seed %llu, %d threads\n",
                net->spec().name.c_str(), train_set.source.c_str(), train_set.n, train_set.c, train_set.h,
                train_set.w, epochs, batch, cl.get<std::string>("solver").c_str(), double(so.base_lr),
                cl.get<std::string>("lr-policy").c_str(), static_cast<unsigned long long>(no.seed),
                engine::num_threads());
  engine::ProgressPrinter printer(stdout, tty, quiet);
  const engine::Samples test_samples = flow::samples_of(test_set);
  std::string command = "ristsim train";
  for (const std::string& a : args) command += " " + a;
  const bool checkpoint = cl.get<bool>("checkpoint");
  const auto results = engine::train(*net, flow::samples_of(train_set), test ? &test_samples : nullptr, tc,
                                     [&](const engine::Progress& p) {
                                       printer.train(p);
                                       if (checkpoint && p.epoch_done && p.epoch < p.epochs) {
                                         net->set_phase(engine::Phase::test);
                                         save_model_file(*net, cl.get<std::string>("out"),
                                                         cl.has("arch") ? &arch : nullptr,
                                                         command + " (after epoch " + std::to_string(p.epoch) + ")");
                                         net->set_phase(engine::Phase::train);
                                       }
                                     });
  printer.finish();
  net->set_phase(engine::Phase::test);
  // The solver and the learning rate of the last update, for `ristsim finetune`'s default rate
  // (a tenth of it, docs/quantize.md). A cosine schedule ends close to 0.
  std::map<std::string, std::string> meta;
  if (!results.empty()) {
    char lr[32];
    std::snprintf(lr, sizeof lr, "%.9g", double(results.back().last_lr));
    meta["ristsim.train.final_lr"] = lr;
    std::snprintf(lr, sizeof lr, "%.9g", double(so.base_lr));
    meta["ristsim.train.base_lr"] = lr;
    meta["ristsim.train.solver"] = cl.get<std::string>("solver");
    meta["ristsim.train.lr_policy"] = cl.get<std::string>("lr-policy");
  }
  save_model_file(*net, cl.get<std::string>("out"), cl.has("arch") ? &arch : nullptr, command, meta);
  if (!quiet) {
    double total = 0;
    for (const auto& r : results) total += r.seconds;
    std::printf("wrote %s (%.1f s training", cl.get<std::string>("out").c_str(), total);
    if (test && !results.empty()) std::printf(", test top-1 %.2f %%", 100.0 * results.back().test_top1);
    std::printf(")\n");
  }
  return kExitOk;
}

}  // namespace ristsim::cli
