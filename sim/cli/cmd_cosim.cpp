// `ristsim cosim`: co-simulates the arch's PE, SystemC model against the
// Verilated RTL in lockstep, both against the golden model (sim/cycle/cosim.h).
#include <array>
#include <random>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

#include "cli/cli.h"
#include "cli/model_data.h"
#include "cycle/array_run.h"
#include "cycle/cosim.h"
#include "cycle/stimulus.h"
#include "util/output.h"

// libsystemc's main() calls sc_main; ristsim has its own main(), which wins at
// link time, but the linker still wants the symbol. It is never called.
extern "C" int sc_main(int, char**) {
  return 1;
}

namespace ristsim::cli {

namespace {

std::string json_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '\n') {
      r += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') r += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    r += c;
  }
  return r;
}

std::string json_list(const std::vector<std::string>& v) {
  std::string r = "[";
  for (size_t i = 0; i < v.size(); ++i) r += (i ? ", \"" : "\"") + json_escape(v[i]) + "\"";
  return r + "]";
}

/// A layer through the PE array of a systolic arch: the SystemC array and the
/// Verilated array RTL in lockstep, both against kernels/reference (and the
/// functional model for a real layer), cycles against the mapper.
int cosim_array(const config::Arch& arch, const cycle::CosimOptions& o, bool json) {
  cycle::LayerData layer;
  rtlgen::PeShape shape;
  if (o.real) {
    layer = *o.real;
    shape = rtlgen::make_pe_shape(arch, &layer.formats, "arch");
  } else {
    shape = rtlgen::make_pe_shape(arch, nullptr, cycle::resolve_dynamic_fl(o));
    layer.name = o.layer;
    layer.conv = cycle::parse_conv_shape(o.conv);
    layer.formats = arch.formats;
    layer.stream = o.stream;
    std::mt19937_64 rng(o.seed);
    auto codes = [&](const numeric::Format& f, size_t n) { return cycle::random_codes(f, n, rng); };
    const kernels::ConvShape& c = layer.conv;
    layer.in = codes(shape.fmt.act, size_t(c.c) * c.h * c.w);
    layer.w = codes(shape.fmt.wt, size_t(c.k) * (c.c / c.groups) * c.kh * c.kw);
    layer.bias = codes(shape.fmt.bias, size_t(c.k));
  }
  cycle::ArrayRtlOptions ro;
  ro.rtl_dir = o.rtl_dir;
  ro.cache_root = o.cache_root;
  ro.vcd = o.vcd;
  ro.arch_path = arch.path;
  double build = 0;
  std::unique_ptr<cycle::ArrayDut> rtl =
      cycle::make_array_rtl(cycle::array_rtl_shape(arch, shape), cycle::array_geometry(arch), ro,
                            &build);
  cycle::ArrayRunOptions opt;
  opt.dut = rtl.get();
  const cycle::ArrayRunResult r = cycle::run_array_layer(arch, shape, layer, opt);
  if (json) {
    std::printf("%s\n", cycle::array_json(arch, r).c_str());
  } else {
    std::printf("%s", r.text().c_str());
    std::printf("array RTL: generated and Verilated in %.1f s (0: cached)\n", build);
    std::printf("%s\n", r.ok() ? "COSIM PASS" : "COSIM FAIL");
  }
  return r.ok() ? kExitOk : kExitFailure;
}

}  // namespace

int cmd_cosim(const std::vector<std::string>& args) {
  CommandLine cl(
      "cosim",
      "--arch A.yaml [--rtl DIR] [--model W.onnx --layer NAME | --vectors N] [--seed S]\n"
      "       [--idle-rate R] [--reset-rate R] [--require-coverage] [--json] [--vcd FILE]",
      "Co-simulates one processing element of the arch: the SystemC cycle model and\n"
      "the Verilated RTL (DIR, default: generated from the arch) run in lockstep on\n"
      "the same stimuli, corner-weighted random vectors or a real layer; every output\n"
      "port is compared every cycle and every result against the golden model\n"
      "(kernels/reference exact_dot). A real layer (--model, --layer) is layer NAME of\n"
      "the network quantized by the arch (exact datapath; dynamic fixed point ranged\n"
      "over --calib training images) on test image --image of --data; its results are\n"
      "also compared with the functional model's own output codes for that image.\n"
      "On an arch with array: {rows, cols} (systolic, more than one PE), a real layer\n"
      "or --conv runs through the whole array (docs/array.md): the SystemC array and\n"
      "the Verilated array RTL in lockstep, every column's south edge compared every\n"
      "cycle (first divergence: cycle, PE column and row, port), every output against\n"
      "the golden and functional models, the cycles against the mapper (--pe: one PE).\n"
      "Idle cycles (valid_i low, garbage inputs) fall between elements and between the\n"
      "chunks of one element; reset pulses interrupt elements, outputs compared during\n"
      "and after them. Coverage (saturation, accumulator overflow, rounding ties, idle\n"
      "cycles) is printed; a mode the arch enables that was never exercised is a WARN\n"
      "line, a failure with --require-coverage. With --rtl, the dynamic fractional\n"
      "lengths are the ones its header records, unless --dynamic-fl says otherwise\n"
      "(an RTL generated for another PE is an error, exit 2).\n"
      "Exit 1 on the first divergence, printed with its layer, output index, cycle,\n"
      "port, expected and actual bits, or when the RTL stops the simulation (a failed\n"
      "assertion). Verilated builds are cached ($RISTSIM_CACHE).");
  cl.options()("arch", po::value<std::string>()->required(), "arch YAML file")(
      "rtl", po::value<std::string>(), "RTL directory with files.f (top ristsim_pe, docs/rtl.md)")(
      "vectors", po::value<int>()->default_value(200), "output elements to stream")(
      "seed", po::value<uint64_t>()->default_value(1), "stimulus seed")(
      "stream", po::value<uint64_t>()->default_value(0), "stochastic stream (layer index)")(
      "dynamic-fl", po::value<std::string>(),
      "fractional lengths of dynamic fixed-point groups: arch, auto or A,W,B,O (default: what\n"
      "the --rtl header records; arch for --rtl without one; auto for generated RTL)")(
      "idle-rate", po::value<double>()->default_value(0.1),
      "probability of an idle cycle before each chunk (0 <= R < 1)")(
      "reset-rate", po::value<double>()->default_value(0.01),
      "probability that a reset pulse interrupts an element (0 <= R <= 1)")(
      "require-coverage", "fail (exit 1) when a mode the arch enables was never exercised")(
      "model", po::value<std::string>(), "trained network (.onnx or weight file) for a real layer")(
      "layer", po::value<std::string>(), "convolution or inner-product layer of --model")(
      "data", po::value<std::string>()->default_value("fashion-mnist"),
      "data set of --model's images (fashion-mnist, or a directory)")(
      "image", po::value<int>()->default_value(0), "test image streamed through --layer")(
      "calib", po::value<int>()->default_value(1000),
      "training images for the dynamic fixed-point range analysis of --model")(
      "conv", po::value<std::string>(),
      "stream a whole layer of this geometry with random codes instead of --vectors: "
      "C,H,W,K,KH,KW,STRIDE,PAD (an inner product: I,1,1,O,1,1,1,0)")(
      "runtime-fl", po::value<std::string>(),
      "runtime_fl arches: layers run through the one PE, each with its fractional lengths,\n"
      "A,W,B,O:A,W,B,O:... (--vectors elements each; the configuration register is written\n"
      "per layer)")("json", "print the result as one JSON object")(
      "vcd", po::value<std::string>(),
      "write the RTL waveform to FILE and the SystemC one to FILE.systemc.vcd")(
      "cache", po::value<std::string>(), "Verilator build cache directory")(
      "pe", "array arches: co-simulate one PE even for --model/--layer or --conv (default: the\n"
      "layer runs through the whole array, SystemC array and array RTL in lockstep)")(
      "plant-bug", po::value<std::string>()->default_value("none"),
      "TESTS ONLY: generate the RTL with a bug (tree_narrow, truncate, no_saturate, drop_lane),\n"
      "or (functional) flip the low bit of the functional model's first output code, or\n"
      "(no_cfg_write) write the runtime-FL register for the first --runtime-fl layer only");
  if (!cl.parse(args)) return kExitOk;
  check_inputs(cl, {{"arch", InputKind::file},
                    {"model", InputKind::file},
                    {"rtl", InputKind::directory},
                    {"data", InputKind::data_set}});
  if (cl.has("model") != cl.has("layer"))
    throw UsageError("--model and --layer go together (a real layer is a layer of a model)");
  if (cl.has("model") && (cl.has("conv") || !cl.vm()["vectors"].defaulted()))
    throw UsageError("--model/--layer streams a real layer: --conv and --vectors do not apply");
  if (cl.has("model") && cl.get<int>("calib") < 1) throw UsageError("--calib must be at least 1");
  config::Arch arch = load_arch(cl.get<std::string>("arch"));
  if (config::has_mx_groups(arch))  // before any model is quantized
    throw UsageError("arch '" + arch.name + "': OCP MX groups have no PE RTL to co-simulate yet "
                     "(docs/rtl.md); run MX archs with eval");
  cycle::CosimOptions o;
  if (cl.has("model")) {
    // The hardware is the exact datapath, whatever the arch's functional datapath.
    arch.datapath = config::Datapath::exact;
    const std::string data = cl.get<std::string>("data");
    const io::Dataset test_set = io::load_dataset(data, false);
    engine::NetOptions no;
    no.batch = 100;
    no.input_shape = {test_set.c, test_set.h, test_set.w};
    std::unique_ptr<engine::Net> net = flow::load_model(cl.get<std::string>("model"), no);
    quantize_with(*net, arch, data, cl.get<int>("calib"), no.batch);
    // Several layers (A,B,...): one runtime-FL PE runs them all, each with its FLs.
    std::vector<std::string> names;
    std::stringstream ls(cl.get<std::string>("layer"));
    for (std::string n; std::getline(ls, n, ',');) names.push_back(n);
    if (names.size() > 1 && !arch.runtime_fl)
      throw UsageError("--layer " + cl.get<std::string>("layer") +
                       ": several layers through one PE need an arch with runtime_fl: on");
    for (const std::string& n : names) {
      cycle::LayerData d = real_layer(*net, n, flow::samples_of(test_set), cl.get<int>("image"));
      if (names.size() == 1)
        o.real = std::move(d);
      else
        o.real_layers.push_back(std::move(d));
    }
    if (names.size() > 1) o.layer = cl.get<std::string>("layer");
  }
  if (cl.has("rtl")) o.rtl_dir = cl.get<std::string>("rtl");
  o.vectors = cl.get<int>("vectors");
  if (o.vectors < 1) throw UsageError("--vectors must be at least 1");
  o.seed = cl.get<uint64_t>("seed");
  o.stream = cl.get<uint64_t>("stream");
  if (cl.has("dynamic-fl")) o.dynamic_fl = cl.get<std::string>("dynamic-fl");
  o.idle_rate = cl.get<double>("idle-rate");
  if (!(o.idle_rate >= 0 && o.idle_rate < 1)) throw UsageError("--idle-rate must be in [0, 1)");
  o.reset_rate = cl.get<double>("reset-rate");
  if (!(o.reset_rate >= 0 && o.reset_rate <= 1)) throw UsageError("--reset-rate must be in [0, 1]");
  o.require_coverage = cl.has("require-coverage");
  if (cl.has("vcd")) {
    o.vcd = cl.get<std::string>("vcd");
    util::check_output_file(o.vcd, "--vcd");  // before the run, like every output
    util::check_output_file(o.vcd + ".systemc.vcd", "--vcd");
  }
  if (cl.has("conv")) {
    o.conv = cl.get<std::string>("conv");
    o.layer = "conv(" + o.conv + ")";
  }
  if (cl.has("cache")) o.cache_root = cl.get<std::string>("cache");
  if (cl.has("runtime-fl")) {
    if (cl.has("model") || cl.has("conv"))
      throw UsageError("--runtime-fl streams random elements: --model and --conv do not apply");
    std::stringstream ss(cl.get<std::string>("runtime-fl"));
    for (std::string item; std::getline(ss, item, ':');) {
      std::array<int, 4> fl;
      char tail = 0;
      if (std::sscanf(item.c_str(), "%d,%d,%d,%d%c", &fl[0], &fl[1], &fl[2], &fl[3], &tail) != 4)
        throw UsageError("--runtime-fl: expected A,W,B,O:A,W,B,O:..., got '" + item + "'");
      o.runtime_layers.push_back(fl);
    }
    if (o.runtime_layers.empty()) throw UsageError("--runtime-fl: no layer given");
  }
  if (cl.get<std::string>("plant-bug") == "no_cfg_write") {
    const bool channel_runs = o.real && !o.real->formats.weights.channel_fl.empty();
    if (o.runtime_layers.size() < 2 && o.real_layers.size() < 2 && !channel_runs)
      throw UsageError("--plant-bug no_cfg_write needs two runtime-FL layers or more (or a "
                       "layer of per-channel weights)");
    o.skip_cfg_write = true;
  } else if (cl.get<std::string>("plant-bug") == "functional") {
    cycle::LayerData* d = o.real ? &*o.real : o.real_layers.empty() ? nullptr : &o.real_layers[0];
    if (!d || d->functional.empty())
      throw UsageError("--plant-bug functional needs a real layer (--model, --layer)");
    d->functional[0] ^= 1u;
  } else if (!rtlgen::parse_planted_bug(cl.get<std::string>("plant-bug"), &o.bug))
    throw UsageError("unknown --plant-bug '" + cl.get<std::string>("plant-bug") + "'");
  if (o.bug != rtlgen::PlantedBug::none && !o.rtl_dir.empty())
    throw UsageError("--plant-bug applies to generated RTL, not to --rtl");
  const bool array = arch.array.interconnect == config::Interconnect::systolic &&
                     arch.array.rows * arch.array.cols > 1 && !cl.has("pe") &&
                     (o.real || !o.conv.empty() || !o.real_layers.empty());
  if (array) {
    if (!o.real_layers.empty())
      throw UsageError("--layer " + o.layer + ": the array runs one layer at a time");
    if (o.bug != rtlgen::PlantedBug::none || o.skip_cfg_write)
      throw UsageError("--plant-bug applies to the one-PE co-simulation (--pe)");
    try {
      return cosim_array(arch, o, cl.has("json"));
    } catch (const rtlgen::Unsupported& e) {
      throw UsageError(e.what());
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  cycle::CosimResult r;
  try {
    r = cycle::run_cosim(arch, o);
  } catch (const rtlgen::Unsupported& e) {
    throw UsageError(e.what());
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  const cycle::Divergence& d = r.first;
  if (cl.has("json")) {
    std::ostringstream js;
    js << "{\"arch\": \"" << json_escape(arch.name) << "\", \"rtl\": \"" << json_escape(r.rtl_dir)
       << "\", \"seed\": " << o.seed << ", \"cycles\": " << r.cycles << ", \"layer\": \""
       << json_escape(o.real ? o.real->name : o.layer) << "\""
       << ", \"vectors\": " << r.vectors << ", \"outputs_checked\": " << r.outputs
       << ", \"functional_checked\": " << r.functional_checked
       << ", \"mismatches\": " << r.mismatches
       << ", \"systemc_cycles_per_s\": " << static_cast<uint64_t>(r.systemc_cycles_per_s)
       << ", \"rtl_cycles_per_s\": " << static_cast<uint64_t>(r.rtl_cycles_per_s)
       << ", \"cover_saturated\": " << r.cover_saturated
       << ", \"cover_acc_ovf\": " << r.cover_acc_ovf << ", \"cover_ties\": " << r.cover_ties
       << ", \"cover_idle_elements\": " << r.cover_idle_elements
       << ", \"cover_idle_inside\": " << r.cover_idle_inside
       << ", \"cover_idle_between\": " << r.cover_idle_between
       << ", \"cover_resets\": " << r.cover_resets
       << ", \"cover_reset_cycles\": " << r.cover_reset_cycles
       << ", \"coverage_warnings\": " << json_list(r.coverage_warnings)
       << ", \"coverage_notes\": " << json_list(r.coverage_notes)
       << ", \"coverage_required\": " << (r.coverage_required ? "true" : "false")
       << ", \"dynamic_fl\": \"" << json_escape(r.dynamic_fl) << "\""
       << ", \"build_s\": " << r.build_seconds << ", \"ok\": " << (r.ok() ? "true" : "false");
    if (!r.rtl_stop.empty())
      js << ", \"rtl_stopped\": {\"cycle\": " << r.rtl_stop_cycle << ", \"message\": \""
         << json_escape(r.rtl_stop) << "\"}";
    if (d.found)
      js << ", \"first_divergence\": {\"layer\": \"" << json_escape(d.layer)
         << "\", \"output_index\": " << d.output_index << ", \"cycle\": " << d.cycle
         << ", \"port\": \"" << d.port << "\", \"against\": \"" << json_escape(d.against)
         << "\", \"expected\": \"" << cycle::bits_text(d.expected, d.width) << "\", \"actual\": \""
         << cycle::bits_text(d.actual, d.width) << "\"}";
    js << "}\n";
    std::cout << js.str();
  } else {
    if (!r.rtl_stop.empty())
      std::cout << "RTL STOPPED the simulation"
                << (r.rtl_stop_cycle ? " in cycle " + std::to_string(r.rtl_stop_cycle)
                                     : std::string(" while the model was built"))
                << " (a failed assertion, $fatal, $stop or $finish):\n"
                << r.rtl_stop << "\n";
    if (d.found) {
      std::cout << "FIRST DIVERGENCE (" << d.against << "): layer " << d.layer << ", output index "
                << d.output_index << ", cycle " << d.cycle << ", port " << d.port << ": expected "
                << cycle::bits_text(d.expected, d.width) << ", actual "
                << cycle::bits_text(d.actual, d.width) << "\n";
    }
    std::printf("arch %s, rtl %s\n", arch.name.c_str(), r.rtl_dir.c_str());
    if (!r.dynamic_fl.empty())
      std::printf("dynamic fractional lengths: %s\n", r.dynamic_fl.c_str());
    if (o.real) {
      const kernels::ConvShape& c = o.real->conv;
      std::printf(
          "layer %s of %s, test image %d: %dx%dx%d -> %dx%dx%d, %dx%d kernel; outputs checked "
          "against the functional exact datapath: %llu\n",
          o.real->name.c_str(), cl.get<std::string>("model").c_str(), cl.get<int>("image"), c.c,
          c.h, c.w, c.k, c.oh, c.ow, c.kh, c.kw,
          static_cast<unsigned long long>(r.functional_checked));
    }
    std::printf(
        "cycles simulated: %llu, vectors: %llu, outputs checked: %llu, mismatches = %llu\n",
        static_cast<unsigned long long>(r.cycles), static_cast<unsigned long long>(r.vectors),
        static_cast<unsigned long long>(r.outputs), static_cast<unsigned long long>(r.mismatches));
    std::cout << cycle::coverage_text(r);
    std::printf(
        "SystemC model: %.3g cycles/s (lockstep), Verilated RTL: %.3g cycles/s (lockstep)\n",
        r.systemc_cycles_per_s, r.rtl_cycles_per_s);
    std::printf("%s\n", r.ok() ? "COSIM PASS" : "COSIM FAIL");
  }
  return r.ok() ? kExitOk : kExitFailure;
}

}  // namespace ristsim::cli
