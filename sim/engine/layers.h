// The layer types of the engine. Each class implements the contract of
// layer.h; parameters are Caffe's names (see docs/engine.md for the table).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/layer.h"

namespace ristsim::engine {

class LayerQuant;  // engine/quant.h

/// Geometry of a convolution or inner product, the same fields as
/// kernels::ConvShape (inner product: h = w = kh = kw = oh = ow = 1,
/// c = inputs, k = outputs).
struct ConvGeometry {
  int n = 0, c = 0, h = 0, w = 0;
  int k = 0, kh = 1, kw = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1,
      dil_w = 1, groups = 1;
  int oh = 1, ow = 1;
};

/// Convolution and InnerProduct: weights [k, c/groups, kh, kw] and bias [k].
/// Their inputs, weights, bias and outputs can be quantized by a LayerQuant
/// (engine/quant.h) attached by Net::set_arch; the float math is in
/// compute_forward / compute_backward.
class WeightedLayer : public Layer {
 public:
  using Layer::Layer;
  void forward(const Blobs& bottom, const Blobs& top) override;
  void backward(const Blobs& top, const std::vector<bool>& propagate_down,
                const Blobs& bottom) override;

  const ConvGeometry& geometry() const { return g_; }
  bool has_bias() const { return bias_term_; }
  Blob& weights() { return *params_[0].blob; }
  Blob* bias() { return bias_term_ ? params_[1].blob.get() : nullptr; }
  /// Attaches (or, with nullptr, removes) quantization.
  void set_quant(std::shared_ptr<LayerQuant> q) { quant_ = std::move(q); }
  LayerQuant* quant() const { return quant_.get(); }

  /// out[n, k, oh, ow] = sum w * in + b (b may be null).
  virtual void compute_forward(const float* in, const float* w, const float* b, float* out) = 0;
  /// bottom_diff (may be null) = W^T top_diff; w_diff += ...; b_diff (may be null) += ...
  virtual void compute_backward(const float* in, const float* w, const float* top_diff,
                                float* bottom_diff, float* w_diff, float* b_diff) = 0;
#if RISTSIM_HAVE_CUDA
  /// The GPU forward / backward (cuda mode, conv_layer.cu): the quantizer's forward_gpu when
  /// one is attached, else compute_*_gpu, on the blobs' device mirrors.
  void forward_gpu(const Blobs& bottom, const Blobs& top) override;
  void backward_gpu(const Blobs& top, const std::vector<bool>& propagate_down,
                    const Blobs& bottom) override;
  /// compute_forward / compute_backward on device pointers (cuBLAS SGEMM).
  virtual void compute_forward_gpu(const float* in, const float* w, const float* b,
                                   float* out) = 0;
  virtual void compute_backward_gpu(const float* in, const float* w, const float* top_diff,
                                    float* bottom_diff, float* w_diff, float* b_diff) = 0;
#define RISTSIM_GPU_WEIGHTED_LAYER                                                             \
  void compute_forward_gpu(const float* in, const float* w, const float* b, float* out)      \
      override;                                                                               \
  void compute_backward_gpu(const float* in, const float* w, const float* top_diff,          \
                            float* bottom_diff, float* w_diff, float* b_diff) override;
#else
#define RISTSIM_GPU_WEIGHTED_LAYER
#endif

 protected:
  void create_params(int fan_in);
  ConvGeometry g_;
  bool bias_term_ = true;
  int num_output_ = 0;
  std::shared_ptr<LayerQuant> quant_;
};

class ConvolutionLayer : public WeightedLayer {
 public:
  explicit ConvolutionLayer(const LayerSpec& spec);
  const char* type() const override { return "Convolution"; }
  RISTSIM_GPU_WEIGHTED_LAYER
  void setup(const Blobs& bottom, const Blobs& top) override;
  void reshape(const Blobs& bottom, const Blobs& top) override;
  void compute_forward(const float* in, const float* w, const float* b, float* out) override;
  void compute_backward(const float* in, const float* w, const float* top_diff, float* bottom_diff,
                        float* w_diff, float* b_diff) override;

 private:
  int images_per_chunk() const;
  int images_per_forward_chunk() const;
  std::vector<float> col_, buf_;
};

class InnerProductLayer : public WeightedLayer {
 public:
  explicit InnerProductLayer(const LayerSpec& spec);
  const char* type() const override { return "InnerProduct"; }
  RISTSIM_GPU_WEIGHTED_LAYER
  void setup(const Blobs& bottom, const Blobs& top) override;
  void reshape(const Blobs& bottom, const Blobs& top) override;
  void compute_forward(const float* in, const float* w, const float* b, float* out) override;
  void compute_backward(const float* in, const float* w, const float* top_diff, float* bottom_diff,
                        float* w_diff, float* b_diff) override;
};

/// max(x, 0) + negative_slope * min(x, 0)
class ReLULayer : public Layer {
 public:
  explicit ReLULayer(const LayerSpec& spec);
  const char* type() const override { return "ReLU"; }
  RISTSIM_GPU_LAYER
  void reshape(const Blobs& bottom, const Blobs& top) override;
  void forward(const Blobs& bottom, const Blobs& top) override;
  void backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) override;

 private:
  float slope_ = 0;
};

/// Max or average pooling with Caffe's output size (ceil by default) and
/// Caffe's average divisor (the window clipped to the padded input), or with
/// count_include_pad: false the window clipped to the input (ONNX's default).
/// Max pooling may be dilated (dilation: taps every d-th input, as ONNX's).
class PoolingLayer : public Layer {
 public:
  explicit PoolingLayer(const LayerSpec& spec);
  const char* type() const override { return "Pooling"; }
  RISTSIM_GPU_LAYER
  void reshape(const Blobs& bottom, const Blobs& top) override;
  void forward(const Blobs& bottom, const Blobs& top) override;
  void backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) override;

 private:
  bool max_ = true, global_ = false, ceil_ = true, include_pad_ = true;
  int kh_ = 0, kw_ = 0, sh_ = 1, sw_ = 1, ph_ = 0, pw_ = 0, dh_ = 1, dw_ = 1, oh_ = 0, ow_ = 0;
  std::vector<int32_t> argmax_;
};

/// Local response normalisation across channels (Caffe's ACROSS_CHANNELS):
/// y = x * (k + alpha / n * sum_{window} x^2)^-beta.
class LRNLayer : public Layer {
 public:
  explicit LRNLayer(const LayerSpec& spec);
  const char* type() const override { return "LRN"; }
  RISTSIM_GPU_LAYER
  void reshape(const Blobs& bottom, const Blobs& top) override;
  void forward(const Blobs& bottom, const Blobs& top) override;
  void backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) override;

 private:
  int size_ = 5;
  float alpha_ = 1, beta_ = 0.75f, k_ = 1;
  std::vector<float> scale_;
};

/// Caffe's BatchNorm (no affine part; follow it by Scale): batch statistics in
/// training (and running averages kept as Caffe does), the averages in testing
/// or with use_global_stats.
class BatchNormLayer : public Layer {
 public:
  explicit BatchNormLayer(const LayerSpec& spec);
  const char* type() const override { return "BatchNorm"; }
  void setup(const Blobs& bottom, const Blobs& top) override;
  void reshape(const Blobs& bottom, const Blobs& top) override;
  void forward(const Blobs& bottom, const Blobs& top) override;
  void backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) override;

 private:
  bool use_global() const;
  float eps_ = 1e-5f, maf_ = 0.999f;
  int global_mode_ = -1;  // -1: by phase, 0/1: forced
  std::vector<float> mean_, inv_std_;
};

/// y = gamma[c] * x + beta[c] (axis 1), Caffe's Scale with bias_term.
class ScaleLayer : public Layer {
 public:
  explicit ScaleLayer(const LayerSpec& spec);
  const char* type() const override { return "Scale"; }
  void setup(const Blobs& bottom, const Blobs& top) override;
  void reshape(const Blobs& bottom, const Blobs& top) override;
  void forward(const Blobs& bottom, const Blobs& top) override;
  void backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) override;

 private:
  bool bias_term_ = true;
};

class ConcatLayer : public Layer {
 public:
  explicit ConcatLayer(const LayerSpec& spec);
  const char* type() const override { return "Concat"; }
  RISTSIM_GPU_LAYER
  int num_bottoms() const override { return -1; }
  void reshape(const Blobs& bottom, const Blobs& top) override;
  void forward(const Blobs& bottom, const Blobs& top) override;
  void backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) override;

 private:
  int axis_ = 1;
};

/// Element-wise sum with optional coefficients (Caffe's Eltwise SUM).
class EltwiseLayer : public Layer {
 public:
  explicit EltwiseLayer(const LayerSpec& spec);
  const char* type() const override { return "Eltwise"; }
  int num_bottoms() const override { return -1; }
  void reshape(const Blobs& bottom, const Blobs& top) override;
  void forward(const Blobs& bottom, const Blobs& top) override;
  void backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) override;

 private:
  std::vector<double> coeff_;
};

/// Inverted dropout: in training each element is kept with probability 1 - ratio
/// and scaled by 1 / (1 - ratio); identity in testing. The mask bits are
/// counter-based (seed, forward count, element), so runs repeat exactly.
class DropoutLayer : public Layer {
 public:
  explicit DropoutLayer(const LayerSpec& spec);
  const char* type() const override { return "Dropout"; }
  RISTSIM_GPU_LAYER
  void reshape(const Blobs& bottom, const Blobs& top) override;
  void forward(const Blobs& bottom, const Blobs& top) override;
  void backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) override;

 private:
  float ratio_ = 0.5f;
  uint64_t calls_ = 0;
  std::vector<uint8_t> mask_;
};

/// Collapses axes [axis, end_axis] into one (default: everything after N).
class FlattenLayer : public Layer {
 public:
  explicit FlattenLayer(const LayerSpec& spec);
  const char* type() const override { return "Flatten"; }
  void reshape(const Blobs& bottom, const Blobs& top) override;
  void forward(const Blobs& bottom, const Blobs& top) override;
  void backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) override;

 private:
  int axis_ = 1;
};

/// ONNX's Reshape with a constant target shape (`shape: [...]`): an entry 0
/// copies the input's size on that axis (or, with allowzero: true, is a size
/// of zero, and then no entry may be -1), one entry may be -1 (inferred from
/// the element count). The values are copied unchanged (row-major order);
/// backward copies the gradient back.
class ReshapeLayer : public Layer {
 public:
  explicit ReshapeLayer(const LayerSpec& spec);
  const char* type() const override { return "Reshape"; }
  void reshape(const Blobs& bottom, const Blobs& top) override;
  void forward(const Blobs& bottom, const Blobs& top) override;
  void backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) override;

 private:
  std::vector<int> shape_;
  bool allowzero_ = false;
};

/// Softmax over axis 1 (channels), for every other index.
class SoftmaxLayer : public Layer {
 public:
  explicit SoftmaxLayer(const LayerSpec& spec);
  const char* type() const override { return "Softmax"; }
  void reshape(const Blobs& bottom, const Blobs& top) override;
  void forward(const Blobs& bottom, const Blobs& top) override;
  void backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) override;
};

/// Softmax followed by the mean cross-entropy: bottoms (scores [N, C, ...],
/// labels [N, ...] as floats), top a scalar loss averaged over N * spatial.
class SoftmaxWithLossLayer : public Layer {
 public:
  explicit SoftmaxWithLossLayer(const LayerSpec& spec);
  const char* type() const override { return "SoftmaxWithLoss"; }
  int num_bottoms() const override { return 2; }
  void reshape(const Blobs& bottom, const Blobs& top) override;
  void forward(const Blobs& bottom, const Blobs& top) override;
  void backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) override;
  const std::vector<float>& probabilities() const { return prob_; }
  /// Knowledge distillation (Hinton, Vinyals, Dean 2015, "Distilling the Knowledge in a Neural
  /// Network"): with `targets` (a teacher's probabilities at `temperature`, laid out as the
  /// scores; not owned, read by forward and backward) the loss becomes
  /// (1 - weight) * cross-entropy(label) + weight * T^2 * KL(targets || softmax(scores / T)).
  /// nullptr: the plain loss again.
  void set_soft_targets(const float* targets, float weight, float temperature);

 private:
  std::vector<float> prob_;
  const float* soft_ = nullptr;
  float soft_weight_ = 0, temperature_ = 1;
  std::vector<float> soft_prob_;
};

/// Softmax over axis 1 of [outer, C, inner] scores divided by `temperature`.
void softmax(const float* x, float* y, std::size_t outer, int C, std::size_t inner, float temperature = 1);

/// Copies one bottom to several tops and sums their diffs (inserted by Net).
class SplitLayer : public Layer {
 public:
  explicit SplitLayer(const LayerSpec& spec) : Layer(spec) {}
  const char* type() const override { return "Split"; }
  RISTSIM_GPU_LAYER
  int num_tops() const override { return -1; }
  void reshape(const Blobs& bottom, const Blobs& top) override;
  void forward(const Blobs& bottom, const Blobs& top) override;
  void backward(const Blobs& top, const std::vector<bool>& pd, const Blobs& bottom) override;
};

}  // namespace ristsim::engine
