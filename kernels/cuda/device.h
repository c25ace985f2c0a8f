// GPU discovery for ristsim's CUDA kernels. Every entry point checks for a
// device first, so a machine without a GPU (or without a driver) gets a clear
// message instead of a crash.
#pragma once

#include <string>

namespace ristsim::cuda {

/// True if a CUDA device is usable; otherwise `why` says what is missing
/// (e.g. "CUDA driver version is insufficient for CUDA runtime version").
bool device_available(std::string* why = nullptr);

/// Name of device 0 ("NVIDIA H100 80GB HBM3"), or the reason there is none.
std::string device_name();

}  // namespace ristsim::cuda
