// Model loading, range analysis, the format rules, plans -> archs, costs and the scorer.
#include "flow/flow.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "engine/quant.h"
#include "engine/weights_io.h"
#include "io/onnx.h"
#include "io/onnx_import.h"

namespace ristsim::flow {

namespace fs = std::filesystem;

const char* to_string(Family f) {
  switch (f) {
    case Family::dynamic_fixed: return "dynamic_fixed";
    case Family::fixed: return "fixed";
    case Family::minifloat: return "minifloat";
    case Family::pow2: return "pow2";
  }
  return "?";
}

bool parse_family(const std::string& s, Family* out) {
  for (Family f : {Family::dynamic_fixed, Family::fixed, Family::minifloat, Family::pow2})
    if (s == to_string(f)) {
      *out = f;
      return true;
    }
  return false;
}

const char* to_string(Category c) {
  switch (c) {
    case Category::conv: return "conv";
    case Category::fc: return "fc";
    case Category::act: return "act";
  }
  return "?";
}

engine::Samples samples_of(const io::Dataset& d) {
  return engine::Samples{d.n, d.c, d.h, d.w, d.classes, d.images.data(), d.labels.data()};
}

engine::Samples slice(const engine::Samples& s, int first, int count) {
  engine::Samples r = s;
  first = std::clamp(first, 0, s.n);
  count = std::clamp(count, 0, s.n - first);
  r.n = count;
  r.images = s.images + std::size_t(first) * s.image_size();
  r.labels = s.labels + first;
  return r;
}

engine::SampleStream slice(const engine::SampleStream& s, int first, int count) {
  first = std::clamp(first, 0, s.n);
  count = std::clamp(count, 0, s.n - first);
  engine::SampleStream r = s;
  r.n = count;
  r.read = [read = s.read, first](int i, int k, float* images, int32_t* labels) {
    read(first + i, k, images, labels);
  };
  return r;
}

engine::SampleStream stream_of(io::DataSource& src) {
  engine::SampleStream s;
  s.n = src.n, s.c = src.c, s.h = src.h, s.w = src.w, s.classes = src.classes;
  s.read = [&src](int first, int count, float* images, int32_t* labels) {
    src.read(first, count, images, labels);
  };
  return s;
}

bool is_onnx(const std::string& path) {
  return path.size() >= 5 && path.compare(path.size() - 5, 5, ".onnx") == 0;
}

void check_model_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw FlowError(path + ": no such model file");
}

std::unique_ptr<engine::Net> load_model(const std::string& path, const engine::NetOptions& options) {
  check_model_file(path);
  if (is_onnx(path)) {
    const io::Model m = io::read_onnx(path);
    io::ImportedNet imp = io::import_net(m);
    if (imp.spec.file.empty()) imp.spec.file = path;
    return io::build_net(imp, options);
  }
  return engine::load_model(path, options);
}

void check_layer_names(const config::Arch& arch, engine::Net& net) {
  const std::vector<engine::WeightedLayer*> layers = net.weighted_layers();
  for (const config::LayerOverride& o : arch.overrides) {
    const bool found = std::any_of(layers.begin(), layers.end(),
                                   [&](const engine::WeightedLayer* l) { return l->name() == o.layer; });
    if (!found)
      throw FlowError("arch '" + arch.name + "': layer '" + o.layer +
                      "' is not a weighted layer of network '" + net.spec().name + "'");
  }
}

std::map<std::string, std::string> model_metadata(const std::string& path) {
  if (!is_onnx(path)) return {};
  return io::read_onnx(path, false).metadata;
}

// ---------------------------------------------------------------------------------------------

std::vector<LayerRange> analyze_ranges(engine::Net& net, const engine::SampleStream& data,
                                       int images, int batch) {
  if (images <= 0) throw FlowError("range analysis needs at least one image");
  engine::detach_quantization(net);
  engine::attach_measurement(net);
  engine::evaluate(net, slice(data, 0, images), batch);
  std::vector<LayerRange> out;
  const std::vector<engine::LayerStats> stats = engine::collect_stats(net);
  const std::vector<engine::WeightedLayer*> layers = net.weighted_layers();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    engine::WeightedLayer& l = *layers[i];
    LayerRange r;
    r.name = l.name();
    r.fc = std::string(l.type()) == "InnerProduct";
    auto max_of = [](const engine::Blob* b) {
      double m = 0;
      if (b)
        for (std::size_t k = 0; k < b->count(); ++k) m = std::max(m, double(std::fabs(b->data()[k])));
      return m;
    };
    r.w_max = max_of(&l.weights());
    const engine::Blob& w = l.weights();
    const std::size_t per = w.count() / static_cast<std::size_t>(l.geometry().k);
    for (int k = 0; k < l.geometry().k; ++k) {
      double m = 0;
      for (std::size_t j = 0; j < per; ++j)
        m = std::max(m, double(std::fabs(w.data()[per * static_cast<std::size_t>(k) + j])));
      r.w_max_channel.push_back(m);
    }
    r.b_max = max_of(l.bias());
    r.n_w = static_cast<int64_t>(l.weights().count());
    r.n_b = l.bias() ? static_cast<int64_t>(l.bias()->count()) : 0;
    r.in_max = stats[i][engine::NumberGroup::inputs].max_abs;
    r.out_max = stats[i][engine::NumberGroup::outputs].max_abs;
    auto nonneg = [](const engine::GroupStats& g) { return g.count > 0 && g.negatives == 0; };
    r.in_nonneg = nonneg(stats[i][engine::NumberGroup::inputs]);
    r.out_nonneg = nonneg(stats[i][engine::NumberGroup::outputs]);
    r.in_share = engine::ristretto_saturated_share(stats[i][engine::NumberGroup::inputs]);
    r.out_share = engine::ristretto_saturated_share(stats[i][engine::NumberGroup::outputs]);
    const engine::ConvGeometry& g = l.geometry();
    r.n_in = int64_t(g.c) * g.h * g.w;
    r.n_out = int64_t(g.k) * g.oh * g.ow;
    out.push_back(r);
  }
  engine::detach_quantization(net);
  return out;
}

// ---------------------------------------------------------------------------------------------

numeric::Format dynamic_fixed_format(int bits, double max_abs, bool is_param) {
  return numeric::Format::fixed_point(
      bits, engine::dynamic_fl(bits, max_abs,
                               is_param ? engine::NumberGroup::weights : engine::NumberGroup::inputs));
}

int minifloat_exp_bits(double max_abs, int bits) {
  int e = 2;
  if (max_abs > 0 && std::isfinite(max_abs)) {
    const double l = std::log2(max_abs) - 1;
    if (l > 1) e = static_cast<int>(std::ceil(std::log2(l) + 1));
  }
  return std::clamp(e, 2, std::max(2, std::min(8, bits - 1)));
}

numeric::Format minifloat_format(int bits, double max_abs, double group_max) {
  const int e = minifloat_exp_bits(max_abs, bits);
  numeric::Format f = numeric::Format::minifloat(e, std::max(0, bits - 1 - e));
  const double g = group_max > 0 ? group_max : max_abs;
  if (g > 0 && std::isfinite(g))
    f.bias = std::clamp(((1 << e) - 1) - static_cast<int>(std::floor(std::log2(g))), -256, 512);
  return f;
}

numeric::Format pow2_format(int bits, double w_max) {
  int exp_max = -1;
  if (w_max > 0 && std::isfinite(w_max)) exp_max = static_cast<int>(std::ceil(std::log2(w_max)));
  return numeric::Format::pow2(std::clamp(bits, 2, 10), exp_max, false, numeric::Pow2Rounding::value);
}

// ---------------------------------------------------------------------------------------------

Plan category_plan(Family family, const std::vector<LayerRange>& ranges, int conv_bits, int fc_bits,
                   int act_bits, config::RangeRule act_rule, bool unsigned_act,
                   bool channel_weights) {
  Plan p;
  p.family = family;
  p.act_rule = act_rule;
  p.unsigned_act = unsigned_act;
  p.channel_weights = channel_weights;
  for (const LayerRange& r : ranges) p.layers.push_back({r.fc ? fc_bits : conv_bits, act_bits});
  return p;
}

namespace {
config::NumberSpec float_spec() {
  config::NumberSpec s;
  s.is_float = true;
  return s;
}
config::NumberSpec spec_of(const numeric::Format& f) {
  config::NumberSpec s;
  s.quantizer.format = f;
  return s;
}

/// Network-wide max |x| of every layer input and output (the minifloat rule's input).
double act_max(const std::vector<LayerRange>& ranges) {
  double m = 0;
  for (const LayerRange& r : ranges) m = std::max({m, r.in_max, r.out_max});
  return m;
}
}  // namespace

bool group_unsigned(const Plan& plan, const LayerRange& r, bool inputs) {
  return plan.unsigned_act && (inputs ? r.in_nonneg : r.out_nonneg);
}

config::RangeRule group_rule(const Plan& plan, const LayerRange& r, int act_bits, bool inputs) {
  if (plan.act_rule != config::RangeRule::automatic) return plan.act_rule;
  return engine::auto_rule(inputs ? r.in_share : r.out_share, inputs ? r.in_max : r.out_max,
                           act_bits, !group_unsigned(plan, r, inputs));
}

config::Arch plan_arch(const Plan& plan, const std::vector<LayerRange>& ranges,
                       const std::string& name, uint64_t seed) {
  if (plan.layers.size() != ranges.size())
    throw std::logic_error("plan_arch: the plan has " + std::to_string(plan.layers.size()) +
                           " layers, the ranges " + std::to_string(ranges.size()));
  config::Arch a;
  a.name = name;
  a.datapath = config::Datapath::float32;
  a.formats = {float_spec(), float_spec(), float_spec(), float_spec()};
  a.seed = seed;
  const double amax = act_max(ranges);
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const LayerRange& r = ranges[i];
    const LayerBits& b = plan.layers[i];
    config::LayerOverride o;
    o.layer = r.name;
    o.has_activations = o.has_weights = o.has_bias = o.has_outputs = true;
    // Dynamic fixed point: the range rule's FL plus the plan's refinement.
    auto dyn = [&](int bits, double max_abs, bool is_param, int shift) {
      numeric::Format f = dynamic_fixed_format(bits, max_abs, is_param);
      return spec_of(numeric::Format::fixed_point(bits, f.fl + shift));
    };
    // Activations: signed, or unsigned where the plan allows it and the group was never
    // negative (the sign bit becomes one more fractional bit, engine::dynamic_fl).
    // The range rule: the plan's, or with auto the one the group's data needs (group_rule).
    auto dyn_act = [&](int bits, double max_abs, bool inputs, int shift) {
      const bool headroom = group_rule(plan, r, bits, inputs) == config::RangeRule::no_saturation;
      if (!group_unsigned(plan, r, inputs)) return dyn(bits, max_abs, headroom, shift);
      const numeric::Format f = dynamic_fixed_format(bits, max_abs, headroom);
      return spec_of(numeric::Format::unsigned_fixed_point(bits, f.fl + 1 + shift));
    };
    auto act = [&](double max_abs, bool inputs, int shift) -> config::NumberSpec {
      switch (plan.family) {
        case Family::dynamic_fixed:
          return b.act ? dyn_act(b.act, max_abs, inputs, shift) : float_spec();
        case Family::fixed:
          return b.act ? spec_of(numeric::Format::fixed_point(b.act, b.act - plan.static_il))
                       : float_spec();
        case Family::minifloat:
          return b.act ? spec_of(minifloat_format(b.act, amax, max_abs)) : float_spec();
        case Family::pow2: {
          const int bits = b.act ? b.act : plan.pow2_act_bits;
          return bits ? dyn_act(bits, max_abs, inputs, shift) : float_spec();
        }
      }
      return float_spec();
    };
    config::NumberSpec w = float_spec();
    if (b.weights) {
      switch (plan.family) {
        case Family::dynamic_fixed:
          w = dyn(b.weights, r.w_max, true, b.fl_w);
          if (plan.channel_weights && !r.w_max_channel.empty()) {
            // The same rule per output channel; the format's fl is the finest of them.
            w.granularity = config::Granularity::channel;
            for (double m : r.w_max_channel)
              w.channel_fl.push_back(dynamic_fixed_format(b.weights, m, true).fl + b.fl_w);
            w.quantizer.format.fl = *std::max_element(w.channel_fl.begin(), w.channel_fl.end());
          }
          break;
        case Family::fixed:
          w = spec_of(numeric::Format::fixed_point(b.weights, b.weights - plan.static_il));
          break;
        case Family::minifloat: w = spec_of(minifloat_format(b.weights, amax, r.w_max)); break;
        case Family::pow2: w = spec_of(pow2_format(b.weights, r.w_max)); break;
      }
    }
    o.formats.activations = act(r.in_max, true, b.fl_in);
    o.formats.outputs = act(r.out_max, false, b.fl_out);
    o.formats.weights = w;
    // The float datapath quantizes the bias in the weights' format (Ristretto); the arch
    // says so explicitly so that the file reads the way the datapath computes.
    // (Per-channel weights: the datapath quantizes channel c's bias with channel c's FL; the
    // bias group itself is one format, written with the finest FL.)
    o.formats.bias = w;
    o.formats.bias.granularity = config::Granularity::layer;
    o.formats.bias.channel_fl.clear();
    a.overrides.push_back(o);
  }
  return a;
}

std::string spec_string(const config::NumberSpec& s) {
  if (s.is_float) return "float";
  const numeric::Format& f = s.quantizer.format;
  switch (f.kind) {
    case numeric::FormatKind::fixed:
      if (!s.channel_fl.empty())
        return std::string(f.is_signed ? "" : "u") + "fixed<" + std::to_string(f.bits) + "," +
               std::to_string(*std::min_element(s.channel_fl.begin(), s.channel_fl.end())) +
               ".." + std::to_string(f.fl) + ">";
      return std::string(f.is_signed ? "" : "u") + "fixed<" + std::to_string(f.bits) + "," +
             std::to_string(f.fl) + ">";
    case numeric::FormatKind::minifloat:
      return "minifloat<e" + std::to_string(f.exp_bits) + "m" + std::to_string(f.mant_bits) +
             ",bias " + std::to_string(f.bias) + ">";
    case numeric::FormatKind::pow2:
      return "pow2<" + std::to_string(f.bits) + "," + std::to_string(f.exp_min()) + ".." +
             std::to_string(f.exp_max) + ">";
  }
  return "?";
}

namespace {
std::string spec_yaml(const config::NumberSpec& s) {
  if (s.is_float) return "{type: float}";
  const numeric::Format& f = s.quantizer.format;
  std::ostringstream o;
  switch (f.kind) {
    case numeric::FormatKind::fixed:
      o << "{type: fixed, bits: " << f.bits;
      if (s.channel_fl.empty()) {
        o << ", fl: " << f.fl;
      } else {  // one FL per output channel
        o << ", granularity: channel, fl: [";
        for (std::size_t k = 0; k < s.channel_fl.size(); ++k) o << (k ? ", " : "") << s.channel_fl[k];
        o << "]";
      }
      o << (f.is_signed ? "" : ", signed: false") << "}";
      break;
    case numeric::FormatKind::minifloat:
      o << "{type: minifloat, exp_bits: " << f.exp_bits << ", mant_bits: " << f.mant_bits
        << ", bias: " << f.bias << ", subnormals: " << (f.subnormals ? "on" : "off")
        << ", specials: " << numeric::to_string(f.specials) << "}";
      break;
    case numeric::FormatKind::pow2:
      o << "{type: pow2, bits: " << f.bits << ", exp_max: " << f.exp_max
        << ", zero_code: " << (f.zero_code ? "on" : "off")
        << ", pow2_rounding: " << numeric::to_string(f.pow2_rounding) << "}";
      break;
  }
  return o.str();
}
}  // namespace

std::string arch_yaml(const config::Arch& a, const std::string& comment) {
  std::ostringstream o;
  std::istringstream c(comment);
  for (std::string line; std::getline(c, line);) o << "# " << line << "\n";
  o << "name: " << a.name << "\n";
  o << "datapath: " << (a.datapath == config::Datapath::exact ? "exact" : "float") << "\n";
  o << "formats:\n";
  o << "  activations: " << spec_yaml(a.formats.activations) << "\n";
  o << "  weights:     " << spec_yaml(a.formats.weights) << "\n";
  o << "  bias:        " << spec_yaml(a.formats.bias) << "\n";
  o << "  outputs:     " << spec_yaml(a.formats.outputs) << "\n";
  if (!a.overrides.empty()) {
    o << "layers:\n";
    for (const config::LayerOverride& l : a.overrides) {
      o << "  " << l.layer << ":\n";
      if (l.has_activations) o << "    activations: " << spec_yaml(l.formats.activations) << "\n";
      if (l.has_weights) o << "    weights:     " << spec_yaml(l.formats.weights) << "\n";
      if (l.has_bias) o << "    bias:        " << spec_yaml(l.formats.bias) << "\n";
      if (l.has_outputs) o << "    outputs:     " << spec_yaml(l.formats.outputs) << "\n";
    }
  }
  o << "seed: " << a.seed << "\n";
  return o.str();
}

Cost plan_cost(const Plan& plan, const std::vector<LayerRange>& ranges) {
  Cost c;
  for (std::size_t i = 0; i < ranges.size() && i < plan.layers.size(); ++i) {
    const LayerRange& r = ranges[i];
    const LayerBits& b = plan.layers[i];
    const int wb = b.weights ? b.weights : 32;
    int ab = b.act;
    if (plan.family == Family::pow2 && !ab) ab = plan.pow2_act_bits;
    if (!ab) ab = 32;
    c.param_bits += double(wb) * double(r.n_w + r.n_b);
    c.act_bits += double(ab) * double(r.n_in + r.n_out);
    c.params += r.n_w + r.n_b;
  }
  return c;
}

// ---------------------------------------------------------------------------------------------

Scorer::Scorer(engine::Net& net, std::vector<LayerRange> ranges, const engine::SampleStream& data,
               int batch, uint64_t seed)
    : net_(net), ranges_(std::move(ranges)), data_(data), batch_(batch), seed_(seed) {}

double Scorer::baseline(const engine::SampleStream* other) {
  engine::detach_quantization(net_);
  ++evaluations_;
  return engine::evaluate(net_, other ? *other : data_, batch_).top1;
}

const config::Arch& Scorer::attach(const Plan& plan) {
  engine::detach_quantization(net_);
  arch_ = std::make_unique<config::Arch>(plan_arch(plan, ranges_, "flow", seed_));
  engine::attach_arch(net_, *arch_);
  return *arch_;
}

double Scorer::score_on(const Plan& plan, const engine::SampleStream& data) {
  attach(plan);
  ++evaluations_;
  const double t = engine::evaluate(net_, data, batch_).top1;
  engine::detach_quantization(net_);
  return t;
}

double Scorer::score(Plan* plan, bool search_split) {
  if (plan->family != Family::fixed || !search_split) return score_on(*plan, data_);
  // Static fixed point: every split IL = 0..B of the widest width, shared by all groups.
  int widest = 0;
  for (const LayerBits& b : plan->layers) widest = std::max({widest, b.weights, b.act});
  if (widest == 0) return score_on(*plan, data_);
  double best = -1;
  int best_il = 0;
  for (int il = 0; il <= widest; ++il) {
    plan->static_il = il;
    const double t = score_on(*plan, data_);
    if (t > best) best = t, best_il = il;
  }
  plan->static_il = best_il;
  return best;
}

}  // namespace ristsim::flow
