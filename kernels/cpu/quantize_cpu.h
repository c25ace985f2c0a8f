// The numeric core's array quantizer (sim/numeric/quantize_array.h) compiled
// for AVX2 and AVX-512 and chosen at run time: the same bits as
// numeric::quantize() element by element, and the same statistics as
// numeric::ArrayStats::add(), several times faster than the portable build.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/exact_layer_cpu.h"
#include "numeric/quantize_array.h"

namespace ristsim::kernels {

/// numeric::quantize_array() with the loop built for `isa` (falls back to the
/// best supported one below it).
void quantize_array_cpu(const numeric::Quantizer& q, const float* x, std::size_t n,
                        uint64_t index0, float* y, uint32_t* codes, numeric::ArrayStats* stats,
                        CpuIsa isa = best_cpu_isa());

/// numeric::array_stats() with the loop built for `isa`.
void array_stats_cpu(const float* x, std::size_t n, numeric::ArrayStats* stats,
                     CpuIsa isa = best_cpu_isa());

}  // namespace ristsim::kernels
