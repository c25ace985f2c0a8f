#include "engine/quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "config/arch_yaml.h"
#include "engine/math.h"
#include "engine/net.h"
#include "engine/quant_exact.h"
#include "engine/steps/quant_steps.h"
#include "engine/quant_mx.h"

#ifdef RISTSIM_HAVE_EXACT_CPU
#include "kernels/cpu/exact_layer_cpu.h"
#include "kernels/cpu/quantize_cpu.h"
#endif

namespace ristsim::engine {

const char* to_string(NumberGroup g) {
  switch (g) {
    case NumberGroup::inputs: return "inputs";
    case NumberGroup::weights: return "weights";
    case NumberGroup::bias: return "bias";
    case NumberGroup::outputs: return "outputs";
  }
  return "?";
}

const char* to_string(TrainActivations a) {
  switch (a) {
    case TrainActivations::float32: return "float";
    case TrainActivations::ste: return "ste";
    case TrainActivations::clipped_ste: return "clipped-ste";
  }
  return "?";
}

bool parse_train_activations(const std::string& s, TrainActivations* out) {
  for (TrainActivations a : {TrainActivations::float32, TrainActivations::ste, TrainActivations::clipped_ste})
    if (s == to_string(a)) return *out = a, true;
  return false;
}

namespace {
/// keep[i] = 1 where x[i] lies within the format's range (float: everywhere), NaN: 0
/// (steps::in_range, the GPU's step too).
void range_mask(const config::NumberSpec& s, const float* x, std::size_t n, std::vector<uint8_t>* keep) {
  keep->resize(n);
  const steps::Range r = steps::range_of(s.is_float, s.quantizer.format);
  for (std::size_t i = 0; i < n; ++i) (*keep)[i] = steps::in_range(r, x[i]);
}
}  // namespace

int dynamic_fl(int bits, double max_abs, NumberGroup group, FlRule rule, bool is_signed) {
  const bool param = group == NumberGroup::weights || group == NumberGroup::bias ||
                     rule == FlRule::no_saturation;
  int il = param ? 1 : 0;
  if (max_abs > 0 && std::isfinite(max_abs))
    il = static_cast<int>(std::ceil(std::log2(max_abs) + (param ? 1.0 : 0.0)));
  return bits - il + (is_signed ? 0 : 1);  // unsigned: the sign bit is a fraction bit
}

double ristretto_saturated_share(const numeric::ArrayStats& st) {
  const uint64_t nonzero = st.count - st.zeros - st.nans;
  if (nonzero == 0 || !(st.max_abs > 0) || !std::isfinite(st.max_abs)) return 0;
  const int il = static_cast<int>(std::ceil(std::log2(st.max_abs)));
  uint64_t above = 0;  // floor(log2 |x|) >= il - 1
  for (int b = 0; b < numeric::ArrayStats::kBins; ++b)
    if (b + numeric::ArrayStats::kMinExp >= il - 1) above += st.hist[b];
  return static_cast<double>(above) / static_cast<double>(nonzero);
}

FlRule auto_rule(double top_share, double max_abs, int bits, bool is_signed) {
  if (!(max_abs > 0) || !std::isfinite(max_abs) || !(top_share > 0)) return FlRule::ristretto;
  const double r = std::ldexp(1.0, static_cast<int>(std::ceil(std::log2(max_abs))) - 1);
  const double q = std::ldexp(r, is_signed ? 1 - bits : -bits);
  const double over = max_abs - r;
  const double ristretto = top_share * over * over / 3 + (1 - top_share) * q * q / 12;
  const double no_saturation = 4 * q * q / 12;
  return ristretto > no_saturation ? FlRule::no_saturation : FlRule::ristretto;
}

FlRule concrete_rule(FlRule rule, const numeric::ArrayStats& st, int bits, bool is_signed) {
  if (rule != FlRule::automatic) return rule;
  return auto_rule(ristretto_saturated_share(st), st.max_abs, bits, is_signed);
}

namespace {

/// numeric::quantize_array() (x[i] has element index index0 + i), built for
/// the best instruction set where kernels/cpu is (quantize_cpu.h).
void quantize_span(const numeric::Quantizer& q, const float* x, std::size_t n, uint64_t index0,
                   float* y, uint32_t* codes, GroupStats* st) {
#ifdef RISTSIM_HAVE_EXACT_CPU
  kernels::quantize_array_cpu(q, x, n, index0, y, codes, st);
#else
  numeric::quantize_array(q, x, n, index0, y, codes, st);
#endif
}

void stats_span(const float* x, std::size_t n, GroupStats* st) {
#ifdef RISTSIM_HAVE_EXACT_CPU
  kernels::array_stats_cpu(x, n, st);
#else
  numeric::array_stats(x, n, st);
#endif
}

/// Splits [0, n) into at most num_threads() pieces of at least `grain`
/// elements and runs fn(begin, end, stats of the piece) on them in parallel;
/// the pieces' statistics are merged into *st (sums and maxima: the order
/// does not matter).
template <class Fn>
void over_pieces(std::size_t n, GroupStats* st, const Fn& fn) {
  constexpr std::size_t kGrain = 16384;
  const std::size_t pieces =
      std::min<std::size_t>(num_threads(), std::max<std::size_t>(1, n / kGrain));
  const std::size_t len = (n + pieces - 1) / pieces;
  std::vector<GroupStats> part(pieces);
  parallel_for(pieces, 1, [&](std::size_t p0, std::size_t p1) {
    for (std::size_t p = p0; p < p1; ++p) {
      const std::size_t b = p * len, e = std::min(n, b + len);
      if (b < e) fn(b, e, st ? &part[p] : nullptr);
    }
  });
  if (st)
    for (const GroupStats& p : part) st->merge(p);
}

}  // namespace

LayerQuant::LayerQuant(const config::Arch* arch, const WeightedLayer& layer)
    : arch_(arch), index_(layer.index()) {
  stats_.layer = layer.name();
  if (arch_) {
    formats_ = config::formats_for(*arch_, layer.name());
    check_channels(layer);
  } else {
    mode_ = QuantMode::measure;
  }
}

void LayerQuant::set_mode(QuantMode m) {
  if (m == QuantMode::quantize && !arch_)
    throw std::logic_error("LayerQuant: quantize mode needs an arch");
  mode_ = m;
  w_cache_valid_ = false;
}

void LayerQuant::reset_stats() {
  const std::string name = stats_.layer;
  stats_ = LayerStats{};
  stats_.layer = name;
  w_cache_valid_ = false;
}

void LayerQuant::resolve_dynamic(WeightedLayer& layer, FlRule rule) {
  auto stats_of = [](const Blob* b) {
    GroupStats st;
    if (b) numeric::array_stats(b->data(), b->count(), &st);
    return st;
  };
  auto resolve = [&](config::NumberSpec& s, NumberGroup g, const GroupStats& st) {
    if (!s.dynamic || s.is_float || s.quantizer.format.kind != numeric::FormatKind::fixed) return;
    // signed: auto: unsigned where the analysis saw values and none was negative.
    if (s.signed_auto) s.quantizer.format.is_signed = st.count == 0 || st.negatives > 0;
    const numeric::Format& f = s.quantizer.format;
    s.quantizer.format.fl = dynamic_fl(f.bits, st.max_abs, g,
                                       concrete_rule(rule, st, f.bits, f.is_signed), f.is_signed);
  };
  resolve(formats_.activations, NumberGroup::inputs, stats_[NumberGroup::inputs]);
  resolve(formats_.outputs, NumberGroup::outputs, stats_[NumberGroup::outputs]);
  resolve(formats_.weights, NumberGroup::weights, stats_of(&layer.weights()));
  resolve(formats_.bias, NumberGroup::bias, stats_of(layer.bias()));
  config::NumberSpec& ws = formats_.weights;
  if (ws.per_channel() && ws.dynamic && !ws.is_float &&
      ws.quantizer.format.kind == numeric::FormatKind::fixed) {
    // The same rule, applied to each output channel's weights alone (the signedness stays
    // the layer's); the format's own fl becomes the finest of them.
    const Blob& w = layer.weights();
    const int k = layer.geometry().k;
    const std::size_t per = w.count() / static_cast<std::size_t>(k);
    ws.channel_fl.assign(static_cast<std::size_t>(k), 0);
    for (int c = 0; c < k; ++c) {
      GroupStats st;
      numeric::array_stats(w.data() + per * static_cast<std::size_t>(c), per, &st);
      const numeric::Format& f = ws.quantizer.format;
      ws.channel_fl[c] = dynamic_fl(f.bits, st.max_abs, NumberGroup::weights, rule, f.is_signed);
    }
    ws.quantizer.format.fl = *std::max_element(ws.channel_fl.begin(), ws.channel_fl.end());
  }
  check_channels(layer);
  w_cache_valid_ = false;
}

void LayerQuant::check_channels(const WeightedLayer& layer) const {
  const config::NumberSpec& ws = formats_.weights;
  const std::size_t k = static_cast<std::size_t>(layer.geometry().k);
  if (ws.channel_fl.empty() || ws.channel_fl.size() == k) return;
  throw config::ConfigError(
      arch_ && !arch_->path.empty() ? arch_->path : "the arch", 0, 0,
      "layer '" + layer.name() + "' has " + std::to_string(k) + " output channels, but its " +
          "weights' per-channel fl lists " + std::to_string(ws.channel_fl.size()));
}

void LayerQuant::quantize_channels(const config::NumberSpec& spec, NumberGroup group,
                                   const numeric::Quantizer& q, const float* x, std::size_t n,
                                   float* y, uint32_t* codes, bool count_stats) {
  if (spec.channel_fl.empty() || spec.is_float || mode_ == QuantMode::measure) {
    quantize_tensor(spec, group, q, x, n, y, codes, count_stats);
    return;
  }
  // Channel c is elements [c * per, (c + 1) * per) (OIHW weights; the bias has per = 1),
  // quantized with its own FL; element indices stay the tensor's.
  const std::size_t k = spec.channel_fl.size(), per = n / k;
  std::vector<GroupStats> part(k);
  parallel_for(k, std::max<std::size_t>(1, 16384 / std::max<std::size_t>(per, 1)),
               [&](std::size_t c0, std::size_t c1) {
                 for (std::size_t c = c0; c < c1; ++c) {
                   numeric::Quantizer qc = q;
                   qc.format.fl = spec.channel_fl[c];
                   const std::size_t b = c * per;
                   quantize_span(qc, x + b, per, b, y ? y + b : nullptr, codes ? codes + b : nullptr,
                                 count_stats ? &part[c] : nullptr);
                 }
               });
  if (count_stats)
    for (const GroupStats& p : part) stats_[group].merge(p);
}

void LayerQuant::quantize_tensor(const config::NumberSpec& spec, NumberGroup group,
                                 const numeric::Quantizer& q, const float* x, std::size_t n,
                                 float* y, uint32_t* codes, bool count_stats) {
  const bool pass = spec.is_float || mode_ == QuantMode::measure;
  over_pieces(n, count_stats ? &stats_[group] : nullptr,
              [&](std::size_t b, std::size_t e, GroupStats* st) {
                if (!pass) {
                  quantize_span(q, x + b, e - b, b, y ? y + b : nullptr,
                                codes ? codes + b : nullptr, st);
                  return;
                }
                if (st) stats_span(x + b, e - b, st);
                if (y && y != x) std::memcpy(y + b, x + b, sizeof(float) * (e - b));
              });
}

numeric::Quantizer LayerQuant::group_quantizer(const config::NumberSpec& s, NumberGroup g) const {
  numeric::Quantizer q = s.quantizer;
  q.seed = arch_ ? arch_->seed : 0;
  q.stream = static_cast<uint64_t>(index_) * 4 + static_cast<uint64_t>(g);
  return q;
}

numeric::Quantizer LayerQuant::next_train_weight_quantizer() {
  numeric::Quantizer qw = group_quantizer(formats_.weights, NumberGroup::weights);
  if (train_.stochastic_weights) qw.rounding = numeric::Rounding::stochastic;
  qw.seed = derive_seed(arch_ ? arch_->seed : 0, ++train_steps_);
  return qw;
}

void LayerQuant::forward(WeightedLayer& layer, const float* in, const float* w, const float* b,
                         float* out) {
  const ConvGeometry& g = layer.geometry();
  const detail::GroupSizes sizes = detail::group_sizes(layer, b != nullptr);
  const std::size_t n_in = sizes.in, n_w = sizes.w, n_out = sizes.out, n_b = sizes.b;
  auto quantizer = [&](const config::NumberSpec& s, NumberGroup grp) {
    return group_quantizer(s, grp);
  };

  masks_valid_ = false;
  codes_on_device_ = false;
  const bool mx = mode_ == QuantMode::quantize && (formats_.activations.is_mx || formats_.weights.is_mx);
  if (mx && layer.phase() == Phase::train)
    throw std::runtime_error("layer '" + stats_.layer +
                             "': training with OCP MX formats is not supported (MX archs are "
                             "evaluated without fine-tuning)");
  if (layer.phase() == Phase::train && mode_ == QuantMode::quantize) {
    // Ristretto training: stochastic weights from the shadow copy (or nearest, TrainQuant);
    // inputs and outputs float or quantized as at inference (TrainActivations).
    const numeric::Quantizer qw = next_train_weight_quantizer();
    w_q_.resize(n_w);
    b_q_.resize(n_b);
    quantize_channels(formats_.weights, NumberGroup::weights, qw, w, n_w, w_q_.data(), nullptr,
                      false);
    numeric::Quantizer qb = qw;
    qb.stream = group_quantizer(formats_.weights, NumberGroup::bias).stream;
    if (b)
      quantize_channels(formats_.weights, NumberGroup::bias, qb, b, n_b, b_q_.data(), nullptr,
                        false);
    w_quantized_ = true;
    w_cache_valid_ = false;
    const bool act = train_.activations != TrainActivations::float32;
    const bool clip = train_.activations == TrainActivations::clipped_ste;
    in_quantized_ = act;
    if (act) {
      if (clip) range_mask(formats_.activations, in, n_in, &in_keep_);
      in_q_.resize(n_in);
      quantize_tensor(formats_.activations, NumberGroup::inputs,
                      quantizer(formats_.activations, NumberGroup::inputs), in, n_in, in_q_.data(),
                      nullptr, false);
    }
    layer.compute_forward(act ? in_q_.data() : in, w_q_.data(), b ? b_q_.data() : nullptr, out);
    if (act) {
      if (clip) range_mask(formats_.outputs, out, n_out, &out_keep_);
      quantize_tensor(formats_.outputs, NumberGroup::outputs,
                      quantizer(formats_.outputs, NumberGroup::outputs), out, n_out, out, nullptr,
                      false);
    }
    masks_valid_ = clip;
    return;
  }

  if (mode_ == QuantMode::quantize && arch_->datapath == config::Datapath::exact) {
    forward_exact(layer, in, w, b, out);
    return;
  }

  // Weights and bias: quantized once per distinct set of weights.
  const bool same = w_cache_valid_ && w_cache_src_.size() == n_w + n_b &&
                    std::memcmp(w_cache_src_.data(), w, n_w * sizeof(float)) == 0 &&
                    (n_b == 0 || std::memcmp(w_cache_src_.data() + n_w, b, n_b * sizeof(float)) == 0);
  if (!same) {
    stats_[NumberGroup::weights] = GroupStats{};
    stats_[NumberGroup::bias] = GroupStats{};
    w_q_.resize(n_w);
    b_q_.resize(n_b);
    if (mode_ == QuantMode::quantize && formats_.weights.is_mx) {
      // MX weights: blocks along each output channel's K terms (quant_mx.h); the bias,
      // which has no reduction dimension, takes its own group's format.
      GroupStats& ws = stats_[NumberGroup::weights];
      stats_span(w, n_w, &ws);
      numeric::MxStats ms;
      mx_quantize_rows(formats_.weights.mx, w, std::size_t(g.k), n_w / std::size_t(g.k), w_q_.data(), &ms);
      ws.saturations += ms.saturations;
      ws.nans += ms.nan_blocks;
      if (b)
        quantize_tensor(formats_.bias, NumberGroup::bias, quantizer(formats_.bias, NumberGroup::bias),
                        b, n_b, b_q_.data(), nullptr, true);
    } else {
      // Float datapath: the bias is quantized in the weights' format (Ristretto).
      // Per-channel weights: the bias of channel c in channel c's format.
      quantize_channels(formats_.weights, NumberGroup::weights,
                        quantizer(formats_.weights, NumberGroup::weights), w, n_w, w_q_.data(),
                        nullptr, true);
      numeric::Quantizer qb = quantizer(formats_.weights, NumberGroup::bias);
      if (b)
        quantize_channels(formats_.weights, NumberGroup::bias, qb, b, n_b, b_q_.data(), nullptr,
                          true);
    }
    w_cache_src_.assign(w, w + n_w);
    if (b) w_cache_src_.insert(w_cache_src_.end(), b, b + n_b);
    w_cache_valid_ = true;
  }
  w_quantized_ = true;
  if (mode_ == QuantMode::quantize && formats_.activations.is_mx) {
    // MX activations: each im2col column quantized in blocks along K (quant_mx.h).
    GroupStats& is = stats_[NumberGroup::inputs];
    stats_span(in, n_in, &is);
    numeric::MxStats ms;
    mx_conv_forward(g, formats_.activations.mx, in, w_q_.data(), b ? b_q_.data() : nullptr, out, &ms);
    is.saturations += ms.saturations;
    is.nans += ms.nan_blocks;
    in_quantized_ = false;
  } else {
    in_q_.resize(n_in);
    quantize_tensor(formats_.activations, NumberGroup::inputs,
                    quantizer(formats_.activations, NumberGroup::inputs), in, n_in, in_q_.data(),
                    nullptr, true);
    in_quantized_ = true;
    layer.compute_forward(in_q_.data(), w_q_.data(), b ? b_q_.data() : nullptr, out);
  }
  quantize_tensor(formats_.outputs, NumberGroup::outputs,
                  quantizer(formats_.outputs, NumberGroup::outputs), out, n_out, out, nullptr, true);
}

void LayerQuant::forward_exact(WeightedLayer& layer, const float* in, const float* w,
                               const float* b, float* out) {
#ifdef RISTSIM_HAVE_EXACT_CPU
  const ConvGeometry& g = layer.geometry();
  const detail::GroupSizes sizes = detail::group_sizes(layer, b != nullptr);
  const std::size_t n_in = sizes.in, n_w = sizes.w, n_out = sizes.out, n_b = sizes.b;
  const kernels::ExactLayerSpec spec =
      detail::exact_layer_spec(*this, *arch_, stats_.layer, b != nullptr);
  in_codes_.resize(n_in);
  w_codes_.resize(n_w);
  b_codes_.assign(std::max<std::size_t>(n_b, 1), 0);
  out_codes_.resize(n_out);
  stats_[NumberGroup::weights] = GroupStats{};
  stats_[NumberGroup::bias] = GroupStats{};
  if (b) {
    b_q_.resize(n_b);
    quantize_tensor(formats_.bias, NumberGroup::bias, spec.bias, b, n_b, b_q_.data(),
                    b_codes_.data(), true);
  }
  kernels::ExactStats es;
  if (formats_.activations.is_mx || formats_.weights.is_mx) {
    // MX operands: blocks along K, their scales per row / column (quant_mx.h). The
    // activations' codes depend on the window, so there is no per-tensor input code.
    in_codes_.clear();
    stats_span(in, n_in, &stats_[NumberGroup::inputs]);
    stats_span(w, n_w, &stats_[NumberGroup::weights]);
    numeric::MxStats as, ws;
    try {
      mx_exact_forward(g, formats_.activations, formats_.weights, spec.act, spec.wt, spec.bias,
                       spec.out, spec.acc, spec.lanes, spec.stream, in, w, b_codes_.data(),
                       spec.has_bias, w_codes_.data(), out_codes_.data(), &es.acc_overflows,
                       &es.out_saturations, &es.out_nans, &as, &ws);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error("layer '" + stats_.layer + "': " + e.what());
    }
    stats_[NumberGroup::inputs].saturations += as.saturations;
    stats_[NumberGroup::weights].saturations += ws.saturations;
    in_quantized_ = w_quantized_ = false;  // no float copies of the MX operands
  } else {
    in_codes_.resize(n_in);
    in_q_.resize(n_in);
    w_q_.resize(n_w);
    quantize_tensor(formats_.activations, NumberGroup::inputs, spec.act, in, n_in, in_q_.data(),
                    in_codes_.data(), true);
    quantize_channels(formats_.weights, NumberGroup::weights, spec.wt, w, n_w, w_q_.data(),
                      w_codes_.data(), true);
    kernels::exact_conv_cpu(detail::conv_shape(g), spec, in_codes_.data(), w_codes_.data(),
                            b_codes_.data(), out_codes_.data(), &es);
    in_quantized_ = true;
    w_quantized_ = true;
  }
  GroupStats& os = stats_[NumberGroup::outputs];
  const numeric::Format& of = spec.out.format;
  over_pieces(n_out, &os, [&](std::size_t b, std::size_t e, GroupStats* st) {
    if (of.kind == numeric::FormatKind::fixed && of.is_signed && of.bits <= 32) {
      // decode(): the code's two's complement value (sign-extended in 32 bits)
      // times 2^-FL, exact in a double.
      const double quantum = std::ldexp(1.0, -of.fl);
      const int up = 32 - of.bits;
      const uint32_t* codes = out_codes_.data();
      for (std::size_t i = b; i < e; ++i)
        out[i] = static_cast<float>(
            static_cast<double>(static_cast<int32_t>(codes[i] << up) >> up) * quantum);
    } else {
      for (std::size_t i = b; i < e; ++i)
        out[i] = steps::decode_element(of, out_codes_[i]);
    }
    stats_span(out + b, e - b, st);
  });
  os.saturations += es.out_saturations;
  os.nans += es.out_nans;
  stats_.acc_overflows += es.acc_overflows;
#else
  (void)layer, (void)in, (void)w, (void)b, (void)out;
  throw std::runtime_error("layer '" + stats_.layer +
                           "': the exact datapath needs kernels/cpu (exact_conv_cpu), which this "
                           "build does not have; use an arch with datapath: float");
#endif
}

void LayerQuant::sync_codes() const {
  if (!codes_on_device_) return;
  codes_on_device_ = false;
  const std::pair<const DeviceBuffer*, std::vector<uint32_t>*> pairs[] = {
      {&d_in_codes_, &in_codes_}, {&d_w_codes_, &w_codes_}, {&d_b_codes_, &b_codes_},
      {&d_out_codes_, &out_codes_}};
  for (const auto& [d, h] : pairs) d->download(h->data(), h->size() * sizeof(uint32_t));
}

const std::vector<uint32_t>& LayerQuant::input_codes() const {
  sync_codes();
  return in_codes_;
}
const std::vector<uint32_t>& LayerQuant::weight_codes() const {
  sync_codes();
  return w_codes_;
}
const std::vector<uint32_t>& LayerQuant::bias_codes() const {
  sync_codes();
  return b_codes_;
}
const std::vector<uint32_t>& LayerQuant::output_codes() const {
  sync_codes();
  return out_codes_;
}

const float* LayerQuant::used_input(const float* in) const {
  return in_quantized_ ? in_q_.data() : in;
}
const float* LayerQuant::used_weights(const float* w) const {
  return w_quantized_ ? w_q_.data() : w;
}

void LayerQuant::clip_output_grad(float* top_diff) const {
  if (!masks_valid_) return;
  for (std::size_t i = 0; i < out_keep_.size(); ++i)
    if (!out_keep_[i]) top_diff[i] = 0;
}

void LayerQuant::clip_input_grad(float* bottom_diff) const {
  if (!masks_valid_) return;
  for (std::size_t i = 0; i < in_keep_.size(); ++i)
    if (!in_keep_[i]) bottom_diff[i] = 0;
}

bool exact_datapath_available() {
#ifdef RISTSIM_HAVE_EXACT_CPU
  return true;
#else
  return false;
#endif
}

void attach_measurement(Net& net) {
  for (WeightedLayer* l : net.weighted_layers()) l->set_quant(std::make_shared<LayerQuant>(nullptr, *l));
}

void check_overrides(Net& net, const config::Arch& arch) {
  const std::vector<WeightedLayer*> layers = net.weighted_layers();
  for (const config::LayerOverride& o : arch.overrides) {
    if (std::any_of(layers.begin(), layers.end(),
                    [&](const WeightedLayer* l) { return l->name() == o.layer; }))
      continue;
    std::string names;
    for (const WeightedLayer* l : layers) names += (names.empty() ? "" : ", ") + l->name();
    const std::string net_name = net.spec().name.empty() ? "the model" : "network '" + net.spec().name + "'";
    throw config::ConfigError(arch.path.empty() ? "arch '" + arch.name + "'" : arch.path, 0, 0,
                              "layers." + o.layer + ": " + net_name +
                                  " has no convolution or inner-product layer '" + o.layer +
                                  "' (it has: " + (names.empty() ? "none" : names) + ")");
  }
}

void attach_arch(Net& net, const config::Arch& arch) {
  check_overrides(net, arch);
  for (WeightedLayer* l : net.weighted_layers()) {
    auto q = std::make_shared<LayerQuant>(&arch, *l);
    if (LayerQuant* old = l->quant()) {  // keep the measured ranges for dynamic FLs
      q->set_stats(old->stats());
    }
    q->resolve_dynamic(*l, arch.range_rule);
    q->reset_stats();
    l->set_quant(q);
  }
}

void set_train_quant(Net& net, const TrainQuant& t) {
  for (WeightedLayer* l : net.weighted_layers())
    if (l->quant()) l->quant()->set_train_quant(t);
}

void detach_quantization(Net& net) {
  for (WeightedLayer* l : net.weighted_layers()) l->set_quant(nullptr);
}

std::vector<LayerStats> collect_stats(Net& net) {
  std::vector<LayerStats> v;
  for (WeightedLayer* l : net.weighted_layers())
    if (l->quant()) v.push_back(l->quant()->stats());
  return v;
}

}  // namespace ristsim::engine
