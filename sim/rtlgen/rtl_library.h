// The hand-written SystemVerilog library (rtl/*.sv), embedded into the binary
// at build time (sim/rtlgen/embed_rtl.cmake), so that the generator can copy
// it next to the top it writes.
#pragma once

#include <string>
#include <vector>

namespace ristsim::rtlgen {

/// One library file: its name ("ristsim_adder_tree.sv") and its text, as in rtl/.
struct LibraryFile {
  const char* name;
  const char* text;
};

/// Every file of rtl/, sorted by name.
const std::vector<LibraryFile>& rtl_library();

}  // namespace ristsim::rtlgen
