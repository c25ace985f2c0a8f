// The yosys cross-check of an arch's generated RTL (sim/rtlgen) against the
// cost model, block by block. Each module is synthesized on its own (yosys.h);
// the multiplier array is generated for one lane and multiplied by P x K, the
// other blocks once per PE and multiplied by P (TOOLCHAIN.md: a whole 16-lane
// MAC takes about 10 s, one lane well under one).
#pragma once

#include <string>
#include <vector>

#include "config/arch.h"
#include "cost/model.h"
#include "cost/yosys.h"

namespace ristsim::cost {

/// Synthesizes the modules of the arch's PE and compares each with the model:
///   ristsim_mul_array (1 lane)          multipliers + exponent adders + shifters of one lane
///   ristsim_align (1 lane), ristsim_to_fixed  no separate model block (in the lane, the output stage)
///   ristsim_adder_tree                  adder tree + pipeline registers
///   ristsim_accumulator                 accumulator
///   ristsim_output_stage (+ splitmix)   output stage
/// and a last row "PE (sum of blocks)". Work files go to `work_dir`.
/// Throws std::runtime_error when the RTL cannot be generated or yosys fails.
std::vector<CrossCheck> cross_check_arch(const config::Arch& arch, const TechModel& model,
                                         const std::string& yosys, const std::string& work_dir);

/// The same for RTL already written by `ristsim rtl --out DIR`: every module
/// file in `rtl_dir` (*.sv, *.v) is synthesized with its stem as the top, all
/// files read together; the multiplier array as generated (K lanes, times P).
/// The files of `files` (*.sv, one module each, named by its stem) that module
/// `top` needs: its own and, transitively, those of the modules it names; what
/// each block's synthesis reads.
std::vector<std::string> files_for_module(const std::vector<std::string>& files,
                                          const std::string& top);

std::vector<CrossCheck> cross_check_dir(const config::Arch& arch, const TechModel& model,
                                        const std::string& yosys, const std::string& rtl_dir,
                                        const std::string& work_dir);

}  // namespace ristsim::cost
