// Quantized Convolution / InnerProduct (float datapath) and the dynamic fixed
// point rule, checked against numeric::quantize applied by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "config/arch_yaml.h"
#include "engine/net.h"
#include "engine/spec.h"
#include "engine/quant.h"
#include "gradient_check.h"
#include "numeric/numeric.h"

#ifdef RISTSIM_HAVE_EXACT_CPU
#include "kernels/reference/exact_layer.h"
#endif

namespace ristsim::testbench {
namespace {

using namespace engine;
using numeric::Format;
using numeric::Quantizer;

TEST(DynamicFixedPoint, ristretto_rule) {
  // weights: IL = ceil(log2(max) + 1); inputs/outputs: IL = ceil(log2(max)); FL = bits - IL.
  EXPECT_EQ(dynamic_fl(8, 0.3, NumberGroup::weights), 8);   // ceil(-0.737) = 0
  EXPECT_EQ(dynamic_fl(8, 1.0, NumberGroup::weights), 7);   // ceil(1) = 1
  EXPECT_EQ(dynamic_fl(8, 1.5, NumberGroup::weights), 6);   // ceil(1.585) = 2
  EXPECT_EQ(dynamic_fl(8, 5.2, NumberGroup::inputs), 5);    // ceil(2.379) = 3
  EXPECT_EQ(dynamic_fl(8, 4.0, NumberGroup::outputs), 6);   // ceil(2) = 2
  EXPECT_EQ(dynamic_fl(16, 0.01, NumberGroup::inputs), 22); // ceil(-6.64) = -6
  EXPECT_EQ(dynamic_fl(8, 0.0, NumberGroup::inputs), 8);
  EXPECT_EQ(dynamic_fl(8, 0.0, NumberGroup::weights), 7);
  EXPECT_EQ(dynamic_fl(8, 5.2, NumberGroup::inputs, FlRule::no_saturation), 4);
  EXPECT_EQ(dynamic_fl(8, 1.0, NumberGroup::outputs, FlRule::no_saturation), 7);
  // Unsigned: the sign bit becomes a fractional bit, the range stays.
  EXPECT_EQ(dynamic_fl(8, 1.0, NumberGroup::inputs, FlRule::no_saturation, false), 8);
  EXPECT_EQ(dynamic_fl(8, 5.2, NumberGroup::inputs, FlRule::ristretto, false), 6);
}

TEST(DynamicFixedPoint, auto_rule_from_the_histogram) {
  // Pixels: 30 of 100 nonzero values >= 0.5, max 1: Ristretto's rule (IL 0, range
  // [-0.5, 0.496]) saturates them: error 0.3 * 0.5^2 / 3 = 0.025, far above the rounding
  // error of either grid at 4 or 8 bits: auto takes no_saturation.
  numeric::ArrayStats pixels;
  for (int i = 0; i < 99; ++i) pixels.add(i < 29 ? 0.75f : 0.1f);
  pixels.add(1.0f);
  for (int i = 0; i < 50; ++i) pixels.add(0.0f);
  EXPECT_DOUBLE_EQ(ristretto_saturated_share(pixels), 0.3);
  for (int bits : {4, 8})
    EXPECT_EQ(concrete_rule(FlRule::automatic, pixels, bits, true), FlRule::no_saturation);
  // A thin tail: 1 of 1000 values in the top binade [2, 4), max 3 (IL 2, R 2): saturation
  // error 0.001 * 1 / 3 = 3.3e-4. At 4 bits (q = R/8 = 0.25) the coarser grid of
  // no_saturation costs 4 q^2 / 12 = 0.0208 against ristretto's 0.0055: ristretto. At 8 bits
  // (q = 1/64) rounding is 256x smaller and the clipping wins: no_saturation.
  numeric::ArrayStats tail;
  tail.add(3.0f);
  for (int i = 0; i < 999; ++i) tail.add(0.4f);
  EXPECT_DOUBLE_EQ(ristretto_saturated_share(tail), 0.001);
  EXPECT_EQ(concrete_rule(FlRule::automatic, tail, 4, true), FlRule::ristretto);
  EXPECT_EQ(concrete_rule(FlRule::automatic, tail, 8, true), FlRule::no_saturation);
  EXPECT_EQ(auto_rule(0.001, 3.0, 4, true), FlRule::ristretto);
  // A given rule is kept; nothing measured: ristretto.
  EXPECT_EQ(concrete_rule(FlRule::ristretto, pixels, 8, true), FlRule::ristretto);
  EXPECT_EQ(concrete_rule(FlRule::no_saturation, tail, 4, true), FlRule::no_saturation);
  EXPECT_EQ(ristretto_saturated_share(numeric::ArrayStats{}), 0.0);
  EXPECT_EQ(concrete_rule(FlRule::automatic, numeric::ArrayStats{}, 8, true), FlRule::ristretto);
}

config::NumberSpec fixed_spec(int bits, int fl, bool dynamic) {
  config::NumberSpec s;
  s.quantizer.format = Format::fixed_point(bits, fl);
  s.dynamic = dynamic;
  return s;
}

// Where an arch meets a model: an override naming no weighted layer is refused (it
// used to be ignored in silence), with the file, the layer and the layers there are.
TEST(QuantizedConv, attach_arch_refuses_an_override_for_no_layer) {
  const char* text = R"(
name: q
input_shape: [2, 5, 5]
layers:
  - {name: conv, type: Convolution, bottom: data, top: conv, num_output: 3, kernel_size: 3}
  - {name: ip, type: InnerProduct, bottom: conv, top: ip, num_output: 4}
)";
  NetOptions o;
  Net net(parse_net_spec(text, "q.yaml"), o);
  config::Arch arch;
  arch.path = "a.yaml";
  arch.formats.activations = arch.formats.weights = arch.formats.bias = arch.formats.outputs =
      fixed_spec(8, 4, false);
  arch.overrides.push_back({});
  arch.overrides[0].layer = "ip";
  EXPECT_NO_THROW(attach_arch(net, arch));
  arch.overrides.push_back({});
  arch.overrides[1].layer = "conv9";
  try {
    attach_arch(net, arch);
    FAIL() << "no exception";
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "a.yaml: layers.conv9: network 'q' has no convolution or inner-product layer "
              "'conv9' (it has: conv, ip)");
  }
}

TEST(QuantizedConv, float_datapath_matches_hand_quantization) {
  const char* text = R"(
name: q
input_shape: [2, 5, 5]
layers:
  - {name: conv, type: Convolution, bottom: data, top: conv, num_output: 3, kernel_size: 3, pad: 1,
     weight_filler: {type: gaussian, std: 0.4}, bias_filler: {type: gaussian, std: 0.3}}
  - {name: ip, type: InnerProduct, bottom: conv, top: ip, num_output: 4, weight_filler: {type: gaussian, std: 0.2}}
)";
  NetOptions o;
  o.batch = 2;
  Net net(parse_net_spec(text, "q.yaml"), o);
  fill_uniform(net.input(), -2, 2, 17);
  config::Arch arch;
  arch.datapath = config::Datapath::float32;
  arch.formats.activations = fixed_spec(8, 4, false);
  arch.formats.weights = fixed_spec(6, 5, false);
  arch.formats.bias = fixed_spec(8, 4, false);
  arch.formats.outputs = fixed_spec(8, 3, false);
  arch.overrides.push_back({});
  arch.overrides[0].layer = "ip";
  arch.overrides[0].has_outputs = true;
  arch.overrides[0].formats.outputs = fixed_spec(10, 5, false);

  // Reference by hand: quantize each operand (stream = layer index * 4 + group).
  auto* conv = net.weighted_layers()[0];
  const Blob& in = net.input();
  auto q = [&](const config::NumberSpec& s, int layer, int group, float x, uint64_t i) {
    Quantizer qz = s.quantizer;
    qz.stream = uint64_t(layer) * 4 + group;
    return float(numeric::quantize(qz, double(x), i).value);
  };
  Blob qin(in.shape()), qw(conv->weights().shape());
  for (std::size_t i = 0; i < in.count(); ++i) qin.data()[i] = q(arch.formats.activations, 0, 0, in.data()[i], i);
  for (std::size_t i = 0; i < qw.count(); ++i) qw.data()[i] = q(arch.formats.weights, 0, 1, conv->weights().data()[i], i);
  std::vector<float> qb(3);
  for (int i = 0; i < 3; ++i) qb[i] = q(arch.formats.weights, 0, 2, conv->bias()->data()[i], i);  // bias in the weights' format
  std::vector<float> ref(2 * 3 * 25);
  conv->compute_forward(qin.data(), qw.data(), qb.data(), ref.data());
  for (std::size_t i = 0; i < ref.size(); ++i) ref[i] = q(arch.formats.outputs, 0, 3, ref[i], i);

  attach_arch(net, arch);
  net.forward();
  const Blob& out = *net.blob("conv");
  for (std::size_t i = 0; i < ref.size(); ++i) ASSERT_EQ(out.data()[i], ref[i]) << "element " << i;
  // Every conv output is on the 2^-3 grid and within fixed<8,3>'s range.
  for (std::size_t i = 0; i < out.count(); ++i) {
    EXPECT_EQ(out.data()[i] * 8, std::round(out.data()[i] * 8));
    EXPECT_LE(std::fabs(out.data()[i]), 16.0f);
  }
  // The ip layer uses its override: outputs on the 2^-5 grid.
  const Blob& ip = *net.blob("ip");
  for (std::size_t i = 0; i < ip.count(); ++i) EXPECT_EQ(ip.data()[i] * 32, std::round(ip.data()[i] * 32));
  const std::vector<LayerStats> st = collect_stats(net);
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0][NumberGroup::inputs].count, in.count());
  EXPECT_EQ(st[0][NumberGroup::weights].count, conv->weights().count());
  uint64_t hist = 0;
  for (uint64_t h : st[0][NumberGroup::inputs].hist) hist += h;
  EXPECT_EQ(hist + st[0][NumberGroup::inputs].zeros, in.count());
  float max_in = 0;
  for (std::size_t i = 0; i < in.count(); ++i) max_in = std::max(max_in, std::fabs(in.data()[i]));
  EXPECT_EQ(st[0][NumberGroup::inputs].max_abs, max_in);
  // fixed<8,4> holds [-8, 7.9375]: inputs in [-2, 2] never saturate; outputs may.
  EXPECT_EQ(st[0][NumberGroup::inputs].saturations, 0u);
}

// Per-channel weights on the float datapath: weight (and bias) element of output channel c on
// channel c's grid 2^-FL(c), quantized with the tensor's element index; FL(c) by the weights'
// rule on channel c alone.
TEST(QuantizedConv, float_datapath_per_channel_weights) {
  const char* text = R"(
name: q
input_shape: [2, 5, 5]
layers:
  - {name: conv, type: Convolution, bottom: data, top: conv, num_output: 3, kernel_size: 3, pad: 1,
     weight_filler: {type: gaussian, std: 0.4}, bias_filler: {type: gaussian, std: 0.3}}
)";
  NetOptions o;
  o.batch = 2;
  Net net(parse_net_spec(text, "q.yaml"), o);
  fill_uniform(net.input(), -2, 2, 17);
  WeightedLayer* conv = net.weighted_layers()[0];
  for (int i = 0; i < 18; ++i) conv->weights().data()[18 + i] *= 0.1f;  // channel 1 small
  config::Arch arch;
  arch.datapath = config::Datapath::float32;
  arch.formats.activations = fixed_spec(8, 4, false);
  arch.formats.weights = fixed_spec(4, 0, true);
  arch.formats.weights.granularity = config::Granularity::channel;
  arch.formats.bias = fixed_spec(8, 4, false);
  arch.formats.outputs = fixed_spec(8, 3, false);
  attach_arch(net, arch);
  const config::NumberSpec& w = conv->quant()->formats().weights;
  ASSERT_EQ(w.channel_fl.size(), 3u);
  std::vector<float> qw(27), qb(3);
  for (int c = 0; c < 3; ++c) {
    float m = 0;
    for (int i = 0; i < 9 * 2; ++i) m = std::max(m, std::fabs(conv->weights().data()[c * 18 + i]));
    EXPECT_EQ(w.channel_fl[c], dynamic_fl(4, m, NumberGroup::weights));
  }
  EXPECT_GE(w.channel_fl[1], w.channel_fl[0] + 2);
  std::vector<float> qwt(conv->weights().count());
  for (std::size_t i = 0; i < qwt.size(); ++i) {
    Quantizer q = w.channel_quantizer(int(i / 18));
    q.stream = 1;
    qwt[i] = float(numeric::quantize(q, double(conv->weights().data()[i]), i).value);
  }
  for (int c = 0; c < 3; ++c) {
    Quantizer q = w.channel_quantizer(c);
    q.stream = 2;
    qb[c] = float(numeric::quantize(q, double(conv->bias()->data()[c]), c).value);
  }
  net.forward();
  const float* used = conv->quant()->used_weights(nullptr);
  for (std::size_t i = 0; i < qwt.size(); ++i) ASSERT_EQ(used[i], qwt[i]) << "weight " << i;
  // The output: the float GEMM of the quantized operands, quantized (as in the test above).
  std::vector<float> qin(net.input().count());
  for (std::size_t i = 0; i < qin.size(); ++i) {
    Quantizer q = arch.formats.activations.quantizer;
    qin[i] = float(numeric::quantize(q, double(net.input().data()[i]), i).value);
  }
  std::vector<float> ref(2 * 3 * 25);
  conv->compute_forward(qin.data(), qwt.data(), qb.data(), ref.data());
  for (std::size_t i = 0; i < ref.size(); ++i) {
    Quantizer q = arch.formats.outputs.quantizer;
    q.stream = 3;
    ASSERT_EQ(net.blob("conv")->data()[i], float(numeric::quantize(q, double(ref[i]), i).value)) << i;
  }
}

TEST(QuantizedConv, dynamic_fl_from_measured_ranges) {
  const char* text = R"(
name: q
input_shape: [1, 4, 4]
layers:
  - {name: conv, type: Convolution, bottom: data, top: conv, num_output: 2, kernel_size: 3,
     weight_filler: {type: uniform, min: -0.7, max: 0.7}}
)";
  Net net(parse_net_spec(text, "q.yaml"), NetOptions{});
  fill_uniform(net.input(), -3, 3, 2);
  net.input().data()[5] = 5.5f;  // max |input| = 5.5 -> IL 3, FL 5
  attach_measurement(net);
  net.forward();
  const float out_max = static_cast<float>(collect_stats(net)[0][NumberGroup::outputs].max_abs);
  config::Arch arch;
  arch.datapath = config::Datapath::float32;
  arch.formats.activations = fixed_spec(8, 0, true);
  arch.formats.weights = fixed_spec(8, 0, true);
  arch.formats.bias = fixed_spec(8, 0, true);
  arch.formats.outputs = fixed_spec(8, 0, true);
  attach_arch(net, arch);
  const LayerQuant& lq = *net.weighted_layers()[0]->quant();
  EXPECT_EQ(lq.formats().activations.quantizer.format.fl, 5);
  float wmax = 0;
  for (std::size_t i = 0; i < net.weighted_layers()[0]->weights().count(); ++i)
    wmax = std::max(wmax, std::fabs(net.weighted_layers()[0]->weights().data()[i]));
  EXPECT_EQ(lq.formats().weights.quantizer.format.fl, dynamic_fl(8, wmax, NumberGroup::weights));
  EXPECT_EQ(lq.formats().outputs.quantizer.format.fl, dynamic_fl(8, out_max, NumberGroup::outputs));
  net.forward();
  // Ristretto's activation rule drops the sign bit from IL: fixed<8,5> holds
  // [-4, 3.97], so the 5.5 saturates and the other inputs (|x| < 3) do not.
  EXPECT_EQ(collect_stats(net)[0][NumberGroup::inputs].saturations, 1u);
  EXPECT_EQ(net.weighted_layers()[0]->quant()->used_input(nullptr)[5], 127.0f / 32);

  // The arch's range_rule no_saturation: inputs IL = ceil(log2 5.5 + 1) = 4, FL 4, fixed<8,4>
  // holds [-8, 7.94]: nothing saturates. Weights keep their rule. The range statistics of the
  // measurement run are gone (attach_arch reset them), so measure again.
  attach_measurement(net);
  net.forward();
  arch.range_rule = config::RangeRule::no_saturation;
  attach_arch(net, arch);
  const LayerQuant& ns = *net.weighted_layers()[0]->quant();
  EXPECT_EQ(ns.formats().activations.quantizer.format.fl, 4);
  EXPECT_EQ(ns.formats().weights.quantizer.format.fl, dynamic_fl(8, wmax, NumberGroup::weights));
  EXPECT_EQ(ns.formats().outputs.quantizer.format.fl,
            dynamic_fl(8, out_max, NumberGroup::outputs) - 1);
  net.forward();
  EXPECT_EQ(collect_stats(net)[0][NumberGroup::inputs].saturations, 0u);
  EXPECT_EQ(net.weighted_layers()[0]->quant()->used_input(nullptr)[5], 5.5f);
}

TEST(QuantizedConv, training_uses_stochastic_weights_and_straight_through_gradients) {
  const char* text = R"(
name: q
input_shape: [1, 4, 4]
layers:
  - {name: ip, type: InnerProduct, bottom: data, top: ip, num_output: 3, weight_filler: {type: uniform, min: -1, max: 1}}
)";
  NetOptions o;
  o.batch = 2;
  o.with_loss = true;
  o.phase = Phase::train;
  Net net(parse_net_spec(text, "q.yaml"), o);
  fill_uniform(net.input(), -1, 1, 4);
  net.label().data()[0] = 0;
  net.label().data()[1] = 2;
  config::Arch arch;
  arch.datapath = config::Datapath::float32;
  arch.formats.activations = fixed_spec(8, 4, false);
  arch.formats.weights = fixed_spec(4, 2, false);
  arch.formats.bias = fixed_spec(8, 4, false);
  arch.formats.outputs = fixed_spec(8, 4, false);
  arch.seed = 99;
  attach_arch(net, arch);
  net.forward();
  const Blob& w = net.weighted_layers()[0]->weights();
  const float* used = net.weighted_layers()[0]->quant()->used_weights(w.data());
  int moved_up = 0;
  for (std::size_t i = 0; i < w.count(); ++i) {
    const float lo = std::floor(w.data()[i] * 4) / 4;  // neighbours on the 2^-2 grid
    ASSERT_TRUE(used[i] == lo || used[i] == lo + 0.25f) << i;
    moved_up += used[i] != lo;
  }
  EXPECT_GT(moved_up, 0);
  EXPECT_LT(moved_up, int(w.count()));
  // Activations stay float in training: input not quantized.
  EXPECT_EQ(net.weighted_layers()[0]->quant()->used_input(net.input().data()), net.input().data());
  net.backward();
  // Straight-through: dW = dY^T X, with the float input.
  const Blob& ip = *net.blob("ip");
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 16; ++j) {
      double g = 0;
      for (int n = 0; n < 2; ++n) g += double(ip.diff()[n * 3 + k]) * net.input().data()[n * 16 + j];
      EXPECT_NEAR(w.diff()[k * 16 + j], g, 1e-6);
    }
}

// Per-channel weights in training: every batch the shadow weights are re-quantized, each output
// channel stochastically onto its own grid (channel 1's weights are 16x smaller: a grid 16x
// finer), the bias on its channel's grid too.
TEST(QuantizedConv, training_requantizes_per_channel_every_batch) {
  const char* text = R"(
name: q
input_shape: [1, 4, 4]
layers:
  - {name: ip, type: InnerProduct, bottom: data, top: ip, num_output: 3, weight_filler: {type: uniform, min: -0.9, max: 0.9},
     bias_filler: {type: uniform, min: -0.9, max: 0.9}}
)";
  NetOptions o;
  o.batch = 2;
  o.with_loss = true;
  o.phase = Phase::train;
  Net net(parse_net_spec(text, "q.yaml"), o);
  fill_uniform(net.input(), -1, 1, 4);
  net.label().data()[0] = 0;
  net.label().data()[1] = 2;
  Blob& w = net.weighted_layers()[0]->weights();
  for (int j = 0; j < 16; ++j) w.data()[16 + j] /= 16;
  w.data()[0] = 0.9f;   // channel 0 max |w| 0.9: IL 1, FL 3 at 4 bits
  w.data()[16] = 0.05f;  // channel 1 max 0.05625 at most: IL -3 or -4, FL 7 or 8
  config::Arch arch;
  arch.datapath = config::Datapath::float32;
  arch.formats.activations = fixed_spec(8, 4, false);
  arch.formats.weights = fixed_spec(4, 0, true);
  arch.formats.weights.granularity = config::Granularity::channel;
  arch.formats.bias = fixed_spec(8, 4, false);
  arch.formats.outputs = fixed_spec(8, 4, false);
  arch.seed = 99;
  attach_arch(net, arch);
  const std::vector<int> fl = net.weighted_layers()[0]->quant()->formats().weights.channel_fl;
  ASSERT_EQ(fl.size(), 3u);
  EXPECT_EQ(fl[0], 3);
  EXPECT_GE(fl[1], 7);
  std::vector<float> first;
  for (int batch = 0; batch < 2; ++batch) {
    net.forward();
    const float* used = net.weighted_layers()[0]->quant()->used_weights(w.data());
    for (std::size_t i = 0; i < w.count(); ++i) {
      const float step = std::ldexp(1.f, -fl[i / 16]);
      const float lo = std::floor(w.data()[i] / step) * step;  // neighbours on the channel's grid
      ASSERT_TRUE(used[i] == lo || used[i] == lo + step || used[i] == 0.875f)
          << "batch " << batch << " weight " << i << " " << w.data()[i] << " -> " << used[i];
    }
    std::vector<float> now(used, used + w.count());
    if (batch == 0) first = now;
    else EXPECT_NE(now, first);  // a new stochastic draw every batch
  }
}

// Training with quantized activations (TrainActivations): inputs and outputs quantized as at
// inference (nearest), and the backward pass straight through (ste) or masked where a value was
// outside its format's range (clipped_ste).
TEST(QuantizedConv, training_with_quantized_activations_ste_and_clipped_ste) {
  const char* text = R"(
name: q
input_shape: [1, 4, 4]
layers:
  - {name: ip1, type: InnerProduct, bottom: data, top: ip1, num_output: 6, weight_filler: {type: uniform, min: -1, max: 1}}
  - {name: ip2, type: InnerProduct, bottom: ip1, top: ip2, num_output: 3, weight_filler: {type: uniform, min: -1, max: 1}}
)";
  config::Arch arch;
  arch.datapath = config::Datapath::float32;
  arch.formats.activations = fixed_spec(4, 3, false);  // [-1, 0.875]: inputs in [-1.5, 1.5] clip
  arch.formats.weights = fixed_spec(6, 4, false);
  arch.formats.bias = fixed_spec(6, 4, false);
  arch.formats.outputs = fixed_spec(6, 3, false);      // [-4, 3.875]
  arch.overrides.push_back({});
  arch.overrides[0].layer = "ip2";
  arch.overrides[0].has_outputs = true;
  arch.overrides[0].formats.outputs.is_float = true;   // the loss sees float scores
  arch.seed = 5;
  auto run = [&](TrainActivations mode, std::vector<float>* ip1_out, std::vector<float>* ip1_diff,
                 std::vector<float>* w1_diff, std::vector<float>* used_in1, std::vector<float>* used_in2) {
    NetOptions o;
    o.batch = 4;
    o.with_loss = true;
    o.phase = Phase::train;
    o.seed = 3;
    Net net(parse_net_spec(text, "q.yaml"), o);
    fill_uniform(net.input(), -1.5f, 1.5f, 8);
    for (int n = 0; n < 4; ++n) net.label().data()[n] = float(n % 3);
    attach_arch(net, arch);
    TrainQuant tq;
    tq.activations = mode;
    set_train_quant(net, tq);
    net.forward();
    net.backward();
    const Blob& y1 = *net.blob("ip1");
    ip1_out->assign(y1.data(), y1.data() + y1.count());
    ip1_diff->assign(y1.diff(), y1.diff() + y1.count());
    const Blob& w1 = net.weighted_layers()[0]->weights();
    w1_diff->assign(w1.diff(), w1.diff() + w1.count());
    const float* u1 = net.weighted_layers()[0]->quant()->used_input(net.input().data());
    used_in1->assign(u1, u1 + net.input().count());
    const float* u2 = net.weighted_layers()[1]->quant()->used_input(y1.data());
    used_in2->assign(u2, u2 + y1.count());
    return std::vector<float>(net.input().data(), net.input().data() + net.input().count());
  };
  std::vector<float> out_s, diff_s, wd_s, in1_s, in2_s, out_c, diff_c, wd_c, in1_c, in2_c;
  const std::vector<float> x = run(TrainActivations::ste, &out_s, &diff_s, &wd_s, &in1_s, &in2_s);
  run(TrainActivations::clipped_ste, &out_c, &diff_c, &wd_c, &in1_c, &in2_c);
  auto q = [](const config::NumberSpec& s, float v) {
    return float(numeric::quantize(s.quantizer, double(v), 0).value);
  };
  // Inputs of ip1: the images quantized to fixed<4,3>, nearest.
  int clipped_in = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(in1_s[i], q(arch.formats.activations, x[i])) << i;
    clipped_in += x[i] > 0.875f || x[i] < -1.0f;
  }
  EXPECT_GT(clipped_in, 0);
  // Outputs of ip1 on the 2^-3 grid within fixed<6,3>; ip2 reads them quantized to fixed<4,3>.
  int kept = 0, masked = 0;
  for (std::size_t i = 0; i < out_s.size(); ++i) {
    EXPECT_EQ(out_s[i] * 8, std::round(out_s[i] * 8)) << i;
    EXPECT_TRUE(out_s[i] >= -4 && out_s[i] <= 3.875f) << i;
    ASSERT_EQ(in2_s[i], q(arch.formats.activations, out_s[i])) << i;
    // The forward pass is the same in both modes; the clipped gradient is the plain one where
    // ip2's input was in [-1, 0.875] (so ip1's output was in its own range too) and 0 elsewhere.
    ASSERT_EQ(out_c[i], out_s[i]) << i;
    const bool in_range = out_s[i] >= -1 && out_s[i] <= 0.875f;
    if (in_range) {
      EXPECT_EQ(diff_c[i], diff_s[i]) << i;
      kept += diff_s[i] != 0;
    } else {
      EXPECT_EQ(diff_c[i], 0.0f) << i;
      masked += diff_s[i] != 0;
    }
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(masked, 0);
  // Straight-through weight gradient of ip1: dW = dY^T Xq with the quantized inputs.
  for (int k = 0; k < 6; ++k)
    for (int j = 0; j < 16; ++j) {
      double g = 0;
      for (int n = 0; n < 4; ++n) g += double(diff_s[n * 6 + k]) * in1_s[n * 16 + j];
      EXPECT_NEAR(wd_s[k * 16 + j], g, 1e-6);  // float GEMM against a double sum of 4 products
    }
  EXPECT_NE(wd_c, wd_s);
}

TEST(QuantizedConv, exact_datapath_without_kernels_is_a_clear_error) {
  if (exact_datapath_available()) GTEST_SKIP() << "kernels/cpu is built in";
  const char* text = "name: q\ninput_shape: [1, 3, 3]\nlayers:\n  - {name: ip, type: InnerProduct, bottom: data, top: ip, num_output: 2}\n";
  Net net(parse_net_spec(text, "q.yaml"), NetOptions{});
  config::Arch arch;
  arch.datapath = config::Datapath::exact;
  arch.formats.activations = fixed_spec(8, 4, false);
  arch.formats.weights = fixed_spec(8, 4, false);
  arch.formats.bias = fixed_spec(8, 4, false);
  arch.formats.outputs = fixed_spec(8, 4, false);
  attach_arch(net, arch);
  try {
    net.forward();
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("exact datapath needs kernels/cpu"), std::string::npos);
  }
}


#ifdef RISTSIM_HAVE_EXACT_CPU

config::Arch exact_arch(int bits_in, int bits_w, int bits_out) {
  config::Arch arch;
  arch.datapath = config::Datapath::exact;
  arch.formats.activations = fixed_spec(bits_in, 0, true);
  arch.formats.weights = fixed_spec(bits_w, 0, true);
  arch.formats.bias = fixed_spec(bits_w, 0, true);
  arch.formats.outputs = fixed_spec(bits_out, 0, true);
  arch.accumulator.bits = 32;
  arch.array.lanes = 16;
  arch.seed = 5;
  return arch;
}

const char* kExactNet = R"(
name: e
input_shape: [3, 8, 8]
layers:
  - {name: conv, type: Convolution, bottom: data, top: conv, num_output: 4, kernel_size: 3, pad: 1, stride: 2,
     group: 1, weight_filler: {type: gaussian, std: 0.3}, bias_filler: {type: gaussian, std: 0.2}}
  - {name: relu, type: ReLU, bottom: conv, top: conv}
  - {name: ip, type: InnerProduct, bottom: conv, top: ip, num_output: 5, weight_filler: {type: gaussian, std: 0.2},
     bias_filler: {type: gaussian, std: 0.1}}
)";

/// The engine's exact path equals kernels::exact_conv_reference on the codes it
/// produced, bit for bit, layer by layer.
void expect_engine_matches_reference(Net& net, const config::Arch& arch) {
  attach_measurement(net);
  net.forward();
  attach_arch(net, arch);
  net.forward();
  for (WeightedLayer* l : net.weighted_layers()) {
    SCOPED_TRACE(l->name());
    const LayerQuant& q = *l->quant();
    const ConvGeometry& g = l->geometry();
    const uint64_t base = uint64_t(l->index()) * 4;
    kernels::ExactLayerSpec spec;
    spec.act = q.formats().activations.quantizer;
    spec.wt = q.formats().weights.quantizer;
    spec.bias = q.formats().bias.quantizer;
    spec.out = q.formats().outputs.quantizer;
    spec.out.seed = arch.seed;
    spec.acc = arch.accumulator;
    spec.lanes = arch.array.lanes;
    spec.stream = base + 3;
    spec.has_bias = true;
    spec.wt_fl = q.formats().weights.channel_fl;  // per-channel weights (empty: one FL)
    const Blob& in = *net.bottoms(l == net.weighted_layers()[0] ? 0 : 2)[0];
    (void)in;
    // Codes from the float operands, as the engine makes them.
    const float* x = l == net.weighted_layers()[0] ? net.input().data() : net.blob("conv")->data();
    const std::size_t n_in = std::size_t(g.n) * g.c * g.h * g.w;
    std::vector<uint32_t> ic(n_in), wc(l->weights().count()), bc(g.k), oc(std::size_t(g.n) * g.k * g.oh * g.ow);
    for (std::size_t i = 0; i < n_in; ++i) ic[i] = uint32_t(numeric::quantize(spec.act, double(x[i]), i).code);
    const std::size_t per = wc.size() / std::size_t(g.k);
    for (std::size_t i = 0; i < wc.size(); ++i) {
      const Quantizer qw = q.formats().weights.channel_quantizer(int(i / per));
      wc[i] = uint32_t(numeric::quantize(qw, double(l->weights().data()[i]), i).code);
    }
    for (int i = 0; i < g.k; ++i) bc[i] = uint32_t(numeric::quantize(spec.bias, double(l->bias()->data()[i]), i).code);
    kernels::ConvShape shape{g.n, g.c, g.h, g.w, g.k, g.kh, g.kw, g.stride_h, g.stride_w, g.pad_h,
                             g.pad_w, g.dil_h, g.dil_w, g.groups, g.oh, g.ow};
    kernels::ExactStats st;
    kernels::exact_conv_reference(shape, spec, ic.data(), wc.data(), bc.data(), oc.data(), &st);
    // The engine's output blob of this layer, before the in-place ReLU: recompute from codes.
    const Blob& out = *net.blob(l->name());
    for (std::size_t i = 0; i < oc.size(); ++i) {
      const float ref = float(numeric::decode(spec.out.format, oc[i]));
      const float got = out.data()[i];
      if (l->name() == "conv") ASSERT_EQ(got, std::max(ref, 0.0f)) << i;  // after the ReLU
      else ASSERT_EQ(got, ref) << i;
    }
  }
}

TEST(ExactDatapath, engine_matches_reference_kernel) {
  NetOptions o;
  o.batch = 2;
  Net net(parse_net_spec(kExactNet, "e.yaml"), o);
  fill_uniform(net.input(), -1, 1, 8);
  expect_engine_matches_reference(net, exact_arch(8, 8, 8));
}

// signed: auto. Inputs in [0, 1] (pixels) and the ip layer's inputs (after the ReLU) are
// never negative: the analysis makes both unsigned, with one fractional bit more than the
// signed rule gives; the conv's outputs (before the ReLU) stay signed. The exact datapath
// multiplies unsigned x signed codes and still equals the reference bit for bit.
TEST(ExactDatapath, signed_auto_makes_nonnegative_inputs_unsigned) {
  NetOptions o;
  o.batch = 2;
  Net net(parse_net_spec(kExactNet, "e.yaml"), o);
  fill_uniform(net.input(), 0, 1, 8);
  config::Arch arch = exact_arch(8, 8, 8);
  arch.formats.activations.signed_auto = true;
  arch.formats.outputs.signed_auto = true;
  arch.range_rule = config::RangeRule::no_saturation;
  expect_engine_matches_reference(net, arch);
  const std::vector<LayerStats> st = collect_stats(net);
  for (WeightedLayer* l : net.weighted_layers()) {
    SCOPED_TRACE(l->name());
    const config::LayerFormats& f = l->quant()->formats();
    EXPECT_FALSE(f.activations.quantizer.format.is_signed);
    EXPECT_TRUE(f.weights.quantizer.format.is_signed);  // not auto
  }
  // The first layer's inputs are the data (the same in both runs): max < 1, so IL 1
  // signed, FL 7 + 1 unsigned: unsigned fixed<8,8>, range [0, 255/256].
  const config::LayerFormats& f0 = net.weighted_layers()[0]->quant()->formats();
  EXPECT_EQ(f0.activations.quantizer.format.fl,
            dynamic_fl(8, st[0][NumberGroup::inputs].max_abs, NumberGroup::inputs,
                       FlRule::no_saturation) + 1);
  EXPECT_EQ(numeric::min_value(f0.activations.quantizer.format), 0.0);
  EXPECT_EQ(st[0][NumberGroup::inputs].negatives, 0u);
  // The conv's outputs are measured before the in-place ReLU: negative, so signed.
  EXPECT_TRUE(f0.outputs.quantizer.format.is_signed);
  EXPECT_GT(st[0][NumberGroup::outputs].negatives, 0u);
}

// signed: false on the outputs: the negative outputs saturate to 0 (a ReLU for free), and the
// engine decodes the unsigned output codes as the reference does, bit for bit.
TEST(ExactDatapath, unsigned_outputs_equal_the_reference) {
  NetOptions o;
  o.batch = 2;
  Net net(parse_net_spec(kExactNet, "e.yaml"), o);
  fill_uniform(net.input(), -1, 1, 9);
  config::Arch arch = exact_arch(8, 8, 8);
  arch.formats.outputs.quantizer.format.is_signed = false;
  expect_engine_matches_reference(net, arch);
  const std::vector<LayerStats> st = collect_stats(net);
  EXPECT_GT(st[0][NumberGroup::outputs].saturations, 0u);  // the negative ones
  EXPECT_GT(st[0][NumberGroup::outputs].max_abs, 0.0);
}

// granularity: channel. Channel 0 of each layer has weights 20x smaller than the others, so the
// per-channel rule gives it about four fractional bits more; each channel's FL is the weights'
// rule on that channel alone, the layer format's fl the finest, and the engine's exact path
// (per-channel F and output shift) equals the reference bit for bit.
TEST(ExactDatapath, per_channel_weights_equal_the_reference) {
  NetOptions o;
  o.batch = 2;
  Net net(parse_net_spec(kExactNet, "e.yaml"), o);
  fill_uniform(net.input(), -1, 1, 10);
  for (WeightedLayer* l : net.weighted_layers()) {
    const std::size_t per = l->weights().count() / std::size_t(l->geometry().k);
    for (std::size_t i = 0; i < per; ++i) l->weights().data()[i] *= 0.05f;
  }
  config::Arch arch = exact_arch(8, 4, 8);
  arch.formats.weights.granularity = config::Granularity::channel;
  expect_engine_matches_reference(net, arch);
  for (WeightedLayer* l : net.weighted_layers()) {
    SCOPED_TRACE(l->name());
    const config::NumberSpec& w = l->quant()->formats().weights;
    const int k = l->geometry().k;
    ASSERT_EQ(w.channel_fl.size(), std::size_t(k));
    const std::size_t per = l->weights().count() / std::size_t(k);
    for (int c = 0; c < k; ++c) {
      float m = 0;
      for (std::size_t i = 0; i < per; ++i)
        m = std::max(m, std::fabs(l->weights().data()[c * per + i]));
      EXPECT_EQ(w.channel_fl[c], dynamic_fl(4, m, NumberGroup::weights)) << "channel " << c;
    }
    EXPECT_EQ(w.quantizer.format.fl, *std::max_element(w.channel_fl.begin(), w.channel_fl.end()));
    EXPECT_GE(w.channel_fl[0] - w.channel_fl[1], 3);  // the small channel: a finer grid
  }
  // The same net with one FL per layer computes other codes (channel 0 collapses to few levels).
  std::vector<float> per_channel(net.blob("ip")->data(), net.blob("ip")->data() + net.blob("ip")->count());
  config::Arch layer_arch = exact_arch(8, 4, 8);
  attach_measurement(net);
  net.forward();
  attach_arch(net, layer_arch);
  net.forward();
  EXPECT_NE(per_channel, std::vector<float>(net.blob("ip")->data(),
                                            net.blob("ip")->data() + net.blob("ip")->count()));
}

// An arch that lists static per-channel FLs must list one per output channel of the layer.
TEST(ExactDatapath, per_channel_fl_list_of_the_wrong_length_is_refused) {
  Net net(parse_net_spec(kExactNet, "e.yaml"), NetOptions{});
  config::Arch arch = exact_arch(8, 4, 8);
  arch.path = "c.yaml";
  arch.formats.weights.granularity = config::Granularity::channel;
  arch.formats.weights.channel_fl = {3, 4, 5};  // conv has 4 channels
  try {
    attach_arch(net, arch);
    FAIL() << "no exception";
  } catch (const config::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("c.yaml"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("4 output channels"), std::string::npos) << e.what();
  }
}

/// With fixed point, auto accumulator FL and no overflow, the float datapath's
/// float32 sums are exact here (few short products), so both datapaths give the
/// same bits (bias in the weights' format for both).
TEST(ExactDatapath, equals_float_datapath_when_float_sums_are_exact) {
  NetOptions o;
  o.batch = 2;
  Net a(parse_net_spec(kExactNet, "e.yaml"), o), b(parse_net_spec(kExactNet, "e.yaml"), o);
  fill_uniform(a.input(), -1, 1, 9);
  std::copy(a.input().data(), a.input().data() + a.input().count(), b.input().data());
  config::Arch ex = exact_arch(6, 6, 8);
  ex.formats.activations.dynamic = ex.formats.weights.dynamic = ex.formats.bias.dynamic = ex.formats.outputs.dynamic = false;
  ex.formats.activations.quantizer.format.fl = 4;
  ex.formats.weights.quantizer.format.fl = 5;
  ex.formats.bias.quantizer.format.fl = 5;
  ex.formats.outputs.quantizer.format.fl = 4;
  config::Arch fl = ex;
  fl.datapath = config::Datapath::float32;
  attach_arch(a, ex);
  attach_arch(b, fl);
  a.forward();
  b.forward();
  ASSERT_EQ(a.output().count(), b.output().count());
  for (std::size_t i = 0; i < a.output().count(); ++i) ASSERT_EQ(a.output().data()[i], b.output().data()[i]) << i;
  EXPECT_EQ(collect_stats(a)[0].acc_overflows, 0u);
}
#endif

}  // namespace
}  // namespace ristsim::testbench
