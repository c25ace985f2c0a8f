// Finite-difference gradient checker for engine layers (Caffe's GradientChecker).
//
// The objective is L = sum_t sum_i r_t[i] * top_t[i] with fixed random weights
// r, so dL/dtop = r. The analytic gradients (one backward pass) of every
// bottom and parameter element are compared with central differences
//   (L(x + h) - L(x - h)) / 2h,   h = 1e-2,
// evaluated in double from float forward passes. Accept when
//   |analytic - numeric| <= tol * max(1, |analytic|, |numeric|),  tol = 2e-3.
// Why this tolerance: the layers compute in float32 (relative rounding ~6e-8
// per operation, sums of up to a few hundred terms), and the truncation error
// of central differences with h = 1e-2 is O(h^2 * f''') ~ 1e-4 for the smooth
// layers (LRN, softmax, batch norm). 2e-3 is Caffe's 1e-3 with room for the
// longer float sums; a wrong index or a missing term gives errors of order 1.
// Inputs of kinked layers (ReLU, max pooling) are drawn at least 2h away from
// their kinks, so the difference quotient never straddles one.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine/layer.h"
#include "engine/math.h"

namespace ristsim::testbench {

using engine::Blob;
using engine::Blobs;
using engine::Layer;

struct GradCheckOptions {
  double step = 1e-2;
  double tol = 2e-3;
  int max_elements = 150;  ///< elements checked per blob (spread evenly)
  uint64_t seed = 1701;
  std::vector<bool> check_bottom;  ///< empty: all bottoms
};

inline double objective(const Blobs& top, const std::vector<std::vector<float>>& r) {
  double l = 0;
  for (std::size_t t = 0; t < top.size(); ++t)
    for (std::size_t i = 0; i < top[t]->count(); ++i) l += double(r[t][i]) * top[t]->data()[i];
  return l;
}

/// Checks every bottom (unless excluded) and every learnable parameter.
inline void check_gradients(Layer& layer, const Blobs& bottom, const Blobs& top,
                            const GradCheckOptions& opt = {}) {
  SCOPED_TRACE("layer " + layer.name() + " (" + layer.type() + "), seed " + std::to_string(opt.seed));
  engine::Rng rng(opt.seed);
  layer.forward(bottom, top);
  std::vector<std::vector<float>> r(top.size());
  for (std::size_t t = 0; t < top.size(); ++t) {
    r[t].resize(top[t]->count());
    for (float& v : r[t]) v = rng.uniform(-1.0f, 1.0f);
  }
  // Analytic gradients.
  for (std::size_t t = 0; t < top.size(); ++t)
    std::copy(r[t].begin(), r[t].end(), top[t]->diff());
  std::vector<bool> pd(bottom.size(), true);
  for (std::size_t i = 0; i < opt.check_bottom.size() && i < pd.size(); ++i) pd[i] = opt.check_bottom[i];
  for (auto& p : layer.params()) p.blob->zero_diff();
  for (std::size_t b = 0; b < bottom.size(); ++b)
    if (pd[b]) std::fill(bottom[b]->diff(), bottom[b]->diff() + bottom[b]->count(), 12345.0f);  // must be overwritten
  layer.backward(top, pd, bottom);

  std::vector<std::pair<std::string, Blob*>> targets;
  for (std::size_t b = 0; b < bottom.size(); ++b)
    if (pd[b]) targets.push_back({"bottom " + std::to_string(b), bottom[b]});
  for (std::size_t p = 0; p < layer.params().size(); ++p)
    if (layer.params()[p].learnable) targets.push_back({"param " + std::to_string(p), layer.params()[p].blob.get()});
  ASSERT_FALSE(targets.empty());
  for (auto& [what, blob] : targets) {
    const std::vector<float> analytic(blob->diff(), blob->diff() + blob->count());
    const std::size_t n = blob->count();
    const std::size_t stride = std::max<std::size_t>(1, n / opt.max_elements);
    int failures = 0;
    for (std::size_t i = 0; i < n; i += stride) {
      const float x = blob->data()[i];
      blob->data()[i] = static_cast<float>(x + opt.step);
      layer.forward(bottom, top);
      const double lp = objective(top, r);
      blob->data()[i] = static_cast<float>(x - opt.step);
      layer.forward(bottom, top);
      const double lm = objective(top, r);
      blob->data()[i] = x;
      const double numeric = (lp - lm) / (2 * opt.step);
      const double a = analytic[i];
      const double scale = std::max({1.0, std::fabs(a), std::fabs(numeric)});
      if (std::fabs(a - numeric) > opt.tol * scale && failures++ < 5)
        ADD_FAILURE() << what << " element " << i << ": analytic " << a << ", numeric " << numeric;
    }
    EXPECT_EQ(failures, 0) << what << " of " << blob->shape_string();
  }
  layer.forward(bottom, top);
}

/// Fills a blob with uniform values in [lo, hi).
inline void fill_uniform(Blob& b, float lo, float hi, uint64_t seed) {
  engine::Rng rng(seed);
  for (std::size_t i = 0; i < b.count(); ++i) b.data()[i] = rng.uniform(lo, hi);
}

/// Values at least `gap` away from zero, both signs.
inline void fill_away_from_zero(Blob& b, float gap, uint64_t seed) {
  engine::Rng rng(seed);
  for (std::size_t i = 0; i < b.count(); ++i) {
    const float m = gap + rng.uniform(0.0f, 1.0f);
    b.data()[i] = (rng.next_u64() >> 63) ? m : -m;
  }
}

/// A random permutation of values spaced `gap` apart (no ties, for max pooling).
inline void fill_distinct(Blob& b, float gap, uint64_t seed) {
  engine::Rng rng(seed);
  std::vector<float> v(b.count());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = gap * (float(i) - float(v.size()) / 2);
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
  std::copy(v.begin(), v.end(), b.data());
}

/// Builds a layer from a spec, runs setup and reshape.
inline std::unique_ptr<Layer> make_layer(const engine::LayerSpec& spec, const Blobs& bottom,
                                         const Blobs& top, engine::Phase phase = engine::Phase::train,
                                         uint64_t seed = 7) {
  auto l = engine::create_layer(spec);
  l->set_seed(seed);
  l->set_phase(phase);
  l->setup(bottom, top);
  l->spec().check_all_used();
  l->reshape(bottom, top);
  return l;
}

}  // namespace ristsim::testbench
