// SyncedMemory: a float array with a host copy and, on demand, a device (GPU) copy, and a
// head that says which copy is fresh (Caffe's SyncedMemory). Reading one side copies the
// other over first when that one is newer; asking for a side to write makes it the only
// fresh one. Host code that never touches the device pays one compare per access: the
// device copy is allocated on the first device access only (cuda mode, engine/device.h).
//
//   head     host read     host write    device read    device write
//   host     -             -             copy up: synced head = device
//   device   copy down:    copy down:    -              -
//            synced        head = host
//   synced   -             head = host   -              head = device
#pragma once

#include <cstddef>
#include <vector>

#include "engine/device.h"

namespace ristsim::engine {

class SyncedMemory {
 public:
  enum class Head { host, device, synced };

  SyncedMemory() = default;
  /// A copy holds the source's values on the host only.
  SyncedMemory(const SyncedMemory& o) : host_(o.host(), o.host() + o.size()) {}
  SyncedMemory& operator=(const SyncedMemory& o);
  SyncedMemory(SyncedMemory&&) noexcept = default;
  SyncedMemory& operator=(SyncedMemory&&) noexcept = default;

  std::size_t size() const { return host_.size(); }
  /// New size; values are kept up to it (synced to the host first), new ones are zero.
  void resize(std::size_t n);

  const float* host() const {
    if (head_ == Head::device) to_host();
    return host_.data();
  }
  float* mutable_host() {
    if (head_ != Head::host) {  // host-only code (threads included) never writes the head
      if (head_ == Head::device) to_host();
      head_ = Head::host;
    }
    return host_.data();
  }
  const float* device() const;
  float* mutable_device();
  Head head() const { return head_; }

  /// Sets every value to zero on the side that is fresh (no copy either way).
  void zero();
  /// Replaces the values (and the size) from the host.
  void assign(const float* values, std::size_t n);

 private:
  void to_host() const;
  void to_device() const;
  mutable std::vector<float> host_;
  mutable DeviceBuffer device_;
  mutable Head head_ = Head::host;
};

}  // namespace ristsim::engine
