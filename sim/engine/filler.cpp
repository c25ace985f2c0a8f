#include "engine/filler.h"

#include <cmath>

namespace ristsim::engine {

void fill(Blob& blob, const LayerSpec& spec, const std::string& prefix,
          const std::string& default_type, int fan_in, Rng& rng) {
  const std::string type = spec.get_string(prefix + ".type", default_type);
  const double value = spec.get_double(prefix + ".value", 0.0);
  const double mean = spec.get_double(prefix + ".mean", 0.0);
  const double stdv = spec.get_double(prefix + ".std", 1.0);
  const double lo = spec.get_double(prefix + ".min", 0.0);
  const double hi = spec.get_double(prefix + ".max", 1.0);
  float* d = blob.data();
  const std::size_t n = blob.count();
  const double fin = fan_in > 0 ? fan_in : 1;
  if (type == "constant") {
    for (std::size_t i = 0; i < n; ++i) d[i] = static_cast<float>(value);
  } else if (type == "uniform") {
    for (std::size_t i = 0; i < n; ++i) d[i] = rng.uniform(float(lo), float(hi));
  } else if (type == "gaussian") {
    for (std::size_t i = 0; i < n; ++i) d[i] = static_cast<float>(mean + stdv * rng.gaussian());
  } else if (type == "xavier") {
    const float a = static_cast<float>(std::sqrt(3.0 / fin));
    for (std::size_t i = 0; i < n; ++i) d[i] = rng.uniform(-a, a);
  } else if (type == "msra") {
    const double s = std::sqrt(2.0 / fin);
    for (std::size_t i = 0; i < n; ++i) d[i] = static_cast<float>(s * rng.gaussian());
  } else {
    throw NetSpecError(spec.where(prefix + ".type") + "unknown filler '" + type +
                       "' (constant, uniform, gaussian, xavier, msra)");
  }
}

}  // namespace ristsim::engine
