// Cycle-level SystemC models of the PE (see pe_model.h).
#include "cycle/pe_model.h"

namespace ristsim::cycle {

using numeric::Dyadic;
using numeric::Format;
using numeric::Quantizer;
using rtlgen::PeInputs;
using rtlgen::PeOutputs;
using rtlgen::PeShape;
using namespace sc_core;

std::ostream& operator<<(std::ostream& os, const ChunkTag& t) {
  return os << "{first " << t.first << " last " << t.last << " bias " << t.bias << " index "
            << t.index << "}";
}

namespace {

/// quantize() onto the accumulator grid 2^-F with the alignment rounding (step 2).
int64_t align(const PeShape& s, const Dyadic& v) {
  Quantizer grid;
  grid.format = Format::fixed_point(64, s.frac_bits);
  grid.rounding = s.fmt.acc.align_rounding;
  grid.overflow = numeric::Overflow::wrap;
  return numeric::sign_extend(numeric::quantize(grid, v).code, 64);
}

}  // namespace

int64_t aligned_product(const PeShape& s, uint32_t act, uint32_t wgt, bool enabled) {
  if (!enabled) return 0;
  Dyadic a, w;
  // Non-finite codes never reach the PE (the hardware reads them as finite
  // patterns; see docs/rtl.md); decode_exact leaves the magnitude as is.
  numeric::decode_exact(s.fmt.act, act, &a);
  numeric::decode_exact(s.fmt.wt, wgt, &w);
  Dyadic p;
  p.neg = a.neg != w.neg;
  p.mag = a.mag * w.mag;
  p.exp = a.exp + w.exp;
  // The register is aligned.bits wide: what does not fit is lost, as in the RTL.
  return wrap_to(align(s, p), s.aligned.bits);
}

int64_t aligned_bias(const PeShape& s, uint32_t bias) {
  Dyadic b;
  numeric::decode_exact(s.fmt.bias, bias, &b);
  return wrap_to(align(s, b), s.bias_aligned.bits);
}

int64_t wrap_to(int64_t v, int bits) {
  return numeric::sign_extend(static_cast<uint64_t>(v), bits);
}

int64_t acc_overflow(const PeShape& s, int64_t v, bool* ovf) {
  const int a = s.acc_bits;
  const int64_t max = (int64_t{1} << (a - 1)) - 1;
  const int64_t min = -(int64_t{1} << (a - 1));
  *ovf = v > max || v < min;
  if (!*ovf) return v;
  if (s.fmt.acc.overflow == numeric::Overflow::saturate) return v > max ? max : min;
  return wrap_to(v, a);
}

// ---------------------------------------------------------------------------
namespace {

/// code -> the integer value of the code in units of exactly_fixed(f)'s quantum.
std::vector<int64_t> fixed_table(const Format& f, numeric::FixedType t) {
  std::vector<int64_t> table;
  if (f.code_bits() > 16) return table;
  table.resize(size_t{1} << f.code_bits());
  for (size_t c = 0; c < table.size(); ++c) {
    Dyadic d;
    numeric::decode_exact(f, c, &d);  // non-finite codes: never used (see aligned_product)
    const int64_t mag = static_cast<int64_t>(numeric::shl(d.mag, d.exp + t.fl));
    table[c] = d.neg ? -mag : mag;
  }
  return table;
}

}  // namespace

LaneMultiplier::LaneMultiplier(const PeShape& shape) : s_(shape) {
  act_table_ = fixed_table(s_.fmt.act, s_.act_fixed);
  wt_table_ = fixed_table(s_.fmt.wt, s_.wt_fixed);
  exact_align_ = s_.frac_bits >= s_.product.fl && !act_table_.empty() && !wt_table_.empty();
  shift_ = s_.frac_bits - s_.product.fl;
}

MultiplyStage::MultiplyStage(sc_module_name n, const PeShape& shape)
    : sc_module(n), s_(shape), mul_(shape) {
  prod_.v.assign(static_cast<size_t>(s_.lanes), 0);
  SC_METHOD(tick);
  sensitive << clk.pos();
  dont_initialize();
}

void MultiplyStage::tick() {
  if (!rst_n.read()) {
    for (int64_t& p : prod_.v) p = 0;
    prod_o.write(prod_);
    valid_o.write(false);
    tag_o.write(ChunkTag{});
    return;
  }
  const Lanes<uint32_t>& a = act_i.read();
  const Lanes<uint32_t>& w = wgt_i.read();
  const Lanes<uint8_t>& en = lane_en_i.read();
  for (int i = 0; i < s_.lanes; ++i) prod_.v[i] = mul_(a.v[i], w.v[i], en.v[i] != 0);
  prod_o.write(prod_);
  valid_o.write(valid_i.read());
  tag_o.write(tag_i.read());
}

// ---------------------------------------------------------------------------
AdderTreeModel::AdderTreeModel(sc_module_name n, const PeShape& shape) : sc_module(n), s_(shape) {
  for (int l = 1; l <= s_.tree_levels; ++l)
    if (s_.tree_reg_after(l)) reg_levels_.push_back(l);
  regs_.resize(reg_levels_.size());
  reg_valid_.assign(reg_levels_.size(), false);
  reg_tag_.resize(reg_levels_.size());
  if (reg_levels_.empty()) {
    SC_METHOD(comb);
    sensitive << valid_i << tag_i << data_i;
  } else {
    SC_METHOD(tick);
    sensitive << clk.pos();
    dont_initialize();
  }
}

void AdderTreeModel::add_levels(const PeShape& s, std::vector<int64_t>& nodes, int from, int to) {
  for (int l = from + 1; l <= to; ++l) {
    const size_t n = nodes.size();
    const size_t m = (n + 1) / 2;
    const int w = s.tree_width(l);
    for (size_t j = 0; j < m; ++j) {
      const int64_t a = nodes[2 * j];
      const int64_t b = 2 * j + 1 < n ? nodes[2 * j + 1] : 0;
      nodes[j] = wrap_to(a + b, w);  // a node is exactly tree_level_type(l) wide
    }
    nodes.resize(m);
  }
}

void AdderTreeModel::comb() {
  work_ = data_i.read().v;
  add_levels(s_, work_, 0, s_.tree_levels);
  sum_o.write(work_[0]);
  valid_o.write(valid_i.read());
  tag_o.write(tag_i.read());
}

void AdderTreeModel::tick() {
  const size_t r = reg_levels_.size();
  if (!rst_n.read()) {
    for (size_t i = 0; i < r; ++i) {
      regs_[i].assign(regs_[i].size(), 0);
      reg_valid_[i] = false;
      reg_tag_[i] = ChunkTag{};
    }
  } else {
    // Registers from the last to the first: each takes the levels below it.
    for (size_t i = r; i-- > 0;) {
      const int to = reg_levels_[i];
      const int from = i == 0 ? 0 : reg_levels_[i - 1];
      work_ = i == 0 ? data_i.read().v : regs_[i - 1];
      if (work_.empty()) work_.assign(1, 0);  // reset contents before the first chunk
      add_levels(s_, work_, from, to);
      regs_[i] = work_;
      reg_valid_[i] = i == 0 ? valid_i.read() : reg_valid_[i - 1];
      reg_tag_[i] = i == 0 ? tag_i.read() : reg_tag_[i - 1];
    }
  }
  // The levels after the last register are combinational.
  work_ = regs_[r - 1];
  if (work_.empty()) work_.assign(1, 0);
  add_levels(s_, work_, reg_levels_[r - 1], s_.tree_levels);
  sum_o.write(work_[0]);
  valid_o.write(reg_valid_[r - 1]);
  tag_o.write(reg_tag_[r - 1]);
}

// ---------------------------------------------------------------------------
AccumulatorModel::AccumulatorModel(sc_module_name n, const PeShape& shape)
    : sc_module(n), s_(shape) {
  SC_METHOD(tick);
  sensitive << clk.pos();
  dont_initialize();
}

void AccumulatorModel::tick() {
  if (!rst_n.read()) {
    acc_ = 0;
    ovf_ = false;
    valid_o.write(false);
    acc_o.write(0);
    ovf_o.write(false);
    tag_o.write(ChunkTag{});
    return;
  }
  const bool v = valid_i.read();
  const ChunkTag& t = tag_i.read();
  valid_o.write(v && t.last);
  if (v) {
    bool o = false;
    acc_ = acc_overflow(s_, (t.first ? 0 : acc_) + sum_i.read(), &o);
    ovf_ = (t.first ? false : ovf_) || o;
    acc_o.write(acc_);
    ovf_o.write(ovf_);
    tag_o.write(t);
  }
}

// ---------------------------------------------------------------------------
FlConfig::FlConfig(const PeShape& hw) : hw_(hw), layer_(hw) {
  if (hw_.runtime_fl) write(0);
}

void FlConfig::write(uint32_t word) {
  word_ = word;
  int fl[4];
  for (int i = 0; i < 4; ++i) fl[i] = static_cast<int8_t>(word >> (24 - 8 * i));
  try {
    layer_ = rtlgen::runtime_layer_shape(hw_, fl);
  } catch (const rtlgen::Unsupported&) {
    // FLs this PE cannot take (the drivers refuse such a layer before it
    // runs); an element converted under them would not be defined.
    layer_ = hw_;
  }
}

Conversion convert_output(const PeShape& s, int64_t acc_in, bool acc_ovf_in, uint32_t bias,
                          uint64_t seed, uint64_t stream, uint64_t index) {
  bool bias_ovf = false;
  const int64_t acc = acc_overflow(s, acc_in + aligned_bias(s, bias), &bias_ovf);
  Quantizer q = s.fmt.out;
  q.seed = seed;
  q.stream = stream;
  Dyadic d;
  d.neg = acc < 0;
  d.mag = acc < 0 ? uint64_t{0} - static_cast<uint64_t>(acc) : static_cast<uint64_t>(acc);
  d.exp = -s.frac_bits;
  const numeric::Quantized r = numeric::quantize(q, d, index);
  Conversion c;
  c.out = static_cast<uint32_t>(r.code);
  c.sat = r.saturated;
  c.acc_ovf = acc_ovf_in || bias_ovf;
  return c;
}

OutputStageModel::OutputStageModel(sc_module_name n, const PeShape& shape)
    : sc_module(n), s_(shape), cfg_(shape) {
  SC_METHOD(tick);
  sensitive << clk.pos();
  dont_initialize();
}

void OutputStageModel::tick() {
  if (!rst_n.read()) {
    valid_o.write(false);
    out_o.write(0);
    sat_o.write(false);
    acc_ovf_o.write(false);
    cfg_.reset();  // the register resets too
    return;
  }
  const bool v = valid_i.read();
  valid_o.write(v);
  // The conversion reads the register as it was before this edge; the write
  // takes effect after it (the RTL's cfg_q).
  if (v) {
    const ChunkTag& t = tag_i.read();
    const Conversion c = convert_output(cfg_.layer(), acc_i.read(), acc_ovf_i.read(), t.bias,
                                        seed_i.read(), stream_i.read(), t.index);
    out_o.write(c.out);
    sat_o.write(c.sat);
    acc_ovf_o.write(c.acc_ovf);
  }
  if (s_.runtime_fl && cfg_we_i.read()) cfg_.write(cfg_fl_i.read());
}

// ---------------------------------------------------------------------------
PeModel::PeModel(sc_module_name n, const PeShape& shape)
    : sc_module(n),
      mul("mul", shape),
      tree("tree", shape),
      acc("acc", shape),
      out("out", shape),
      s1_valid("s1_valid"),
      s2_valid("s2_valid"),
      s3_valid("s3_valid"),
      s3_ovf("s3_ovf"),
      s1_tag("s1_tag"),
      s2_tag("s2_tag"),
      s3_tag("s3_tag"),
      s1_prod("s1_prod"),
      s2_sum("s2_sum"),
      s3_acc("s3_acc") {
  Lanes<int64_t> zero;
  zero.v.assign(static_cast<size_t>(shape.lanes), 0);
  s1_prod.write(zero);
  mul.clk(clk);
  mul.rst_n(rst_n);
  mul.valid_i(valid_i);
  mul.tag_i(tag_i);
  mul.lane_en_i(lane_en_i);
  mul.act_i(act_i);
  mul.wgt_i(wgt_i);
  mul.valid_o(s1_valid);
  mul.tag_o(s1_tag);
  mul.prod_o(s1_prod);
  tree.clk(clk);
  tree.rst_n(rst_n);
  tree.valid_i(s1_valid);
  tree.tag_i(s1_tag);
  tree.data_i(s1_prod);
  tree.valid_o(s2_valid);
  tree.tag_o(s2_tag);
  tree.sum_o(s2_sum);
  acc.clk(clk);
  acc.rst_n(rst_n);
  acc.valid_i(s2_valid);
  acc.tag_i(s2_tag);
  acc.sum_i(s2_sum);
  acc.valid_o(s3_valid);
  acc.acc_o(s3_acc);
  acc.ovf_o(s3_ovf);
  acc.tag_o(s3_tag);
  out.clk(clk);
  out.rst_n(rst_n);
  out.valid_i(s3_valid);
  out.acc_i(s3_acc);
  out.acc_ovf_i(s3_ovf);
  out.tag_i(s3_tag);
  out.seed_i(seed_i);
  out.stream_i(stream_i);
  out.cfg_we_i(cfg_we_i);
  out.cfg_fl_i(cfg_fl_i);
  out.valid_o(valid_o);
  out.out_o(out_o);
  out.sat_o(sat_o);
  out.acc_ovf_o(acc_ovf_o);
}

// ---------------------------------------------------------------------------
PeHarness::PeHarness(const PeShape& shape, const char* name)
    : clk((std::string(name) + "_clk").c_str(), 1, SC_NS, 0.5, 0.25, SC_NS, true),
      shape_(shape),
      pe_(name, shape) {
  const size_t k = static_cast<size_t>(shape.lanes);
  en_buf_.v.assign(k, 0);
  act_buf_.v.assign(k, 0);
  wgt_buf_.v.assign(k, 0);
  lane_en.write(en_buf_);
  act.write(act_buf_);
  wgt.write(wgt_buf_);
  rst_n.write(true);
  pe_.clk(clk);
  pe_.rst_n(rst_n);
  pe_.valid_i(valid);
  pe_.tag_i(tag);
  pe_.lane_en_i(lane_en);
  pe_.act_i(act);
  pe_.wgt_i(wgt);
  pe_.seed_i(seed);
  pe_.stream_i(stream);
  pe_.cfg_we_i(cfg_we);
  pe_.cfg_fl_i(cfg_fl);
  pe_.valid_o(valid_o);
  pe_.out_o(out_o);
  pe_.sat_o(sat_o);
  pe_.acc_ovf_o(acc_ovf_o);
}

void PeHarness::drive(const PeInputs& in) {
  rst_n.write(!in.reset);
  valid.write(in.valid);
  ChunkTag t;
  t.first = in.first;
  t.last = in.last;
  t.bias = in.bias & static_cast<uint32_t>(numeric::low_mask(shape_.bias_bits));
  // The RTL carries the index only when it is used (stochastic output rounding).
  t.index = shape_.fmt.out.rounding == numeric::Rounding::stochastic ? in.index : 0;
  tag.write(t);
  for (int i = 0; i < shape_.lanes; ++i) {
    en_buf_.v[i] = in.lane_en[i] ? 1 : 0;
    act_buf_.v[i] = in.act[i];
    wgt_buf_.v[i] = in.wgt[i];
  }
  lane_en.write(en_buf_);
  act.write(act_buf_);
  wgt.write(wgt_buf_);
  seed.write(in.seed);
  stream.write(in.stream);
  cfg_we.write(in.cfg_we);
  cfg_fl.write(in.cfg_fl);
}

PeOutputs PeHarness::outputs() const {
  PeOutputs o;
  o.valid = valid_o.read();
  o.out = out_o.read();
  o.sat = sat_o.read();
  o.acc_ovf = acc_ovf_o.read();
  return o;
}

void PeHarness::reset() {
  PeInputs idle;
  idle.lane_en.assign(static_cast<size_t>(shape_.lanes), 0);
  idle.act.assign(static_cast<size_t>(shape_.lanes), 0);
  idle.wgt.assign(static_cast<size_t>(shape_.lanes), 0);
  drive(idle);
  rst_n.write(false);
  sc_start(2, SC_NS);
  rst_n.write(true);
}

PeOutputs PeHarness::cycle(const PeInputs& in) {
  drive(in);
  sc_start(1, SC_NS);
  return outputs();
}

}  // namespace ristsim::cycle
