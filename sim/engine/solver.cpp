#include "engine/solver.h"

#include <cmath>
#include <stdexcept>

namespace ristsim::engine {

bool parse_solver_type(const std::string& s, SolverType* out) {
  if (s == "sgd") return *out = SolverType::sgd, true;
  if (s == "adam") return *out = SolverType::adam, true;
  return false;
}

bool parse_lr_policy(const std::string& s, LrPolicy* out) {
  if (s == "fixed") return *out = LrPolicy::fixed, true;
  if (s == "step") return *out = LrPolicy::step, true;
  if (s == "cosine") return *out = LrPolicy::cosine, true;
  return false;
}

Solver::Solver(Net& net, const SolverOptions& options) : net_(net), opt_(options) {
  for (const ParamRef& p : net_.params())
    if (p.param->learnable) params_.push_back(p);
  m_.resize(params_.size());
  v_.resize(params_.size());
  for (std::size_t i = 0; i < params_.size(); ++i) {
    m_[i].resize(params_[i].param->blob->count());
    if (opt_.type == SolverType::adam) v_[i].resize(params_[i].param->blob->count());
  }
}

SolverState Solver::state() const {
  SolverState s{iter_, {}, {}};
  for (std::size_t i = 0; i < m_.size(); ++i) {
    s.m.emplace_back(m_[i].host(), m_[i].host() + m_[i].size());
    s.v.emplace_back(v_[i].host(), v_[i].host() + v_[i].size());
  }
  return s;
}

void Solver::set_state(const SolverState& s) {
  if (s.m.size() != params_.size() || s.v.size() != params_.size())
    throw std::runtime_error("solver state: " + std::to_string(s.m.size()) +
                             " parameter blobs, the net has " + std::to_string(params_.size()));
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const std::size_t n = params_[i].param->blob->count();
    const std::size_t nv = opt_.type == SolverType::adam ? n : 0;
    if (s.m[i].size() != n || s.v[i].size() != nv)
      throw std::runtime_error("solver state: parameter blob " + std::to_string(i) + " has " +
                               std::to_string(s.m[i].size()) + "/" + std::to_string(s.v[i].size()) +
                               " moments, the " + (opt_.type == SolverType::adam ? "adam" : "sgd") +
                               " solver needs " + std::to_string(n) + "/" + std::to_string(nv));
  }
  if (s.iter < 0) throw std::runtime_error("solver state: negative iteration count");
  iter_ = s.iter;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    m_[i].assign(s.m[i].data(), s.m[i].size());
    v_[i].assign(s.v[i].data(), s.v[i].size());
  }
}

float Solver::learning_rate(int64_t iter) const {
  switch (opt_.policy) {
    case LrPolicy::fixed: return opt_.base_lr;
    case LrPolicy::step:
      return opt_.base_lr *
             static_cast<float>(std::pow(double(opt_.gamma), double(iter / std::max<int64_t>(1, opt_.step_size))));
    case LrPolicy::cosine: {
      const double t = std::min(1.0, double(iter) / double(std::max<int64_t>(1, opt_.max_iter)));
      return static_cast<float>(opt_.base_lr * 0.5 * (1.0 + std::cos(3.141592653589793 * t)));
    }
  }
  return opt_.base_lr;
}

void Solver::update() {
  const float lr = learning_rate(iter_);
  ++iter_;
  const float b1 = opt_.momentum, b2 = opt_.beta2;
  const float correction =
      opt_.type == SolverType::adam
          ? static_cast<float>(std::sqrt(1.0 - std::pow(double(b2), double(iter_))) /
                               (1.0 - std::pow(double(b1), double(iter_))))
          : 1.0f;
#if RISTSIM_HAVE_CUDA
  if (device() == Device::cuda) return update_gpu(lr, correction);  // solver.cu
#endif
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Param& p = *params_[i].param;
    float* w = p.blob->data();
    float* g = p.blob->diff();
    float* m = m_[i].mutable_host();
    const std::size_t n = p.blob->count();
    const float rate = lr * p.lr_mult;
    const float wd = opt_.weight_decay * p.decay_mult;
    if (opt_.type == SolverType::sgd) {
      for (std::size_t j = 0; j < n; ++j) {
        m[j] = opt_.momentum * m[j] + rate * (g[j] + wd * w[j]);
        w[j] -= m[j];
      }
    } else {
      float* v = v_[i].mutable_host();
      for (std::size_t j = 0; j < n; ++j) {
        const float gj = g[j] + wd * w[j];
        m[j] = b1 * m[j] + (1 - b1) * gj;
        v[j] = b2 * v[j] + (1 - b2) * gj * gj;
        w[j] -= rate * correction * m[j] / (std::sqrt(v[j]) + opt_.eps);
      }
    }
    p.blob->zero_diff();
  }
}

}  // namespace ristsim::engine
