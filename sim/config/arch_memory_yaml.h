// Readers of the arch's accelerator keys (internal to sim/config): `array`
// (rows x cols, dataflow, interconnect) and `memory` (the hierarchy of
// register files, buffers and DRAM). Schema: docs/arch.md.
#pragma once

#include <yaml-cpp/yaml.h>

#include "config/arch.h"
#include "config/yaml_reader.h"

namespace ristsim::config::detail {

/// Reads `array:`; every error names the key's line and column.
ArraySpec read_array(const Reader& r, const YAML::Node& n);

/// Reads `memory:`, a list of levels innermost first, and checks the hierarchy
/// (at most one register file per operand, one buffer per operand, shared
/// buffers cover all three, exactly one DRAM level, last; every operand has a buffer).
MemoryHierarchy read_memory(const Reader& r, const YAML::Node& n);

}  // namespace ristsim::config::detail
