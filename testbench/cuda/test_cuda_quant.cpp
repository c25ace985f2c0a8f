// The quantized layers on the GPU (LayerQuant::forward_gpu, sim/engine/quant.cu) against the CPU
// LayerQuant (label cuda; skips with the driver's reason where no GPU is usable), on every
// shipped arch, a grouped convolution and an inner product:
//   exact datapath   output values, output codes and every statistic bit for bit (the codes come
//                    from cuda::exact_conv_device, IMMA or per output);
//   float datapath   the quantized inputs, weights and bias and their statistics bit for bit;
//                    the outputs equal or one representable value apart (cuBLAS sums in its
//                    own order before the outputs are quantized);
//   train phase      the stochastic weights from the shadow weights bit for bit, the clipped_ste
//                    masks (through the gradients they zero).
// The steps themselves are held against the CPU on every machine by quant_steps_tests.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "config/arch_yaml.h"
#include "cuda/device.h"
#include "engine/device.h"
#include "engine/layers.h"
#include "engine/quant.h"
#include "shipped_archs.h"

namespace ristsim::testbench {
namespace {

using engine::Blob;
using engine::LayerQuant;
using engine::NumberGroup;

#define REQUIRE_GPU()                                                              \
  do {                                                                             \
    std::string why_;                                                              \
    if (!cuda::device_available(&why_)) GTEST_SKIP() << "no usable GPU: " << why_; \
  } while (0)

/// One quantized layer on one device.
struct Side {
  std::unique_ptr<engine::Layer> layer;
  Blob in, out;
  std::shared_ptr<LayerQuant> q;
  engine::WeightedLayer& weighted() { return static_cast<engine::WeightedLayer&>(*layer); }
};

/// The same layer, operands and quantizer on both sides.
void make_pair(const config::Arch& arch, bool conv, engine::Phase phase, uint32_t seed, Side* h,
               Side* d) {
  engine::LayerSpec s;
  s.name = conv ? "conv" : "fc";
  s.type = conv ? "Convolution" : "InnerProduct";
  s.set("num_output", 8);
  if (conv) s.set("kernel_size", 3).set("stride", 2).set("pad", 1).set("group", 2);
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_int_distribution<int> ed(-5, 2);
  for (Side* x : {h, d}) {
    x->layer = engine::create_layer(s);
    x->layer->set_index(2);
    x->layer->set_phase(phase);
    x->in.reshape({3, 4, 9, 9});
    x->layer->setup({&x->in}, {&x->out});
    x->layer->reshape({&x->in}, {&x->out});
  }
  for (std::size_t i = 0; i < h->in.count(); ++i) h->in.data()[i] = std::ldexp(nd(rng), ed(rng));
  d->in = h->in;
  for (std::size_t p = 0; p < h->layer->params().size(); ++p) {
    Blob& b = *h->layer->params()[p].blob;
    for (std::size_t i = 0; i < b.count(); ++i) b.data()[i] = std::ldexp(nd(rng), ed(rng) - 2);
    *d->layer->params()[p].blob = b;
  }
  for (Side* x : {h, d}) {
    x->q = std::make_shared<LayerQuant>(&arch, x->weighted());
    x->weighted().set_quant(x->q);
  }
}

bool same_stats(const numeric::ArrayStats& a, const numeric::ArrayStats& b) {
  return a.max_abs == b.max_abs && a.count == b.count && a.zeros == b.zeros &&
         a.negatives == b.negatives && a.saturations == b.saturations && a.nans == b.nans &&
         a.hist == b.hist;
}

/// No value of the format lies strictly between a and b (equal, or neighbours).
bool neighbours(const numeric::Format& f, float a, float b) {
  if (std::memcmp(&a, &b, 4) == 0) return true;
  const double lo = std::min(a, b), hi = std::max(a, b);
  if (f.kind == numeric::FormatKind::fixed) return hi - lo <= std::ldexp(1.0, -f.fl);
  for (uint64_t c = 0; c <= numeric::low_mask(f.code_bits()) && f.code_bits() <= 16; ++c) {
    const double v = numeric::decode(f, c);
    if (v > lo && v < hi) return false;
  }
  return true;
}

std::vector<float> download(const float* d, std::size_t n) {
  std::vector<float> h(n);
  EXPECT_EQ(cudaMemcpy(h.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
  return h;
}

class CudaQuantLayer : public ::testing::Test {
 protected:
  void TearDown() override { engine::set_device(engine::Device::cpu); }
};

TEST_F(CudaQuantLayer, exact_datapath_same_codes_every_arch) {
  REQUIRE_GPU();
  engine::set_device(engine::Device::cuda);
  int cases = 0;
  for (const std::string& path : shipped_archs()) {
    config::Arch arch = config::load_arch(path);
    arch.datapath = config::Datapath::exact;
    for (bool conv : {true, false}) {
      SCOPED_TRACE(path + (conv ? " conv" : " fc"));
      Side h, d;
      make_pair(arch, conv, engine::Phase::test, 100 + cases, &h, &d);
      h.layer->forward({&h.in}, {&h.out});
      d.layer->forward_gpu({&d.in}, {&d.out});
      EXPECT_EQ(std::memcmp(h.out.data(), d.out.data(), h.out.count() * 4), 0) << "outputs";
      EXPECT_EQ(h.q->output_codes(), d.q->output_codes());
      EXPECT_EQ(h.q->input_codes(), d.q->input_codes());
      EXPECT_EQ(h.q->weight_codes(), d.q->weight_codes());
      EXPECT_EQ(h.q->bias_codes(), d.q->bias_codes());
      for (NumberGroup g :
           {NumberGroup::inputs, NumberGroup::weights, NumberGroup::bias, NumberGroup::outputs})
        EXPECT_TRUE(same_stats(h.q->stats()[g], d.q->stats()[g])) << engine::to_string(g);
      EXPECT_EQ(h.q->stats().acc_overflows, d.q->stats().acc_overflows);
      ++cases;
    }
  }
  EXPECT_EQ(cases, int(shipped_archs().size()) * 2);
}

TEST_F(CudaQuantLayer, float_datapath_same_operands_outputs_within_a_value_every_arch) {
  REQUIRE_GPU();
  engine::set_device(engine::Device::cuda);
  for (const std::string& path : shipped_archs()) {
    config::Arch arch = config::load_arch(path);
    arch.datapath = config::Datapath::float32;
    for (bool conv : {true, false}) {
      SCOPED_TRACE(path + (conv ? " conv" : " fc"));
      Side h, d;
      make_pair(arch, conv, engine::Phase::test, 7, &h, &d);
      h.layer->forward({&h.in}, {&h.out});
      d.layer->forward_gpu({&d.in}, {&d.out});
      const std::size_t n_in = h.in.count(), n_w = h.weighted().weights().count();
      const std::vector<float> in_q = download(d.q->used_input_gpu(nullptr), n_in);
      const std::vector<float> w_q = download(d.q->used_weights_gpu(nullptr), n_w);
      EXPECT_EQ(std::memcmp(in_q.data(), h.q->used_input(nullptr), n_in * 4), 0) << "inputs";
      EXPECT_EQ(std::memcmp(w_q.data(), h.q->used_weights(nullptr), n_w * 4), 0) << "weights";
      for (NumberGroup g : {NumberGroup::inputs, NumberGroup::weights, NumberGroup::bias})
        EXPECT_TRUE(same_stats(h.q->stats()[g], d.q->stats()[g])) << engine::to_string(g);
      const numeric::Format& of = h.q->formats().outputs.quantizer.format;
      int apart = 0;
      for (std::size_t i = 0; i < h.out.count(); ++i) {
        EXPECT_TRUE(h.q->formats().outputs.is_float ||
                    neighbours(of, h.out.data()[i], d.out.data()[i]))
            << "output " << i << ": " << h.out.data()[i] << " vs " << d.out.data()[i];
        apart += std::memcmp(&h.out.data()[i], &d.out.data()[i], 4) != 0;
      }
      EXPECT_EQ(h.q->stats()[NumberGroup::outputs].count, d.q->stats()[NumberGroup::outputs].count);
      std::printf("%s %s: %d of %zu outputs one value apart\n", path.c_str(), conv ? "conv" : "fc",
                  apart, h.out.count());
    }
  }
}

TEST_F(CudaQuantLayer, train_phase_same_stochastic_weights_and_masks_every_arch) {
  REQUIRE_GPU();
  engine::set_device(engine::Device::cuda);
  for (const std::string& path : shipped_archs()) {
    config::Arch arch = config::load_arch(path);
    arch.seed = 17;
    for (engine::TrainActivations act :
         {engine::TrainActivations::float32, engine::TrainActivations::clipped_ste}) {
      SCOPED_TRACE(path + " " + engine::to_string(act));
      Side h, d;
      make_pair(arch, true, engine::Phase::train, 23, &h, &d);
      for (Side* x : {&h, &d}) {
        x->q->set_train_quant({act, true});
        x->q->set_train_step(9);
      }
      h.layer->forward({&h.in}, {&h.out});
      d.layer->forward_gpu({&d.in}, {&d.out});
      const std::size_t n_w = h.weighted().weights().count();
      const std::vector<float> w_q = download(d.q->used_weights_gpu(nullptr), n_w);
      EXPECT_EQ(std::memcmp(w_q.data(), h.q->used_weights(nullptr), n_w * 4), 0) << "weights";
      if (act != engine::TrainActivations::clipped_ste) continue;
      // The masks through the gradients: ones in, zeros where a value was clipped.
      std::vector<float> ones(h.out.count(), 1.0f);
      std::vector<float> hd = ones;
      h.q->clip_output_grad(hd.data());
      float* dd = nullptr;
      ASSERT_EQ(cudaMalloc(&dd, ones.size() * 4), cudaSuccess);
      cudaMemcpy(dd, ones.data(), ones.size() * 4, cudaMemcpyHostToDevice);
      d.q->clip_output_grad_gpu(dd);
      EXPECT_EQ(download(dd, ones.size()), hd) << "output mask";
      cudaFree(dd);
    }
  }
}

}  // namespace
}  // namespace ristsim::testbench
