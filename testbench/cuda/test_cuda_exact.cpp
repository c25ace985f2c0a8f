// The exact datapath on the GPU against the reference, bit for bit, on every
// shipped arch and every accumulator / rounding variant. Skips without a GPU.
#include <gtest/gtest.h>

#include <string>

#include "../backends_exact/exact_cases.h"
#include "cuda/device.h"
#include "cuda/exact_layer_cuda.h"

namespace rt = ristsim::testing;

TEST(CudaExact, bits_equal_reference_on_every_shipped_arch) {
  std::string why;
  if (!ristsim::cuda::device_available(&why)) GTEST_SKIP() << "no usable GPU: " << why;
  for (const char* arch : rt::kShippedArchs) {
    for (int variant = 0; variant < 72; ++variant) {
      const uint64_t seed = 500 + variant;
      const rt::ExactCase c = rt::random_case(arch, seed, variant, variant % 3 == 0 ? 0.01 : 0.0);
      EXPECT_EQ(rt::compare(c, ristsim::kernels::exact_conv_reference, ristsim::cuda::exact_conv), "")
          << arch << " seed " << seed << " variant " << variant;
    }
  }
}
