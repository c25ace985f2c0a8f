// OCP MX formats in the engine (sim/engine/quant_mx.cpp) and the arch files: the
// float datapath's blocks (weights per output-channel row, activations per im2col
// column, along K) against the same blocks formed by hand; the exact datapath
// against kernels::exact_mx_dot on hand-gathered columns, bit for bit; the arch
// reader's MX rules.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "config/arch_yaml.h"
#include "engine/net.h"
#include "engine/quant.h"
#include "engine/spec.h"
#include "gradient_check.h"
#include "numeric/numeric.h"

#ifdef RISTSIM_HAVE_EXACT_CPU
#include "kernels/reference/exact_mx.h"
#endif

namespace ristsim::testbench {
namespace {

using namespace engine;

// conv: K = 5 x 3 x 3 = 45 terms (a block of 32 and one of 13), padding; ip: K = 4 x 3 x 3 = 36.
const char* kMxNet = R"(
name: m
input_shape: [5, 6, 6]
layers:
  - {name: conv, type: Convolution, bottom: data, top: conv, num_output: 4, kernel_size: 3, pad: 1, stride: 2,
     weight_filler: {type: gaussian, std: 0.3}, bias_filler: {type: gaussian, std: 0.2}}
  - {name: ip, type: InnerProduct, bottom: conv, top: ip, num_output: 3, weight_filler: {type: gaussian, std: 0.2},
     bias_filler: {type: gaussian, std: 0.1}}
)";

config::Arch mx_arch(const std::string& datapath, const std::string& act, const std::string& wt) {
  return config::parse_arch("name: m\ndatapath: " + datapath +
                                "\nformats:\n  activations: {type: mx, element: " + act +
                                "}\n  weights: {type: mx, element: " + wt +
                                "}\n  bias: {type: minifloat, exp_bits: 8, mant_bits: 7, specials: "
                                "ieee, subnormals: on}\n  outputs: {type: minifloat, exp_bits: 8, "
                                "mant_bits: 7, specials: ieee, subnormals: on}\naccumulator: {bits: "
                                "48, frac_bits: 24}\n",
                            "m.yaml");
}

/// The im2col column of output (n, oy, ox) in term order (channel, row, column); padding 0.
std::vector<float> column(const ConvGeometry& g, const float* in, int n, int oy, int ox,
                          std::vector<bool>* pad) {
  std::vector<float> v;
  pad->clear();
  for (int c = 0; c < g.c; ++c)
    for (int r = 0; r < g.kh; ++r)
      for (int s = 0; s < g.kw; ++s) {
        const int y = oy * g.stride_h - g.pad_h + r, x = ox * g.stride_w - g.pad_w + s;
        const bool p = y < 0 || y >= g.h || x < 0 || x >= g.w;
        pad->push_back(p);
        v.push_back(p ? 0.0f : in[((std::size_t(n) * g.c + c) * g.h + y) * g.w + x]);
      }
  return v;
}

TEST(MxEngine, float_datapath_quantizes_blocks_along_k) {
  NetOptions o;
  o.batch = 2;
  Net net(parse_net_spec(kMxNet, "m.yaml"), o);
  fill_uniform(net.input(), -1, 1, 3);
  const config::Arch arch = mx_arch("float", "e4m3", "e2m1");
  attach_arch(net, arch);
  net.forward();
  WeightedLayer* conv = net.weighted_layers()[0];
  const ConvGeometry& g = conv->geometry();
  const numeric::MxFormat fa{numeric::MxElement::e4m3}, fw{numeric::MxElement::e2m1};
  const std::size_t K = std::size_t(g.c) * g.kh * g.kw;
  ASSERT_EQ(K, 45u);
  // Weights by hand: each output channel's row in blocks of 32 and 13.
  std::vector<double> wq(g.k * K);
  for (int k = 0; k < g.k; ++k) {
    std::vector<double> row(conv->weights().data() + k * K, conv->weights().data() + (k + 1) * K);
    numeric::mx_quantize_array(fw, row.data(), K, nullptr, nullptr, wq.data() + k * K);
  }
  const numeric::Quantizer bf16 = arch.formats.outputs.quantizer;
  const float* in = net.blob("data")->data();
  const float* out = net.blob("conv")->data();
  int checked = 0;
  for (int n = 0; n < g.n; ++n)
    for (int oy = 0; oy < g.oh; ++oy)
      for (int ox = 0; ox < g.ow; ++ox) {
        std::vector<bool> pad;
        const std::vector<float> col = column(g, in, n, oy, ox, &pad);
        std::vector<double> cq(col.begin(), col.end());
        numeric::mx_quantize_array(fa, cq.data(), K, nullptr, nullptr, cq.data());
        for (int k = 0; k < g.k; ++k) {
          // The bias in its own format (bfloat16), the sum in double; the engine sums in
          // float32 (its GEMM), so the two differ by float rounding: 1e-5 of the terms'
          // magnitude, far below the output's bfloat16 quantum, which both then round to.
          double sum = numeric::quantize(arch.formats.bias.quantizer, double(conv->bias()->data()[k])).value;
          double mag = std::fabs(sum);
          for (std::size_t t = 0; t < K; ++t) {
            sum += cq[t] * wq[k * K + t];
            mag += std::fabs(cq[t] * wq[k * K + t]);
          }
          const double got = out[((std::size_t(n) * g.k + k) * g.oh + oy) * g.ow + ox];
          const double want = numeric::quantize(bf16, sum).value;
          const double ulp = std::ldexp(1.0, std::ilogb(std::fmax(std::fabs(want), 1e-30)) - 7);
          EXPECT_NEAR(got, want, ulp + 1e-5 * mag) << "n " << n << " k " << k << " at " << oy << "," << ox;
          ++checked;
        }
      }
  EXPECT_EQ(checked, 2 * 4 * 3 * 3);
  // Statistics: the inputs' max and the blocks' saturations are counted.
  const LayerStats st = conv->quant()->stats();
  EXPECT_GT(st[NumberGroup::inputs].max_abs, 0.5);
  EXPECT_EQ(st[NumberGroup::inputs].count, net.input().count());
}

#ifdef RISTSIM_HAVE_EXACT_CPU
TEST(MxEngine, exact_datapath_equals_exact_mx_dot_by_hand) {
  NetOptions o;
  o.batch = 2;
  Net net(parse_net_spec(kMxNet, "m.yaml"), o);
  fill_uniform(net.input(), -1, 1, 4);
  const config::Arch arch = mx_arch("exact", "e4m3", "int8");
  attach_arch(net, arch);
  net.forward();
  WeightedLayer* conv = net.weighted_layers()[0];
  const ConvGeometry& g = conv->geometry();
  const std::size_t K = std::size_t(g.c) * g.kh * g.kw;
  const numeric::MxFormat fa{numeric::MxElement::e4m3}, fw{numeric::MxElement::int8};
  kernels::ExactLayerSpec spec;
  spec.act = numeric::mx_element_quantizer(fa);
  spec.wt = numeric::mx_element_quantizer(fw);
  spec.bias = arch.formats.bias.quantizer;
  spec.out = arch.formats.outputs.quantizer;
  spec.out.seed = arch.seed;
  spec.acc = arch.accumulator;
  spec.lanes = arch.array.lanes;
  spec.stream = uint64_t(conv->index()) * 4 + 3;
  spec.has_bias = true;
  kernels::ExactMxSpec mx;
  mx.act_mx = mx.wt_mx = true;
  ASSERT_EQ(kernels::validate(spec, mx), nullptr);
  const float* in = net.blob("data")->data();
  const std::vector<uint32_t>& out_codes = conv->quant()->output_codes();
  ASSERT_EQ(out_codes.size(), std::size_t(g.n) * g.k * g.oh * g.ow);
  int nonzero = 0;
  for (int n = 0; n < g.n; ++n)
    for (int oy = 0; oy < g.oh; ++oy)
      for (int ox = 0; ox < g.ow; ++ox) {
        std::vector<bool> pad;
        const std::vector<float> col = column(g, in, n, oy, ox, &pad);
        std::vector<uint32_t> ac(K);
        uint8_t as[2];
        numeric::mx_quantize_array(fa, col.data(), K, as, ac.data(), static_cast<float*>(nullptr));
        for (int k = 0; k < g.k; ++k) {
          std::vector<uint32_t> wc(K);
          uint8_t ws[2];
          numeric::mx_quantize_array(fw, conv->weights().data() + k * K, K, ws, wc.data(),
                                     static_cast<float*>(nullptr));
          std::vector<kernels::ExactTerm> terms(K);
          for (std::size_t t = 0; t < K; ++t) terms[t] = {ac[t], wc[t], static_cast<bool>(pad[t])};
          const uint32_t bias = static_cast<uint32_t>(
              numeric::quantize(spec.bias, double(conv->bias()->data()[k])).code);
          const uint64_t idx = ((uint64_t(n) * g.k + k) * g.oh + oy) * g.ow + ox;
          const uint32_t want =
              kernels::exact_mx_dot(spec, mx, terms.data(), K, as, ws, bias, idx, nullptr);
          ASSERT_EQ(out_codes[idx], want) << "output " << idx;
          nonzero += want != 0;
        }
      }
  EXPECT_GT(nonzero, 30);
  // The exact and the float datapath see the same blocks: outputs agree to bfloat16
  // rounding (the float one sums in float32, the exact one truncates below 2^-24).
  Net f(parse_net_spec(kMxNet, "m.yaml"), o);
  std::copy(net.input().data(), net.input().data() + net.input().count(), f.input().data());
  const config::Arch float_arch = mx_arch("float", "e4m3", "int8");  // the net keeps a pointer
  attach_arch(f, float_arch);
  f.forward();
  for (std::size_t i = 0; i < net.output().count(); ++i) {
    const double a = net.output().data()[i], b = f.output().data()[i];
    EXPECT_NEAR(a, b, std::fabs(b) * std::ldexp(1.0, -7) + 1e-6) << i;
  }
}
#endif

void expect_arch_error(const std::string& yaml, const std::string& what) {
  try {
    config::parse_arch(yaml, "x.yaml");
    ADD_FAILURE() << "no error, expected: " << what;
  } catch (const config::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("x.yaml"), std::string::npos) << e.what();
  }
}

TEST(MxArch, reads_mx_groups_and_refuses_what_the_datapath_cannot_do) {
  const config::Arch a = mx_arch("exact", "e2m1", "e2m3");
  EXPECT_TRUE(a.formats.activations.is_mx);
  EXPECT_EQ(a.formats.activations.mx.element, numeric::MxElement::e2m1);
  EXPECT_EQ(a.formats.weights.mx.element, numeric::MxElement::e2m3);
  EXPECT_EQ(a.formats.activations.mx.block, 32);
  EXPECT_EQ(a.formats.activations.quantizer.format.bits, 4);
  EXPECT_TRUE(config::has_mx_groups(a));
  const std::string head = "name: x\ndatapath: exact\nformats:\n";
  const std::string tail =
      "  bias: {type: fixed, bits: 16, fl: 8}\n  outputs: {type: fixed, bits: 16, fl: 8}\n";
  expect_arch_error(head + "  activations: {type: mx}\n  weights: {type: e4m3}\n" + tail +
                        "accumulator: {bits: 48, frac_bits: 24}\n",
                    "element");
  expect_arch_error(head + "  activations: {type: mx, element: e9m9}\n  weights: {type: e4m3}\n" +
                        tail + "accumulator: {bits: 48, frac_bits: 24}\n",
                    "e9m9");
  expect_arch_error(head + "  activations: {type: mx, element: e4m3, rounding: down}\n  weights: {type: e4m3}\n" +
                        tail + "accumulator: {bits: 48, frac_bits: 24}\n",
                    "rounding");
  expect_arch_error(head + "  activations: {type: e4m3}\n  weights: {type: e4m3}\n" +
                        "  bias: {type: mx, element: e4m3}\n  outputs: {type: e4m3}\n" +
                        "accumulator: {bits: 48, frac_bits: 24}\n",
                    "activations and weights only");
  expect_arch_error(head + "  activations: {type: mx, element: e4m3}\n  weights: {type: e4m3}\n" +
                        tail + "accumulator: {bits: 48, frac_bits: auto}\n",
                    "frac_bits must be an integer");
  expect_arch_error(head + "  activations: {type: mx, element: e5m2}\n  weights: {type: mx, element: e5m2}\n" +
                        tail + "accumulator: {bits: 48, frac_bits: 24}\n",
                    "E5M2 x E5M2");
  expect_arch_error(head + "  activations: {type: mx, element: e4m3, block: 16}\n  weights: {type: mx, element: e4m3}\n" +
                        tail + "accumulator: {bits: 48, frac_bits: 24}\n",
                    "same block size");
  // The float datapath takes E5M2 x E5M2 and frac_bits auto.
  EXPECT_NO_THROW(config::parse_arch(
      "name: x\ndatapath: float\nformats:\n  activations: {type: mx, element: e5m2}\n"
      "  weights: {type: mx, element: e5m2}\n  bias: {type: float}\n  outputs: {type: float}\n",
      "x.yaml"));
}

TEST(MxEngine, training_is_refused) {
  NetOptions o;
  o.batch = 1;
  Net net(parse_net_spec(kMxNet, "m.yaml"), o);
  const config::Arch arch = mx_arch("float", "e4m3", "e4m3");  // the net keeps a pointer
  attach_arch(net, arch);
  net.set_phase(Phase::train);
  EXPECT_THROW(net.forward(), std::runtime_error);
}

}  // namespace
}  // namespace ristsim::testbench
