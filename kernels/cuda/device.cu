// GPU discovery (see device.h).
#include "device.h"

#include <cuda_runtime.h>

namespace ristsim::cuda {

bool device_available(std::string* why) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    if (why) *why = cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky error
    return false;
  }
  if (count == 0) {
    if (why) *why = "no CUDA device found";
    return false;
  }
  return true;
}

std::string device_name() {
  std::string why;
  if (!device_available(&why)) return "no GPU: " + why;
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  return prop.name;
}

}  // namespace ristsim::cuda
