// Quantized Convolution / InnerProduct: the two datapaths of the arch config.
//
//   float (Ristretto)  inputs, weights and bias quantized with numeric::quantize
//                      (element index = position in the tensor, stream = layer
//                      index * 4 + group: 0 inputs, 1 weights, 2 bias, 3 outputs;
//                      the bias in the weights' quantizer, as Ristretto does),
//                      multiplied and accumulated in float32 by the layer's GEMM,
//                      the outputs quantized.
//                      Training (phase train): weights and bias quantized every
//                      batch from the full-precision shadow weights with
//                      stochastic rounding (seed from the arch seed and the train
//                      step, which engine::train sets to the solver iteration);
//                      gradients flow straight through to the shadow weights.
//                      Inputs and outputs stay float (Ristretto) or are quantized
//                      as at inference (TrainActivations below).
//   exact (hardware)   inputs, weights and bias become integer codes, the layer
//                      runs on kernels::exact_conv_cpu (docs/datapath.md), the
//                      output codes are decoded.
//
// Dynamic fixed point: a group marked `dynamic` gets its fractional length from
// the measured max |x| by Ristretto's rule (dynamic_fl below); weights of
// granularity: channel get one per output channel, by the same rule from that
// channel's weights (NumberSpec::channel_fl), and every path (float, training,
// exact: ExactLayerSpec::wt_fl) quantizes channel c with its own FL. A LayerQuant in
// QuantMode::measure quantizes nothing and only collects statistics, which is
// the range analysis; resolve_dynamic() then fixes the FLs.
//
// Statistics per layer and number group: max |x|, a log2 histogram of |x|
// (thesis figures 4.1 / 4.2), element, saturation and NaN counts, and the
// accumulator overflows of the exact datapath.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/arch.h"
#include "engine/device.h"
#include "engine/layers.h"
#include "numeric/quantize_array.h"

namespace ristsim::engine {

class Net;

enum class NumberGroup : int { inputs = 0, weights = 1, bias = 2, outputs = 3 };
const char* to_string(NumberGroup g);

/// Ristretto's dynamic fixed point rule: the integer length that avoids
/// saturation, IL = ceil(log2(max_abs) + 1) for weights and bias, one bit less,
/// IL = ceil(log2(max_abs)), for layer inputs and outputs (Ristretto's
/// activations rule); FL = bits - IL. max_abs = 0 (or not finite) gives IL = 0
/// (weights: 1). Example: 8 bits, weights max 0.3 -> IL = ceil(-1.74 + 1) = 0,
/// FL = 8; inputs max 5.2 -> IL = ceil(2.38) = 3, FL = 5.
/// FlRule::no_saturation gives inputs and outputs the weights' rule too
/// (IL = ceil(log2(max_abs) + 1)): one fractional bit less, and nothing up to
/// max_abs saturates (not Ristretto's). The arch chooses the rule
/// (config::Arch::range_rule, YAML key range_rule). Unsigned fixed point
/// (is_signed false) has no sign bit to hold: one fractional bit more, the same
/// range (8 bits, pixels max 1.0, no_saturation: signed FL 7, largest 0.992;
/// unsigned FL 8, largest 255/256 = 0.996).
using FlRule = config::RangeRule;
/// (FlRule::automatic counts as ristretto here: concrete_rule() resolves it first.)
int dynamic_fl(int bits, double max_abs, NumberGroup group, FlRule rule = FlRule::ristretto,
               bool is_signed = true);

/// The share of a group's nonzero values that Ristretto's activation rule saturates:
/// those with |x| >= 2^(IL-1), IL = ceil(log2 max |x|), from the log2 histogram.
/// Fashion-MNIST pixels (max 1): the nonzero pixels >= 0.5.
double ristretto_saturated_share(const numeric::ArrayStats& st);
/// FlRule::automatic: the rule of the smaller estimated mean squared error over a group's
/// nonzero values, at `bits` bits. With R = 2^(IL-1) the largest value of Ristretto's
/// format (IL = ceil(log2 max)), q its quantum (R * 2^(1-bits), unsigned R * 2^-bits) and
/// s = top_share (the values in [R, max], taken as uniform there):
///   ristretto      s * (max - R)^2 / 3 + (1 - s) * q^2 / 12  (saturation + rounding)
///   no_saturation  (2q)^2 / 12                              (rounding on a grid twice as coarse)
/// Ties go to ristretto. Fashion-MNIST pixels (max 1, R 0.5, s about 0.3) take
/// no_saturation at 4 and 8 bits; a thin tail (s = 0.1 %, max 1.5 R) takes ristretto at
/// 4 bits (q = R/8: 7.5e-5 R^2 < 3.9e-3 R^2).
FlRule auto_rule(double top_share, double max_abs, int bits, bool is_signed);
/// The rule a group's data needs: `rule` itself unless it is automatic, then
/// auto_rule(ristretto_saturated_share(st), st.max_abs, bits, is_signed).
FlRule concrete_rule(FlRule rule, const numeric::ArrayStats& st, int bits, bool is_signed);

/// Statistics of one number group of one layer: numeric::ArrayStats (max |x|,
/// log2 histogram, element, zero, saturation and NaN counts), gathered in the
/// quantizer's own pass over the tensor (numeric/quantize_array.h).
using GroupStats = numeric::ArrayStats;

struct LayerStats {
  std::string layer;
  std::array<GroupStats, 4> groups;  ///< indexed by NumberGroup
  uint64_t acc_overflows = 0;
  GroupStats& operator[](NumberGroup g) { return groups[static_cast<int>(g)]; }
  const GroupStats& operator[](NumberGroup g) const { return groups[static_cast<int>(g)]; }
};

enum class QuantMode { measure, quantize };

/// What the train phase does with a layer's inputs and outputs (the weights are quantized with
/// stochastic rounding in every case):
///   float32      they stay float (Ristretto's fine-tuning; the default).
///   ste          quantized as at inference (the arch's formats and rounding); the backward pass
///                takes the quantizer as the identity (plain straight-through estimator).
///   clipped_ste  quantized the same way; the gradient passes where the value lay within the
///                format's range [min_value, max_value] and is zero where it was clipped
///                (example, fixed<4,2>, range [-2, 1.75]: x = 1.6 -> 1.5, gradient passed;
///                x = 2.3 -> 1.75, gradient 0).
enum class TrainActivations { float32, ste, clipped_ste };
const char* to_string(TrainActivations a);
/// Parses "float", "ste", "clipped-ste"; false if none.
bool parse_train_activations(const std::string& s, TrainActivations* out);

/// How the train phase quantizes a layer. Ristretto: stochastic weights, float activations.
struct TrainQuant {
  TrainActivations activations = TrainActivations::float32;
  /// Weights and bias: stochastic rounding every batch from the shadow weights (Ristretto), or
  /// false: the arch's own rounding (nearest), the values the scored network uses.
  bool stochastic_weights = true;
};

/// The quantization of one WeightedLayer.
class LayerQuant {
 public:
  /// `arch` may be null in measure mode only.
  LayerQuant(const config::Arch* arch, const WeightedLayer& layer);

  QuantMode mode() const { return mode_; }
  void set_mode(QuantMode m);
  /// Sets the FL of every dynamic fixed-point group from the statistics
  /// gathered so far (inputs, outputs) and the current weights and bias.
  void resolve_dynamic(WeightedLayer& layer, FlRule rule = FlRule::ristretto);
  const config::LayerFormats& formats() const { return formats_; }
  const LayerStats& stats() const { return stats_; }
  void reset_stats();
  /// Replaces the statistics (e.g. with a measurement run's, before resolve_dynamic).
  void set_stats(const LayerStats& s) { stats_ = s; }

  void set_train_quant(const TrainQuant& t) { train_ = t; }
  const TrainQuant& train_quant() const { return train_; }
  /// The train step the next train-phase forward pass counts from: its stochastic rounding
  /// uses the seed derive_seed(arch seed, step + 1).
  void set_train_step(uint64_t step) { train_steps_ = step; }

  /// The quantizer of number group `g` in the format `s`: the arch's seed and the stream
  /// layer index * 4 + g (the bias of the float datapath is quantized in the weights' format
  /// with the bias's stream).
  numeric::Quantizer group_quantizer(const config::NumberSpec& s, NumberGroup g) const;

  /// The quantized forward pass (called by WeightedLayer::forward).
  void forward(WeightedLayer& layer, const float* in, const float* w, const float* b, float* out);
  /// The same on the GPU (cuda mode, WeightedLayer::forward_gpu; quant.cu): device pointers,
  /// the layer's GPU GEMMs, every quantizer, mask and statistic computed on the device by the
  /// steps of engine/steps/quant_steps.h (the CPU's bits for the same operands), the exact
  /// datapath through cuda::exact_conv_device. Only the statistics come back to the host.
  void forward_gpu(WeightedLayer& layer, const float* d_in, const float* d_w, const float* d_b,
                   float* d_out);
  /// The device operands the last forward_gpu used, and clipped_ste's gradient masks on the
  /// device (backward_gpu).
  const float* used_input_gpu(const float* d_in) const;
  const float* used_weights_gpu(const float* d_w) const;
  void clip_output_grad_gpu(float* d_top_diff) const;
  void clip_input_grad_gpu(float* d_bottom_diff) const;
  /// The operands the last forward pass used (for the backward pass).
  const float* used_input(const float* in) const;
  const float* used_weights(const float* w) const;
  /// TrainActivations::clipped_ste after a train-phase forward pass: zeroes the gradient of
  /// every output (before the layer's backward pass) and of every input (after it) that was
  /// outside its format's range. No-op otherwise.
  void clip_output_grad(float* top_diff) const;
  void clip_input_grad(float* bottom_diff) const;

  /// The integer codes of the last exact-datapath forward pass, whole batch,
  /// NCHW (inputs, outputs) and OIHW (weights); the bias has one code per
  /// output channel (zeros for a layer without bias). Empty before one ran.
  /// What the cycle-level models are held against (ristsim cosim --model).
  /// After forward_gpu the codes are copied from the device on the first call.
  const std::vector<uint32_t>& input_codes() const;
  const std::vector<uint32_t>& weight_codes() const;
  const std::vector<uint32_t>& bias_codes() const;
  const std::vector<uint32_t>& output_codes() const;
  /// The stochastic-rounding stream of the layer's outputs (layer index * 4 + 3).
  uint64_t output_stream() const {
    return static_cast<uint64_t>(index_) * 4 + static_cast<uint64_t>(NumberGroup::outputs);
  }

 private:
  void quantize_tensor(const config::NumberSpec& spec, NumberGroup group, const numeric::Quantizer& q,
                       const float* x, std::size_t n, float* y, uint32_t* codes, bool count_stats);
  /// quantize_tensor(), channel by channel with spec.channel_fl (per-channel weights, and the
  /// bias in their format); quantize_tensor() itself for a spec of one FL.
  void quantize_channels(const config::NumberSpec& spec, NumberGroup group,
                         const numeric::Quantizer& q, const float* x, std::size_t n, float* y,
                         uint32_t* codes, bool count_stats);
  /// Throws config::ConfigError when the weights' per-channel FL list does not have one FL
  /// per output channel of the layer.
  void check_channels(const WeightedLayer& layer) const;
  void forward_exact(WeightedLayer& layer, const float* in, const float* w, const float* b, float* out);
  /// The train phase's weight and bias quantizers of the next train step (advances it).
  numeric::Quantizer next_train_weight_quantizer();
  // forward_gpu's pieces (quant.cu).
  void quantize_tensor_gpu(const config::NumberSpec& spec, NumberGroup group,
                           const numeric::Quantizer& q, const float* d_x, std::size_t n,
                           float* d_y, uint32_t* d_codes, bool count_stats);
  void forward_exact_gpu(WeightedLayer& layer, const float* d_in, const float* d_w,
                         const float* d_b, float* d_out);
  void sync_codes() const;  const config::Arch* arch_;
  config::LayerFormats formats_;
  int index_ = 0;
  QuantMode mode_ = QuantMode::quantize;
  LayerStats stats_;
  uint64_t train_steps_ = 0;
  TrainQuant train_;
  bool masks_valid_ = false;
  std::vector<uint8_t> in_keep_, out_keep_;  ///< clipped_ste: 1 where the value was in range
  bool in_quantized_ = false, w_quantized_ = false;
  std::vector<float> in_q_, w_q_, b_q_, w_cache_src_;
  bool w_cache_valid_ = false;
  mutable std::vector<uint32_t> in_codes_, w_codes_, b_codes_, out_codes_;
  // The GPU's copies (cuda mode): quantized operands, codes, clipping masks, and the
  // statistics of the four groups (steps::StatsSums) plus the exact datapath's three counters.
  DeviceBuffer d_in_q_, d_w_q_, d_b_q_, d_in_codes_, d_w_codes_, d_b_codes_, d_out_codes_;
  DeviceBuffer d_in_keep_, d_out_keep_, d_stats_;
  std::size_t d_in_keep_n_ = 0, d_out_keep_n_ = 0;
  std::array<bool, 4> d_counted_{};  ///< groups counted since d_stats_ was zeroed
  mutable bool codes_on_device_ = false;
};

/// Attaches statistics-only LayerQuants (range analysis) to every weighted layer.
void attach_measurement(Net& net);
/// Attaches the arch's quantization to every weighted layer. Dynamic groups
/// take their FL from the statistics of a previous attach_measurement run
/// (call that first and run some forward passes), else from the format's fl,
/// by the arch's range_rule (to compare rules, change arch.range_rule).
/// Checks first (check_overrides) that every per-layer override of the arch names
/// a weighted layer of the net.
void attach_arch(Net& net, const config::Arch& arch);

/// Where an arch meets a model: throws config::ConfigError naming the arch file
/// when a per-layer override (`layers:` in the YAML) names no Convolution or
/// InnerProduct layer of the net; the message lists the layers there are. An
/// override that matches nothing would otherwise be ignored in silence.
void check_overrides(Net& net, const config::Arch& arch);
/// Sets the train-phase quantization of every attached LayerQuant.
void set_train_quant(Net& net, const TrainQuant& t);
/// Removes all quantization.
void detach_quantization(Net& net);
/// Statistics of every quantized layer, in layer order.
std::vector<LayerStats> collect_stats(Net& net);
/// True when the exact datapath kernel (kernels/cpu) was built in.
bool exact_datapath_available();

}  // namespace ristsim::engine
