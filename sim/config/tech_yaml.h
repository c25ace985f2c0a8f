// Technology tables (configs/tech/*.yaml, schema in docs/cost.md): the published
// anchors the cost model (sim/cost) is calibrated to, as plain structs, and the
// reader that fills them. Only tech_yaml.cpp knows about YAML.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ristsim::config {

/// One published operation: its width, energy per action and area, and where the
/// numbers come from (a key of TechTable::sources).
struct TechAnchor {
  int bits = 0;
  double energy_pj = 0;
  double area_um2 = 0;
  std::string source;
};

/// SRAM: energy of one `access_bits` read at a capacity.
struct SramPoint {
  double bytes = 0;
  double read_pj = 0;
  std::string source;
};

struct DramType {
  int access_bits = 64;
  double energy_pj = 0;  ///< per access of access_bits bits
  std::string source;
};

/// Node scaling, relative to the table's node: area factor, and the energy
/// polynomial a*Vdd^2 + b*Vdd + c evaluated at `vdd`.
struct NodeScaling {
  int nm = 0;
  double area = 1;
  double poly_a = 0, poly_b = 0, poly_c = 0;
  double vdd = 1;
  double energy_poly() const { return (poly_a * vdd + poly_b) * vdd + poly_c; }
};

struct TechTable {
  std::string name;
  std::string path;  ///< file it was read from
  int node_nm = 45;
  std::map<std::string, std::string> sources;  ///< key -> citation

  double nand2_area_um2 = 0;
  std::string gates_source;
  std::map<std::string, double>
      cells_um2;  ///< yosys generic cell name (AND, MUX, DFF_P...) -> area

  /// Operation anchors by name: int_add, int_mult, fp_add, fp_mult; sorted by bits.
  std::map<std::string, std::vector<TechAnchor>> operations;

  int sram_access_bits = 64;
  std::vector<SramPoint> sram;  ///< sorted by capacity
  double sram_write_to_read = 1;
  double sram_default_bytes = 65536;

  std::string dram_default;
  std::map<std::string, DramType> dram;

  std::string scaling_source;
  std::vector<NodeScaling> nodes;  ///< includes node_nm itself (area 1)
};

/// Reads and validates a technology table. Throws config::ConfigError
/// ("FILE:LINE:COLUMN: message") on a bad file.
TechTable load_tech(const std::string& path);

/// Parses a table held in `text`; `path` names it in messages.
TechTable parse_tech(const std::string& text, const std::string& path);

}  // namespace ristsim::config
