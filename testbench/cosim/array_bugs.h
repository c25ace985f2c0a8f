// Planted bugs of the array RTL (tests only): exact text edits of a copy of
// the generated RTL, never a production option. Each edit must find its text,
// so that a library change cannot quietly disarm a *_bad test.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "rtlgen/rtlgen.h"

namespace ristsim::planted {

struct RtlEdit {
  std::string file, from, to;
};

/// The edits of a planted array bug:
///   forward  the OS cell's east forwarding register of the codes bypassed
///            (PE(r, c + 1) multiplies a chunk one cycle early: a dropped forward)
///   stall    the WS/IS cell's streamed valid delayed one cycle (a wrong stall)
///   psum     the WS/IS top row drops the partial sum carried from the earlier K
///            fold (as if psum_first were always set: a psum lost at a fold boundary)
inline std::vector<RtlEdit> array_bug(const std::string& name) {
  if (name == "forward")
    return {{"ristsim_os_cell.sv", "      e_code_o    <= '0;\n", ""},
            {"ristsim_os_cell.sv", "      e_code_o    <= w_code_i;\n", ""},
            {"ristsim_os_cell.sv", "  // The PE.\n",
             "  assign e_code_o = w_code_i;  // PLANTED BUG: forwarding register bypassed\n"
             "  // The PE.\n"}};
  if (name == "stall")
    return {{"ristsim_ws_cell.sv", "  ristsim_mul_stage #(\n",
             "  logic valid_dly_q;  // PLANTED BUG: the streamed valid delayed a cycle\n"
             "  always_ff @(posedge clk_i) valid_dly_q <= w_valid_i;\n"
             "  ristsim_mul_stage #(\n"},
            {"ristsim_ws_cell.sv", "    .valid_i  (w_valid_i),\n", "    .valid_i  (valid_dly_q),\n"}};
  if (name == "psum")
    return {{"ristsim_ws_cell.sv",
             "assign base       = tree_tag[AccWidth+1] ? '0 : tree_tag[AccWidth-1:0];",
             "assign base       = '0;  // PLANTED BUG: the carried partial sum is lost"}};
  throw std::invalid_argument("no planted array bug '" + name + "' (forward, stall, psum)");
}

/// Applies `edits` to the generated files; throws std::logic_error when one matches nothing.
inline void apply_edits(std::vector<rtlgen::RtlFile>& files, const std::vector<RtlEdit>& edits) {
  for (const RtlEdit& e : edits) {
    bool done = false;
    for (rtlgen::RtlFile& f : files) {
      const size_t at = f.name == e.file ? f.text.find(e.from) : std::string::npos;
      if (at == std::string::npos) continue;
      f.text.replace(at, e.from.size(), e.to);
      done = true;
    }
    if (!done) throw std::logic_error("planted edit matches nothing in " + e.file + ": " + e.from);
  }
}

}  // namespace ristsim::planted
