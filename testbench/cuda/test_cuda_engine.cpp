// The engine's cuda mode against its cpu mode (label cuda; skips with the driver's reason
// where no GPU is usable): every ported layer type, forward and backward, on the same inputs
// and parameters. Exact bits where the GPU runs the host's own arithmetic (ReLU, pooling,
// dropout, concat, split, the solvers); LRN within CUDA's powf error; convolution and inner
// product within float rounding (cuBLAS sums in its own order). The blobs' mirrors are
// checked on the way: the GPU results are read back through the host accessors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "cuda/device.h"
#include "engine/device.h"
#include "engine/layers.h"
#include "engine/net.h"
#include "engine/solver.h"

namespace ristsim::testbench {
namespace {

using engine::Blob;
using engine::LayerSpec;

constexpr uint32_t kSeed = 7;

#define REQUIRE_GPU()                                                              \
  do {                                                                             \
    std::string why_;                                                              \
    if (!cuda::device_available(&why_)) GTEST_SKIP() << "no usable GPU: " << why_; \
  } while (0)

/// max |a - b| / (max |b| + tiny): 0 for equal arrays.
double max_rel_diff(const float* a, const float* b, std::size_t n, bool* bits_equal) {
  double d = 0, m = 1e-30;
  *bits_equal = std::memcmp(a, b, n * sizeof(float)) == 0;
  for (std::size_t i = 0; i < n; ++i) {
    d = std::max(d, std::fabs(double(a[i]) - b[i]));
    m = std::max(m, std::fabs(double(b[i])));
  }
  return d / m;
}

struct Case {
  LayerSpec spec;
  std::vector<std::vector<int>> bottoms;
  double tolerance;  ///< 0: bit for bit
};

LayerSpec spec(const std::string& type) {
  LayerSpec s;
  s.name = type;
  s.type = type;
  return s;
}

/// One layer on both devices: the same bottoms, parameters, top diffs.
void check_layer(const Case& c) {
  SCOPED_TRACE(c.spec.type);
  std::mt19937 rng(kSeed);
  std::uniform_real_distribution<float> u(-2, 2);
  std::unique_ptr<engine::Layer> host = engine::create_layer(c.spec),
                                 dev = engine::create_layer(c.spec);
  host->set_phase(engine::Phase::train), dev->set_phase(engine::Phase::train);
  host->set_seed(11), dev->set_seed(11);
  const std::size_t nb = c.bottoms.size(), nt = host->num_tops() < 0 ? 2 : host->num_tops();
  std::vector<Blob> hb(nb), db(nb), ht(nt), dt(nt);
  engine::Blobs hbp, dbp, htp, dtp;
  for (std::size_t i = 0; i < nb; ++i) {
    hb[i].reshape(c.bottoms[i]);
    for (std::size_t j = 0; j < hb[i].count(); ++j) hb[i].data()[j] = u(rng);
    db[i] = hb[i];
    hbp.push_back(&hb[i]), dbp.push_back(&db[i]);
  }
  for (std::size_t i = 0; i < nt; ++i) htp.push_back(&ht[i]), dtp.push_back(&dt[i]);
  host->setup(hbp, htp), dev->setup(dbp, dtp);
  host->reshape(hbp, htp), dev->reshape(dbp, dtp);
  for (std::size_t p = 0; p < host->params().size(); ++p) {
    Blob& h = *host->params()[p].blob;
    for (std::size_t j = 0; j < h.count(); ++j) h.data()[j] = u(rng);
    *dev->params()[p].blob = h;
  }
  host->forward(hbp, htp);
  dev->forward_gpu(dbp, dtp);
  for (std::size_t i = 0; i < nt; ++i) {
    for (std::size_t j = 0; j < ht[i].count(); ++j) ht[i].diff()[j] = u(rng);
    std::memcpy(dt[i].diff(), ht[i].diff(), ht[i].count() * sizeof(float));
  }
  const std::vector<bool> pd(nb, true);
  host->backward(htp, pd, hbp);
  dev->backward_gpu(dtp, pd, dbp);
  auto expect_close = [&](const Blob& d, const Blob& h, bool diff, const std::string& what) {
    bool equal = false;
    const double rel =
        max_rel_diff(diff ? d.diff() : d.data(), diff ? h.diff() : h.data(), h.count(), &equal);
    if (c.tolerance == 0)
      EXPECT_TRUE(equal) << what << ": max relative difference " << rel;
    else
      EXPECT_LE(rel, c.tolerance) << what;
  };
  for (std::size_t i = 0; i < nt; ++i)
    expect_close(dt[i], ht[i], false, "top " + std::to_string(i));
  for (std::size_t i = 0; i < nb; ++i)
    expect_close(db[i], hb[i], true, "bottom diff " + std::to_string(i));
  for (std::size_t p = 0; p < host->params().size(); ++p)
    expect_close(*dev->params()[p].blob, *host->params()[p].blob, true,
                 "param diff " + std::to_string(p));
}

TEST(CudaEngine, every_ported_layer_matches_the_cpu) {
  REQUIRE_GPU();
  std::vector<Case> cases;
  cases.push_back({spec("ReLU"), {{2, 3, 5, 5}}, 0});
  for (const char* pool : {"max", "ave"}) {
    LayerSpec s = spec("Pooling");
    s.set("pool", pool).set("kernel_size", 3).set("stride", 2).set("pad", 1);
    cases.push_back({s, {{2, 4, 13, 13}}, 0});
    LayerSpec ceil = spec("Pooling");  // caffenet's: the last window over the edge
    ceil.set("pool", pool).set("kernel_size", 3).set("stride", 2);
    cases.push_back({ceil, {{2, 4, 13, 12}}, 0});
  }
  LayerSpec lrn = spec("LRN");
  lrn.set("local_size", 5).set("alpha", 1e-4).set("beta", 0.75);
  cases.push_back({lrn, {{2, 8, 6, 6}}, 1e-5});  // powf: CUDA's within 2 ulp
  LayerSpec concat = spec("Concat");
  cases.push_back({concat, {{2, 3, 4, 4}, {2, 5, 4, 4}}, 0});
  LayerSpec drop = spec("Dropout");
  drop.set("dropout_ratio", 0.5);
  cases.push_back({drop, {{4, 300}}, 0});
  cases.push_back({spec("Split"), {{2, 3, 4, 4}}, 0});
  LayerSpec conv = spec("Convolution");  // grouped, padded, strided (caffenet's conv2 style)
  conv.set("num_output", 8).set("kernel_size", 3).set("pad", 1).set("stride", 2).set("group", 2);
  cases.push_back({conv, {{2, 6, 9, 9}}, 1e-5});
  LayerSpec ip = spec("InnerProduct");
  ip.set("num_output", 10);
  cases.push_back({ip, {{3, 4, 5, 5}}, 1e-5});
  for (const Case& c : cases) check_layer(c);
}

/// A small LeNet-like net, trained 5 steps on both devices with the solver on each device.
engine::NetSpec small_net() {
  engine::NetSpec s;
  s.name = "small";
  s.input_shape = {1, 12, 12};
  s.classes = 10;
  auto layer = [&](const std::string& type, const std::string& name, const std::string& bottom) {
    LayerSpec l = spec(type);
    l.name = name;
    l.bottoms = {bottom};
    l.tops = {name};
    s.layers.push_back(l);
    return &s.layers.back();
  };
  layer("Convolution", "conv1", "data")->set("num_output", 4).set("kernel_size", 3);
  layer("Pooling", "pool1", "conv1")->set("pool", "max").set("kernel_size", 2).set("stride", 2);
  layer("ReLU", "relu1", "pool1");
  layer("InnerProduct", "ip1", "relu1")->set("num_output", 10);
  s.output = "ip1";
  return s;
}

std::vector<float> train_weights(engine::Device d, engine::SolverType type) {
  engine::set_device(d);
  engine::NetOptions o;
  o.phase = engine::Phase::train;
  o.batch = 8;
  o.with_loss = true;
  o.seed = 3;
  engine::Net net(small_net(), o);
  engine::SolverOptions so;
  so.type = type;
  engine::Solver solver(net, so);
  std::mt19937 rng(kSeed);
  std::uniform_real_distribution<float> u(0, 1);
  for (int step = 0; step < 5; ++step) {
    for (std::size_t i = 0; i < net.input().count(); ++i) net.input().data()[i] = u(rng);
    for (int n = 0; n < 8; ++n) net.label().data()[n] = float((n + step) % 10);
    net.forward();
    net.backward();
    solver.update();
  }
  std::vector<float> w;
  for (const engine::ParamRef& p : net.params())
    w.insert(w.end(), p.param->blob->data(), p.param->blob->data() + p.param->blob->count());
  engine::set_device(engine::Device::cpu);
  return w;
}

TEST(CudaEngine, training_steps_follow_the_cpu) {
  REQUIRE_GPU();
  for (engine::SolverType t : {engine::SolverType::sgd, engine::SolverType::adam}) {
    const std::vector<float> cpu = train_weights(engine::Device::cpu, t);
    const std::vector<float> gpu = train_weights(engine::Device::cuda, t);
    ASSERT_EQ(cpu.size(), gpu.size());
    bool equal = false;
    // Float convolutions: cuBLAS's order of summation, so the weights drift apart by float
    // rounding only (Adam's m / sqrt(v) scales a rounding difference of a tiny gradient up to
    // a learning-rate step, hence 1e-3; a wrong update is O(1)). The quantized layers of
    // `finetune` run their GEMMs through cuBLAS too (quant.cu): cuda.finetune_both_devices.
    EXPECT_LE(max_rel_diff(gpu.data(), cpu.data(), cpu.size(), &equal), 1e-3);
  }
}

TEST(CudaEngine, mirror_round_trip) {
  REQUIRE_GPU();
  Blob b({3, 5});
  for (int i = 0; i < 15; ++i) b.data()[i] = float(i);
  const float* d = b.gpu_data();  // copied up; the host copy stays valid
  EXPECT_NE(d, nullptr);
  EXPECT_EQ(b.data_memory().head(), engine::SyncedMemory::Head::synced);
  b.mutable_gpu_data();
  EXPECT_EQ(b.data_memory().head(), engine::SyncedMemory::Head::device);
  b.zero_data();  // on the device
  const Blob& cb = b;
  EXPECT_EQ(cb.data()[7], 0.0f);  // copied down
  EXPECT_EQ(b.data_memory().head(), engine::SyncedMemory::Head::synced);
}

}  // namespace
}  // namespace ristsim::testbench
