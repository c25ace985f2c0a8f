#include "engine/blob.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "numeric/checked.h"

namespace ristsim::engine {

namespace {
int64_t g_element_limit = checked::kMaxElements;
}

int64_t Blob::element_limit() { return g_element_limit; }
void Blob::set_element_limit(int64_t n) { g_element_limit = n; }

void Blob::reshape(std::vector<int> shape) {
  for (int s : shape)
    if (s < 0) throw BlobSizeError("negative size in the blob shape " + engine::shape_string(shape));
  const std::optional<int64_t> count = checked::product(shape, g_element_limit);
  if (!count)
    throw BlobSizeError("the blob shape " + engine::shape_string(shape) + " has more than " +
                        std::to_string(g_element_limit) + " elements (the limit of one blob)");
  const std::size_t n = static_cast<std::size_t>(*count);
  shape_ = std::move(shape);
  data_.resize(n);
  diff_.resize(n);
}

std::size_t Blob::count(int start, int end) const {
  std::size_t n = 1;
  for (int i = start; i < end; ++i) n *= static_cast<std::size_t>(shape_.at(i));
  return n;
}

void Blob::zero_data() { data_.zero(); }
void Blob::zero_diff() { diff_.zero(); }

std::string Blob::shape_string() const { return engine::shape_string(shape_); }

std::string shape_string(const std::vector<int>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace ristsim::engine
