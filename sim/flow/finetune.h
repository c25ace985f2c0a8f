// Fine-tuning a quantized network (Ristretto's, thesis section 9.3), reproducible and resumable.
//
// The net keeps full-precision shadow weights. The arch is attached once with the seed
// derive_seed(seed, 0xf17e0000); in the train phase engine::LayerQuant quantizes the weights
// every batch from the shadow weights with stochastic rounding (keyed by the solver iteration),
// activations stay float (Ristretto) or are quantized as at inference with a straight-through
// gradient (FinetuneConfig::activations, engine::TrainActivations), and the gradients reach the
// shadow weights straight through (engine/quant.h: this file adds no quantization of its own).
// The epochs are one engine::train run (one solver, so Adam's moments carry over). Checkpoints
// (engine::TrainState: epoch, batch, shuffle Rng position, solver iteration, learning rate and
// moments, with the shadow weights) go to checkpoint_dir every `checkpoint_every` batches and
// after every epoch, each file through a temporary file and a rename, the index file
// state.txt last: a killed run loses only the batches after its last checkpoint, and a resumed
// run gives the same bits as an uninterrupted one.
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
  float lr = 1e-4f;          ///< learning rate (the start of a cosine decay)
  engine::LrPolicy lr_policy = engine::LrPolicy::fixed;  ///< fixed or cosine over all epochs
  float weight_decay = 5e-4f;
  float momentum = 0.9f;
  int epochs = 2;
  int batch = 64;
  uint64_t seed = 1;
  /// Train-phase inputs and outputs: float (Ristretto), or quantized with a straight-through
  /// gradient (plain or clipped).
  engine::TrainActivations activations = engine::TrainActivations::float32;
  /// Weights while training: stochastic rounding (Ristretto) or false: nearest, as scored.
  bool stochastic_weights = true;
  /// Augment with random horizontal flips (engine::TrainConfig::mirror), as the baseline may
  /// have been trained (models/README.md: LeNet was).
  bool mirror = false;
  /// Knowledge distillation from a float teacher (not owned; its batch must be `batch`, test
  /// phase, no loss layer): every batch the loss mixes in the teacher's probabilities at
  /// `distill_temperature` with `distill_weight` (engine::TrainConfig::teacher). nullptr: none.
  engine::Net* teacher = nullptr;
  float distill_weight = 0.5f, distill_temperature = 4.0f;
  /// More settings a resume must match, from the caller (name, value), e.g. {"--model",
  /// "<hash of the file>"}, {"--data", "fashion-mnist (60000 images)"}: a checkpoint records
  /// them with the options, and a resume with another value is refused.
  std::vector<std::pair<std::string, std::string>> identity;
  std::string checkpoint_dir;  ///< empty: no checkpoints
  int64_t checkpoint_every = 0;  ///< batches between checkpoints within an epoch (0: per epoch only)
  bool resume = false;         ///< continue from checkpoint_dir's state when there is one
  int stop_after = -1;         ///< >= 0: return after this many checkpoints of this run (tests)
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
  int64_t resumed_batch = 0;  ///< and batches of the next one
  std::vector<FinetuneEpoch> epochs;  ///< the epochs this run finished
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

/// Writes `text` to path through util::write_file (temporary file, fsync, rename).
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace ristsim::flow
