// The engine's device mode and device memory (see device.h). The CUDA calls are compiled only
// in a build with CUDA (RISTSIM_HAVE_CUDA); without it the cpu mode is the only one.
#include "engine/device.h"

#include <stdexcept>
#include <utility>

#if RISTSIM_HAVE_CUDA
#include <cuda_runtime.h>

#include "cuda/device.h"
#endif

namespace ristsim::engine {

namespace {
Device g_device = Device::cpu;

#if RISTSIM_HAVE_CUDA
void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}
#else
[[noreturn]] void no_cuda(const char* what) {
  throw std::logic_error(std::string("DeviceBuffer::") + what +
                         ": this ristsim was built without CUDA");
}
#endif
}  // namespace

bool parse_device(const std::string& s, Device* out) {
  if (s == "cpu") return *out = Device::cpu, true;
  if (s == "cuda") return *out = Device::cuda, true;
  return false;
}

const char* device_name(Device d) {
  return d == Device::cuda ? "cuda" : "cpu";
}

bool cuda_built() {
#if RISTSIM_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

bool device_usable(Device d, std::string* why) {
  if (d == Device::cpu) return true;
#if RISTSIM_HAVE_CUDA
  std::string reason;
  if (cuda::device_available(&reason)) return true;
  if (why) *why = "no usable GPU: " + reason;
  return false;
#else
  if (why)
    *why =
        "this ristsim was built without CUDA (configured with -DRISTSIM_CUDA=OFF or without "
        "nvcc); rebuild with nvcc on the PATH for --device cuda";
  return false;
#endif
}

Device device() {
  return g_device;
}

void set_device(Device d) {
  std::string why;
  if (!device_usable(d, &why))
    throw std::runtime_error("--device " + std::string(device_name(d)) + ": " + why);
  g_device = d;
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    release();
    ptr_ = std::exchange(o.ptr_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

#if RISTSIM_HAVE_CUDA
void* DeviceBuffer::reserve(std::size_t bytes) {
  if (bytes <= bytes_ && ptr_) return ptr_;
  release();
  check(cudaMalloc(&ptr_, bytes ? bytes : 1), "cudaMalloc");
  bytes_ = bytes;
  return ptr_;
}

void DeviceBuffer::release() {
  if (ptr_) cudaFree(ptr_);
  ptr_ = nullptr;
  bytes_ = 0;
}

void DeviceBuffer::upload(const void* host, std::size_t bytes) {
  if (bytes)
    check(cudaMemcpy(reserve(bytes), host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to the GPU");
}

void DeviceBuffer::zero(std::size_t bytes) {
  if (bytes) check(cudaMemset(reserve(bytes), 0, bytes), "cudaMemset");
}

void DeviceBuffer::download(void* host, std::size_t bytes) const {
  if (bytes > bytes_)
    throw std::logic_error("DeviceBuffer::download: more bytes than the buffer holds");
  if (bytes) check(cudaMemcpy(host, ptr_, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to the host");
}
#else
void* DeviceBuffer::reserve(std::size_t) {
  no_cuda("reserve");
}
void DeviceBuffer::release() {
  ptr_ = nullptr, bytes_ = 0;
}
void DeviceBuffer::upload(const void*, std::size_t) {
  no_cuda("upload");
}
void DeviceBuffer::zero(std::size_t) {
  no_cuda("zero");
}
void DeviceBuffer::download(void*, std::size_t) const {
  no_cuda("download");
}
#endif

}  // namespace ristsim::engine
