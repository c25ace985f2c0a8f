// Training and evaluation loops over labelled images held in memory.
// The engine does not read files: callers hand over a Samples view (sim/io's
// Dataset fits it directly).
//
// Training: every epoch the images are shuffled (Fisher-Yates driven by the
// engine's Rng, seeded from the seed and the epoch), cut into full batches (the
// remainder is skipped), optionally augmented (random horizontal mirror,
// random shift by up to `shift` pixels with zero fill), and each batch runs
// forward, backward and a solver update. The same seed gives the same bits.
//
// Checkpoints: a TrainState (epoch, batch, the epoch's Rng position, the solver's iteration
// and moments) taken between two batches, with the weights, continues the run with the same
// bits as one that was never stopped (TrainConfig::resume). Quantized layers (engine/quant.h)
// draw their stochastic rounding from the solver's iteration, so they resume too.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "config/arch.h"
#include "engine/net.h"
#include "engine/quant.h"
#include "engine/solver.h"

namespace ristsim::engine {

/// Labelled images, NCHW floats (not owned).
struct Samples {
  int n = 0, c = 0, h = 0, w = 0, classes = 0;
  const float* images = nullptr;
  const int32_t* labels = nullptr;
  std::size_t image_size() const { return std::size_t(c) * h * w; }
};

/// Labelled images handed over in pieces, for sets too large to hold in memory (an ImageNet
/// folder streamed from disk, sim/io's DataSource through flow::stream_of). `read(first, count,
/// images, labels)` writes samples [first, first + count) as count NCHW images and count labels.
/// A Samples converts to a stream that copies from its memory, so every evaluation runs one
/// loop, whichever way its data comes.
struct SampleStream {
  int n = 0, c = 0, h = 0, w = 0, classes = 0;
  std::function<void(int first, int count, float* images, int32_t* labels)> read;

  SampleStream() = default;
  SampleStream(const Samples& s);  // NOLINT(google-explicit-constructor): a Samples is a stream
  std::size_t image_size() const { return std::size_t(c) * h * w; }
};

/// Where a training run stands between two batches. With the weights, enough to continue it
/// with the same bits as an uninterrupted run.
struct TrainState {
  int epoch = 1;        ///< the next epoch to run or finish (1-based)
  int64_t batch = 0;    ///< its batches already done (0: it has not started)
  uint64_t rng = 0;     ///< Rng::position() of the epoch's Rng after those batches (batch > 0)
  double loss_sum = 0;  ///< training loss summed over those batches
  float lr = 0;         ///< learning rate of the next update (checked on resume)
  int64_t batch_size = 0;  ///< images per batch of the run (checked on resume; 0: not recorded)
  SolverState solver;
};

/// Writes the state to `path` (util::write_file: temporary file, fsync, rename). Layout,
/// little-endian: "RSTTRN02", i32 epoch, i64 batch, u64 rng, f64 loss_sum, f32 lr,
/// i64 batch_size, i64 iter, u32 P, then P times: u32 n + n f32 (m), u32 n + n f32 (v).
/// "RSTTRN01" files (no batch_size) still load, with batch_size 0.
void save_train_state(const TrainState& s, const std::string& path);
/// Reads a state written by save_train_state; throws std::runtime_error naming the file and
/// what is wrong (missing, bad magic, truncated).
TrainState load_train_state(const std::string& path);

struct TrainConfig {
  int epochs = 1;
  int batch = 64;
  uint64_t seed = 1;
  SolverOptions solver;
  bool mirror = false;  ///< random horizontal flips
  int shift = 0;        ///< random translations of up to +-shift pixels
  int progress_every = 20;  ///< batches between progress callbacks
  /// Called with the run's state every `checkpoint_every` batches (0: not within an epoch)
  /// and after every epoch (after its test evaluation), when the net holds the weights of that
  /// state (train phase).
  std::function<void(const TrainState&)> checkpoint;
  int64_t checkpoint_every = 0;
  /// Continue from this state (the net must hold its weights already): epochs before
  /// resume->epoch are skipped, and so are the done batches of that epoch.
  const TrainState* resume = nullptr;
  /// Knowledge distillation: called for every batch with the net's input (after augmentation);
  /// fills `targets` (batch x classes, as the scores) with a teacher's probabilities at
  /// `distill_temperature`. The loss layer then mixes them in with `distill_weight`
  /// (SoftmaxWithLossLayer::set_soft_targets). Empty: plain cross-entropy.
  std::function<void(const Blob& input, std::vector<float>* targets)> teacher;
  float distill_weight = 0.5f, distill_temperature = 4.0f;
};

struct Progress {
  int epoch = 0, epochs = 0;  ///< 1-based epoch
  int64_t batch = 0, batches = 0;
  double loss = 0;  ///< mean training loss of the epoch so far
  double images_per_s = 0, seconds = 0;
  float lr = 0;
  bool epoch_done = false;
  double test_top1 = -1;  ///< at epoch end when a test set was given
};
using ProgressFn = std::function<void(const Progress&)>;

struct EpochResult {
  int epoch = 0;
  double train_loss = 0, seconds = 0, images_per_s = 0;
  double test_top1 = -1, test_loss = -1;
  float last_lr = 0;  ///< learning rate of the epoch's last update
};

struct EvalResult {
  double top1 = 0, top5 = 0, loss = 0;
  int64_t images = 0;
  double seconds = 0;
};

/// Trains `net` (built with with_loss) in place. `test` may be null. Returns the epochs run
/// by this call (a resumed epoch included).
std::vector<EpochResult> train(Net& net, const Samples& train, const Samples* test,
                               const TrainConfig& config, const ProgressFn& progress = {});

/// Runs the net in test phase over all samples in batches of `batch`: top-1 and
/// top-5 accuracy of the output scores (ties go to the lower class index), and
/// the mean cross-entropy when the net has a loss. Restores the net's phase
/// and batch size.
/// `data` is read batch by batch, in order.
EvalResult evaluate(Net& net, const SampleStream& data, int batch, const ProgressFn& progress = {});

/// Attaches the arch's quantization to the net's Convolution / InnerProduct
/// layers. When the arch has dynamic fixed-point groups, their fractional
/// lengths come from a range analysis first: a float forward pass (test phase)
/// over the first `calib_images` images of `calib`, then engine::dynamic_fl
/// with the arch's range_rule. Statistics are reset afterwards.
void quantize_net(Net& net, const config::Arch& arch, const SampleStream& calib, int calib_images,
                  int batch);
/// True when some number group of the arch (or an override) is dynamic.
using config::has_dynamic_groups;

/// Checks that the data fits the net (image shape, class count).
void check_samples(const Net& net, const Samples& data, const char* what);
void check_samples(const Net& net, const SampleStream& data, const char* what);

}  // namespace ristsim::engine
