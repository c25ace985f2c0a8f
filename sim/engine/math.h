// Dense math helpers of the engine: row-major SGEMM through OpenBLAS's CBLAS,
// a deterministic parallel-for, and the engine's own random numbers.
//
// Determinism: parallel_for splits [0, n) into fixed contiguous pieces and each
// index is computed by exactly one thread, so results never depend on the
// thread count. Its threads are a pool started once (math.cpp). OpenBLAS always runs single-threaded; gemm() cuts large
// products into fixed tiles (independent of the thread count) and spreads the
// tiles over the threads, and gemm_accumulate_k adds its fixed K slices in
// order. So a build gives the same bits for any thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace ristsim::engine {

/// C[M,N] = alpha * op(A) * op(B) + beta * C, all row-major.
/// op(A) is M x K (A is K x M when trans_a), op(B) is K x N (B is N x K when trans_b).
/// Large products are cut into fixed tiles of C (512 columns, else 64 rows,
/// else 128 columns; OpenBLAS's bits depend on the shape of a call, so the
/// tiles depend only on M, N and K),
/// each computed by a single-threaded OpenBLAS call, the tiles spread over the
/// engine's threads: the bits do not depend on the thread count.
void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
          const float* b, float beta, float* c);

/// gemm() on the calling thread only, with the same tiles (so the same bits):
/// for callers that are already spread over the threads.
void gemm_serial(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
                 const float* b, float beta, float* c);

/// C[M,N] += op(A) * op(B) for a long inner dimension K with small M and N
/// (weight gradients): K is cut into fixed slices whose partial products are
/// computed in parallel and added to C in slice order.
void gemm_accumulate_k(bool trans_a, bool trans_b, int m, int n, int k, const float* a,
                       const float* b, float* c);

/// Threads used by the engine (parallel_for, GEMM tiles). Default: hardware threads.
void set_num_threads(int n);
int num_threads();
/// The kernel family the BLAS chose for this CPU (OpenBLAS's core name, e.g.
/// "SkylakeX", "Haswell", or "Prescott" when it did not recognise the CPU).
std::string blas_core();

/// Calls fn(begin, end) on contiguous pieces of [0, n) in parallel. Each index
/// is in exactly one piece; `grain` is the smallest piece worth a thread.
void parallel_for(std::size_t n, std::size_t grain,
                  const std::function<void(std::size_t, std::size_t)>& fn);

/// The engine's generator: SplitMix64 (the same mixer as numeric/random.h),
/// chosen because its outputs are fully specified, unlike std distributions.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next_u64();
  /// Uniform in [0, 1) with 24 random bits (every value is a float).
  float uniform();
  /// Uniform in [lo, hi).
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
  /// Standard normal (Box-Muller in double precision).
  float gaussian();
  /// Uniform integer in [0, n) (n >= 1), by multiply-shift (Lemire, no rejection).
  uint64_t below(uint64_t n);
  /// The position in the sequence: Rng(r.position()) continues r's draws (gaussian()'s
  /// cached second value aside), which is what a training checkpoint saves.
  uint64_t position() const { return state_; }

 private:
  uint64_t state_;
  bool have_spare_ = false;
  double spare_ = 0;
};

/// A stream seed derived from a base seed and a tag (layer index, purpose).
uint64_t derive_seed(uint64_t seed, uint64_t tag);

}  // namespace ristsim::engine
