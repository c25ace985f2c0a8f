// Solver::update in the cuda mode: one thread per parameter element running the steps of
// engine/steps/solver_steps.h (held against the host loop of solver.cpp, bit for bit, by the
// host tests) on the device mirrors of the weights (the shadow weights of a quantized net),
// gradients and moments. Nothing crosses to the host.
#include "engine/gpu.h"
#include "engine/solver.h"
#include "engine/steps/solver_steps.h"

namespace ristsim::engine {

namespace {

__global__ void sgd_kernel(float* w, const float* g, float* m, int64_t n, float rate, float wd,
                           float momentum) {
  RISTSIM_GRID_LOOP(j, n) steps::sgd_update(w[j], m[j], g[j], rate, wd, momentum);
}

__global__ void adam_kernel(float* w, const float* g, float* m, float* v, int64_t n, float rate,
                            float correction, float wd, float b1, float b2, float eps) {
  RISTSIM_GRID_LOOP(j, n)
  steps::adam_update(w[j], m[j], v[j], g[j], rate, correction, wd, b1, b2, eps);
}

}  // namespace

void Solver::update_gpu(float lr, float correction) {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Param& p = *params_[i].param;
    const int64_t n = static_cast<int64_t>(p.blob->count());
    const float rate = lr * p.lr_mult;
    const float wd = opt_.weight_decay * p.decay_mult;
    float* w = p.blob->mutable_gpu_data();
    const float* g = p.blob->gpu_diff();
    if (opt_.type == SolverType::sgd) {
      sgd_kernel<<<gpu::blocks(n), gpu::kThreads>>>(w, g, m_[i].mutable_device(), n, rate, wd,
                                                    opt_.momentum);
    } else {
      adam_kernel<<<gpu::blocks(n), gpu::kThreads>>>(w, g, m_[i].mutable_device(),
                                                     v_[i].mutable_device(), n, rate, correction,
                                                     wd, opt_.momentum, opt_.beta2, opt_.eps);
    }
    gpu::check_launch("solver update");
    p.blob->zero_diff();  // on the device: the gradient's fresh copy is there
  }
}

}  // namespace ristsim::engine
