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
  sc_signal<uint32_t> out_o;
  std::unique_ptr<PeModel> pe;
  std::deque<uint64_t> work;       ///< output elements still to start
  std::deque<uint64_t> in_flight;  ///< elements whose last chunk was issued
  size_t chunk = 0;                ///< next chunk of work.front()
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
    m.valid_o(s->valid_o);
    m.out_o(s->out_o);
    m.sat_o(s->sat_o);
    m.acc_ovf_o(s->acc_ovf_o);
    s->lane_en.write(en0);
    s->act.write(c0);
    s->wgt.write(c0);
    s->seed.write(shape.fmt.out.seed);
    s->stream.write(run.stream);
    slots.push_back(std::move(s));
  }
  for (uint64_t e = 0; e < outputs; ++e) slots[e % p]->work.push_back(e);

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
  double credit = 0;
  const double words_per_chunk = 2.0 * k;
  uint64_t done = 0, cycle = 0, rotate = 0;
  std::vector<std::vector<kernels::ExactTerm>> cur_terms(static_cast<size_t>(p));
  std::vector<int> cur_k(static_cast<size_t>(p), 0);
  while (done < outputs) {
    if (run.words_per_cycle > 0)
      credit = std::min(credit + run.words_per_cycle, words_per_chunk * p);
    for (int j = 0; j < p; ++j) {
      PeSlot& s = *slots[(rotate + j) % p];
      const int si = static_cast<int>((rotate + j) % p);
      if (s.work.empty()) {
        s.valid.write(false);
        ++st.idle_cycles;
        continue;
      }
      if (run.words_per_cycle > 0 && credit < words_per_chunk) {
        s.valid.write(false);
        ++st.stall_cycles;
        continue;
      }
      credit -= run.words_per_cycle > 0 ? words_per_chunk : 0;
      const uint64_t e = s.work.front();
      if (s.chunk == 0) {
        auto tk = terms_of(e);
        cur_terms[si] = std::move(tk.first);
        cur_k[si] = tk.second;
      }
      const std::vector<kernels::ExactTerm>& t = cur_terms[si];
      const size_t start = s.chunk * static_cast<size_t>(k);
      Lanes<uint8_t> en = en0;
      Lanes<uint32_t> a = c0, w = c0;
      for (int l = 0; l < k; ++l) {
        const size_t idx = start + static_cast<size_t>(l);
        if (idx >= t.size()) continue;
        en.v[l] = !t[idx].padding;
        a.v[l] = t[idx].act_code;
        w.v[l] = t[idx].wt_code;
        st.macs += en.v[l];
      }
      ChunkTag tag;
      tag.first = s.chunk == 0;
      tag.last = start + static_cast<size_t>(k) >= t.size();
      tag.bias = bias_codes ? bias_codes[cur_k[si]] : 0;
      tag.index = shape.fmt.out.rounding == numeric::Rounding::stochastic ? e : 0;
      s.valid.write(true);
      s.tag.write(tag);
      s.lane_en.write(en);
      s.act.write(a);
      s.wgt.write(w);
      ++st.chunks;
      if (tag.last) {
        s.in_flight.push_back(e);
        s.work.pop_front();
        s.chunk = 0;
      } else {
        ++s.chunk;
      }
    }
    ++rotate;
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
    if (cycle > 64 + 4 * (st.chunks + outputs) + 1000000) break;  // a hung pipeline
  }
  st.cycles = cycle;
  st.outputs = outputs;
  st.mismatches += outputs - done;
  st.lane_slots = static_cast<uint64_t>(p) * k * cycle;
  st.utilisation = st.lane_slots ? static_cast<double>(st.macs) / st.lane_slots : 0;
  return st;
}

}  // namespace ristsim::cycle
