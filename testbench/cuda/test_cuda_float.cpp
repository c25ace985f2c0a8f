// The float datapath on the GPU against a plain host convolution of the same
// quantized operands (float tolerance: cuBLAS sums in another order). Skips
// without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "../backends_exact/exact_cases.h"
#include "cuda/device.h"
#include "cuda/float_conv_cuda.h"

namespace nm = ristsim::numeric;
namespace rt = ristsim::testing;

TEST(CudaFloat, conv_matches_host_within_float_tolerance) {
  std::string why;
  if (!ristsim::cuda::device_available(&why)) GTEST_SKIP() << "no usable GPU: " << why;
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 20; ++trial) {
    const ristsim::kernels::ConvShape s = rt::random_shape(rng, 40);
    ristsim::cuda::FloatLayerSpec spec;
    spec.act = rt::quantizer(nm::Format::fixed_point(8, 4));
    spec.wt = rt::quantizer(nm::Format::fixed_point(8, 7));
    spec.out = rt::quantizer(nm::Format::fixed_point(8, 3));
    std::normal_distribution<float> nd(0.f, 1.f);
    const int cg = s.c / s.groups, kg = s.k / s.groups;
    std::vector<float> in(size_t(s.n) * s.c * s.h * s.w), w(size_t(s.k) * cg * s.kh * s.kw), b(s.k);
    for (float& x : in) x = nd(rng);
    for (float& x : w) x = 0.2f * nd(rng);
    for (float& x : b) x = 0.1f * nd(rng);
    std::vector<float> out(size_t(s.n) * s.k * s.oh * s.ow);
    ristsim::cuda::float_conv(s, spec, in.data(), w.data(), b.data(), out.data());
    // Host: the same quantizers (streams 0..3), then a direct convolution in double.
    auto qv = [&](const nm::Quantizer& base, uint64_t stream, std::vector<float>& v) {
      nm::Quantizer q = base;
      q.stream = stream;
      for (size_t i = 0; i < v.size(); ++i) v[i] = float(nm::quantize(q, double(v[i]), i).value);
    };
    qv(spec.act, 0, in);
    qv(spec.wt, 1, w);
    qv(spec.wt, 2, b);
    nm::Quantizer oq = spec.out;
    oq.stream = 3;
    for (int img = 0; img < s.n; ++img)
      for (int k = 0; k < s.k; ++k)
        for (int oy = 0; oy < s.oh; ++oy)
          for (int ox = 0; ox < s.ow; ++ox) {
            double acc = b[k];
            const int g = k / kg;
            for (int ci = 0; ci < cg; ++ci)
              for (int ky = 0; ky < s.kh; ++ky)
                for (int kx = 0; kx < s.kw; ++kx) {
                  const int y = oy * s.stride_h - s.pad_h + ky * s.dil_h;
                  const int x = ox * s.stride_w - s.pad_w + kx * s.dil_w;
                  if (y < 0 || y >= s.h || x < 0 || x >= s.w) continue;
                  acc += double(in[((size_t(img) * s.c + g * cg + ci) * s.h + y) * s.w + x]) *
                         w[((size_t(k) * cg + ci) * s.kh + ky) * s.kw + kx];
                }
            const size_t i = ((size_t(img) * s.k + k) * s.oh + oy) * s.ow + ox;
            // Within one output quantum: float32 summation order may move a tie.
            EXPECT_NEAR(out[i], nm::quantize(oq, acc, i).value, 0.125 + 1e-6) << "trial " << trial;
          }
  }
}
