// Lockstep co-simulation of the SystemC PE model and the Verilated RTL (cosim.h).
#include "cycle/cosim.h"

#include <chrono>
#include <deque>
#include <filesystem>
#include <random>

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
/// the dynamic fractional lengths of options.dynamic_fl.
rtlgen::PeShape cosim_shape(const config::Arch& arch, const CosimOptions& o) {
  if (o.real) return rtlgen::make_pe_shape(arch, &o.real->formats, "arch");
  return rtlgen::make_pe_shape(arch, nullptr, o.dynamic_fl);
}

}  // namespace

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

CosimResult run_cosim(const config::Arch& arch, const CosimOptions& o) {
  CosimResult r;
  const rtlgen::PeShape shape = cosim_shape(arch, o);
  const uint64_t layer_stream = o.real ? o.real->stream : o.stream;
  const auto t0 = Clock::now();
  r.library = prepare_rtl(arch, o, &r.rtl_dir);
  r.build_seconds = std::chrono::duration<double>(Clock::now() - t0).count();

  rtlgen::VerilatedPe rtl(r.library, shape, o.vcd);
  PeHarness model(shape, "pe");

  const kernels::ExactLayerSpec spec = exact_spec(shape, layer_stream);
  std::vector<DotJob> jobs;
  const std::vector<uint32_t>* functional = nullptr;
  if (o.real) {
    const LayerData& d = *o.real;
    const kernels::ConvShape& c = d.conv;
    if (const char* e = kernels::validate(c))
      throw std::invalid_argument("layer '" + d.name + "': " + e);
    const size_t n_in = size_t(c.c) * c.h * c.w, n_out = size_t(c.k) * c.oh * c.ow;
    if (c.n != 1 || d.in.size() != n_in || d.bias.size() != size_t(c.k) ||
        d.w.size() != size_t(c.k) * (c.c / c.groups) * c.kh * c.kw ||
        (!d.functional.empty() && d.functional.size() != n_out))
      throw std::invalid_argument("layer '" + d.name + "': operand codes do not fit its shape");
    jobs = layer_jobs(c, d.in.data(), d.w.data(), d.bias.data());
    if (!d.functional.empty()) functional = &d.functional;
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
  std::vector<Golden> gold;
  gold.reserve(jobs.size());
  for (const DotJob& j : jobs) {
    gold.push_back(golden(spec, j));
    r.cover_saturated += gold.back().sat;
    r.cover_acc_ovf += gold.back().acc_ovf;
    r.cover_ties += std::string(j.kind) == "tie";
  }
  const PeStream stream = stream_jobs(shape, jobs, layer_stream, o.seed);
  r.vectors = jobs.size();

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
  rtl.reset();
  model.reset();
  double sc_s = 0, rtl_s = 0;
  uint64_t next_job = 0;  // the job whose result is due next
  auto diverge = [&](uint64_t cycle, const char* port, const char* against, int width,
                     uint32_t expected, uint32_t actual) {
    ++r.mismatches;
    if (r.first.found) return;
    r.first.found = true;
    r.first.layer = o.real ? o.real->name : o.layer;
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
    // Every port, every cycle: the SystemC model is the expectation.
    for (int p = 0; p < 4; ++p) {
      const uint32_t x = rtlgen::output_port(ms, p), y = rtlgen::output_port(mr, p);
      if (x != y) diverge(c, rtlgen::kPeOutputPorts[p], "rtl vs systemc", widths[p], x, y);
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
      if (functional) {
        const uint32_t f = (*functional)[jobs[next_job].index];
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
  if (next_job != gold.size() && !r.first.found) {
    diverge(r.cycles, "valid_o", "systemc vs golden (results missing)", 1, 1, 0);
  }
  if (tf) sc_core::sc_close_vcd_trace_file(tf);
  r.systemc_cycles_per_s = sc_s > 0 ? r.cycles / sc_s : 0;
  r.rtl_cycles_per_s = rtl_s > 0 ? r.cycles / rtl_s : 0;
  return r;
}

}  // namespace ristsim::cycle
