// Run-time Verilation of the PE array and its loader (see verilated_array.h).
#include "rtlgen/verilated_array.h"

#include <sstream>
#include <stdexcept>

#include "numeric/bits.h"

namespace ristsim::rtlgen {

namespace {

int words(int bits) {
  return (bits + 31) / 32;
}

/// Port name -> (first word, width), inputs after word 0 (the reset), outputs from word 0.
struct PortWords {
  std::vector<std::pair<RtlPort, int>> in, out;
  int in_total = 1, out_total = 0;
  PortWords(const PeShape& s, const ArrayDims& d) {
    for (const RtlPort& p : array_ports(s, d)) {
      if (p.name == "clk_i" || p.name == "rst_ni") continue;
      int& total = p.input ? in_total : out_total;
      (p.input ? in : out).push_back({p, total});
      total += words(p.width);
    }
  }
};

}  // namespace

std::string array_wrapper_source(const PeShape& s, const ArrayDims& d, bool trace) {
  const PortWords pw(s, d);
  std::ostringstream o;
  o << verilator_wrapper_head(kArrayTop, trace, kArrayAbiVersion, pw.in_total)
    << "int rtl_output_words() { return " << pw.out_total << "; }\n"
    << "int rtl_cycle(void* p, const uint32_t* in, uint32_t* out) {\n"
    << "  Handle* h = static_cast<Handle*>(p);\n  V" << kArrayTop << "* t = h->top.get();\n"
    << "  if (h->error.empty()) {\n"
    << "    h->fall();\n"
    << "    t->rst_ni = !(in[0] & 1);\n";
  for (const auto& [p, w] : pw.in)
    o << "    set_port(t->" << p.name << ", in + " << w << ", " << p.width << ");\n";
  o << "    h->rise();\n  }\n";
  for (const auto& [p, w] : pw.out)
    o << "  get_port(t->" << p.name << ", out + " << w << ", " << p.width << ");\n";
  o << "  return h->check();\n}\n"
    << "}  // extern \"C\"\n";
  return o.str();
}

std::string build_verilated_array(const std::string& rtl_dir, const PeShape& shape,
                                  const ArrayDims& dims, bool trace, const std::string& cache_root,
                                  std::string* log) {
  return build_verilated_model(rtl_dir, kArrayTop, array_wrapper_source(shape, dims, trace), trace,
                               cache_root, log);
}

VerilatedArray::VerilatedArray(const std::string& so_path, const PeShape& shape,
                               const ArrayDims& dims, const std::string& vcd_path)
    : shape_(shape), dims_(dims) {
  const PortWords pw(shape, dims);
  for (const auto& [p, w] : pw.in) in_[p.name] = {w, p.width};
  for (const auto& [p, w] : pw.out) out_[p.name] = {w, p.width};
  in_total_ = pw.in_total;
  out_total_ = pw.out_total;
  model_ = std::make_unique<VerilatedModel>(so_path, kArrayAbiVersion, in_total_, out_total_,
                                            vcd_path);
  in_words_.assign(static_cast<size_t>(in_total_), 0);
}

void VerilatedArray::reset() {
  model_->reset();
}

void VerilatedArray::put(const Slot& s, int element, uint64_t v, int width) {
  if (width > 32) {
    put_bits(in_words_, s.word, element * width, v, 32);
    put_bits(in_words_, s.word, element * width + 32, v >> 32, width - 32);
  } else {
    put_bits(in_words_, s.word, element * width, v, width);
  }
}

uint64_t VerilatedArray::get(const Slot& s, int element, int width) const {
  return get_bits(model_->out(), s.word, element * width, width);
}

ArrayOutputs VerilatedArray::cycle(const ArrayInputs& in) {
  const PeShape& s = shape_;
  const int k = s.lanes;
  const bool is = dims_.dataflow == config::Dataflow::input_stationary;
  const int west_bits = is ? s.wt_bits : s.act_bits, north_bits = is ? s.act_bits : s.wt_bits;
  in_words_.assign(in_words_.size(), 0u);
  in_words_[0] = in.reset ? 1u : 0u;
  auto port = [&](const char* name) -> const Slot& { return in_.at(name); };
  auto lanes = [&](const Slot& en_port, const Slot& code_port, int e,
                   const std::vector<uint8_t>& en, const std::vector<uint32_t>& code, int bits) {
    for (int i = 0; i < k; ++i) {
      if (static_cast<size_t>(i) < en.size() && en[i]) put(en_port, e * k + i, 1, 1);
      if (static_cast<size_t>(i) < code.size()) put(code_port, e * k + i, code[i], bits);
    }
  };
  {
    const Slot &valid = port("west_valid_i"), &first = port("west_first_i"),
               &last = port("west_last_i"), &index = port("west_index_i"),
               &en = port("west_lane_en_i"), &code = port("west_code_i");
    for (int r = 0; r < dims_.rows && static_cast<size_t>(r) < in.west.size(); ++r) {
      const ArrayWest& w = in.west[r];
      put(valid, r, w.valid, 1);
      put(first, r, w.first, 1);
      put(last, r, w.last, 1);
      put(index, r, w.index, 64);
      lanes(en, code, r, w.lane_en, w.code, west_bits);
    }
  }
  {
    const Slot &valid = port("north_valid_i"), &bias = port("north_bias_i"),
               &index = port("north_index_i"), &first = port("north_psum_first_i"),
               &psum = port("north_psum_i"), &ovf = port("north_psum_ovf_i"),
               &en = port("north_lane_en_i"), &code = port("north_code_i");
    for (int c = 0; c < dims_.cols && static_cast<size_t>(c) < in.north.size(); ++c) {
      const ArrayNorth& n = in.north[c];
      put(valid, c, n.valid, 1);
      put(bias, c, n.bias, s.bias_bits);
      put(index, c, n.index, 64);
      put(first, c, n.psum_first, 1);
      put(psum, c, static_cast<uint64_t>(n.psum), s.acc_bits);
      put(ovf, c, n.psum_ovf, 1);
      lanes(en, code, c, n.lane_en, n.code, north_bits);
    }
  }
  {
    const Slot &last = port("south_last_i"), &bias = port("south_bias_i"),
               &index = port("south_index_i");
    for (int c = 0; c < dims_.cols && static_cast<size_t>(c) < in.south.size(); ++c) {
      const ArraySouthCtl& t = in.south[c];
      put(last, c, t.last, 1);
      put(bias, c, t.bias, s.bias_bits);
      put(index, c, t.index, 64);
    }
  }
  put(port("key_i"), 0, in.key(), 64);
  if (s.runtime_fl) {
    put(port("cfg_we_i"), 0, in.cfg_we, 1);
    put(port("cfg_fl_i"), 0, in.cfg_fl, 32);
  }
  model_->cycle(in_words_.data());
  ArrayOutputs o;
  o.south.resize(static_cast<size_t>(dims_.cols));
  const Slot &valid = out_.at("valid_o"), &out = out_.at("out_o"), &sat = out_.at("sat_o"),
             &acc_ovf = out_.at("acc_ovf_o"), &psum_valid = out_.at("psum_valid_o"),
             &psum = out_.at("psum_o"), &psum_ovf = out_.at("psum_ovf_o");
  for (int c = 0; c < dims_.cols; ++c) {
    ArraySouth& x = o.south[c];
    x.valid = get(valid, c, 1);
    x.out = static_cast<uint32_t>(get(out, c, s.out_bits));
    x.sat = get(sat, c, 1);
    x.acc_ovf = get(acc_ovf, c, 1);
    x.psum_valid = get(psum_valid, c, 1);
    x.psum = numeric::sign_extend(get(psum, c, s.acc_bits), s.acc_bits);
    x.psum_ovf = get(psum_ovf, c, 1);
  }
  return o;
}

}  // namespace ristsim::rtlgen
