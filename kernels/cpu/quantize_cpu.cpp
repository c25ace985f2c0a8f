// The array quantizer of the numeric core, one build per instruction set
// (see quantize_cpu.h). This file is compiled with -fno-trapping-math, which
// lets GCC vectorise floor() as vroundpd; every operation of the loop is exact,
// so no result depends on it.
#include "kernels/cpu/quantize_cpu.h"

namespace ristsim::kernels {

namespace {

using numeric::ArrayStats;
using numeric::Quantizer;

void quantize_portable(const Quantizer& q, const float* x, std::size_t n, uint64_t index0,
                       float* y, uint32_t* codes, ArrayStats* stats) {
  numeric::array_detail::quantize_array_body(q, x, n, index0, y, codes, stats);
}
void stats_portable(const float* x, std::size_t n, ArrayStats* stats) {
  numeric::array_detail::array_stats_body(x, n, stats);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) void quantize_avx2(const Quantizer& q, const float* x,
                                                   std::size_t n, uint64_t index0, float* y,
                                                   uint32_t* codes, ArrayStats* stats) {
  numeric::array_detail::quantize_array_body(q, x, n, index0, y, codes, stats);
}
__attribute__((target("avx2"))) void stats_avx2(const float* x, std::size_t n, ArrayStats* stats) {
  numeric::array_detail::array_stats_body(x, n, stats);
}
__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq"))) void quantize_avx512(
    const Quantizer& q, const float* x, std::size_t n, uint64_t index0, float* y, uint32_t* codes,
    ArrayStats* stats) {
  numeric::array_detail::quantize_array_body(q, x, n, index0, y, codes, stats);
}
__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq"))) void stats_avx512(
    const float* x, std::size_t n, ArrayStats* stats) {
  numeric::array_detail::array_stats_body(x, n, stats);
}
#endif

CpuIsa supported(CpuIsa isa) {
  while (!cpu_supports(isa)) isa = static_cast<CpuIsa>(static_cast<int>(isa) - 1);
  return isa;
}

}  // namespace

void quantize_array_cpu(const Quantizer& q, const float* x, std::size_t n, uint64_t index0,
                        float* y, uint32_t* codes, ArrayStats* stats, CpuIsa isa) {
#if defined(__x86_64__) || defined(__i386__)
  switch (supported(isa)) {
    case CpuIsa::avx512_vnni:
    case CpuIsa::avx512: return quantize_avx512(q, x, n, index0, y, codes, stats);
    case CpuIsa::avx2: return quantize_avx2(q, x, n, index0, y, codes, stats);
    case CpuIsa::portable: break;
  }
#endif
  (void)isa;
  quantize_portable(q, x, n, index0, y, codes, stats);
}

void array_stats_cpu(const float* x, std::size_t n, ArrayStats* stats, CpuIsa isa) {
#if defined(__x86_64__) || defined(__i386__)
  switch (supported(isa)) {
    case CpuIsa::avx512_vnni:
    case CpuIsa::avx512: return stats_avx512(x, n, stats);
    case CpuIsa::avx2: return stats_avx2(x, n, stats);
    case CpuIsa::portable: break;
  }
#endif
  (void)isa;
  stats_portable(x, n, stats);
}

}  // namespace ristsim::kernels
