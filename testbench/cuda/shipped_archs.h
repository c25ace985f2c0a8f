// The archs under configs/ (the shipped archs) that the GPU path runs, as paths, for the
// tests of testbench/cuda.
// The checkout is $RISTSIM_SOURCE_DIR where set (a bundle run on another machine,
// scripts/gpu_check.sh), else the source folder of the build (RISTSIM_SOURCE_DIR, CMake).
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "config/arch_yaml.h"

namespace ristsim::testbench {

/// True when the arch has OCP MX groups or per-channel weights, which the GPU path refuses
/// (they run on the CPU only).
inline bool cpu_only(const config::Arch& a) {
  auto mx = [](const config::LayerFormats& f) {
    return f.activations.is_mx || f.weights.is_mx || f.weights.per_channel();
  };
  if (mx(a.formats)) return true;
  for (const config::LayerOverride& o : a.overrides)
    if (mx(o.formats)) return true;
  return false;
}

/// The shipped archs the GPU path runs (all but the CPU-only ones).
inline std::vector<std::string> shipped_archs() {
  const char* env = std::getenv("RISTSIM_SOURCE_DIR");
  const std::string root = env && *env ? env : RISTSIM_SOURCE_DIR;
  std::vector<std::string> v;
  for (const auto& e : std::filesystem::directory_iterator(root + "/configs"))
    if (e.path().extension() == ".yaml" && !cpu_only(config::load_arch(e.path().string())))
      v.push_back(e.path().string());
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace ristsim::testbench
