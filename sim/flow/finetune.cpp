// Fine-tuning with shadow weights, checkpoints and resume (finetune.h), and the integer codes.
#include "flow/finetune.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/math.h"
#include "engine/quant.h"
#include "engine/weights_io.h"
#include "flow/flow.h"

namespace ristsim::flow {

namespace fs = std::filesystem;

void write_file_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw FlowError(path + ": cannot write");
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    f.flush();
    if (!f) throw FlowError(path + ": error while writing");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw FlowError(path + ": cannot move into place: " + ec.message());
}

namespace {

struct State {
  int epoch = 0;
  uint64_t seed = 0;
  std::string weights;  ///< file name inside the checkpoint directory
};

std::string state_path(const std::string& dir) { return dir + "/state.txt"; }

/// The checkpoint state, a few "key value" lines; epoch 0 when there is none.
State read_state(const std::string& dir) {
  State s;
  std::ifstream f(state_path(dir));
  if (!f) return s;
  std::string k;
  while (f >> k) {
    if (k == "epoch") f >> s.epoch;
    else if (k == "seed") f >> s.seed;
    else if (k == "weights") f >> s.weights;
    else throw FlowError(state_path(dir) + ": unknown key '" + k + "'");
  }
  return s;
}

void checkpoint(engine::Net& net, const std::string& dir, int epoch, uint64_t seed) {
  const std::string name = "epoch-" + std::to_string(epoch) + ".rstw";
  engine::save_weights(net, dir + "/" + name);  // temporary file + rename
  std::ostringstream o;
  o << "epoch " << epoch << "\nseed " << seed << "\nweights " << name << "\n";
  write_file_atomic(state_path(dir), o.str());
  // The previous epoch's weights are no longer referenced.
  if (epoch > 1) {
    std::error_code ec;
    fs::remove(dir + "/epoch-" + std::to_string(epoch - 1) + ".rstw", ec);
  }
}

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
  FinetuneResult res;
  int start = 1;
  if (!cfg.checkpoint_dir.empty()) {
    fs::create_directories(cfg.checkpoint_dir);
    if (cfg.resume) {
      const State s = read_state(cfg.checkpoint_dir);
      if (s.epoch > 0) {
        if (s.seed != cfg.seed)
          throw FlowError(state_path(cfg.checkpoint_dir) + ": the checkpoint was made with seed " +
                          std::to_string(s.seed) + ", this run has seed " + std::to_string(cfg.seed));
        engine::load_weights(net, cfg.checkpoint_dir + "/" + s.weights);
        start = s.epoch + 1;
        res.resumed_from = s.epoch;
        if (log) log("resuming after epoch " + std::to_string(s.epoch) + " from " + cfg.checkpoint_dir);
      }
    }
  }
  if (test && start == 1) {
    res.before_top1 = quantized_top1(net, arch, *test, cfg.eval_batch);
    if (log) {
      char b[96];
      std::snprintf(b, sizeof b, "quantized test top-1 before fine-tuning %.2f %%", 100 * res.before_top1);
      log(b);
    }
  }

  config::Arch epoch_arch = arch;  // must outlive the attached LayerQuants of each epoch
  int done = 0;
  for (int e = start; e <= cfg.epochs; ++e) {
    if (cfg.stop_after >= 0 && done >= cfg.stop_after) return res;
    epoch_arch = arch;
    epoch_arch.seed = engine::derive_seed(cfg.seed, 0xf17e0000ull + uint64_t(e));
    engine::detach_quantization(net);
    engine::attach_arch(net, epoch_arch);
    engine::TrainConfig tc;
    tc.epochs = 1;
    tc.batch = cfg.batch;
    tc.seed = engine::derive_seed(cfg.seed, 0x5ef10000ull + uint64_t(e));
    tc.solver.type = cfg.solver;
    tc.solver.base_lr = cfg.lr;
    tc.solver.momentum = cfg.momentum;
    tc.solver.weight_decay = cfg.weight_decay;
    tc.solver.policy = engine::LrPolicy::fixed;
    const std::vector<engine::EpochResult> er = engine::train(net, train, nullptr, tc);
    FinetuneEpoch fe;
    fe.epoch = e;
    fe.train_loss = er.empty() ? 0 : er[0].train_loss;
    fe.seconds = er.empty() ? 0 : er[0].seconds;
    if (!cfg.checkpoint_dir.empty()) {
      engine::detach_quantization(net);
      checkpoint(net, cfg.checkpoint_dir, e, cfg.seed);
    }
    if (test) fe.test_top1 = quantized_top1(net, arch, *test, cfg.eval_batch);
    res.epochs.push_back(fe);
    ++done;
    if (log) {
      char b[160];
      std::snprintf(b, sizeof b, "epoch %d/%d: loss %.4f, %.1f s, quantized test top-1 %.2f %%", e,
                    cfg.epochs, fe.train_loss, fe.seconds, 100 * fe.test_top1);
      log(b);
    }
  }
  engine::detach_quantization(net);
  engine::attach_arch(net, arch);
  net.set_phase(engine::Phase::test);
  if (test) res.after_top1 = res.epochs.empty() ? quantized_top1(net, arch, *test, cfg.eval_batch)
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
      for (std::size_t i = 0; i < b.count(); ++i)
        u32(static_cast<uint32_t>(numeric::quantize(q, double(b.data()[i]), i).code));
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
