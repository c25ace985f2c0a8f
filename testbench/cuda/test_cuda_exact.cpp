// The exact datapath on the GPU against the reference, bit for bit, on every
// shipped arch and every accumulator / rounding variant, by both routes: the
// per-output kernel everywhere, and the automatic choice (the int8 IMMA GEMM
// where the accumulator bound admits the layer). Skips without a GPU.
#include <gtest/gtest.h>

#include <string>

#include "../backends_exact/exact_cases.h"
#include "cuda/device.h"
#include "cuda/exact_layer_cuda.h"

namespace rt = ristsim::testing;
namespace cu = ristsim::cuda;

namespace {

rt::ConvFn gpu(cu::ExactRoute route, int* gemm_layers) {
  return [=](const ristsim::kernels::ConvShape& s, const ristsim::kernels::ExactLayerSpec& spec,
             const uint32_t* in, const uint32_t* w, const uint32_t* b, uint32_t* out,
             ristsim::kernels::ExactStats* st) {
    cu::ExactRoute used;
    cu::exact_conv(s, spec, in, w, b, out, st, route, &used);
    if (used == cu::ExactRoute::gemm) ++*gemm_layers;
  };
}

void check_route(cu::ExactRoute route) {
  std::string why;
  if (!cu::device_available(&why)) GTEST_SKIP() << "no usable GPU: " << why;
  int gemm = 0;
  for (const char* arch : rt::kShippedArchs) {
    for (int variant = 0; variant < 72; ++variant) {
      const uint64_t seed = 500 + variant;
      const rt::ExactCase c = rt::random_case(arch, seed, variant, variant % 3 == 0 ? 0.01 : 0.0);
      EXPECT_EQ(rt::compare(c, ristsim::kernels::exact_conv_reference, gpu(route, &gemm)), "")
          << arch << " seed " << seed << " variant " << variant;
    }
  }
  if (route == cu::ExactRoute::automatic) EXPECT_GT(gemm, 10);  // dynfixed8 takes the IMMA route
  if (route == cu::ExactRoute::element) EXPECT_EQ(gemm, 0);
}

}  // namespace

TEST(CudaExact, element_kernel_bits_equal_reference_on_every_shipped_arch) {
  check_route(cu::ExactRoute::element);
}

TEST(CudaExact, automatic_route_bits_equal_reference_on_every_shipped_arch) {
  check_route(cu::ExactRoute::automatic);
}

TEST(CudaExact, gemm_route_refuses_a_layer_the_bound_refuses) {
  std::string why;
  if (!cu::device_available(&why)) GTEST_SKIP() << "no usable GPU: " << why;
  const rt::ExactCase c = rt::random_case("fixed16", 1, 0);  // 16-bit operands: no int8 GEMM
  std::vector<uint32_t> out(size_t(c.shape.n) * c.shape.k * c.shape.oh * c.shape.ow);
  ristsim::kernels::ExactStats st;
  EXPECT_THROW(cu::exact_conv(c.shape, c.spec, c.in.data(), c.w.data(), c.bias.data(), out.data(),
                              &st, cu::ExactRoute::gemm),
               std::invalid_argument);
}
