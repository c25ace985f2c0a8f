// The RTL generator without simulation: deterministic output, headers that
// record the arch, widths from growth.h, and `verilator --lint-only -Wall`
// clean for every shipped arch (and the lint check itself shown to fail on a
// planted width error).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "config/arch_yaml.h"
#include "config/describe.h"
#include "rtlgen/rtlgen.h"

using namespace ristsim;

namespace {

const char* kArches[] = {"dynfixed8", "dynfixed4", "fixed16", "minifloat8", "pow2_4", "e4m3"};

config::Arch load(const std::string& name) {
  return config::load_arch(std::string(RISTSIM_SOURCE_DIR) + "/configs/" + name + ".yaml");
}

std::string tmpdir(const std::string& leaf) {
  const std::string d = std::string(RISTSIM_BINARY_DIR) + "/rtlgen_out/" + leaf;
  std::filesystem::remove_all(d);
  return d;
}

int lint(const std::string& dir, const std::vector<rtlgen::RtlFile>& files,
         const std::string& top = "ristsim_pe") {
  std::string cmd = "cd '" + dir + "' && verilator --lint-only -Wall --top-module " + top;
  for (const rtlgen::RtlFile& f : files)
    if (f.name != "files.f") cmd += " " + f.name;
  cmd += " > lint.log 2>&1";
  return std::system(cmd.c_str());
}

std::string file_text(const std::vector<rtlgen::RtlFile>& files, const std::string& name) {
  for (const rtlgen::RtlFile& f : files)
    if (f.name == name) return f.text;
  return "";
}

}  // namespace

TEST(RtlGen, deterministic_and_records_the_arch) {
  for (const char* name : kArches) {
    const config::Arch a = load(name);
    const auto f1 = rtlgen::generate_pe_rtl(a);
    const auto f2 = rtlgen::generate_pe_rtl(a);
    ASSERT_EQ(f1.size(), f2.size()) << name;
    for (size_t i = 0; i < f1.size(); ++i) EXPECT_EQ(f1[i].text, f2[i].text) << f1[i].name;
    const std::string hash = config::hex64(config::arch_hash(a));
    for (const rtlgen::RtlFile& f : f1) {
      if (f.name == "files.f") continue;
      EXPECT_NE(f.text.find("arch '" + a.name + "'"), std::string::npos) << f.name;
      EXPECT_NE(f.text.find(hash), std::string::npos) << f.name;
      EXPECT_NE(f.text.find("module " + f.name.substr(0, f.name.size() - 3)), std::string::npos)
          << "one module per file, named as the file: " << f.name;
    }
  }
}

TEST(RtlGen, same_bytes_from_any_working_directory) {
  const auto abs = rtlgen::generate_pe_rtl(load("dynfixed8"));
  const std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(RISTSIM_SOURCE_DIR);
  const auto rel = rtlgen::generate_pe_rtl(config::load_arch("configs/dynfixed8.yaml"));
  std::filesystem::current_path(cwd);
  ASSERT_EQ(abs.size(), rel.size());
  for (size_t i = 0; i < abs.size(); ++i) EXPECT_EQ(abs[i].text, rel[i].text) << abs[i].name;
}

TEST(RtlGen, widths_come_from_growth_rules) {
  const rtlgen::PeShape s = rtlgen::make_pe_shape(load("dynfixed8"), nullptr, "auto");
  // fixed<8,7> x fixed<8,7> = fixed<16,14>; 16 lanes add 4 bits.
  EXPECT_EQ(s.product.bits, 16);
  EXPECT_EQ(s.product.fl, 14);
  EXPECT_EQ(s.aligned.bits, 16);
  EXPECT_EQ(s.tree_levels, 4);
  EXPECT_EQ(s.tree_sum.bits, 20);
  EXPECT_EQ(s.latency(), 7);
  // The top passes growth.h's widths; the library derives the tree's itself.
  const auto files = rtlgen::generate_pe_rtl(load("dynfixed8"), rtlgen::PlantedBug::none, "auto");
  const std::string top = file_text(files, "ristsim_pe.sv");
  EXPECT_NE(top.find(".ProdWidth      (16)"), std::string::npos) << top;
  EXPECT_NE(top.find(".ProdShift      (0)"), std::string::npos);
  EXPECT_NE(top.find(".AlignWidth     (16)"), std::string::npos);
  EXPECT_EQ(top.find("SumWidth"), std::string::npos) << "the tree's width is the library's";
  const std::string tree = file_text(files, "ristsim_adder_tree.sv");
  EXPECT_NE(tree.find("localparam int unsigned SumWidth = InWidth + Levels;"), std::string::npos);
  // The copies carry this PE's defaults (each block synthesizes alone).
  EXPECT_NE(tree.find("parameter int unsigned InWidth   = 16,"), std::string::npos);
  EXPECT_NE(
      file_text(files, "ristsim_accumulator.sv").find("parameter int unsigned SumWidth = 20,"),
      std::string::npos);
  // E4M3 x E4M3: exactly_fixed is fixed<19,9>; 448^2 * 2^18 < 2^36, so the product is
  // fixed<37,18> (product_type of the formats), not 19 + 19 bits.
  const rtlgen::PeShape e = rtlgen::make_pe_shape(load("e4m3"));
  EXPECT_EQ(e.product.bits, 37);
  EXPECT_EQ(e.product.fl, 18);
}

TEST(RtlGen, lint_clean_for_every_shipped_arch) {
  for (const char* name : kArches) {
    for (const char* fl : {"arch", "auto"}) {
      const auto files = rtlgen::generate_pe_rtl(load(name), rtlgen::PlantedBug::none, fl);
      const std::string dir = tmpdir(std::string(name) + "_" + fl);
      rtlgen::write_rtl(dir, files);
      EXPECT_EQ(lint(dir, files), 0) << name << " (" << fl << "): see " << dir << "/lint.log";
    }
  }
}

// The RTL must also read into yosys (the cost model synthesizes it), whose
// SystemVerilog support is narrower than Verilator's.
TEST(RtlGen, yosys_reads_every_shipped_arch) {
  if (std::system("command -v yosys > /dev/null 2>&1") != 0) GTEST_SKIP() << "no yosys";
  for (const char* name : kArches) {
    const auto files = rtlgen::generate_pe_rtl(load(name), rtlgen::PlantedBug::none, "auto");
    const std::string dir = tmpdir(std::string("yosys_") + name);
    rtlgen::write_rtl(dir, files);
    std::string cmd = "cd '" + dir + "' && yosys -q -p 'read_verilog -sv";
    for (const rtlgen::RtlFile& f : files)
      if (f.name != "files.f") cmd += " " + f.name;
    cmd += "; hierarchy -check -top ristsim_pe; proc' > yosys.log 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << name << ": see " << dir << "/yosys.log";
  }
}

// Every assertion is simulation-only: inside `ifndef SYNTHESIS ... `endif (the
// parameter checks, and the adder tree's reference check).
TEST(RtlGen, assertions_inside_ifndef_synthesis) {
  for (const char* name : kArches) {
    for (const rtlgen::RtlFile& f : rtlgen::generate_pe_rtl(load(name))) {
      if (f.name == "files.f") continue;
      size_t at = 0;
      int asserts = 0;
      while ((at = f.text.find("assert (", at)) != std::string::npos) {
        const size_t guard = f.text.rfind("`ifndef SYNTHESIS\n", at);
        ASSERT_NE(guard, std::string::npos) << f.name << ": assert outside `ifndef SYNTHESIS";
        const size_t endif = f.text.rfind("`endif", at);
        EXPECT_TRUE(endif == std::string::npos || endif < guard)
            << f.name << ": assert after `endif";
        EXPECT_LT(f.text.find("`endif\n", at), f.text.find("endmodule", at)) << f.name;
        ++at;
        ++asserts;
      }
      size_t blocks = 0;
      for (at = 0; (at = f.text.find("initial begin : p_assert", at)) != std::string::npos; ++at)
        ++blocks;
      EXPECT_EQ(blocks, 1u) << f.name << ": one parameter-assertion block per module";
      EXPECT_GE(asserts, 1) << f.name;
      EXPECT_EQ(f.text.find("int'("), std::string::npos) << f.name;
    }
  }
}

// ... and that check must be able to fail: a packed 2-D array, which yosys 0.23 rejects.
TEST(RtlGen, yosys_check_bad) {
  if (std::system("command -v yosys > /dev/null 2>&1") != 0) GTEST_SKIP() << "no yosys";
  auto files = rtlgen::generate_pe_rtl(load("dynfixed8"));
  for (rtlgen::RtlFile& f : files)
    if (f.name == "ristsim_accumulator.sv") {
      const size_t at = f.text.find("  logic [AccWidth-1:0] acc_d, acc_q;");
      ASSERT_NE(at, std::string::npos);
      f.text.insert(at, "  logic [1:0][3:0] planted_2d;\n  assign planted_2d = '0;\n");
    }
  const std::string dir = tmpdir("yosys_bad");
  rtlgen::write_rtl(dir, files);
  std::string cmd = "cd '" + dir + "' && yosys -q -p 'read_verilog -sv";
  for (const rtlgen::RtlFile& f : files)
    if (f.name != "files.f") cmd += " " + f.name;
  cmd += "; hierarchy -check -top ristsim_pe; proc' > yosys.log 2>&1";
  EXPECT_NE(std::system(cmd.c_str()), 0);
}

// The lint check must be able to fail: a module with a width error.
TEST(RtlGen, lint_check_bad) {
  auto files = rtlgen::generate_pe_rtl(load("dynfixed8"));
  for (rtlgen::RtlFile& f : files)
    if (f.name == "ristsim_accumulator.sv") {
      const std::string from = "assign ovf_o   = ovf_q;";
      const size_t at = f.text.find(from);
      ASSERT_NE(at, std::string::npos);
      f.text.replace(at, from.size(), "assign ovf_o   = acc_q;  // planted: width mismatch");
    }
  const std::string dir = tmpdir("bad");
  rtlgen::write_rtl(dir, files);
  EXPECT_NE(lint(dir, files), 0);
}

TEST(RtlGen, refuses_what_has_no_hardware) {
  config::Arch a = load("dynfixed8");
  a.formats.outputs.quantizer.format = numeric::Format::pow2(4, 0);
  EXPECT_THROW(rtlgen::generate_pe_rtl(a), rtlgen::Unsupported);
  a = load("dynfixed8");
  a.datapath = config::Datapath::float32;
  EXPECT_THROW(rtlgen::generate_pe_rtl(a), rtlgen::Unsupported);
}

// Issue 15: every sized literal comes from verilog_literal(): a decimal width,
// and a value that fits it (a truncated constant throws instead of printing).
TEST(RtlGen, literal_printer) {
  EXPECT_EQ(rtlgen::verilog_literal(15, 0x7bff, true), "15'h7bff");
  EXPECT_EQ(rtlgen::verilog_literal(16, 0xfeff, true), "16'hfeff");
  EXPECT_EQ(rtlgen::verilog_literal(10, 1023), "10'd1023");
  EXPECT_EQ(rtlgen::verilog_literal(1, 0), "1'b0");
  EXPECT_EQ(rtlgen::verilog_literal(64, ~uint64_t{0}, true), "64'hffffffffffffffff");
  EXPECT_THROW(rtlgen::verilog_literal(4, 23), std::logic_error);
  EXPECT_THROW(rtlgen::verilog_literal(10, 1024), std::logic_error);
  EXPECT_THROW(rtlgen::verilog_literal(0, 0), std::logic_error);
}

namespace {

/// dynfixed8 with its outputs replaced by a minifloat, on an accumulator of `acc_bits`.
config::Arch minifloat_out(int e, int m, numeric::Specials sp, numeric::Overflow ovf,
                           int acc_bits) {
  config::Arch a = load("dynfixed8");
  a.formats.outputs.quantizer.format = numeric::Format::minifloat(e, m, sp, true);
  a.formats.outputs.quantizer.overflow = ovf;
  a.formats.outputs.dynamic = false;
  a.accumulator.bits = acc_bits;
  return a;
}

}  // namespace

// Issue 15: binary16 (as docs/arch.md writes it) and E8M8 outputs with
// overflow special printed the width of the overflow constants in hex
// (`f'h7bff`, `10'hfeff`), which does not compile.
TEST(RtlGen, minifloat_special_outputs_compile) {
  struct Case {
    int e, m;
    const char* inf;
    const char* max;
  } cases[] = {{5, 10, "(31744)", "(31743)"},
               {8, 8, "(65280)", "(65279)"}};  // 7c00 7bff, ff00 feff
  for (const Case& k : cases) {
    const auto files = rtlgen::generate_pe_rtl(
        minifloat_out(k.e, k.m, numeric::Specials::ieee, numeric::Overflow::special, 32));
    const std::string top = file_text(files, "ristsim_pe.sv");
    EXPECT_NE(top.find(std::string(".OutSpecialMag  ") + k.inf), std::string::npos)
        << "E" << k.e << "M" << k.m << top;
    EXPECT_NE(top.find(std::string(".OutMaxMag      ") + k.max), std::string::npos);
    const std::string dir = tmpdir("special_e" + std::to_string(k.e) + "m" + std::to_string(k.m));
    rtlgen::write_rtl(dir, files);
    EXPECT_EQ(lint(dir, files), 0) << "see " << dir << "/lint.log";
  }
}

// Issue 15: an output mantissa wider than the accumulator kept the normalized
// significand in an accumulator-wide register and lost its top bit (E5M10 from
// an 8-bit accumulator differed from SystemC); it is M + 1 bits wide now
// (ristsim_out_minifloat's t_norm), and lints for these widths.
// (The co-simulation of this case: rtlgen_grid_cosim_* edge_e5m10_acc8.)
TEST(RtlGen, mantissa_wider_than_the_accumulator) {
  for (int acc : {8, 10, 16}) {
    const auto files = rtlgen::generate_pe_rtl(
        minifloat_out(5, 10, numeric::Specials::ieee, numeric::Overflow::saturate, acc));
    EXPECT_NE(file_text(files, "ristsim_out_minifloat.sv").find("logic [M:0] t_norm;"),
              std::string::npos)
        << acc;
    EXPECT_NE(file_text(files, "ristsim_pe.sv").find(".OutMantBits    (10)"), std::string::npos);
    const std::string dir = tmpdir("e5m10_acc" + std::to_string(acc));
    rtlgen::write_rtl(dir, files);
    EXPECT_EQ(lint(dir, files), 0) << "see " << dir << "/lint.log";
  }
}

// The generator only chooses parameters: every file but the top is a library
// file of rtl/ with its header and, for the blocks, parameter defaults changed;
// no other line differs.
TEST(RtlGen, library_copied_verbatim) {
  for (const char* name : kArches) {
    const auto files = rtlgen::generate_pe_rtl(load(name));
    int copied = 0;
    for (const rtlgen::RtlFile& f : files) {
      if (f.name == "files.f" || f.name == "ristsim_pe.sv") continue;
      std::ifstream is(std::string(RISTSIM_SOURCE_DIR) + "/rtl/" + f.name);
      ASSERT_TRUE(is.good()) << f.name << " is not in rtl/";
      std::stringstream ss;
      ss << is.rdbuf();
      const std::string lib = ss.str();
      const size_t body = f.text.find("\n\n") + 2;  // the header ends at the first blank line
      std::istringstream a(f.text.substr(body)), b(lib);
      std::string la, lb;
      int lines = 0;
      while (std::getline(b, lb)) {
        ASSERT_TRUE(static_cast<bool>(std::getline(a, la))) << f.name;
        if (la != lb) EXPECT_NE(la.find("parameter "), std::string::npos) << f.name << ": " << la;
        ++lines;
      }
      EXPECT_FALSE(static_cast<bool>(std::getline(a, la))) << f.name << ": extra lines";
      EXPECT_GT(lines, 20) << f.name;
      ++copied;
    }
    EXPECT_GE(copied, 13) << name;
  }
}

// Each planted bug edits the library copies (tests only); every edit must
// still find its text in rtl/, or the *_bad test would pass for a wrong reason.
TEST(RtlGen, planted_bugs_find_their_text) {
  for (const char* name : {"dynfixed8", "e4m3", "minifloat8", "pow2_4"})
    for (rtlgen::PlantedBug bug :
         {rtlgen::PlantedBug::tree_narrow, rtlgen::PlantedBug::truncate,
          rtlgen::PlantedBug::no_saturate, rtlgen::PlantedBug::drop_lane}) {
      const auto good = rtlgen::generate_pe_rtl(load(name));
      const auto bad = rtlgen::generate_pe_rtl(load(name), bug);
      ASSERT_EQ(good.size(), bad.size());
      int differ = 0;
      for (size_t i = 0; i < good.size(); ++i) {
        if (good[i].name == "files.f") continue;
        const size_t gb = good[i].text.find("\n\n"), bb = bad[i].text.find("\n\n");
        if (good[i].text.substr(gb) != bad[i].text.substr(bb)) ++differ;
      }
      EXPECT_GE(differ, 1) << name << " " << rtlgen::to_string(bug);
    }
}

// runtime_fl: the top gets the configuration ports and passes them to the core;
// without it the core's are tied off and the top has none (the --rtl contract).
TEST(RtlGen, runtime_fl_ports_and_lint) {
  const config::Arch a = config::load_arch(std::string(RISTSIM_SOURCE_DIR) +
                                           "/testbench/cosim/arch/dynfixed8_runtime_fl.yaml");
  ASSERT_TRUE(a.runtime_fl);
  const auto files = rtlgen::generate_pe_rtl(a);
  const std::string top = file_text(files, "ristsim_pe.sv");
  EXPECT_NE(top.find("input  logic [31:0]                  cfg_fl_i,"), std::string::npos) << top;
  EXPECT_NE(top.find(".cfg_fl_i  (cfg_fl_i)"), std::string::npos);
  EXPECT_NE(top.find(".RuntimeFl      (1'b1)"), std::string::npos);
  // The output stage's defaults are this PE's too (it synthesizes alone for the cost check).
  EXPECT_NE(file_text(files, "ristsim_output_stage.sv")
                .find("parameter bit          RuntimeFl     = 1'b1,"),
            std::string::npos);
  const std::string dir = tmpdir("runtime_fl");
  rtlgen::write_rtl(dir, files);
  EXPECT_EQ(lint(dir, files), 0) << "see " << dir << "/lint.log";
  const std::string plain = file_text(rtlgen::generate_pe_rtl(load("dynfixed8")), "ristsim_pe.sv");
  EXPECT_EQ(plain.find("input  logic [31:0]                  cfg_fl_i"), std::string::npos);
  EXPECT_NE(plain.find(".cfg_we_i  (1'b0)"), std::string::npos);
  // A runtime-FL PE refuses what its run-time shifts cannot do.
  config::Arch st = a;
  st.formats.outputs.quantizer.rounding = numeric::Rounding::stochastic;
  EXPECT_THROW(rtlgen::generate_pe_rtl(st), rtlgen::Unsupported);
  const int too_far[4] = {7, 7, 200, 5};  // not an 8-bit FL
  EXPECT_THROW(rtlgen::runtime_layer_shape(rtlgen::make_pe_shape(a), too_far), rtlgen::Unsupported);
}

// A systolic arch of more than one PE also gets the array top (ristsim_array:
// rtl/ristsim_pe_array.sv with the arch's rows, columns and dataflow), which is
// `verilator --lint-only -Wall` clean for the three dataflows; a 1 x 1 arch
// gets the PE top only.
TEST(RtlGen, array_top_lint_clean) {
  for (const char* name : kArches)
    EXPECT_EQ(file_text(rtlgen::generate_pe_rtl(load(name)), "ristsim_array.sv"), "") << name;
  for (const char* name : {"systolic16x16_ws", "os16x16", "input_stationary"}) {
    config::Arch a = load(std::string(name) == "input_stationary" ? "systolic16x16_ws" : name);
    if (std::string(name) == "input_stationary") {
      a.array.dataflow = config::Dataflow::input_stationary;
      a.array.rows = 3;  // not square
      a.array.cols = 5;
    }
    const auto files = rtlgen::generate_pe_rtl(a);
    const std::string top = file_text(files, "ristsim_array.sv");
    ASSERT_NE(top, "") << name;
    EXPECT_NE(top.find(".Rows           (" + std::to_string(a.array.rows) + ")"), std::string::npos)
        << top;
    const std::string dir = tmpdir(std::string("array_") + name);
    rtlgen::write_rtl(dir, files);
    EXPECT_EQ(lint(dir, files, "ristsim_array"), 0) << name << ": see " << dir << "/lint.log";
    EXPECT_EQ(lint(dir, files), 0) << name << ": the PE top still lints";
  }
}
