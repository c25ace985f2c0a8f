// Which technology table an arch uses, and the cost model at the arch's node.
#pragma once

#include <string>

#include "config/arch.h"
#include "cost/model.h"

namespace ristsim::cost {

/// The table file for `arch`: `override_path` if given; else the arch's
/// technology.table (relative paths: first against the arch file's folder, then
/// the working directory); else <arch folder>/tech/45nm.yaml when it exists; else
/// the source tree's configs/tech/45nm.yaml.
std::string tech_table_path(const config::Arch& arch, const std::string& override_path = "");

/// Loads the table (config::load_tech, throws config::ConfigError) and builds the
/// model at the arch's technology.node (throws std::invalid_argument if the node
/// is not in the table).
TechModel tech_model_for(const config::Arch& arch, const std::string& override_path = "");

}  // namespace ristsim::cost
