// The layer contract (Caffe's): a layer is built from its LayerSpec, then
//   setup(bottom, top)    once: checks the bottom shapes, creates parameters
//   reshape(bottom, top)  whenever a bottom shape changes: sets the top shapes
//   forward(bottom, top)  top.data from bottom.data
//   backward(top, propagate_down, bottom)
//                         bottom.diff from top.diff (overwritten, for the
//                         bottoms with propagate_down set) and the parameter
//                         gradients (accumulated into param diffs; the solver
//                         clears them).
// A blob used by two layers gets a Split layer from the Net, so no layer ever
// has to add into a bottom's diff.
//
// In the cuda mode (engine/device.h) the Net calls forward_gpu / backward_gpu instead. A
// layer ported to the GPU overrides them (declared with RISTSIM_GPU_LAYER, defined in a .cu
// file with the stem of its .cpp) and works on the blobs' device mirrors; the default runs
// the host code, the mirrors copying the blobs it reads and writes (Caffe's fallback).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/blob.h"
#include "engine/device.h"
#include "engine/spec.h"

namespace ristsim::engine {

enum class Phase { train, test };

/// A learnable (or state) parameter of a layer and its solver multipliers.
struct Param {
  std::shared_ptr<Blob> blob;
  float lr_mult = 1.0f;
  float decay_mult = 1.0f;
  bool learnable = true;  ///< false: state updated by the layer itself (BatchNorm statistics)
};

using Blobs = std::vector<Blob*>;

/// Declares a layer's GPU forward / backward in a build with CUDA (RISTSIM_HAVE_CUDA, a
/// public definition of ristsim_engine); without CUDA the layer keeps the host fallback.
#if RISTSIM_HAVE_CUDA
#define RISTSIM_GPU_LAYER                                                                   \
  void forward_gpu(const Blobs& bottom, const Blobs& top) override;                         \
  void backward_gpu(const Blobs& top, const std::vector<bool>& propagate_down, const Blobs& bottom) \
      override;
#else
#define RISTSIM_GPU_LAYER
#endif

class Layer {
 public:
  explicit Layer(const LayerSpec& spec) : spec_(spec) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  virtual const char* type() const = 0;
  /// Number of bottoms / tops; -1: any number (at least one).
  virtual int num_bottoms() const { return 1; }
  virtual int num_tops() const { return 1; }

  virtual void setup(const Blobs& /*bottom*/, const Blobs& /*top*/) {}
  virtual void reshape(const Blobs& bottom, const Blobs& top) = 0;
  virtual void forward(const Blobs& bottom, const Blobs& top) = 0;
  virtual void backward(const Blobs& top, const std::vector<bool>& propagate_down,
                        const Blobs& bottom) = 0;
  /// The cuda mode's forward / backward; by default the host code through the mirrors.
  virtual void forward_gpu(const Blobs& bottom, const Blobs& top) { forward(bottom, top); }
  virtual void backward_gpu(const Blobs& top, const std::vector<bool>& propagate_down,
                            const Blobs& bottom) {
    backward(top, propagate_down, bottom);
  }

  const std::string& name() const { return spec_.name; }
  const LayerSpec& spec() const { return spec_; }
  std::vector<Param>& params() { return params_; }
  const std::vector<Param>& params() const { return params_; }

  Phase phase() const { return phase_; }
  void set_phase(Phase p) { phase_ = p; }
  /// Seed for the layer's random numbers (fillers, dropout), set by the Net.
  void set_seed(uint64_t s) { seed_ = s; }
  uint64_t seed() const { return seed_; }
  /// Index of the layer in its Net (the quantization stream uses it).
  void set_index(int i) { index_ = i; }
  int index() const { return index_; }

 protected:
  /// Throws NetSpecError prefixed with where the layer was described.
  [[noreturn]] void fail(const std::string& what) const;
  /// Reads lr_mult / decay_mult lists (Caffe's param { lr_mult }) for param i.
  void apply_multipliers();
  /// Device scratch buffer `slot` of the GPU code (argmax, masks, columns), at least `count`
  /// elements of T; kept between calls.
  template <class T>
  T* gpu_scratch(std::size_t slot, std::size_t count) {
    if (gpu_scratch_.size() <= slot) gpu_scratch_.resize(slot + 1);
    return static_cast<T*>(gpu_scratch_[slot].reserve(count * sizeof(T)));
  }

  LayerSpec spec_;
  std::vector<Param> params_;
  Phase phase_ = Phase::train;
  uint64_t seed_ = 1;
  int index_ = 0;
  std::vector<DeviceBuffer> gpu_scratch_;
};

/// Builds a layer of spec.type; throws NetSpecError for an unknown type or
/// bad parameters (all parameters must be known to the layer type).
std::unique_ptr<Layer> create_layer(const LayerSpec& spec);

/// Names of all layer types, for messages and docs.
std::vector<std::string> layer_types();

}  // namespace ristsim::engine
