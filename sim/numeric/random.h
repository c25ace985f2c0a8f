// Counter-based random bits for stochastic rounding.
//
// The R-bit number r used to round element `index` of stream `stream` under
// seed `seed` is a pure function of the three, so the CPU, CUDA, SystemC models
// and the RTL draw exactly the same bits in any order and any parallelism:
//
//   mix64(z)    = SplitMix64's finaliser:
//                 z ^= z >> 30; z *= 0xBF58476D1CE4E5B9;
//                 z ^= z >> 27; z *= 0x94D049BB133111EB; z ^= z >> 31
//   key         = mix64(seed ^ mix64(stream + 0x9E3779B97F4A7C15))
//   random64    = mix64(key + (index + 1) * 0x9E3779B97F4A7C15)   (mod 2^64)
//   r           = random64 >> (64 - R)                             (top R bits)
//
// random64 is output number `index` of a SplitMix64 generator whose state
// starts at `key`. Hardware holds the key per stream (a constant for a layer)
// and needs two 64-bit multiplies per draw.
#pragma once

#include <cstdint>

#include "hd.h"

namespace ristsim::numeric {

inline constexpr uint64_t kGolden64 = 0x9E3779B97F4A7C15ull;
inline constexpr int kDefaultRandomBits = 16;

RISTSIM_HD constexpr uint64_t mix64(uint64_t z) {
  z ^= z >> 30;
  z *= 0xBF58476D1CE4E5B9ull;
  z ^= z >> 27;
  z *= 0x94D049BB133111EBull;
  z ^= z >> 31;
  return z;
}

/// The per-(seed, stream) key.
RISTSIM_HD constexpr uint64_t stream_key(uint64_t seed, uint64_t stream) {
  return mix64(seed ^ mix64(stream + kGolden64));
}

/// 64 random bits of element `index` under `key`.
RISTSIM_HD constexpr uint64_t random64(uint64_t key, uint64_t index) {
  return mix64(key + (index + 1) * kGolden64);
}

/// The R-bit number (R in 1..32) of element `index` of (seed, stream).
RISTSIM_HD constexpr uint32_t random_bits(uint64_t seed, uint64_t stream, uint64_t index, int R) {
  return static_cast<uint32_t>(random64(stream_key(seed, stream), index) >> (64 - R));
}

}  // namespace ristsim::numeric
