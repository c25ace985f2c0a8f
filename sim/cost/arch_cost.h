// What an accelerator (config::Arch) costs: the blocks of its processing
// elements with their widths (from sim/numeric/growth.h), their area, the energy
// per MAC, and the energy of running a list of layers on it.
//
// A processing element (docs/datapath.md) has K lanes, each a multiplier (or, for
// power-of-two operands, a shifter) producing an exact product; a widening adder
// tree over the K products with a pipeline register every `pipeline_every`
// levels; an accumulator of A bits with its saturation logic; and an output
// stage (shift to the output's grid, rounding, saturation). P such elements.
// The float32 datapath uses float multipliers and adders throughout.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/arch.h"
#include "cost/model.h"
#include "map/mapper.h"

namespace ristsim::cost {

/// The hardware of one lane and one PE for a set of formats; widths only.
struct PeDesign {
  bool is_float = false;           ///< float32 datapath
  numeric::FixedType product;      ///< exact product (growth.h product_type of the formats)
  int mult_m = 0, mult_n = 0;      ///< multiplier operand widths (0: no multiplier)
  int exp_adder_bits = 0;          ///< exponent adder (0: none)
  int shifter_width = 0;           ///< product alignment shifter width W (0: none)
  int shifter_in = 0;              ///< bits it shifts (the significand product's)
  uint64_t shifter_positions = 0;  ///< its number of shift amounts S
  int sign_xors = 0;               ///< sign application (sign-magnitude to two's complement)
  numeric::FixedType tree_input;   ///< product on the accumulator grid (growth.h aligned_type)
  AdderTreeShape tree;
  int pipeline_register_bits = 0;  ///< inside the tree, per PE
  int acc_bits = 0;
  bool acc_saturates = false;
  int out_bits = 0;
  // Widths of the RTL's (rtl/, docs/rtl.md) that the accumulator and the output
  // stage are costed with, from growth.h as sim/rtlgen/pe_shape.h derives them.
  int frac_bits = 0;                ///< F, the accumulator grid 2^-F
  int align_shift = 0;              ///< product FL - F (> 0: each lane's alignment rounds)
  numeric::FixedType bias_fixed;    ///< the bias code as an integer (exactly_fixed)
  numeric::FixedType bias_aligned;  ///< the bias on the accumulator grid (aligned_type)
  int tag_bits = 0;                 ///< the chunk's tag: first, last, bias code, [64-bit index]
  bool runtime_fl = false;          ///< the output stage shifts by the layer's FLs at run time
  std::string lane_text;  ///< e.g. "8x8 multiplier"
  /// OCP MX operands (docs/cost.md): the adder tree sums element products exactly
  /// within a block; once per block of `mx_block` terms a scale adder (the two 8-bit
  /// E8M0 codes) and a shifter move the block sum onto the accumulator's grid.
  int mx_block = 0;              ///< 0: no MX operand
  int mx_scale_adder_bits = 0;   ///< 9: sa + sw
  int mx_shifter_width = 0;      ///< the accumulator's width
  uint64_t mx_shifter_positions = 0;  ///< shift amounts that reach the accumulator
};

/// Derives the PE's widths for `formats` on `arch` (lanes, accumulator, pipeline).
PeDesign pe_design(const config::Arch& arch, const config::LayerFormats& formats);

/// One row of the area table: a block, how many the chip has, its cost.
struct Component {
  std::string name;  ///< multipliers, exponent adders, shifters, adder tree, ...
  std::string
      category;        ///< energy category: multipliers, tree, shifters, accumulator, output_stage
  std::string detail;  ///< widths, e.g. "8x8 bits"
  double count = 0;    ///< instances on the chip
  Cost each;           ///< area of one, energy of one action
  std::string action;  ///< what one action is ("per lane product", "per chunk", "per output")
  std::string source;  ///< where its numbers come from
  double total_ge() const { return each.ge * count; }
  double total_um2() const { return each.area_um2 * count; }
};

/// On-chip buffer and off-chip memory the energy is computed for.
struct MemorySpec {
  double sram_bytes = 0;  ///< 0: the table's default
  std::string dram_type;  ///< empty: the table's default
  map::Objective objective = map::Objective::energy;  ///< what the mapper minimises
};

struct ArchCost {
  PeDesign pe;
  std::vector<Component> components;  ///< per chip
  double area_um2 = 0, ge = 0;        ///< logic of all PEs (SRAM not included)
  double energy_per_mac_pj = 0;       ///< lanes + tree/K + accumulator/K, all lanes busy
  double energy_per_output_pj = 0;    ///< output stage, once per output element
  double sram_bytes = 0;
  std::string dram_type;
  double sram_read_pj_per_bit = 0, sram_write_pj_per_bit = 0, dram_pj_per_bit = 0;
  /// The arch's memory hierarchy with every default resolved (buffer sizes, DRAM
  /// type), and each level's energy per bit read / written (register files per
  /// PE, SRAM per bank capacity, DRAM by type).
  config::MemoryHierarchy memory;
  std::vector<map::LevelEnergy> level_energy;
  int node_nm = 0;
  double frequency_mhz = 0;
};

/// The arch's area table and energy per MAC, for its default formats.
ArchCost arch_cost(const config::Arch& arch, const TechModel& model, const MemorySpec& mem = {});

/// The model's GE of one instance of an rtl/ module of the PE, from `cost`'s
/// components (what the yosys cross-check compares each module with):
///   ristsim_mul_array    one lane: multiplier, exponent adder, shifter, lane enable
///   ristsim_align        one lane's product alignment
///   ristsim_to_fixed     the bias decoder (wires for a fixed-point bias)
///   ristsim_adder_tree   the adder tree and its pipeline registers
///   ristsim_accumulator  the accumulator with its registers
///   ristsim_output_stage the output stage
/// 0 for a module the model has no block for. The stage-1 product registers
/// of ristsim_pe_core are in none of these.
double block_model_ge(const ArchCost& cost, const std::string& rtl_module);

/// The work of one layer, filled by the engine (or a test fixture).
struct LayerWork {
  std::string name;
  std::string kind;      ///< "conv", "fc", ...
  std::string shape;     ///< human-readable, e.g. "1x28x28 -> 20x24x24, k5"
  uint64_t macs = 0;     ///< multiply-accumulates
  uint64_t outputs = 0;  ///< output elements
  uint64_t terms = 0;    ///< dot-product length per output (0: macs / outputs)
  uint64_t weights = 0, inputs = 0, biases = 0;  ///< element counts (traffic, bandwidth claim)
  uint64_t sram_read_bits = 0, sram_write_bits = 0, dram_bits = 0;
  uint64_t cycles = 0;  ///< measured elsewhere; 0: layer_energy counts them (the mapper)
  /// The layer's formats as quantized (dynamic fixed point with its actual
  /// fractional lengths); unset: the arch's (config::formats_for).
  std::optional<config::LayerFormats> formats;
  /// Scale of the dynamic compute energy, e.g. measured toggles / the anchors'
  /// activity from co-simulating real layer data; 1: the anchors as published.
  double activity = 1.0;
};

/// Energy of one layer by category, in pJ.
struct LayerEnergy {
  std::string name;
  double multipliers = 0, tree = 0, shifters = 0, accumulator = 0, output_stage = 0;
  double rf = 0, sram = 0, dram = 0;  ///< memory by level kind (the mapper's access counts)
  map::LayerMap map;  ///< the mapping, its cycles and the accesses per level
  double sram_bits = 0, dram_bits = 0;  ///< buffer and DRAM bits moved (reads + writes)
  uint64_t chunks = 0;        ///< adder-tree activations (outputs * ceil(terms / K))
  uint64_t cycles = 0;        ///< LayerWork::cycles if given, else the cycle model's count
  uint64_t stall_cycles = 0;  ///< PE-cycles waiting for operands (cycle model; 0 if given)
  bool cycles_given = false;  ///< cycles came with the LayerWork, not from the cycle model
  double utilisation = 0;     ///< macs / (cycles * P * K)
  double compute() const { return multipliers + tree + shifters + accumulator + output_stage; }
  double memory() const { return rf + sram + dram; }
  double total() const { return compute() + memory(); }
};

/// Energy split of each layer, with the layer's own formats (arch overrides).
/// Memory energy, cycles, stalls and utilisation come from the mapper (sim/map):
/// the layer tiled onto the arch's array and memory hierarchy, its access
/// counts per level priced with ArchCost::level_energy. For a broadcast array
/// (array: {pes: P}) without width limits the cycles equal schedule.h
/// count_layer(), the SystemC layer scheduler's count.
std::vector<LayerEnergy> layer_energy(const config::Arch& arch, const TechModel& model,
                                      const std::vector<LayerWork>& layers,
                                      const MemorySpec& mem = {});

/// The arch's hierarchy with defaults resolved: buffers without a size get
/// mem.sram_bytes (else the table's default), DRAM without a type mem.dram_type
/// (else the table's default). Throws config::ConfigError at the level's line
/// for a DRAM type the table does not have.
config::MemoryHierarchy resolve_memory(const config::Arch& arch, const TechModel& model,
                                       const MemorySpec& mem = {});

/// The mapper's view of a layer: M = outputs / N, N = output channels
/// (weights / terms), K = terms, with the layer's stored widths.
map::LayerShape layer_shape(const config::Arch& arch, const LayerWork& w);

/// The no-reuse reference (the model before the mapper; kept for the
/// "memory bandwidth" claim and the report's comparison): traffic of a layer under the simplest dataflow (docs/cost.md): weights,
/// inputs and outputs cross DRAM once; every MAC reads its activation and weight
/// from SRAM; SRAM is written once with the inputs and weights and once with the
/// outputs. Fills sram_read_bits, sram_write_bits and dram_bits of `w`.
void fill_traffic(const config::Arch& arch, LayerWork* w);

/// Bits of a stored number of a group (32 for float).
int storage_bits(const config::NumberSpec& s);

}  // namespace ristsim::cost
