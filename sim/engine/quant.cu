// The quantized Convolution / InnerProduct on the GPU (cuda mode): LayerQuant::forward_gpu, the
// device twin of LayerQuant::forward (quant.cpp), step for step:
//   float datapath  weights and bias, inputs, the layer's GEMM (cuBLAS, conv_layer.cu), outputs;
//   train phase     weights and bias from the shadow weights with the next train step's seed
//                   (stochastic by default), inputs / outputs as TrainActivations says, and
//                   clipped_ste's masks, all on the device;
//   exact datapath  the codes quantized on the device, cuda::exact_conv_device (IMMA where
//                   kernels::integer_gemm_exact proves it exact, else one thread per output),
//                   the output codes decoded on the device.
// Every element goes through engine/steps/quant_steps.h, the host tests' functions
// (testbench/cuda/quant_steps_test.cpp): for the same operands the codes, values, masks and
// statistics are the CPU's bits. The statistics are integer sums and a maximum, added with
// atomics (any order, the same sums), downloaded once per forward pass: the only transfer.
// The float GEMM sums are cuBLAS's (docs/cuda.md): the outputs of the float datapath agree with
// the CPU within float rounding of the sums before they are quantized.
#include "cuda/exact_layer_cuda.h"
#include "engine/gpu.h"
#include "engine/quant.h"
#include "engine/quant_exact.h"
#include "engine/steps/quant_steps.h"

namespace ristsim::engine {

namespace {

namespace st = steps;
using gpu::blocks;
using gpu::kThreads;

constexpr int kGroups = 4;
/// d_stats_: StatsSums per group, then the exact datapath's counters [accumulator overflows,
/// output saturations, output NaNs] (cuda::exact_conv_device's order).
constexpr std::size_t kStatsBytes =
    kGroups * sizeof(st::StatsSums) + 3 * sizeof(unsigned long long);

/// Adds one element to the block's sums (shared memory).
__device__ void add_shared(st::StatsSums* s, const st::StatsElement& e, bool saturated, bool nan) {
  atomicAdd(&s->count, 1ull);
  if (saturated) atomicAdd(&s->saturations, 1ull);
  if (nan) atomicAdd(&s->nans, 1ull);
  if (e.nan) return;
  if (e.zero) {
    atomicAdd(&s->zeros, 1ull);
    return;
  }
  if (e.negative) atomicAdd(&s->negatives, 1ull);
  atomicMax(&s->max_abs_bits, e.abs_bits);
  atomicAdd(&s->hist[e.bin], 1ull);
}

__device__ void clear_shared(st::StatsSums* s) {
  unsigned long long* w = reinterpret_cast<unsigned long long*>(s);
  for (int i = threadIdx.x; i < int(sizeof(st::StatsSums) / 8); i += blockDim.x) w[i] = 0;
}

/// The block's sums into the global ones (one atomic per field).
__device__ void flush_shared(const st::StatsSums* s, st::StatsSums* global) {
  if (threadIdx.x == 0) {
    atomicAdd(&global->count, s->count);
    atomicAdd(&global->zeros, s->zeros);
    atomicAdd(&global->negatives, s->negatives);
    atomicAdd(&global->saturations, s->saturations);
    atomicAdd(&global->nans, s->nans);
    atomicMax(&global->max_abs_bits, s->max_abs_bits);
  }
  for (int i = threadIdx.x; i < numeric::ArrayStats::kBins; i += blockDim.x)
    if (s->hist[i]) atomicAdd(&global->hist[i], s->hist[i]);
}

/// y[i], codes[i] = quantize_element(x[i]) (either may be null; y may be x); statistics into
/// *stats when it is not null (the same pointer for the whole grid, so every thread of a block
/// takes the same branches around __syncthreads).
__global__ void quantize_kernel(numeric::Quantizer q, bool pass, const float* x, int64_t n,
                                float* y, uint32_t* codes, st::StatsSums* stats) {
  __shared__ st::StatsSums sums;
  if (stats) clear_shared(&sums);
  __syncthreads();
  RISTSIM_GRID_LOOP(i, n) {
    const float xi = x[i];
    const st::QuantElement r = st::quantize_element(q, pass, xi, static_cast<uint64_t>(i));
    if (y) y[i] = r.value;
    if (codes) codes[i] = r.code;
    if (stats) add_shared(&sums, st::stats_element(xi), r.saturated, r.nan);
  }
  __syncthreads();
  if (stats) flush_shared(&sums, stats);
}

/// out[i] = the decoded output code, and its statistics (no quantizer flags: the exact
/// datapath's counters add the saturations and NaNs).
__global__ void decode_kernel(numeric::Format f, const uint32_t* codes, int64_t n, float* out,
                              st::StatsSums* stats) {
  __shared__ st::StatsSums sums;
  clear_shared(&sums);
  __syncthreads();
  RISTSIM_GRID_LOOP(i, n) {
    const float v = st::decode_element(f, codes[i]);
    out[i] = v;
    add_shared(&sums, st::stats_element(v), false, false);
  }
  __syncthreads();
  flush_shared(&sums, stats);
}

__global__ void range_mask_kernel(st::Range r, const float* x, int64_t n, uint8_t* keep) {
  RISTSIM_GRID_LOOP(i, n) keep[i] = st::in_range(r, x[i]);
}

__global__ void clip_kernel(const uint8_t* keep, int64_t n, float* diff) {
  RISTSIM_GRID_LOOP(i, n) if (!keep[i]) diff[i] = 0.0f;
}

void range_mask(const config::NumberSpec& s, const float* d_x, std::size_t n, DeviceBuffer* keep,
                std::size_t* keep_n) {
  keep->reserve(std::max<std::size_t>(n, 1));
  *keep_n = n;
  range_mask_kernel<<<blocks(int64_t(n)), kThreads>>>(st::range_of(s.is_float, s.quantizer.format),
                                                      d_x, int64_t(n), keep->as<uint8_t>());
  gpu::check_launch("range mask");
}

template <class T>
T* sized(DeviceBuffer& b, std::size_t n) {
  return static_cast<T*>(b.reserve(std::max<std::size_t>(n, 1) * sizeof(T)));
}

}  // namespace

void LayerQuant::quantize_tensor_gpu(const config::NumberSpec& spec, NumberGroup group,
                                     const numeric::Quantizer& q, const float* d_x, std::size_t n,
                                     float* d_y, uint32_t* d_codes, bool count_stats) {
  const bool pass = spec.is_float || mode_ == QuantMode::measure;
  st::StatsSums* sums = nullptr;
  if (count_stats) {
    sums = d_stats_.as<st::StatsSums>() + static_cast<int>(group);
    d_counted_[static_cast<int>(group)] = true;
  }
  quantize_kernel<<<blocks(int64_t(n)), kThreads>>>(q, pass, d_x, int64_t(n), d_y, d_codes, sums);
  gpu::check_launch("quantize");
}

void LayerQuant::forward_gpu(WeightedLayer& layer, const float* in, const float* w, const float* b,
                             float* out) {
  if (!formats_.weights.channel_fl.empty() || formats_.activations.is_mx || formats_.weights.is_mx)
    throw std::runtime_error("layer '" + stats_.layer +
                             "': per-channel weight fractional lengths (granularity: channel) "
                             "and OCP MX formats run on the CPU only; use --device cpu");
  const detail::GroupSizes sizes = detail::group_sizes(layer, b != nullptr);
  const std::size_t n_in = sizes.in, n_w = sizes.w, n_out = sizes.out, n_b = sizes.b;
  masks_valid_ = false;
  codes_on_device_ = false;
  d_stats_.reserve(kStatsBytes);
  d_stats_.zero(kStatsBytes);
  d_counted_ = {};

  if (layer.phase() == Phase::train && mode_ == QuantMode::quantize) {
    const numeric::Quantizer qw = next_train_weight_quantizer();
    float* w_q = sized<float>(d_w_q_, n_w);
    float* b_q = sized<float>(d_b_q_, n_b);
    quantize_tensor_gpu(formats_.weights, NumberGroup::weights, qw, w, n_w, w_q, nullptr, false);
    numeric::Quantizer qb = qw;
    qb.stream = group_quantizer(formats_.weights, NumberGroup::bias).stream;
    if (b)
      quantize_tensor_gpu(formats_.weights, NumberGroup::bias, qb, b, n_b, b_q, nullptr, false);
    w_quantized_ = true;
    w_cache_valid_ = false;
    const bool act = train_.activations != TrainActivations::float32;
    const bool clip = train_.activations == TrainActivations::clipped_ste;
    in_quantized_ = act;
    float* in_q = nullptr;
    if (act) {
      if (clip) range_mask(formats_.activations, in, n_in, &d_in_keep_, &d_in_keep_n_);
      in_q = sized<float>(d_in_q_, n_in);
      quantize_tensor_gpu(formats_.activations, NumberGroup::inputs,
                          group_quantizer(formats_.activations, NumberGroup::inputs), in, n_in,
                          in_q, nullptr, false);
    }
    layer.compute_forward_gpu(act ? in_q : in, w_q, b ? b_q : nullptr, out);
    if (act) {
      if (clip) range_mask(formats_.outputs, out, n_out, &d_out_keep_, &d_out_keep_n_);
      quantize_tensor_gpu(formats_.outputs, NumberGroup::outputs,
                          group_quantizer(formats_.outputs, NumberGroup::outputs), out, n_out, out,
                          nullptr, false);
    }
    masks_valid_ = clip;
    return;  // nothing counted
  }

  if (mode_ == QuantMode::quantize && arch_->datapath == config::Datapath::exact) {
    forward_exact_gpu(layer, in, w, b, out);
  } else {
    // Weights and bias quantized every pass (the CPU keeps them while they are unchanged: the
    // same values and the same statistics, which are reset below as the CPU resets them when
    // the weights change). The bias in the weights' format (Ristretto).
    float* w_q = sized<float>(d_w_q_, n_w);
    float* b_q = sized<float>(d_b_q_, n_b);
    quantize_tensor_gpu(formats_.weights, NumberGroup::weights,
                        group_quantizer(formats_.weights, NumberGroup::weights), w, n_w, w_q,
                        nullptr, true);
    if (b)
      quantize_tensor_gpu(formats_.weights, NumberGroup::bias,
                          group_quantizer(formats_.weights, NumberGroup::bias), b, n_b, b_q,
                          nullptr, true);
    float* in_q = sized<float>(d_in_q_, n_in);
    quantize_tensor_gpu(formats_.activations, NumberGroup::inputs,
                        group_quantizer(formats_.activations, NumberGroup::inputs), in, n_in, in_q,
                        nullptr, true);
    in_quantized_ = true;
    w_quantized_ = true;
    w_cache_valid_ = false;
    layer.compute_forward_gpu(in_q, w_q, b ? b_q : nullptr, out);
    quantize_tensor_gpu(formats_.outputs, NumberGroup::outputs,
                        group_quantizer(formats_.outputs, NumberGroup::outputs), out, n_out, out,
                        nullptr, true);
  }

  // The statistics out: one transfer.
  unsigned char host[kStatsBytes];
  d_stats_.download(host, kStatsBytes);
  st::StatsSums sums[kGroups];
  std::memcpy(sums, host, sizeof sums);
  for (NumberGroup grp : {NumberGroup::weights, NumberGroup::bias})
    if (d_counted_[static_cast<int>(grp)]) stats_[grp] = GroupStats{};
  for (int i = 0; i < kGroups; ++i)
    if (d_counted_[i]) stats_.groups[i].merge(st::to_array_stats(sums[i]));
  if (mode_ == QuantMode::quantize && arch_->datapath == config::Datapath::exact) {
    unsigned long long counts[3];
    std::memcpy(counts, host + sizeof sums, sizeof counts);
    stats_.acc_overflows += counts[0];
    stats_[NumberGroup::outputs].saturations += counts[1];
    stats_[NumberGroup::outputs].nans += counts[2];
  }
}

void LayerQuant::forward_exact_gpu(WeightedLayer& layer, const float* in, const float* w,
                                   const float* b, float* out) {
  if (formats_.activations.is_mx || formats_.weights.is_mx)
    throw std::runtime_error("layer '" + stats_.layer +
                             "': OCP MX formats run on the CPU only; use --device cpu");
  const ConvGeometry& g = layer.geometry();
  const detail::GroupSizes sizes = detail::group_sizes(layer, b != nullptr);
  const std::size_t n_in = sizes.in, n_w = sizes.w, n_out = sizes.out, n_b = sizes.b;
  const kernels::ExactLayerSpec spec =
      detail::exact_layer_spec(*this, *arch_, stats_.layer, b != nullptr);
  // The host copies of the codes take their sizes now and their values on first use.
  in_codes_.resize(n_in);
  w_codes_.resize(n_w);
  b_codes_.assign(std::max<std::size_t>(n_b, 1), 0);
  out_codes_.resize(n_out);
  uint32_t* in_codes = sized<uint32_t>(d_in_codes_, n_in);
  uint32_t* w_codes = sized<uint32_t>(d_w_codes_, n_w);
  uint32_t* b_codes = sized<uint32_t>(d_b_codes_, std::max<std::size_t>(n_b, 1));
  uint32_t* out_codes = sized<uint32_t>(d_out_codes_, n_out);
  if (!b) d_b_codes_.zero(sizeof(uint32_t));
  quantize_tensor_gpu(formats_.activations, NumberGroup::inputs, spec.act, in, n_in,
                      sized<float>(d_in_q_, n_in), in_codes, true);
  quantize_tensor_gpu(formats_.weights, NumberGroup::weights, spec.wt, w, n_w,
                      sized<float>(d_w_q_, n_w), w_codes, true);
  if (b)
    quantize_tensor_gpu(formats_.bias, NumberGroup::bias, spec.bias, b, n_b,
                        sized<float>(d_b_q_, n_b), b_codes, true);
  unsigned long long* counts = reinterpret_cast<unsigned long long*>(
      d_stats_.as<unsigned char>() + kGroups * sizeof(st::StatsSums));
  cuda::exact_conv_device(detail::conv_shape(g), spec, in_codes, w_codes, b_codes, out_codes,
                          counts);
  decode_kernel<<<blocks(int64_t(n_out)), kThreads>>>(
      spec.out.format, out_codes, int64_t(n_out), out,
      d_stats_.as<st::StatsSums>() + static_cast<int>(NumberGroup::outputs));
  gpu::check_launch("decode outputs");
  d_counted_[static_cast<int>(NumberGroup::outputs)] = true;
  in_quantized_ = true;
  w_quantized_ = true;
  codes_on_device_ = true;
}

const float* LayerQuant::used_input_gpu(const float* d_in) const {
  return in_quantized_ ? d_in_q_.as<float>() : d_in;
}

const float* LayerQuant::used_weights_gpu(const float* d_w) const {
  return w_quantized_ ? d_w_q_.as<float>() : d_w;
}

void LayerQuant::clip_output_grad_gpu(float* d_top_diff) const {
  if (!masks_valid_) return;
  clip_kernel<<<blocks(int64_t(d_out_keep_n_)), kThreads>>>(d_out_keep_.as<uint8_t>(),
                                                            int64_t(d_out_keep_n_), d_top_diff);
  gpu::check_launch("clip output gradient");
}

void LayerQuant::clip_input_grad_gpu(float* d_bottom_diff) const {
  if (!masks_valid_) return;
  clip_kernel<<<blocks(int64_t(d_in_keep_n_)), kThreads>>>(d_in_keep_.as<uint8_t>(),
                                                           int64_t(d_in_keep_n_), d_bottom_diff);
  gpu::check_launch("clip input gradient");
}

}  // namespace ristsim::engine
