#include "engine/math.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "numeric/random.h"

namespace ristsim::engine {

namespace {
int g_threads = 0;  // 0: not set yet
int default_threads() {
  const unsigned h = std::thread::hardware_concurrency();
  return h == 0 ? 1 : static_cast<int>(std::min(h, 64u));
}
}  // namespace

namespace {
constexpr int kTileN = 512;   // columns of C per tile
constexpr int kTileM = 64;    // rows of C per tile (when N is narrow)
constexpr int kTileNSmall = 128;  // columns per tile when M and N are both moderate
constexpr int kSliceK = 8192; // inner-dimension slice of gemm_accumulate_k

void sgemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda,
           const float* b, int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, alpha, a, lda, b, ldb, beta, c, ldc);
}
}  // namespace

namespace {
/// gemm() and gemm_serial(): the same fixed tiles, spread over the threads or not.
void gemm_tiles(bool parallel, bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                const float* a, const float* b, float beta, float* c) {
  if (m == 0 || n == 0) return;
  num_threads();  // makes sure OpenBLAS runs single-threaded
  const int lda = trans_a ? m : k;
  const int ldb = trans_b ? k : n;
  auto over = [parallel](int tiles, const std::function<void(std::size_t, std::size_t)>& fn) {
    if (parallel) parallel_for(tiles, 1, fn);
    else fn(0, tiles);
  };
  auto column_tiles = [&](int width) {
    over((n + width - 1) / width, [&](std::size_t t0, std::size_t t1) {
      for (std::size_t t = t0; t < t1; ++t) {
        const int j0 = static_cast<int>(t) * width, nj = std::min(width, n - j0);
        const float* bj = trans_b ? b + std::size_t(j0) * ldb : b + j0;
        sgemm(trans_a, trans_b, m, nj, k, alpha, a, lda, bj, ldb, beta, c + j0, n);
      }
    });
  };
  if (n >= 2 * kTileN) {
    column_tiles(kTileN);
  } else if (m >= 2 * kTileM) {
    const int tiles = (m + kTileM - 1) / kTileM;
    over(tiles, [&](std::size_t t0, std::size_t t1) {
      for (std::size_t t = t0; t < t1; ++t) {
        const int i0 = static_cast<int>(t) * kTileM, mi = std::min(kTileM, m - i0);
        const float* ai = trans_a ? a + i0 : a + std::size_t(i0) * lda;
        sgemm(trans_a, trans_b, mi, n, k, alpha, ai, lda, b, ldb, beta, c + std::size_t(i0) * n, n);
      }
    });
  } else if (n >= 2 * kTileNSmall) {  // e.g. inner products and weight gradients of small batches
    column_tiles(kTileNSmall);
  } else {
    sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, n);
  }
}
}  // namespace

void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
          const float* b, float beta, float* c) {
  gemm_tiles(true, trans_a, trans_b, m, n, k, alpha, a, b, beta, c);
}

void gemm_serial(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
                 const float* b, float beta, float* c) {
  gemm_tiles(false, trans_a, trans_b, m, n, k, alpha, a, b, beta, c);
}

void gemm_accumulate_k(bool trans_a, bool trans_b, int m, int n, int k, const float* a,
                       const float* b, float* c) {
  if (m == 0 || n == 0 || k == 0) return;
  num_threads();
  const int lda = trans_a ? m : k;
  const int ldb = trans_b ? k : n;
  const int slices = (k + kSliceK - 1) / kSliceK;
  if (slices == 1) {  // gemm()'s tiles of C, each with the whole K
    gemm(trans_a, trans_b, m, n, k, 1.0f, a, b, 1.0f, c);
    return;
  }
  std::vector<float> partial(std::size_t(slices) * m * n);
  parallel_for(slices, 1, [&](std::size_t s0, std::size_t s1) {
    for (std::size_t s = s0; s < s1; ++s) {
      const int k0 = static_cast<int>(s) * kSliceK, kk = std::min(kSliceK, k - k0);
      const float* as = trans_a ? a + std::size_t(k0) * lda : a + k0;
      const float* bs = trans_b ? b + k0 : b + std::size_t(k0) * ldb;
      sgemm(trans_a, trans_b, m, n, kk, 1.0f, as, lda, bs, ldb, 0.0f,
            partial.data() + s * std::size_t(m) * n, n);
    }
  });
  const std::size_t mn = std::size_t(m) * n;
  for (int s = 0; s < slices; ++s)
    for (std::size_t i = 0; i < mn; ++i) c[i] += partial[s * mn + i];
}

namespace {

/// The engine's worker threads, kept between parallel_for calls (starting a
/// thread per call costs tens of microseconds, as much as a small layer).
/// One job at a time: piece i of the job runs on worker i - 1, piece 0 on the
/// caller. A parallel_for from inside a piece runs serially.
class ThreadPool {
 public:
  explicit ThreadPool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this, i] { work(i); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  int workers() const { return static_cast<int>(threads_.size()); }

  /// Runs fn(0 .. pieces - 1), piece 0 on the calling thread; pieces <= workers() + 1.
  void run(int pieces, const std::function<void(int)>& fn) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &fn;
      pieces_ = pieces;
      pending_.store(pieces - 1, std::memory_order_relaxed);
      ++generation_;
    }
    wake_.notify_all();
    inside_ = true;
    fn(0);
    inside_ = false;
    // Wait for the workers: spin briefly (pieces are often short), then sleep.
    for (int spin = 0; pending_.load(std::memory_order_acquire) != 0; ++spin) {
      if (spin < 4000) continue;
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
    }
  }

  static thread_local bool inside_;

 private:
  void work(int i) {
    inside_ = true;
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int)>* job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        job = i + 1 < pieces_ ? job_ : nullptr;
      }
      if (!job) continue;
      (*job)(i + 1);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* job_ = nullptr;
  int pieces_ = 0;
  uint64_t generation_ = 0;
  std::atomic<int> pending_{0};
  bool stop_ = false;
};

thread_local bool ThreadPool::inside_ = false;
std::unique_ptr<ThreadPool> g_pool;
std::mutex g_pool_mutex;  // one parallel_for at a time from outside the pool

}  // namespace

void set_num_threads(int n) {
  g_threads = std::max(1, n);
  openblas_set_num_threads(1);  // parallelism comes from the fixed tiles of gemm()
}

std::string blas_core() {
  const char* name = openblas_get_corename();
  return name ? name : "";
}

int num_threads() {
  if (g_threads == 0) set_num_threads(default_threads());
  return g_threads;
}

void parallel_for(std::size_t n, std::size_t grain,
                  const std::function<void(std::size_t, std::size_t)>& fn) {
  const std::size_t t = std::min<std::size_t>(num_threads(), grain ? (n + grain - 1) / grain : n);
  if (t <= 1 || ThreadPool::inside_) {
    if (n) fn(0, n);
    return;
  }
  const std::size_t piece = (n + t - 1) / t;
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  if (!g_pool || g_pool->workers() != num_threads() - 1)
    g_pool = std::make_unique<ThreadPool>(num_threads() - 1);
  g_pool->run(static_cast<int>(t), [&](int i) {
    const std::size_t b = std::size_t(i) * piece, e = std::min(n, b + piece);
    if (b < e) fn(b, e);
  });
}

uint64_t Rng::next_u64() {
  state_ += numeric::kGolden64;
  return numeric::mix64(state_);
}

float Rng::uniform() { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }

float Rng::gaussian() {
  if (have_spare_) {
    have_spare_ = false;
    return static_cast<float>(spare_);
  }
  // u1 in (0, 1]: 53-bit uniform, shifted away from zero.
  const double u1 = (static_cast<double>(next_u64() >> 11) + 1.0) * 0x1.0p-53;
  const double u2 = static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double th = 6.283185307179586 * u2;
  spare_ = r * std::sin(th);
  have_spare_ = true;
  return static_cast<float>(r * std::cos(th));
}

uint64_t Rng::below(uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(next_u64()) * n) >> 64);
}

uint64_t derive_seed(uint64_t seed, uint64_t tag) { return numeric::stream_key(seed, tag); }

}  // namespace ristsim::engine
