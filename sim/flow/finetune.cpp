// Fine-tuning with shadow weights, checkpoints and resume (finetune.h), and the integer codes.
#include "flow/finetune.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

#include "engine/layers.h"
#include "engine/math.h"
#include "engine/quant.h"
#include "engine/weights_io.h"
#include "flow/flow.h"
#include "config/describe.h"
#include "util/output.h"

namespace ristsim::flow {

namespace fs = std::filesystem;

void write_file_atomic(const std::string& path, const std::string& text) {
  util::write_file(path, text);
}

namespace {

/// The index of a checkpoint directory, "key value" lines (the value is the rest of the line),
/// written last: the files it names are complete. Keys: iter, epoch, batch, weights,
/// train_state, before_top1, and every setting of run_settings.
struct Checkpoint {
  int64_t iter = -1;    ///< -1: none
  std::string weights, train_state;  ///< file names inside the checkpoint directory
  double before_top1 = -1;           ///< the quantized top-1 before fine-tuning (-1: unknown)
  std::map<std::string, std::string> settings;
};

std::string index_path(const std::string& dir) { return dir + "/state.txt"; }

Checkpoint read_index(const std::string& dir) {
  Checkpoint c;
  std::ifstream f(index_path(dir));
  if (!f) return c;
  int n = 0;
  for (std::string line; std::getline(f, line);) {
    ++n;
    if (line.empty()) continue;
    const std::size_t sp = line.find(' ');
    const std::string k = line.substr(0, sp), v = sp == std::string::npos ? "" : line.substr(sp + 1);
    try {
      if (k == "iter") c.iter = std::stoll(v);
      else if (k == "weights") c.weights = v;
      else if (k == "train_state") c.train_state = v;
      else if (k == "before_top1") c.before_top1 = std::stod(v);
      else if (k == "epoch" || k == "batch") continue;  // informative
      else c.settings[k] = v;
    } catch (const std::exception&) {
      throw FlowError(index_path(dir) + ":" + std::to_string(n) + ": bad value '" + v + "' of " + k);
    }
  }
  if (c.iter < 0 || c.weights.empty() || c.train_state.empty())
    throw FlowError(index_path(dir) + ": incomplete (needs iter, weights and train_state)");
  return c;
}

const char* weight_rounding(const FinetuneConfig& c) { return c.stochastic_weights ? "stochastic" : "nearest"; }
std::string distill_key(const FinetuneConfig& c) {
  if (!c.teacher) return "none";
  std::ostringstream o;
  o << c.distill_weight << "," << c.distill_temperature;
  return o.str();
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.9g", v);
  return b;
}

/// One setting of a run: a resume must match it, since another value gives other bits.
struct Setting {
  std::string key, label, value;
};

/// Every setting of the run that changes its bits (the one list a checkpoint records and a
/// resume checks): the options, the frozen formats, and what the caller adds (the model, the
/// data set, the teacher: FinetuneConfig::identity). Not here: --epochs of a fixed learning
/// rate (more epochs continue the same run), --checkpoint-every, --threads.
std::vector<Setting> run_settings(const FinetuneConfig& c, const config::Arch& arch) {
  std::vector<Setting> s = {
      {"seed", "seed", std::to_string(c.seed)},
      {"activations", "--train-activations", engine::to_string(c.activations)},
      {"weight_rounding", "--train-weights", weight_rounding(c)},
      {"mirror", "--mirror", std::to_string(int(c.mirror))},
      {"distill", "distillation", distill_key(c)},
      {"batch_size", "--batch", std::to_string(c.batch)},
      {"solver", "--solver", c.solver == engine::SolverType::adam ? "adam" : "sgd"},
      {"lr", "learning rate (--lr)", num(c.lr)},
      {"lr_policy", "--lr-policy", c.lr_policy == engine::LrPolicy::cosine ? "cosine"
                                   : c.lr_policy == engine::LrPolicy::step ? "step"
                                                                           : "fixed"},
      {"weight_decay", "--weight-decay", num(c.weight_decay)},
      {"momentum", "momentum", num(c.momentum)},
      {"formats", "formats (the arch, frozen; hash of its YAML)",
       config::hex64(config::fnv1a64(arch_yaml(arch, "")))},
  };
  // A cosine schedule spans all epochs: another count changes every learning rate.
  if (c.lr_policy == engine::LrPolicy::cosine)
    s.push_back({"epochs", "--epochs (the cosine schedule spans them)", std::to_string(c.epochs)});
  for (const auto& [k, v] : c.identity) s.push_back({"identity." + k, k, v});
  for (Setting& x : s)  // one line each in the index
    std::replace(x.value.begin(), x.value.end(), '\n', ' ');
  return s;
}

/// Raised by the checkpoint callback to end a run after FinetuneConfig::stop_after checkpoints.
struct StopRun {};

double quantized_top1(engine::Net& net, const config::Arch& arch, const engine::Samples& test,
                      int batch) {
  engine::detach_quantization(net);
  engine::attach_arch(net, arch);
  return engine::evaluate(net, test, batch).top1;
}

}  // namespace

FinetuneResult finetune(engine::Net& net, const config::Arch& arch, const engine::Samples& train,
                        const engine::Samples* test, const FinetuneConfig& cfg,
                        const FinetuneLog& log) {
  if (engine::has_dynamic_groups(arch))
    throw FlowError("finetune: arch '" + arch.name +
                    "' has dynamic fixed-point groups; freeze them first (freeze_arch)");
  if (cfg.epochs < 1) throw FlowError("finetune: at least one epoch");
  if (!net.has_loss()) throw std::logic_error("finetune: the net needs a loss");
  const std::string& dir = cfg.checkpoint_dir;
  FinetuneResult res;
  engine::TrainState resume;
  bool resuming = false;
  const std::vector<Setting> settings = run_settings(cfg, arch);
  if (!dir.empty()) {
    fs::create_directories(dir);
    const Checkpoint c = cfg.resume ? read_index(dir) : Checkpoint{};
    if (c.iter >= 0) {
      for (const Setting& s : settings) {
        const auto it = c.settings.find(s.key);
        if (it == c.settings.end())
          throw FlowError(index_path(dir) + ": the checkpoint does not record its " + s.label +
                          " (made by an older ristsim): it cannot be resumed safely; start afresh");
        if (it->second != s.value)
          throw FlowError(index_path(dir) + ": the checkpoint was made with " + s.label + " " +
                          it->second + ", this run has " + s.value + " (a resume must not change it)");
      }
      res.before_top1 = c.before_top1;
      engine::load_weights(net, dir + "/" + c.weights);
      try {
        resume = engine::load_train_state(dir + "/" + c.train_state);
      } catch (const std::runtime_error& e) {
        throw FlowError(e.what());
      }
      resuming = true;
      res.resumed_from = resume.epoch - 1;
      res.resumed_batch = resume.batch;
      if (log)
        log("resuming at epoch " + std::to_string(resume.epoch) + ", batch " + std::to_string(resume.batch) +
            " from " + dir);
    }
  }
  if (test && !resuming) {
    res.before_top1 = quantized_top1(net, arch, *test, cfg.eval_batch);
    if (log) {
      char b[96];
      std::snprintf(b, sizeof b, "quantized test top-1 before fine-tuning %.2f %%", 100 * res.before_top1);
      log(b);
    }
  }

  config::Arch train_arch = arch;  // outlives the attached LayerQuants
  train_arch.seed = engine::derive_seed(cfg.seed, 0xf17e0000ull);
  engine::detach_quantization(net);
  engine::attach_arch(net, train_arch);
  engine::TrainQuant tq;
  tq.activations = cfg.activations;
  tq.stochastic_weights = cfg.stochastic_weights;
  engine::set_train_quant(net, tq);
  engine::TrainConfig tc;
  tc.epochs = cfg.epochs;
  tc.batch = cfg.batch;
  tc.seed = engine::derive_seed(cfg.seed, 0x5ef10000ull);
  tc.mirror = cfg.mirror;
  if (cfg.teacher) {
    engine::Net& teacher = *cfg.teacher;
    engine::detach_quantization(teacher);
    teacher.set_phase(engine::Phase::test);
    tc.distill_weight = cfg.distill_weight;
    tc.distill_temperature = cfg.distill_temperature;
    tc.teacher = [&teacher, T = cfg.distill_temperature](const engine::Blob& in, std::vector<float>* t) {
      if (teacher.batch() != in.shape(0)) teacher.reshape(in.shape(0));
      if (teacher.input().count() != in.count())
        throw FlowError("distillation: the teacher's input " + teacher.input().shape_string() +
                        " does not match the student's " + in.shape_string());
      std::copy(in.data(), in.data() + in.count(), teacher.input().data());
      teacher.forward();
      const engine::Blob& out = teacher.output();
      t->resize(out.count());
      engine::softmax(out.data(), t->data(), out.shape(0), out.shape(1), out.count(2), T);
    };
  }
  tc.solver.type = cfg.solver;
  tc.solver.base_lr = cfg.lr;
  tc.solver.momentum = cfg.momentum;
  tc.solver.weight_decay = cfg.weight_decay;
  tc.solver.policy = cfg.lr_policy;
  tc.resume = resuming ? &resume : nullptr;
  int written = 0;
  if (!dir.empty()) {
    tc.checkpoint_every = cfg.checkpoint_every;
    tc.checkpoint = [&](const engine::TrainState& st) {
      const std::string stem = "ckpt-" + std::to_string(st.solver.iter);
      engine::save_weights(net, dir + "/" + stem + ".rstw");  // temporary file + rename
      engine::save_train_state(st, dir + "/" + stem + ".state");
      const Checkpoint old = fs::exists(index_path(dir)) ? read_index(dir) : Checkpoint{};
      std::ostringstream o;
      o << "iter " << st.solver.iter << "\nepoch " << st.epoch << "\nbatch " << st.batch << "\n";
      for (const Setting& s : settings) o << s.key << " " << s.value << "\n";
      o << "before_top1 " << std::setprecision(17) << res.before_top1 << "\nweights " << stem
        << ".rstw\ntrain_state " << stem << ".state\n";
      write_file_atomic(index_path(dir), o.str());
      if (old.iter >= 0 && old.weights != stem + ".rstw") {  // no longer referenced
        std::error_code ec;
        fs::remove(dir + "/" + old.weights, ec);
        fs::remove(dir + "/" + old.train_state, ec);
      }
      if (cfg.stop_after >= 0 && ++written >= cfg.stop_after) throw StopRun{};
    };
  }
  try {
    tc.progress_every = 100;
    engine::train(net, train, test, tc, [&](const engine::Progress& p) {
      if (!p.epoch_done) {
        if (log) {
          char b[160];
          std::snprintf(b, sizeof b, "  epoch %d batch %lld/%lld: loss %.4f, %.0f images/s", p.epoch,
                        static_cast<long long>(p.batch), static_cast<long long>(p.batches), p.loss,
                        p.images_per_s);
          log(b);
        }
        return;
      }
      FinetuneEpoch fe;
      fe.epoch = p.epoch;
      fe.train_loss = p.loss;
      fe.seconds = p.seconds;
      fe.test_top1 = p.test_top1;
      res.epochs.push_back(fe);
      if (log) {
        char b[160];
        std::snprintf(b, sizeof b, "epoch %d/%d: loss %.4f, %.1f s, quantized test top-1 %.2f %%", p.epoch,
                      cfg.epochs, fe.train_loss, fe.seconds, 100 * fe.test_top1);
        log(b);
      }
    });
  } catch (const StopRun&) {
    return res;
  }
  engine::detach_quantization(net);
  engine::attach_arch(net, arch);
  net.set_phase(engine::Phase::test);
  if (test) res.after_top1 = res.epochs.empty() ? engine::evaluate(net, *test, cfg.eval_batch).top1
                                                : res.epochs.back().test_top1;
  res.finished = true;
  return res;
}

config::Arch freeze_arch(engine::Net& net, const config::Arch& arch) {
  config::Arch a = arch;
  a.overrides.clear();
  for (engine::WeightedLayer* l : net.weighted_layers()) {
    if (!l->quant()) throw std::logic_error("freeze_arch: layer '" + l->name() + "' is not quantized");
    config::LayerOverride o;
    o.layer = l->name();
    o.has_activations = o.has_weights = o.has_bias = o.has_outputs = true;
    o.formats = l->quant()->formats();
    for (config::NumberSpec* s : {&o.formats.activations, &o.formats.weights, &o.formats.bias,
                                  &o.formats.outputs})
      s->dynamic = false;
    a.overrides.push_back(o);
  }
  for (config::NumberSpec* s : {&a.formats.activations, &a.formats.weights, &a.formats.bias,
                                &a.formats.outputs})
    s->dynamic = false;
  return a;
}

int write_codes(engine::Net& net, const config::Arch& arch, const std::string& path) {
  std::string payload;  // the tensors; the header with their count goes in front at the end
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) payload.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  auto str = [&](const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    payload += s;
  };
  int tensors = 0;
  for (engine::WeightedLayer* l : net.weighted_layers()) {
    const config::LayerFormats f = config::formats_for(arch, l->name());
    const uint64_t base = static_cast<uint64_t>(l->index()) * 4;
    auto put = [&](const std::string& name, const config::NumberSpec& s, const engine::Blob& b,
                   uint64_t stream) {
      if (s.is_float) return;
      numeric::Quantizer q = s.quantizer;
      if (q.rounding == numeric::Rounding::stochastic)
        throw FlowError(name + ": stochastic rounding at inference has no fixed codes");
      q.seed = arch.seed;
      q.stream = stream;
      str(name);
      str(spec_string(s));
      u32(static_cast<uint32_t>(q.format.code_bits()));
      u32(static_cast<uint32_t>(b.count()));
      // Per-channel weights (and the float datapath's bias in their format): element i is in
      // output channel i / (count / K) and takes that channel's FL.
      const std::size_t per = s.channel_fl.empty() ? b.count() : b.count() / s.channel_fl.size();
      for (std::size_t i = 0; i < b.count(); ++i) {
        if (!s.channel_fl.empty()) q.format.fl = s.channel_fl[i / per];
        u32(static_cast<uint32_t>(numeric::quantize(q, double(b.data()[i]), i).code));
      }
      ++tensors;
    };
    put(l->name() + ".W", f.weights, l->weights(), base + 1);
    if (l->bias())
      put(l->name() + ".B", arch.datapath == config::Datapath::exact ? f.bias : f.weights, *l->bias(),
          base + 2);
  }
  std::string file("RSTCODE1", 8);
  for (int i = 0; i < 4; ++i) file.push_back(static_cast<char>((uint32_t(tensors) >> (8 * i)) & 0xff));
  file += payload;
  write_file_atomic(path, file);
  return tensors;
}

}  // namespace ristsim::flow
