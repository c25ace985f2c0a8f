// The RTL generator swept over a grid of widths, so that a class of width bug
// cannot hide between the shipped configs (issue 15). Each grid point is an
// arch file (written as YAML and read back by config::load_arch, so every
// point is valid under the schema); its PE is generated and must
//   - print every sized literal with a decimal width and a value that fits it,
//   - be clean under `verilator --lint-only -Wall` (any warning fails),
// and a seeded sample of the points plus every edge point is co-simulated
// (cosim_check: Verilated RTL vs SystemC vs golden model, bit and cycle exact).
//
// The grid: every value of each axis at least once, the other axes drawn from
// the seed: activation and weight widths 1..24 (fixed point; minifloats and
// powers of two among the draws), accumulator 2..62 bits (63 and 64 are valid
// arch files that `rtl` refuses: checked), output mantissa 0..23, every output
// rounding, overflow and specials mode, every alignment rounding, subnormals on
// and off; plus the edge points listed in edge_points().
//
//   rtl_grid list  [SEED]                  the points
//   rtl_grid lint  SHARD NSHARDS [SEED]    lint points i with i % NSHARDS == SHARD
//   rtl_grid cosim INDEX [SEED]            co-simulate cosim point INDEX
//   rtl_grid check_bad                     the two checks fail on planted defects
// SEED defaults to $RISTSIM_GRID_SEED, else 15; every failure prints it.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "config/arch_yaml.h"
#include "numeric/numeric.h"
#include "rtlgen/rtlgen.h"

namespace {

using namespace ristsim;
using numeric::Format;
using numeric::Rounding;

constexpr int kCosimRandom = 4;  // seeded sample of the grid, besides the edge points

const char* kRoundings[] = {"nearest_even", "nearest_away", "toward_zero", "down", "up",
                            "stochastic"};

/// SplitMix64: the draws of one seed are the same on every platform.
class Draw {
 public:
  explicit Draw(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int range(int lo, int hi) { return lo + static_cast<int>(next() % uint64_t(hi - lo + 1)); }
  bool coin() { return next() & 1; }

 private:
  uint64_t s_;
};

/// One number format of a grid point, as its YAML spec says it.
struct Spec {
  std::string type = "fixed";  // fixed, minifloat, pow2
  int bits = 8, fl = 7;        // fixed; pow2 uses bits
  int exp_bits = 4, mant_bits = 3, bias = 7;
  bool subnormals = false;
  std::string specials = "none";
  int exp_max = -1;
  bool zero_code = false;
  std::string rounding = "nearest_even", overflow = "saturate";
  int random_bits = 16;

  Format format() const {
    if (type == "fixed") return Format::fixed_point(bits, fl);
    if (type == "pow2") return Format::pow2(bits, exp_max, zero_code);
    const numeric::Specials sp = specials == "ieee" ? numeric::Specials::ieee
                                 : specials == "fn" ? numeric::Specials::fn
                                                    : numeric::Specials::none;
    return Format::minifloat(exp_bits, mant_bits, sp, subnormals, bias);
  }
  std::string yaml(bool policy) const {
    std::string y = "{type: " + type;
    if (type == "fixed") y += ", bits: " + std::to_string(bits) + ", fl: " + std::to_string(fl);
    if (type == "pow2")
      y += ", bits: " + std::to_string(bits) + ", exp_max: " + std::to_string(exp_max) +
           ", zero_code: " + (zero_code ? "on" : "off");
    if (type == "minifloat")
      y += ", exp_bits: " + std::to_string(exp_bits) + ", mant_bits: " + std::to_string(mant_bits) +
           ", bias: " + std::to_string(bias) + ", subnormals: " + (subnormals ? "on" : "off") +
           ", specials: " + specials;
    if (policy)
      y += ", rounding: " + rounding + ", overflow: " + overflow +
           ", random_bits: " + std::to_string(random_bits);
    return y + "}";
  }
};

struct Point {
  std::string name;
  Spec act, wt, bias, out;
  int acc_bits = 32;
  int frac_bits = 0;
  bool frac_auto = true;
  std::string acc_overflow = "saturate", align = "down";
  int lanes = 4, pipeline_every = 1;

  std::string yaml() const {
    std::string y = "# rtl_grid point " + name + "\nname: " + name + "\ndatapath: exact\nformats:\n";
    y += "  activations: " + act.yaml(false) + "\n";
    y += "  weights:     " + wt.yaml(false) + "\n";
    y += "  bias:        " + bias.yaml(false) + "\n";
    y += "  outputs:     " + out.yaml(true) + "\n";
    y += "accumulator: {bits: " + std::to_string(acc_bits) +
         ", frac_bits: " + (frac_auto ? std::string("auto") : std::to_string(frac_bits)) +
         ", overflow: " + acc_overflow + ", align_rounding: " + align + "}\n";
    y += "array: {pes: 1, lanes: " + std::to_string(lanes) +
         ", pipeline_every: " + std::to_string(pipeline_every) + "}\nseed: 7\n";
    return y;
  }
};

// ---- random parts of a point ------------------------------------------------

Spec random_operand(Draw& d, int max_bits) {
  Spec s;
  const int kind = d.range(0, 5);
  if (kind <= 3) {  // fixed point, the common case
    s.type = "fixed";
    s.bits = d.range(1, max_bits);
    s.fl = s.bits - 1 + d.range(-3, 3);
  } else if (kind == 4) {
    s.type = "minifloat";
    s.exp_bits = d.range(2, 4);
    s.mant_bits = d.range(0, std::min(7, max_bits - 1 - s.exp_bits));
    if (s.mant_bits < 0) s.mant_bits = 0;
    s.bias = Format::default_bias(s.exp_bits) + d.range(-2, 2);
    s.subnormals = d.coin();
    const int sp = d.range(0, 2);
    s.specials = sp == 0 ? "none" : sp == 1 ? "ieee" : "fn";
  } else {
    s.type = "pow2";
    s.bits = d.range(2, 6);
    s.exp_max = d.range(-4, 2);
    s.zero_code = d.coin();
  }
  return s;
}

/// The output spec's policy: a rounding, and an overflow mode valid for its type.
void random_policy(Draw& d, Spec* s) {
  s->rounding = kRoundings[d.range(0, 5)];
  s->random_bits = d.coin() ? 16 : d.range(1, 32);
  if (s->type == "fixed")
    s->overflow = d.coin() ? "saturate" : "wrap";
  else
    s->overflow = s->specials != "none" && d.coin() ? "special" : "saturate";
}

Spec random_output(Draw& d) {
  Spec s;
  if (d.range(0, 2) == 0) {
    s.type = "fixed";
    s.bits = d.range(1, 24);
    s.fl = s.bits - 2 + d.range(-4, 4);
  } else {
    s.type = "minifloat";
    s.exp_bits = d.range(2, 8);
    s.mant_bits = d.range(0, 23);
    if (1 + s.exp_bits + s.mant_bits > 32) s.mant_bits = 31 - s.exp_bits;
    s.subnormals = d.coin();
    const int sp = d.range(0, 2);
    s.specials = sp == 0 ? "none" : sp == 1 ? "ieee" : "fn";
    if (s.specials != "none" && s.exp_bits + s.mant_bits < 2) s.specials = "none";
  }
  random_policy(d, &s);
  return s;
}

/// Fills what depends on the operands: F, and the output's position relative
/// to the accumulator (so that rounding, saturation and the subnormal range
/// are all reachable by the co-simulation's stimulus).
void place(Draw& d, Point* p) {
  const numeric::FixedType prod = numeric::product_type(p->act.format(), p->wt.format());
  const int f = p->frac_auto ? prod.fl : prod.fl + d.range(-6, 3);
  if (!p->frac_auto) p->frac_bits = f;
  if (p->bias.type == "fixed") p->bias.fl = std::max(-8, std::min(f + d.range(-2, 2), 512));
  if (p->out.type == "fixed") {
    p->out.fl = f - d.range(0, std::max(1, p->acc_bits / 2));
  } else {
    // Put the smallest normal's msb (emin + F) somewhere in -4 .. A + 2.
    const int pn = d.range(-4, p->acc_bits + 2);
    p->out.bias = std::max(-256, std::min(512, 1 + f - pn));
  }
}

Point random_point(Draw& d, const std::string& name) {
  Point p;
  p.name = name;
  p.act = random_operand(d, 24);
  p.wt = random_operand(d, 24);
  p.bias = random_operand(d, 24);
  p.out = random_output(d);
  p.acc_bits = d.range(2, 62);
  p.frac_auto = d.coin();
  p.acc_overflow = d.coin() ? "saturate" : "wrap";
  p.align = kRoundings[d.range(0, 4)];
  const int lanes[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33};
  p.lanes = lanes[d.range(0, 10)];
  p.pipeline_every = d.range(0, 3);
  return p;
}

// ---- the grid ---------------------------------------------------------------

std::string grid_dir() { return std::string(RISTSIM_BINARY_DIR) + "/rtl_grid_out"; }

std::string point_path(const Point& p) { return grid_dir() + "/" + p.name + ".yaml"; }

/// Writes the point's arch file (for cosim_check, and for whoever reads a
/// failure). Atomically: ctest runs the shards and co-simulations in
/// parallel, and one may read a file another writes.
void write_point(const Point& p) {
  std::filesystem::create_directories(grid_dir());
  const std::string tmp = point_path(p) + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream os(tmp);
    os << p.yaml();
  }
  std::filesystem::rename(tmp, point_path(p));
}

/// A point as an arch (schema-checked by the arch reader), or throws.
config::Arch load_point(const Point& p) { return config::parse_arch(p.yaml(), point_path(p)); }

/// True if the point has a PE (a valid arch the hardware implements).
bool has_pe(const Point& p) {
  try {
    rtlgen::make_pe_shape(load_point(p), nullptr, "arch");
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

/// A point from `edit` applied to random draws, redrawn until it has a PE.
template <class Edit>
Point drawn(Draw& d, const std::string& name, Edit edit) {
  for (int tries = 0; tries < 200; ++tries) {
    Point p = random_point(d, name);
    edit(p);
    place(d, &p);
    if (has_pe(p)) return p;
  }
  std::fprintf(stderr, "rtl_grid: no valid point for %s in 200 draws\n", name.c_str());
  std::exit(2);
}

/// The edge points: the issue's failing cases, the narrowest and widest
/// widths, 1 and 256 lanes. Each must have a PE.
std::vector<Point> edge_points() {
  std::vector<Point> v;
  auto fixed = [](int bits, int fl) {
    Spec s;
    s.bits = bits;
    s.fl = fl;
    return s;
  };
  auto mini = [](int e, int m, const char* sp, bool sub, const char* ovf, const char* rnd) {
    Spec s;
    s.type = "minifloat";
    s.exp_bits = e;
    s.mant_bits = m;
    s.bias = Format::default_bias(e);
    s.specials = sp;
    s.subnormals = sub;
    s.overflow = ovf;
    s.rounding = rnd;
    return s;
  };
  auto base = [&](const std::string& name) {
    Point p;
    p.name = name;
    p.act = fixed(8, 7);
    p.wt = fixed(8, 7);
    p.bias = fixed(16, 14);
    p.out = fixed(8, 6);
    return p;
  };
  // binary16 outputs exactly as docs/arch.md writes them, overflow to infinity:
  // integer operands, so that sums reach binary16's maximum 65504.
  Point p = base("edge_binary16_special");
  p.act = fixed(8, 0);
  p.wt = fixed(8, 0);
  p.bias = fixed(16, 0);
  p.out = mini(5, 10, "ieee", true, "special", "nearest_even");
  p.acc_bits = 24;
  v.push_back(p);
  // E8M8 with NaN-only specials, overflow special; bias 240 puts its maximum
  // (about 2^15) within the accumulator's reach.
  p = base("edge_e8m8_fn_special");
  p.act = fixed(8, 0);
  p.wt = fixed(8, 0);
  p.bias = fixed(16, 0);
  p.out = mini(8, 8, "fn", false, "special", "nearest_away");
  p.out.bias = 240;
  p.acc_bits = 32;
  v.push_back(p);
  // E5M10 outputs from accumulators narrower than the mantissa (8 and 10 bits) and wider (16).
  for (int a : {8, 10, 16}) {
    p = base("edge_e5m10_acc" + std::to_string(a));
    p.act = fixed(4, 3);
    p.wt = fixed(4, 3);
    p.out = mini(5, 10, "ieee", true, "saturate", a == 10 ? "stochastic" : "nearest_even");
    p.acc_bits = a;
    v.push_back(p);
  }
  // The narrowest datapath: 1-bit operands, a 2-bit accumulator, a 1-bit output.
  p = base("edge_narrowest");
  p.act = fixed(1, 0);
  p.wt = fixed(1, 0);
  p.bias = fixed(1, 0);
  p.out = fixed(1, 0);
  p.acc_bits = 2;
  p.lanes = 1;
  v.push_back(p);
  // The widest operands: 24 x 24 bits into a 62-bit accumulator, 1 lane, E8M23 outputs.
  p = base("edge_widest");
  p.act = fixed(24, 23);
  p.wt = fixed(24, 23);
  p.bias = fixed(32, 30);
  p.out = mini(8, 23, "ieee", true, "special", "up");
  p.acc_bits = 62;
  p.lanes = 1;
  v.push_back(p);
  // 256 lanes, no tree register; E2M0 outputs below the accumulator's range.
  p = base("edge_256_lanes");
  p.lanes = 256;
  p.pipeline_every = 0;
  p.out = mini(2, 0, "none", true, "saturate", "down");
  p.acc_bits = 30;
  v.push_back(p);
  return v;
}

std::vector<Point> lint_grid(uint64_t seed) {
  Draw d(seed);
  std::vector<Point> v = edge_points();
  for (int b = 1; b <= 24; ++b)
    v.push_back(drawn(d, "act_bits" + std::to_string(b), [&](Point& p) {
      p.act = Spec();
      p.act.bits = b;
      p.act.fl = b - 1;
    }));
  for (int b = 1; b <= 24; ++b)
    v.push_back(drawn(d, "wgt_bits" + std::to_string(b), [&](Point& p) {
      p.wt = Spec();
      p.wt.bits = b;
      p.wt.fl = b - 1;
    }));
  for (int a = 2; a <= 62; ++a)
    v.push_back(drawn(d, "acc_bits" + std::to_string(a), [&](Point& p) { p.acc_bits = a; }));
  for (int m = 0; m <= 23; ++m)
    v.push_back(drawn(d, "out_mant" + std::to_string(m), [&](Point& p) {
      if (p.out.type != "minifloat") {
        p.out.type = "minifloat";
        p.out.specials = "none";
        random_policy(d, &p.out);
      }
      p.out.mant_bits = m;
      p.out.exp_bits = std::min(p.out.exp_bits, 31 - m);
    }));
  // Every output rounding x every overflow mode and specials; every alignment rounding.
  for (const char* rnd : kRoundings) {
    for (const char* ovf : {"saturate", "wrap"})
      v.push_back(drawn(d, std::string("fixed_") + rnd + "_" + ovf, [&](Point& p) {
        p.out = Spec();
        p.out.bits = d.range(2, 16);
        p.out.rounding = rnd;
        p.out.overflow = ovf;
      }));
    for (const char* sp : {"none", "ieee", "fn"})
      for (const char* ovf : {"saturate", "special"}) {
        if (std::string(sp) == "none" && std::string(ovf) == "special") continue;
        for (bool sub : {false, true})
          v.push_back(drawn(d, std::string("mini_") + rnd + "_" + sp + "_" + ovf + (sub ? "_sub" : ""),
                            [&](Point& p) {
                              if (p.out.type != "minifloat") p.out = random_output(d);
                              while (p.out.type != "minifloat") p.out = random_output(d);
                              p.out.specials = sp;
                              p.out.subnormals = sub;
                              p.out.rounding = rnd;
                              p.out.overflow = ovf;
                            }));
      }
  }
  for (int i = 0; i < 5; ++i)
    v.push_back(drawn(d, std::string("align_") + kRoundings[i], [&](Point& p) {
      p.align = kRoundings[i];
      p.frac_auto = false;
    }));
  return v;
}

/// The points co-simulated: every edge point, then kCosimRandom drawn from the grid.
std::vector<Point> cosim_points(uint64_t seed) {
  std::vector<Point> v = edge_points();
  const std::vector<Point> grid = lint_grid(seed);
  Draw d(seed ^ 0xC05117ull);
  const size_t first = v.size();
  for (int i = 0; i < kCosimRandom; ++i) v.push_back(grid[first + d.next() % (grid.size() - first)]);
  return v;
}

// ---- checks -----------------------------------------------------------------

/// Every sized literal W'[bdh]V: W decimal, V fits W bits.
std::string check_literals(const std::vector<rtlgen::RtlFile>& files) {
  static const std::regex kLit(R"(([0-9A-Za-z_]*)'([bdh])([0-9a-fA-F_]+))");
  for (const rtlgen::RtlFile& f : files) {
    for (auto it = std::sregex_iterator(f.text.begin(), f.text.end(), kLit);
         it != std::sregex_iterator(); ++it) {
      const std::string w = (*it)[1], base = (*it)[2], val = (*it)[3];
      // A comment's apostrophe ("product's") is not a literal: only W of digits counts.
      if (w.empty() || w.find_first_not_of("0123456789") != std::string::npos) {
        if (!w.empty() && std::isdigit(static_cast<unsigned char>(w[0])))
          return f.name + ": literal width not decimal: " + it->str();
        continue;
      }
      const int width = std::stoi(w);
      const int radix = base == "b" ? 2 : base == "d" ? 10 : 16;
      unsigned long long v = 0;
      try {
        v = std::stoull(val, nullptr, radix);
      } catch (const std::exception&) {
        return f.name + ": literal out of range: " + it->str();
      }
      if (width < 1 || (width < 64 && (v >> width) != 0))
        return f.name + ": literal does not fit its width: " + it->str();
    }
    // A width printed in hex ("f'h7bff") starts with a letter and is caught above only
    // when preceded by a non-identifier character; look for it explicitly too.
    static const std::regex kHexWidth(R"([^0-9A-Za-z_][a-f]+'[bdh][0-9a-f])");
    std::smatch m;
    if (std::regex_search(f.text, m, kHexWidth)) return f.name + ": literal width in hex: " + m.str();
  }
  return "";
}

/// Lints one PE's files with -Wall in `dir`: 0 when clean.
int lint_files(const std::string& dir, const std::vector<rtlgen::RtlFile>& files) {
  std::filesystem::remove_all(dir);
  rtlgen::write_rtl(dir, files);
  std::string cmd = "cd '" + dir + "' && verilator --lint-only -Wall --top-module ristsim_pe";
  for (const rtlgen::RtlFile& f : files)
    if (f.name != "files.f") cmd += " " + f.name;
  cmd += " > lint.log 2>&1";
  return std::system(cmd.c_str());
}

/// The two checks must fail on planted defects: a width printed in hex, a
/// value wider than its width, and a width mismatch that only lint sees.
int check_bad() {
  const std::vector<rtlgen::RtlFile> good = rtlgen::generate_pe_rtl(load_point(edge_points()[0]));
  int failed = 0;
  const std::pair<std::string, std::string> plants[] = {
      {"64'd1", "f'd1"},   // a width printed in hex (issue 15's `f'h7bff`)
      {"64'd1", "4'd23"},  // a constant truncated by its width
  };
  for (const auto& [from, to] : plants) {
    std::vector<rtlgen::RtlFile> files = good;
    bool planted = false;
    for (rtlgen::RtlFile& f : files) {
      const size_t at = f.text.find(from);
      if (at != std::string::npos && !planted) {
        f.text.replace(at, from.size(), to);
        planted = true;
      }
    }
    if (!planted || check_literals(files).empty()) {
      std::printf("FAIL: the literal check missed '%s'\n", to.c_str());
      ++failed;
    } else {
      std::printf("literal check caught '%s': %s\n", to.c_str(), check_literals(files).c_str());
    }
  }
  std::vector<rtlgen::RtlFile> files = good;
  for (rtlgen::RtlFile& f : files)
    if (f.name == "ristsim_accumulator.sv") {
      const std::string from = "assign ovf_o   = ovf_q;";
      const size_t at = f.text.find(from);
      if (at != std::string::npos) f.text.replace(at, from.size(), "assign ovf_o   = acc_q;");
    }
  if (lint_files(grid_dir() + "/check_bad", files) == 0) {
    std::printf("FAIL: lint missed a width mismatch\n");
    ++failed;
  }
  std::printf("%s\n", failed ? "CHECK_BAD FAIL" : "CHECK_BAD PASS");
  return failed ? 1 : 0;
}

int lint_point(const Point& p, uint64_t seed) {
  write_point(p);
  const config::Arch arch = load_point(p);
  std::vector<rtlgen::RtlFile> files;
  try {
    files = rtlgen::generate_pe_rtl(arch);
  } catch (const std::exception& e) {
    std::printf("FAIL %s (seed %llu): generator: %s\n", p.name.c_str(), (unsigned long long)seed,
                e.what());
    return 1;
  }
  const std::string lit = check_literals(files);
  if (!lit.empty()) {
    std::printf("FAIL %s (seed %llu): %s\n", p.name.c_str(), (unsigned long long)seed, lit.c_str());
    return 1;
  }
  const std::string dir = grid_dir() + "/" + p.name;
  if (lint_files(dir, files) != 0) {
    std::printf("FAIL %s (seed %llu): verilator --lint-only -Wall: see %s/lint.log (arch %s)\n",
                p.name.c_str(), (unsigned long long)seed, dir.c_str(), point_path(p).c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "list";
  auto seed_arg = [&](int i) -> uint64_t {
    if (argc > i) return std::strtoull(argv[i], nullptr, 10);
    if (const char* e = std::getenv("RISTSIM_GRID_SEED")) return std::strtoull(e, nullptr, 10);
    return 15;
  };
  if (mode == "list") {
    const uint64_t seed = seed_arg(2);
    const std::vector<Point> g = lint_grid(seed);
    for (const Point& p : g) std::printf("%s\n", p.yaml().c_str());
    std::printf("%zu lint points, %zu cosim points (seed %llu)\n", g.size(),
                cosim_points(seed).size(), (unsigned long long)seed);
    return 0;
  }
  if (mode == "check_bad") return check_bad();
  if (mode == "lint" && argc >= 4) {
    const int shard = std::atoi(argv[2]), shards = std::atoi(argv[3]);
    const uint64_t seed = seed_arg(4);
    const std::vector<Point> g = lint_grid(seed);
    int failed = 0, done = 0;
    for (size_t i = 0; i < g.size(); ++i)
      if (static_cast<int>(i % shards) == shard) {
        failed += lint_point(g[i], seed);
        ++done;
      }
    // Widths the schema allows but the PE refuses (the models hold registers in int64).
    if (shard == 0) {
      for (int a : {63, 64}) {
        Point p = edge_points()[0];
        p.name = "acc_bits" + std::to_string(a) + "_refused";
        p.acc_bits = a;
        try {
          rtlgen::generate_pe_rtl(load_point(p));
          std::printf("FAIL %s: a %d-bit accumulator should be refused\n", p.name.c_str(), a);
          ++failed;
        } catch (const rtlgen::Unsupported&) {
        }
      }
    }
    std::printf("rtl_grid lint shard %d/%d (seed %llu): %d points, %d failed\n%s\n", shard, shards,
                (unsigned long long)seed, done, failed, failed ? "GRID FAIL" : "GRID PASS");
    return failed ? 1 : 0;
  }
  if (mode == "cosim" && argc >= 3) {
    const int index = std::atoi(argv[2]);
    const uint64_t seed = seed_arg(3);
    const std::vector<Point> c = cosim_points(seed);
    if (c.size() != RISTSIM_GRID_COSIM_POINTS) {
      std::printf("rtl_grid: %zu cosim points, CMakeLists.txt says %d\n", c.size(),
                  RISTSIM_GRID_COSIM_POINTS);
      return 2;
    }
    if (index < 0 || index >= static_cast<int>(c.size())) {
      std::printf("no cosim point %d (%zu points)\n", index, c.size());
      return 2;
    }
    const Point& p = c[index];
    write_point(p);
    const std::string path = point_path(p);
    std::printf("rtl_grid cosim point %d: %s (seed %llu), %s\n", index, p.name.c_str(),
                (unsigned long long)seed, path.c_str());
    std::fflush(stdout);
    const std::string cmd = std::string(RISTSIM_COSIM_CHECK) + " '" + path + "' 300 " +
                            std::to_string(seed) + " none arch";
    const int rc = std::system(cmd.c_str());
    if (rc != 0) std::printf("FAIL %s (seed %llu)\n", p.name.c_str(), (unsigned long long)seed);
    return rc == 0 ? 0 : 1;
  }
  std::fprintf(stderr, "usage: rtl_grid list [SEED] | lint SHARD NSHARDS [SEED] | cosim INDEX [SEED]\n");
  return 2;
}
