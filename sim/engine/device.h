// Where the engine runs its layers and solvers (Caffe's Caffe::mode()): on the host (cpu) or on
// a CUDA GPU (cuda). The mode is one process-wide setting, chosen by the CLI's --device before
// any Net is built. In cuda mode a layer with a GPU implementation runs forward_gpu /
// backward_gpu on the blobs' device mirrors (engine/synced_memory.h); every other layer runs
// its host code on the same blobs, the mirror copying what it reads and writes.
//
// A build without CUDA (RISTSIM_CUDA=OFF or no nvcc) has only cpu; device_usable() then says
// so, and a build with CUDA on a machine without a usable GPU names the driver's reason.
#pragma once

#include <cstddef>
#include <string>

namespace ristsim::engine {

enum class Device { cpu, cuda };

/// "cpu" / "cuda" -> Device; false for anything else.
bool parse_device(const std::string& s, Device* out);
const char* device_name(Device d);

/// True if this build has the engine's GPU code (configured with CUDA).
bool cuda_built();

/// Whether `d` can run here; otherwise `why` says what is missing: "this ristsim was built
/// without CUDA (...)" or "no usable GPU: <the CUDA driver's reason>".
bool device_usable(Device d, std::string* why);

/// The engine's device (default cpu). set_device(cuda) throws std::runtime_error with
/// device_usable's reason when the GPU cannot be used.
Device device();
void set_device(Device d);

/// Raw device memory for the blob mirrors and the layers' scratch buffers. In a build without
/// CUDA every call except the constructors and release() throws std::logic_error (no GPU
/// code can ask for it there).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer() { release(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) {
    o.ptr_ = nullptr, o.bytes_ = 0;
  }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;

  /// Makes the buffer at least `bytes` long (contents not kept when it grows).
  void* reserve(std::size_t bytes);
  void release();
  void* get() const { return ptr_; }
  std::size_t bytes() const { return bytes_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

  void upload(const void* host, std::size_t bytes);
  /// Sets the first `bytes` bytes to zero.
  void zero(std::size_t bytes);
  void download(void* host, std::size_t bytes) const;

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace ristsim::engine
