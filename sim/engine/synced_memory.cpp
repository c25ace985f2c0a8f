#include "engine/synced_memory.h"

#include <algorithm>

namespace ristsim::engine {

SyncedMemory& SyncedMemory::operator=(const SyncedMemory& o) {
  if (this != &o) {
    host_ = std::vector<float>(o.host(), o.host() + o.size());
    device_.release();
    head_ = Head::host;
  }
  return *this;
}

void SyncedMemory::resize(std::size_t n) {
  if (n == host_.size()) return;
  mutable_host();
  host_.resize(n);
}

void SyncedMemory::zero() {
  if (head_ == Head::device) {
    device_.zero(host_.size() * sizeof(float));
  } else {
    std::fill(host_.begin(), host_.end(), 0.0f);
    head_ = Head::host;
  }
}

void SyncedMemory::assign(const float* values, std::size_t n) {
  host_.assign(values, values + n);
  head_ = Head::host;
}

void SyncedMemory::to_host() const {
  device_.download(host_.data(), host_.size() * sizeof(float));
  head_ = Head::synced;
}

void SyncedMemory::to_device() const {
  device_.upload(host_.data(), host_.size() * sizeof(float));
  head_ = Head::synced;
}

const float* SyncedMemory::device() const {
  if (head_ == Head::host || !device_.get()) to_device();
  return device_.as<float>();
}

float* SyncedMemory::mutable_device() {
  if (head_ == Head::host || !device_.get()) to_device();
  head_ = Head::device;
  return device_.as<float>();
}

}  // namespace ristsim::engine
