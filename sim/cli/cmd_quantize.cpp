// `ristsim quantize`: Ristretto's quantization flow (sim/flow): range analysis, formats from
// the ranges, a bit-width search under an error margin (per category as Ristretto, or per
// layer), and the outputs: the quantized ONNX model, an arch file with the chosen formats and
// report.md / report.json. DIR is checked before any work and staged (util::OutputDir): a
// failed or interrupted run leaves nothing behind, and a folder ristsim did not write is never
// replaced.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/data_options.h"
#include "cli/model_data.h"
#include "config/arch_yaml.h"
#include "cost/engine_work.h"
#include "cost/report.h"
#include "cost/tech.h"
#include "engine/math.h"
#include "engine/quant.h"
#include "engine/train.h"
#include "flow/finetune.h"
#include "flow/flow.h"
#include "flow/report.h"
#include "io/caffe.h"
#include "io/onnx_export.h"
#include "util/output.h"

namespace ristsim::cli {

namespace {
std::vector<int> parse_widths(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    try {
      std::size_t used = 0;
      const int w = std::stoi(item, &used);
      if (used != item.size() || w < 1 || w > 32) throw std::invalid_argument(item);
      v.push_back(w);
    } catch (const std::exception&) {
      throw UsageError("--widths: '" + item + "' is not a width in 1..32");
    }
  }
  if (v.empty()) throw UsageError("--widths needs at least one width");
  std::sort(v.rbegin(), v.rend());
  return v;
}
}  // namespace

int cmd_quantize(const std::vector<std::string>& args) {
  CommandLine cl("quantize",
                 "--model W --data D --out DIR [--format F] [--error-margin P] [--granularity G] [options]",
                 "Quantizes a trained model the way Ristretto does (thesis chapter 9): range analysis\n"
                 "(max |x| of each layer's weights, inputs and outputs over --images training images),\n"
                 "formats from the ranges, then a bit-width search that keeps the top-1 drop within\n"
                 "--error-margin points. category: conv weights, FC weights and activations each get\n"
                 "one width (16, 8, 4, 2, 1 bits for fixed point), found one category at a time with\n"
                 "the others float, then combined; layer: per-layer widths minimising the bits stored\n"
                 "and moved, greedily by sensitivity. The combined plan is scored on the test split and\n"
                 "backed off until it meets the margin (the report says so). Writes DIR/quantized.onnx\n"
                 "(weights on the grid, formats in the metadata, fixed-point weights also as integer\n"
                 "codes), DIR/arch.yaml (one override per layer; loadable with --arch), report.md and\n"
                 "report.json. See docs/quantize.md.");
  cl.options()
      ("model", po::value<std::string>()->required(), "trained model: .onnx, an engine weight file, or a Caffe .prototxt (with --weights)")
      ("weights", po::value<std::string>(), "the .caffemodel of a Caffe .prototxt --model (or a weight file for a .yaml one)")
      ("data", po::value<std::string>()->required(), "data set: fashion-mnist, or a directory")
      ("out", po::value<std::string>()->required(),
       "output directory (must not exist, be empty, or hold a previous ristsim output with --force)")
      ("force", po::bool_switch(), "replace a previous ristsim output in --out")
      ("format", po::value<std::string>()->default_value("dynamic_fixed"), "dynamic_fixed, fixed, minifloat or pow2")
      ("error-margin", po::value<double>()->default_value(1.0), "allowed top-1 drop in percentage points")
      ("granularity", po::value<std::string>()->default_value("category"), "category (Ristretto) or layer")
      ("cost", po::value<std::string>()->default_value("energy"),
       "what the layer search minimises: energy (per inference, the cost model of docs/cost.md\n"
       "at the generated arch's technology) or bits (stored and moved)")
      ("images", po::value<int>()->default_value(1000), "training images for the range analysis")
      ("search-images", po::value<int>()->default_value(2000), "images that score the search (the end of the training split)")
      ("test-images", po::value<int>()->default_value(0), "test images for the final score (0: all)")
      ("range-rule", po::value<std::string>(),
       "dynamic fixed activations: auto (the default: per group, the rule of the smaller "
       "estimated quantization error), ristretto (IL = ceil(log2 max), saturates the top of the "
       "range) or no_saturation (IL = ceil(log2 max + 1), the weights' rule); the arch's "
       "range_rule")
      ("activation-il", po::value<std::string>(), "old name of --range-rule (an alias)")
      ("unsigned-act", po::value<std::string>()->default_value("off"),
       "dynamic fixed activations: auto (unsigned fixed point for the groups the range analysis "
       "never saw negative: pixels, inputs after a ReLU) or off (signed everywhere)")
      ("weight-granularity", po::value<std::string>()->default_value("layer"),
       "dynamic fixed weights: layer (one fractional length per layer, Ristretto) or channel "
       "(one per output channel, each by the weights' range rule; the arch's granularity)")
      ("fl-search", po::bool_switch(),
       "dynamic fixed point: after the widths are chosen, search every group's fractional "
       "length (the rule's FL -2..+3, coordinate descent) on the search set")
      ("set-fl", po::value<std::string>(),
       "dynamic fixed point: these groups' fractional lengths, e.g. ip2.outputs=1,conv1.inputs=3 "
       "(GROUP weights, inputs or outputs); --fl-search leaves them")
      ("widths", po::value<std::string>(), "candidate widths, e.g. 16,8,4,2,1 (default per format)")
      ("bits", po::value<int>(), "no search: every category at this width")
      ("conv-bits", po::value<int>(), "conv weights at this width, not searched (0: float)")
      ("fc-bits", po::value<int>(), "FC weights at this width, not searched (0: float)")
      ("act-bits", po::value<int>(), "activations at this width, not searched (0: float)")
      ("batch", po::value<int>()->default_value(100), "batch size of the evaluations")
      ("seed", po::value<uint64_t>()->default_value(1), "arch seed (stochastic rounding, if ever used)")
      ("threads", po::value<int>()->default_value(0), "threads (0: all cores)")
      ("export", po::value<std::string>()->default_value("qdq"),
       "how quantized.onnx carries the formats: qdq (QuantizeLinear / DequantizeLinear on the\n"
       "weights and on every quantized layer's input and output: onnxruntime computes what\n"
       "ristsim's float datapath scored), qonnx (QONNX Quant / FloatQuant, for FINN and\n"
       "hls4ml), float (grid values, formats as metadata only), or caffe (Ristretto's quantized\n"
       "prototxt + caffemodel: DIR/quantized.prototxt, DIR/quantized.caffemodel instead of the\n"
       "ONNX). A format the form cannot express is refused (exit 2), never written as float.\n"
       "See docs/quantize.md.")
      ("quiet", po::bool_switch(), "no progress output");
  add_data_options(cl, true);
  add_device_option(cl);
  if (!cl.parse(args)) return kExitOk;
  check_inputs(cl, {{"model", InputKind::file}, {"weights", InputKind::file}, {"data", InputKind::data_set}});
  const std::string weights = cl.has("weights") ? cl.get<std::string>("weights") : "";
  const auto t0 = std::chrono::steady_clock::now();

  flow::SearchOptions so;
  if (!flow::parse_family(cl.get<std::string>("format"), &so.family))
    throw UsageError("--format must be dynamic_fixed, fixed, minifloat or pow2, not '" +
                     cl.get<std::string>("format") + "'");
  const std::string gran = cl.get<std::string>("granularity");
  if (gran != "category" && gran != "layer")
    throw UsageError("--granularity must be category or layer, not '" + gran + "'");
  so.margin = cl.get<double>("error-margin") / 100.0;
  if (!(so.margin >= 0)) throw UsageError("--error-margin must not be negative");
  if (cl.has("range-rule") && cl.has("activation-il"))
    throw UsageError("--activation-il is the old name of --range-rule: give one of them");
  config::RangeRule rule = config::RangeRule::automatic;
  for (const char* o : {"range-rule", "activation-il"})
    if (cl.has(o) && !config::parse_range_rule(cl.get<std::string>(o), &rule))
      throw UsageError("--" + std::string(o) + " must be auto, ristretto or no_saturation, not '" +
                       cl.get<std::string>(o) + "'");
  const std::string act_il = config::to_string(rule);
  so.act_rule = rule;
  const std::string unsigned_act = cl.get<std::string>("unsigned-act");
  if (unsigned_act != "auto" && unsigned_act != "off")
    throw UsageError("--unsigned-act must be auto or off, not '" + unsigned_act + "'");
  so.unsigned_act = unsigned_act == "auto";
  const std::string wgran = cl.get<std::string>("weight-granularity");
  if (wgran != "layer" && wgran != "channel")
    throw UsageError("--weight-granularity must be layer or channel, not '" + wgran + "'");
  so.channel_weights = wgran == "channel";
  if (so.channel_weights && so.family != flow::Family::dynamic_fixed)
    throw UsageError("--weight-granularity channel applies to --format dynamic_fixed only");
  so.fl_search = cl.get<bool>("fl-search");
  if (cl.has("set-fl")) {
    std::stringstream ss(cl.get<std::string>("set-fl"));
    for (std::string item; std::getline(ss, item, ',');) {
      try {
        so.set_fl.push_back(flow::parse_fl_setting(item));
      } catch (const flow::FlowError& e) {
        throw UsageError(std::string("--set-fl: ") + e.what());
      }
    }
    if (so.family != flow::Family::dynamic_fixed && so.family != flow::Family::pow2)
      throw UsageError("--set-fl applies to dynamic_fixed and to pow2's fixed-point activations");
  }
  if (so.fl_search && so.family != flow::Family::dynamic_fixed && so.family != flow::Family::pow2)
    throw UsageError("--fl-search applies to dynamic_fixed and to pow2's fixed-point activations, not to " +
                     std::string(flow::to_string(so.family)));
  io::QuantExport form = io::QuantExport::qdq;
  const bool caffe_out = cl.get<std::string>("export") == "caffe";
  if (!caffe_out && !io::parse_quant_export(cl.get<std::string>("export"), &form))
    throw UsageError("--export must be qdq, qonnx, float or caffe, not '" + cl.get<std::string>("export") + "'");
  if (cl.has("widths")) so.widths = parse_widths(cl.get<std::string>("widths"));
  auto width_opt = [&](const char* name, int* dst) {
    if (!cl.has(name)) return;
    const int w = cl.get<int>(name);
    if (w < 0 || w > 32) throw UsageError(std::string("--") + name + " must be in 0..32");
    *dst = w;
  };
  if (cl.has("bits")) {
    const int b = cl.get<int>("bits");
    if (b < 1 || b > 32) throw UsageError("--bits must be in 1..32");
    so.fixed_conv = so.fixed_fc = so.fixed_act = b;
    if (so.family == flow::Family::pow2) so.fixed_act = 8;  // pow2 weights, 8-bit activations
  }
  width_opt("conv-bits", &so.fixed_conv);
  width_opt("fc-bits", &so.fixed_fc);
  width_opt("act-bits", &so.fixed_act);
  const int images = cl.get<int>("images"), search_images = cl.get<int>("search-images");
  int batch = cl.get<int>("batch");
  if (images < 1) throw UsageError("--images must be at least 1");
  if (search_images < 1) throw UsageError("--search-images must be at least 1");
  if (batch < 1) throw UsageError("--batch must be at least 1");
  if (cl.get<int>("test-images") < 0) throw UsageError("--test-images must not be negative");
  apply_threads(cl);
  apply_device(cl);
  const bool quiet = cl.get<bool>("quiet");
  auto say = [&](const std::string& s) {
    if (!quiet) std::printf("%s\n", s.c_str()), std::fflush(stdout);
  };

  const std::string model = cl.get<std::string>("model"), data = cl.get<std::string>("data");
  const std::string out = cl.get<std::string>("out");
  util::OutputDir out_dir(out, cl.get<bool>("force") ? util::Existing::replace : util::Existing::refuse,
                          "ristsim quantize");
  // Both splits are streamed: every evaluation reads its images batch by batch (image folders
  // are decoded on demand and read ahead), so memory does not grow with the data set.
  const DataOptions data_opts = data_options(cl, data);
  const std::unique_ptr<io::DataSource> train_set = open_data(data, true, data_opts);
  const std::unique_ptr<io::DataSource> test_set = open_data(data, false, data_opts);
  const std::string train_what = "the images of the training split of " + train_set->source;
  batch = bounded_count("batch", batch, train_set->n, train_what);
  engine::NetOptions no;
  no.batch = batch;
  no.input_shape = {train_set->c, train_set->h, train_set->w};
  no.with_loss = true;
  no.phase = engine::Phase::test;
  std::unique_ptr<engine::Net> net = load_model_weights(model, weights, no);
  const std::map<std::string, std::string> source_meta = flow::model_metadata(model);
  const engine::SampleStream train = flow::stream_of(*train_set);
  engine::SampleStream test = flow::stream_of(*test_set);
  if (cl.get<int>("test-images") > 0)
    test = flow::slice(test, 0, bounded_count("test-images", cl.get<int>("test-images"), test.n,
                                              "the images of the test split of " + test_set->source));
  engine::check_samples(*net, train, "training");
  engine::check_samples(*net, test, "test");

  const int range_n = bounded_count("images", images, train.n, train_what);
  std::vector<flow::LayerRange> ranges = flow::analyze_ranges(*net, train, range_n, batch);
  if (ranges.empty()) throw JobError(model + ": the model has no Convolution or InnerProduct layer");
  {  // the export's form must hold the family's formats: refused before the search, not after
    const config::Arch probe =
        flow::plan_arch(flow::category_plan(so.family, ranges, 8, 8, 8, so.act_rule,
                                            so.unsigned_act, so.channel_weights),
                        ranges, "probe", 1);
    const std::string why = caffe_out ? io::not_caffe_exportable(probe) : io::not_exportable(probe, form);
    if (!why.empty())
      throw UsageError("--export " + cl.get<std::string>("export") + " cannot write --format " +
                       flow::to_string(so.family) + " (" + why.substr(0, why.find('\n')) +
                       "); choose another --export or --format");
  }
  const int search_n = bounded_count("search-images", search_images, train.n, train_what);
  const engine::SampleStream search = flow::slice(train, train.n - search_n, search_n);
  say("range analysis over " + std::to_string(range_n) + " images: " + std::to_string(ranges.size()) +
      " layers; searching (" + std::string(flow::to_string(so.family)) + ", " + gran + ") on " +
      std::to_string(search_n) + " images");

  // The layer search's cost: the energy per inference of the plan's arch.
  const std::string cost_kind = cl.get<std::string>("cost");
  if (cost_kind != "energy" && cost_kind != "bits")
    throw UsageError("--cost must be energy or bits, not '" + cost_kind + "'");
  std::unique_ptr<engine::Net> net1;  // batch 1: the layer shapes the cost model reads
  std::unique_ptr<cost::TechModel> tech;
  if (cost_kind == "energy") {
    engine::NetOptions one = no;
    one.batch = 1;
    one.with_loss = false;
    net1 = load_model_weights(model, weights, one);
    const config::Arch probe = flow::plan_arch(flow::category_plan(so.family, ranges, 8, 8, 8),
                                               ranges, "probe", 1);
    tech = std::make_unique<cost::TechModel>(cost::tech_model_for(probe, ""));
    so.cost = [&](const flow::Plan& p) {
      cost::ReportInput in;
      in.arch = flow::plan_arch(p, ranges, "candidate", 1);
      in.layers = cost::layer_work_from_net(*net1, in.arch);
      return cost::summarize(in, *tech).energy_pj;
    };
    so.cost_name = "the energy per inference of the cost model (docs/cost.md, " +
                   std::to_string(tech->node_nm()) + " nm)";
  }

  flow::Scorer scorer(*net, ranges, search, batch, cl.get<uint64_t>("seed"));
  flow::SearchResult res;
  const bool all_given = so.fixed_conv >= 0 && so.fixed_fc >= 0 && so.fixed_act >= 0;
  if (all_given) res = flow::evaluate_fixed(scorer, test, so);
  else if (gran == "layer") res = flow::search_layer(scorer, test, so);
  else res = flow::search_category(scorer, test, so);

  flow::QuantizeReport rep;
  rep.model = model;
  rep.data = data;
  rep.granularity = all_given ? "given" : gran;
  rep.family = so.family;
  rep.margin = so.margin;
  rep.range_images = range_n;
  rep.search_images = search_n;
  rep.test_images = test.n;
  rep.ranges = ranges;
  rep.result = res;
  rep.arch = flow::plan_arch(res.plan, ranges, net->spec().name + "_" + flow::to_string(so.family),
                             cl.get<uint64_t>("seed"));
  rep.evaluations = scorer.evaluations();
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  char summary[256];
  std::snprintf(summary, sizeof summary,
                "%s: fp32 top-1 %.2f %%, quantized %.2f %% (drop %.2f points, margin %.2f: %s)",
                net->spec().name.c_str(), 100 * res.baseline_test, 100 * res.quantized_test,
                100 * (res.baseline_test - res.quantized_test), 100 * so.margin,
                res.met ? "met" : "NOT met");
  const std::string arch_text = flow::arch_yaml(
      rep.arch, "Made by ristsim quantize from " + model + " (" + summary + ").\n" +
                    "Datapath float (Ristretto's); the bias is in the weights' format there.");
  // The arch must parse back: the same loader users run it through.
  config::parse_arch(arch_text, "arch.yaml (generated)");

  {
    engine::detach_quantization(*net);
    engine::attach_arch(*net, rep.arch);
    io::ExportOptions eo;
    eo.quantized = true;
    eo.arch = &rep.arch;
    for (const auto& [k, v] : source_meta)
      if (k.rfind("ristsim.format.", 0) != 0) eo.metadata[k] = v;
    eo.metadata["ristsim.arch"] = arch_text;
    eo.metadata["ristsim.baseline_top1"] = std::to_string(res.baseline_test);
    eo.metadata["ristsim.quantized_top1"] = std::to_string(res.quantized_test);
    eo.metadata["ristsim.quantize.command"] =
        effective_command("quantize", cl.vm(), {"out", "force", "quiet", "threads"});
    eo.form = form;
    if (caffe_out)
      io::write_caffe(*net, &rep.arch, out_dir.path("quantized.prototxt"),
                      out_dir.path("quantized.caffemodel"));
    else
      io::export_onnx(*net, out_dir.path("quantized.onnx"), eo);
    util::write_file(out_dir.path("arch.yaml"), arch_text);
    util::write_file(out_dir.path("report.json"), flow::report_json(rep));
    util::write_file(out_dir.path("report.md"), flow::report_md(rep));
    out_dir.commit();
  }
  say(summary);
  for (const std::string& n : res.notes) say("note: " + n);
  say("wrote " + out + (caffe_out ? "/{quantized.prototxt, quantized.caffemodel" : "/{quantized.onnx") +
      ", arch.yaml, report.md, report.json} (" +
      std::to_string(scorer.evaluations()) + " evaluations, " +
      std::to_string(static_cast<int>(rep.seconds)) + " s)");
  return kExitOk;
}

}  // namespace ristsim::cli
