// The GPU's quantized layers (LayerQuant::forward_gpu, sim/engine/quant.cu) run every element
// through engine/steps/quant_steps.h. Here those steps run on the host, in forward_gpu's order
// (a host twin of it), and are held bit for bit against the CPU LayerQuant on every shipped arch:
// the float datapath under every rounding, the exact datapath, and the train phase (stochastic
// weights from the shadow weights, ste and clipped_ste activations and their masks); values,
// codes and every statistic. Label unit: every machine checks the GPU's quantizer arithmetic.
// The *_bad test plants a bug in the twin (the stochastic counter off by one) and shows that
// the comparison catches it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "config/arch_yaml.h"
#include "engine/layers.h"
#include "engine/math.h"
#include "engine/quant.h"
#include "engine/quant_exact.h"
#include "engine/steps/quant_steps.h"
#include "kernels/reference/exact_layer.h"
#include "numeric/quantize_array.h"
#include "shipped_archs.h"

namespace ristsim::testbench {
namespace {

namespace st = engine::steps;
using engine::Blob;
using engine::LayerQuant;
using engine::NumberGroup;

constexpr uint32_t kSeed = 20261203;

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

/// "" if equal bit for bit, else the first difference.
std::string compare_bits(const float* a, const float* b, std::size_t n, const char* what) {
  for (std::size_t i = 0; i < n; ++i)
    if (bits(a[i]) != bits(b[i]))
      return std::string(what) + "[" + std::to_string(i) + "]: " + std::to_string(a[i]) +
             " != " + std::to_string(b[i]);
  return "";
}

std::string compare_stats(const numeric::ArrayStats& a, const numeric::ArrayStats& b,
                          const char* what) {
  std::string d;
  auto field = [&](const char* name, double x, double y) {
    if (x != y) d += std::string(" ") + name + " " + std::to_string(x) + " != " + std::to_string(y);
  };
  field("max_abs", a.max_abs, b.max_abs);
  field("count", double(a.count), double(b.count));
  field("zeros", double(a.zeros), double(b.zeros));
  field("negatives", double(a.negatives), double(b.negatives));
  field("saturations", double(a.saturations), double(b.saturations));
  field("nans", double(a.nans), double(b.nans));
  for (int i = 0; i < numeric::ArrayStats::kBins; ++i)
    field(("hist[" + std::to_string(i) + "]").c_str(), double(a.hist[i]), double(b.hist[i]));
  return d.empty() ? "" : std::string(what) + ":" + d;
}

/// A quantized layer's operands: a grouped, strided, padded convolution with bias, or an inner
/// product, on inputs with a spread of magnitudes, a NaN and an infinity.
struct LayerRun {
  std::unique_ptr<engine::Layer> layer;
  Blob in, out;
  engine::WeightedLayer& weighted() { return static_cast<engine::WeightedLayer&>(*layer); }
};

std::unique_ptr<LayerRun> make_run(bool conv, uint32_t seed) {
  engine::LayerSpec s;
  s.name = conv ? "conv" : "fc";
  s.type = conv ? "Convolution" : "InnerProduct";
  s.set("num_output", 6);
  if (conv) s.set("kernel_size", 3).set("stride", 2).set("pad", 1).set("group", 2);
  auto r = std::make_unique<LayerRun>();
  r->layer = engine::create_layer(s);
  r->in.reshape({2, 4, 7, 7});
  r->layer->set_index(3);
  r->layer->setup({&r->in}, {&r->out});
  r->layer->reshape({&r->in}, {&r->out});
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::uniform_int_distribution<int> e(-6, 3);
  auto fill = [&](Blob& b, float scale) {
    for (std::size_t i = 0; i < b.count(); ++i) b.data()[i] = std::ldexp(d(rng), e(rng)) * scale;
  };
  fill(r->in, 1.0f);
  r->in.data()[5] = 0.0f;
  r->in.data()[6] = -0.0f;
  r->in.data()[17] = std::numeric_limits<float>::quiet_NaN();
  r->in.data()[18] = -std::numeric_limits<float>::infinity();
  r->in.data()[19] = 1e-42f;  // subnormal
  for (const auto& p : r->layer->params()) fill(*p.blob, 0.25f);
  return r;
}

/// forward_gpu's quantize_kernel on the host: element i through the steps. `index_bug` plants a
/// wrong stochastic counter (tests only).
void quantize_host(const numeric::Quantizer& q, bool pass, const float* x, std::size_t n, float* y,
                   uint32_t* codes, st::StatsSums* sums, uint64_t index_bug = 0) {
  for (std::size_t i = 0; i < n; ++i) {
    const float xi = x[i];
    const st::QuantElement r = st::quantize_element(q, pass, xi, i + index_bug);
    if (y) y[i] = r.value;
    if (codes) codes[i] = r.code;
    if (sums) st::add_element(sums, st::stats_element(xi), r.saturated, r.nan);
  }
}

struct Twin {
  std::vector<float> out, w_q;
  std::vector<uint32_t> out_codes;
  std::vector<uint8_t> in_keep, out_keep;
  st::StatsSums sums[4] = {};
  kernels::ExactStats es;
  bool counted = false;
};

/// A layer's operands and their sizes, as forward_gpu sees them.
struct Operands {
  engine::WeightedLayer& l;
  const config::LayerFormats& f;
  const float* w;
  const float* b;
  std::size_t n_in, n_w, n_out, n_b;
  Operands(const LayerQuant& q, LayerRun& r)
      : l(r.weighted()),
        f(q.formats()),
        w(l.weights().data()),
        b(l.bias() ? l.bias()->data() : nullptr),
        n_in(r.in.count()),
        n_w(l.weights().count()),
        n_out(r.out.count()),
        n_b(b ? l.bias()->count() : 0) {}
};

/// forward_gpu (quantize mode, inference) on the host.
Twin twin_inference(const LayerQuant& q, const config::Arch& arch, LayerRun& r,
                    uint64_t index_bug = 0) {
  const Operands o(q, r);
  engine::WeightedLayer& l = o.l;
  const config::LayerFormats& f = o.f;
  const float *w = o.w, *b = o.b;
  const std::size_t n_in = o.n_in, n_w = o.n_w, n_out = o.n_out, n_b = o.n_b;
  Twin t;
  t.counted = true;
  t.out.resize(n_out);
  std::vector<float> in_q(n_in), w_q(n_w), b_q(std::max<std::size_t>(n_b, 1));
  auto sums = [&](NumberGroup g) { return &t.sums[static_cast<int>(g)]; };
  // Measure mode (range analysis): every group passes through, statistics only.
  auto pass = [&](const config::NumberSpec& g) {
    return q.mode() == engine::QuantMode::measure || g.is_float;
  };
  if (q.mode() == engine::QuantMode::quantize && arch.datapath == config::Datapath::exact) {
    const kernels::ExactLayerSpec spec = engine::detail::exact_layer_spec(q, arch, l.name(), b);
    std::vector<uint32_t> ic(n_in), wc(n_w), bc(std::max<std::size_t>(n_b, 1), 0);
    quantize_host(spec.act, false, r.in.data(), n_in, in_q.data(), ic.data(),
                  sums(NumberGroup::inputs), index_bug);
    quantize_host(spec.wt, false, w, n_w, w_q.data(), wc.data(), sums(NumberGroup::weights));
    if (b) quantize_host(spec.bias, false, b, n_b, b_q.data(), bc.data(), sums(NumberGroup::bias));
    t.out_codes.resize(n_out);
    kernels::exact_conv_reference(engine::detail::conv_shape(l.geometry()), spec, ic.data(),
                                  wc.data(), bc.data(), t.out_codes.data(), &t.es);
    for (std::size_t i = 0; i < n_out; ++i) {
      t.out[i] = st::decode_element(spec.out.format, t.out_codes[i]);
      st::add_element(sums(NumberGroup::outputs), st::stats_element(t.out[i]), false, false);
    }
    t.sums[3].saturations += t.es.out_saturations;
    t.sums[3].nans += t.es.out_nans;
    return t;
  }
  quantize_host(q.group_quantizer(f.weights, NumberGroup::weights), pass(f.weights), w, n_w,
                w_q.data(), nullptr, sums(NumberGroup::weights));
  if (b)
    quantize_host(q.group_quantizer(f.weights, NumberGroup::bias), pass(f.weights), b, n_b,
                  b_q.data(), nullptr, sums(NumberGroup::bias));
  quantize_host(q.group_quantizer(f.activations, NumberGroup::inputs), pass(f.activations),
                r.in.data(), n_in, in_q.data(), nullptr, sums(NumberGroup::inputs), index_bug);
  l.compute_forward(in_q.data(), w_q.data(), b ? b_q.data() : nullptr, t.out.data());
  quantize_host(q.group_quantizer(f.outputs, NumberGroup::outputs), pass(f.outputs), t.out.data(),
                n_out, t.out.data(), nullptr, sums(NumberGroup::outputs));
  return t;
}

/// forward_gpu in the train phase on the host (train step `step`).
Twin twin_train(const LayerQuant& q, const config::Arch& arch, LayerRun& r, uint64_t step,
                engine::TrainActivations act) {
  const Operands o(q, r);
  engine::WeightedLayer& l = o.l;
  const config::LayerFormats& f = o.f;
  const float *w = o.w, *b = o.b;
  const std::size_t n_in = o.n_in, n_w = o.n_w, n_out = o.n_out, n_b = o.n_b;
  Twin t;
  numeric::Quantizer qw = q.group_quantizer(f.weights, NumberGroup::weights);
  qw.rounding = numeric::Rounding::stochastic;  // TrainQuant's default
  qw.seed = engine::derive_seed(arch.seed, step + 1);
  numeric::Quantizer qb = qw;
  qb.stream = q.group_quantizer(f.weights, NumberGroup::bias).stream;
  t.w_q.resize(n_w);
  std::vector<float> b_q(std::max<std::size_t>(n_b, 1)), in_q(n_in);
  quantize_host(qw, f.weights.is_float, w, n_w, t.w_q.data(), nullptr, nullptr);
  if (b) quantize_host(qb, f.weights.is_float, b, n_b, b_q.data(), nullptr, nullptr);
  const bool quant_act = act != engine::TrainActivations::float32;
  const bool clip = act == engine::TrainActivations::clipped_ste;
  auto mask = [](const config::NumberSpec& s, const float* x, std::size_t n) {
    std::vector<uint8_t> keep(n);
    const st::Range range = st::range_of(s.is_float, s.quantizer.format);
    for (std::size_t i = 0; i < n; ++i) keep[i] = st::in_range(range, x[i]);
    return keep;
  };
  if (quant_act) {
    if (clip) t.in_keep = mask(f.activations, r.in.data(), n_in);
    quantize_host(q.group_quantizer(f.activations, NumberGroup::inputs), f.activations.is_float,
                  r.in.data(), n_in, in_q.data(), nullptr, nullptr);
  }
  t.out.resize(n_out);
  l.compute_forward(quant_act ? in_q.data() : r.in.data(), t.w_q.data(), b ? b_q.data() : nullptr,
                    t.out.data());
  if (quant_act) {
    if (clip) t.out_keep = mask(f.outputs, t.out.data(), n_out);
    quantize_host(q.group_quantizer(f.outputs, NumberGroup::outputs), f.outputs.is_float,
                  t.out.data(), n_out, t.out.data(), nullptr, nullptr);
  }
  return t;
}

/// The CPU LayerQuant against the twin; "" when every bit agrees.
std::string check_inference(config::Arch arch, bool conv, uint32_t seed, uint64_t index_bug = 0,
                            bool measure = false) {
  std::unique_ptr<LayerRun> r = make_run(conv, seed);
  engine::WeightedLayer& l = r->weighted();
  l.set_phase(engine::Phase::test);
  auto q = std::make_shared<LayerQuant>(measure ? nullptr : &arch, l);
  l.set_quant(q);
  r->layer->forward({&r->in}, {&r->out});
  const Twin t = twin_inference(*q, arch, *r, index_bug);
  std::string d = compare_bits(t.out.data(), r->out.data(), t.out.size(), "output");
  if (!t.out_codes.empty() && t.out_codes != q->output_codes()) d += " output codes differ";
  for (NumberGroup g :
       {NumberGroup::inputs, NumberGroup::weights, NumberGroup::bias, NumberGroup::outputs})
    d += compare_stats(st::to_array_stats(t.sums[static_cast<int>(g)]), q->stats()[g],
                       engine::to_string(g));
  if (t.es.acc_overflows != q->stats().acc_overflows) d += " accumulator overflows differ";
  return d;
}

std::vector<uint8_t> mask_of(const LayerQuant& q, std::size_t n, bool output) {
  std::vector<float> ones(n, 1.0f);
  output ? q.clip_output_grad(ones.data()) : q.clip_input_grad(ones.data());
  std::vector<uint8_t> keep(n);
  for (std::size_t i = 0; i < n; ++i) keep[i] = ones[i] != 0.0f;
  return keep;
}

}  // namespace

TEST(QuantSteps, stats_element_is_array_stats_add) {
  std::vector<float> x = {0.0f,
                          -0.0f,
                          1.0f,
                          -1.0f,
                          1e-42f,
                          -1e-45f,
                          0x1p-126f,
                          0x1p-41f,
                          0x1p-40f,
                          0x1p22f,
                          0x1p23f,
                          3e38f,
                          -3e38f,
                          std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN(),
                          0.75f,
                          -5.5f};
  std::mt19937 rng(kSeed);
  std::uniform_int_distribution<uint32_t> any;
  for (int i = 0; i < 20000; ++i) {
    const uint32_t u = any(rng);
    float f;
    std::memcpy(&f, &u, 4);
    x.push_back(f);
  }
  st::StatsSums sums = {};
  numeric::ArrayStats by_add, fast;
  for (float v : x) {
    st::add_element(&sums, st::stats_element(v), false, false);
    by_add.add(v);
  }
  numeric::array_stats(x.data(), x.size(), &fast);
  EXPECT_EQ(compare_stats(st::to_array_stats(sums), by_add, "add"), "") << "seed " << kSeed;
  EXPECT_EQ(compare_stats(st::to_array_stats(sums), fast, "array_stats"), "") << "seed " << kSeed;
}

TEST(QuantSteps, quantize_element_is_quantize_array_every_rounding) {
  // Fixed point through the vector loop, a minifloat through quantize(): stochastic included.
  std::mt19937 rng(kSeed);
  std::normal_distribution<float> d(0.0f, 3.0f);
  std::vector<float> x(4099);
  for (float& v : x) v = d(rng);
  x[7] = std::numeric_limits<float>::quiet_NaN();
  x[8] = std::numeric_limits<float>::infinity();
  for (numeric::Format f :
       {numeric::Format::fixed_point(8, 4), numeric::Format::fixed_point(5, 1),
        numeric::Format::unsigned_fixed_point(8, 5), numeric::Format::fixed_point(16, 12)}) {
    for (numeric::Rounding rnd : numeric::kAllRoundings) {
      for (numeric::Overflow ov : {numeric::Overflow::saturate, numeric::Overflow::wrap}) {
        numeric::Quantizer q;
        q.format = f;
        q.rounding = rnd;
        q.overflow = ov;
        q.seed = 99;
        q.stream = 13;
        std::vector<float> y1(x.size()), y2(x.size());
        std::vector<uint32_t> c1(x.size()), c2(x.size());
        numeric::ArrayStats s1;
        st::StatsSums s2 = {};
        numeric::quantize_array(q, x.data(), x.size(), 0, y1.data(), c1.data(), &s1);
        quantize_host(q, false, x.data(), x.size(), y2.data(), c2.data(), &s2);
        SCOPED_TRACE("bits " + std::to_string(f.bits) + " fl " + std::to_string(f.fl) +
                     " rounding " + std::to_string(int(rnd)) + " overflow " +
                     std::to_string(int(ov)));
        EXPECT_EQ(compare_bits(y2.data(), y1.data(), x.size(), "value"), "");
        EXPECT_EQ(c2, c1);
        EXPECT_EQ(compare_stats(st::to_array_stats(s2), s1, "stats"), "");
      }
    }
  }
}

TEST(QuantSteps, float_datapath_equals_cpu_layer_every_arch_and_rounding) {
  int cases = 0;
  for (const std::string& path : shipped_archs()) {
    config::Arch arch = config::load_arch(path);
    arch.datapath = config::Datapath::float32;
    arch.seed = 5;
    for (numeric::Rounding rnd : numeric::kAllRoundings) {
      for (config::NumberSpec* s : {&arch.formats.activations, &arch.formats.weights,
                                    &arch.formats.bias, &arch.formats.outputs})
        s->quantizer.rounding = rnd;
      for (config::LayerOverride& o : arch.overrides)
        for (config::NumberSpec* s :
             {&o.formats.activations, &o.formats.weights, &o.formats.bias, &o.formats.outputs})
          s->quantizer.rounding = rnd;
      for (bool conv : {true, false}) {
        EXPECT_EQ(check_inference(arch, conv, kSeed + cases), "")
            << path << " rounding " << int(rnd) << (conv ? " conv" : " fc") << " seed "
            << kSeed + cases;
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, int(shipped_archs().size()) * 6 * 2);
}

TEST(QuantSteps, exact_datapath_equals_cpu_layer_every_arch) {
  if (!engine::exact_datapath_available()) GTEST_SKIP() << "no kernels/cpu in this build";
  int cases = 0;
  for (const std::string& path : shipped_archs()) {
    config::Arch arch = config::load_arch(path);
    if (arch.datapath != config::Datapath::exact) continue;
    for (bool conv : {true, false}) {
      EXPECT_EQ(check_inference(arch, conv, kSeed + cases), "")
          << path << (conv ? " conv" : " fc") << " seed " << kSeed + cases;
      ++cases;
    }
  }
  EXPECT_GE(cases, 14);
}

TEST(QuantSteps, measure_mode_equals_cpu_layer) {
  // The range analysis (a LayerQuant without an arch): values unchanged, statistics only.
  config::Arch arch;
  arch.datapath = config::Datapath::float32;
  for (bool conv : {true, false})
    EXPECT_EQ(check_inference(arch, conv, kSeed, 0, true), "") << (conv ? "conv" : "fc");
}

TEST(QuantSteps, train_phase_equals_cpu_layer_every_arch) {
  int cases = 0;
  for (const std::string& path : shipped_archs()) {
    config::Arch arch = config::load_arch(path);
    arch.seed = 11;
    for (engine::TrainActivations act :
         {engine::TrainActivations::float32, engine::TrainActivations::ste,
          engine::TrainActivations::clipped_ste}) {
      std::unique_ptr<LayerRun> r = make_run(true, kSeed + cases);
      engine::WeightedLayer& l = r->weighted();
      l.set_phase(engine::Phase::train);
      auto q = std::make_shared<LayerQuant>(&arch, l);
      q->set_train_quant({act, true});
      q->set_train_step(41);
      l.set_quant(q);
      r->layer->forward({&r->in}, {&r->out});
      const Twin t = twin_train(*q, arch, *r, 41, act);
      SCOPED_TRACE(path + " activations " + engine::to_string(act));
      EXPECT_EQ(compare_bits(t.w_q.data(), q->used_weights(nullptr), t.w_q.size(), "weights"), "");
      EXPECT_EQ(compare_bits(t.out.data(), r->out.data(), t.out.size(), "output"), "");
      if (act == engine::TrainActivations::clipped_ste) {
        EXPECT_EQ(t.in_keep, mask_of(*q, r->in.count(), false));
        EXPECT_EQ(t.out_keep, mask_of(*q, r->out.count(), true));
      }
      ++cases;
    }
  }
  EXPECT_EQ(cases, int(shipped_archs().size()) * 3);
}

TEST(QuantSteps, planted_index_bug_is_caught_bad) {
  // The stochastic counter off by one: every arch's inputs, rounded stochastically, differ.
  int caught = 0, cases = 0;
  for (const std::string& path : shipped_archs()) {
    config::Arch arch = config::load_arch(path);
    arch.datapath = config::Datapath::float32;
    arch.formats.activations.quantizer.rounding = numeric::Rounding::stochastic;
    if (arch.formats.activations.is_float) continue;
    caught += !check_inference(arch, true, kSeed, 1).empty();
    ++cases;
  }
  EXPECT_GT(cases, 0);
  EXPECT_EQ(caught, cases);
}

}  // namespace ristsim::testbench
