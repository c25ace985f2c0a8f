// The SystemC PE array on a whole layer of random codes: every converted
// output (and every partial sum leaving the array) equal to kernels/reference
// exact_dot(), and the simulated cycles and folds equal to the mapper's
// analytic count for the mapping the cost report uses (docs/array.md).
//
//   array_test ARCH.yaml layer=C,H,W,K,KH,KW,STRIDE,PAD [array=RxC] [df=os|ws|is]
//              [lanes=K] [acc_bits=A] [acc=wrap|saturate] [rounding=stochastic]
//              [mapper=0|1] [seed=N] [expect=sat,acc_ovf] [bad=forward|psum|stall]
//              [rtl=1 [cache=DIR] [rtl_bad=forward|psum]]
// rtl=1 runs the Verilated array RTL in lockstep (every column's south edge
// compared every cycle); rtl_bad plants a bug in a copy of the generated RTL.
// Prints the run's summary and "ARRAY PASS" or "ARRAY FAIL". With bad=..., a
// planted bug (in this test, not in the model): a PE that drops one forwarded
// operand, a PE that loses the partial sum entering a K fold, a controller
// that stalls one row's stream for a cycle inside a fold; the run must fail
// and the test prints "ARRAY BAD CAUGHT".
#include <cstdio>
#include <cstdlib>
#include <array>
#include <map>
#include <stdexcept>
#include <random>
#include <string>

#include "config/arch_yaml.h"
#include "cycle/array_run.h"
#include "cycle/stimulus.h"

using namespace ristsim;

namespace {

/// A PE that drops the operand it forwards east once (its 3rd valid one).
struct DroppingOsPe : cycle::OsPe {
  using OsPe::OsPe;
  int seen = 0;
  void forward(const cycle::EdgeWord& west, const cycle::EdgeWord& north) override {
    cycle::EdgeWord w = west;
    if (w.valid && ++seen == 3) w.valid = false;
    OsPe::forward(w, north);
  }
};
struct DroppingStationaryPe : cycle::StationaryPe {
  using StationaryPe::StationaryPe;
  int seen = 0;
  void forward(const cycle::EdgeWord& west) override {
    cycle::EdgeWord w = west;
    if (w.valid && ++seen == 3) w.valid = false;
    StationaryPe::forward(w);
  }
};
/// A top-row PE that takes the first partial sum entering a later K fold as zero.
struct PsumLosingPe : cycle::StationaryPe {
  using StationaryPe::StationaryPe;
  bool lost = false;
  cycle::PsumWord add_psum(const cycle::PsumWord& in, const cycle::PipeTag& tag,
                           int64_t sum) override {
    cycle::PsumWord x = in;
    if (x.valid && !x.first && !lost) x.first = true, lost = true;
    return StationaryPe::add_psum(x, tag, sum);
  }
};
/// A controller that holds row 0's stream back one cycle from the middle of
/// its operands in fold 1 on (a stall of one row inside a fold).
struct StallingController : cycle::ArrayController {
  using ArrayController::ArrayController;
  int fold = 0;
  void build_fold(const cycle::ArrayFold& f, std::vector<rtlgen::ArrayInputs>* in,
                  std::vector<cycle::ArraySlot>* slots) override {
    ArrayController::build_fold(f, in, slots);
    if (fold++ != 1) return;
    std::vector<size_t> valid;
    for (size_t i = 0; i < in->size(); ++i)
      if ((*in)[i].west[0].valid) valid.push_back(i);
    if (valid.empty()) return;
    const size_t from = valid[valid.size() / 2];
    for (size_t i = in->size() - 1; i > from; --i) (*in)[i].west[0] = (*in)[i - 1].west[0];
    (*in)[from].west[0] = idle().west[0];
  }
};

}  // namespace

extern "C" int sc_main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: array_test ARCH.yaml layer=C,H,W,K,KH,KW,STRIDE,PAD [key=value...]\n");
    return 2;
  }
  std::map<std::string, std::string> kv;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const size_t eq = a.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "array_test: expected key=value, not '%s'\n", argv[i]);
      return 2;
    }
    kv[a.substr(0, eq)] = a.substr(eq + 1);
  }
  config::Arch arch = config::load_arch(argv[1]);
  if (kv.count("array")) {
    int r = 0, c = 0;
    if (std::sscanf(kv["array"].c_str(), "%dx%d", &r, &c) != 2) return 2;
    arch.array.rows = r, arch.array.cols = c, arch.array.pes = r * c;
    arch.array.interconnect = config::Interconnect::systolic;
  }
  if (kv.count("df")) {
    const std::string d = kv["df"];
    arch.array.dataflow = d == "os"   ? config::Dataflow::output_stationary
                          : d == "ws" ? config::Dataflow::weight_stationary
                                      : config::Dataflow::input_stationary;
  }
  if (kv.count("lanes")) arch.array.lanes = std::atoi(kv["lanes"].c_str());
  if (kv.count("acc_bits")) arch.accumulator.bits = std::atoi(kv["acc_bits"].c_str());
  if (kv.count("acc"))
    arch.accumulator.overflow =
        kv["acc"] == "wrap" ? numeric::Overflow::wrap : numeric::Overflow::saturate;
  if (kv["rounding"] == "stochastic") {
    arch.formats.outputs.quantizer.rounding = numeric::Rounding::stochastic;
    arch.runtime_fl = false;
  }
  const rtlgen::PeShape shape = rtlgen::make_pe_shape(arch, nullptr, "auto");
  cycle::LayerData layer;
  layer.name = kv.count("name") ? kv["name"] : "layer";
  layer.conv = cycle::parse_conv_shape(kv["layer"]);
  layer.formats = arch.formats;
  layer.stream = 3;
  const kernels::ConvShape& c = layer.conv;
  std::mt19937_64 rng(kv.count("seed") ? std::strtoull(kv["seed"].c_str(), nullptr, 10) : 7);
  layer.in = cycle::random_codes(shape.fmt.act, size_t(c.c) * c.h * c.w, rng);
  layer.w = cycle::random_codes(shape.fmt.wt, size_t(c.k) * c.c * c.kh * c.kw, rng);
  layer.bias = cycle::random_codes(shape.fmt.bias, size_t(c.k), rng);

  cycle::ArrayRunOptions opt;
  opt.use_mapper = kv.count("mapper") ? kv["mapper"] != "0" : true;
  const std::string bad = kv.count("bad") ? kv["bad"] : "";
  if (bad == "forward") {
    opt.pes.os = [](const char* n, const rtlgen::PeShape& s, int r, int col) -> cycle::OsPe* {
      return r == 1 && col == 1 ? new DroppingOsPe(n, s, r, col) : new cycle::OsPe(n, s, r, col);
    };
    opt.pes.stationary = [](const char* n, const rtlgen::PeShape& s, bool ws, int r,
                            int col) -> cycle::StationaryPe* {
      return r == 1 && col == 1 ? new DroppingStationaryPe(n, s, ws, r, col)
                                : new cycle::StationaryPe(n, s, ws, r, col);
    };
  } else if (bad == "psum") {
    opt.pes.stationary = [](const char* n, const rtlgen::PeShape& s, bool ws, int r,
                            int col) -> cycle::StationaryPe* {
      return r == 0 && col == 1 ? new PsumLosingPe(n, s, ws, r, col)
                                : new cycle::StationaryPe(n, s, ws, r, col);
    };
  } else if (bad == "stall") {
    opt.controller = [](const rtlgen::PeShape& s, const cycle::ArrayGeometry& g,
                        const cycle::ArrayLayer& l, std::vector<cycle::ArrayTile> tiles) {
      return std::unique_ptr<cycle::ArrayController>(new StallingController(s, g, l, std::move(tiles)));
    };
  } else if (!bad.empty()) {
    std::fprintf(stderr, "array_test: bad=forward|psum|stall, not '%s'\n", bad.c_str());
    return 2;
  }
  std::unique_ptr<cycle::ArrayDut> rtl;
  const std::string rtl_bad = kv.count("rtl_bad") ? kv["rtl_bad"] : "";
  if (kv["rtl"] == "1") {
    cycle::ArrayRtlOptions ro;
    if (kv.count("cache")) ro.cache_root = kv["cache"];
    // A patched copy of the generated RTL (the bugs of testbench/cosim/array_rtl_test).
    std::vector<std::array<std::string, 3>> edits;
    if (rtl_bad == "forward")  // output stationary: the east forwarding register bypassed
      edits = {{"ristsim_os_cell.sv", "      e_code_o    <= '0;\n", ""},
               {"ristsim_os_cell.sv", "      e_code_o    <= w_code_i;\n", ""},
               {"ristsim_os_cell.sv", "  // The PE.\n",
                "  assign e_code_o = w_code_i;  // PLANTED BUG: forwarding register bypassed\n"
                "  // The PE.\n"}};
    else if (rtl_bad == "psum")  // weight/input stationary: the carried partial sum lost
      edits = {{"ristsim_ws_cell.sv",
                "assign base       = tree_tag[AccWidth+1] ? '0 : tree_tag[AccWidth-1:0];",
                "assign base       = '0;  // PLANTED BUG: the carried partial sum is lost"}};
    else if (!rtl_bad.empty())
      return std::fprintf(stderr, "array_test: rtl_bad=forward|psum\n"), 2;
    ro.edit = [edits](std::vector<rtlgen::RtlFile>& files) {
      for (const auto& e : edits) {
        bool done = false;
        for (rtlgen::RtlFile& f : files) {
          const size_t at = f.name == e[0] ? f.text.find(e[1]) : std::string::npos;
          if (at == std::string::npos) continue;
          f.text.replace(at, e[1].size(), e[2]);
          done = true;
        }
        if (!done) throw std::logic_error("planted edit matches nothing in " + e[0] + ": " + e[1]);
      }
    };
    double build = 0;
    rtl = cycle::make_array_rtl(cycle::array_rtl_shape(arch, shape), cycle::array_geometry(arch), ro,
                                &build);
    std::printf("array RTL built in %.1f s\n", build);
    opt.dut = rtl.get();
  }
  const cycle::ArrayRunResult r = cycle::run_array_layer(arch, shape, layer, opt);
  std::printf("%s", r.text().c_str());
  const uint64_t elements = uint64_t(c.k) * c.oh * c.ow;
  const bool all = r.stats.outputs == elements;
  if (!all)
    std::printf("converted outputs checked: %llu of %llu\n", (unsigned long long)r.stats.outputs,
                (unsigned long long)elements);
  bool pass = r.ok() && all && (!opt.use_mapper || r.mapped);
  // expect=sat,acc_ovf: the run must have reached these corners.
  const std::string expect = kv.count("expect") ? kv["expect"] : "";
  if (expect.find("sat") != std::string::npos && r.cover_sat == 0)
    std::printf("coverage: no output saturated\n"), pass = false;
  if (expect.find("acc_ovf") != std::string::npos && r.cover_acc_ovf == 0)
    std::printf("coverage: no accumulator overflowed\n"), pass = false;
  if (!bad.empty() || !rtl_bad.empty()) {
    std::printf(pass ? "ARRAY BAD MISSED: the planted bug went unnoticed\n" : "ARRAY BAD CAUGHT\n");
    return pass ? 1 : 0;
  }
  std::printf(pass ? "ARRAY PASS\n" : "ARRAY FAIL\n");
  return pass ? 0 : 1;
}
