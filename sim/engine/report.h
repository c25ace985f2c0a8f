// Human and machine output of the engine: the progress line of long runs and
// the JSON form of the per-layer quantization statistics.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "engine/quant.h"
#include "engine/train.h"

namespace ristsim::engine {

/// Prints progress. `live`: a terminal line redrawn in place ("\r"); the
/// end-of-epoch summaries are printed as whole lines unless `quiet`.
class ProgressPrinter {
 public:
  ProgressPrinter(std::FILE* out, bool live, bool quiet) : out_(out), live_(live && !quiet), quiet_(quiet) {}
  void train(const Progress& p);
  void eval(const Progress& p);
  /// Clears a pending live line.
  void finish();

 private:
  std::FILE* out_;
  bool live_, quiet_;
  bool pending_ = false;
};

/// JSON string literal (quotes included).
std::string json_string(const std::string& s);
/// {"type": "fixed", "bits": 8, "fl": 5, ...} or {"type": "float"}.
std::string format_json(const config::NumberSpec& spec);
/// A JSON array with one object per layer: formats, per-group statistics
/// (max_abs, count, zeros, saturations, nans, log2 histogram) and accumulator
/// overflows. `formats` may be null (measurement only).
std::string stats_json(const std::vector<LayerStats>& stats,
                       const std::vector<const config::LayerFormats*>& formats, int indent);

}  // namespace ristsim::engine
