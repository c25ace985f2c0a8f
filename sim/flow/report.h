// The outputs of `ristsim quantize`: report.md and report.json (the sweep, baseline and
// quantized accuracy, bits per parameter, memory against fp32), and publishing an output
// directory all at once (written under a temporary name, then renamed).
#pragma once

#include <string>
#include <vector>

#include "flow/flow.h"

namespace ristsim::flow {

struct QuantizeReport {
  std::string model, data, granularity;
  Family family = Family::dynamic_fixed;
  double margin = 0.01;
  int range_images = 0, search_images = 0, test_images = 0;
  std::vector<LayerRange> ranges;
  SearchResult result;
  config::Arch arch;
  double seconds = 0;
  int evaluations = 0;
};

std::string report_json(const QuantizeReport& r);
std::string report_md(const QuantizeReport& r);

}  // namespace ristsim::flow
