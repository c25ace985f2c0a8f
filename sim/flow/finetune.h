// Fine-tuning a quantized network (Ristretto's, thesis section 9.3), reproducible and resumable.
//
// The net keeps full-precision shadow weights. Each epoch attaches the arch anew with the seed
// derive_seed(seed, epoch): in the train phase engine::LayerQuant quantizes the weights every
// batch from the shadow weights with stochastic rounding (its own per-batch seed from the
// arch seed and its step count, which restarts with each attachment), activations stay float,
// and the gradients reach the shadow weights straight through (engine/quant.h: this file adds
// no quantization of its own). Each epoch is one engine::train call with a fresh solver (its
// shuffle seed derived from the seed and the epoch), so an epoch depends only on the shadow
// weights at its start, the seed and the epoch number: a checkpoint after every epoch (the
// shadow weights, written to a temporary file and renamed, then a state file the same way)
// lets a killed run resume and produce the same bits as an uninterrupted one.
// Scoring attaches the arch with its own rounding (nearest) in the test phase.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "config/arch.h"
#include "engine/net.h"
#include "engine/solver.h"
#include "engine/train.h"

namespace ristsim::flow {

struct FinetuneConfig {
  engine::SolverType solver = engine::SolverType::adam;
  float lr = 1e-4f;          ///< fixed learning rate
  float weight_decay = 5e-4f;
  float momentum = 0.9f;
  int epochs = 2;
  int batch = 64;
  uint64_t seed = 1;
  std::string checkpoint_dir;  ///< empty: no checkpoints
  bool resume = false;         ///< continue from checkpoint_dir's state when there is one
  int stop_after = -1;         ///< >= 0: return after this many epochs of this run (tests)
  int eval_batch = 100;
};

struct FinetuneEpoch {
  int epoch = 0;
  double train_loss = 0, seconds = 0;
  double test_top1 = -1;  ///< quantized (nearest rounding), -1 when no test set
};

struct FinetuneResult {
  double before_top1 = -1;  ///< quantized top-1 before fine-tuning (nearest rounding)
  double after_top1 = -1;
  int resumed_from = 0;     ///< epochs already done by an earlier run
  std::vector<FinetuneEpoch> epochs;
  bool finished = false;    ///< all epochs done (false after stop_after)
};

using FinetuneLog = std::function<void(const std::string&)>;

/// Fine-tunes `net` (built with a loss) in place. `arch` must have no dynamic groups (freeze
/// them first). `test` may be null. Leaves the net in the test phase with the arch attached
/// (seed arch.seed) and the shadow weights in its parameters.
FinetuneResult finetune(engine::Net& net, const config::Arch& arch, const engine::Samples& train,
                        const engine::Samples* test, const FinetuneConfig& cfg,
                        const FinetuneLog& log = {});

/// The arch with every dynamic group of every layer replaced by the fixed format the net's
/// attached LayerQuants resolved (one override per weighted layer). Needs quantization attached.
config::Arch freeze_arch(engine::Net& net, const config::Arch& arch);

/// Writes the integer codes of every weighted layer's weights and bias (nearest rounding in the
/// attached formats; the bias in the weights' format on the float datapath, in its own on the
/// exact one) to `path` (temporary file, then rename). Layout, little-endian:
///   "RSTCODE1", u32 tensors; per tensor: u32 len + name ("conv1.W"), u32 len + format
///   ("fixed<8,7>"), u32 code_bits, u32 count, count x u32 codes (two's complement for fixed).
/// Returns the number of tensors.
int write_codes(engine::Net& net, const config::Arch& arch, const std::string& path);

/// Writes `text` to path through a temporary file and a rename.
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace ristsim::flow
