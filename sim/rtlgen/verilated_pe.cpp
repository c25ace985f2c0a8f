// Run-time Verilation of the PE and its loader (see verilated_pe.h).
#include "rtlgen/verilated_pe.h"

#include <sstream>

#include "numeric/bits.h"
#include "rtlgen/rtlgen.h"

namespace ristsim::rtlgen {

namespace {

int words(int bits) {
  return (bits + 31) / 32;
}

/// Word layout of rtl_cycle's input array: 0 valid_i (bit 0) and reset (bit 1:
/// rst_ni low), 1 first_i, 2 last_i, 3 bias_i, 4-5 index_i, 6-7 key_i,
/// 8 cfg_we_i, 9 cfg_fl_i (driven only into a runtime_fl PE, which has the
/// ports), then lane_en_i, act_i and wgt_i packed.
struct Layout {
  int lane_en = 10, act = 0, wgt = 0, total = 0;
  explicit Layout(const PeShape& s) {
    act = lane_en + words(s.lanes);
    wgt = act + words(s.lanes * s.act_bits);
    total = wgt + words(s.lanes * s.wt_bits);
  }
};

}  // namespace

std::string verilator_wrapper_source(const PeShape& s, bool trace) {
  const Layout l(s);
  std::ostringstream o;
  o << verilator_wrapper_head(kPeTop, trace, kRtlAbiVersion, l.total)
    << "int rtl_cycle(void* p, const uint32_t* in, uint32_t* out) {\n"
    << "  Handle* h = static_cast<Handle*>(p);\n  Vristsim_pe* t = h->top.get();\n"
    << "  if (h->error.empty()) {\n"
    << "    h->fall();\n"
    << "    t->rst_ni = !((in[0] >> 1) & 1);\n"
    << "    t->valid_i = in[0] & 1; t->first_i = in[1] & 1; t->last_i = in[2] & 1;\n"
    << "    set_port(t->bias_i, in + 3, " << s.bias_bits << ");\n"
    << "    set_port(t->index_i, in + 4, 64);\n"
    << "    set_port(t->key_i, in + 6, 64);\n"
    << (s.runtime_fl ? "    t->cfg_we_i = in[8] & 1; t->cfg_fl_i = in[9];\n" : "")
    << "    set_port(t->lane_en_i, in + " << l.lane_en << ", " << s.lanes << ");\n"
    << "    set_port(t->act_i, in + " << l.act << ", " << s.lanes * s.act_bits << ");\n"
    << "    set_port(t->wgt_i, in + " << l.wgt << ", " << s.lanes * s.wt_bits << ");\n"
    << "    h->rise();\n"
    << "  }\n"
    << "  out[0] = t->valid_o; out[1] = static_cast<uint32_t>(t->out_o);\n"
    << "  out[2] = t->sat_o; out[3] = t->acc_ovf_o;\n"
    << "  return h->check();\n}\n"
    << "}  // extern \"C\"\n";
  return o.str();
}

std::string build_verilated_pe(const std::string& rtl_dir, const PeShape& shape, bool trace,
                               const std::string& cache_root, std::string* log) {
  return build_verilated_model(rtl_dir, kPeTop, verilator_wrapper_source(shape, trace), trace,
                               cache_root, log);
}

VerilatedPe::VerilatedPe(const std::string& so_path, const PeShape& shape,
                         const std::string& vcd_path)
    : shape_(shape),
      model_(std::make_unique<VerilatedModel>(so_path, kRtlAbiVersion, Layout(shape).total, 4,
                                              vcd_path)) {
  in_words_.assign(static_cast<size_t>(Layout(shape).total), 0);
}

void VerilatedPe::reset() {
  model_->reset();
}

void VerilatedPe::pack(const PeInputs& in, std::vector<uint32_t>* words) const {
  const Layout l(shape_);
  std::vector<uint32_t>& in_words_ = *words;
  in_words_.assign(static_cast<size_t>(l.total), 0u);
  in_words_[0] = (in.valid ? 1u : 0u) | (in.reset ? 2u : 0u);
  in_words_[1] = in.first;
  in_words_[2] = in.last;
  in_words_[3] = in.bias & static_cast<uint32_t>(numeric::low_mask(shape_.bias_bits));
  in_words_[4] = static_cast<uint32_t>(in.index);
  in_words_[5] = static_cast<uint32_t>(in.index >> 32);
  const uint64_t key = in.key();
  in_words_[6] = static_cast<uint32_t>(key);
  in_words_[7] = static_cast<uint32_t>(key >> 32);
  in_words_[8] = in.cfg_we;
  in_words_[9] = in.cfg_fl;
  for (int i = 0; i < shape_.lanes; ++i) {
    if (static_cast<size_t>(i) < in.lane_en.size() && in.lane_en[i])
      put_bits(in_words_, l.lane_en, i, 1, 1);
    if (static_cast<size_t>(i) < in.act.size())
      put_bits(in_words_, l.act, i * shape_.act_bits, in.act[i], shape_.act_bits);
    if (static_cast<size_t>(i) < in.wgt.size())
      put_bits(in_words_, l.wgt, i * shape_.wt_bits, in.wgt[i], shape_.wt_bits);
  }
}

PeOutputs VerilatedPe::cycle(const PeInputs& in) {
  pack(in, &in_words_);
  return cycle_packed(in_words_.data());
}

PeOutputs VerilatedPe::cycle_packed(const uint32_t* words) {
  model_->cycle(words);
  const std::vector<uint32_t>& out = model_->out();
  PeOutputs o;
  o.valid = out[0] & 1;
  o.out = out[1];
  o.sat = out[2] & 1;
  o.acc_ovf = out[3] & 1;
  return o;
}

}  // namespace ristsim::rtlgen
