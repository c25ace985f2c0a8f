// Unit tests of the quantization flow (sim/flow): range analysis values, the format rules on
// known maxima, the arch a plan makes (and that it reads back), the category search on a
// synthetic case whose answer is known, and fine-tuning that resumes from a checkpoint with
// the same bits as an uninterrupted run. Tiny nets on a few in-memory images: fast.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "config/arch_yaml.h"
#include "engine/math.h"
#include "engine/spec.h"
#include "engine/quant.h"
#include "engine/train.h"
#include "flow/finetune.h"
#include "flow/flow.h"
#include "io/onnx_export.h"

namespace fs = std::filesystem;
using namespace ristsim;

namespace {

/// One InnerProduct from 2x1x1 inputs to 2 classes.
const char* kTinyFc = R"(name: tiny_fc
input: data
input_shape: [2, 1, 1]
classes: 2
output: ip
layers:
  - name: ip
    type: InnerProduct
    bottom: data
    top: ip
    num_output: 2
)";

/// A small conv net on 1x8x8 images, 3 classes.
const char* kTinyConv = R"(name: tiny_conv
input: data
input_shape: [1, 8, 8]
classes: 3
output: ip
layers:
  - name: conv
    type: Convolution
    bottom: data
    top: conv
    num_output: 4
    kernel_size: 3
    weight_filler: {type: xavier}
  - name: relu
    type: ReLU
    bottom: conv
    top: conv
  - name: ip
    type: InnerProduct
    bottom: conv
    top: ip
    num_output: 3
    weight_filler: {type: xavier}
)";

std::unique_ptr<engine::Net> make_net(const char* yaml, int batch, bool loss, uint64_t seed = 1) {
  engine::NetOptions o;
  o.batch = batch;
  o.with_loss = loss;
  o.phase = loss ? engine::Phase::train : engine::Phase::test;
  o.seed = seed;
  return std::make_unique<engine::Net>(engine::parse_net_spec(yaml, "test"), o);
}

struct Data {
  std::vector<float> images;
  std::vector<int32_t> labels;
  engine::Samples s;
};

}  // namespace

TEST(FlowRules, dynamic_fixed_il) {
  // 8 bits, weights max 0.3: IL = ceil(log2 0.3 + 1) = ceil(-0.74) = 0, FL = 8.
  EXPECT_EQ(flow::dynamic_fixed_format(8, 0.3, true).fl, 8);
  // Activations max 5.2: IL = ceil(log2 5.2) = 3, FL = 5.
  EXPECT_EQ(flow::dynamic_fixed_format(8, 5.2, false).fl, 5);
  // A power of two: weights max 1.0 -> IL 1; activations max 4.0 -> IL 2.
  EXPECT_EQ(flow::dynamic_fixed_format(4, 1.0, true).fl, 3);
  EXPECT_EQ(flow::dynamic_fixed_format(4, 4.0, false).fl, 2);
  EXPECT_EQ(flow::dynamic_fixed_format(16, 0.0, true).fl, 15);
}

TEST(FlowRules, minifloat_exp_bits) {
  // max 480: log2(480) = 8.91; log2(7.91) + 1 = 3.98 -> 4 exponent bits, 3 mantissa bits.
  EXPECT_EQ(flow::minifloat_exp_bits(480, 8), 4);
  const numeric::Format f = flow::minifloat_format(8, 480);
  EXPECT_EQ(f.exp_bits, 4);
  EXPECT_EQ(f.mant_bits, 3);
  EXPECT_EQ(f.bias, 7);
  EXPECT_EQ(numeric::max_value(f), 480.0);  // no saturation at the measured max
  // Weights with max 0.63 in the same E: bias 15 - floor(log2 0.63) = 16, largest value
  // 2^-1 * 1.875 = 0.9375, smallest normal 2^-15 (the default bias would flush them to 0).
  const numeric::Format w = flow::minifloat_format(8, 480, 0.63);
  EXPECT_EQ(w.bias, 16);
  EXPECT_EQ(numeric::max_value(w), 0.9375);
  // max 20: log2(20) - 1 = 3.32; log2(3.32) + 1 = 2.73 -> 3.
  EXPECT_EQ(flow::minifloat_exp_bits(20, 8), 3);
  // max 3 (log2 - 1 <= 1) and max 0: the minimum, 2.
  EXPECT_EQ(flow::minifloat_exp_bits(3, 8), 2);
  EXPECT_EQ(flow::minifloat_exp_bits(0, 8), 2);
  // max 1e6: log2 = 19.93; log2(18.93) + 1 = 5.24 -> 6; clamped to bits - 1 for 5 bits.
  EXPECT_EQ(flow::minifloat_exp_bits(1e6, 16), 6);
  EXPECT_EQ(flow::minifloat_exp_bits(1e6, 5), 4);
}

TEST(FlowRules, pow2_exponent_range) {
  // max |w| 0.3: exp_max = ceil(log2 0.3) = -1; 4 bits: 8 exponents -8..-1.
  numeric::Format f = flow::pow2_format(4, 0.3);
  EXPECT_EQ(f.exp_max, -1);
  EXPECT_EQ(f.exp_min(), -8);
  EXPECT_FALSE(f.zero_code);
  f = flow::pow2_format(4, 1.0);
  EXPECT_EQ(f.exp_max, 0);
  f = flow::pow2_format(5, 0.06);  // log2 0.06 = -4.06 -> -4; 16 exponents -19..-4
  EXPECT_EQ(f.exp_max, -4);
  EXPECT_EQ(f.exp_min(), -19);
}

TEST(FlowRanges, max_abs_over_the_first_images) {
  auto net = make_net(kTinyFc, 2, false);
  engine::WeightedLayer* ip = net->weighted_layers().at(0);
  for (std::size_t i = 0; i < ip->weights().count(); ++i) ip->weights().data()[i] = 0.5f;
  ip->weights().data()[1] = -0.75f;  // row 0: 0.5 x0 - 0.75 x1
  for (std::size_t i = 0; i < ip->bias()->count(); ++i) ip->bias()->data()[i] = 0.25f;
  // Image i is (0.1 i, -0.2 i); the 4th is much larger and outside the analysis.
  Data d;
  for (int i = 0; i < 4; ++i) {
    const float s = i == 3 ? 100.f : float(i);
    d.images.push_back(0.1f * s);
    d.images.push_back(-0.2f * s);
    d.labels.push_back(0);
  }
  d.s = {4, 2, 1, 1, 2, d.images.data(), d.labels.data()};
  const std::vector<flow::LayerRange> r = flow::analyze_ranges(*net, d.s, 3, 2);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].name, "ip");
  EXPECT_TRUE(r[0].fc);
  EXPECT_EQ(r[0].w_max, 0.75);
  EXPECT_EQ(r[0].b_max, 0.25);
  EXPECT_EQ(r[0].in_max, double(-0.2f * 2.f) * -1);  // |x1| of image 2
  // Outputs of image 2: 0.5*0.2 - 0.75*(-0.4) + 0.25 = 0.65 and 0.5*0.2 + 0.5*(-0.4) + 0.25 = 0.15.
  const float x0 = 0.1f * 2, x1 = -0.2f * 2;
  EXPECT_FLOAT_EQ(r[0].out_max, 0.5f * x0 - 0.75f * x1 + 0.25f);  // float GEMM: rounding only
  EXPECT_EQ(r[0].n_w, 4);
  EXPECT_EQ(r[0].n_b, 2);
  EXPECT_EQ(r[0].n_in, 2);
  EXPECT_EQ(r[0].n_out, 2);
  // The net is left without quantization.
  EXPECT_EQ(ip->quant(), nullptr);
}

TEST(FlowArch, plan_arch_reads_back_through_the_loader) {
  std::vector<flow::LayerRange> ranges(2);
  ranges[0] = {"conv1", false, 0.3, 0.1, 1.0, 5.2, 500, 20, 784, 11520};
  ranges[1] = {"ip1", true, 0.06, 0.02, 5.2, 12.0, 5000, 10, 500, 10};
  const flow::Plan p = flow::category_plan(flow::Family::dynamic_fixed, ranges, 8, 4, 6);
  const config::Arch a = flow::plan_arch(p, ranges, "t", 7);
  const config::Arch b = config::parse_arch(flow::arch_yaml(a, "comment\nlines"), "gen.yaml");
  EXPECT_EQ(b.datapath, config::Datapath::float32);
  EXPECT_EQ(b.seed, 7u);
  ASSERT_EQ(b.overrides.size(), 2u);
  for (const char* layer : {"conv1", "ip1"}) {
    const config::LayerFormats fa = config::formats_for(a, layer), fb = config::formats_for(b, layer);
    EXPECT_EQ(flow::spec_string(fa.weights), flow::spec_string(fb.weights)) << layer;
    EXPECT_EQ(flow::spec_string(fa.activations), flow::spec_string(fb.activations)) << layer;
    EXPECT_EQ(flow::spec_string(fa.outputs), flow::spec_string(fb.outputs)) << layer;
  }
  // conv1: 8-bit weights max 0.3 -> fixed<8,8>; 6-bit inputs max 1.0 -> IL 0 -> fixed<6,6>;
  // outputs max 5.2 -> IL 3 -> fixed<6,3>. ip1: 4-bit weights max 0.06 -> IL -3 -> fixed<4,7>.
  EXPECT_EQ(flow::spec_string(config::formats_for(b, "conv1").weights), "fixed<8,8>");
  EXPECT_EQ(flow::spec_string(config::formats_for(b, "conv1").activations), "fixed<6,6>");
  EXPECT_EQ(flow::spec_string(config::formats_for(b, "conv1").outputs), "fixed<6,3>");
  EXPECT_EQ(flow::spec_string(config::formats_for(b, "ip1").weights), "fixed<4,7>");
  EXPECT_EQ(flow::spec_string(config::formats_for(b, "ip1").bias), "fixed<4,7>");
  // Costs: conv1 520 params x 8 bits, ip1 5010 x 4 bits.
  const flow::Cost c = flow::plan_cost(p, ranges);
  EXPECT_EQ(c.params, 5530);
  EXPECT_EQ(c.param_bits, 520.0 * 8 + 5010.0 * 4);
  EXPECT_EQ(c.act_bits, 6.0 * (784 + 11520) + 6.0 * (500 + 10));
  // Minifloat and pow2 plans read back too.
  for (flow::Family f : {flow::Family::minifloat, flow::Family::pow2, flow::Family::fixed}) {
    const flow::Plan q = flow::category_plan(f, ranges, 8, 4, 8);
    EXPECT_NO_THROW(config::parse_arch(flow::arch_yaml(flow::plan_arch(q, ranges, "t", 1), ""), "g"))
        << flow::to_string(f);
  }
}

// --range-rule auto and --unsigned-act auto: each group takes the rule its data needs
// (flow::group_rule, from the analysed share) and is unsigned where it was never negative, with
// the sign bit spent on one more fractional bit; the arch reads back with `signed: false`.
TEST(FlowArch, auto_rule_and_unsigned_activations) {
  std::vector<flow::LayerRange> ranges(2);
  ranges[0] = {"conv1", false, 0.3, 0.1, 1.0, 5.2, 500, 20, 784, 11520};
  ranges[1] = {"ip1", true, 0.06, 0.02, 5.2, 12.0, 5000, 10, 500, 10};
  ranges[0].in_nonneg = true;  // pixels, a third of them above 0.5
  ranges[0].in_share = 0.3;
  ranges[1].in_nonneg = true;  // after a ReLU, a thin tail
  ranges[1].in_share = 1e-5;
  const flow::Plan p = flow::category_plan(flow::Family::dynamic_fixed, ranges, 8, 4, 6,
                                           config::RangeRule::automatic, true);
  const config::Arch a = flow::plan_arch(p, ranges, "t", 7);
  const std::string yaml = flow::arch_yaml(a, "");
  EXPECT_NE(yaml.find("signed: false"), std::string::npos);
  const config::Arch b = config::parse_arch(yaml, "gen.yaml");
  // conv1 inputs: max 1.0, no_saturation IL 1, FL 5 signed -> unsigned FL 6, [0, 63/64].
  EXPECT_EQ(flow::spec_string(config::formats_for(b, "conv1").activations), "ufixed<6,6>");
  EXPECT_FALSE(config::formats_for(b, "conv1").activations.quantizer.format.is_signed);
  // ip1 inputs: max 5.2, ristretto IL 3, FL 3 -> unsigned FL 4.
  EXPECT_EQ(flow::spec_string(config::formats_for(b, "ip1").activations), "ufixed<6,4>");
  // Outputs were negative somewhere: signed, ristretto (the default data rule).
  EXPECT_EQ(flow::spec_string(config::formats_for(b, "conv1").outputs), "fixed<6,3>");
  // Without --unsigned-act the same plan is signed throughout.
  const flow::Plan s = flow::category_plan(flow::Family::dynamic_fixed, ranges, 8, 4, 6,
                                           config::RangeRule::automatic, false);
  EXPECT_EQ(flow::spec_string(config::formats_for(flow::plan_arch(s, ranges, "t", 7), "conv1")
                                  .activations),
            "fixed<6,5>");
}

namespace {
/// kTinyFc as the identity classifier (weights the unit matrix, no bias) of 20 images,
/// (0.6, 0.4) as class 0 and (0.4, 0.6) as class 1.
std::unique_ptr<engine::Net> identity_classifier(Data* d) {
  auto net = make_net(kTinyFc, 10, false);
  engine::WeightedLayer* ip = net->weighted_layers().at(0);
  const float w[4] = {1, 0, 0, 1};
  std::memcpy(ip->weights().data(), w, sizeof w);
  ip->bias()->data()[0] = ip->bias()->data()[1] = 0;
  for (int i = 0; i < 20; ++i) {
    const bool one = i % 2;
    d->images.push_back(one ? 0.4f : 0.6f);
    d->images.push_back(one ? 0.6f : 0.4f);
    d->labels.push_back(one);
  }
  d->s = {20, 2, 1, 1, 2, d->images.data(), d->labels.data()};
  return net;
}
}  // namespace

TEST(FlowSearch, category_picks_the_smallest_width_within_the_margin) {
  // Identity classifier of (0.5 + d, 0.5 - d) against its mirror, d = 0.1. Activations
  // (inputs max 0.6: IL 0, FL = bits): at 4 bits 0.6 -> 0.625 and 0.4 -> 0.375 stay apart;
  // at 2 bits both become 0.5, a tie that goes to class 0: half the images are wrong. FC
  // weights 1.0 (IL 1): at 2 bits 1 saturates to 0.5, still a perfect classifier; at 1 bit
  // the only values are -1 and 0: every score is 0.
  Data d;
  auto net = identity_classifier(&d);
  flow::Scorer scorer(*net, flow::analyze_ranges(*net, d.s, 20, 10), d.s, 10, 1);
  flow::SearchOptions o;
  o.margin = 0.01;
  const flow::SearchResult r = flow::search_category(scorer, d.s, o);
  EXPECT_EQ(r.baseline_test, 1.0);
  ASSERT_EQ(r.plan.layers.size(), 1u);
  EXPECT_EQ(r.plan.layers[0].weights, 2);
  EXPECT_EQ(r.plan.layers[0].act, 4);
  EXPECT_EQ(r.quantized_test, 1.0);
  EXPECT_TRUE(r.met);
  EXPECT_TRUE(r.notes.empty());
  // The sweep: fc 16/8/4/2 ok, 1 not; act 16/8/4 ok, 2 and 1 at 50 %.
  int act2 = -1;
  for (std::size_t i = 0; i < r.sweep.size(); ++i)
    if (r.sweep[i].what == "act" && r.sweep[i].bits == 2) act2 = int(i);
  ASSERT_GE(act2, 0);
  EXPECT_EQ(r.sweep[act2].top1, 0.5);
  EXPECT_FALSE(r.sweep[act2].ok);
  EXPECT_EQ(r.sweep.size(), 10u);  // no conv layer: 5 fc + 5 act
  // With a 60-point margin 2 and 1 bits (50 %) are acceptable: the smallest, 1, is chosen.
  o.margin = 0.6;
  EXPECT_EQ(flow::search_category(scorer, d.s, o).plan.layers[0].act, 1);
  // Widths given for every category: scored, not searched; 2-bit activations miss a 1-point
  // margin and the result says so.
  o.margin = 0.01;
  o.fixed_conv = 0, o.fixed_fc = 8, o.fixed_act = 2;
  const flow::SearchResult g = flow::evaluate_fixed(scorer, d.s, o);
  EXPECT_EQ(g.quantized_test, 0.5);
  EXPECT_FALSE(g.met);
  EXPECT_EQ(g.notes.size(), 1u);
  // Per layer: the greedy search ends at the same widths (the two units are independent here),
  // and every accepted step was a whole-network evaluation within the margin.
  o.fixed_conv = o.fixed_fc = o.fixed_act = -1;
  const flow::SearchResult l = flow::search_layer(scorer, d.s, o);
  EXPECT_EQ(l.plan.layers[0].weights, 2);
  EXPECT_EQ(l.plan.layers[0].act, 4);
  EXPECT_TRUE(l.met);
  EXPECT_EQ(l.quantized_test, 1.0);
  EXPECT_EQ(l.notes.front(), "the layer search minimised bits stored and moved");
  // A given cost: only the weights' width costs anything, so the activations
  // never move from their widest width.
  o.cost = [](const flow::Plan& p) { return double(p.layers[0].weights); };
  o.cost_name = "weight bits";
  const flow::SearchResult wc = flow::search_layer(scorer, d.s, o);
  EXPECT_EQ(wc.plan.layers[0].weights, 2);
  EXPECT_EQ(wc.plan.layers[0].act, 16);
  EXPECT_EQ(wc.notes.front(), "the layer search minimised weight bits");
}

TEST(FlowSearch, fl_search_moves_the_fractional_length_that_separates_the_classes) {
  // The identity classifier of the test above with 2-bit activations: Ristretto's rule gives
  // the inputs (max 0.6, IL 0) fixed<2,2>, whose largest value is 0.25: 0.6 and 0.4 both
  // saturate there, a tie that costs half the images. FL 0 (values -2..1) rounds 0.6 to 1 and
  // 0.4 to 0: the classes separate again. The outputs (the inputs passed through) keep their
  // FL: 1 and 0 saturate to 0.25 and 0, still apart.
  Data d;
  auto net = identity_classifier(&d);
  flow::Scorer scorer(*net, flow::analyze_ranges(*net, d.s, 20, 10), d.s, 10, 1);
  flow::SearchOptions o;
  o.fixed_conv = 0, o.fixed_fc = 8, o.fixed_act = 2;
  const flow::SearchResult rule = flow::evaluate_fixed(scorer, d.s, o);
  EXPECT_EQ(rule.quantized_test, 0.5);
  EXPECT_FALSE(rule.fl_searched);
  o.fl_search = true;
  const flow::SearchResult r = flow::evaluate_fixed(scorer, d.s, o);
  EXPECT_TRUE(r.fl_searched);
  EXPECT_EQ(r.quantized_search, 1.0);
  EXPECT_EQ(r.quantized_test, 1.0);
  EXPECT_TRUE(r.met);
  ASSERT_EQ(r.plan.layers.size(), 1u);
  EXPECT_EQ(r.plan.layers[0].fl_in, -2);
  EXPECT_EQ(r.plan.layers[0].fl_out, 0);
  EXPECT_EQ(r.plan.layers[0].fl_w, 0);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_EQ(r.notes[0], "FL search: ip inputs fixed<2,2> -> fixed<2,0>");
  const config::Arch a = flow::plan_arch(r.plan, scorer.ranges(), "t", 1);
  EXPECT_EQ(flow::spec_string(config::formats_for(a, "ip").activations), "fixed<2,0>");
  EXPECT_EQ(flow::spec_string(config::formats_for(a, "ip").outputs), "fixed<2,2>");
  // A given FL is kept: the search leaves ip's inputs at fixed<2,1>, where 0.6 and 0.4 both
  // round to 0.5 and tie again.
  o.set_fl = {flow::parse_fl_setting("ip.inputs=1")};
  const flow::SearchResult g = flow::evaluate_fixed(scorer, d.s, o);
  EXPECT_EQ(g.plan.layers[0].fl_in, -1);
  EXPECT_EQ(g.quantized_test, 0.5);
  ASSERT_FALSE(g.notes.empty());
  EXPECT_EQ(g.notes[0], "FL given: ip inputs fixed<2,2> -> fixed<2,1>");
  o.set_fl = {flow::parse_fl_setting("nope.outputs=1")};
  EXPECT_THROW(flow::evaluate_fixed(scorer, d.s, o), flow::FlowError);
  for (const char* bad : {"ip.bias=1", "ip.inputs=x", "ip.inputs=1x", "inputs=1", "ip.inputs", ".inputs=2"})
    EXPECT_THROW(flow::parse_fl_setting(bad), flow::FlowError) << bad;
  const flow::FlSetting fs = flow::parse_fl_setting("conv.2.weights=-3");  // dots in layer names
  EXPECT_EQ(fs.layer, "conv.2");
  EXPECT_EQ(fs.which, 0);
  EXPECT_EQ(fs.fl, -3);
  // A weight shift moves the bias with the weights (they share a format on the float datapath).
  flow::Plan p = r.plan;
  p.layers[0].fl_w = 1;
  const config::Arch b = flow::plan_arch(p, scorer.ranges(), "t", 1);
  EXPECT_EQ(flow::spec_string(config::formats_for(b, "ip").weights), "fixed<8,8>");  // IL 1: 7, +1
  EXPECT_EQ(flow::spec_string(config::formats_for(b, "ip").bias), "fixed<8,8>");
}

namespace {
Data conv_data(int n, uint64_t seed) {
  Data d;
  engine::Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    const int label = i % 3;
    for (int p = 0; p < 64; ++p) {
      const int y = p / 8;
      const float base = (label == 0 && y < 3) || (label == 1 && y >= 5) ? 0.8f : 0.1f;
      d.images.push_back(base + 0.2f * rng.uniform());
    }
    d.labels.push_back(label);
  }
  d.s = {n, 1, 8, 8, 3, d.images.data(), d.labels.data()};
  return d;
}

std::vector<float> params_of(engine::Net& net) {
  std::vector<float> v;
  for (const engine::ParamRef& p : net.params())
    v.insert(v.end(), p.param->blob->data(), p.param->blob->data() + p.param->blob->count());
  return v;
}
}  // namespace

namespace {
/// The fine-tuning case of the resume tests: tiny conv net, 4-bit weights, 8-bit activations
/// quantized while training (clipped straight-through), Adam, 6 batches per epoch.
struct FinetuneCase {
  Data train = conv_data(96, 11), test = conv_data(30, 12);
  config::Arch arch;
  flow::FinetuneConfig fc;
  fs::path root;
  FinetuneCase() {
    auto probe = make_net(kTinyConv, 16, true);
    const std::vector<flow::LayerRange> ranges = flow::analyze_ranges(*probe, train.s, 32, 16);
    arch = flow::plan_arch(flow::category_plan(flow::Family::dynamic_fixed, ranges, 4, 4, 8), ranges, "t", 3);
    root = fs::temp_directory_path() / ("ristsim_flow_test_" + std::to_string(::getpid()));
    fs::remove_all(root);
    fc.solver = engine::SolverType::adam;
    fc.lr = 1e-2f;
    fc.epochs = 3;
    fc.batch = 16;
    fc.seed = 5;
    fc.activations = engine::TrainActivations::clipped_ste;
    fc.checkpoint_every = 2;  // checkpoints after batches 2 and 4 and at every epoch's end
  }
  ~FinetuneCase() { fs::remove_all(root); }
  /// A fresh net (a new process) fine-tuned with `c`.
  std::vector<float> run(const flow::FinetuneConfig& c, flow::FinetuneResult* r) {
    auto net = make_net(kTinyConv, 16, true);
    *r = flow::finetune(*net, arch, train.s, &test.s, c);
    return params_of(*net);
  }
};
}  // namespace

TEST(FlowFinetune, resume_gives_the_same_bits_as_an_uninterrupted_run) {
  FinetuneCase t;
  flow::FinetuneConfig fc = t.fc;
  flow::FinetuneResult ra, rb1, rb2, rc;
  fc.checkpoint_dir = (t.root / "a").string();
  const std::vector<float> initial = params_of(*make_net(kTinyConv, 16, true));
  const std::vector<float> pa = t.run(fc, &ra);
  EXPECT_TRUE(ra.finished);
  ASSERT_EQ(ra.epochs.size(), 3u);
  EXPECT_NE(pa, initial);

  // Stopped after its second checkpoint (epoch 1, batch 4 of 6: mid-epoch, Adam's moments and
  // the shuffle position in the state), then resumed by a fresh net. A killed write leaves a
  // temporary file behind, which the resume ignores.
  fc.checkpoint_dir = (t.root / "b").string();
  fc.stop_after = 2;
  t.run(fc, &rb1);
  EXPECT_FALSE(rb1.finished);
  EXPECT_TRUE(rb1.epochs.empty());
  EXPECT_TRUE(fs::exists(t.root / "b" / "state.txt"));
  EXPECT_FALSE(fs::exists(t.root / "b" / "state.txt.tmp"));
  EXPECT_TRUE(fs::exists(t.root / "b" / "ckpt-4.state"));
  EXPECT_FALSE(fs::exists(t.root / "b" / "ckpt-2.state"));  // the older one is removed
  std::ofstream(t.root / "b" / "ckpt-6.rstw.tmp") << "half a weight file";
  fc.stop_after = -1;
  fc.resume = true;
  const std::vector<float> pb = t.run(fc, &rb2);
  EXPECT_EQ(rb2.resumed_from, 0);
  EXPECT_EQ(rb2.resumed_batch, 4);
  EXPECT_TRUE(rb2.finished);
  // The quantized top-1 before fine-tuning comes with the checkpoint (the report needs it).
  EXPECT_GT(ra.before_top1, 0);
  EXPECT_EQ(rb2.before_top1, ra.before_top1);
  ASSERT_EQ(pa.size(), pb.size());
  EXPECT_EQ(std::memcmp(pa.data(), pb.data(), pa.size() * sizeof(float)), 0);
  EXPECT_EQ(ra.after_top1, rb2.after_top1);
  ASSERT_EQ(rb2.epochs.size(), 3u);  // the resumed epoch 1, then 2 and 3
  EXPECT_EQ(ra.epochs[0].train_loss, rb2.epochs[0].train_loss);

  // Resuming at an epoch's end (after epoch 2) gives the same bits too.
  fc.checkpoint_dir = (t.root / "d").string();
  fc.resume = false;
  fc.stop_after = 6;  // checkpoints 2, 4, end of 1, 8, 10, end of 2
  t.run(fc, &rc);
  fc.resume = true;
  fc.stop_after = -1;
  EXPECT_EQ(t.run(fc, &rc), pa);
  EXPECT_EQ(rc.resumed_from, 2);
  EXPECT_EQ(rc.resumed_batch, 0);

  // A different seed gives different bits; so do float activations.
  fc.checkpoint_dir.clear();
  fc.resume = false;
  fc.seed = 6;
  EXPECT_NE(t.run(fc, &rc), pa);
  fc.seed = t.fc.seed;
  fc.activations = engine::TrainActivations::float32;
  EXPECT_NE(t.run(fc, &rc), pa);

  // The integer codes: 4-bit weights of conv and ip (and their bias in the weights' format).
  auto a = make_net(kTinyConv, 16, true);
  const std::string codes = (t.root / "codes.bin").string();
  EXPECT_EQ(flow::write_codes(*a, t.arch, codes), 4);
  std::ifstream f(codes, std::ios::binary);
  char magic[8];
  f.read(magic, 8);
  EXPECT_EQ(std::string(magic, 8), "RSTCODE1");
}

// The planted bug the test above must catch: a resume that loses Adam's moments (what a
// checkpoint of the weights alone would do) gives other bits.
TEST(FlowFinetune, resume_without_solver_moments_differs_bad) {
  FinetuneCase t;
  flow::FinetuneConfig fc = t.fc;
  flow::FinetuneResult r;
  const std::vector<float> pa = t.run(fc, &r);
  fc.checkpoint_dir = (t.root / "b").string();
  fc.stop_after = 2;
  t.run(fc, &r);
  const std::string state = (t.root / "b" / "ckpt-4.state").string();
  engine::TrainState st = engine::load_train_state(state);
  ASSERT_EQ(st.solver.iter, 4);
  ASSERT_FALSE(st.solver.m.empty());
  for (auto* moments : {&st.solver.m, &st.solver.v})
    for (std::vector<float>& v : *moments) std::fill(v.begin(), v.end(), 0.0f);
  engine::save_train_state(st, state);
  fc.stop_after = -1;
  fc.resume = true;
  EXPECT_NE(t.run(fc, &r), pa);
}

TEST(FlowFinetune, resume_checks_seed_options_and_files) {
  FinetuneCase t;
  flow::FinetuneConfig fc = t.fc;
  flow::FinetuneResult r;
  fc.checkpoint_dir = (t.root / "b").string();
  fc.stop_after = 1;
  t.run(fc, &r);
  fc.stop_after = -1;
  fc.resume = true;
  auto message = [&](const flow::FinetuneConfig& c) -> std::string {
    try {
      t.run(c, &r);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "no error";
  };
  flow::FinetuneConfig other = fc;
  other.seed = 9;
  EXPECT_NE(message(other).find("seed 5"), std::string::npos) << message(other);
  other = fc;
  other.lr = 5e-3f;  // another learning rate: other bits, refused
  EXPECT_NE(message(other).find("learning rate"), std::string::npos) << message(other);
  other = fc;
  other.activations = engine::TrainActivations::ste;
  EXPECT_NE(message(other).find("clipped-ste"), std::string::npos) << message(other);
  other = fc;
  other.mirror = true;
  EXPECT_NE(message(other).find("--mirror"), std::string::npos) << message(other);
  // Every setting that changes the bits, not only those above: the batch size (the checkpoint
  // is in the first epoch, where the iteration count cannot tell), the formats (another
  // --arch), the solver, the caller's identity of the model and the data.
  other = fc;
  other.batch = 8;
  EXPECT_NE(message(other).find("--batch 16, this run has 8"), std::string::npos) << message(other);
  other = fc;
  other.solver = engine::SolverType::sgd;
  EXPECT_NE(message(other).find("--solver adam"), std::string::npos) << message(other);
  other = fc;
  other.weight_decay = 0;
  EXPECT_NE(message(other).find("--weight-decay"), std::string::npos) << message(other);
  other = fc;
  other.identity = {{"--data", "another data set"}};
  EXPECT_NE(message(other).find("--data"), std::string::npos) << message(other);
  {
    const config::Arch kept = t.arch;
    auto probe = make_net(kTinyConv, 16, true);
    const auto ranges = flow::analyze_ranges(*probe, t.train.s, 32, 16);
    t.arch = flow::plan_arch(flow::category_plan(flow::Family::dynamic_fixed, ranges, 8, 8, 8), ranges, "t", 3);
    EXPECT_NE(message(fc).find("formats"), std::string::npos) << message(fc);
    t.arch = kept;
  }
  auto teacher = make_net(kTinyConv, 16, false, 2);
  other = fc;
  other.teacher = teacher.get();
  EXPECT_NE(message(other).find("distillation none"), std::string::npos) << message(other);
  // A truncated state file is named.
  const std::string state = (t.root / "b" / "ckpt-2.state").string();
  fs::resize_file(state, 20);
  const std::string m = message(fc);
  EXPECT_NE(m.find(state), std::string::npos) << m;
  EXPECT_NE(m.find("truncated"), std::string::npos) << m;
}

TEST(FlowFinetune, distillation_trains_towards_the_teacher_reproducibly) {
  FinetuneCase t;
  flow::FinetuneResult r;
  const std::vector<float> plain = t.run(t.fc, &r);
  auto teacher = make_net(kTinyConv, 16, false, 2);  // another float net
  flow::FinetuneConfig fc = t.fc;
  fc.teacher = teacher.get();
  fc.distill_weight = 0;  // weight 0: the plain loss and gradient, bit for bit
  EXPECT_EQ(t.run(fc, &r), plain);
  fc.distill_weight = 0.8f;
  fc.distill_temperature = 2;
  const std::vector<float> a = t.run(fc, &r), b = t.run(fc, &r);
  EXPECT_EQ(a, b);       // same seed, same teacher: same bits
  EXPECT_NE(a, plain);   // the teacher's targets changed the updates
}

TEST(FlowErrors, missing_model_file_names_it) {
  engine::NetOptions o;
  try {
    flow::load_model("/nonexistent/dir/model.onnx", o);
    FAIL() << "no exception";
  } catch (const flow::FlowError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/model.onnx"), std::string::npos) << e.what();
  }
}

TEST(FlowArch, arch_layer_names_must_name_weighted_layers) {
  auto net = make_net(kTinyConv, 2, false);
  std::vector<flow::LayerRange> ranges(2);
  ranges[0] = {"conv", false, 0.5, 0.1, 1, 2, 36, 4, 64, 144};
  ranges[1] = {"ip", true, 0.5, 0.1, 2, 4, 432, 3, 144, 3};
  const config::Arch a = flow::plan_arch(flow::category_plan(flow::Family::dynamic_fixed, ranges, 4, 4, 8),
                                         ranges, "t", 1);
  EXPECT_NO_THROW(flow::check_layer_names(a, *net));
  config::Arch bad = a;
  bad.overrides[1].layer = "fc9";
  try {
    flow::check_layer_names(bad, *net);
    FAIL() << "no exception";
  } catch (const flow::FlowError& e) {
    EXPECT_NE(std::string(e.what()).find("'fc9'"), std::string::npos) << e.what();
  }
}

TEST(FlowArch, quantized_export_keeps_layer_names_for_finetune) {
  // quantize writes quantized.onnx (weights as codes + DequantizeLinear) and an arch keyed by
  // layer name; finetune imports the ONNX and applies that arch: the names must round-trip.
  auto net = make_net(kTinyConv, 2, false);
  const Data d = conv_data(8, 3);
  const std::vector<flow::LayerRange> ranges = flow::analyze_ranges(*net, d.s, 8, 4);
  const config::Arch a = flow::plan_arch(flow::category_plan(flow::Family::dynamic_fixed, ranges, 4, 4, 8),
                                         ranges, "t", 1);
  engine::attach_arch(*net, a);
  io::ExportOptions eo;
  eo.quantized = true;
  eo.arch = &a;
  const fs::path path = fs::temp_directory_path() / ("ristsim_flow_names_" + std::to_string(::getpid()) + ".onnx");
  io::export_onnx(*net, path.string(), eo);
  engine::NetOptions o;
  o.batch = 2;
  auto back = flow::load_model(path.string(), o);
  fs::remove(path);
  std::vector<std::string> names;
  for (engine::WeightedLayer* l : back->weighted_layers()) names.push_back(l->name());
  EXPECT_EQ(names, (std::vector<std::string>{"conv", "ip"}));
  EXPECT_NO_THROW(flow::check_layer_names(a, *back));
}

// --weight-granularity channel: the weights of each output channel get the weights' rule from
// that channel's max |w| (plus the plan's fl_w), the YAML lists them and reads back, and
// write_codes stores every weight on its channel's grid.
TEST(FlowArch, per_channel_weights_plan_yaml_and_codes) {
  auto net = make_net(kTinyConv, 2, false);
  const Data d = conv_data(8, 5);
  std::vector<flow::LayerRange> ranges = flow::analyze_ranges(*net, d.s, 4, 2);
  ASSERT_EQ(ranges.size(), 2u);
  for (const flow::LayerRange& r : ranges) {
    ASSERT_EQ(r.w_max_channel.size(), std::size_t(r.name == "conv" ? 4 : 3)) << r.name;
    EXPECT_EQ(*std::max_element(r.w_max_channel.begin(), r.w_max_channel.end()), r.w_max);
  }
  ranges[0].w_max_channel[1] = ranges[0].w_max / 20;  // as if channel 1 were small
  flow::Plan p = flow::category_plan(flow::Family::dynamic_fixed, ranges, 4, 4, 8,
                                     config::RangeRule::ristretto, false, true);
  p.layers[1].fl_w = 1;  // the refinement shifts every channel of ip alike
  const config::Arch a = flow::plan_arch(p, ranges, "t", 1);
  for (std::size_t l = 0; l < 2; ++l) {
    const flow::LayerRange& r = ranges[l];
    const config::NumberSpec& w = config::formats_for(a, r.name).weights;
    ASSERT_EQ(w.channel_fl.size(), r.w_max_channel.size());
    for (std::size_t k = 0; k < w.channel_fl.size(); ++k)
      EXPECT_EQ(w.channel_fl[k],
                engine::dynamic_fl(4, r.w_max_channel[k], engine::NumberGroup::weights) +
                    p.layers[l].fl_w);
    EXPECT_TRUE(config::formats_for(a, r.name).bias.channel_fl.empty());
  }
  const config::NumberSpec& cw = config::formats_for(a, "conv").weights;
  EXPECT_GE(cw.channel_fl[1], cw.channel_fl[0] + 4);
  const std::string yaml = flow::arch_yaml(a, "");
  EXPECT_NE(yaml.find("granularity: channel, fl: ["), std::string::npos) << yaml;
  const config::Arch b = config::parse_arch(yaml, "gen.yaml");
  for (const char* layer : {"conv", "ip"})
    EXPECT_EQ(config::formats_for(b, layer).weights.channel_fl,
              config::formats_for(a, layer).weights.channel_fl);
  EXPECT_EQ(flow::spec_string(cw), "fixed<4," + std::to_string(cw.channel_fl[0]) + ".." +
                                       std::to_string(cw.quantizer.format.fl) + ">");

  // write_codes: conv's weight codes are the engine's per-channel codes.
  engine::attach_arch(*net, b);
  const fs::path dir = fs::temp_directory_path() / ("ristsim_flow_codes_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string codes = (dir / "codes.bin").string();
  EXPECT_EQ(flow::write_codes(*net, b, codes), 4);
  std::ifstream f(codes, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto u32 = [&](std::size_t at) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t(uint8_t(bytes[at + i])) << (8 * i);
    return v;
  };
  std::size_t at = 12;                       // magic, count
  at += 4 + u32(at);                         // name "conv.W"
  at += 4 + u32(at);                         // spec string
  ASSERT_EQ(u32(at), 4u);                    // code bits
  const engine::Blob& w = net->weighted_layers()[0]->weights();
  ASSERT_EQ(u32(at + 4), w.count());
  const std::size_t per = w.count() / 4;
  for (std::size_t i = 0; i < w.count(); ++i) {
    numeric::Quantizer q = cw.channel_quantizer(int(i / per));
    q.seed = 1;
    q.stream = 1;
    EXPECT_EQ(u32(at + 8 + 4 * i), uint32_t(numeric::quantize(q, double(w.data()[i]), i).code)) << i;
  }
  fs::remove_all(dir);
}

