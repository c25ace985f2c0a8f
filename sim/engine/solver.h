// Solvers: SGD with momentum and weight decay (Caffe's update), and Adam,
// with fixed, step and cosine learning-rate policies.
//
//   SGD   v = momentum * v + lr * lr_mult * (g + wd * decay_mult * w);  w -= v
//   Adam  g' = g + wd * decay_mult * w (L2, as Caffe's Adam);
//         m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2;
//         w -= lr * lr_mult * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)
//   lr    fixed: base;  step: base * gamma^floor(iter / step_size);
//         cosine: base * (1 + cos(pi * iter / max_iter)) / 2
// Parameters with learnable == false (BatchNorm statistics) are left alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/net.h"
#include "engine/synced_memory.h"

namespace ristsim::engine {

enum class SolverType { sgd, adam };
enum class LrPolicy { fixed, step, cosine };

struct SolverOptions {
  SolverType type = SolverType::sgd;
  float base_lr = 0.01f;
  float momentum = 0.9f;  ///< SGD momentum; Adam beta1
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 5e-4f;
  LrPolicy policy = LrPolicy::fixed;
  int64_t step_size = 1;  ///< step policy: iterations per step
  float gamma = 0.1f;     ///< step policy factor
  int64_t max_iter = 1;   ///< cosine policy: total iterations
};

/// Everything an update depends on besides the options, the weights and the gradients: the
/// iteration count (which gives the learning rate and Adam's bias correction) and the moments
/// of every learnable parameter (SGD: the momentum history in m, v empty; Adam: m and v), in
/// the order of Net::params(). A solver restored with set_state continues bit for bit.
struct SolverState {
  int64_t iter = 0;
  std::vector<std::vector<float>> m, v;
};

bool parse_solver_type(const std::string& s, SolverType* out);
bool parse_lr_policy(const std::string& s, LrPolicy* out);

class Solver {
 public:
  Solver(Net& net, const SolverOptions& options);
  /// The learning rate of iteration `iter` (0-based).
  float learning_rate(int64_t iter) const;
  /// Applies the gradients in the param diffs, clears them, advances iter().
  void update();
  int64_t iter() const { return iter_; }
  const SolverOptions& options() const { return opt_; }
  SolverState state() const;
  /// Restores a state from state() of a solver of the same type on the same net; throws
  /// std::runtime_error naming what does not fit (parameter count or size, missing moments).
  void set_state(const SolverState& s);

 private:
  Net& net_;
  SolverOptions opt_;
  /// The cuda mode's update (solver.cu): the same steps (engine/steps/solver_steps.h) on the
  /// device mirrors of the weights, gradients and moments.
  void update_gpu(float lr, float correction);

  std::vector<ParamRef> params_;
  std::vector<SyncedMemory> m_, v_;  ///< host and device copies (engine/synced_memory.h)
  int64_t iter_ = 0;
};

}  // namespace ristsim::engine
