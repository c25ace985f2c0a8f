// Cross-check of the generated RTL against the model (see rtl_check.h).
#include "cost/rtl_check.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "cost/arch_cost.h"
#include "rtlgen/rtlgen.h"

namespace ristsim::cost {

namespace fs = std::filesystem;

namespace {

/// Model GE of the blocks, per instance (arch_cost.h block_model_ge).
struct ModelBlocks {
  double lane = 0, align = 0, bias_decoder = 0, tree = 0, accumulator = 0, output = 0;
};

ModelBlocks model_blocks(const config::Arch& arch, const TechModel& model) {
  const ArchCost c = arch_cost(arch, model);
  ModelBlocks b;
  b.lane = block_model_ge(c, "ristsim_mul_array");
  b.align = block_model_ge(c, "ristsim_align");
  b.bias_decoder = block_model_ge(c, "ristsim_to_fixed");
  b.tree = block_model_ge(c, "ristsim_adder_tree");
  b.accumulator = block_model_ge(c, "ristsim_accumulator");
  b.output = block_model_ge(c, "ristsim_output_stage");
  return b;
}

/// The module files of `dir` (*.sv, *.v), sorted by name. Their parameter
/// assertions sit inside `ifndef SYNTHESIS, which yosys defines.
std::vector<std::string> module_files(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".sv" || ext == ".v")) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// Synthesizes `top` from all `files` and fills a row.
CrossCheck check(const std::string& yosys, const std::vector<std::string>& files,
                 const std::string& top, const std::string& block, double instances,
                 double model_ge_each, const std::string& work, const config::TechTable& table) {
  CrossCheck c;
  c.block = block;
  c.top = top;
  c.instances = instances;
  c.model_ge = model_ge_each * instances;
  const std::vector<std::string> needed = files_for_module(files, top);
  try {
    const Synthesis s = synthesize(yosys, needed, top, work, table);
    c.yosys_ge = s.ge * instances;
    c.cells = s.cells;
  } catch (const std::runtime_error& e) {
    c.error = e.what();
  }
  return c;
}

std::vector<CrossCheck> run(const config::Arch& arch, const TechModel& model,
                            const std::string& yosys, const std::vector<std::string>& pe_files,
                            const std::vector<std::string>* lane_files, const std::string& work) {
  const ModelBlocks m = model_blocks(arch, model);
  const double P = arch.array.pes, K = arch.array.lanes;
  auto has = [&](const std::vector<std::string>& files, const std::string& top) {
    for (const std::string& f : files)
      if (fs::path(f).stem() == top) return true;
    return false;
  };
  std::vector<CrossCheck> rows;
  if (lane_files) {
    rows.push_back(check(yosys, *lane_files, "ristsim_mul_array", "multiplier lane (1 of P x K)",
                         P * K, m.lane, work + "/lane", model.table()));
  } else if (has(pe_files, "ristsim_mul_array")) {
    rows.push_back(check(yosys, pe_files, "ristsim_mul_array", "multiplier array (K lanes)", P,
                         m.lane * K, work, model.table()));
  }
  // One product alignment per lane (the bias's is not counted), the bias
  // decoder once per PE.
  if (has(pe_files, "ristsim_align"))
    rows.push_back(check(yosys, pe_files, "ristsim_align", "product alignment (1 of P x K)", P * K,
                         m.align, work, model.table()));
  if (has(pe_files, "ristsim_to_fixed"))
    rows.push_back(check(yosys, pe_files, "ristsim_to_fixed", "bias decoder", P, m.bias_decoder,
                         work, model.table()));
  if (has(pe_files, "ristsim_adder_tree"))
    rows.push_back(check(yosys, pe_files, "ristsim_adder_tree", "adder tree + pipeline registers",
                         P, m.tree, work, model.table()));
  if (has(pe_files, "ristsim_accumulator"))
    rows.push_back(check(yosys, pe_files, "ristsim_accumulator", "accumulator", P, m.accumulator,
                         work, model.table()));
  if (has(pe_files, "ristsim_output_stage"))
    rows.push_back(check(yosys, pe_files, "ristsim_output_stage", "output stage", P, m.output, work,
                         model.table()));
  CrossCheck total;
  total.block = "PE (sum of the blocks above)";
  total.top = "-";
  total.instances = P;
  for (const CrossCheck& r : rows) {
    if (!r.error.empty()) {
      total.block = "PE (sum of the blocks yosys could synthesize)";
      continue;
    }
    total.model_ge += r.model_ge;
    total.yosys_ge += r.yosys_ge;
  }
  rows.push_back(total);
  // A systolic array: its cells and column stages with their exact counts (every
  // PE's logic, the forwarding, stationary and drain registers, the partial-sum
  // adders), and a small array (up to 16 PEs) also flattened whole, which checks
  // that sum: one flattened 4 x 4 takes 1.5 min of yosys, a 16 x 16 far more.
  const rtlgen::ArrayDims dims = rtlgen::array_dims(arch);
  if (dims.is_array() && has(pe_files, "ristsim_pe_array")) {
    const double pes = double(dims.rows) * dims.cols, whole = arch_cost(arch, model).ge;
    const std::string rc = std::to_string(dims.rows) + " x " + std::to_string(dims.cols);
    std::vector<CrossCheck> arr;
    if (dims.dataflow == config::Dataflow::output_stationary) {
      arr.push_back(check(yosys, pe_files, "ristsim_os_cell",
                          "array cell: PE + forwarding and drain registers (1 of " + rc + ")", pes,
                          whole / pes, work, model.table()));
    } else {
      arr.push_back(check(yosys, pe_files, "ristsim_ws_cell",
                          "array cell: lanes, tree, partial-sum adder, stationary and forwarding "
                          "registers (1 of " + rc + ")",
                          pes, whole / pes, work, model.table()));
      arr.push_back(check(yosys, pe_files, "ristsim_col_out",
                          "column output stage (1 of " + std::to_string(dims.cols) +
                              "; the model has one per PE)",
                          dims.cols, 0, work, model.table()));
    }
    CrossCheck sum;
    sum.block = "PE array " + rc + " (the array rows above)";
    sum.top = "-";
    for (const CrossCheck& r : arr) {
      sum.model_ge += r.model_ge;
      sum.yosys_ge += r.yosys_ge;
      if (!r.error.empty()) sum.error = r.error;
    }
    rows.insert(rows.end(), arr.begin(), arr.end());
    rows.push_back(sum);
    if (pes <= 16)
      rows.push_back(check(yosys, pe_files, rtlgen::kArrayTop,
                           "PE array " + rc + " flattened whole (ristsim_array)", 1, whole, work,
                           model.table()));
  }
  return rows;
}

}  // namespace

std::vector<std::string> files_for_module(const std::vector<std::string>& files,
                                          const std::string& top) {
  // The top's file and the files of the modules it names, transitively, no
  // others (a file yosys cannot parse must not sink the blocks that do not need it).
  auto text_of = [](const std::string& f) {
    std::ifstream is(f);
    std::stringstream ss;
    ss << is.rdbuf();
    return ss.str();
  };
  std::vector<std::string> needed;
  for (const std::string& f : files)
    if (fs::path(f).stem() == top) needed.push_back(f);
  for (size_t i = 0; i < needed.size(); ++i) {
    const std::string text = text_of(needed[i]);
    for (const std::string& f : files) {
      const std::string stem = fs::path(f).stem().string();
      if (text.find(stem + " ") != std::string::npos &&
          std::find(needed.begin(), needed.end(), f) == needed.end())
        needed.push_back(f);
    }
  }
  return needed;
}

std::vector<CrossCheck> cross_check_arch(const config::Arch& arch, const TechModel& model,
                                         const std::string& yosys, const std::string& work_dir) {
  const std::string pe_dir = work_dir + "/rtl", lane_dir = work_dir + "/rtl_lane";
  rtlgen::write_rtl(pe_dir, rtlgen::generate_pe_rtl(arch));
  config::Arch one = arch;
  one.array.lanes = 1;
  rtlgen::write_rtl(lane_dir, rtlgen::generate_pe_rtl(one));
  const std::vector<std::string> lane = module_files(lane_dir);  // the lane and its submodules
  return run(arch, model, yosys, module_files(pe_dir), &lane, work_dir);
}

std::vector<CrossCheck> cross_check_dir(const config::Arch& arch, const TechModel& model,
                                        const std::string& yosys, const std::string& rtl_dir,
                                        const std::string& work_dir) {
  const std::vector<std::string> files = module_files(rtl_dir);
  if (files.empty()) throw std::runtime_error("no .sv or .v files in " + rtl_dir);
  return run(arch, model, yosys, files, nullptr, work_dir);
}

}  // namespace ristsim::cost
