// The measured peak of this machine's vector units, for scripts/bench_functional.sh:
// fp32 FMA (vfmadd231ps zmm, 16 lanes x 2 flops), int8 dot products
// (vpdpbusd zmm, 64 u8 x s8 products and adds = 128 ops) and int16 ones
// (vpdpwssd zmm, 32 products and adds = 64 ops), on T threads at once.
// Each thread runs 16 independent accumulator chains (more than latency x
// units of either instruction on Ice Lake / Sapphire Rapids), so the loop is
// bound by throughput alone; operands stay in registers (no memory traffic).
//
//   g++ -O2 -std=c++17 -pthread peak_probe.cpp -o peak_probe
//   peak_probe [threads] [seconds per test]     (default: all cores, 0.3 s)
//
// Prints one JSON line: threads, fp32_gflops, int8_gops, int16_gops (the best
// of 3 runs each; null where the CPU lacks AVX-512 or VNNI). Ops count a
// multiply and an add as two, as GFLOP/s figures do.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

constexpr int kChains = 16;
constexpr long kInner = 1000;  // iterations between clock reads

__attribute__((target("avx512f"))) double fma_chains(long iters) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm512_add_ps(s, acc[i]);
  float lanes[16];
  _mm512_storeu_ps(lanes, s);
  return lanes[0] + lanes[15];
}

__attribute__((target("avx512f,avx512vnni"))) double dpbusd_chains(long iters) {
  __m512i acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_epi32(i);
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
  }
  __m512i s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm512_add_epi32(s, acc[i]);
  int32_t lanes[16];
  _mm512_storeu_si512(lanes, s);
  return lanes[0] + lanes[15];
}

__attribute__((target("avx512f,avx512vnni"))) double dpwssd_chains(long iters) {
  __m512i acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_epi32(i);
  const __m512i a = _mm512_set1_epi16(3), b = _mm512_set1_epi16(-2);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_dpwssd_epi32(acc[i], a, b);
  }
  __m512i s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm512_add_epi32(s, acc[i]);
  int32_t lanes[16];
  _mm512_storeu_si512(lanes, s);
  return lanes[0] + lanes[15];
}

/// Ops per second of `body` on `threads` threads running `seconds` together.
double rate(int threads, double seconds, double ops_per_iter, double (*body)(long)) {
  using Clock = std::chrono::steady_clock;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<long> iters(threads, 0);
  std::vector<double> sink(threads, 0), elapsed(threads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ++ready;
      while (!go) {
      }
      const auto t0 = Clock::now();
      long n = 0;
      double s = 0;
      do {
        s += body(kInner);
        n += kInner;
      } while (std::chrono::duration<double>(Clock::now() - t0).count() < seconds);
      elapsed[t] = std::chrono::duration<double>(Clock::now() - t0).count();
      iters[t] = n;
      sink[t] = s;
    });
  }
  while (ready < threads) {
  }
  go = true;
  for (std::thread& t : pool) t.join();
  double total = 0;
  for (int t = 0; t < threads; ++t) total += iters[t] * ops_per_iter / elapsed[t];
  if (sink[0] == 12345.678) std::fprintf(stderr, "-");  // keeps the results alive
  return total;
}

double best_of_3(int threads, double seconds, double ops_per_iter, double (*body)(long)) {
  double best = 0;
  for (int r = 0; r < 3; ++r) best = std::max(best, rate(threads, seconds, ops_per_iter, body));
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads =
      argc > 1 ? std::atoi(argv[1]) : static_cast<int>(std::thread::hardware_concurrency());
  const double seconds = argc > 2 ? std::atof(argv[2]) : 0.3;
  if (threads < 1 || seconds <= 0) {
    std::fprintf(stderr, "usage: peak_probe [threads >= 1] [seconds > 0]\n");
    return 2;
  }
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const bool vnni = avx512 && __builtin_cpu_supports("avx512vnni");
  char fp32[32] = "null", int8[32] = "null", int16[32] = "null";
  if (avx512)
    std::snprintf(fp32, sizeof fp32, "%.1f",
                  best_of_3(threads, seconds, kChains * 16.0 * 2, fma_chains) / 1e9);
  if (vnni) {
    std::snprintf(int8, sizeof int8, "%.1f",
                  best_of_3(threads, seconds, kChains * 64.0 * 2, dpbusd_chains) / 1e9);
    std::snprintf(int16, sizeof int16, "%.1f",
                  best_of_3(threads, seconds, kChains * 32.0 * 2, dpwssd_chains) / 1e9);
  }
  std::printf("{\"threads\": %d, \"fp32_gflops\": %s, \"int8_gops\": %s, \"int16_gops\": %s}\n",
              threads, fp32, int8, int16);
  return 0;
}
