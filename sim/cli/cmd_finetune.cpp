// `ristsim finetune`: Ristretto's fine-tuning of a quantized model (sim/flow/finetune.h):
// full-precision shadow weights, weights quantized every batch with stochastic rounding
// (reproducible from --seed), straight-through gradients, float activations (or quantized ones
// with --train-activations), scoring with nearest rounding; checkpoints of the shadow weights
// and the solver state (temporary file + rename) and --resume.
// The final model is written with its weights on the grid and their integer codes.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/model_data.h"
#include "cli/data_options.h"
#include "config/arch_yaml.h"
#include "config/describe.h"
#include "engine/math.h"
#include "engine/quant.h"
#include "engine/report.h"
#include "engine/train.h"
#include "flow/finetune.h"
#include "flow/flow.h"
#include "io/onnx_export.h"
#include "util/output.h"

namespace ristsim::cli {

namespace {
int finetune_into(util::OutputDir& out_dir, const CommandLine& cl, flow::FinetuneConfig& fc,
                  const std::string& model, const std::string& data,
                  std::chrono::steady_clock::time_point t0,
                  const std::function<void(const std::string&)>& say);
}  // namespace

int cmd_finetune(const std::vector<std::string>& args) {
  CommandLine cl("finetune", "--model DIR/quantized.onnx --data D --out DIR2 [options]",
                 "Fine-tunes a quantized model (from 'ristsim quantize') as Ristretto does: the\n"
                 "weights are kept in full precision and quantized every batch with stochastic\n"
                 "rounding (reproducible from --seed); gradients update the full-precision weights\n"
                 "(straight-through); activations stay float while training unless\n"
                 "--train-activations quantizes them; the network is scored with nearest rounding.\n"
                 "The formats come from the model's 'ristsim.arch' metadata or --arch. Checkpoints\n"
                 "(weights and solver state) go to DIR2/checkpoints after every epoch and every\n"
                 "--checkpoint-every batches; --resume continues a killed run with the same bits.\n"
                 "Writes DIR2/finetuned.onnx (weights on the\n"
                 "grid; fixed point also as integer codes + DequantizeLinear), DIR2/codes.bin (the\n"
                 "integer codes of every format), DIR2/arch.yaml and DIR2/report.json / report.md.");
  cl.options()
      ("model", po::value<std::string>()->required(), "quantized model (.onnx from ristsim quantize), weight file, or Caffe / Ristretto .prototxt (with --weights)")
      ("weights", po::value<std::string>(), "the .caffemodel of a Caffe .prototxt --model")
      ("data", po::value<std::string>()->required(), "data set: fashion-mnist, or a directory")
      ("out", po::value<std::string>()->required(), "output directory")
      ("arch", po::value<std::string>(), "formats (default: the model's ristsim.arch metadata)")
      ("solver", po::value<std::string>()->default_value("adam"), "adam or sgd")
      ("lr", po::value<float>(), "learning rate (default: a tenth of the baseline's final one, see docs/quantize.md)")
      ("lr-policy", po::value<std::string>()->default_value("fixed"),
       "fixed (Ristretto) or cosine (decays from --lr to 0 over all epochs of the run)")
      ("epochs", po::value<int>()->default_value(2), "epochs")
      ("seed", po::value<uint64_t>()->default_value(1), "seed of shuffling and stochastic rounding")
      ("batch", po::value<int>()->default_value(64), "batch size")
      ("weight-decay", po::value<float>()->default_value(5e-4f), "L2 weight decay")
      ("teacher", po::value<std::string>(),
       "knowledge distillation from this float model (e.g. the fp32 model that was quantized)")
      ("distill-weight", po::value<float>()->default_value(0.5f),
       "with --teacher: weight of the distillation term (0..1; the rest is cross-entropy)")
      ("distill-temperature", po::value<float>()->default_value(4.0f),
       "with --teacher: softmax temperature of teacher and student")
      ("mirror", po::bool_switch(), "augment with random horizontal flips (as the baseline's training may have)")
      ("calib", po::value<int>()->default_value(1000), "an arch with dynamic fixed point: images for its range analysis")
      ("train-activations", po::value<std::string>()->default_value("float"),
       "layer inputs and outputs while training: float (Ristretto), ste (quantized, gradient passed "
       "straight through) or clipped-ste (quantized, no gradient where clipped)")
      ("train-weights", po::value<std::string>()->default_value("stochastic"),
       "weights while training: stochastic (Ristretto: stochastic rounding every batch) or nearest "
       "(the values the scored network uses)")
      ("checkpoint-every", po::value<int64_t>()->default_value(0), "batches between checkpoints within an epoch (0: after each epoch only)")
      ("resume", po::bool_switch(), "continue from DIR2/checkpoints when it holds a checkpoint")
      ("force", po::bool_switch(), "replace a previous ristsim output in DIR2 (without --resume)")
      ("stop-after", po::value<int>(), "stop after this many checkpoints of this run (to test --resume)")
      ("threads", po::value<int>()->default_value(0), "threads (0: all cores)")
      ("export", po::value<std::string>()->default_value("qdq"),
       "how finetuned.onnx carries the formats: qdq, qonnx or float (as quantize --export)")
      ("quiet", po::bool_switch(), "no progress output");
  add_data_options(cl, false);
  add_device_option(cl);
  if (!cl.parse(args)) return kExitOk;
  const auto t0 = std::chrono::steady_clock::now();
  flow::FinetuneConfig fc;
  if (!engine::parse_solver_type(cl.get<std::string>("solver"), &fc.solver))
    throw UsageError("--solver must be sgd or adam, not '" + cl.get<std::string>("solver") + "'");
  if (!engine::parse_lr_policy(cl.get<std::string>("lr-policy"), &fc.lr_policy) ||
      fc.lr_policy == engine::LrPolicy::step)
    throw UsageError("--lr-policy must be fixed or cosine, not '" +
                     cl.get<std::string>("lr-policy") + "'");
  fc.epochs = cl.get<int>("epochs");
  fc.batch = cl.get<int>("batch");
  fc.seed = cl.get<uint64_t>("seed");
  fc.weight_decay = cl.get<float>("weight-decay");
  fc.mirror = cl.get<bool>("mirror");
  fc.distill_weight = cl.get<float>("distill-weight");
  fc.distill_temperature = cl.get<float>("distill-temperature");
  if (!(fc.distill_weight >= 0 && fc.distill_weight <= 1))
    throw UsageError("--distill-weight must be in 0..1");
  if (!(fc.distill_temperature > 0)) throw UsageError("--distill-temperature must be positive");
  fc.resume = cl.get<bool>("resume");
  if (!engine::parse_train_activations(cl.get<std::string>("train-activations"), &fc.activations))
    throw UsageError("--train-activations must be float, ste or clipped-ste, not '" +
                     cl.get<std::string>("train-activations") + "'");
  const std::string tw = cl.get<std::string>("train-weights");
  if (tw != "stochastic" && tw != "nearest")
    throw UsageError("--train-weights must be stochastic or nearest, not '" + tw + "'");
  fc.stochastic_weights = tw == "stochastic";
  fc.checkpoint_every = cl.get<int64_t>("checkpoint-every");
  if (fc.checkpoint_every < 0) throw UsageError("--checkpoint-every must not be negative");
  if (cl.has("stop-after")) fc.stop_after = cl.get<int>("stop-after");
  if (cl.has("stop-after") && fc.stop_after < 1) throw UsageError("--stop-after must be at least 1");
  if (fc.epochs < 1) throw UsageError("--epochs must be at least 1");
  if (fc.batch < 1) throw UsageError("--batch must be at least 1");
  if (fc.weight_decay < 0) throw UsageError("--weight-decay must not be negative");
  if (cl.get<int>("calib") < 1) throw UsageError("--calib must be at least 1");
  io::QuantExport form;
  if (!io::parse_quant_export(cl.get<std::string>("export"), &form))
    throw UsageError("--export must be qdq, qonnx or float, not '" + cl.get<std::string>("export") + "'");
  apply_threads(cl);
  apply_device(cl);
  const bool quiet = cl.get<bool>("quiet");
  const std::function<void(const std::string&)> say = [quiet](const std::string& s) {
    if (!quiet) std::printf("%s\n", s.c_str()), std::fflush(stdout);
  };

  const std::string model = cl.get<std::string>("model"), data = cl.get<std::string>("data");
  check_inputs(cl, {{"model", InputKind::file},
                    {"weights", InputKind::file},
                    {"arch", InputKind::file},
                    {"teacher", InputKind::file},
                    {"data", InputKind::data_set}});  // before the data: a typo fails fast
  // The output folder, checked (and created) before any work. In place: the checkpoints in it
  // must survive a killed run for --resume; the final files are each written atomically.
  const std::string out = cl.get<std::string>("out");
  util::OutputDir out_dir(out,
                          fc.resume                ? util::Existing::reuse
                          : cl.get<bool>("force") ? util::Existing::replace
                                                   : util::Existing::refuse,
                          "ristsim finetune", util::OutputDir::Mode::in_place);
  out_dir.commit({"checkpoints", "finetuned.onnx", "codes.bin", "arch.yaml", "report.json",
                  "report.md"});
  try {
    return finetune_into(out_dir, cl, fc, model, data, t0, say);
  } catch (...) {
    // A failed run that left no checkpoint to resume from leaves no folder either.
    if (!std::filesystem::exists(out + "/checkpoints/state.txt")) out_dir.discard_if_new();
    throw;
  }
}

namespace {

/// The hash of a file's bytes: what a resume checks of --model and --teacher.
std::string file_hash(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return config::hex64(config::fnv1a64(bytes)) + " (" + std::to_string(bytes.size()) + " bytes)";
}

int finetune_into(util::OutputDir& out_dir, const CommandLine& cl, flow::FinetuneConfig& fc,
                  const std::string& model, const std::string& data,
                  std::chrono::steady_clock::time_point t0,
                  const std::function<void(const std::string&)>& say) {
  const std::string& out = out_dir.out();
  const std::string tw = cl.get<std::string>("train-weights");
  const std::map<std::string, std::string> meta = flow::model_metadata(model);
  // Default learning rate: a tenth of the baseline's final one when the model records it.
  std::string lr_source;
  if (cl.has("lr")) {
    fc.lr = cl.get<float>("lr");
    lr_source = "--lr";
  } else if (meta.count("ristsim.train.final_lr")) {
    fc.lr = std::stof(meta.at("ristsim.train.final_lr")) / 10;
    lr_source = "a tenth of the baseline's final learning rate (model metadata)";
  } else {
    fc.lr = fc.solver == engine::SolverType::adam ? 1e-4f : 1e-3f;
    lr_source = "a tenth of the engine's default base rate (the model records no final rate)";
  }
  if (!(fc.lr > 0)) throw UsageError("--lr must be positive");
  if (fc.lr_policy == engine::LrPolicy::cosine) lr_source += "; cosine decay to 0 over the run";

  // Training shuffles the whole split: both splits are read into memory (--max-images bounds them).
  const DataOptions data_opts = data_options(cl, data);
  const io::Dataset train_set = load_data(data, true, data_opts);
  const io::Dataset test_set = load_data(data, false, data_opts);
  fc.batch = bounded_count("batch", fc.batch, train_set.n,
                           "the images of the training split of " + train_set.source);
  engine::NetOptions no;
  no.batch = fc.batch;
  no.input_shape = {train_set.c, train_set.h, train_set.w};
  no.with_loss = true;
  no.phase = engine::Phase::train;
  no.seed = fc.seed;
  std::optional<config::Arch> ristretto;
  std::unique_ptr<engine::Net> net = load_model_weights(
      model, cl.has("weights") ? cl.get<std::string>("weights") : "", no, &ristretto);
  const engine::Samples train = flow::samples_of(train_set), test = flow::samples_of(test_set);
  std::unique_ptr<engine::Net> teacher;
  if (cl.has("teacher")) {
    engine::NetOptions to = no;
    to.with_loss = false;
    to.phase = engine::Phase::test;
    teacher = flow::load_model(cl.get<std::string>("teacher"), to);
    if (teacher->output().count(1) != net->output().count(1))
      throw JobError(cl.get<std::string>("teacher") + ": the teacher has " +
                     std::to_string(teacher->output().count(1)) + " class scores, the model " +
                     std::to_string(net->output().count(1)));
    fc.teacher = teacher.get();
  }

  config::Arch arch;
  if (cl.has("arch")) arch = load_arch(cl.get<std::string>("arch"));
  else if (meta.count("ristsim.arch")) arch = config::parse_arch(meta.at("ristsim.arch"), model + " (ristsim.arch)");
  else if (ristretto) arch = *ristretto;  // a Ristretto prototxt's layer formats
  else
    throw UsageError(model + " carries no 'ristsim.arch' metadata nor Ristretto layers (not made by ristsim quantize); give --arch");
  engine::check_overrides(*net, arch);  // an arch for another network: exit 2
  io::QuantExport form;
  io::parse_quant_export(cl.get<std::string>("export"), &form);  // checked in cmd_finetune
  if (const std::string why = io::not_exportable(arch, form); !why.empty())
    throw UsageError("--export " + std::string(io::to_string(form)) + " cannot write the arch " +
                     arch.name + "'s formats (" + why.substr(0, why.find('\n')) +
                     "); choose another --export");
  if (engine::has_dynamic_groups(arch)) {
    const int calib = bounded_count("calib", cl.get<int>("calib"), train.n,
                                    "the images of the training split of " + train_set.source);
    engine::quantize_net(*net, arch, train, calib, 100);
    arch = flow::freeze_arch(*net, arch);
    engine::detach_quantization(*net);
  }

  fc.identity = {{"--model", file_hash(model)},
                 {"--data", train_set.source + " (" + std::to_string(train_set.n) + " images " +
                                std::to_string(train_set.c) + "x" + std::to_string(train_set.h) +
                                "x" + std::to_string(train_set.w) + ")"}};
  if (teacher) fc.identity.push_back({"--teacher", file_hash(cl.get<std::string>("teacher"))});
  fc.checkpoint_dir = out + "/checkpoints";
  say("fine-tuning " + net->spec().name + " (" + arch.name + ") on " + train_set.source + ": " +
      std::to_string(fc.epochs) + " epochs, training activations " + engine::to_string(fc.activations) +
      ", weights " + tw +
      ", " + cl.get<std::string>("solver") + " lr " +
      std::to_string(fc.lr) + " (" + lr_source + "), seed " + std::to_string(fc.seed));
  const flow::FinetuneResult r =
      flow::finetune(*net, arch, train, &test, fc, [&](const std::string& s) { say(s); });
  if (!r.finished) {
    say("stopped after " + std::to_string(cl.get<int>("stop-after")) +
        " checkpoints (--stop-after); continue with --resume");
    return kExitOk;
  }

  // Final outputs, each through a temporary file and a rename.
  const double baseline = meta.count("ristsim.baseline_top1") ? std::stod(meta.at("ristsim.baseline_top1")) : -1;
  io::ExportOptions eo;
  eo.quantized = true;
  eo.arch = &arch;
  for (const auto& [k, v] : meta)
    if (k.rfind("ristsim.format.", 0) != 0) eo.metadata[k] = v;
  const std::string arch_text = flow::arch_yaml(arch, "Formats of " + out + "/finetuned.onnx (ristsim finetune).");
  eo.metadata["ristsim.arch"] = arch_text;
  eo.metadata["ristsim.finetuned_top1"] = std::to_string(r.after_top1);
  eo.metadata["ristsim.finetune.command"] =
      effective_command("finetune", cl.vm(), {"out", "force", "quiet", "threads", "resume", "stop-after"});
  eo.form = form;
  io::export_onnx(*net, out + "/finetuned.onnx", eo);
  const int tensors = flow::write_codes(*net, arch, out + "/codes.bin");
  flow::write_file_atomic(out + "/arch.yaml", arch_text);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::ostringstream js, md;
  js << "{\n  \"model\": " << engine::json_string(model) << ",\n  \"data\": " << engine::json_string(data)
     << ",\n  \"solver\": " << engine::json_string(cl.get<std::string>("solver")) << ",\n  \"lr\": " << fc.lr
     << ",\n  \"train_activations\": " << engine::json_string(engine::to_string(fc.activations))
     << ",\n  \"train_weights\": " << engine::json_string(tw)
     << ",\n  \"lr_policy\": " << engine::json_string(cl.get<std::string>("lr-policy"))
     << ",\n  \"weight_decay\": " << fc.weight_decay << ",\n  \"mirror\": " << (fc.mirror ? "true" : "false")
     << ",\n  \"teacher\": " << (teacher ? engine::json_string(cl.get<std::string>("teacher")) : "null")
     << ",\n  \"distill_weight\": " << (teacher ? fc.distill_weight : 0)
     << ",\n  \"distill_temperature\": " << fc.distill_temperature
     << ",\n  \"epochs\": " << fc.epochs << ",\n  \"seed\": " << fc.seed << ",\n  \"baseline_top1\": " << baseline
     << ",\n  \"before_top1\": " << r.before_top1 << ",\n  \"after_top1\": " << r.after_top1
     << ",\n  \"resumed_from\": " << r.resumed_from << ",\n  \"seconds\": " << seconds << ",\n  \"per_epoch\": [";
  for (std::size_t i = 0; i < r.epochs.size(); ++i)
    js << (i ? ", " : "") << "{\"epoch\": " << r.epochs[i].epoch << ", \"loss\": " << r.epochs[i].train_loss
       << ", \"test_top1\": " << r.epochs[i].test_top1 << ", \"seconds\": " << r.epochs[i].seconds << "}";
  js << "]\n}\n";
  char line[1024];
  auto fmt_g = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v);
    return std::string(b);
  };
  md << "# ristsim finetune: " << model << "\n\n";
  std::snprintf(line, sizeof line,
                "%s, lr %g (%s), weight decay %g, %d epochs, batch %d%s, training activations %s, weights %s, seed %llu.\n\n",
                cl.get<std::string>("solver").c_str(), double(fc.lr), lr_source.c_str(), double(fc.weight_decay),
                fc.epochs, fc.batch,
                ((fc.mirror ? std::string(", random horizontal flips") : std::string()) +
                 (teacher ? ", distilled from " + cl.get<std::string>("teacher") + " (weight " +
                                fmt_g(fc.distill_weight) + ", temperature " + fmt_g(fc.distill_temperature) + ")"
                          : std::string()))
                    .c_str(),
                engine::to_string(fc.activations), tw.c_str(),
                static_cast<unsigned long long>(fc.seed));
  md << line << "| | top-1 (test split) |\n|---|---|\n";
  if (baseline >= 0) md << "| fp32 baseline | " << std::to_string(100 * baseline).substr(0, 5) << " % |\n";
  if (r.before_top1 >= 0) md << "| quantized, before | " << std::to_string(100 * r.before_top1).substr(0, 5) << " % |\n";
  md << "| quantized, fine-tuned | " << std::to_string(100 * r.after_top1).substr(0, 5) << " % |\n";
  flow::write_file_atomic(out + "/report.json", js.str());
  flow::write_file_atomic(out + "/report.md", md.str());
  std::snprintf(line, sizeof line, "fine-tuned top-1 %.2f %% (before %.2f %%%s), %.0f s", 100 * r.after_top1,
                100 * r.before_top1,
                baseline >= 0 ? (", fp32 " + std::to_string(100 * baseline).substr(0, 5) + " %").c_str() : "",
                seconds);
  say(line);
  say("wrote " + out + "/{finetuned.onnx, codes.bin (" + std::to_string(tensors) +
      " tensors), arch.yaml, report.md, report.json}");
  return kExitOk;
}

}  // namespace

}  // namespace ristsim::cli
