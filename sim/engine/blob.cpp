#include "engine/blob.h"

#include <algorithm>
#include <stdexcept>

namespace ristsim::engine {

void Blob::reshape(std::vector<int> shape) {
  std::size_t n = 1;
  for (int s : shape) {
    if (s < 0) throw std::invalid_argument("Blob::reshape: negative size in " + engine::shape_string(shape));
    n *= static_cast<std::size_t>(s);
  }
  shape_ = std::move(shape);
  data_.resize(n);
  diff_.resize(n);
}

std::size_t Blob::count(int start, int end) const {
  std::size_t n = 1;
  for (int i = start; i < end; ++i) n *= static_cast<std::size_t>(shape_.at(i));
  return n;
}

void Blob::zero_data() { std::fill(data_.begin(), data_.end(), 0.0f); }
void Blob::zero_diff() { std::fill(diff_.begin(), diff_.end(), 0.0f); }

std::string Blob::shape_string() const { return engine::shape_string(shape_); }

std::string shape_string(const std::vector<int>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace ristsim::engine
