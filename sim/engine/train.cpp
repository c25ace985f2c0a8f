#include "engine/train.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <numeric>
#include <stdexcept>

#include "engine/layers.h"
#include "engine/math.h"
#include "engine/quant.h"
#include "util/output.h"

namespace ristsim::engine {

namespace {
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void copy_image(const Samples& s, int index, float* dst, bool mirror, int dy, int dx) {
  const float* src = s.images + std::size_t(index) * s.image_size();
  if (!mirror && dy == 0 && dx == 0) {
    std::memcpy(dst, src, sizeof(float) * s.image_size());
    return;
  }
  for (int c = 0; c < s.c; ++c)
    for (int y = 0; y < s.h; ++y)
      for (int x = 0; x < s.w; ++x) {
        const int sy = y - dy;
        int sx = x - dx;
        if (mirror) sx = s.w - 1 - sx;
        float v = 0;
        if (sy >= 0 && sy < s.h && sx >= 0 && sx < s.w) v = src[(std::size_t(c) * s.h + sy) * s.w + sx];
        dst[(std::size_t(c) * s.h + y) * s.w + x] = v;
      }
}
}  // namespace

void check_samples(const Net& net, const Samples& data, const char* what) {
  const std::vector<int>& s = net.input().shape();
  if (data.c != s[1] || data.h != s[2] || data.w != s[3])
    throw std::runtime_error(std::string(what) + " images are " + std::to_string(data.c) + "x" +
                             std::to_string(data.h) + "x" + std::to_string(data.w) + ", network '" +
                             net.spec().name + "' takes " + std::to_string(s[1]) + "x" +
                             std::to_string(s[2]) + "x" + std::to_string(s[3]));
  const int outputs = net.output().shape(1);
  if (data.classes > outputs)
    throw std::runtime_error(std::string(what) + " set has " + std::to_string(data.classes) +
                             " classes, network '" + net.spec().name + "' has " +
                             std::to_string(outputs) + " outputs");
  if (data.n <= 0) throw std::runtime_error(std::string(what) + " set is empty");
}

std::vector<EpochResult> train(Net& net, const Samples& data, const Samples* test,
                               const TrainConfig& cfg, const ProgressFn& progress) {
  if (!net.has_loss()) throw std::logic_error("train: the net needs a loss (NetOptions::with_loss)");
  check_samples(net, data, "training");
  if (test) check_samples(net, *test, "test");
  if (cfg.batch <= 0 || cfg.batch > data.n)
    throw std::runtime_error("batch size " + std::to_string(cfg.batch) + " must be in 1.." +
                             std::to_string(data.n));
  const int64_t batches = data.n / cfg.batch;
  if (cfg.epochs <= 0) return {};
  SolverOptions so = cfg.solver;
  if (so.policy == LrPolicy::cosine && so.max_iter <= 1) so.max_iter = batches * cfg.epochs;
  Solver solver(net, so);
  int first_epoch = 1;
  if (const TrainState* r = cfg.resume) {
    if (r->batch < 0 || r->batch >= batches || r->epoch < 1)
      throw std::runtime_error("resume: the checkpoint is at epoch " + std::to_string(r->epoch) +
                               ", batch " + std::to_string(r->batch) + ", but an epoch has " +
                               std::to_string(batches) + " batches");
    // Checked first: within the first epoch another batch size still gives a consistent
    // iteration count below, but other bits.
    if (r->batch_size > 0 && r->batch_size != cfg.batch)
      throw std::runtime_error("resume: the checkpoint was made with batch size " +
                               std::to_string(r->batch_size) + ", this run has " +
                               std::to_string(cfg.batch));
    solver.set_state(r->solver);
    if (solver.iter() != int64_t(r->epoch - 1) * batches + r->batch)
      throw std::runtime_error("resume: the checkpoint's solver is at iteration " +
                               std::to_string(solver.iter()) + ", not at epoch " +
                               std::to_string(r->epoch) + " batch " + std::to_string(r->batch) +
                               " of " + std::to_string(batches) + " batches (another batch size or data set?)");
    if (solver.learning_rate(solver.iter()) != r->lr)
      throw std::runtime_error("resume: the checkpoint's next learning rate is " + std::to_string(r->lr) +
                               ", this run's is " + std::to_string(solver.learning_rate(solver.iter())) +
                               " (other solver options)");
    first_epoch = r->epoch;
  }
  auto state = [&](int epoch, int64_t batch, const Rng& rng, double loss_sum) {
    TrainState s;
    s.epoch = epoch, s.batch = batch, s.rng = batch ? rng.position() : 0, s.loss_sum = loss_sum;
    s.lr = solver.learning_rate(solver.iter());
    s.batch_size = cfg.batch;
    s.solver = solver.state();
    return s;
  };
  const std::vector<WeightedLayer*> weighted = net.weighted_layers();
  SoftmaxWithLossLayer* loss_layer = nullptr;
  std::vector<float> soft_targets;
  if (cfg.teacher) {
    loss_layer = dynamic_cast<SoftmaxWithLossLayer*>(net.layer("loss"));
    if (!loss_layer) throw std::runtime_error("distillation needs the net's SoftmaxWithLoss layer");
  }
  net.set_phase(Phase::train);
  net.reshape(cfg.batch);
  net.zero_param_diffs();
  std::vector<int> order(data.n);
  std::vector<EpochResult> results;
  for (int epoch = first_epoch; epoch <= cfg.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), 0);
    Rng rng(derive_seed(cfg.seed, 0x5eed0000ull + epoch));
    for (int i = data.n - 1; i > 0; --i) std::swap(order[i], order[rng.below(uint64_t(i) + 1)]);
    int64_t b0 = 0;
    double loss_sum = 0;
    if (cfg.resume && epoch == first_epoch && cfg.resume->batch > 0) {
      b0 = cfg.resume->batch;
      rng = Rng(cfg.resume->rng);
      loss_sum = cfg.resume->loss_sum;
    }
    const double t0 = now_s();
    float last_lr = 0;
    net.set_phase(Phase::train);
    net.reshape(cfg.batch);
    for (int64_t b = b0; b < batches; ++b) {
      float* in = net.input().data();
      float* lab = net.label().data();
      for (int i = 0; i < cfg.batch; ++i) {
        const int idx = order[b * cfg.batch + i];
        const bool mirror = cfg.mirror && (rng.next_u64() >> 63);
        int dy = 0, dx = 0;
        if (cfg.shift > 0) {
          dy = static_cast<int>(rng.below(2 * cfg.shift + 1)) - cfg.shift;
          dx = static_cast<int>(rng.below(2 * cfg.shift + 1)) - cfg.shift;
        }
        copy_image(data, idx, in + std::size_t(i) * data.image_size(), mirror, dy, dx);
        lab[i] = static_cast<float>(data.labels[idx]);
      }
      const float lr = last_lr = solver.learning_rate(solver.iter());
      // Stochastic rounding of quantized layers: keyed by the iteration (resumable).
      for (WeightedLayer* l : weighted)
        if (l->quant()) l->quant()->set_train_step(uint64_t(solver.iter()));
      if (loss_layer) {
        cfg.teacher(net.input(), &soft_targets);
        if (soft_targets.size() != net.output().count())
          throw std::runtime_error("distillation: the teacher gave " + std::to_string(soft_targets.size()) +
                                   " probabilities for " + std::to_string(net.output().count()) + " scores");
        loss_layer->set_soft_targets(soft_targets.data(), cfg.distill_weight, cfg.distill_temperature);
      }
      loss_sum += net.forward();
      net.backward();
      if (loss_layer) loss_layer->set_soft_targets(nullptr, 0, 1);  // evaluations use the plain loss
      solver.update();
      if (progress && ((b + 1) % std::max(1, cfg.progress_every) == 0 || b + 1 == batches)) {
        Progress p;
        p.epoch = epoch, p.epochs = cfg.epochs, p.batch = b + 1, p.batches = batches;
        p.loss = loss_sum / double(b + 1);
        p.seconds = now_s() - t0;
        p.images_per_s = double(b + 1 - b0) * cfg.batch / std::max(p.seconds, 1e-9);
        p.lr = lr;
        progress(p);
      }
      if (cfg.checkpoint && cfg.checkpoint_every > 0 && (b + 1) % cfg.checkpoint_every == 0 &&
          b + 1 < batches)
        cfg.checkpoint(state(epoch, b + 1, rng, loss_sum));
    }
    EpochResult r;
    r.epoch = epoch;
    r.seconds = now_s() - t0;
    r.train_loss = loss_sum / double(batches);
    r.last_lr = last_lr;
    r.images_per_s = double(batches - b0) * cfg.batch / std::max(r.seconds, 1e-9);
    if (test) {
      const EvalResult e = evaluate(net, *test, std::max(cfg.batch, 100));
      r.test_top1 = e.top1;
      r.test_loss = e.loss;
    }
    results.push_back(r);
    if (progress) {
      Progress p;
      p.epoch = epoch, p.epochs = cfg.epochs, p.batch = batches, p.batches = batches;
      p.loss = r.train_loss, p.seconds = r.seconds, p.images_per_s = r.images_per_s;
      p.lr = solver.learning_rate(solver.iter());
      p.epoch_done = true;
      p.test_top1 = r.test_top1;
      progress(p);
    }
    if (cfg.checkpoint) {
      net.set_phase(Phase::train);
      cfg.checkpoint(state(epoch + 1, 0, rng, 0));
    }
  }
  net.set_phase(Phase::test);
  return results;
}

namespace {
constexpr char kStateMagic[8] = {'R', 'S', 'T', 'T', 'R', 'N', '0', '2'};
constexpr char kStateMagicV1[8] = {'R', 'S', 'T', 'T', 'R', 'N', '0', '1'};  // no batch_size
}  // namespace

void save_train_state(const TrainState& s, const std::string& path) {
  std::string b(kStateMagic, 8);
  auto put = [&](const void* p, std::size_t n) { b.append(static_cast<const char*>(p), n); };
  auto floats = [&](const std::vector<float>& v) {
    const uint32_t n = static_cast<uint32_t>(v.size());
    put(&n, 4);
    put(v.data(), v.size() * sizeof(float));
  };
  const int32_t epoch = s.epoch;
  put(&epoch, 4), put(&s.batch, 8), put(&s.rng, 8), put(&s.loss_sum, 8), put(&s.lr, 4);
  put(&s.batch_size, 8);
  put(&s.solver.iter, 8);
  const uint32_t P = static_cast<uint32_t>(s.solver.m.size());
  put(&P, 4);
  for (uint32_t i = 0; i < P; ++i) {
    floats(s.solver.m[i]);
    floats(i < s.solver.v.size() ? s.solver.v[i] : std::vector<float>{});
  }
  util::write_file(path, b);
}

TrainState load_train_state(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot read the training state");
  const std::string b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::size_t at = 0;
  auto get = [&](void* p, std::size_t n) {
    if (b.size() - at < n) throw std::runtime_error(path + ": training state truncated at byte " + std::to_string(at));
    if (n) std::memcpy(p, b.data() + at, n);  // an empty vector's data() may be null (SGD: no v)
    at += n;
  };
  auto floats = [&]() {
    uint32_t n = 0;
    get(&n, 4);
    if ((b.size() - at) / sizeof(float) < n)
      throw std::runtime_error(path + ": training state truncated at byte " + std::to_string(at));
    std::vector<float> v(n);
    get(v.data(), std::size_t(n) * sizeof(float));
    return v;
  };
  const bool v1 = b.size() >= 8 && b.compare(0, 8, kStateMagicV1, 8) == 0;
  if (b.size() < 8 || (!v1 && b.compare(0, 8, kStateMagic, 8) != 0))
    throw std::runtime_error(path + ": not a training state (magic RSTTRN02 missing)");
  at = 8;
  TrainState s;
  int32_t epoch = 0;
  uint32_t P = 0;
  get(&epoch, 4), get(&s.batch, 8), get(&s.rng, 8), get(&s.loss_sum, 8), get(&s.lr, 4);
  if (!v1) get(&s.batch_size, 8);
  get(&s.solver.iter, 8);
  get(&P, 4);
  s.epoch = epoch;
  for (uint32_t i = 0; i < P; ++i) {
    s.solver.m.push_back(floats());
    s.solver.v.push_back(floats());
  }
  if (at != b.size()) throw std::runtime_error(path + ": " + std::to_string(b.size() - at) + " bytes after the training state");
  return s;
}

SampleStream::SampleStream(const Samples& s)
    : n(s.n), c(s.c), h(s.h), w(s.w), classes(s.classes) {
  read = [s](int first, int count, float* images, int32_t* labels) {
    if (count <= 0) return;
    std::memcpy(images, s.images + std::size_t(first) * s.image_size(),
                sizeof(float) * s.image_size() * count);
    std::memcpy(labels, s.labels + first, sizeof(int32_t) * count);
  };
}

void check_samples(const Net& net, const SampleStream& data, const char* what) {
  Samples shape;
  shape.n = data.n, shape.c = data.c, shape.h = data.h, shape.w = data.w;
  shape.classes = data.classes;
  check_samples(net, shape, what);
}

EvalResult evaluate(Net& net, const SampleStream& data, int batch, const ProgressFn& progress) {
  check_samples(net, data, "evaluation");
  const Phase old_phase = net.phase();
  const int old_batch = net.batch();
  net.set_phase(Phase::test);
  const double t0 = now_s();
  EvalResult r;
  double loss = 0;
  int64_t correct1 = 0, correct5 = 0;
  std::vector<int32_t> labels(std::size_t(std::max(1, std::min(batch, data.n))));
  for (int start = 0; start < data.n; start += batch) {
    const int nb = std::min(batch, data.n - start);
    if (net.batch() != nb) net.reshape(nb);
    data.read(start, nb, net.input().data(), labels.data());
    if (net.has_loss())
      for (int i = 0; i < nb; ++i) net.label().data()[i] = static_cast<float>(labels[i]);
    loss += double(net.forward()) * nb;
    const Blob& out = net.output();
    const int C = static_cast<int>(out.count(1));
    for (int i = 0; i < nb; ++i) {
      const float* s = out.data() + std::size_t(i) * C;
      const int label = labels[i];
      int rank = 0;  // classes scoring above the label (ties: lower index first)
      for (int c = 0; c < C; ++c)
        if (s[c] > s[label] || (s[c] == s[label] && c < label)) ++rank;
      correct1 += rank < 1;
      correct5 += rank < 5;
    }
    if (progress) {
      Progress p;
      p.batch = start / batch + 1;
      p.batches = (data.n + batch - 1) / batch;
      p.seconds = now_s() - t0;
      p.images_per_s = double(start + nb) / std::max(p.seconds, 1e-9);
      progress(p);
    }
  }
  r.images = data.n;
  r.top1 = double(correct1) / data.n;
  r.top5 = double(correct5) / data.n;
  r.loss = net.has_loss() ? loss / data.n : 0;
  r.seconds = now_s() - t0;
  net.set_phase(old_phase);
  if (net.batch() != old_batch) net.reshape(old_batch);
  return r;
}

void quantize_net(Net& net, const config::Arch& arch, const SampleStream& calib, int calib_images,
                  int batch) {
  detach_quantization(net);
  if (has_dynamic_groups(arch)) {
    if (calib_images <= 0 || calib.n <= 0)
      throw std::runtime_error("arch '" + arch.name +
                               "' has dynamic fixed point: a range analysis needs calibration images");
    SampleStream first = calib;
    first.n = std::min(calib.n, calib_images);
    attach_measurement(net);
    evaluate(net, first, batch);
  }
  attach_arch(net, arch);
}

}  // namespace ristsim::engine
