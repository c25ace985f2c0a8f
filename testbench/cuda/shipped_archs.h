// Every arch under configs/ (the shipped archs), as paths, for the tests of testbench/cuda.
// The checkout is $RISTSIM_SOURCE_DIR where set (a bundle run on another machine,
// scripts/gpu_check.sh), else the source folder of the build (RISTSIM_SOURCE_DIR, CMake).
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace ristsim::testbench {

inline std::vector<std::string> shipped_archs() {
  const char* env = std::getenv("RISTSIM_SOURCE_DIR");
  const std::string root = env && *env ? env : RISTSIM_SOURCE_DIR;
  std::vector<std::string> v;
  for (const auto& e : std::filesystem::directory_iterator(root + "/configs"))
    if (e.path().extension() == ".yaml") v.push_back(e.path().string());
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace ristsim::testbench
