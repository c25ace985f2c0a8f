// The quantization flow of Ristretto (Gysel 2016, thesis chapter 9), made reproducible:
//
//   range analysis   max |x| of each weighted layer's weights and bias (from the blobs) and
//                    of its inputs and outputs over N images (engine::LayerQuant in measure
//                    mode, attach_measurement);
//   format rules     from those maxima to formats (dynamic fixed point IL, minifloat
//                    exponent bits, static fixed split, power-of-two exponent range);
//   Plan             a bit-width per layer for weights and for activations (inputs and
//                    outputs of the layer); a Plan plus the ranges make a config::Arch with
//                    one override per layer (datapath float: Ristretto's datapath, where a
//                    float group passes through unquantized);
//   search           category (Ristretto) or per layer, in search.cpp;
//   fine-tuning      in finetune.h.
//
// Widths are "bits of the stored number": 0 means float (not quantized).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/arch.h"
#include "engine/net.h"
#include "engine/train.h"
#include "io/dataset.h"

namespace ristsim::flow {

/// A bad flow invocation or input (exit code 1 in the CLI): the message says what and where.
class FlowError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Family { dynamic_fixed, fixed, minifloat, pow2 };
const char* to_string(Family f);
/// Parses "dynamic_fixed", "fixed", "minifloat", "pow2"; false if none.
bool parse_family(const std::string& s, Family* out);

/// The engine's view of an io::Dataset (not owned).
engine::Samples samples_of(const io::Dataset& d);
/// The `count` samples starting at `first` (clamped to the set).
engine::Samples slice(const engine::Samples& s, int first, int count);
/// The same for a stream: samples [first, first + count) of `s` (clamped), read through it.
engine::SampleStream slice(const engine::SampleStream& s, int first, int count);
/// A streamed data set as the engine reads it (`src` not owned; it must outlive the stream).
/// Reads go to src.read in the engine's order (batch by batch), so a prefetching source reads
/// ahead while the net runs.
engine::SampleStream stream_of(io::DataSource& src);

/// True for a path ending in .onnx.
bool is_onnx(const std::string& path);
/// A model from a file: ONNX (.onnx, through sim/io's importer; DequantizeLinear weights
/// fold to their grid values) or the engine's weight file / network description. Throws
/// FlowError naming the file when it does not exist.
std::unique_ptr<engine::Net> load_model(const std::string& path, const engine::NetOptions& options);
/// Throws FlowError "PATH: no such model file" unless PATH is a regular file.
void check_model_file(const std::string& path);
/// Throws FlowError naming the first per-layer override of the arch that is not a weighted
/// layer of the net (an arch made for another network would otherwise apply nothing).
void check_layer_names(const config::Arch& arch, engine::Net& net);
/// The metadata_props of an ONNX file (empty for other files).
std::map<std::string, std::string> model_metadata(const std::string& path);

// ---------------------------------------------------------------------------------------------
// Range analysis

/// The ranges and sizes of one Convolution / InnerProduct layer.
struct LayerRange {
  std::string name;
  bool fc = false;                  ///< InnerProduct (Ristretto's "FC weights" category)
  double w_max = 0, b_max = 0;      ///< max |x| of weights and bias
  double in_max = 0, out_max = 0;   ///< max |x| of inputs and outputs over the images
  int64_t n_w = 0, n_b = 0;         ///< parameter counts
  int64_t n_in = 0, n_out = 0;      ///< values per image going into and out of the layer
  /// No negative input (output) was measured: the group may be unsigned (Plan::unsigned_act).
  bool in_nonneg = false, out_nonneg = false;
  /// The share of the nonzero inputs (outputs) that Ristretto's rule saturates
  /// (engine::ristretto_saturated_share): what range_rule auto decides by (group_rule).
  double in_share = 0, out_share = 0;
  std::vector<double> w_max_channel;  ///< max |w| of each output channel's weights
};

/// Runs `images` samples of `data` through the net in float (test phase) and returns the
/// ranges of every weighted layer, in layer order. Leaves the net without quantization.
std::vector<LayerRange> analyze_ranges(engine::Net& net, const engine::SampleStream& data,
                                       int images, int batch);

// ---------------------------------------------------------------------------------------------
// Format rules (each a pure function of the measured maxima)

/// Dynamic fixed point, Ristretto's rule (engine::dynamic_fl): weights IL = ceil(log2(max) + 1),
/// activations IL = ceil(log2(max)); FL = bits - IL.
numeric::Format dynamic_fixed_format(int bits, double max_abs, bool is_param);
/// Minifloat exponent bits, Ristretto's rule E = ceil(log2(log2(max) - 1) + 1), clamped to
/// 2..bits-1 (and to 2 when log2(max) - 1 <= 1, i.e. max <= 4). Example: max 480 -> 4.
int minifloat_exp_bits(double max_abs, int bits);
/// The minifloat of `bits` bits with E from minifloat_exp_bits(max_abs), M = bits - 1 - E, no
/// subnormals, no inf/NaN (the thesis' format). The bias puts the largest binade at the group's
/// own max: bias = (2^E - 1) - floor(log2(group_max)) (group_max <= 0: max_abs), which is the
/// default 2^(E-1) - 1 when the group holds the max (480 with E = 4 -> bias 7); without it,
/// weights far below the activations' range would flush to zero (no subnormals).
numeric::Format minifloat_format(int bits, double max_abs, double group_max = 0);
/// Power-of-two weights: exp_max = ceil(log2(max |w|)) (the largest weight is not clipped),
/// 2^(bits-1) exponents below it, no zero code, nearest by value. bits 2..10.
numeric::Format pow2_format(int bits, double w_max);

// ---------------------------------------------------------------------------------------------
// Plans and archs

struct LayerBits {
  int weights = 0;  ///< 0: float
  int act = 0;      ///< inputs and outputs; 0: float
  /// Dynamic fixed point: fractional bits added to the range rule's FL of the weights (and
  /// the bias, which shares their format), of the inputs and of the outputs (> 0: a finer step
  /// and a lower saturation point). Set by refine_fl; 0 is the rule itself.
  int fl_w = 0, fl_in = 0, fl_out = 0;
};

struct Plan {
  Family family = Family::dynamic_fixed;
  std::vector<LayerBits> layers;  ///< one per LayerRange
  int static_il = 0;              ///< Family::fixed: IL shared by every group (FL = bits - IL)
  int pow2_act_bits = 8;          ///< Family::pow2: width of the dynamic fixed activations when act is 0
  /// Dynamic fixed activations (the arch's range_rule, one spelling): ristretto = Ristretto's
  /// rule, IL = ceil(log2(max)), which saturates the top half of the range it measured (a
  /// signed format of IL integer bits reaches 2^(IL-1)); no_saturation = the weights' rule,
  /// IL = ceil(log2(max) + 1); automatic = per group, the rule of the smaller estimated error
  /// at the group's width (group_rule, engine::auto_rule).
  config::RangeRule act_rule = config::RangeRule::ristretto;
  /// Dynamic fixed activations of a layer whose inputs (outputs) the range analysis measured
  /// never negative (LayerRange::in_nonneg): unsigned fixed point of the same range, one
  /// fractional bit more (engine::dynamic_fl). False: signed everywhere (Ristretto).
  bool unsigned_act = false;
  /// Dynamic fixed weights of granularity channel: one FL per output channel, each from its
  /// channel's max |w| (LayerRange::w_max_channel) by the weights' rule, plus fl_w. False:
  /// one FL per layer (Ristretto).
  bool channel_weights = false;
};

/// Ristretto's three categories: every conv layer's weights, every FC layer's weights, and
/// every layer's activations.
enum class Category { conv, fc, act };
const char* to_string(Category c);
/// A plan with one width per category (0: float).
Plan category_plan(Family family, const std::vector<LayerRange>& ranges, int conv_bits,
                   int fc_bits, int act_bits,
                   config::RangeRule act_rule = config::RangeRule::ristretto,
                   bool unsigned_act = false, bool channel_weights = false);

/// The range rule of layer `layer`'s inputs (`inputs` true) or outputs under a plan of
/// dynamic fixed activations: the plan's rule, or with auto engine::auto_rule of the group's
/// measured share and maximum at the layer's activation width and signedness.
config::RangeRule group_rule(const Plan& plan, const LayerRange& r, int act_bits, bool inputs);
/// True when the group is unsigned under the plan (Plan::unsigned_act and never negative).
bool group_unsigned(const Plan& plan, const LayerRange& r, bool inputs);

/// The arch of a plan: datapath float, float defaults, one override per layer with all four
/// groups (bias: the weights' format, which the float datapath uses; 16-bit... see .cpp).
config::Arch plan_arch(const Plan& plan, const std::vector<LayerRange>& ranges,
                       const std::string& name, uint64_t seed);
/// The arch as YAML that config::load_arch reads back (docs/arch.md).
std::string arch_yaml(const config::Arch& arch, const std::string& comment);
/// "fixed<8,5>", "minifloat<e4m3>", "pow2<4,-1>", "float"; per-channel fixed point
/// "fixed<4,3..7>" (the smallest and largest channel FL).
std::string spec_string(const config::NumberSpec& s);

/// Bits of one stored parameter and of one moved activation, summed over the net.
struct Cost {
  double param_bits = 0;   ///< weights and bias stored (bias in the weights' width, float: 32)
  double act_bits = 0;     ///< activations moved per image (inputs + outputs of every layer)
  int64_t params = 0;      ///< number of parameters
  double bits_per_param() const { return params ? param_bits / double(params) : 0; }
};
Cost plan_cost(const Plan& plan, const std::vector<LayerRange>& ranges);

// ---------------------------------------------------------------------------------------------
// Scoring

/// Scores plans: attaches the plan's arch to the net and evaluates top-1 on a fixed set.
class Scorer {
 public:
  Scorer(engine::Net& net, std::vector<LayerRange> ranges, const engine::SampleStream& data,
         int batch, uint64_t seed);
  /// Float top-1 on the scorer's set, or on `other`.
  double baseline(const engine::SampleStream* other = nullptr);
  /// Quantized top-1 on the set. Family::fixed with `search_split`: tries every IL and keeps
  /// the best into plan->static_il.
  double score(Plan* plan, bool search_split);
  /// top-1 of the plan on another set.
  double score_on(const Plan& plan, const engine::SampleStream& data);
  int evaluations() const { return evaluations_; }
  const std::vector<LayerRange>& ranges() const { return ranges_; }
  /// Attaches the plan's arch (kept alive by the scorer) and returns it.
  const config::Arch& attach(const Plan& plan);

 private:
  engine::Net& net_;
  std::vector<LayerRange> ranges_;
  engine::SampleStream data_;
  int batch_;
  uint64_t seed_;
  std::unique_ptr<config::Arch> arch_;
  int evaluations_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Search (search.cpp)

struct SweepPoint {
  std::string what;  ///< "conv", "fc", "act" or a layer unit "conv1.weights"
  int bits = 0;
  double top1 = 0;   ///< on the search set
  bool ok = false;   ///< within the margin
};

/// One group's fractional length, given: `layer`'s weights (and bias), inputs or outputs.
struct FlSetting {
  std::string layer;
  int which = 0;  ///< 0 weights (and bias), 1 inputs, 2 outputs
  int fl = 0;
};
/// Parses "LAYER.GROUP=FL" (GROUP weights, inputs or outputs; FL an integer); throws FlowError
/// naming the text otherwise.
FlSetting parse_fl_setting(const std::string& text);

struct SearchOptions {
  Family family = Family::dynamic_fixed;
  double margin = 0.01;              ///< allowed top-1 drop (fraction, 0.01 = 1 point)
  std::vector<int> widths;           ///< candidate widths, widest first (empty: per family)
  int fixed_conv = -1, fixed_fc = -1, fixed_act = -1;  ///< >= 0: not searched (0: float)
  config::RangeRule act_rule = config::RangeRule::ristretto;  ///< Plan::act_rule
  bool unsigned_act = false;         ///< Plan::unsigned_act
  bool channel_weights = false;      ///< Plan::channel_weights
  /// Fractional lengths given by the user (quantize --set-fl ip2.outputs=1): set on the final
  /// plan (dynamic fixed point, pow2's activations) before the FL search, which leaves them.
  std::vector<FlSetting> set_fl;
  /// Dynamic fixed point (and pow2's fixed activations): after the widths are chosen, search
  /// every group's fractional length on the search set (refine_fl) before the test check.
  bool fl_search = false;
  /// The hardware cost the layer search minimises; empty: plan_cost's bits
  /// stored and moved (param_bits + act_bits). `ristsim quantize` passes the
  /// cost model's energy per inference (sim/cost). `cost_name` names it in notes.
  std::function<double(const Plan&)> cost;
  std::string cost_name = "bits stored and moved";
};

struct SearchResult {
  Plan plan;
  std::vector<SweepPoint> sweep;
  double baseline_search = 0, quantized_search = 0;
  double baseline_test = 0, quantized_test = 0;
  bool met = false;                 ///< the final plan meets the margin on the test split
  bool fl_searched = false;         ///< refine_fl ran (SearchOptions::fl_search)
  std::vector<std::string> notes;   ///< back-offs and what was not met, for the report
};

/// The default candidate widths of a family, widest first.
std::vector<int> default_widths(Family f);

/// Ristretto's search: each category alone (the others float), the smallest width whose
/// search-set top-1 is within the margin; then combined, scored on `test`, and backed off
/// (the category with the largest drop at its width goes one width up) until it meets the
/// margin on the test split or every category is at its widest width.
SearchResult search_category(Scorer& scorer, const engine::SampleStream& test,
                               const SearchOptions& o);

/// Per-layer search: starts from every unit (each layer's weights and activations) at the
/// widest width and, greedily, lowers the unit whose next width saves the most bits (stored +
/// moved) per point of accuracy lost, while the whole net stays within the margin on the
/// search set; then the same test-split check and back-off as search_category.
SearchResult search_layer(Scorer& scorer, const engine::SampleStream& test,
                               const SearchOptions& o);

/// Fractional-length search (an extension of Ristretto, whose FLs come from the range rule
/// alone): coordinate descent over every layer's groups (dynamic fixed weights, inputs,
/// outputs), each tried at FL - 2 .. FL + 3 of its current value with the others held; a
/// change is kept when it raises top-1 on the search set. Rounds repeat until one changes
/// nothing (at most 3). `top1` is the plan's search-set top-1 as it comes in (already scored);
/// groups in `fixed` are left alone. Appends one note per group whose FL moved; returns the
/// search-set top-1 of the refined plan.
double refine_fl(Scorer& scorer, Plan* plan, double top1, SearchResult* r,
                 const std::vector<FlSetting>& fixed = {});
/// Sets the given fractional lengths in the plan (as shifts on the range rule; one note each);
/// throws FlowError for a layer that is not in the ranges or a group that is float or not
/// fixed point in the plan.
void apply_fl_settings(const std::vector<LayerRange>& ranges, const std::vector<FlSetting>& set,
                       Plan* plan, SearchResult* r);

/// Category widths given by the user for all three categories: score them, no search.
SearchResult evaluate_fixed(Scorer& scorer, const engine::SampleStream& test,
                               const SearchOptions& o);

}  // namespace ristsim::flow
