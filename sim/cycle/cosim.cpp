// Lockstep co-simulation of the SystemC PE model and the Verilated RTL (cosim.h).
#include "cycle/cosim.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "config/describe.h"
#include "cycle/pe_model.h"
#include "cycle/stimulus.h"
#include "rtlgen/verilated_pe.h"

namespace ristsim::cycle {

using Clock = std::chrono::steady_clock;
using rtlgen::PeOutputs;

std::string bits_text(uint32_t v, int width) {
  std::string s = "0b";
  for (int b = width - 1; b >= 0; --b) s += ((v >> b) & 1) ? '1' : '0';
  return s;
}

namespace {

/// The PE of the co-simulation: a real layer's formats, or the arch's with
/// the dynamic fractional lengths of options.dynamic_fl (resolved).
rtlgen::PeShape cosim_shape(const config::Arch& arch, const CosimOptions& o) {
  if (o.real) return rtlgen::make_pe_shape(arch, &o.real->formats, "arch");
  // Several real layers (runtime_fl): the one PE, generated with the first one's FLs.
  if (!o.real_layers.empty()) return rtlgen::make_pe_shape(arch, &o.real_layers[0].formats, "arch");
  return rtlgen::make_pe_shape(arch, nullptr, resolve_dynamic_fl(o));
}

std::string slurp(const std::string& path) {
  std::ifstream is(path, std::ios::binary);
  if (!is) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << is.rdbuf();
  return ss.str();
}

/// The "// PE: ..." line of a text, or "".
std::string pe_line_of(const std::string& text) {
  const std::string tag = "// PE: ";
  size_t at = text.rfind("\n" + tag, std::string::npos);
  at = text.compare(0, tag.size(), tag) == 0 ? 0 : (at == std::string::npos ? at : at + 1);
  if (at == std::string::npos) return "";
  const size_t end = text.find('\n', at);
  return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

/// The PE line rtlgen writes for this shape.
std::string expected_pe_line(const rtlgen::PeShape& shape) {
  for (const rtlgen::RtlFile& f : rtlgen::generate_pe_rtl(shape, rtlgen::RtlOptions{}))
    if (f.name == std::string(rtlgen::kPeTop) + ".sv") return pe_line_of(f.text);
  return "";
}

/// The fractional length of `group`'s "fixed<B,FL>" in a PE line; false if not fixed.
bool header_fl(const std::string& line, const std::string& group, int* fl) {
  const size_t at = line.find(" " + group + " fixed<");
  int bits = 0;
  return at != std::string::npos &&
         std::sscanf(line.c_str() + at + group.size() + 2, "fixed<%d,%d>", &bits, fl) == 2;
}

}  // namespace

std::string rtl_header_pe_line(const std::string& rtl_dir) {
  std::istringstream list(slurp(rtl_dir + "/files.f"));
  std::string name;
  while (std::getline(list, name)) {
    if (name.empty() || name[0] == '#') continue;
    const std::string line = pe_line_of(slurp((std::filesystem::path(rtl_dir) / name).string()));
    if (!line.empty()) return line;
  }
  return "";
}

std::string resolve_dynamic_fl(const CosimOptions& o, std::string* source) {
  std::string src, fl;
  if (!o.dynamic_fl.empty()) {
    fl = o.dynamic_fl;
    src = "--dynamic-fl";
  } else if (!o.rtl_dir.empty()) {
    const std::string line = rtl_header_pe_line(o.rtl_dir);
    if (line.empty()) {
      fl = "arch";
      src = "the arch: the RTL has no ristsim header";
    } else {
      int v[4] = {0, 0, 0, 0};
      const char* groups[4] = {"activations", "weights", "bias", "outputs"};
      for (int i = 0; i < 4; ++i) header_fl(line, groups[i], &v[i]);
      fl = std::to_string(v[0]) + "," + std::to_string(v[1]) + "," + std::to_string(v[2]) + "," +
           std::to_string(v[3]);
      src = "the RTL's header";
    }
  } else {
    fl = "auto";
    src = "generated RTL: every rounding and saturation path reachable";
  }
  if (source) *source = src;
  return fl;
}

void check_rtl_header(const config::Arch& arch, const CosimOptions& o) {
  if (o.rtl_dir.empty()) return;
  const std::string theirs = rtl_header_pe_line(o.rtl_dir);
  if (theirs.empty()) return;  // hand-written: the port widths are all we can check
  std::string source;
  const std::string fl = resolve_dynamic_fl(o, &source);
  const std::string ours = expected_pe_line(cosim_shape(arch, o));
  if (theirs == ours) return;
  const std::string what =
      o.real
          ? "layer '" + o.real->name + "' of arch '" + arch.name + "' (its ranged formats)"
          : "arch '" + arch.name + "' with dynamic fractional lengths " + fl + " (" + source + ")";
  throw std::invalid_argument(
      "RTL/arch mismatch: the RTL in " + o.rtl_dir +
      " was generated for another PE than the one co-simulated:\n  RTL header: " + theirs + "\n  " +
      what + ": " + ours + "\n  (regenerate the RTL, or pass --dynamic-fl A,W,B,O to match it)");
}

std::string prepare_rtl(const config::Arch& arch, const CosimOptions& o, std::string* rtl_dir) {
  const rtlgen::PeShape shape = cosim_shape(arch, o);
  const std::string cache = o.cache_root.empty() ? rtlgen::default_cache_root() : o.cache_root;
  // The RTL: the given directory, or freshly generated from the arch.
  std::string dir = o.rtl_dir;
  if (dir.empty()) {
    rtlgen::RtlOptions ro;
    ro.arch_path = std::filesystem::path(arch.path).filename().string();
    ro.arch_hash = config::hex64(config::arch_hash(arch));
    ro.bug = o.bug;
    const std::vector<rtlgen::RtlFile> files = rtlgen::generate_pe_rtl(shape, ro);
    std::string all;
    for (const rtlgen::RtlFile& f : files) all += f.name + f.text;
    dir = cache + "/gen-" + config::hex64(config::fnv1a64(all)).substr(2);
    if (!std::filesystem::exists(dir + "/files.f")) rtlgen::write_rtl(dir, files);
  }
  if (rtl_dir) *rtl_dir = dir;
  return rtlgen::build_verilated_pe(dir, shape, !o.vcd.empty(), cache);
}

namespace {

/// What the run's coverage means for this PE: the modes the arch enables that
/// no output exercised become warnings, the ones that cannot occur notes.
void judge_coverage(const rtlgen::PeShape& shape, const std::vector<DotJob>& jobs,
                    const CosimOptions& o, CosimResult* r) {
  auto warn = [&](const std::string& s) { r->coverage_warnings.push_back(s); };
  auto note = [&](const std::string& s) { r->coverage_notes.push_back(s); };
  const int k = shape.lanes;
  const long double acc_max = std::ldexp(1.0L, shape.acc_bits - 1 - shape.frac_bits);
  // Output saturation: possible iff the accumulator reaches beyond the output's range.
  const double out_max = numeric::max_value(shape.fmt.out.format);
  if (!(acc_max > out_max))
    note("output saturation cannot occur: the accumulator's range is within the output's");
  else if (r->cover_saturated == 0)
    warn(std::string("no output saturated: the output overflow mode (") +
         numeric::to_string(shape.fmt.out.overflow) + ") was never exercised");
  // Accumulator overflow: possible iff the longest element can reach it.
  size_t longest = 0;
  for (const DotJob& j : jobs) longest = std::max(longest, j.terms.size());
  const uint64_t need = acc_overflow_terms(shape);
  if (need == 0 || longest + 1 < need)  // (the bias adds less than one product)
    note("accumulator overflow cannot occur: the longest element has " + std::to_string(longest) +
         " terms, overflowing " + std::to_string(shape.acc_bits) + " bits takes about " +
         std::to_string(need) + " terms" +
         (need > kMaxOverflowChunks * k ? " (too many to stream)" : ""));
  else if (r->cover_acc_ovf == 0)
    warn(std::string("the accumulator never overflowed: its overflow mode (") +
         numeric::to_string(shape.fmt.acc.overflow) + ") was never exercised");
  // Rounding ties: a rule of the nearest modes, reachable iff the output drops bits.
  const numeric::Rounding rm = shape.fmt.out.rounding;
  const bool nearest =
      rm == numeric::Rounding::nearest_even || rm == numeric::Rounding::nearest_away;
  const bool drops = shape.fmt.out.format.kind != numeric::FormatKind::fixed ||
                     shape.frac_bits > shape.fmt.out.format.fl;
  if (!nearest)
    note(std::string("rounding ties: the output rounding ") + numeric::to_string(rm) +
         " has no tie rule");
  else if (!drops)
    note(
        "rounding ties cannot occur: the output keeps every fractional bit of the accumulator "
        "(F = " +
        std::to_string(shape.frac_bits) +
        ", output FL = " + std::to_string(shape.fmt.out.format.fl) + ")");
  else if (r->cover_ties == 0)
    warn(std::string("no output was a rounding tie: ") + numeric::to_string(rm) +
         "'s tie rule was never exercised");
  // valid_i low inside an element.
  if (o.idle_rate <= 0)
    note("idle cycles: none requested (idle rate 0)");
  else if (longest <= static_cast<size_t>(k))
    note("idle cycles inside elements cannot occur: every element is one chunk");
  else if (r->cover_idle_elements == 0)
    warn(
        "no element had an idle cycle between its chunks: valid_i low inside an element was "
        "never exercised");
}

}  // namespace

namespace {

/// runtime_fl: what the PE's driver does with the configuration register:
/// cfg_fl_i carries the layer's FLs on every cycle, cfg_we_i is high on the
/// first cycle out of reset (reset clears the register; the pipeline is
/// empty then), unless `write` is false (the planted driver bug).
void program_runtime_fl(PeStream& st, uint32_t word, bool write) {
  bool after_reset = true;
  for (rtlgen::PeInputs& in : st.cycles) {
    in.cfg_fl = word;
    in.cfg_we = write && !in.reset && after_reset;
    after_reset = in.reset;
  }
}

/// The jobs of a real layer: every output element, its operand codes checked
/// against its shape first.
std::vector<DotJob> real_jobs(const LayerData& d) {
  const kernels::ConvShape& c = d.conv;
  if (const char* e = kernels::validate(c))
    throw std::invalid_argument("layer '" + d.name + "': " + e);
  const size_t n_in = size_t(c.c) * c.h * c.w, n_out = size_t(c.k) * c.oh * c.ow;
  if (c.n != 1 || d.in.size() != n_in || d.bias.size() != size_t(c.k) ||
      d.w.size() != size_t(c.k) * (c.c / c.groups) * c.kh * c.kw ||
      (!d.functional.empty() && d.functional.size() != n_out))
    throw std::invalid_argument("layer '" + d.name + "': operand codes do not fit its shape");
  return layer_jobs(c, d.in.data(), d.w.data(), d.bias.data());
}

/// Per-channel weights (LayerData::formats.weights.channel_fl): the layer as runs of
/// consecutive output channels of one weight FL, each a LayerData of its own with that FL.
/// The controller streams them as it streams layers, rewriting the configuration register
/// (its W field) between runs; a layer of one FL comes back whole.
std::vector<LayerData> channel_runs(const LayerData& d) {
  const std::vector<int>& fl = d.formats.weights.channel_fl;
  if (fl.empty()) return {d};
  const kernels::ConvShape& c = d.conv;
  if (fl.size() != size_t(c.k) || c.groups != 1)
    throw std::invalid_argument("layer '" + d.name +
                                "': per-channel weights need one FL per output channel and "
                                "groups 1 in co-simulation");
  const size_t depth = size_t(c.c) * c.kh * c.kw, ohw = size_t(c.oh) * c.ow;
  std::vector<LayerData> runs;
  for (int k0 = 0; k0 < c.k;) {
    int k1 = k0 + 1;
    while (k1 < c.k && fl[k1] == fl[k0]) ++k1;
    LayerData r = d;
    r.name = d.name + " channels " + std::to_string(k0) + ".." + std::to_string(k1 - 1) +
             " (W FL " + std::to_string(fl[k0]) + ")";
    r.formats.weights.channel_fl.clear();
    r.formats.weights.quantizer.format.fl = fl[k0];
    r.conv.k = k1 - k0;
    r.w.assign(d.w.begin() + k0 * depth, d.w.begin() + k1 * depth);
    r.bias.assign(d.bias.begin() + k0, d.bias.begin() + k1);
    if (!d.functional.empty())
      r.functional.assign(d.functional.begin() + k0 * ohw, d.functional.begin() + k1 * ohw);
    runs.push_back(std::move(r));
    k0 = k1;
  }
  return runs;
}

/// The label of a runtime_fl layer in reports.
std::string runtime_layer_name(size_t i, const std::array<int, 4>& fl) {
  return "runtime layer " + std::to_string(i) + " (FL " + std::to_string(fl[0]) + "," +
         std::to_string(fl[1]) + "," + std::to_string(fl[2]) + "," + std::to_string(fl[3]) + ")";
}

}  // namespace

CosimResult run_cosim(const config::Arch& arch, const CosimOptions& options) {
  CosimResult r;
  CosimOptions o = options;
  // Per-channel weights: every run of channels of one FL is streamed as a layer (runtime_fl
  // arches only: pe_formats() refuses the others).
  const bool per_channel =
      (o.real && !o.real->formats.weights.channel_fl.empty()) ||
      std::any_of(o.real_layers.begin(), o.real_layers.end(),
                  [](const LayerData& d) { return !d.formats.weights.channel_fl.empty(); });
  if (per_channel && arch.runtime_fl) {
    std::vector<LayerData> layers;
    for (const LayerData& d : o.real ? std::vector<LayerData>{*o.real} : o.real_layers)
      for (LayerData& r : channel_runs(d)) layers.push_back(std::move(r));
    o.real.reset();
    o.real_layers = std::move(layers);
  }
  std::string fl_source;
  o.dynamic_fl = resolve_dynamic_fl(options, &fl_source);
  if (!o.real) r.dynamic_fl = o.dynamic_fl + " (" + fl_source + ")";
  r.coverage_required = o.require_coverage;
  check_rtl_header(arch, o);
  const rtlgen::PeShape shape = cosim_shape(arch, o);
  const uint64_t layer_stream = o.real ? o.real->stream : o.stream;
  const bool several = !o.runtime_layers.empty() || !o.real_layers.empty();
  if (several && (!shape.runtime_fl || o.real || !o.conv.empty() ||
                  (!o.runtime_layers.empty() && !o.real_layers.empty())))
    throw std::invalid_argument(
        "several layers through one PE need an arch with runtime_fl: on, and either random "
        "layers (--runtime-fl) or real ones (--layer A,B,...), without --conv");
  // Every layer must fit the PE before anything runs (rtlgen::Unsupported).
  std::vector<rtlgen::PeShape> layer_shapes;
  std::vector<std::string> layer_names;
  for (size_t l = 0; l < o.runtime_layers.size(); ++l) {
    layer_shapes.push_back(rtlgen::runtime_layer_shape(shape, o.runtime_layers[l].data()));
    layer_names.push_back(runtime_layer_name(l, o.runtime_layers[l]));
  }
  for (const LayerData& d : o.real_layers) {
    layer_shapes.push_back(rtlgen::make_pe_shape(arch, &d.formats, "arch"));
    layer_names.push_back(d.name);
  }
  const auto t0 = Clock::now();
  r.library = prepare_rtl(arch, o, &r.rtl_dir);
  r.build_seconds = std::chrono::duration<double>(Clock::now() - t0).count();

  rtlgen::VerilatedPe rtl(r.library, shape, o.vcd);

  std::vector<DotJob> jobs;
  std::vector<Golden> gold;
  PeStream stream;
  StreamOptions so;
  so.idle_rate = o.idle_rate;
  so.reset_rate = o.reset_rate;
  std::vector<uint32_t> functional;  // the functional model's code of each job (real layers)
  std::vector<uint64_t> layer_end;   // several layers: jobs before the end of each
  auto add_golden = [&](const kernels::ExactLayerSpec& spec, const std::vector<DotJob>& js) {
    kernels::ExactDotTrace trace;
    for (const DotJob& j : js) {
      gold.push_back(golden(spec, j, &trace));
      r.cover_saturated += gold.back().sat;
      r.cover_acc_ovf += gold.back().acc_ovf;
      r.cover_ties += is_tie(spec, trace);
    }
  };
  auto add_stream = [&](const PeStream& st) {
    r.cover_idle_elements += st.idle_elements;
    r.cover_idle_inside += st.idle_inside;
    r.cover_idle_between += st.idle_between;
    r.cover_resets += st.resets;
    r.cover_reset_cycles += st.reset_cycles;
    r.cover_restreamed += st.restreamed;
    stream.cycles.insert(stream.cycles.end(), st.cycles.begin(), st.cycles.end());
  };
  if (several) {
    // One PE, several layers: each its own FLs, golden results and stream; the
    // register is rewritten between them (the previous layer has drained: its
    // stream ends with idle cycles) without a reset, so a stale value shows.
    for (size_t l = 0; l < layer_shapes.size(); ++l) {
      const rtlgen::PeShape& ls = layer_shapes[l];
      const LayerData* d = o.real_layers.empty() ? nullptr : &o.real_layers[l];
      const uint64_t sid = d ? d->stream : layer_stream;
      const kernels::ExactLayerSpec spec = exact_spec(ls, sid);
      const std::vector<DotJob> js = d ? real_jobs(*d) : make_jobs(ls, spec, o.vectors, o.seed + l);
      add_golden(spec, js);
      PeStream st = stream_jobs(ls, js, sid, o.seed + l, so);
      if (l > 0)
        for (rtlgen::PeInputs& in : st.cycles) {
          if (!in.reset) break;
          in.reset = false;  // the leading reset: idle cycles instead
          in.valid = false;
          --st.reset_cycles;
        }
      program_runtime_fl(st, rtlgen::runtime_fl_word(ls), l == 0 || !o.skip_cfg_write);
      add_stream(st);
      if (d && !d->functional.empty())
        for (const DotJob& j : js) functional.push_back(d->functional[j.index]);
      jobs.insert(jobs.end(), js.begin(), js.end());
      layer_end.push_back(jobs.size());
    }
    if (functional.size() != jobs.size()) functional.clear();
  } else {
    const kernels::ExactLayerSpec spec = exact_spec(shape, layer_stream);
    if (o.real) {
      jobs = real_jobs(*o.real);
      if (!o.real->functional.empty())
        for (const DotJob& j : jobs) functional.push_back(o.real->functional[j.index]);
    } else if (o.conv.empty()) {
      jobs = make_jobs(shape, spec, o.vectors, o.seed);
    } else {
      const kernels::ConvShape c = parse_conv_shape(o.conv);
      std::mt19937_64 rng(o.seed);
      std::vector<uint32_t> in(static_cast<size_t>(c.c) * c.h * c.w);
      std::vector<uint32_t> w(static_cast<size_t>(c.k) * c.c * c.kh * c.kw), b(c.k);
      for (uint32_t& x : in) x = random_finite_code(shape.fmt.act, rng);
      for (uint32_t& x : w) x = random_finite_code(shape.fmt.wt, rng);
      for (uint32_t& x : b) x = random_finite_code(shape.fmt.bias, rng);
      jobs = layer_jobs(c, in.data(), w.data(), b.data());
    }
    add_golden(spec, jobs);
    PeStream st = stream_jobs(shape, jobs, layer_stream, o.seed, so);
    // A runtime-FL PE runs this one layer with its own FLs, written as any layer's.
    if (shape.runtime_fl) program_runtime_fl(st, rtlgen::runtime_fl_word(shape), true);
    add_stream(st);
  }
  r.vectors = jobs.size();
  if (rtl.stopped()) {  // a parameter assertion fired while the model was built: nothing ran
    r.rtl_stop = rtl.stop_message();
    return r;
  }
  judge_coverage(shape, jobs, o, &r);
  PeHarness model(shape, "pe");

  // The SystemC side's waveform next to the RTL's: FILE.systemc.vcd.
  sc_core::sc_trace_file* tf = nullptr;
  if (!o.vcd.empty()) {
    tf = sc_core::sc_create_vcd_trace_file((o.vcd + ".systemc").c_str());
    PeModel& m = model.model();
    sc_core::sc_trace(tf, model.clk, "clk");
    sc_core::sc_trace(tf, model.valid, "valid_i");
    sc_core::sc_trace(tf, m.s1_valid, "s1_valid");
    sc_core::sc_trace(tf, m.s2_valid, "s2_valid");
    sc_core::sc_trace(tf, m.s2_sum, "s2_sum");
    sc_core::sc_trace(tf, m.s3_valid, "s3_valid");
    sc_core::sc_trace(tf, m.s3_acc, "s3_acc");
    sc_core::sc_trace(tf, model.valid_o, "valid_o");
    sc_core::sc_trace(tf, model.out_o, "out_o");
    sc_core::sc_trace(tf, model.sat_o, "sat_o");
    sc_core::sc_trace(tf, model.acc_ovf_o, "acc_ovf_o");
  }
  double sc_s = 0, rtl_s = 0;
  uint64_t next_job = 0;  // the job whose result is due next
  auto diverge = [&](uint64_t cycle, const char* port, const char* against, int width,
                     uint32_t expected, uint32_t actual) {
    ++r.mismatches;
    if (r.first.found) return;
    r.first.found = true;
    r.first.layer = o.real ? o.real->name : o.layer;
    for (size_t l = 0; l < layer_end.size(); ++l)
      if (next_job < layer_end[l]) {
        r.first.layer = layer_names[l];
        break;
      }
    r.first.output_index = next_job;
    r.first.cycle = cycle;
    r.first.port = port;
    r.first.against = against;
    r.first.width = width;
    r.first.expected = expected;
    r.first.actual = actual;
  };
  const int widths[4] = {1, shape.out_bits, 1, 1};
  for (uint64_t c = 0; c < stream.cycles.size(); ++c) {
    const rtlgen::PeInputs& in = stream.cycles[c];
    const auto a = Clock::now();
    const PeOutputs ms = model.cycle(in);
    const auto b = Clock::now();
    const PeOutputs mr = rtl.cycle(in);
    const auto e = Clock::now();
    sc_s += std::chrono::duration<double>(b - a).count();
    rtl_s += std::chrono::duration<double>(e - b).count();
    ++r.cycles;
    if (rtl.stopped()) {  // an assertion fired: the RTL's simulation is over
      r.rtl_stop = rtl.stop_message();
      r.rtl_stop_cycle = c;
      break;
    }
    // Every port, every cycle: the SystemC model is the expectation.
    for (int p = 0; p < 4; ++p) {
      const uint32_t x = rtlgen::output_port(ms, p), y = rtlgen::output_port(mr, p);
      if (x != y) diverge(c, rtlgen::kPeOutputPorts[p], "rtl vs systemc", widths[p], x, y);
    }
    if (in.reset) {  // in reset every output is 0 (docs/rtl.md), in both simulators
      const PeOutputs* sims[2] = {&ms, &mr};
      const char* names[2] = {"systemc vs reset (all outputs 0)", "rtl vs reset (all outputs 0)"};
      for (int k = 0; k < 2; ++k)
        for (int p = 0; p < 4; ++p)
          if (const uint32_t y = rtlgen::output_port(*sims[k], p); y != 0)
            diverge(c, rtlgen::kPeOutputPorts[p], names[k], widths[p], 0, y);
      continue;
    }
    // Streamed results against the golden model.
    if (ms.valid || mr.valid) {
      if (next_job >= gold.size()) {
        diverge(c, "valid_o", "systemc vs golden (an output nobody asked for)", 1, 0, 1);
        continue;
      }
      const Golden& g = gold[next_job];
      const PeOutputs* sims[2] = {&ms, &mr};
      const char* names[2] = {"systemc vs golden", "rtl vs golden"};
      for (int k = 0; k < 2; ++k) {
        const PeOutputs& s = *sims[k];
        if (!s.valid) continue;  // already reported as an rtl vs systemc difference
        if (s.out != g.out) diverge(c, "out_o", names[k], shape.out_bits, g.out, s.out);
        if (s.sat != g.sat) diverge(c, "sat_o", names[k], 1, g.sat, s.sat);
        if (s.acc_ovf != g.acc_ovf) diverge(c, "acc_ovf_o", names[k], 1, g.acc_ovf, s.acc_ovf);
      }
      // And against the functional model's own run of the layer.
      if (!functional.empty()) {
        const uint32_t f = functional[next_job];
        const char* fnames[2] = {"systemc vs functional", "rtl vs functional"};
        for (int k = 0; k < 2; ++k)
          if (sims[k]->valid && sims[k]->out != f)
            diverge(c, "out_o", fnames[k], shape.out_bits, f, sims[k]->out);
        ++r.functional_checked;
      }
      ++r.outputs;
      ++next_job;
    }
  }
  if (next_job != gold.size() && !r.first.found && r.rtl_stop.empty()) {
    diverge(r.cycles, "valid_o", "systemc vs golden (results missing)", 1, 1, 0);
  }
  if (tf) sc_core::sc_close_vcd_trace_file(tf);
  r.systemc_cycles_per_s = sc_s > 0 ? r.cycles / sc_s : 0;
  r.rtl_cycles_per_s = rtl_s > 0 ? r.cycles / rtl_s : 0;
  return r;
}

std::string coverage_text(const CosimResult& r) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "coverage: %llu saturated outputs, %llu accumulator overflows, %llu rounding ties; "
                "idle cycles: %llu inside elements (in %llu elements), %llu between; resets: %llu "
                "in mid-stream (%llu cycles in reset in all, %llu elements streamed again)\n",
                static_cast<unsigned long long>(r.cover_saturated),
                static_cast<unsigned long long>(r.cover_acc_ovf),
                static_cast<unsigned long long>(r.cover_ties),
                static_cast<unsigned long long>(r.cover_idle_inside),
                static_cast<unsigned long long>(r.cover_idle_elements),
                static_cast<unsigned long long>(r.cover_idle_between),
                static_cast<unsigned long long>(r.cover_resets),
                static_cast<unsigned long long>(r.cover_reset_cycles),
                static_cast<unsigned long long>(r.cover_restreamed));
  std::string t = buf;
  for (const std::string& n : r.coverage_notes) t += "coverage note: " + n + "\n";
  for (const std::string& w : r.coverage_warnings)
    t += std::string(r.coverage_required ? "COVERAGE FAIL" : "WARN") + " coverage: " + w + "\n";
  return t;
}

}  // namespace ristsim::cycle
