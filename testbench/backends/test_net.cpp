// Net, YAML descriptions, solvers, weight files and determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>

#include "engine/math.h"
#include "engine/net.h"
#include "engine/spec.h"
#include "engine/solver.h"
#include "engine/train.h"
#include "engine/weights_io.h"
#include "gradient_check.h"

namespace ristsim::testbench {
namespace {

using namespace engine;

const char* kSmallDag = R"(
name: dag
input: data
input_shape: [2, 6, 6]
output: ip
layers:
  - {name: conv, type: Convolution, bottom: data, top: conv, num_output: 3, kernel_size: 3, pad: 1,
     weight_filler: {type: gaussian, std: 0.5}, bias_filler: {type: gaussian, std: 0.5}}
  - {name: relu, type: ReLU, bottom: conv, top: conv, negative_slope: 1.0}  # in place, no kink
  - {name: a, type: Convolution, bottom: conv, top: a, num_output: 2, kernel_size: 1,
     weight_filler: {type: gaussian, std: 0.5}}
  - {name: b, type: Pooling, bottom: conv, top: b, pool: ave, kernel_size: 3, stride: 1, pad: 1}
  - {name: cat, type: Concat, bottom: [a, b], top: cat}
  - {name: sum, type: Eltwise, bottom: [cat, cat], top: sum, coeff: [1, 0.5]}
  - {name: bn, type: BatchNorm, bottom: sum, top: bn}
  - {name: sc, type: Scale, bottom: bn, top: sc}
  - {name: ip, type: InnerProduct, bottom: sc, top: ip, num_output: 4,
     weight_filler: {type: gaussian, std: 0.5}}
)";

std::string error_of(const std::string& text) {
  try {
    NetSpec s = parse_net_spec(text, "bad.yaml");
    NetOptions o;
    Net net(s, o);
  } catch (const NetSpecError& e) {
    return e.what();
  }
  return "";
}

TEST(NetYaml, parses_layers_and_params) {
  const NetSpec s = parse_net_spec(kSmallDag, "dag.yaml");
  EXPECT_EQ(s.name, "dag");
  EXPECT_EQ(s.input_shape, (std::vector<int>{2, 6, 6}));
  ASSERT_EQ(s.layers.size(), 9u);
  EXPECT_EQ(s.layers[4].bottoms, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.layers[0].params.at("weight_filler.std").nums, (std::vector<double>{0.5}));
  EXPECT_EQ(s.layers[0].line, 7);
  EXPECT_EQ(s.layers[0].column, 5);
}

TEST(NetYaml, errors_name_file_and_line) {
  EXPECT_NE(error_of("name: x\ninput_shape: [1, 4, 4]\nlayers:\n  - {name: r, type: Relu, bottom: data, top: r}\n")
                .find("bad.yaml:4:5: layer 'r': unknown type 'Relu'"),
            std::string::npos);
  EXPECT_NE(error_of("name: x\ninput_shape: [1, 4, 4]\nlayers:\n  - name: c\n    type: Convolution\n"
                     "    bottom: data\n    top: c\n    num_output: 2\n    kernel_size: 3\n    strid: 2\n")
                .find("bad.yaml:10:12: layer 'c' (Convolution), parameter 'strid': unknown parameter"),
            std::string::npos);
  EXPECT_NE(error_of("name: x\ninput_shape: [1, 4, 4]\nlayers:\n  - {name: r, type: ReLU, bottom: nope, top: r}\n")
                .find("bad.yaml:4:5: layer 'r': bottom 'nope' is not the input"),
            std::string::npos);
  EXPECT_NE(error_of("name: x\ninput_shape: [1, 4, 4]\nlayers:\n  - {name: r, type: ReLU, bottom: data, top: r\n")
                .find("bad.yaml:"),
            std::string::npos);
  EXPECT_NE(error_of("name: x\ninput_shape: [1, 4, 4]\nlayerz: []\n").find("bad.yaml:3:1: unknown key 'layerz' in the network description"),
            std::string::npos);
  EXPECT_NE(error_of("name: x\ninput_shape: [1, 4, 4]\nlayers:\n  - {name: c, type: Convolution, bottom: data, "
                     "top: c, num_output: 2, kernel_size: 9}\n")
                .find("bad.yaml:4:5: layer 'c' (Convolution): kernel 9x9 is larger"),
            std::string::npos);
  EXPECT_NE(error_of("name: x\ninput_shape: [1, 4, 4]\nlayers:\n  - {name: c, type: Convolution, bottom: data, "
                     "top: c, num_output: two, kernel_size: 3}\n")
                .find("bad.yaml:4:68: layer 'c' (Convolution), parameter 'num_output': expected a number"),
            std::string::npos);
  try {
    load_net_spec("/nonexistent/model.yaml");
    FAIL();
  } catch (const NetSpecError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.yaml: cannot open"), std::string::npos);
  }
}

/// Net-level check: dLoss/dparam by finite differences of the whole DAG (splits,
/// in-place ReLU, concat, eltwise, batch norm). Tolerance as gradient_check.h.
TEST(Net, dag_gradients_by_finite_differences) {
  const NetSpec s = parse_net_spec(kSmallDag, "dag.yaml");
  NetOptions o;
  o.batch = 3;
  o.with_loss = true;
  o.phase = Phase::train;
  Net net(s, o);
  int splits = 0;  // conv (after the in-place relu) feeds two layers, cat feeds eltwise twice
  for (int i = 0; i < net.num_layers(); ++i) splits += std::string(net.layer(i).type()) == "Split";
  EXPECT_EQ(splits, 2);
  fill_away_from_zero(net.input(), 0.05f, 3);
  for (int i = 0; i < 3; ++i) net.label().data()[i] = float(i);
  net.zero_param_diffs();
  net.forward();
  net.backward();
  int checked = 0;
  for (const ParamRef& p : net.params()) {
    if (!p.param->learnable) continue;
    Blob& b = *p.param->blob;
    const std::vector<float> analytic(b.diff(), b.diff() + b.count());
    for (std::size_t i = 0; i < b.count(); i += std::max<std::size_t>(1, b.count() / 20)) {
      const float x = b.data()[i];
      const double h = 1e-2;
      b.data()[i] = float(x + h);
      const double lp = net.forward();
      b.data()[i] = float(x - h);
      const double lm = net.forward();
      b.data()[i] = x;
      const double numeric = (lp - lm) / (2 * h);
      EXPECT_NEAR(analytic[i], numeric, 2e-3 * std::max({1.0, std::fabs(numeric), double(std::fabs(analytic[i]))}))
          << p.name << " element " << i;
      ++checked;
    }
  }
  EXPECT_GT(checked, 60);
}

TEST(Net, shapes_of_shipped_models) {
  struct Case { const char* file; std::vector<int> input; std::vector<int> out; };
  const std::string dir = std::string(RISTSIM_SOURCE_DIR) + "/models/";
  for (const Case& c : {Case{"lenet.yaml", {1, 28, 28}, {2, 10}}, Case{"cifar10_full.yaml", {1, 28, 28}, {2, 10}},
                        Case{"cifar10_full.yaml", {3, 32, 32}, {2, 10}}}) {
    NetOptions o;
    o.batch = 2;
    o.input_shape = c.input;
    Net net(load_net_spec(dir + c.file), o);
    EXPECT_EQ(net.output().shape(), c.out) << c.file;
    net.forward();
  }
  NetOptions o;
  o.batch = 1;
  o.input_shape = {1, 28, 28};
  Net lenet(load_net_spec(dir + "lenet.yaml"), o);
  EXPECT_EQ(lenet.blob("pool2")->shape(), (std::vector<int>{1, 50, 4, 4}));
  std::size_t n = 0;
  for (const ParamRef& p : lenet.params()) n += p.param->blob->count();
  EXPECT_EQ(n, 431080u);  // Caffe's LeNet: 520 + 25050 + 400500 + 5010
  Net cifar(load_net_spec(dir + "cifar10_full.yaml"), o);
  EXPECT_EQ(cifar.blob("pool1")->shape(), (std::vector<int>{1, 32, 14, 14}));
  EXPECT_EQ(cifar.blob("pool3")->shape(), (std::vector<int>{1, 64, 3, 3}));
}

TEST(Net, imagenet_models_build_and_run) {
  struct Case { const char* file; const char* blob; std::vector<int> shape; std::size_t params; };
  const std::string dir = std::string(RISTSIM_SOURCE_DIR) + "/models/";
  for (const Case& c : {Case{"squeezenet.yaml", "pool10", {1, 1000, 1, 1}, 1248424u},
                        Case{"caffenet.yaml", "pool5", {1, 256, 6, 6}, 60965224u},
                        Case{"googlenet.yaml", "inception_3a/output", {1, 256, 28, 28}, 0}}) {
    SCOPED_TRACE(c.file);
    NetOptions o;
    Net net(load_net_spec(dir + c.file), o);  // the description's own input shape
    EXPECT_EQ(net.blob(c.blob)->shape(), c.shape);
    EXPECT_EQ(net.output().count(), 1000u);
    std::size_t n = 0;
    for (const ParamRef& p : net.params()) n += p.param->blob->count();
    if (c.params) EXPECT_EQ(n, c.params);  // the published parameter counts
    fill_uniform(net.input(), 0, 1, 1);
    net.forward();
    for (std::size_t i = 0; i < net.output().count(); ++i) ASSERT_TRUE(std::isfinite(net.output().data()[i]));
  }
}

TEST(Solver, learning_rate_policies) {
  const NetSpec s = parse_net_spec(kSmallDag, "dag.yaml");
  Net net(s, NetOptions{});
  SolverOptions o;
  o.base_lr = 0.1f;
  o.policy = LrPolicy::step;
  o.step_size = 10;
  o.gamma = 0.5f;
  Solver step(net, o);
  EXPECT_FLOAT_EQ(step.learning_rate(9), 0.1f);
  EXPECT_FLOAT_EQ(step.learning_rate(10), 0.05f);
  EXPECT_FLOAT_EQ(step.learning_rate(25), 0.025f);
  o.policy = LrPolicy::cosine;
  o.max_iter = 100;
  Solver cosine(net, o);
  EXPECT_FLOAT_EQ(cosine.learning_rate(0), 0.1f);
  EXPECT_FLOAT_EQ(cosine.learning_rate(50), 0.05f);
  EXPECT_NEAR(cosine.learning_rate(100), 0.0f, 1e-9);
  o.policy = LrPolicy::fixed;
  Solver fixed(net, o);
  EXPECT_FLOAT_EQ(fixed.learning_rate(1000), 0.1f);
}

TEST(Solver, sgd_and_adam_updates) {
  const char* text = "name: one\ninput_shape: [1, 1, 1]\nlayers:\n  - {name: ip, type: InnerProduct, bottom: data, "
                     "top: ip, num_output: 1, bias_term: false, lr_mult: [2], weight_filler: {type: constant, value: 1}}\n";
  for (SolverType t : {SolverType::sgd, SolverType::adam}) {
    Net net(parse_net_spec(text, "one.yaml"), NetOptions{});
    Blob& w = *net.params()[0].param->blob;
    SolverOptions o;
    o.type = t;
    o.base_lr = 0.1f;
    o.momentum = 0.9f;
    o.weight_decay = 0.01f;
    Solver solver(net, o);
    w.diff()[0] = 0.5f;
    solver.update();
    EXPECT_EQ(w.diff()[0], 0.0f);  // cleared
    if (t == SolverType::sgd) {
      // v = 0.2 * (0.5 + 0.01 * 1) = 0.102; w = 0.898. Then g = 0.5 again:
      EXPECT_FLOAT_EQ(w.data()[0], 0.898f);
      w.diff()[0] = 0.5f;
      solver.update();  // v = 0.9 * 0.102 + 0.2 * (0.5 + 0.00898) = 0.19359...
      EXPECT_NEAR(w.data()[0], 0.898 - (0.9 * 0.102 + 0.2 * (0.5 + 0.01 * 0.898)), 1e-6);
    } else {
      // First Adam step moves by lr * lr_mult * m_hat / sqrt(v_hat) = 0.2 * sign(g).
      EXPECT_NEAR(w.data()[0], 0.8, 1e-6);
    }
  }
}

/// Synthetic 10-class data: class c has a bright 3x3 square at a class-dependent place.
struct Synthetic {
  std::vector<float> images;
  std::vector<int32_t> labels;
  Samples samples;
  Synthetic(int n, uint64_t seed) {
    Rng rng(seed);
    images.assign(std::size_t(n) * 28 * 28, 0.0f);
    for (int i = 0; i < n; ++i) {
      const int c = static_cast<int>(rng.below(10));
      labels.push_back(c);
      float* im = images.data() + std::size_t(i) * 784;
      for (int p = 0; p < 784; ++p) im[p] = 0.3f * rng.uniform();
      const int y0 = 2 + (c / 5) * 12 + static_cast<int>(rng.below(4)), x0 = 2 + (c % 5) * 5;
      for (int y = 0; y < 3; ++y)
        for (int x = 0; x < 3; ++x) im[(y0 + y) * 28 + x0 + x] = 1.0f;
    }
    samples = Samples{n, 1, 28, 28, 10, images.data(), labels.data()};
  }
};

std::vector<float> train_lenet(uint64_t seed, int threads, double* top1) {
  set_num_threads(threads);
  NetOptions o;
  o.batch = 32;
  o.with_loss = true;
  o.phase = Phase::train;
  o.seed = seed;
  Net net(load_net_spec(std::string(RISTSIM_SOURCE_DIR) + "/models/lenet.yaml"), o);
  Synthetic train(640, 5), test(200, 6);
  TrainConfig cfg;
  cfg.epochs = 2;
  cfg.batch = 32;
  cfg.seed = seed;
  cfg.solver.base_lr = 0.01f;
  cfg.solver.policy = LrPolicy::cosine;
  cfg.shift = 1;
  engine::train(net, train.samples, nullptr, cfg);
  *top1 = evaluate(net, test.samples, 50).top1;
  std::vector<float> all;
  for (const ParamRef& p : net.params()) all.insert(all.end(), p.param->blob->data(), p.param->blob->data() + p.param->blob->count());
  return all;
}

TEST(Train, same_seed_same_bits_and_it_learns) {
  double a1, a2, a3;
  const std::vector<float> a = train_lenet(42, 2, &a1);
  const std::vector<float> b = train_lenet(42, 2, &a2);
  const std::vector<float> c = train_lenet(43, 2, &a3);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << "seed 42 twice";
  EXPECT_NE(std::memcmp(a.data(), c.data(), a.size() * sizeof(float)), 0) << "seeds 42 and 43";
  EXPECT_EQ(a1, a2);
  EXPECT_GE(a1, 0.85) << "LeNet on the synthetic squares";
}

TEST(Train, thread_count_does_not_change_bits) {
  double a1, a2;
  const std::vector<float> a = train_lenet(7, 1, &a1);
  const std::vector<float> b = train_lenet(7, 2, &a2);
  set_num_threads(2);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

// A checkpoint taken between two batches (TrainState + weights) resumes to the same bits as an
// uninterrupted run: SGD momentum, cosine schedule, mirror + shift augmentation (the epoch's Rng
// position matters), mid-epoch and at an epoch's end; the state survives its file.
TEST(Train, resume_from_a_checkpoint_gives_the_same_bits) {
  const char* text = R"(
name: small
input_shape: [1, 28, 28]
layers:
  - {name: conv, type: Convolution, bottom: data, top: conv, num_output: 4, kernel_size: 5, stride: 3}
  - {name: relu, type: ReLU, bottom: conv, top: conv}
  - {name: ip, type: InnerProduct, bottom: conv, top: ip, num_output: 10}
)";
  const Synthetic train(200, 8);
  auto make = [&] {
    NetOptions o;
    o.batch = 20;
    o.with_loss = true;
    o.phase = Phase::train;
    o.seed = 4;
    return std::make_unique<Net>(parse_net_spec(text, "small.yaml"), o);
  };
  auto params = [](Net& net) {
    std::vector<float> v;
    for (const ParamRef& p : net.params()) v.insert(v.end(), p.param->blob->data(), p.param->blob->data() + p.param->blob->count());
    return v;
  };
  TrainConfig cfg;
  cfg.epochs = 3;
  cfg.batch = 20;  // 10 batches per epoch
  cfg.seed = 12;
  cfg.solver.base_lr = 0.05f;
  cfg.solver.policy = LrPolicy::cosine;
  cfg.mirror = true;
  cfg.shift = 2;
  cfg.checkpoint_every = 4;
  std::map<int64_t, std::pair<TrainState, std::vector<float>>> saved;  // by solver iteration
  auto a = make();
  cfg.checkpoint = [&](const TrainState& st) { saved[st.solver.iter] = {st, params(*a)}; };
  const std::vector<EpochResult> ra = engine::train(*a, train.samples, nullptr, cfg);
  const std::vector<float> want = params(*a);
  // Checkpoints after batches 4 and 8 of each epoch and at its end (iterations 10, 20, 30).
  std::vector<int64_t> iters;
  for (const auto& [it, s] : saved) iters.push_back(it);
  EXPECT_EQ(iters, (std::vector<int64_t>{4, 8, 10, 14, 18, 20, 24, 28, 30}));
  EXPECT_EQ(saved[14].first.epoch, 2);
  EXPECT_EQ(saved[14].first.batch, 4);
  EXPECT_EQ(saved[20].first.epoch, 3);
  EXPECT_EQ(saved[20].first.batch, 0);
  // The learning rate of the last update: cosine at iteration 29 of 30.
  Solver probe(*a, [&] { SolverOptions so = cfg.solver; so.max_iter = 30; return so; }());
  EXPECT_EQ(ra.back().last_lr, probe.learning_rate(29));
  EXPECT_GT(ra.back().last_lr, 0.0f);

  const std::string path = ::testing::TempDir() + "ristsim_train_state.bin";
  for (int64_t at : {int64_t(14), int64_t(20)}) {
    SCOPED_TRACE("resumed at iteration " + std::to_string(at));
    save_train_state(saved[at].first, path);
    const TrainState st = load_train_state(path);
    auto b = make();
    std::size_t k = 0;
    for (const ParamRef& p : b->params())
      for (std::size_t i = 0; i < p.param->blob->count(); ++i) p.param->blob->data()[i] = saved[at].second[k++];
    TrainConfig rc = cfg;
    rc.checkpoint = nullptr;
    rc.resume = &st;
    const std::vector<EpochResult> rb = engine::train(*b, train.samples, nullptr, rc);
    const std::vector<float> got = params(*b);
    ASSERT_EQ(got.size(), want.size());
    EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0);
    EXPECT_EQ(rb.front().train_loss, ra[st.epoch - 1].train_loss);  // the resumed epoch's loss
  }
  // Another batch size is refused, in the first epoch too (where the iteration count alone
  // cannot tell: 4 batches of 20 or of 10 are both iteration 4).
  {
    save_train_state(saved[4].first, path);
    const TrainState st = load_train_state(path);
    EXPECT_EQ(st.batch_size, 20);
    auto b = make();
    TrainConfig rc = cfg;
    rc.checkpoint = nullptr;
    rc.resume = &st;
    rc.batch = 10;
    try {
      engine::train(*b, train.samples, nullptr, rc);
      ADD_FAILURE() << "a resume with another batch size was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("batch size 20"), std::string::npos) << e.what();
    }
  }
  // A state file that is not one is named.
  std::ofstream(path) << "not a state";
  try {
    load_train_state(path);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

TEST(WeightsIo, round_trip_and_mismatch_errors) {
  const std::string dir = std::string(RISTSIM_SOURCE_DIR) + "/models/";
  NetOptions o;
  o.input_shape = {1, 28, 28};
  o.seed = 3;
  Net a(load_net_spec(dir + "lenet.yaml"), o);
  o.seed = 4;
  Net b(load_net_spec(dir + "lenet.yaml"), o);
  const std::string path = ::testing::TempDir() + "ristsim_lenet.rstw";
  save_weights(a, path);
  load_weights(b, path);
  for (std::size_t i = 0; i < a.params().size(); ++i) {
    const Blob& x = *a.params()[i].param->blob;
    const Blob& y = *b.params()[i].param->blob;
    ASSERT_EQ(std::memcmp(x.data(), y.data(), x.count() * 4), 0) << a.params()[i].name;
  }
  Net c(load_net_spec(dir + "cifar10_full.yaml"), o);
  try {
    load_weights(c, path);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": blob 'conv1.0' has shape [20, 1, 5, 5], the network expects [32, 1, 5, 5]"),
              std::string::npos)
        << e.what();
  }
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << "RSTWGT01\x05";
  }
  EXPECT_THROW(load_weights(a, path), std::runtime_error);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace ristsim::testbench
