// GEMM kernels of the exact datapath: portable loops, AVX2, AVX-512BW and
// AVX-512 VNNI (vpdpwssd for int16, vpdpbusd for uint8 x int8). Register
// block: kRowBlock (4) output rows by 16, 32 or 64 columns;
// the weight of each row is broadcast, the columns are vector lanes.
#include "kernels/cpu/exact_gemm.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RISTSIM_X86 1
#endif

namespace ristsim::kernels::cpu_detail {
namespace {

// ---- the accumulator after a chunk (auto-vectorised per instruction set) -----

template <bool kSaturate, typename T>
__attribute__((always_inline)) inline uint64_t accumulate_chunk_body(int64_t* __restrict acc,
                                                                     const T* __restrict chunk,
                                                                     int n, int shift,
                                                                     int acc_bits) {
  const int64_t hi = (int64_t{1} << (acc_bits - 1)) - 1, lo = -hi - 1;
  const int up = 64 - acc_bits;
  uint64_t changed = 0;
  for (int c = 0; c < n; ++c) {
    const int64_t sum = static_cast<int64_t>(chunk[c]);  // an integer (exact for double too)
    const int64_t v = acc[c] + static_cast<int64_t>(static_cast<uint64_t>(sum) << shift);
    int64_t r;
    if (kSaturate) {
      r = v > hi ? hi : (v < lo ? lo : v);
    } else {
      r = static_cast<int64_t>(static_cast<uint64_t>(v) << up) >> up;
    }
    changed += r != v ? 1 : 0;
    acc[c] = r;
  }
  return changed;
}

template <typename T>
uint64_t accumulate_chunk_portable(bool sat, int bits, int64_t* acc, const T* chunk, int n,
                                   int shift) {
  return sat ? accumulate_chunk_body<true>(acc, chunk, n, shift, bits)
             : accumulate_chunk_body<false>(acc, chunk, n, shift, bits);
}

#if defined(__x86_64__) || defined(__i386__)
template <typename T>
__attribute__((target("avx2"))) uint64_t accumulate_chunk_avx2(bool sat, int bits, int64_t* acc,
                                                               const T* chunk, int n, int shift) {
  return sat ? accumulate_chunk_body<true>(acc, chunk, n, shift, bits)
             : accumulate_chunk_body<false>(acc, chunk, n, shift, bits);
}

template <typename T>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) uint64_t accumulate_chunk_avx512(
    bool sat, int bits, int64_t* acc, const T* chunk, int n, int shift) {
  return sat ? accumulate_chunk_body<true>(acc, chunk, n, shift, bits)
             : accumulate_chunk_body<false>(acc, chunk, n, shift, bits);
}
#endif

template <typename T>
uint64_t accumulate_chunk_any(CpuIsa isa, bool saturate, int acc_bits, int64_t* acc, const T* chunk,
                              int n, int shift) {
#if defined(__x86_64__) || defined(__i386__)
  switch (isa) {
    case CpuIsa::avx512_vnni:
    case CpuIsa::avx512: return accumulate_chunk_avx512(saturate, acc_bits, acc, chunk, n, shift);
    case CpuIsa::avx2: return accumulate_chunk_avx2(saturate, acc_bits, acc, chunk, n, shift);
    case CpuIsa::portable: break;
  }
#else
  (void)isa;
#endif
  return accumulate_chunk_portable(saturate, acc_bits, acc, chunk, n, shift);
}

// ---- portable -------------------------------------------------------------

void gemm_i16_portable(const int16_t* x, const int32_t* w, int ws, int32_t* out, int kk, int d2,
                       int pp) {
  for (int k = 0; k < kk; ++k) {
    int32_t* o = out + static_cast<size_t>(k) * pp;
    for (int p = 0; p < pp; ++p) o[p] = 0;
    for (int j = 0; j < d2; ++j) {
      const int32_t wp = w[static_cast<size_t>(k) * ws + j];
      const int32_t w0 = static_cast<int16_t>(static_cast<uint32_t>(wp) & 0xffff);
      const int32_t w1 = static_cast<int16_t>(static_cast<uint32_t>(wp) >> 16);
      const int16_t* xr = x + static_cast<size_t>(j) * pp * 2;
      // Modulo 2^32 like the vector code (unsigned: no undefined overflow).
      for (int p = 0; p < pp; ++p)
        o[p] = static_cast<int32_t>(static_cast<uint32_t>(o[p]) +
                                    static_cast<uint32_t>(xr[2 * p] * w0) +
                                    static_cast<uint32_t>(xr[2 * p + 1] * w1));
    }
  }
}

void gemm_u8i8_portable(const uint8_t* x, const int32_t* w, int ws, const int32_t* init,
                        int32_t* out, int kk, int d4, int pp) {
  for (int k = 0; k < kk; ++k) {
    uint32_t* o = reinterpret_cast<uint32_t*>(out + static_cast<size_t>(k) * pp);
    for (int p = 0; p < pp; ++p) o[p] = static_cast<uint32_t>(init[k]);
    for (int j = 0; j < d4; ++j) {
      const uint32_t wq = static_cast<uint32_t>(w[static_cast<size_t>(k) * ws + j]);
      const uint8_t* xr = x + static_cast<size_t>(j) * pp * 4;
      for (int e = 0; e < 4; ++e) {
        const int32_t we = static_cast<int8_t>(static_cast<uint8_t>(wq >> (8 * e)));
        // Modulo 2^32 like vpdpbusd (unsigned: no undefined overflow).
        for (int p = 0; p < pp; ++p) o[p] += static_cast<uint32_t>(xr[4 * p + e] * we);
      }
    }
  }
}

void gemm_f64_portable(const double* x, const double* w, int ws, double* out, int kk, int d,
                       int pp) {
  for (int k = 0; k < kk; ++k) {
    double* o = out + static_cast<size_t>(k) * pp;
    for (int p = 0; p < pp; ++p) o[p] = 0;
    for (int j = 0; j < d; ++j) {
      const double wv = w[static_cast<size_t>(k) * ws + j];
      const double* xr = x + static_cast<size_t>(j) * pp;
      for (int p = 0; p < pp; ++p) o[p] += wv * xr[p];
    }
  }
}

#ifdef RISTSIM_X86

// ---- AVX2 -----------------------------------------------------------------

__attribute__((target("avx2,fma"))) void gemm_i16_avx2(const int16_t* x, const int32_t* w, int ws,
                                                       int32_t* out, int kk, int d2, int pp) {
  for (int k0 = 0; k0 < kk; k0 += kRowBlock) {
    const int32_t* w0 = w + static_cast<size_t>(k0) * ws;
    for (int p0 = 0; p0 < pp; p0 += 16) {
      __m256i acc[kRowBlock][2];
      for (auto& r : acc) r[0] = r[1] = _mm256_setzero_si256();
      for (int j = 0; j < d2; ++j) {
        const int16_t* xr = x + (static_cast<size_t>(j) * pp + p0) * 2;
        const __m256i xa = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr));
        const __m256i xb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr + 16));
        for (int r = 0; r < kRowBlock; ++r) {
          const __m256i wv = _mm256_set1_epi32(w0[static_cast<size_t>(r) * ws + j]);
          acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(xa, wv));
          acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(xb, wv));
        }
      }
      for (int r = 0; r < kRowBlock; ++r) {
        int32_t* o = out + static_cast<size_t>(k0 + r) * pp + p0;
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), acc[r][0]);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 8), acc[r][1]);
      }
    }
  }
}

__attribute__((target("avx2,fma"))) void gemm_f64_avx2(const double* x, const double* w, int ws,
                                                       double* out, int kk, int d, int pp) {
  for (int k0 = 0; k0 < kk; k0 += kRowBlock) {
    const double* w0 = w + static_cast<size_t>(k0) * ws;
    for (int p0 = 0; p0 < pp; p0 += 8) {
      __m256d acc[kRowBlock][2];
      for (auto& r : acc) r[0] = r[1] = _mm256_setzero_pd();
      for (int j = 0; j < d; ++j) {
        const double* xr = x + static_cast<size_t>(j) * pp + p0;
        const __m256d xa = _mm256_loadu_pd(xr);
        const __m256d xb = _mm256_loadu_pd(xr + 4);
        for (int r = 0; r < kRowBlock; ++r) {
          const __m256d wv = _mm256_broadcast_sd(w0 + static_cast<size_t>(r) * ws + j);
          acc[r][0] = _mm256_fmadd_pd(xa, wv, acc[r][0]);
          acc[r][1] = _mm256_fmadd_pd(xb, wv, acc[r][1]);
        }
      }
      for (int r = 0; r < kRowBlock; ++r) {
        double* o = out + static_cast<size_t>(k0 + r) * pp + p0;
        _mm256_storeu_pd(o, acc[r][0]);
        _mm256_storeu_pd(o + 4, acc[r][1]);
      }
    }
  }
}

// ---- AVX-512 ----------------------------------------------------------------

__attribute__((target("avx512f,avx512bw"))) void gemm_i16_avx512(const int16_t* x, const int32_t* w,
                                                                 int ws, int32_t* out, int kk,
                                                                 int d2, int pp) {
  for (int k0 = 0; k0 < kk; k0 += kRowBlock) {
    const int32_t* w0 = w + static_cast<size_t>(k0) * ws;
    for (int p0 = 0; p0 < pp; p0 += 32) {
      __m512i acc[kRowBlock][2];
      for (auto& r : acc) r[0] = r[1] = _mm512_setzero_si512();
      for (int j = 0; j < d2; ++j) {
        const int16_t* xr = x + (static_cast<size_t>(j) * pp + p0) * 2;
        const __m512i xa = _mm512_loadu_si512(xr);
        const __m512i xb = _mm512_loadu_si512(xr + 32);
        for (int r = 0; r < kRowBlock; ++r) {
          const __m512i wv = _mm512_set1_epi32(w0[static_cast<size_t>(r) * ws + j]);
          acc[r][0] = _mm512_add_epi32(acc[r][0], _mm512_madd_epi16(xa, wv));
          acc[r][1] = _mm512_add_epi32(acc[r][1], _mm512_madd_epi16(xb, wv));
        }
      }
      for (int r = 0; r < kRowBlock; ++r) {
        int32_t* o = out + static_cast<size_t>(k0 + r) * pp + p0;
        _mm512_storeu_si512(o, acc[r][0]);
        _mm512_storeu_si512(o + 16, acc[r][1]);
      }
    }
  }
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) void gemm_i16_vnni(const int16_t* x,
                                                                          const int32_t* w, int ws,
                                                                          int32_t* out, int kk,
                                                                          int d2, int pp) {
  for (int k0 = 0; k0 < kk; k0 += kRowBlock) {
    const int32_t* w0 = w + static_cast<size_t>(k0) * ws;
    for (int p0 = 0; p0 < pp; p0 += 32) {
      __m512i acc[kRowBlock][2];
      for (auto& r : acc) r[0] = r[1] = _mm512_setzero_si512();
      for (int j = 0; j < d2; ++j) {
        const int16_t* xr = x + (static_cast<size_t>(j) * pp + p0) * 2;
        const __m512i xa = _mm512_loadu_si512(xr);
        const __m512i xb = _mm512_loadu_si512(xr + 32);
        for (int r = 0; r < kRowBlock; ++r) {
          const __m512i wv = _mm512_set1_epi32(w0[static_cast<size_t>(r) * ws + j]);
          // vpdpwssd: non-saturating, modulo 2^32 like vpmaddwd + vpaddd.
          acc[r][0] = _mm512_dpwssd_epi32(acc[r][0], xa, wv);
          acc[r][1] = _mm512_dpwssd_epi32(acc[r][1], xb, wv);
        }
      }
      for (int r = 0; r < kRowBlock; ++r) {
        int32_t* o = out + static_cast<size_t>(k0 + r) * pp + p0;
        _mm512_storeu_si512(o, acc[r][0]);
        _mm512_storeu_si512(o + 16, acc[r][1]);
      }
    }
  }
}

/// kRowBlock rows by kVectors x 16 columns from column p0 (vpdpbusd).
template <int kVectors>
__attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline)) inline void u8i8_block_vnni(
    const uint8_t* x, const int32_t* w0, int ws, const int32_t* init, int32_t* out, int d4, int pp,
    int k0, int p0) {
  __m512i acc[kRowBlock][kVectors];
  for (int r = 0; r < kRowBlock; ++r)
    for (int v = 0; v < kVectors; ++v) acc[r][v] = _mm512_set1_epi32(init[k0 + r]);
  for (int j = 0; j < d4; ++j) {
    const uint8_t* xr = x + (static_cast<size_t>(j) * pp + p0) * 4;
    __m512i xv[kVectors];
    for (int v = 0; v < kVectors; ++v) xv[v] = _mm512_loadu_si512(xr + 64 * v);
    for (int r = 0; r < kRowBlock; ++r) {
      const __m512i wv = _mm512_set1_epi32(w0[static_cast<size_t>(r) * ws + j]);
      for (int v = 0; v < kVectors; ++v) acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], xv[v], wv);
    }
  }
  for (int r = 0; r < kRowBlock; ++r) {
    int32_t* o = out + static_cast<size_t>(k0 + r) * pp + p0;
    for (int v = 0; v < kVectors; ++v) _mm512_storeu_si512(o + 16 * v, acc[r][v]);
  }
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) void gemm_u8i8_vnni(const uint8_t* x,
                                                                           const int32_t* w, int ws,
                                                                           const int32_t* init,
                                                                           int32_t* out, int kk,
                                                                           int d4, int pp) {
  for (int k0 = 0; k0 < kk; k0 += kRowBlock) {
    const int32_t* w0 = w + static_cast<size_t>(k0) * ws;
    int p0 = 0;
    for (; p0 + 64 <= pp; p0 += 64) u8i8_block_vnni<4>(x, w0, ws, init, out, d4, pp, k0, p0);
    for (; p0 < pp; p0 += 32) u8i8_block_vnni<2>(x, w0, ws, init, out, d4, pp, k0, p0);
  }
}

__attribute__((target("avx512f"))) void gemm_f64_avx512(const double* x, const double* w, int ws,
                                                        double* out, int kk, int d, int pp) {
  for (int k0 = 0; k0 < kk; k0 += kRowBlock) {
    const double* w0 = w + static_cast<size_t>(k0) * ws;
    for (int p0 = 0; p0 < pp; p0 += 16) {
      __m512d acc[kRowBlock][2];
      for (auto& r : acc) r[0] = r[1] = _mm512_setzero_pd();
      for (int j = 0; j < d; ++j) {
        const double* xr = x + static_cast<size_t>(j) * pp + p0;
        const __m512d xa = _mm512_loadu_pd(xr);
        const __m512d xb = _mm512_loadu_pd(xr + 8);
        for (int r = 0; r < kRowBlock; ++r) {
          const __m512d wv = _mm512_set1_pd(w0[static_cast<size_t>(r) * ws + j]);
          acc[r][0] = _mm512_fmadd_pd(xa, wv, acc[r][0]);
          acc[r][1] = _mm512_fmadd_pd(xb, wv, acc[r][1]);
        }
      }
      for (int r = 0; r < kRowBlock; ++r) {
        double* o = out + static_cast<size_t>(k0 + r) * pp + p0;
        _mm512_storeu_pd(o, acc[r][0]);
        _mm512_storeu_pd(o + 8, acc[r][1]);
      }
    }
  }
}

#endif  // RISTSIM_X86

}  // namespace

void interleave_quads(const uint8_t* rows, int d4, int pp, uint8_t* x) {
  for (int j = 0; j < d4; ++j) {
    const uint8_t* r0 = rows + static_cast<size_t>(4 * j) * pp;
    const uint8_t* r1 = r0 + pp;
    const uint8_t* r2 = r1 + pp;
    const uint8_t* r3 = r2 + pp;
    uint8_t* o = x + static_cast<size_t>(j) * pp * 4;
#ifdef RISTSIM_X86
    // SSE2 (every x86-64): 16 columns of 4 rows, bytes then pairs interleaved.
    for (int p = 0; p < pp; p += 16) {
      const __m128i a0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0 + p));
      const __m128i a1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r1 + p));
      const __m128i a2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r2 + p));
      const __m128i a3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r3 + p));
      const __m128i lo01 = _mm_unpacklo_epi8(a0, a1), hi01 = _mm_unpackhi_epi8(a0, a1);
      const __m128i lo23 = _mm_unpacklo_epi8(a2, a3), hi23 = _mm_unpackhi_epi8(a2, a3);
      __m128i* q = reinterpret_cast<__m128i*>(o + static_cast<size_t>(p) * 4);
      _mm_storeu_si128(q + 0, _mm_unpacklo_epi16(lo01, lo23));
      _mm_storeu_si128(q + 1, _mm_unpackhi_epi16(lo01, lo23));
      _mm_storeu_si128(q + 2, _mm_unpacklo_epi16(hi01, hi23));
      _mm_storeu_si128(q + 3, _mm_unpackhi_epi16(hi01, hi23));
    }
#else
    for (int p = 0; p < pp; ++p) {
      o[4 * p] = r0[p];
      o[4 * p + 1] = r1[p];
      o[4 * p + 2] = r2[p];
      o[4 * p + 3] = r3[p];
    }
#endif
  }
}

uint64_t accumulate_chunk(CpuIsa isa, bool saturate, int acc_bits, int64_t* acc,
                          const int32_t* chunk, int n, int shift) {
  return accumulate_chunk_any(isa, saturate, acc_bits, acc, chunk, n, shift);
}

uint64_t accumulate_chunk(CpuIsa isa, bool saturate, int acc_bits, int64_t* acc,
                          const double* chunk, int n, int shift) {
  return accumulate_chunk_any(isa, saturate, acc_bits, acc, chunk, n, shift);
}

void gemm_i16(CpuIsa isa, const int16_t* x, const int32_t* w, int ws, int32_t* out, int kk, int d2,
              int pp) {
#ifdef RISTSIM_X86
  switch (isa) {
    case CpuIsa::avx512_vnni: return gemm_i16_vnni(x, w, ws, out, kk, d2, pp);
    case CpuIsa::avx512: return gemm_i16_avx512(x, w, ws, out, kk, d2, pp);
    case CpuIsa::avx2: return gemm_i16_avx2(x, w, ws, out, kk, d2, pp);
    case CpuIsa::portable: break;
  }
#else
  (void)isa;
#endif
  gemm_i16_portable(x, w, ws, out, kk, d2, pp);
}

void gemm_u8i8(CpuIsa isa, const uint8_t* x, const int32_t* w, int ws, const int32_t* init,
               int32_t* out, int kk, int d4, int pp) {
#ifdef RISTSIM_X86
  if (isa == CpuIsa::avx512_vnni) return gemm_u8i8_vnni(x, w, ws, init, out, kk, d4, pp);
#else
  (void)isa;
#endif
  gemm_u8i8_portable(x, w, ws, init, out, kk, d4, pp);
}

void gemm_f64(CpuIsa isa, const double* x, const double* w, int ws, double* out, int kk, int d,
              int pp) {
#ifdef RISTSIM_X86
  switch (isa) {
    case CpuIsa::avx512_vnni:
    case CpuIsa::avx512: return gemm_f64_avx512(x, w, ws, out, kk, d, pp);
    case CpuIsa::avx2: return gemm_f64_avx2(x, w, ws, out, kk, d, pp);
    case CpuIsa::portable: break;
  }
#else
  (void)isa;
#endif
  gemm_f64_portable(x, w, ws, out, kk, d, pp);
}

}  // namespace ristsim::kernels::cpu_detail
