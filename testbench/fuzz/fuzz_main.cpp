// One libFuzzer target: RISTSIM_FUZZ_TARGET names the reader (fuzz_entries.cpp). Built only by
// scripts/fuzz.sh (clang, -fsanitize=fuzzer,address,undefined).
#include <cstdlib>

#include "fuzz_entries.h"

#ifndef RISTSIM_FUZZ_TARGET
#error "RISTSIM_FUZZ_TARGET must name a target of fuzz_entries.cpp"
#endif

namespace {
const ristsim::fuzz::Target* target = nullptr;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ristsim::fuzz::init();
  target = ristsim::fuzz::find_target(RISTSIM_FUZZ_TARGET);
  if (!target) std::abort();
  std::atexit(ristsim::fuzz::cleanup);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  target->entry(data, size);
  return 0;
}
