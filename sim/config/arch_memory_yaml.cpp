// The arch's accelerator keys: `array` and `memory` (see arch_memory_yaml.h).
#include "config/arch_memory_yaml.h"

#include <string>
#include <vector>

namespace ristsim::config {

const char* to_string(Dataflow d) {
  switch (d) {
    case Dataflow::output_stationary: return "output_stationary";
    case Dataflow::weight_stationary: return "weight_stationary";
    case Dataflow::input_stationary: return "input_stationary";
  }
  return "?";
}
const char* to_string(Interconnect i) {
  return i == Interconnect::systolic ? "systolic" : "broadcast";
}
const char* to_string(MemoryKind k) {
  switch (k) {
    case MemoryKind::register_file: return "register_file";
    case MemoryKind::sram: return "sram";
    case MemoryKind::dram: return "dram";
  }
  return "?";
}
const char* to_string(MemoryOperand o) {
  switch (o) {
    case MemoryOperand::inputs: return "inputs";
    case MemoryOperand::weights: return "weights";
    case MemoryOperand::outputs: return "outputs";
    case MemoryOperand::shared: return "shared";
  }
  return "?";
}

namespace detail {

ArraySpec read_array(const Reader& r, const YAML::Node& n) {
  const std::vector<std::string> keys = {"pes",  "rows",     "cols",         "lanes",
                                         "pipeline_every", "dataflow", "interconnect"};
  const MapView m(r, n, "array", join(keys));
  m.allow_only(keys);
  ArraySpec a;
  const YAML::Node* pes = m.find("pes");
  const YAML::Node* rows = m.find("rows");
  const YAML::Node* cols = m.find("cols");
  if (pes && (rows || cols))
    r.fail(*pes, "array.pes and array.rows / array.cols exclude each other (pes: P is a P x 1 "
                 "broadcast array; give rows and cols for a systolic array)");
  if (pes) {
    a.rows = static_cast<int>(r.integer(*pes, m.sub("pes"), 1, 65536));
    a.cols = 1;
    a.interconnect = Interconnect::broadcast;
  }
  if (rows || cols) {
    a.rows = rows ? static_cast<int>(r.integer(*rows, m.sub("rows"), 1, 1024)) : 1;
    a.cols = cols ? static_cast<int>(r.integer(*cols, m.sub("cols"), 1, 1024)) : 1;
    a.interconnect = Interconnect::systolic;
    if (int64_t(a.rows) * a.cols > 65536)
      r.fail(rows ? *rows : *cols, "array.rows x array.cols is " +
                                       std::to_string(int64_t(a.rows) * a.cols) +
                                       " PEs, expected at most 65536");
  }
  a.pes = a.rows * a.cols;
  if (const YAML::Node* x = m.find("lanes"))
    // 1..256: what the PE's RTL, its co-simulation and the main job's co-simulated
    // layer implement (rtlgen::check_supported); refused here, before any work.
    a.lanes = static_cast<int>(r.integer(*x, m.sub("lanes"), 1, 256));
  if (const YAML::Node* x = m.find("pipeline_every"))
    a.pipeline_every = static_cast<int>(r.integer(*x, m.sub("pipeline_every"), 0, 64));
  if (const YAML::Node* x = m.find("dataflow"))
    a.dataflow = static_cast<Dataflow>(r.choice(
        *x, m.sub("dataflow"), {"output_stationary", "weight_stationary", "input_stationary"}));
  if (const YAML::Node* x = m.find("interconnect"))
    a.interconnect =
        r.choice(*x, m.sub("interconnect"), {"systolic", "broadcast"}) == 0 ? Interconnect::systolic
                                                                            : Interconnect::broadcast;
  if (a.interconnect == Interconnect::broadcast && a.dataflow != Dataflow::output_stationary)
    r.fail(*m.find("dataflow"), std::string("array.dataflow ") + to_string(a.dataflow) +
                                    " needs interconnect: systolic (a broadcast array is output "
                                    "stationary: every PE keeps its own outputs)");
  if (a.interconnect == Interconnect::broadcast && a.cols != 1)
    r.fail(*m.find("interconnect"),
           "a broadcast array is one column of PEs (array.cols 1, or array.pes)");
  return a;
}

namespace {

MemoryLevel read_level(const Reader& r, const YAML::Node& n, const std::string& where) {
  const MapView m(r, n, where, "name, kind and the kind's keys");
  MemoryLevel l;
  l.line = n.Mark().line + 1;
  l.column = n.Mark().column + 1;
  l.name = r.scalar(m.need("name", "a short name for reports"), m.sub("name"), "a name");
  if (l.name.empty()) r.fail(*m.find("name"), m.sub("name") + " must not be empty");
  l.kind = static_cast<MemoryKind>(
      r.choice(m.need("kind", "register_file, sram or dram"), m.sub("kind"),
               {"register_file", "sram", "dram"}));
  switch (l.kind) {
    case MemoryKind::register_file: {
      m.allow_only({"name", "kind", "operand", "bytes"});
      l.operand = static_cast<MemoryOperand>(r.choice(
          m.need("operand", "a register file holds one operand"), m.sub("operand"),
          {"inputs", "weights", "outputs"}));
      l.capacity_bytes = static_cast<double>(r.integer(
          m.need("bytes", "the register file's size per PE"), m.sub("bytes"), 1, 1 << 20));
      break;
    }
    case MemoryKind::sram: {
      m.allow_only({"name", "kind", "operand", "capacity_kib", "width_bits", "banks"});
      if (const YAML::Node* x = m.find("operand"))
        l.operand = static_cast<MemoryOperand>(
            r.choice(*x, m.sub("operand"), {"inputs", "weights", "outputs", "shared"}));
      const YAML::Node& c = m.need("capacity_kib", "the buffer's size in KiB");
      l.capacity_bytes = r.real(c, m.sub("capacity_kib"), 0.0) * 1024.0;
      if (l.capacity_bytes > 1024.0 * 1024 * 1024)
        r.fail(c, m.sub("capacity_kib") + " is above 1 GiB");
      if (const YAML::Node* x = m.find("width_bits"))
        l.width_bits = static_cast<int>(r.integer(*x, m.sub("width_bits"), 1, 65536));
      if (const YAML::Node* x = m.find("banks"))
        l.banks = static_cast<int>(r.integer(*x, m.sub("banks"), 1, 1024));
      break;
    }
    case MemoryKind::dram: {
      m.allow_only({"name", "kind", "type", "bandwidth_bytes_per_cycle"});
      if (const YAML::Node* x = m.find("type"))
        l.dram_type = r.scalar(*x, m.sub("type"), "a DRAM type of the technology table");
      if (const YAML::Node* x = m.find("bandwidth_bytes_per_cycle"))
        l.bandwidth_bytes_per_cycle = r.real(*x, m.sub("bandwidth_bytes_per_cycle"), 0.0);
      break;
    }
  }
  return l;
}

}  // namespace

MemoryHierarchy read_memory(const Reader& r, const YAML::Node& n) {
  if (!n.IsSequence() || n.size() == 0)
    r.fail(n, std::string("expected a list of memory levels (innermost first, DRAM last) for "
                          "memory, got ") +
                  (n.IsSequence() ? "an empty list" : node_kind(n)));
  MemoryHierarchy h;
  h.given = true;
  bool rf[3] = {false, false, false}, buf[3] = {false, false, false};
  for (std::size_t i = 0; i < n.size(); ++i) {
    const YAML::Node e = n[i];
    const std::string where = "memory[" + std::to_string(i) + "]";
    const MemoryLevel l = read_level(r, e, where);
    for (const MemoryLevel& o : h.levels)
      if (o.name == l.name)
        r.fail(e, "duplicate memory level name '" + l.name + "' (first at line " +
                      std::to_string(o.line) + ")");
    if (!h.levels.empty() && h.levels.back().kind == MemoryKind::dram)
      r.fail(e, where + " follows the DRAM level; DRAM is the outermost level and comes last");
    if (!h.levels.empty() && l.kind < h.levels.back().kind)
      r.fail(e, where + " (" + to_string(l.kind) + ") follows a " +
                    to_string(h.levels.back().kind) +
                    " level; levels go innermost first: register files, buffers, DRAM");
    const int lo = l.operand == MemoryOperand::shared ? 0 : int(l.operand);
    const int hi = l.operand == MemoryOperand::shared ? 2 : int(l.operand);
    bool* seen = l.kind == MemoryKind::register_file ? rf : l.kind == MemoryKind::sram ? buf : nullptr;
    if (seen)
      for (int o = lo; o <= hi; ++o) {
        if (seen[o])
          r.fail(e, where + ": a second " + to_string(l.kind) + " for " +
                        to_string(MemoryOperand(o)) + " (one per operand)");
        seen[o] = true;
      }
    h.levels.push_back(l);
  }
  if (h.levels.back().kind != MemoryKind::dram)
    r.fail(n, "memory has no DRAM level (the last level must be kind: dram)");
  for (int o = 0; o < 3; ++o)
    if (!buf[o])
      r.fail(n, std::string("memory has no buffer (kind: sram) for ") +
                    to_string(MemoryOperand(o)) +
                    " (give it its own, or a buffer with operand: shared)");
  return h;
}

}  // namespace detail
}  // namespace ristsim::config
