// Weight initialisation (Caffe's fillers), drawn from the engine's Rng so that
// the same seed gives the same bits on every machine.
//   constant  value (default 0)
//   uniform   U[min, max)
//   gaussian  N(mean, std^2)
//   xavier    U[-a, a), a = sqrt(3 / fan_in)   (Caffe's default variance_norm FAN_IN)
//   msra      N(0, 2 / fan_in)                 (He et al.)
#pragma once

#include <string>

#include "engine/blob.h"
#include "engine/math.h"
#include "engine/spec.h"

namespace ristsim::engine {

/// Fills blob.data from the parameters `<prefix>.type`, `.value`, `.std`, ...
/// of spec (default_type when absent). fan_in = inputs per output.
void fill(Blob& blob, const LayerSpec& spec, const std::string& prefix,
          const std::string& default_type, int fan_in, Rng& rng);

}  // namespace ristsim::engine
