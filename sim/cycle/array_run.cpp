// One layer through the PE array (see array_run.h).
#include "cycle/array_run.h"

#include <chrono>
#include <filesystem>
#include <cstdio>
#include <stdexcept>

#include "cost/arch_cost.h"
#include "config/describe.h"
#include "cost/tech.h"
#include "rtlgen/verilated_array.h"

namespace ristsim::cycle {

using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

double ArrayRunResult::systemc_cycles_per_s() const {
  return systemc_seconds > 0 ? double(stats.cycles) / systemc_seconds : 0;
}

bool ArrayRunResult::ok() const {
  return !golden.found && !rtl.found && functional_mismatches == 0 && missing_outputs == 0 &&
         (!mapped || analytic_equal);
}

std::string ArrayRunResult::text() const {
  char b[512];
  std::string s;
  std::snprintf(b, sizeof b,
                "array %dx%d %s, %d lanes, latency %d: layer %s, %llu folds, %llu cycles "
                "(%llu in folds, %llu stalls, %llu setup), utilisation %.1f %%\n",
                geometry.rows, geometry.cols, config::to_string(geometry.dataflow), lanes, latency,
                layer.c_str(), (unsigned long long)stats.folds, (unsigned long long)stats.cycles,
                (unsigned long long)stats.fold_cycles, (unsigned long long)stats.stall_cycles,
                (unsigned long long)kArraySetupCycles, 100.0 * stats.utilisation());
  s += b;
  std::snprintf(b, sizeof b,
                "checked: %llu converted outputs, %llu partial sums, %llu padded-column slots "
                "against kernels/reference; %llu against the functional model (%llu differ); "
                "%llu outputs missing; coverage: %llu saturated, %llu accumulator overflows\n",
                (unsigned long long)stats.outputs, (unsigned long long)stats.psums,
                (unsigned long long)stats.padded_slots, (unsigned long long)functional_checked,
                (unsigned long long)functional_mismatches, (unsigned long long)missing_outputs,
                (unsigned long long)cover_sat, (unsigned long long)cover_acc_ovf);
  s += b;
  s += "systemc vs golden: " + (golden.found ? "MISMATCH at " + golden.text() : std::string("equal")) +
       " (" + std::to_string(stats.mismatches) + " cycles differ)\n";
  if (!rtl_name.empty())
    s += rtl_name + " vs systemc: " +
         (rtl.found ? "DIVERGENCE at " + rtl.text() : std::string("equal every cycle")) + " (" +
         std::to_string(rtl_mismatch_cycles) + " cycles differ)\n";
  else
    s += "rtl: not run (no array RTL model given)\n";
  if (mapped) {
    std::snprintf(b, sizeof b,
                  "mapper: %s; analytic %llu compute cycles in %llu folds (+ %llu fetch, %llu DRAM "
                  "stall cycles) vs simulated %llu in %llu folds: %s\n",
                  map.mapping.text().c_str(), (unsigned long long)map.compute_cycles,
                  (unsigned long long)map.mapping.folds,
                  (unsigned long long)map.fetch_stall_cycles,
                  (unsigned long long)map.dram_stall_cycles, (unsigned long long)stats.fold_cycles,
                  (unsigned long long)stats.folds, analytic_equal ? "EQUAL" : "DIFFERENT");
    s += b;
  }
  std::snprintf(b, sizeof b, "speed: SystemC %.0f cycles/s", systemc_cycles_per_s());
  s += b;
  if (!rtl_name.empty() && rtl_seconds > 0) {
    std::snprintf(b, sizeof b, ", %s %.0f cycles/s", rtl_name.c_str(), double(stats.cycles) / rtl_seconds);
    s += b;
  }
  return s + "\n";
}

namespace {

class VerilatedArrayDut : public ArrayDut {
 public:
  VerilatedArrayDut(const std::string& so, const rtlgen::PeShape& shape,
                    const rtlgen::ArrayDims& dims, const std::string& vcd)
      : rtl_(so, shape, dims, vcd) {}
  std::string name() const override { return "verilated array RTL"; }
  rtlgen::ArrayOutputs cycle(const rtlgen::ArrayInputs& in) override {
    if (rtl_.stopped()) throw std::runtime_error("the array RTL stopped: " + rtl_.stop_message());
    return rtl_.cycle(in);
  }

 private:
  rtlgen::VerilatedArray rtl_;
};

}  // namespace

rtlgen::PeShape array_rtl_shape(const config::Arch& arch, const rtlgen::PeShape& layer_shape) {
  return arch.runtime_fl ? rtlgen::make_pe_shape(arch, nullptr, "arch") : layer_shape;
}

std::unique_ptr<ArrayDut> make_array_rtl(const rtlgen::PeShape& shape, const ArrayGeometry& g,
                                         const ArrayRtlOptions& o, double* build_seconds) {
  const auto t0 = Clock::now();
  rtlgen::ArrayDims dims;
  dims.rows = g.rows, dims.cols = g.cols, dims.dataflow = g.dataflow;
  if (!dims.is_array()) throw rtlgen::Unsupported("array RTL: a 1 x 1 array is the PE top");
  const std::string cache = o.cache_root.empty() ? rtlgen::default_cache_root() : o.cache_root;
  std::string dir = o.rtl_dir;
  if (dir.empty()) {
    rtlgen::RtlOptions ro;
    ro.arch_path = o.arch_path;
    ro.array = dims;
    std::vector<rtlgen::RtlFile> files = rtlgen::generate_pe_rtl(shape, ro);
    if (o.edit) o.edit(files);
    std::string all;
    for (const rtlgen::RtlFile& f : files) all += f.name + f.text;
    dir = cache + "/gen-array-" + config::hex64(config::fnv1a64(all)).substr(2);
    if (!std::filesystem::exists(dir + "/files.f")) rtlgen::write_rtl(dir, files);
  }
  const std::string so = rtlgen::build_verilated_array(dir, shape, dims, !o.vcd.empty(), cache);
  if (build_seconds) *build_seconds = seconds_since(t0);
  return std::make_unique<VerilatedArrayDut>(so, shape, dims, o.vcd);
}

namespace {

std::string jstr(const std::string& s) {
  std::string r = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') r += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    r += c;
  }
  return r + "\"";
}

std::string mismatch_json(const ArrayMismatch& m) {
  if (!m.found) return "null";
  return "{\"cycle\": " + std::to_string(m.cycle) + ", \"column\": " + std::to_string(m.col) +
         ", \"row\": " + std::to_string(m.row) + ", \"port\": " + jstr(m.port) +
         ", \"expected\": " + std::to_string(m.expected) + ", \"actual\": " +
         std::to_string(m.actual) + ", \"element\": " + std::to_string(m.element) + "}";
}

}  // namespace

std::string array_json(const config::Arch& arch, const ArrayRunResult& r) {
  const ArrayRunStats& s = r.stats;
  std::string j = "{\"arch\": " + jstr(arch.name) + ", \"layer\": " + jstr(r.layer) +
                  ", \"array\": {\"rows\": " + std::to_string(r.geometry.rows) +
                  ", \"cols\": " + std::to_string(r.geometry.cols) + ", \"dataflow\": " +
                  jstr(config::to_string(r.geometry.dataflow)) +
                  ", \"lanes\": " + std::to_string(r.lanes) +
                  ", \"latency\": " + std::to_string(r.latency) + "}";
  j += ", \"cycles\": " + std::to_string(s.cycles) + ", \"fold_cycles\": " +
       std::to_string(s.fold_cycles) + ", \"stall_cycles\": " + std::to_string(s.stall_cycles) +
       ", \"folds\": " + std::to_string(s.folds) + ", \"utilisation\": " +
       std::to_string(s.utilisation()) + ", \"outputs_checked\": " + std::to_string(s.outputs) +
       ", \"psums_checked\": " + std::to_string(s.psums) + ", \"functional_checked\": " +
       std::to_string(r.functional_checked) + ", \"functional_mismatches\": " +
       std::to_string(r.functional_mismatches) + ", \"missing_outputs\": " +
       std::to_string(r.missing_outputs) + ", \"cover_saturated\": " +
       std::to_string(r.cover_sat) + ", \"cover_acc_ovf\": " + std::to_string(r.cover_acc_ovf) +
       ", \"systemc_vs_golden\": " + mismatch_json(r.golden) + ", \"rtl\": " +
       (r.rtl_name.empty() ? std::string("null") : jstr(r.rtl_name)) +
       ", \"rtl_vs_systemc\": " + mismatch_json(r.rtl) +
       ", \"systemc_cycles_per_s\": " + std::to_string(uint64_t(r.systemc_cycles_per_s())) +
       ", \"rtl_cycles_per_s\": " +
       std::to_string(r.rtl_seconds > 0 ? uint64_t(double(s.cycles) / r.rtl_seconds) : 0);
  if (r.mapped)
    j += ", \"mapper\": {\"mapping\": " + jstr(r.map.mapping.text()) +
         ", \"compute_cycles\": " + std::to_string(r.map.compute_cycles) +
         ", \"folds\": " + std::to_string(r.map.mapping.folds) +
         ", \"fetch_stall_cycles\": " + std::to_string(r.map.fetch_stall_cycles) +
         ", \"dram_stall_cycles\": " + std::to_string(r.map.dram_stall_cycles) +
         ", \"cycles\": " + std::to_string(r.map.cycles) +
         ", \"equal_to_simulation\": " + (r.analytic_equal ? "true" : "false") + "}";
  return j + ", \"ok\": " + (r.ok() ? "true" : "false") + "}";
}

ArrayGeometry array_geometry(const config::Arch& arch) {
  if (arch.array.interconnect != config::Interconnect::systolic)
    throw rtlgen::Unsupported("arch '" + arch.name +
                              "': the PE array model needs array: {rows, cols} (systolic); a "
                              "broadcast array runs on the layer scheduler");
  ArrayGeometry g;
  g.rows = arch.array.rows;
  g.cols = arch.array.cols;
  g.dataflow = arch.array.dataflow;
  return g;
}

map::LayerMap report_mapping(const config::Arch& arch, const config::LayerFormats& formats,
                             const kernels::ConvShape& c, const std::string& name) {
  cost::LayerWork w;
  w.name = name;
  w.kind = c.h == 1 && c.w == 1 && c.kh == 1 && c.kw == 1 ? "fc" : "conv";
  const uint64_t m = uint64_t(c.oh) * uint64_t(c.ow), n = uint64_t(c.k);
  const uint64_t k = uint64_t(c.c / c.groups) * uint64_t(c.kh) * uint64_t(c.kw);
  w.macs = m * n * k;
  w.outputs = m * n;
  w.terms = k;
  w.weights = n * k;
  w.inputs = uint64_t(c.c) * uint64_t(c.h) * uint64_t(c.w);
  w.biases = n;
  w.formats = formats;
  cost::fill_traffic(arch, &w);
  const cost::TechModel tech = cost::tech_model_for(arch, "");
  return cost::layer_energy(arch, tech, {w}).at(0).map;
}

ArrayRunResult run_array_layer(const config::Arch& arch, const rtlgen::PeShape& shape,
                               const LayerData& layer, const ArrayRunOptions& opt) {
  static bool elaborated = false;
  if (elaborated) throw std::logic_error("run_array_layer: SystemC elaborates once per process");
  elaborated = true;
  ArrayRunResult r;
  r.layer = layer.name;
  r.geometry = array_geometry(arch);
  r.lanes = shape.lanes;
  r.latency = shape.latency();
  const ArrayLayer al = make_array_layer(shape, layer.conv, layer.in.data(), layer.w.data(),
                                         layer.bias.empty() ? nullptr : layer.bias.data(),
                                         layer.stream, layer.name);
  for (const Golden& g : al.golden) r.cover_sat += g.sat, r.cover_acc_ovf += g.acc_ovf;
  std::vector<ArrayTile> tiles;
  if (opt.use_mapper) {
    r.map = report_mapping(arch, layer.formats, layer.conv, layer.name);
    r.mapped = true;
    tiles = mapping_tiles(r.map.mapping, al.m, al.n, al.k);
  }
  std::unique_ptr<ArrayController> ctl =
      opt.controller ? opt.controller(shape, r.geometry, al, tiles)
                     : std::make_unique<ArrayController>(shape, r.geometry, al, tiles);
  // One elaboration per process: the model lives until the process ends.
  ArrayModel* model = new ArrayModel("array", shape, r.geometry, opt.pes);
  if (opt.dut) r.rtl_name = opt.dut->name();
  rtlgen::ArrayOutputs sc_out, rtl_out;
  while (!ctl->done()) {
    const rtlgen::ArrayInputs& in = ctl->inputs();
    auto t0 = Clock::now();
    sc_out = model->cycle(in);
    r.systemc_seconds += seconds_since(t0);
    if (opt.dut) {
      t0 = Clock::now();
      rtl_out = opt.dut->cycle(in);
      r.rtl_seconds += seconds_since(t0);
      ArrayMismatch m;
      if (!compare_south(sc_out, rtl_out, &m)) {
        ++r.rtl_mismatch_cycles;
        if (!r.rtl.found) {
          r.rtl = m;
          r.rtl.cycle = ctl->cycle();
          ctl->locate(&r.rtl);
        }
      }
    }
    ctl->observe(sc_out);
    if (opt.progress_every && ctl->cycle() % opt.progress_every == 0)
      std::printf("  cycle %llu / %llu\n", (unsigned long long)ctl->cycle(),
                  (unsigned long long)ctl->total_cycles()),
          std::fflush(stdout);
  }
  r.stats = ctl->stats();
  r.golden = ctl->first_mismatch();
  const std::vector<uint32_t>& got = ctl->outputs();
  const std::vector<uint8_t>& produced = ctl->produced();
  for (size_t e = 0; e < got.size(); ++e) {
    if (!produced[e]) {
      ++r.missing_outputs;
      continue;
    }
    if (e < layer.functional.size()) {
      ++r.functional_checked;
      r.functional_mismatches += got[e] != layer.functional[e];
    }
  }
  if (r.mapped)
    r.analytic_equal =
        r.stats.fold_cycles == r.map.compute_cycles && r.stats.folds == r.map.mapping.folds;
  return r;
}

}  // namespace ristsim::cycle
