// The array RTL (rtl/ristsim_pe_array.sv through the generated ristsim_array
// top), Verilated and stepped on hand-built folds that follow docs/array.md
// cycle by cycle: a small GEMM (M pixels x Kt terms times Kt x N weights)
// mapped onto R x C PEs, every south port of every column compared in every
// cycle with what the contract says, the converted outputs computed by
// kernels/reference exact_dot(). Planted bugs (*_bad) are text edits of a
// copy of the generated RTL, made here, never a production option.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "array_bugs.h"
#include "config/arch_yaml.h"
#include "kernels/reference/exact_layer.h"
#include "rtlgen/array_io.h"
#include "rtlgen/pe_shape.h"
#include "rtlgen/rtlgen.h"
#include "rtlgen/verilated_array.h"

using namespace ristsim;
using config::Dataflow;
using rtlgen::ArrayInputs;
using rtlgen::ArrayOutputs;
using rtlgen::ArraySouth;

namespace {

/// One test case: the arch's PE (formats, runtime_fl) with `lanes` lanes, an
/// R x C array, and a GEMM of M pixels, N channels and Kt terms per output.
struct Case {
  std::string arch = "systolic16x16_ws";
  int lanes = 1, pipeline_every = 1;
  int rows = 2, cols = 2;
  Dataflow dataflow = Dataflow::output_stationary;
  int m = 2, n = 2, kt = 1;
  uint64_t seed = 1;
};

/// The operands and the expected results of a case.
struct Gemm {
  std::vector<uint32_t> act;   ///< M x Kt activation codes (pixel-major)
  std::vector<uint32_t> wgt;   ///< N x Kt weight codes (channel-major)
  std::vector<uint32_t> bias;  ///< N bias codes
};

class ArrayRun {
 public:
  ArrayRun(const Case& c, const std::vector<planted::RtlEdit>& edits, const std::string& leaf) : c_(c) {
    const config::Arch arch = config::load_arch(std::string(RISTSIM_SOURCE_DIR) + "/configs/" +
                                                c.arch + ".yaml");
    rtlgen::PeFormats f = rtlgen::pe_formats(arch, arch.formats, "arch");
    shape_ = rtlgen::make_pe_shape(f, c.lanes, c.pipeline_every, arch.name);
    shape_.runtime_fl = arch.runtime_fl;
    dims_.rows = c.rows;
    dims_.cols = c.cols;
    dims_.dataflow = c.dataflow;
    rtlgen::RtlOptions o;
    o.array = dims_;
    std::vector<rtlgen::RtlFile> files = rtlgen::generate_pe_rtl(shape_, o);
    planted::apply_edits(files, edits);
    const std::string dir = std::string(RISTSIM_BINARY_DIR) + "/array_rtl/" + leaf;
    std::filesystem::remove_all(dir);
    rtlgen::write_rtl(dir, files);
    const std::string so = rtlgen::build_verilated_array(
        dir, shape_, dims_, false, std::string(RISTSIM_BINARY_DIR) + "/array-rtl-cache");
    rtl_ = std::make_unique<rtlgen::VerilatedArray>(so, shape_, dims_);
    spec_.act.format = shape_.fmt.act;
    spec_.wt.format = shape_.fmt.wt;
    spec_.bias.format = shape_.fmt.bias;
    spec_.out = shape_.fmt.out;
    spec_.acc = shape_.fmt.acc;
    spec_.lanes = shape_.lanes;
    spec_.stream = 0;
    spec_.has_bias = true;
    std::mt19937_64 rng(c.seed);
    auto code = [&](int bits) { return static_cast<uint32_t>(rng() & ((1u << bits) - 1)); };
    g_.act.resize(static_cast<size_t>(c.m * c.kt));
    g_.wgt.resize(static_cast<size_t>(c.n * c.kt));
    g_.bias.resize(static_cast<size_t>(c.n));
    for (uint32_t& x : g_.act) x = code(shape_.act_bits);
    for (uint32_t& x : g_.wgt) x = code(shape_.wt_bits);
    for (uint32_t& x : g_.bias) x = code(shape_.bias_bits) >> 4;  // keep most sums in range
  }

  int latency() const { return shape_.latency(); }
  int chunks() const { return (c_.kt + shape_.lanes - 1) / shape_.lanes; }

  /// exact_dot() of output (pixel m, channel n) over the terms of the first
  /// `chunks` chunks; with `psum`: the partial sum and its sticky overflow
  /// instead of the converted output (non-final K folds).
  ArraySouth expected(int m, int n, int upto_chunk, bool final) const {
    const bool real = m < c_.m && n < c_.n;
    std::vector<kernels::ExactTerm> terms;
    for (int k = 0; k < c_.kt && k < upto_chunk * shape_.lanes; ++k)
      terms.push_back({real ? g_.act[static_cast<size_t>(m * c_.kt + k)] : 0u,
                       real ? g_.wgt[static_cast<size_t>(n * c_.kt + k)] : 0u, false});
    kernels::ExactStats st;
    kernels::ExactDotTrace tr;
    const uint32_t bias = real ? g_.bias[static_cast<size_t>(n)] : 0u;
    const uint64_t index = real ? static_cast<uint64_t>(n) * c_.m + m : 0;
    const uint32_t out =
        kernels::exact_dot(spec_, terms.data(), terms.size(), bias, index, &st, &tr);
    ArraySouth s;
    if (final) {
      s.valid = true;
      s.out = out;
      s.sat = st.out_saturations > 0;
      s.acc_ovf = st.acc_overflows > 0;
    } else {
      s.psum_valid = true;
      s.psum = tr.acc_after.empty() ? 0 : tr.acc_after.back();
      int64_t acc = 0;
      for (size_t i = 0; i < tr.acc_after.size(); ++i) {  // sticky: some chunk overflowed
        if (tr.acc_after[i] != (i == 0 ? 0 : acc) + tr.chunk_sums[i]) s.psum_ovf = true;
        acc = tr.acc_after[i];
      }
    }
    return s;
  }

  /// The lanes of chunk q of a row of `codes` (Kt per row): codes and enables.
  void chunk(const std::vector<uint32_t>& codes, int row, bool real, int q,
             std::vector<uint8_t>* en, std::vector<uint32_t>* code) const {
    en->assign(static_cast<size_t>(shape_.lanes), 0);
    code->assign(static_cast<size_t>(shape_.lanes), 0);
    for (int i = 0; i < shape_.lanes; ++i) {
      const int k = q * shape_.lanes + i;
      if (!real || k >= c_.kt) continue;
      (*en)[i] = 1;
      (*code)[i] = codes[static_cast<size_t>(row * c_.kt + k)];
    }
  }

  ArrayInputs idle() const {
    ArrayInputs in;
    in.west.resize(static_cast<size_t>(c_.rows));
    in.north.resize(static_cast<size_t>(c_.cols));
    in.south.resize(static_cast<size_t>(c_.cols));
    for (auto& w : in.west) w.lane_en.assign(static_cast<size_t>(shape_.lanes), 0);
    for (auto& n : in.north) n.lane_en.assign(static_cast<size_t>(shape_.lanes), 0);
    in.seed = 1;
    in.cfg_fl = rtlgen::runtime_fl_word(shape_);
    return in;
  }

  /// Runs the case from reset (cycles 0, 1 reset; 2 idle with cfg_we; fold 0 at
  /// cycle 3) and compares every column's south ports every cycle. Returns ""
  /// or the first divergence.
  std::string run() {
    std::vector<ArrayInputs> in;
    std::vector<std::vector<ArraySouth>> want;
    auto at = [&](size_t cyc) -> ArrayInputs& {
      while (in.size() <= cyc) {
        in.push_back(idle());
        want.emplace_back(static_cast<size_t>(c_.cols));
      }
      return in[cyc];
    };
    at(0).reset = at(1).reset = true;
    at(2).cfg_we = shape_.runtime_fl;
    const int R = c_.rows, C = c_.cols, L = latency();
    const int s0 = 3;
    // The carried partial sums of WS/IS K folds, read back from the RTL.
    std::vector<ArraySouth> carried;
    if (c_.dataflow == Dataflow::output_stationary) {
      const int T = chunks();
      const int F = 2 * R + C + T + L - 3;
      for (int r = 0; r < R; ++r)
        for (int t = 0; t < T; ++t) {
          auto& w = at(static_cast<size_t>(s0 + t + r)).west[static_cast<size_t>(r)];
          const bool real = r < c_.m;
          w.valid = real;
          w.first = t == 0;
          w.last = t == T - 1;
          w.index = real ? static_cast<uint64_t>(r) : 0;
          chunk(g_.act, r, real, t, &w.lane_en, &w.code);
        }
      for (int col = 0; col < C; ++col)
        for (int t = 0; t < T; ++t) {
          auto& n = at(static_cast<size_t>(s0 + t + col)).north[static_cast<size_t>(col)];
          const bool real = col < c_.n;
          n.valid = real;
          n.bias = real ? g_.bias[static_cast<size_t>(col)] : 0;
          n.index = real ? static_cast<uint64_t>(col) * c_.m : 0;
          chunk(g_.wgt, col, real, t, &n.lane_en, &n.code);
        }
      for (int col = 0; col < C; ++col)
        for (int j = 0; j < R; ++j) {
          const int r = R - 1 - j;
          const size_t y = static_cast<size_t>(s0 + T + R + col + L - 2 + j);
          at(y);
          if (r < c_.m && col < c_.n) want[y][static_cast<size_t>(col)] = expected(r, col, T, true);
        }
      at(static_cast<size_t>(s0 + F + 2));
      EXPECT_EQ(static_cast<size_t>(s0 + T + R + (C - 1) + L - 2 + R - 1),
                static_cast<size_t>(s0 + F - 1))
          << "the last output is in cycle s + F - 1";
    } else {
      // Weight stationary: stationary = weights (N channels on the columns),
      // streamed = activations (M pixels). Input stationary: the roles swapped.
      const bool ws = c_.dataflow == Dataflow::weight_stationary;
      const std::vector<uint32_t>& stat = ws ? g_.wgt : g_.act;
      const std::vector<uint32_t>& str = ws ? g_.act : g_.wgt;
      const int stat_n = ws ? c_.n : c_.m, T = ws ? c_.m : c_.n;
      const int folds = (chunks() + R - 1) / R;
      const int F = 2 * R + C + T + L - 3;
      EXPECT_LE(stat_n, C) << "one column fold";
      carried.assign(static_cast<size_t>(T * C), ArraySouth{});
      for (int f = 0; f < folds; ++f) {
        const int s = s0 + f * F;
        for (int col = 0; col < C; ++col) {
          for (int j = 0; j < R; ++j) {
            auto& n = at(static_cast<size_t>(s + j)).north[static_cast<size_t>(col)];
            n.valid = true;
            const int q = f * R + (R - 1 - j);
            chunk(stat, col, col < stat_n && q < chunks(), q, &n.lane_en, &n.code);
          }
        }
        for (int e = 0; e < T; ++e) {
          for (int r = 0; r < R; ++r) {
            auto& w = at(static_cast<size_t>(s + R + e + r)).west[static_cast<size_t>(r)];
            w.valid = true;
            const int q = f * R + r;
            chunk(str, e, q < chunks(), q, &w.lane_en, &w.code);
          }
          for (int col = 0; col < C; ++col) {
            const int m = ws ? e : col, n = ws ? col : e;
            const bool real = col < stat_n;
            auto& nn = at(static_cast<size_t>(s + R + e + col)).north[static_cast<size_t>(col)];
            nn.psum_first = f == 0;
            const size_t y = static_cast<size_t>(s + 2 * R + e + col + L - 2);
            auto& sc = at(y).south[static_cast<size_t>(col)];
            sc.last = f == folds - 1;
            sc.bias = real ? g_.bias[static_cast<size_t>(n)] : 0;
            sc.index = real ? static_cast<uint64_t>(n) * c_.m + m : 0;
            want[y][static_cast<size_t>(col)] =
                expected(real ? m : c_.m, real ? n : c_.n, std::min((f + 1) * R, chunks()),
                         f == folds - 1);
            if (f > 0)  // the partial sum fold f - 1 left (read back from the RTL)
              psum_slot_.push_back({static_cast<size_t>(s + R + e + col), col, e});
          }
        }
      }
      at(static_cast<size_t>(s0 + folds * F + 2));
    }
    // Run, feeding the carried partial sums back as the controller would.
    rtl_->reset();
    for (size_t cyc = 0; cyc < in.size(); ++cyc) {
      for (const PsumSlot& p : psum_slot_)
        if (p.cycle == cyc) {
          const ArraySouth& got = carried[static_cast<size_t>(p.elem * c_.cols + p.col)];
          auto& n = in[cyc].north[static_cast<size_t>(p.col)];
          n.psum = got.psum;
          n.psum_ovf = got.psum_ovf;
        }
      const ArrayOutputs out = rtl_->cycle(in[cyc]);
      if (rtl_->stopped()) return "RTL STOPPED at cycle " + std::to_string(cyc) + ": " +
                                  rtl_->stop_message();
      for (int col = 0; col < c_.cols; ++col) {
        const ArraySouth& g = out.south[static_cast<size_t>(col)];
        const ArraySouth& w = want[cyc][static_cast<size_t>(col)];
        if (g.psum_valid && c_.dataflow != Dataflow::output_stationary) {
          // element e of column col: the cycle tells which (y = s + 2R + e + col + L - 2)
          const int F = 2 * c_.rows + c_.cols + (c_.dataflow == Dataflow::weight_stationary
                                                     ? c_.m : c_.n) + latency() - 3;
          const int rel = static_cast<int>(cyc) - 3;
          const int e = rel % F - 2 * c_.rows - col - latency() + 2;
          if (e >= 0) carried[static_cast<size_t>(e * c_.cols + col)] = g;
        }
        if (g != w) {
          std::ostringstream os;
          os << "FIRST DIVERGENCE cycle " << cyc << " column " << col << ": rtl valid " << g.valid
             << " out " << g.out << " sat " << g.sat << " acc_ovf " << g.acc_ovf << " psum_valid "
             << g.psum_valid << " psum " << g.psum << " psum_ovf " << g.psum_ovf
             << "; expected valid " << w.valid << " out " << w.out << " sat " << w.sat
             << " acc_ovf " << w.acc_ovf << " psum_valid " << w.psum_valid << " psum " << w.psum
             << " psum_ovf " << w.psum_ovf;
          return os.str();
        }
        converted_ += g.valid ? 1 : 0;
        partial_ += g.psum_valid ? 1 : 0;
      }
    }
    return "";
  }

  int converted() const { return converted_; }
  int partial() const { return partial_; }

 private:
  struct PsumSlot {
    size_t cycle;
    int col, elem;
  };
  Case c_;
  rtlgen::PeShape shape_;
  rtlgen::ArrayDims dims_;
  kernels::ExactLayerSpec spec_{};
  Gemm g_;
  std::unique_ptr<rtlgen::VerilatedArray> rtl_;
  std::vector<PsumSlot> psum_slot_;
  int converted_ = 0, partial_ = 0;
};

std::string run_case(const Case& c, const std::string& leaf, const std::vector<planted::RtlEdit>& edits = {},
                     int* converted = nullptr, int* partial = nullptr) {
  ArrayRun r(c, edits, leaf);
  const std::string e = r.run();
  if (converted) *converted = r.converted();
  if (partial) *partial = r.partial();
  return e;
}

Case os_2x2() {
  Case c;
  c.dataflow = Dataflow::output_stationary;
  c.kt = 5;  // five chunks of one lane
  return c;
}

Case ws_2x2() {
  Case c;
  c.dataflow = Dataflow::weight_stationary;
  c.kt = 2;  // two chunks: one K fold on two rows
  c.m = 3;   // three streamed pixels
  return c;
}

}  // namespace

// A 2 x 2 output-stationary fold, K = 1, five chunks; every output where and
// when docs/array.md says, equal to exact_dot().
TEST(ArrayRtl, os_2x2_fold) {
  int conv = 0;
  EXPECT_EQ(run_case(os_2x2(), "os_2x2", {}, &conv), "");
  EXPECT_EQ(conv, 4);
}

// A 2 x 2 weight-stationary fold, K = 1, two chunks, three pixels.
TEST(ArrayRtl, ws_2x2_fold) {
  int conv = 0;
  EXPECT_EQ(run_case(ws_2x2(), "ws_2x2", {}, &conv), "");
  EXPECT_EQ(conv, 6);
}

// Padding: a 3 x 2 OS array with 2 pixels and 1 channel (a padded row and a
// padded column), 4 lanes with a short last chunk, a pipelined tree.
TEST(ArrayRtl, os_padded_lanes4) {
  Case c = os_2x2();
  c.rows = 3;
  c.m = 2;
  c.n = 1;
  c.lanes = 4;
  c.kt = 7;
  int conv = 0;
  EXPECT_EQ(run_case(c, "os_pad4", {}, &conv), "");
  EXPECT_EQ(conv, 2);
}

// Weight stationary over two K folds (the partial sums leave at the south and
// come back at the north, psum_first = 0), 2 lanes, a padded column.
TEST(ArrayRtl, ws_two_k_folds) {
  Case c = ws_2x2();
  c.lanes = 2;
  c.kt = 7;  // 4 chunks on 2 rows: 2 K folds
  c.n = 1;
  c.m = 3;
  int conv = 0, part = 0;
  EXPECT_EQ(run_case(c, "ws_kfold", {}, &conv, &part), "");
  EXPECT_EQ(conv, 6);  // 3 pixels x 2 columns (one padded)
  EXPECT_EQ(part, 6);
}

// Input stationary: pixels on the columns, weights streamed.
TEST(ArrayRtl, is_2x2_two_k_folds) {
  Case c = ws_2x2();
  c.dataflow = Dataflow::input_stationary;
  c.kt = 3;
  c.m = 2;
  c.n = 3;
  int conv = 0, part = 0;
  EXPECT_EQ(run_case(c, "is_kfold", {}, &conv, &part), "");
  EXPECT_EQ(conv, 6);
  EXPECT_EQ(part, 6);
}

// Planted: the east forwarding register of the activation codes bypassed
// (a dropped forward): PE(r, 1) multiplies the chunk one cycle early.
TEST(ArrayRtl, os_dropped_forward_bad) {
  const std::string e = run_case(os_2x2(), "os_fwd_bad", planted::array_bug("forward"));
  std::cout << e << "\n";
  EXPECT_NE(e.find("FIRST DIVERGENCE"), std::string::npos);
}

// Planted: a wrong stall, the streamed operand's valid delayed one cycle in
// every weight-stationary cell.
TEST(ArrayRtl, ws_valid_delayed_bad) {
  const std::string e = run_case(ws_2x2(), "ws_stall_bad", planted::array_bug("stall"));
  std::cout << e << "\n";
  EXPECT_NE(e.find("FIRST DIVERGENCE"), std::string::npos);
}

// Planted: the partial sum of the earlier K fold lost at the fold boundary
// (the top row always starts from 0, as if psum_first were always set).
TEST(ArrayRtl, ws_psum_lost_bad) {
  Case c = ws_2x2();
  c.kt = 4;  // two K folds
  const std::string e = run_case(c, "ws_psum_bad", planted::array_bug("psum"));
  std::cout << e << "\n";
  EXPECT_NE(e.find("FIRST DIVERGENCE"), std::string::npos);
}
