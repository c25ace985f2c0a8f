// Network descriptions in YAML (models/*.yaml, documented in docs/engine.md).
// This file pair is the engine's only contact with yaml-cpp.
#pragma once

#include <string>

#include "engine/spec.h"

namespace ristsim::engine {

/// Reads a description; throws NetSpecError "file:line: what is wrong".
NetSpec load_net_spec(const std::string& path);
/// Parses a description held in memory; `file` names it in messages.
NetSpec parse_net_spec(const std::string& text, const std::string& file);

}  // namespace ristsim::engine
