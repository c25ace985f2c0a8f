// Reading an arch YAML file (schema: docs/arch.md) into config::Arch.
// This header and arch_yaml.cpp are the only places that know about YAML; the
// rest of ristsim sees the plain structs of arch.h.
#pragma once

#include <stdexcept>
#include <string>

#include "config/arch.h"
#include "numeric/checked.h"  // InputError

namespace ristsim::config {

/// A bad arch file. what() is "FILE:LINE:COLUMN: what is wrong (what was expected)",
/// with LINE and COLUMN counted from 1.
class ConfigError : public InputError {
 public:
  ConfigError(const std::string& file, int line, int column, const std::string& message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }                       ///< 1-based; 0 if unknown
  int column() const { return column_; }                   ///< 1-based; 0 if unknown
  const std::string& message() const { return message_; }  ///< without the location

 private:
  std::string file_;
  int line_, column_;
  std::string message_;
};

/// Reads, parses and validates an arch file. Throws ConfigError.
Arch load_arch(const std::string& path);

/// Parses and validates arch YAML held in `text`; `path` names it in messages
/// and is stored in Arch::path. Throws ConfigError.
Arch parse_arch(const std::string& text, const std::string& path);

}  // namespace ristsim::config
