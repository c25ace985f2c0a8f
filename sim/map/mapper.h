// The mapper: a convolution or fully connected layer, seen as the matrix
// product O[M][N] = I[M][K] x W[K][N] (M output pixels, N output channels, K
// terms per output: C x R x S), tiled onto the PE array of an arch for its
// dataflow, with the analytic cycle and access model of docs/cost.md
// ("Mapping").
//
// Spatial mapping (SCALE-Sim's operand matrices, Samajdar et al. 2018/2020):
// the array's rows take Sr, its columns Sc, and T streams through in time,
//   output_stationary  Sr = M, Sc = N, T = K
//   weight_stationary  Sr = K, Sc = N, T = M
//   input_stationary   Sr = K, Sc = M, T = N
// where K counts chunks of `lanes` terms (a PE sums K lanes per cycle). A
// fold is one (rows x cols) piece of Sr x Sc; as in SCALE-Sim, a fold at the
// edge is padded to the whole array and takes as long as a full one:
//   cycles per fold = (R - 1 + C - 1) fill + T + R drain + (L - 1)
// = 2R + C + T - 2 for PEs of latency L = 1 (SCALE-Sim's formula). A broadcast
// array (array: {pes: P}) has no skew: its P PEs take one output each and run
// back to back, ceil(M N / P) x ceil(K / lanes) + L - 1 cycles (= cycle/schedule.h).
//
// Temporal mapping (the search): the buffers hold tiles of I, W and O of
// tm x tk, tk x tn and tm x tn (double buffered: twice the tile must fit), the
// tiles walk in one of the six loop orders, and an operand tile is fetched
// again from DRAM whenever a loop it does not depend on runs outside one it
// does (partial sums spill to DRAM when the K loop runs outside M or N).
// Cycles = compute + fetch stalls (a buffer's width x banks cannot move its
// bits in the compute time) + DRAM stalls (bandwidth; the first tiles' load).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/arch.h"

namespace ristsim::map {

enum Operand : int { kInputs = 0, kWeights = 1, kOutputs = 2 };
const char* operand_name(int op);

/// A layer as a matrix product.
struct LayerShape {
  std::string name;
  uint64_t m = 0;  ///< output pixels (1 for a fully connected layer)
  uint64_t n = 0;  ///< output channels
  uint64_t k = 0;  ///< terms per output
  /// Distinct input elements (the input feature map); 0: m * k (no overlap).
  /// DRAM and buffer traffic of inputs scale by input_elements / (m k).
  uint64_t input_elements = 0;
  int bits[3] = {8, 8, 8};  ///< stored bits of inputs, weights, outputs
  int psum_bits = 32;       ///< partial sums (the accumulator)
  uint64_t macs() const { return m * n * k; }
};

/// Energy per bit of a level, for the energy objective (index: level of the hierarchy).
struct LevelEnergy {
  double read_pj_per_bit = 0, write_pj_per_bit = 0;
};

enum class Objective { energy, cycles };

struct Options {
  Objective objective = Objective::energy;
  int latency = 1;  ///< PE pipeline latency in cycles (rtlgen::pe_latency)
  std::vector<LevelEnergy> energy;  ///< one per level; missing: 0
  /// Tile counts per dimension tried exhaustively up to this; beyond, powers of two.
  uint64_t exhaustive_tiles = 64;
};

struct Access {
  double reads = 0, writes = 0;  ///< words
};

/// What one level of the hierarchy does for a layer.
struct LevelCount {
  std::string name;
  config::MemoryKind kind = config::MemoryKind::sram;
  Access op[3];                  ///< per operand (outputs: partial sums included)
  double read_bits = 0, write_bits = 0;
  double energy_pj = 0;          ///< with Options::energy
  double demand_bits_per_cycle = 0;  ///< bits moved / cycles of the layer
  double supply_bits_per_cycle = 0;  ///< 0: unlimited
  uint64_t bytes_used = 0;       ///< tiles held (double buffered), buffers only
  double capacity_bytes = 0;
};

struct Mapping {
  config::Dataflow dataflow = config::Dataflow::output_stationary;
  config::Interconnect interconnect = config::Interconnect::broadcast;
  int rows = 1, cols = 1, lanes = 1;
  uint64_t sr = 0, sc = 0, t = 0;  ///< SCALE-Sim operand dimensions, whole layer (K in chunks)
  uint64_t folds = 0;              ///< over all tiles
  uint64_t tile[3] = {0, 0, 0};    ///< tm, tn, tk
  std::string order;               ///< DRAM-level loops, outer to inner, e.g. "nmk"
  bool exhaustive = false;         ///< the search tried every tile count
  uint64_t candidates = 0;         ///< mappings evaluated
  uint64_t valid = 0;              ///< of which fit the buffers
  std::string text() const;        ///< one line for reports
};

struct LayerMap {
  std::string name;
  Mapping mapping;
  uint64_t macs = 0;
  uint64_t compute_cycles = 0, fetch_stall_cycles = 0, dram_stall_cycles = 0, cycles = 0;
  double utilisation = 0;  ///< macs / (cycles x PEs x lanes)
  std::vector<LevelCount> levels;  ///< as the hierarchy, innermost first
  double energy_pj = 0;            ///< memory energy (all levels)
};

/// Maps one layer; `memory` must have its buffer capacities resolved (> 0).
/// Throws std::invalid_argument when no tiling fits the buffers.
LayerMap map_layer(const LayerShape& layer, const config::ArraySpec& array,
                   const config::MemoryHierarchy& memory, const Options& opt);

/// SCALE-Sim's published runtime of a layer on an R x C systolic array
/// (Samajdar et al., ISPASS 2020, eq. 1-2): (2R + C + T - 2) ceil(Sr / R) ceil(Sc / C)
/// with Sr, Sc, T of the dataflow (above; K in terms, one MAC per PE per cycle).
uint64_t scalesim_cycles(config::Dataflow df, uint64_t m, uint64_t n, uint64_t k, int rows,
                         int cols);

}  // namespace ristsim::map
