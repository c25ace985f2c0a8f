// Technology table lookup for an arch (see tech.h).
#include "cost/tech.h"

#include <filesystem>
#include <stdexcept>

#include "config/arch_yaml.h"  // ConfigError
#include "config/tech_yaml.h"

namespace ristsim::cost {

namespace fs = std::filesystem;

std::string tech_table_path(const config::Arch& arch, const std::string& override_path) {
  if (!override_path.empty()) return override_path;
  const fs::path arch_dir = arch.path.empty() ? fs::path(".") : fs::path(arch.path).parent_path();
  if (!arch.tech.table.empty()) {
    const fs::path t(arch.tech.table);
    if (t.is_absolute()) return t.string();
    const fs::path near = arch_dir / t;
    if (fs::exists(near)) return near.string();
    return t.string();
  }
  const fs::path sibling = arch_dir / "tech" / "45nm.yaml";
  if (fs::exists(sibling)) return sibling.string();
  return (fs::path(RISTSIM_SOURCE_DIR) / "configs" / "tech" / "45nm.yaml").string();
}

TechModel tech_model_for(const config::Arch& arch, const std::string& override_path) {
  config::TechTable t = config::load_tech(tech_table_path(arch, override_path));
  const int nm = parse_node_nm(arch.tech.node);
  // A node the arch names must be in the table: a config error at technology.node's position.
  std::string have;
  bool found = false;
  for (const config::NodeScaling& n : t.nodes) {
    found = found || n.nm == nm;
    have += (have.empty() ? "" : ", ") + std::to_string(n.nm) + "nm";
  }
  if (nm <= 0 || !found)
    throw config::ConfigError(arch.path.empty() ? "<arch>" : arch.path, arch.tech.node_line,
                              arch.tech.node_column,
                              "technology.node '" + arch.tech.node +
                                  "' is not a node of the technology table " + t.path +
                                  " (its nodes: " + have + ")");
  return TechModel(std::move(t), nm);
}

}  // namespace ristsim::cost
