// The per-element parameter updates of the solvers (engine/solver.h), as host/device
// functions: Solver::update's GPU path (solver.cu) runs one element per thread through them,
// and the host tests hold them against Solver::update's CPU loop bit for bit. Only +, *, /
// and sqrtf occur, which CUDA rounds as IEEE does when FMA contraction is off
// (--fmad=false), so the GPU update is bit-identical to the host's.
#pragma once

#include <cmath>

#include "numeric/hd.h"

namespace ristsim::engine::steps {

/// SGD with momentum and L2 decay: m = momentum m + rate (g + wd w);  w -= m.
RISTSIM_HD inline void sgd_update(float& w, float& m, float g, float rate, float wd,
                                  float momentum) {
  m = momentum * m + rate * (g + wd * w);
  w -= m;
}

/// Adam with L2 decay; `correction` = sqrt(1 - b2^t) / (1 - b1^t) of the iteration.
RISTSIM_HD inline void adam_update(float& w, float& m, float& v, float g, float rate,
                                   float correction, float wd, float b1, float b2, float eps) {
  const float gj = g + wd * w;
  m = b1 * m + (1 - b1) * gj;
  v = b2 * v + (1 - b2) * gj * gj;
  w -= rate * correction * m / (sqrtf(v) + eps);
}

}  // namespace ristsim::engine::steps
