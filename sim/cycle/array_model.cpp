// The SystemC model of the PE array (see array_model.h and docs/array.md).
#include "cycle/array_model.h"

namespace ristsim::rtlgen {
std::ostream& operator<<(std::ostream& os, const ArraySouth& s) {
  return os << "{valid " << s.valid << " out " << s.out << " sat " << s.sat << " acc_ovf "
            << s.acc_ovf << " psum_valid " << s.psum_valid << " psum " << s.psum << " psum_ovf "
            << s.psum_ovf << "}";
}
}  // namespace ristsim::rtlgen

namespace ristsim::cycle {

using rtlgen::ArrayInputs;
using rtlgen::ArrayOutputs;
using rtlgen::ArraySouth;
using rtlgen::PeShape;
using namespace sc_core;

std::ostream& operator<<(std::ostream& os, const EdgeWord& w) {
  os << "{valid " << w.valid << " first " << w.first << " last " << w.last << " codes";
  for (size_t i = 0; i < w.code.size(); ++i) os << " " << (w.lane_en[i] ? "" : "~") << w.code[i];
  return os << " bias " << w.bias << " index " << w.index << "}";
}
std::ostream& operator<<(std::ostream& os, const PsumWord& w) {
  return os << "{valid " << w.valid << " first " << w.first << " psum " << w.psum << " ovf "
            << w.ovf << "}";
}
std::ostream& operator<<(std::ostream& os, const ResultWord& w) {
  return os << "{done " << w.done << " valid " << w.valid << " out " << w.out << " sat " << w.sat
            << " acc_ovf " << w.acc_ovf << "}";
}
std::ostream& operator<<(std::ostream& os, const SouthCtlWord& w) {
  return os << "{last " << w.last << " bias " << w.bias << " index " << w.index << "}";
}

// ---------------------------------------------------------------------------
ProductPipe::ProductPipe(const PeShape& s) : s_(s) {
  level_.push_back(0);
  for (int l = 1; l <= s_.tree_levels; ++l)
    if (s_.tree_reg_after(l)) level_.push_back(l);
  nodes_.resize(level_.size());
  tag_.resize(level_.size());
  reset();
}

void ProductPipe::reset() {
  size_t n = size_t(s_.lanes);
  int at = 0;
  for (size_t i = 0; i < level_.size(); ++i) {
    for (; at < level_[i]; ++at) n = (n + 1) / 2;
    nodes_[i].assign(n, 0);
    tag_[i] = PipeTag{};
  }
}

void ProductPipe::clock(const std::vector<int64_t>& products, const PipeTag& tag) {
  for (size_t i = level_.size(); i-- > 1;) {
    work_ = nodes_[i - 1];
    AdderTreeModel::add_levels(s_, work_, level_[i - 1], level_[i]);
    nodes_[i].swap(work_);
    tag_[i] = tag_[i - 1];
  }
  nodes_[0] = products;
  tag_[0] = tag;
}

int64_t ProductPipe::sum() {
  work_ = nodes_.back();
  AdderTreeModel::add_levels(s_, work_, level_.back(), s_.tree_levels);
  return work_[0];
}

namespace {

EdgeWord zero_word(int lanes) {
  EdgeWord w;
  w.lane_en.assign(size_t(lanes), 0);
  w.code.assign(size_t(lanes), 0);
  return w;
}

}  // namespace

// ---------------------------------------------------------------------------
OsPe::OsPe(sc_module_name n, const PeShape& shape, int row, int col)
    : sc_module(n), row_(row), col_(col), s_(shape), mul_(shape), cfg_(shape), pipe_(shape) {
  prod_.assign(size_t(shape.lanes), 0);
  SC_METHOD(tick);
  sensitive << clk.pos();
  dont_initialize();
}

void OsPe::forward(const EdgeWord& west, const EdgeWord& north) {
  east_o.write(west);
  south_o.write(north);
}

void OsPe::tick() {
  if (!rst_n.read()) {
    pipe_.reset();
    acc_ = 0;
    ovf_ = false;
    acc_tag_ = PipeTag{};
    const EdgeWord z = zero_word(s_.lanes);
    east_o.write(z);
    south_o.write(z);
    result_o.write(ResultWord{});
    cfg_.reset();
    return;
  }
  // Output register: the accumulator's finished element (as before this edge).
  ResultWord res;
  if (acc_tag_.slot) {
    res.done = true;
    if (acc_tag_.valid) {
      const Conversion c = convert_output(cfg_.layer(), acc_, ovf_, acc_tag_.bias, seed_i.read(),
                                          stream_i.read(), acc_tag_.index);
      res.valid = true, res.out = c.out, res.sat = c.sat, res.acc_ovf = c.acc_ovf;
    }
  }
  result_o.write(res);
  // Accumulator: acc = ovf(first ? sum : acc + sum) for a valid chunk.
  const PipeTag t = pipe_.tag();
  const int64_t sum = pipe_.sum();
  if (t.valid) {
    bool o = false;
    acc_ = acc_overflow(s_, (t.first ? 0 : acc_) + sum, &o);
    ovf_ = (t.first ? false : ovf_) || o;
  }
  acc_tag_ = t;
  acc_tag_.valid = t.valid && t.last;
  // Products of this cycle's operands.
  const EdgeWord& w = west_i.read();
  const EdgeWord& nw = north_i.read();
  const bool v = w.valid && nw.valid;
  for (int i = 0; i < s_.lanes; ++i)
    prod_[size_t(i)] = mul_(w.code[size_t(i)], nw.code[size_t(i)],
                            v && w.lane_en[size_t(i)] && nw.lane_en[size_t(i)]);
  PipeTag tag;
  tag.valid = v;
  tag.first = w.first;
  tag.last = w.last;
  tag.slot = w.last;
  tag.bias = nw.bias;
  tag.index = w.index + nw.index;
  pipe_.clock(prod_, tag);
  forward(w, nw);
  if (s_.runtime_fl && cfg_we_i.read()) cfg_.write(cfg_fl_i.read());
}

// ---------------------------------------------------------------------------
OsDrain::OsDrain(sc_module_name n, int rows) : sc_module(n), result_i("result_i", size_t(rows)) {
  hold_.assign(size_t(rows), ResultWord{});
  SC_METHOD(tick);
  sensitive << clk.pos();
  dont_initialize();
}

void OsDrain::tick() {
  const int rows = int(hold_.size());
  if (!rst_n.read()) {
    hold_.assign(hold_.size(), ResultWord{});
    left_ = 0;
    south_o.write(ArraySouth{});
    return;
  }
  for (int r = 0; r < rows; ++r) {
    const ResultWord& res = result_i[size_t(r)].read();
    if (res.done) hold_[size_t(r)] = res.valid ? res : ResultWord{};
  }
  if (left_ == 0 && result_i[size_t(rows - 1)].read().done) left_ = rows;
  ArraySouth o;
  if (left_ > 0) {
    const ResultWord& h = hold_[size_t(rows - 1)];
    if (h.valid) o.valid = true, o.out = h.out, o.sat = h.sat, o.acc_ovf = h.acc_ovf;
    for (int r = rows - 1; r > 0; --r) hold_[size_t(r)] = hold_[size_t(r - 1)];
    hold_[0] = ResultWord{};
    --left_;
  }
  south_o.write(o);
}

// ---------------------------------------------------------------------------
StationaryPe::StationaryPe(sc_module_name n, const PeShape& shape, bool weight_stationary, int row,
                           int col)
    : sc_module(n),
      row_(row),
      col_(col),
      s_(shape),
      ws_(weight_stationary),
      mul_(shape),
      pipe_(shape) {
  prod_.assign(size_t(shape.lanes), 0);
  stat_ = zero_word(shape.lanes);
  SC_METHOD(tick);
  sensitive << clk.pos();
  dont_initialize();
}

PsumWord StationaryPe::add_psum(const PsumWord& in, const PipeTag&, int64_t sum) {
  PsumWord out;
  if (!in.valid) return out;
  bool o = false;
  out.valid = true;
  out.psum = acc_overflow(s_, (in.first ? 0 : in.psum) + sum, &o);
  out.ovf = (in.first ? false : in.ovf) || o;
  return out;
}

void StationaryPe::tick() {
  if (!rst_n.read()) {
    pipe_.reset();
    stat_ = zero_word(s_.lanes);
    east_o.write(stat_);
    stat_o.write(stat_);
    psum_o.write(PsumWord{});
    return;
  }
  // The psum register: psum_in (row 0: sampled with the operand) + the chunk sum.
  const PipeTag t = pipe_.tag();
  PsumWord in = row_ == 0 ? t.psum_in : psum_i.read();
  if (row_ == 0) in.valid = t.valid;
  psum_o.write(add_psum(in, t, pipe_.sum()));
  // Products of the streamed operand and the stationary register (before this edge).
  const EdgeWord& w = west_i.read();
  for (int i = 0; i < s_.lanes; ++i) {
    const size_t k = size_t(i);
    const bool en = w.valid && w.lane_en[k] && stat_.lane_en[k];
    prod_[k] = ws_ ? mul_(w.code[k], stat_.code[k], en) : mul_(stat_.code[k], w.code[k], en);
  }
  PipeTag tag;
  tag.valid = w.valid;
  if (row_ == 0) tag.psum_in = psum_i.read();
  pipe_.clock(prod_, tag);
  if (load_i.read()) {
    const EdgeWord& above = stat_i.read();
    stat_.lane_en = above.lane_en;
    stat_.code = above.code;
  }
  stat_o.write(stat_);
  forward(w);
}

void StationaryPe::forward(const EdgeWord& west) {
  east_o.write(west);
}

// ---------------------------------------------------------------------------
ColumnOutput::ColumnOutput(sc_module_name n, const PeShape& shape)
    : sc_module(n), s_(shape), cfg_(shape) {
  SC_METHOD(tick);
  sensitive << clk.pos();
  dont_initialize();
}

void ColumnOutput::tick() {
  if (!rst_n.read()) {
    south_o.write(ArraySouth{});
    cfg_.reset();
    return;
  }
  const PsumWord& p = psum_i.read();
  const SouthCtlWord& ctl = ctl_i.read();
  ArraySouth o;
  if (p.valid && ctl.last) {
    const Conversion c = convert_output(cfg_.layer(), p.psum, p.ovf, ctl.bias, seed_i.read(),
                                        stream_i.read(), ctl.index);
    o.valid = true, o.out = c.out, o.sat = c.sat, o.acc_ovf = c.acc_ovf;
  } else if (p.valid) {
    o.psum_valid = true, o.psum = p.psum, o.psum_ovf = p.ovf;
  }
  south_o.write(o);
  if (s_.runtime_fl && cfg_we_i.read()) cfg_.write(cfg_fl_i.read());
}

// ---------------------------------------------------------------------------
ArrayModel::ArrayModel(sc_module_name n, const PeShape& shape, const ArrayGeometry& g,
                       const ArrayPeFactory& factory)
    : sc_module(n),
      clk("clk", 1, SC_NS, 0.5, 0.25, SC_NS, true),
      rst_n("rst_n"),
      west("west", size_t(g.rows)),
      north("north", size_t(g.cols)),
      load("load", size_t(g.cols)),
      north_psum("north_psum", size_t(g.cols)),
      south_ctl("south_ctl", size_t(g.cols)),
      south("south", size_t(g.cols)),
      s_(shape),
      g_(g),
      os_(g.dataflow == config::Dataflow::output_stationary),
      os_pes_("pe"),
      drains_("drain"),
      st_pes_("spe"),
      outs_("out"),
      east_("east", size_t(g.rows) * size_t(g.cols)),
      down_("down", size_t(g.rows) * size_t(g.cols)),
      result_("result", os_ ? size_t(g.rows) * size_t(g.cols) : 0),
      psum_("psum", os_ ? 0 : size_t(g.rows) * size_t(g.cols)) {
  const int R = g.rows, C = g.cols;
  auto at = [C](int r, int c) { return size_t(r) * size_t(C) + size_t(c); };
  const EdgeWord z = zero_word(shape.lanes);
  for (auto& s : west) s.write(z);
  for (auto& s : north) s.write(z);
  for (auto& s : east_) s.write(z);
  for (auto& s : down_) s.write(z);
  rst_n.write(true);
  west_buf_ = z;
  north_buf_ = z;
  const bool ws = g.dataflow == config::Dataflow::weight_stationary;
  if (os_) {
    os_pes_.init(size_t(R) * size_t(C), [&](const char* nm, size_t i) {
      const int r = int(i) / C, c = int(i) % C;
      return factory.os ? factory.os(nm, shape, r, c) : new OsPe(nm, shape, r, c);
    });
    drains_.init(size_t(C), [&](const char* nm, size_t) { return new OsDrain(nm, R); });
  } else {
    st_pes_.init(size_t(R) * size_t(C), [&](const char* nm, size_t i) {
      const int r = int(i) / C, c = int(i) % C;
      return factory.stationary ? factory.stationary(nm, shape, ws, r, c)
                                : new StationaryPe(nm, shape, ws, r, c);
    });
    outs_.init(size_t(C), [&](const char* nm, size_t) { return new ColumnOutput(nm, shape); });
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      sc_signal<EdgeWord>& w_in = c == 0 ? west[size_t(r)] : east_[at(r, c - 1)];
      sc_signal<EdgeWord>& n_in = r == 0 ? north[size_t(c)] : down_[at(r - 1, c)];
      if (os_) {
        OsPe& pe = os_pes_[at(r, c)];
        pe.clk(clk), pe.rst_n(rst_n), pe.west_i(w_in), pe.north_i(n_in);
        pe.seed_i(seed), pe.stream_i(stream), pe.cfg_we_i(cfg_we), pe.cfg_fl_i(cfg_fl);
        pe.east_o(east_[at(r, c)]), pe.south_o(down_[at(r, c)]), pe.result_o(result_[at(r, c)]);
      } else {
        StationaryPe& pe = st_pes_[at(r, c)];
        pe.clk(clk), pe.rst_n(rst_n), pe.west_i(w_in), pe.stat_i(n_in), pe.load_i(load[size_t(c)]);
        pe.psum_i(r == 0 ? north_psum[size_t(c)] : psum_[at(r - 1, c)]);
        pe.east_o(east_[at(r, c)]), pe.stat_o(down_[at(r, c)]), pe.psum_o(psum_[at(r, c)]);
      }
    }
  for (int c = 0; c < C; ++c) {
    if (os_) {
      OsDrain& d = drains_[size_t(c)];
      d.clk(clk), d.rst_n(rst_n), d.south_o(south[size_t(c)]);
      for (int r = 0; r < R; ++r) d.result_i[size_t(r)](result_[at(r, c)]);
    } else {
      ColumnOutput& o = outs_[size_t(c)];
      o.clk(clk), o.rst_n(rst_n), o.psum_i(psum_[at(R - 1, c)]), o.ctl_i(south_ctl[size_t(c)]);
      o.seed_i(seed), o.stream_i(stream), o.cfg_we_i(cfg_we), o.cfg_fl_i(cfg_fl);
      o.south_o(south[size_t(c)]);
    }
  }
}

ArrayOutputs ArrayModel::cycle(const ArrayInputs& in) {
  const uint32_t bias_mask = uint32_t(numeric::low_mask(s_.bias_bits));
  rst_n.write(!in.reset);
  for (int r = 0; r < g_.rows; ++r) {
    const rtlgen::ArrayWest& w = in.west[size_t(r)];
    west_buf_.valid = w.valid, west_buf_.first = w.first, west_buf_.last = w.last;
    west_buf_.lane_en = w.lane_en;
    west_buf_.code = w.code;
    west_buf_.index = w.index;
    west[size_t(r)].write(west_buf_);
  }
  for (int c = 0; c < g_.cols; ++c) {
    const rtlgen::ArrayNorth& n = in.north[size_t(c)];
    north_buf_.valid = n.valid;
    north_buf_.lane_en = n.lane_en;
    north_buf_.code = n.code;
    north_buf_.bias = n.bias & bias_mask;
    north_buf_.index = n.index;
    north[size_t(c)].write(north_buf_);
    if (!os_) {
      load[size_t(c)].write(n.valid);
      PsumWord p;
      p.first = n.psum_first;
      p.psum = n.psum;
      p.ovf = n.psum_ovf;
      north_psum[size_t(c)].write(p);
      const rtlgen::ArraySouthCtl& sc = in.south[size_t(c)];
      SouthCtlWord ctl;
      ctl.last = sc.last;
      ctl.bias = sc.bias & bias_mask;
      ctl.index = sc.index;
      south_ctl[size_t(c)].write(ctl);
    }
  }
  seed.write(in.seed);
  stream.write(in.stream);
  cfg_we.write(in.cfg_we);
  cfg_fl.write(in.cfg_fl);
  sc_start(1, SC_NS);
  ArrayOutputs out;
  out.south.resize(size_t(g_.cols));
  for (int c = 0; c < g_.cols; ++c) out.south[size_t(c)] = south[size_t(c)].read();
  return out;
}

}  // namespace ristsim::cycle
