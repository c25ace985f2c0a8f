// Net: a DAG of layers connected by named blobs, built from a NetSpec.
//
// Blobs are named by the layers' tops. A top that reuses an existing name
// (Caffe's in-place ReLU, or a later layer overwriting a name) makes a new
// version of that name: later bottoms see the newest one, and no layer ever
// writes over a blob another layer still needs. A blob read by several layers
// gets a Split layer that copies it forward and sums the diffs backward.
//
// The input blob is spec.input, shaped [batch, C, H, W]. With
// NetOptions::with_loss the Net adds a "label" input blob and a
// SoftmaxWithLoss layer named "loss" on the output blob.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/layer.h"
#include "engine/layers.h"
#include "engine/spec.h"

namespace ristsim::engine {

struct NetOptions {
  Phase phase = Phase::test;
  int batch = 1;
  std::vector<int> input_shape;  ///< C, H, W; empty: the spec's input_shape
  bool with_loss = false;        ///< add "label" and a SoftmaxWithLoss "loss" layer
  uint64_t seed = 1;             ///< fillers and dropout
};

/// A parameter blob with its owner, for solvers and weight files.
struct ParamRef {
  std::string name;  ///< "<layer>.<index>", e.g. "conv1.0" (weights), "conv1.1" (bias)
  Layer* layer = nullptr;
  int index = 0;
  Param* param = nullptr;
};

class Net {
 public:
  Net(const NetSpec& spec, const NetOptions& options);

  const NetSpec& spec() const { return spec_; }
  Phase phase() const { return phase_; }
  void set_phase(Phase p);
  /// Sets the batch size and reshapes every layer.
  void reshape(int batch);
  int batch() const { return input().shape(0); }

  Blob& input() { return *blobs_[input_id_]; }
  const Blob& input() const { return *blobs_[input_id_]; }
  /// Labels as floats, one per image (with_loss only).
  Blob& label();
  /// The class scores (spec.output).
  const Blob& output() const { return *blobs_[output_id_]; }
  bool has_loss() const { return loss_id_ >= 0; }

  /// Runs every layer; returns the loss (0 without one).
  float forward();
  /// Back-propagates from the loss (with_loss only); parameter diffs accumulate.
  void backward();
  void zero_param_diffs();

  /// A blob by its name in the description (its newest version); nullptr if none.
  Blob* blob(const std::string& name);
  int num_layers() const { return static_cast<int>(layers_.size()); }
  Layer& layer(int i) { return *layers_[i]; }
  /// A layer by name (the description's layers and "loss"); nullptr if none.
  Layer* layer(const std::string& name);
  const Blobs& bottoms(int i) const { return bottoms_[i]; }
  const Blobs& tops(int i) const { return tops_[i]; }
  /// Convolution and InnerProduct layers, in order.
  std::vector<WeightedLayer*> weighted_layers();
  /// Every parameter blob (learnable and state), in layer order.
  std::vector<ParamRef> params();

  /// One line per layer: name, type, top shapes, parameter shapes.
  std::string describe() const;

 private:
  int new_blob(const std::string& name);
  NetSpec spec_;
  Phase phase_;
  std::vector<std::unique_ptr<Blob>> blobs_;
  std::vector<std::string> blob_names_;
  std::map<std::string, int> latest_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Blobs> bottoms_, tops_;
  std::vector<std::vector<int>> bottom_ids_, top_ids_;
  std::vector<std::vector<bool>> propagate_;
  std::vector<bool> layer_backward_;
  std::vector<int> unconsumed_;  // blobs nobody reads (their diffs stay zero)
  int input_id_ = -1, label_id_ = -1, output_id_ = -1, loss_id_ = -1;
};

}  // namespace ristsim::engine
