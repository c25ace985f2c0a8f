// The exact datapath on the CPU: the same bits as kernels/reference
// (docs/datapath.md), fast.
//
// How: every code of a fixed, power-of-two or minifloat format is an exact
// integer in units of its exactly_fixed() quantum (growth.h), and every exact
// product an integer in units of 2^-FL_p. When the alignment is exact
// (F >= FL_p) and a per-channel bound shows that no partial sum can leave the
// accumulator's range (|acc| <= max|a| * sum|w| * 2^(F-FL_p) + |bias|), the
// chunked accumulation with its overflow mode is the plain sum, which an
// integer GEMM computes in any order:
//   int8 GEMM with int32 sums (AVX-512 VNNI vpdpbusd, u8 x s8) when the
//   weights lie in [-128, 127] and the activations in [0, 255] or in
//   [-128, 127], the latter offset by +128 into u8 with the correction
//   -128 * sum(w) as the sums' start value (the sums are modulo 2^32 and the
//   bound puts the true value within int32, so the wrap in between is
//   harmless; padding is the offset itself, i.e. zero). Only with VNNI: the
//   other instruction sets take int16 for the same layers.
//   int16 GEMM with int32 sums (AVX-512 VNNI vpdpwssd, AVX-512BW / AVX2
//   vpmaddwd, portable loops) when both operands fit 16 bits and the bound is
//   below 2^31;
//   double GEMM (AVX-512 / AVX2 FMA, portable) when the bound is at most 2^53:
//   every product and partial sum is then an integer below 2^53, exact in a
//   double whatever the order.
// Which kernel is decided by the values present, not by the formats: E4M3
// activations in [0, 1) are integers below 2^10 in units of 2^-9 and take the
// int16 kernel. Layers where some channel may overflow take, when the
// operands fit 16 bits and a chunk of K products fits 31 bits, the
// int16_chunked kernel (int8_chunked when they fit 8 bits, with VNNI): one
// GEMM per chunk of K terms (the depth laid out in chunks of K rounded up to
// even, or to 4 for int8, zero-padded), then the accumulator's overflow mode
// after each chunk, as the hardware does; float64_chunked does the same with
// double GEMMs when a chunk sum fits 53 bits but not 31. Everything else
// (rounded alignment F < FL_p, inf/NaN codes, formats too wide) takes a
// generic per-term path that follows the chunks literally, with precomputed
// aligned products. The output conversion is OutputStage (output_stage.h),
// equal to the numeric core's quantize().
// Per-channel weights (ExactLayerSpec::wt_fl): a fixed-point weight code is the
// same integer whatever its FL, so the GEMMs and bounds are unchanged; each
// distinct weight FL gets its own F, shift, aligned products and OutputStage,
// and every channel uses those of its FL.
// Buffers are kept per calling thread between calls (thread_local): a thread
// holds the operands of the largest layer it has run.
// Work is split over output positions across std::threads; results do not
// depend on the split.
#pragma once

#include <cstdint>

#include "kernels/reference/exact_layer.h"

namespace ristsim::kernels {

/// Instruction sets of the integer kernels, chosen at run time.
enum class CpuIsa : uint8_t { portable, avx2, avx512, avx512_vnni };
const char* to_string(CpuIsa isa);
/// The best instruction set this CPU supports (__builtin_cpu_supports).
CpuIsa best_cpu_isa();
/// True if this CPU can run `isa`.
bool cpu_supports(CpuIsa isa);

/// Which kernel a layer took (for tests and benchmarks).
enum class ExactKernel : uint8_t {
  int8,             ///< uint8 x int8 GEMM, int32 sums (AVX-512 VNNI vpdpbusd)
  int16,            ///< int16 x int16 GEMM, int32 sums
  float64,          ///< double GEMM, sums below 2^53
  int8_chunked,     ///< int8, one GEMM per chunk of K terms
  int16_chunked,    ///< int16, one GEMM per chunk of K terms
  float64_chunked,  ///< float64, one GEMM per chunk of K terms
  generic           ///< the per-term path
};
const char* to_string(ExactKernel k);

struct ExactCpuOptions {
  CpuIsa isa = best_cpu_isa();  ///< falls back to the best supported one below it
  int threads = 0;              ///< 0: std::thread::hardware_concurrency()
  bool force_generic = false;   ///< every channel through the generic per-term path
};

/// What exact_conv_cpu() did (filled when not null).
struct ExactCpuReport {
  ExactKernel kernel = ExactKernel::generic;  ///< the GEMM kernel of the fast channels
  CpuIsa isa = CpuIsa::portable;              ///< the instruction set it ran with
  int fast_channels = 0;     ///< output channels proven free of accumulator overflow
  int chunked_channels = 0;  ///< others, by a GEMM per chunk of K lanes (*_chunked)
  int generic_channels = 0;  ///< others, by the per-term path
  int act_offset = 0;        ///< int8 kernels: added to the activations (0: uint8, 128: int8)
};

/// Same contract as exact_conv_reference(), same bits.
void exact_conv_cpu(const ConvShape& shape, const ExactLayerSpec& spec, const uint32_t* in_codes,
                    const uint32_t* w_codes, const uint32_t* bias_codes, uint32_t* out_codes,
                    ExactStats* stats);

/// With options (instruction set, threads) and a report of the path taken.
void exact_conv_cpu(const ConvShape& shape, const ExactLayerSpec& spec, const uint32_t* in_codes,
                    const uint32_t* w_codes, const uint32_t* bias_codes, uint32_t* out_codes,
                    ExactStats* stats, const ExactCpuOptions& options, ExactCpuReport* report);

}  // namespace ristsim::kernels
