// The layer scheduler (scheduler.h).
#include "cycle/scheduler.h"

#include <deque>
#include <memory>
#include <stdexcept>

#include "cycle/pe_model.h"
#include "cycle/stimulus.h"

namespace ristsim::cycle {

using namespace sc_core;

namespace {

/// The signals around one PE of the array.
struct PeSlot {
  sc_signal<bool> valid, valid_o, sat_o, acc_ovf_o;
  sc_signal<ChunkTag> tag;
  sc_signal<Lanes<uint8_t>> lane_en;
  sc_signal<Lanes<uint32_t>> act, wgt;
  sc_signal<uint64_t> seed, stream;
  sc_signal<bool> cfg_we;  ///< runtime_fl: held high, the register always holds the layer's FLs
  sc_signal<uint32_t> cfg_fl;
  sc_signal<uint32_t> out_o;
  std::unique_ptr<PeModel> pe;
  std::deque<uint64_t> in_flight;  ///< elements whose last chunk was issued
  std::vector<kernels::ExactTerm> terms;  ///< of the element being issued
  int out_channel = 0;                    ///< its output channel (the bias)
};

}  // namespace

LayerStats simulate_layer(const rtlgen::PeShape& shape, const kernels::ConvShape& conv,
                          const uint32_t* in_codes, const uint32_t* w_codes,
                          const uint32_t* bias_codes, const LayerRun& run) {
  if (const char* e = kernels::validate(conv)) throw std::invalid_argument(e);
  if (run.pes < 1) throw std::invalid_argument("simulate_layer: pes must be >= 1");
  const kernels::ExactLayerSpec spec = exact_spec(shape, run.stream);
  const int p = run.pes, k = shape.lanes;
  const uint64_t outputs = static_cast<uint64_t>(conv.n) * conv.k * conv.oh * conv.ow;

  // The golden layer.
  std::vector<uint32_t> gold(outputs);
  kernels::ExactStats gst;
  kernels::exact_conv_reference(conv, spec, in_codes, w_codes, bias_codes, gold.data(), &gst);

  sc_clock clk("layer_clk", 1, SC_NS, 0.5, 0.25, SC_NS, true);
  sc_signal<bool> rst_n("layer_rst_n");
  std::vector<std::unique_ptr<PeSlot>> slots;
  Lanes<uint8_t> en0;
  Lanes<uint32_t> c0;
  en0.v.assign(static_cast<size_t>(k), 0);
  c0.v.assign(static_cast<size_t>(k), 0);
  for (int i = 0; i < p; ++i) {
    auto s = std::make_unique<PeSlot>();
    s->pe = std::make_unique<PeModel>(("pe" + std::to_string(i)).c_str(), shape);
    PeModel& m = *s->pe;
    m.clk(clk);
    m.rst_n(rst_n);
    m.valid_i(s->valid);
    m.tag_i(s->tag);
    m.lane_en_i(s->lane_en);
    m.act_i(s->act);
    m.wgt_i(s->wgt);
    m.seed_i(s->seed);
    m.stream_i(s->stream);
    m.cfg_we_i(s->cfg_we);
    m.cfg_fl_i(s->cfg_fl);
    m.valid_o(s->valid_o);
    m.out_o(s->out_o);
    m.sat_o(s->sat_o);
    m.acc_ovf_o(s->acc_ovf_o);
    s->lane_en.write(en0);
    s->act.write(c0);
    s->wgt.write(c0);
    s->seed.write(shape.fmt.out.seed);
    s->stream.write(run.stream);
    s->cfg_we.write(shape.runtime_fl);
    s->cfg_fl.write(rtlgen::runtime_fl_word(shape));
    slots.push_back(std::move(s));
  }

  // Each element's terms, in datapath order.
  auto terms_of = [&](uint64_t e) {
    const int ox = static_cast<int>(e % conv.ow);
    const int oy = static_cast<int>((e / conv.ow) % conv.oh);
    const int ko = static_cast<int>((e / (static_cast<uint64_t>(conv.ow) * conv.oh)) % conv.k);
    const int img = static_cast<int>(e / (static_cast<uint64_t>(conv.ow) * conv.oh * conv.k));
    return std::make_pair(kernels::conv_terms(conv, in_codes, w_codes, img, ko, oy, ox), ko);
  };

  LayerStats st;
  st.out_codes.assign(outputs, 0);
  rst_n.write(false);
  sc_start(2, SC_NS);
  rst_n.write(true);
  const uint64_t terms = static_cast<uint64_t>(conv.c / conv.groups) * conv.kh * conv.kw;
  IssueSchedule sched(outputs, terms == 0 ? 1 : (terms + k - 1) / k, k, run);
  uint64_t done = 0, cycle = 0;
  auto drive = [&](int pe, const Issue& is) {
    PeSlot& s = *slots[static_cast<size_t>(pe)];
    if (!is.valid) {
      s.valid.write(false);
      return;
    }
    if (is.first) {
      auto tk = terms_of(is.element);
      s.terms = std::move(tk.first);
      s.out_channel = tk.second;
      if (s.terms.size() != terms) throw std::logic_error("simulate_layer: term count");
    }
    const size_t start = is.chunk * static_cast<size_t>(k);
    Lanes<uint8_t> en = en0;
    Lanes<uint32_t> a = c0, w = c0;
    for (int l = 0; l < k; ++l) {
      const size_t idx = start + static_cast<size_t>(l);
      if (idx >= s.terms.size()) continue;
      en.v[l] = !s.terms[idx].padding;
      a.v[l] = s.terms[idx].act_code;
      w.v[l] = s.terms[idx].wt_code;
      st.macs += en.v[l];
    }
    ChunkTag tag;
    tag.first = is.first;
    tag.last = is.last;
    tag.bias = bias_codes ? bias_codes[s.out_channel] : 0;
    tag.index = shape.fmt.out.rounding == numeric::Rounding::stochastic ? is.element : 0;
    s.valid.write(true);
    s.tag.write(tag);
    s.lane_en.write(en);
    s.act.write(a);
    s.wgt.write(w);
    if (is.last) s.in_flight.push_back(is.element);
  };
  while (done < outputs) {
    sched.step(drive);
    sc_start(1, SC_NS);
    ++cycle;
    for (auto& sp : slots) {
      PeSlot& s = *sp;
      if (!s.valid_o.read()) continue;
      if (s.in_flight.empty()) {
        ++st.mismatches;  // a result nobody asked for
        continue;
      }
      const uint64_t e = s.in_flight.front();
      s.in_flight.pop_front();
      st.out_codes[e] = s.out_o.read();
      st.mismatches += st.out_codes[e] != gold[e];
      ++done;
    }
    if (cycle > 64 + 4 * (sched.chunks() + outputs) + 1000000) break;  // a hung pipeline
  }
  st.chunks = sched.chunks();
  st.stall_cycles = sched.stall_cycles();
  st.idle_cycles = sched.idle_cycles();
  st.cycles = cycle;
  st.outputs = outputs;
  st.mismatches += outputs - done;
  st.lane_slots = static_cast<uint64_t>(p) * k * cycle;
  st.utilisation = st.lane_slots ? static_cast<double>(st.macs) / st.lane_slots : 0;
  return st;
}

}  // namespace ristsim::cycle
