// The GPU quantizer must give the CPU's bits for every format, rounding and
// overflow mode (ggml test-backend-ops style: one table of cases, two
// backends, exact equality). Skips, with the reason, where no GPU is usable.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "cuda/device.h"
#include "cuda/quantize_cuda.h"
#include "numeric/numeric.h"

namespace nm = ristsim::numeric;

namespace {

std::vector<nm::Format> formats() {
  return {nm::Format::fixed_point(8, 4),   nm::Format::fixed_point(16, 8),
          nm::Format::fixed_point(4, -2),  nm::Format::fixed_point(32, 20),
          nm::Format::minifloat(4, 3),     nm::Format::minifloat(5, 10, nm::Specials::ieee, true),
          nm::Format::e4m3(),              nm::Format::e5m2(),
          nm::Format::minifloat(4, 3, nm::Specials::ristretto, false),
          nm::Format::pow2(4, -1),         nm::Format::pow2(5, 0, true),
          nm::Format::pow2(4, -1, false, nm::Pow2Rounding::log)};
}

std::vector<float> inputs() {
  std::vector<float> v = {0.f, -0.f, 0.5f, -2.5f, -0.3f, 1e9f, -1e9f, 448.f, 464.f,
                          std::nanf(""), INFINITY, -INFINITY, 1e-30f, -1e-30f};
  std::mt19937 gen(12345);
  std::normal_distribution<float> normal(0.f, 4.f);
  for (int i = 0; i < 20000; ++i) v.push_back(normal(gen));
  return v;
}

}  // namespace

TEST(CudaQuantize, bits_equal_cpu_every_format_and_mode) {
  std::string why;
  if (!ristsim::cuda::device_available(&why)) GTEST_SKIP() << "no usable GPU: " << why;
  const std::vector<float> in = inputs();
  std::vector<float> values(in.size());
  std::vector<uint64_t> codes(in.size());
  for (const nm::Format& f : formats()) {
    for (nm::Rounding r : nm::kAllRoundings) {
      for (nm::Overflow o : nm::kAllOverflows) {
        nm::Quantizer q;
        q.format = f;
        q.rounding = r;
        q.overflow = o;
        q.seed = 7;
        q.stream = 3;
        if (nm::validate(q)) continue;
        uint64_t sat = 0, nans = 0;
        ristsim::cuda::quantize(q, in.data(), static_cast<int64_t>(in.size()), 100, values.data(),
                                codes.data(), &sat, &nans);
        uint64_t cpu_sat = 0, cpu_nans = 0;
        for (size_t i = 0; i < in.size(); ++i) {
          const nm::Quantized c = nm::quantize(q, static_cast<double>(in[i]), 100 + i);
          ASSERT_EQ(codes[i], c.code) << "input " << in[i] << " rounding " << nm::to_string(r)
                                      << " overflow " << nm::to_string(o) << " index " << i;
          cpu_sat += c.saturated;
          cpu_nans += c.nan;
        }
        EXPECT_EQ(sat, cpu_sat);
        EXPECT_EQ(nans, cpu_nans);
      }
    }
  }
}

TEST(CudaDevice, reports_why_there_is_no_gpu) {
  std::string why;
  const bool ok = ristsim::cuda::device_available(&why);
  if (ok) {
    EXPECT_FALSE(ristsim::cuda::device_name().empty());
  } else {
    EXPECT_FALSE(why.empty());
    EXPECT_NE(ristsim::cuda::device_name().find("no GPU"), std::string::npos);
  }
}
