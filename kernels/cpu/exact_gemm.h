// The GEMM kernels of the exact datapath on the CPU (internal to kernels/cpu).
// out[k][p] = sum_d w[k][d] * x[d][p], with one variant per instruction set.
// The portable variants are always compiled; the others carry per-function
// target attributes and run only where __builtin_cpu_supports says so.
#pragma once

#include <cstdint>

#include "kernels/cpu/exact_layer_cpu.h"

namespace ristsim::kernels::cpu_detail {

/// Column and row blocking shared by the kernels and the packing code.
inline constexpr int kColumnBlock = 32;  ///< pp is a multiple of this
inline constexpr int kRowBlock = 4;      ///< kk is a multiple of this

/// int16 x int16 -> int32, pairs of d interleaved (the vpmaddwd layout):
///   x: [d2][pp][2] int16 (x[j][p][e] is term d = 2j + e of column p)
///   w: [kk][w_stride] int32, low half w[k][2j], high half w[k][2j+1], j < d2
///   out: [kk][pp] int32, the sum modulo 2^32 (exact when |sum| < 2^31:
///   vpmaddwd's one wrapping case, all four inputs -32768, is congruent).
void gemm_i16(CpuIsa isa, const int16_t* x, const int32_t* w, int w_stride, int32_t* out, int kk,
              int d2, int pp);

/// uint8 x int8 -> int32, quads of d interleaved (the vpdpbusd layout):
///   x: [d4][pp][4] uint8 (x[j][p][e] is term d = 4j + e of column p)
///   w: [kk][w_stride] int32, byte e (from the low end) = int8 w[k][4j+e], j < d4
///   init: [kk] int32, the start value of row k's sums (the offset correction)
///   out: [kk][pp] int32, init[k] + sum, modulo 2^32 (vpdpbusd does not
///   saturate; exact when the true value lies in int32).
/// The column loop runs 64 columns at a time where pp allows, else 32.
void gemm_u8i8(CpuIsa isa, const uint8_t* x, const int32_t* w, int w_stride, const int32_t* init,
               int32_t* out, int kk, int d4, int pp);

/// The vpdpbusd layout from plain rows: rows [4 * d4][pp] uint8 (row d holds
/// term d of every column) to x [d4][pp][4]. pp is a multiple of 16.
void interleave_quads(const uint8_t* rows, int d4, int pp, uint8_t* x);

/// double: x: [d][pp], w: [kk][w_stride] (d used), out: [kk][pp]. Exact when
/// every product and partial sum is an integer of magnitude <= 2^53 (the
/// caller's bound).
void gemm_f64(CpuIsa isa, const double* x, const double* w, int w_stride, double* out, int kk,
              int d, int pp);

/// One chunk into n accumulators of A <= 63 bits: acc = ovf(acc + (chunk << shift))
/// with ovf saturate (to [lo, hi]) or wrap (two's complement in A bits);
/// returns how many values ovf changed. Needs |acc|, |chunk << shift| <= 2^62.
uint64_t accumulate_chunk(CpuIsa isa, bool saturate, int acc_bits, int64_t* acc,
                          const int32_t* chunk, int n, int shift);
/// The same with chunk sums held in doubles (integers of magnitude <= 2^53).
uint64_t accumulate_chunk(CpuIsa isa, bool saturate, int acc_bits, int64_t* acc,
                          const double* chunk, int n, int shift);

}  // namespace ristsim::kernels::cpu_detail
