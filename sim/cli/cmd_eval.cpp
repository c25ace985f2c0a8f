// `ristsim eval`: runs a trained network over a data set's test split, in
// float32 or quantized by an arch (float or exact datapath), and reports top-1 /
// top-5 accuracy, time and the per-layer statistics (max |x|, log2 histograms,
// saturations, NaNs, accumulator overflows), as text or JSON.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/data_options.h"
#include "cli/model_data.h"
#include "engine/math.h"
#include "engine/net.h"
#include "engine/quant.h"
#include "engine/report.h"
#include "engine/train.h"
#include "engine/weights_io.h"
#include "io/dataset.h"

namespace ristsim::cli {

int cmd_eval(const std::vector<std::string>& args) {
  CommandLine cl("eval", "--model W --data D [--arch A.yaml] [--json] [options]",
                 "Evaluates a model (.onnx or a weight file from 'ristsim train', or a .yaml description\n"
                 "with random or --weights weights) on the test split of a data set. With --arch the\n"
                 "convolution and inner-product layers are quantized as the arch says; dynamic fixed\n"
                 "point takes its fractional lengths from a range analysis over --calib images of the\n"
                 "training split (Ristretto's rule).");
  cl.options()
      ("model", po::value<std::string>()->required(), "model: .onnx, weight file, or network description (.yaml)")
      ("weights", po::value<std::string>(), "weight file for a .yaml --model, or the .caffemodel of a Caffe .prototxt")
      ("data", po::value<std::string>()->required(), "data set: fashion-mnist, or a directory")
      ("arch", po::value<std::string>(), "quantize with this arch config (default for a Ristretto prototxt: its layers' formats)")
      ("datapath", po::value<std::string>(), "override the arch's datapath: float or exact")
      ("calib", po::value<int>()->default_value(1000), "images of the training split for the range analysis")
      ("range-rule", po::value<std::string>(),
       "override the arch's range_rule for dynamic fixed point: ristretto (inputs/outputs\n"
       "IL = ceil(log2 max)), no_saturation (IL + 1) or auto (per group, the rule its data\n"
       "needs: the one of the smaller estimated quantization error, docs/arch.md)")
      ("fl-rule", po::value<std::string>(), "old name of --range-rule (an alias)")
      ("batch", po::value<int>()->default_value(100), "batch size")
      ("limit", po::value<int>()->default_value(0), "evaluate only the first N test images (0: all)")
      ("seed", po::value<uint64_t>()->default_value(1), "seed of random weights (.yaml without --weights)")
      ("threads", po::value<int>()->default_value(0), "threads (0: all cores)")
      ("json", po::bool_switch(), "print one JSON object")
      ("quiet", po::bool_switch(), "no progress output");
  add_data_options(cl, true);
  add_device_option(cl);
  if (!cl.parse(args)) return kExitOk;
  check_inputs(cl, {{"model", InputKind::file},
                    {"weights", InputKind::file},
                    {"arch", InputKind::file},
                    {"data", InputKind::data_set}});
  apply_threads(cl);
  apply_device(cl);
  int batch = cl.get<int>("batch");
  if (batch < 1) throw UsageError("--batch must be at least 1");
  if (cl.get<int>("calib") < 1) throw UsageError("--calib must be at least 1");
  const bool json = cl.get<bool>("json");
  const bool quiet = cl.get<bool>("quiet") || json;
  const bool tty = isatty(fileno(stdout)) != 0;

  const std::string data = cl.get<std::string>("data");
  const int limit = cl.get<int>("limit");
  if (limit < 0) throw UsageError("--limit must not be negative");
  const DataOptions data_opts = data_options(cl, data);
  // The test split is streamed batch by batch (an image folder is decoded on demand).
  const std::unique_ptr<io::DataSource> test_set = open_data(data, false, data_opts);
  engine::SampleStream test = flow::stream_of(*test_set);
  if (limit > 0)
    test = flow::slice(test, 0, bounded_count("limit", limit, test.n,
                                              "the images of the test split of " + test_set->source));
  batch = bounded_count("batch", batch, std::max(test.n, 1), "the images evaluated");

  engine::NetOptions no;
  no.batch = batch;
  no.input_shape = {test_set->c, test_set->h, test_set->w};
  no.with_loss = true;
  no.phase = engine::Phase::test;
  no.seed = cl.get<uint64_t>("seed");
  const std::string model = cl.get<std::string>("model");
  std::optional<config::Arch> ristretto;
  std::unique_ptr<engine::Net> net = load_model_weights(
      model, cl.has("weights") ? cl.get<std::string>("weights") : "", no, &ristretto);
  const std::string untrained = untrained_note(model, cl.has("weights"), no.seed);
  if (!untrained.empty()) std::cerr << "ristsim eval: warning: " << untrained << "\n";

  config::Arch arch;
  const bool quantized = cl.has("arch") || ristretto;
  if (quantized) {
    arch = cl.has("arch") ? load_arch(cl.get<std::string>("arch")) : *ristretto;
    if (cl.has("datapath")) {
      const std::string d = cl.get<std::string>("datapath");
      if (d == "float") arch.datapath = config::Datapath::float32;
      else if (d == "exact") arch.datapath = config::Datapath::exact;
      else throw UsageError("--datapath must be float or exact, not '" + d + "'");
    }
    if (cl.has("range-rule") && cl.has("fl-rule"))
      throw UsageError("--fl-rule is the old name of --range-rule: give one of them");
    for (const char* o : {"range-rule", "fl-rule"}) {
      if (!cl.has(o)) continue;
      const std::string rule = cl.get<std::string>(o);
      if (!config::parse_range_rule(rule, &arch.range_rule))
        throw UsageError("--" + std::string(o) +
                         " must be ristretto, no_saturation or auto, not '" + rule + "'");
    }
    quantize_with(*net, arch, data, cl.get<int>("calib"), batch, data_opts);
  } else {
    if (cl.has("datapath")) throw UsageError("--datapath needs --arch");
    for (const char* o : {"range-rule", "fl-rule"})
      if (cl.has(o)) throw UsageError("--" + std::string(o) + " needs --arch");
    engine::attach_measurement(*net);  // statistics of the float run
  }

  engine::ProgressPrinter printer(stdout, tty, quiet);
  const engine::EvalResult r =
      engine::evaluate(*net, test, batch, [&](const engine::Progress& p) { printer.eval(p); });
  printer.finish();
  const std::vector<engine::LayerStats> stats = engine::collect_stats(*net);
  std::vector<const config::LayerFormats*> formats;
  if (quantized)
    for (engine::WeightedLayer* l : net->weighted_layers()) formats.push_back(&l->quant()->formats());
  uint64_t sat = 0, nans = 0, ovf = 0;
  for (const auto& s : stats) {
    ovf += s.acc_overflows;
    for (const auto& g : s.groups) sat += g.saturations, nans += g.nans;
  }
  const char* datapath = !quantized ? "fp32" : arch.datapath == config::Datapath::exact ? "exact" : "float";
  if (json) {
    std::printf("{\n  \"model\": %s,\n  \"trained\": %s,\n  \"network\": %s,\n  \"data\": %s,\n  \"arch\": %s,\n  \"datapath\": \"%s\",\n",
                engine::json_string(model).c_str(), untrained.empty() ? "true" : "false",
                engine::json_string(net->spec().name).c_str(),
                engine::json_string(test_set->source).c_str(),
                quantized ? engine::json_string(arch.name.empty() ? arch.path : arch.name).c_str() : "null", datapath);
    std::printf("  \"images\": %lld,\n  \"top1\": %.6f,\n  \"top5\": %.6f,\n  \"loss\": %.6f,\n  \"seconds\": %.4f,\n"
                "  \"images_per_s\": %.1f,\n  \"threads\": %d,\n  \"saturations\": %llu,\n  \"nans\": %llu,\n"
                "  \"acc_overflows\": %llu,\n  \"layers\": %s\n}\n",
                static_cast<long long>(r.images), r.top1, r.top5, r.loss, r.seconds, r.images / std::max(r.seconds, 1e-9),
                engine::num_threads(), static_cast<unsigned long long>(sat), static_cast<unsigned long long>(nans),
                static_cast<unsigned long long>(ovf), engine::stats_json(stats, formats, 2).c_str());
    return kExitOk;
  }
  std::printf("%s on %s: %lld images, top-1 %.2f %%, top-5 %.2f %%, loss %.4f, %.2f s (%.0f images/s), %s",
              net->spec().name.c_str(), test_set->source.c_str(), static_cast<long long>(r.images), 100 * r.top1,
              100 * r.top5, r.loss, r.seconds, r.images / std::max(r.seconds, 1e-9), datapath);
  if (quantized) std::printf(" (arch %s)", arch.name.c_str());
  std::printf("\n");
  std::printf("%-12s %-28s %-28s %10s %10s %10s\n", "layer", "inputs max |x| (fmt)", "outputs max |x| (fmt)",
              "w max", "sat", "acc ovf");
  for (std::size_t i = 0; i < stats.size(); ++i) {
    const auto& s = stats[i];
    auto fmt = [&](const config::NumberSpec* n) -> std::string {
      if (!n) return "";
      if (n->is_float) return " (float)";
      if (n->is_mx) return std::string(" (mx ") + numeric::to_string(n->mx.element) + ")";
      const auto& f = n->quantizer.format;
      if (f.kind == numeric::FormatKind::fixed)
        return std::string(f.is_signed ? " (" : " (u") + "fixed<" + std::to_string(f.bits) +
               "," + std::to_string(f.fl) + ">)";
      return std::string(" (") + numeric::to_string(f.kind) + std::to_string(f.bits) + ")";
    };
    uint64_t ssum = 0;
    for (const auto& g : s.groups) ssum += g.saturations;
    char in[64], out[64];
    std::snprintf(in, sizeof in, "%.4g%s", s[engine::NumberGroup::inputs].max_abs,
                  fmt(quantized ? &formats[i]->activations : nullptr).c_str());
    std::snprintf(out, sizeof out, "%.4g%s", s[engine::NumberGroup::outputs].max_abs,
                  fmt(quantized ? &formats[i]->outputs : nullptr).c_str());
    std::printf("%-12s %-28s %-28s %10.4g %10llu %10llu\n", s.layer.c_str(), in, out,
                s[engine::NumberGroup::weights].max_abs, static_cast<unsigned long long>(ssum),
                static_cast<unsigned long long>(s.acc_overflows));
  }
  return kExitOk;
}

}  // namespace ristsim::cli
