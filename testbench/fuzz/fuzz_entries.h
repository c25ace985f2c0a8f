// The readers under fuzzing: one entry per file format, each taking the raw bytes of one input
// file. An entry returns normally when the reader accepted the input or rejected it with an
// InputError (the documented way to reject a bad file); any other exception escapes, and a
// crash, a sanitizer report or an uncaught exception is a finding.
//
// The same entries run in two places: the libFuzzer targets (fuzz_main.cpp, built by
// scripts/fuzz.sh with clang, ASan and UBSan) and the ctest regression test
// (regression_test.cpp), which replays every committed seed and reproducer in the normal build.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ristsim::fuzz {

/// An entry: the bytes of one file. Returns nullopt when the reader accepted them, or the
/// message of the InputError it rejected them with.
using Entry = std::optional<std::string> (*)(const uint8_t* data, std::size_t size);

struct Target {
  const char* name;  ///< arch_yaml, net_yaml, onnx, rstw, idx, cifar, caffe
  Entry entry;
};

/// Every target, in a fixed order.
const std::vector<Target>& targets();
/// The target called `name`, or nullptr.
const Target* find_target(const std::string& name);

/// Lowers the engine's blob limit so that a hostile model stays within a fuzzer's memory and
/// time (called once before the first input).
void init();
/// Removes the temporary folder of this process's file inputs.
void cleanup();

}  // namespace ristsim::fuzz
