// report.md / report.json of `ristsim quantize`, and atomic output directories.
#include "flow/report.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "engine/report.h"

namespace ristsim::flow {

namespace fs = std::filesystem;

namespace {
std::string num(double x, const char* fmt = "%.6g") {
  char b[64];
  std::snprintf(b, sizeof b, fmt, x);
  return b;
}
std::string pct(double x) { return num(100 * x, "%.2f"); }

const config::LayerFormats& layer_formats(const config::Arch& a, const std::string& name,
                                          config::LayerFormats* tmp) {
  *tmp = config::formats_for(a, name);
  return *tmp;
}

/// The rule a layer group was quantized by (group_rule at the layer's activation width;
/// pow2's activations default to their own width).
const char* layer_rule(const Plan& p, const LayerRange& r, std::size_t i, bool inputs) {
  const int bits = p.layers[i].act ? p.layers[i].act : p.pow2_act_bits;
  return config::to_string(group_rule(p, r, bits, inputs));
}
}  // namespace

std::string report_json(const QuantizeReport& r) {
  const Cost q = plan_cost(r.result.plan, r.ranges);
  const Cost f = plan_cost(category_plan(Family::dynamic_fixed, r.ranges, 0, 0, 0), r.ranges);
  std::ostringstream o;
  auto js = engine::json_string;
  o << "{\n";
  o << "  \"model\": " << js(r.model) << ",\n  \"data\": " << js(r.data) << ",\n";
  o << "  \"format\": " << js(to_string(r.family)) << ",\n  \"granularity\": " << js(r.granularity)
    << ",\n";
  o << "  \"error_margin\": " << num(100 * r.margin) << ",\n";
  o << "  \"range_images\": " << r.range_images << ",\n  \"search_images\": " << r.search_images
    << ",\n  \"test_images\": " << r.test_images << ",\n";
  o << "  \"baseline\": {\"search_top1\": " << num(r.result.baseline_search)
    << ", \"test_top1\": " << num(r.result.baseline_test) << "},\n";
  o << "  \"quantized\": {\"search_top1\": " << num(r.result.quantized_search)
    << ", \"test_top1\": " << num(r.result.quantized_test) << "},\n";
  o << "  \"drop_points\": " << num(100 * (r.result.baseline_test - r.result.quantized_test)) << ",\n";
  o << "  \"met\": " << (r.result.met ? "true" : "false") << ",\n";
  o << "  \"notes\": [";
  for (std::size_t i = 0; i < r.result.notes.size(); ++i)
    o << (i ? ", " : "") << js(r.result.notes[i]);
  o << "],\n";
  o << "  \"range_rule\": " << js(config::to_string(r.result.plan.act_rule)) << ",\n";
  o << "  \"unsigned_activations\": " << (r.result.plan.unsigned_act ? "true" : "false") << ",\n";
  o << "  \"weight_granularity\": " << (r.result.plan.channel_weights ? "\"channel\"" : "\"layer\"")
    << ",\n";
  o << "  \"fl_search\": " << (r.result.fl_searched ? "true" : "false") << ",\n";
  o << "  \"static_il\": " << r.result.plan.static_il << ",\n";
  o << "  \"bits_per_param\": " << num(q.bits_per_param()) << ",\n";
  o << "  \"param_bytes\": " << num(q.param_bits / 8, "%.0f") << ",\n  \"param_bytes_fp32\": "
    << num(f.param_bits / 8, "%.0f") << ",\n";
  o << "  \"act_bytes_per_image\": " << num(q.act_bits / 8, "%.0f")
    << ",\n  \"act_bytes_per_image_fp32\": " << num(f.act_bits / 8, "%.0f") << ",\n";
  o << "  \"memory_ratio\": " << num(q.param_bits / std::max(1.0, f.param_bits)) << ",\n";
  o << "  \"seconds\": " << num(r.seconds, "%.2f") << ",\n  \"evaluations\": " << r.evaluations
    << ",\n";
  o << "  \"sweep\": [\n";
  for (std::size_t i = 0; i < r.result.sweep.size(); ++i) {
    const SweepPoint& p = r.result.sweep[i];
    o << "    {\"what\": " << js(p.what) << ", \"bits\": " << p.bits << ", \"top1\": " << num(p.top1)
      << ", \"ok\": " << (p.ok ? "true" : "false") << "}" << (i + 1 < r.result.sweep.size() ? "," : "")
      << "\n";
  }
  o << "  ],\n  \"layers\": [\n";
  for (std::size_t i = 0; i < r.ranges.size(); ++i) {
    const LayerRange& l = r.ranges[i];
    config::LayerFormats tmp;
    const config::LayerFormats& lf = layer_formats(r.arch, l.name, &tmp);
    const LayerBits& b = r.result.plan.layers[i];
    o << "    {\"name\": " << js(l.name) << ", \"type\": " << js(l.fc ? "InnerProduct" : "Convolution")
      << ", \"weights_max\": " << num(l.w_max) << ", \"bias_max\": " << num(l.b_max)
      << ", \"inputs_max\": " << num(l.in_max) << ", \"outputs_max\": " << num(l.out_max)
      << ", \"params\": " << (l.n_w + l.n_b) << ", \"weight_bits\": " << b.weights
      << ", \"act_bits\": " << b.act << ", \"formats\": {\"inputs\": " << js(spec_string(lf.activations))
      << ", \"weights\": " << js(spec_string(lf.weights)) << ", \"bias\": " << js(spec_string(lf.bias))
      << ", \"outputs\": " << js(spec_string(lf.outputs)) << "}";
    if (!lf.weights.channel_fl.empty()) {  // granularity: channel, one FL per output channel
      o << ", \"weights_channel_fl\": [";
      for (std::size_t k = 0; k < lf.weights.channel_fl.size(); ++k)
        o << (k ? ", " : "") << lf.weights.channel_fl[k];
      o << "]";
    }
    o << ", \"inputs_rule\": " << js(layer_rule(r.result.plan, l, i, true))
      << ", \"outputs_rule\": " << js(layer_rule(r.result.plan, l, i, false))
      << ", \"inputs_saturated_share\": " << num(l.in_share)
      << ", \"outputs_saturated_share\": " << num(l.out_share) << "}"
      << (i + 1 < r.ranges.size() ? "," : "") << "\n";
  }
  o << "  ]\n}\n";
  return o.str();
}

std::string report_md(const QuantizeReport& r) {
  const Cost q = plan_cost(r.result.plan, r.ranges);
  const Cost f = plan_cost(category_plan(Family::dynamic_fixed, r.ranges, 0, 0, 0), r.ranges);
  std::ostringstream o;
  o << "# ristsim quantize: " << r.model << "\n\n";
  o << "Format **" << to_string(r.family) << "**, granularity **" << r.granularity
    << "**, error margin " << num(100 * r.margin, "%.2f") << " points of top-1 on `" << r.data
    << "`; dynamic fixed activations by the "
    << (r.result.plan.act_rule == config::RangeRule::no_saturation
            ? "no-saturation rule (IL = ceil(log2 max + 1))"
        : r.result.plan.act_rule == config::RangeRule::ristretto
            ? "Ristretto rule (IL = ceil(log2 max))"
            : "rule the data needs (`--range-rule auto`: Ristretto's IL = ceil(log2 max), or "
              "no_saturation's IL = ceil(log2 max + 1) for a group where they "
              "estimate a smaller quantization error; the table's rule column)")
    << (r.result.plan.unsigned_act
            ? ", unsigned where the range analysis saw no negative value (`--unsigned-act auto`)"
            : "")
    << (r.result.fl_searched ? ", then every group's fractional length searched on the search set "
                               "(the notes list the moves)"
                             : "")
    << ".\nRange analysis over the first " << r.range_images
    << " training images; the search scored on " << r.search_images
    << " training images held apart from them; the final plan on the " << r.test_images
    << " test images.\n\n";
  o << "| | top-1 (search set) | top-1 (test split) |\n|---|---|---|\n";
  o << "| fp32 | " << pct(r.result.baseline_search) << " % | " << pct(r.result.baseline_test)
    << " % |\n";
  o << "| quantized | " << pct(r.result.quantized_search) << " % | " << pct(r.result.quantized_test)
    << " % |\n\n";
  o << "Drop on the test split: " << pct(r.result.baseline_test - r.result.quantized_test)
    << " points: the margin is " << (r.result.met ? "**met**" : "**not met**") << ".\n";
  for (const std::string& n : r.result.notes) o << "- " << n << "\n";
  o << "\nParameters: " << q.params << ", " << num(q.bits_per_param(), "%.2f")
    << " bits per parameter, " << num(q.param_bits / 8 / 1024, "%.1f") << " KiB against "
    << num(f.param_bits / 8 / 1024, "%.1f") << " KiB in fp32 ("
    << num(100 * q.param_bits / std::max(1.0, f.param_bits), "%.1f")
    << " %). Activations moved per image: " << num(q.act_bits / 8 / 1024, "%.1f") << " KiB against "
    << num(f.act_bits / 8 / 1024, "%.1f") << " KiB.\n\n";
  o << "## Layers\n\nRule: the range rule of the layer's inputs / outputs (the share of their "
       "nonzero values that Ristretto's rule would saturate).\n\n"
       "| layer | max \\|w\\| | max \\|in\\| | max \\|out\\| | inputs | weights | outputs "
       "| rule |\n"
       "|---|---|---|---|---|---|---|---|\n";
  for (std::size_t i = 0; i < r.ranges.size(); ++i) {
    const LayerRange& l = r.ranges[i];
    config::LayerFormats tmp;
    const config::LayerFormats& lf = layer_formats(r.arch, l.name, &tmp);
    o << "| " << l.name << " | " << num(l.w_max, "%.4g") << " | " << num(l.in_max, "%.4g") << " | "
      << num(l.out_max, "%.4g") << " | " << spec_string(lf.activations) << " | "
      << spec_string(lf.weights) << " | " << spec_string(lf.outputs) << " | "
      << layer_rule(r.result.plan, l, i, true) << " (" << num(100 * l.in_share, "%.1f")
      << " %) / " << layer_rule(r.result.plan, l, i, false) << " ("
      << num(100 * l.out_share, "%.1f") << " %) |\n";
  }
  o << "\n## Sweep\n\nEach row: the unit quantized to that width";
  o << (r.granularity == "category" ? " with the other categories in float" : " in the plan of that step");
  o << "; top-1 on the search set.\n\n| unit | bits | top-1 | within margin |\n|---|---|---|---|\n";
  for (const SweepPoint& p : r.result.sweep)
    o << "| " << p.what << " | " << p.bits << " | " << pct(p.top1) << " % | " << (p.ok ? "yes" : "no")
      << " |\n";
  o << "\n" << r.evaluations << " evaluations, " << num(r.seconds, "%.1f") << " s.\n";
  return o.str();
}

}  // namespace ristsim::flow
