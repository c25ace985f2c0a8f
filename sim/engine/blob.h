// Blob: an N-dimensional float32 tensor with its gradient (Caffe's Blob).
// Layout is row-major with the last axis fastest; 4-D blobs are NCHW.
// `data` holds the values a layer produced, `diff` the gradient of the loss
// with respect to them. Each is a SyncedMemory (engine/synced_memory.h): data() and
// diff() are the host copies (host code is unchanged), gpu_data() / gpu_diff() the
// device mirror of the cuda mode, copied on demand from whichever side is fresh.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/synced_memory.h"

namespace ristsim::engine {

/// A shape whose element count is negative, overflows or exceeds Blob::element_limit(),
/// thrown by Blob::reshape before anything is allocated. Net and the ONNX importer add the
/// layer (and file) it comes from.
struct BlobSizeError : std::length_error {
  using std::length_error::length_error;
};

class Blob {
 public:
  /// The most elements one blob may hold: checked::kMaxElements (2^29) by default. Tests and
  /// fuzz targets lower it to keep hostile models within their memory.
  static int64_t element_limit();
  static void set_element_limit(int64_t n);

  Blob() = default;
  explicit Blob(std::vector<int> shape) { reshape(std::move(shape)); }

  /// Sets the shape; storage grows or shrinks to count() (values are kept up
  /// to the new count, new elements are zero). BlobSizeError (nothing changed) for a
  /// negative size or more than element_limit() elements.
  void reshape(std::vector<int> shape);
  void reshape_like(const Blob& other) { reshape(other.shape_); }

  const std::vector<int>& shape() const { return shape_; }
  /// Size of an axis; negative axes count from the end (-1 is the last).
  int shape(int axis) const { return shape_.at(canonical_axis(axis)); }
  int num_axes() const { return static_cast<int>(shape_.size()); }
  int canonical_axis(int axis) const { return axis < 0 ? axis + num_axes() : axis; }
  /// Number of elements.
  std::size_t count() const { return data_.size(); }
  /// Product of the sizes of axes [start, end).
  std::size_t count(int start, int end) const;
  std::size_t count(int start) const { return count(start, num_axes()); }

  float* data() { return data_.mutable_host(); }
  const float* data() const { return data_.host(); }
  float* diff() { return diff_.mutable_host(); }
  const float* diff() const { return diff_.host(); }
  /// The device mirror (cuda mode): read-only views copy the host values over when they are
  /// newer; the mutable ones make the device copy the fresh one.
  const float* gpu_data() const { return data_.device(); }
  float* mutable_gpu_data() { return data_.mutable_device(); }
  const float* gpu_diff() const { return diff_.device(); }
  float* mutable_gpu_diff() { return diff_.mutable_device(); }
  const SyncedMemory& data_memory() const { return data_; }
  const SyncedMemory& diff_memory() const { return diff_; }

  void zero_data();
  void zero_diff();
  /// "[64, 20, 24, 24]"
  std::string shape_string() const;

 private:
  std::vector<int> shape_;
  SyncedMemory data_, diff_;
};

/// Shape formatting shared by error messages.
std::string shape_string(const std::vector<int>& shape);

}  // namespace ristsim::engine
