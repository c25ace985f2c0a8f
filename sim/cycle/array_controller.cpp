// The PE array's controller (see array_controller.h and docs/array.md).
#include "cycle/array_controller.h"

#include <algorithm>
#include <stdexcept>

#include "map/mapper.h"

namespace ristsim::cycle {

using config::Dataflow;
using rtlgen::ArrayInputs;
using rtlgen::ArrayOutputs;
using rtlgen::ArraySouth;

namespace {

uint64_t cdiv(uint64_t a, uint64_t b) {
  return (a + b - 1) / b;
}

}  // namespace

uint64_t fold_cycles(const ArrayGeometry& g, int latency, uint64_t t) {
  return 2 * uint64_t(g.rows) + uint64_t(g.cols) + t + uint64_t(latency) - 3;
}

std::vector<ArrayTile> mapping_tiles(const map::Mapping& mp, uint64_t m, uint64_t n, uint64_t k) {
  const uint64_t dims[3] = {m, n, k};
  uint64_t size[3], count[3];
  for (int d = 0; d < 3; ++d) {
    size[d] = mp.tile[d] ? std::min(mp.tile[d], dims[d]) : dims[d];
    count[d] = cdiv(dims[d], size[d]);
  }
  std::string order = mp.order.size() == 3 ? mp.order : "mnk";
  std::vector<ArrayTile> tiles;
  uint64_t idx[3] = {0, 0, 0};
  auto dim = [](char c) { return c == 'm' ? 0 : c == 'n' ? 1 : 2; };
  const int outer = dim(order[0]), mid = dim(order[1]), inner = dim(order[2]);
  for (idx[outer] = 0; idx[outer] < count[outer]; ++idx[outer])
    for (idx[mid] = 0; idx[mid] < count[mid]; ++idx[mid])
      for (idx[inner] = 0; idx[inner] < count[inner]; ++idx[inner]) {
        ArrayTile t;
        t.m0 = idx[0] * size[0], t.m1 = std::min(m, t.m0 + size[0]);
        t.n0 = idx[1] * size[1], t.n1 = std::min(n, t.n0 + size[1]);
        t.k0 = idx[2] * size[2], t.k1 = std::min(k, t.k0 + size[2]);
        tiles.push_back(t);
      }
  return tiles;
}

uint64_t ArrayLayer::chunks() const {
  return cdiv(k, uint64_t(spec.lanes));
}

ArrayLayer make_array_layer(const rtlgen::PeShape& shape, const kernels::ConvShape& conv,
                            const uint32_t* in_codes, const uint32_t* w_codes,
                            const uint32_t* bias_codes, uint64_t stream, const std::string& name) {
  if (conv.n != 1) throw rtlgen::Unsupported("array: one image at a time (n = 1)");
  if (conv.groups != 1)
    throw rtlgen::Unsupported("array: grouped convolution (groups " + std::to_string(conv.groups) +
                              ") does not map onto the array's shared operand rows");
  ArrayLayer l;
  l.name = name;
  l.conv = conv;
  l.m = uint64_t(conv.oh) * uint64_t(conv.ow);
  l.n = uint64_t(conv.k);
  l.k = uint64_t(conv.c) * uint64_t(conv.kh) * uint64_t(conv.kw);
  l.spec = exact_spec(shape, stream);
  l.jobs = layer_jobs(conv, in_codes, w_codes, bias_codes);
  const uint64_t chunks = l.chunks();
  l.golden.resize(l.jobs.size());
  l.psum.assign(l.jobs.size() * chunks, 0);
  l.psum_ovf.assign(l.jobs.size() * chunks, 0);
  kernels::ExactDotTrace tr;
  for (size_t e = 0; e < l.jobs.size(); ++e) {
    l.golden[e] = golden(l.spec, l.jobs[e], &tr);
    // The psum after each chunk and its sticky overflow: the accumulator of
    // exact_dot() (acc = ovf(first ? sum : acc + sum)), its flag recomputed.
    bool ovf = false;
    for (uint64_t j = 0; j < chunks; ++j) {
      const int64_t before = j == 0 ? 0 : tr.acc_after[j - 1];
      const int64_t after = tr.acc_after[j];
      ovf = ovf || before + tr.chunk_sums[j] != after;
      l.psum[e * chunks + j] = after;
      l.psum_ovf[e * chunks + j] = ovf;
    }
  }
  DotJob zero;
  zero.terms.resize(1);
  zero.terms[0].padding = true;
  l.zero = golden(l.spec, zero);
  return l;
}

std::string ArrayMismatch::text() const {
  if (!found) return "none";
  std::string s = "cycle " + std::to_string(cycle) + ", PE column " + std::to_string(col);
  s += row >= 0 ? ", row " + std::to_string(row) : std::string(", row unknown (psum chain)");
  s += ", port " + port + ": expected " + std::to_string(expected) + ", got " +
       std::to_string(actual);
  if (element >= 0) s += " (output element " + std::to_string(element) + ")";
  return s;
}

bool compare_south(const ArrayOutputs& e, const ArrayOutputs& a, ArrayMismatch* m) {
  const size_t n = std::max(e.south.size(), a.south.size());
  for (size_t c = 0; c < n; ++c) {
    const ArraySouth x = c < e.south.size() ? e.south[c] : ArraySouth{};
    const ArraySouth y = c < a.south.size() ? a.south[c] : ArraySouth{};
    if (x == y) continue;
    const int64_t ev[7] = {x.valid, x.out, x.sat, x.acc_ovf, x.psum_valid, x.psum, x.psum_ovf};
    const int64_t av[7] = {y.valid, y.out, y.sat, y.acc_ovf, y.psum_valid, y.psum, y.psum_ovf};
    for (int p = 0; p < 7; ++p)
      if (ev[p] != av[p]) {
        m->found = true;
        m->col = int(c);
        m->port = rtlgen::kArrayOutputPorts[p];
        m->expected = ev[p];
        m->actual = av[p];
        return false;
      }
  }
  return true;
}

double ArrayRunStats::utilisation() const {
  const double busy = double(fold_cycles + stall_cycles);
  return busy > 0 ? double(macs) / (busy * rows * cols * lanes) : 0;
}

ArrayController::ArrayController(const rtlgen::PeShape& shape, const ArrayGeometry& geometry,
                                 const ArrayLayer& layer, std::vector<ArrayTile> tiles,
                                 std::vector<uint64_t> stalls)
    : shape_(shape),
      g_(geometry),
      layer_(layer),
      tiles_(std::move(tiles)),
      stalls_(std::move(stalls)),
      latency_(shape.latency()),
      lanes_(shape.lanes) {
  if (g_.rows < 1 || g_.cols < 1) throw std::invalid_argument("array: rows and cols must be >= 1");
  if (layer.spec.lanes != shape.lanes)
    throw std::invalid_argument("array: the layer was built for another PE (lanes)");
  if (tiles_.empty()) tiles_.push_back({0, layer.m, 0, layer.n, 0, layer.k});
  for (const ArrayTile& t : tiles_)
    if (t.k0 % uint64_t(lanes_) != 0)
      throw std::invalid_argument("array: a tile's K range must start at a multiple of the lanes");
  idle_ = idle();
  const size_t el = layer.jobs.size();
  buf_psum_.assign(el, 0);
  buf_ovf_.assign(el, 0);
  out_codes_.assign(el, 0);
  produced_.assign(el, 0);
  stats_.rows = g_.rows, stats_.cols = g_.cols, stats_.lanes = lanes_;
  plan();
}

ArrayInputs ArrayController::idle() const {
  ArrayInputs in;
  const size_t k = size_t(shape_.lanes);
  in.west.resize(size_t(g_.rows));
  for (auto& w : in.west) w.lane_en.assign(k, 0), w.code.assign(k, 0);
  in.north.resize(size_t(g_.cols));
  for (auto& n : in.north) n.lane_en.assign(k, 0), n.code.assign(k, 0);
  in.south.resize(size_t(g_.cols));
  in.seed = shape_.fmt.out.seed;
  in.stream = layer_.spec.stream;
  return in;
}

std::vector<ArrayFold> plan_folds(const ArrayGeometry& g, int latency, int lanes,
                                  const std::vector<ArrayTile>& tiles,
                                  const std::vector<uint64_t>& stalls, uint64_t* fold_total,
                                  uint64_t* stall_total) {
  const uint64_t R = uint64_t(g.rows), C = uint64_t(g.cols), K = uint64_t(lanes);
  std::vector<ArrayFold> folds;
  uint64_t s = kArraySetupCycles, in_folds = 0, stalled = 0;
  for (size_t ti = 0; ti < tiles.size(); ++ti) {
    const ArrayTile& t = tiles[ti];
    const uint64_t c0 = t.k0 / K, c1 = cdiv(t.k1, K);  // the tile's chunks
    auto add = [&](uint64_t row0, uint64_t row_end, uint64_t col0, uint64_t col_end, uint64_t t0,
                   uint64_t tn) {
      ArrayFold f;
      const size_t i = folds.size();
      const uint64_t idle = i < stalls.size() ? stalls[i] : 0;
      s += idle;
      stalled += idle;
      f.start = s, f.row0 = row0, f.row_end = row_end, f.col0 = col0, f.col_end = col_end;
      f.t0 = t0, f.t = tn, f.tile = ti;
      folds.push_back(f);
      const uint64_t F = fold_cycles(g, latency, tn);
      s += F;
      in_folds += F;
    };
    switch (g.dataflow) {
      case Dataflow::output_stationary:
        for (uint64_t m = t.m0; m < t.m1; m += R)
          for (uint64_t n = t.n0; n < t.n1; n += C) add(m, t.m1, n, t.n1, c0, c1 - c0);
        break;
      case Dataflow::weight_stationary:
        for (uint64_t n = t.n0; n < t.n1; n += C)
          for (uint64_t c = c0; c < c1; c += R) add(c, c1, n, t.n1, t.m0, t.m1 - t.m0);
        break;
      case Dataflow::input_stationary:
        for (uint64_t m = t.m0; m < t.m1; m += C)
          for (uint64_t c = c0; c < c1; c += R) add(c, c1, m, t.m1, t.n0, t.n1 - t.n0);
        break;
    }
  }
  if (fold_total) *fold_total = in_folds;
  if (stall_total) *stall_total = stalled;
  return folds;
}

void ArrayController::plan() {
  folds_ = plan_folds(g_, latency_, lanes_, tiles_, stalls_, &stats_.fold_cycles,
                      &stats_.stall_cycles);
  total_ = kArraySetupCycles + stats_.fold_cycles + stats_.stall_cycles;
  stats_.cycles = total_;
  stats_.folds = folds_.size();
  stats_.macs = layer_.m * layer_.n * layer_.k;
}

namespace {

/// Activation chunk `chunk` of pixel `m`: codes and lane enables (padding and
/// lanes past the last term disabled).
void act_chunk(const ArrayLayer& l, uint64_t m, uint64_t chunk, int lanes, std::vector<uint32_t>* code,
               std::vector<uint8_t>* en) {
  const std::vector<kernels::ExactTerm>& terms = l.jobs[m].terms;  // channel 0's job of pixel m
  for (int i = 0; i < lanes; ++i) {
    const uint64_t t = chunk * uint64_t(lanes) + uint64_t(i);
    const bool in = t < terms.size();
    (*code)[size_t(i)] = in ? terms[t].act_code : 0;
    (*en)[size_t(i)] = in && !terms[t].padding;
  }
}

/// Weight chunk `chunk` of channel `n` (lanes past the last term disabled).
void wgt_chunk(const ArrayLayer& l, uint64_t n, uint64_t chunk, int lanes,
               std::vector<uint32_t>* code, std::vector<uint8_t>* en) {
  const std::vector<kernels::ExactTerm>& terms = l.jobs[n * l.m].terms;  // pixel 0's job
  for (int i = 0; i < lanes; ++i) {
    const uint64_t t = chunk * uint64_t(lanes) + uint64_t(i);
    const bool in = t < terms.size();
    (*code)[size_t(i)] = in ? terms[t].wt_code : 0;
    (*en)[size_t(i)] = in;
  }
}

}  // namespace

void ArrayController::build_fold(const ArrayFold& f, std::vector<ArrayInputs>* in,
                                 std::vector<ArraySlot>* slots) {
  const uint64_t R = uint64_t(g_.rows), C = uint64_t(g_.cols), L = uint64_t(latency_);
  const uint64_t F = fold_cycles(g_, latency_, f.t);
  in->assign(F, idle_);
  slots->clear();
  const ArrayLayer& l = layer_;
  const uint32_t bias_mask = uint32_t(numeric::low_mask(shape_.bias_bits));
  auto bias_of = [&](uint64_t ch) { return l.jobs[ch * l.m].bias & bias_mask; };
  if (g_.dataflow == Dataflow::output_stationary) {
    // West: row r = pixel row0 + r, chunk t in cycle t + r; north: column c =
    // channel col0 + c, chunk t in cycle t + c.
    for (uint64_t r = 0; r < R; ++r) {
      const uint64_t px = f.row0 + r;
      const bool real = px < f.row_end;
      for (uint64_t t = 0; t < f.t; ++t) {
        rtlgen::ArrayWest& w = (*in)[t + r].west[r];
        w.valid = real;
        w.first = t == 0;
        w.last = t + 1 == f.t;
        if (real) {
          act_chunk(l, px, f.t0 + t, lanes_, &w.code, &w.lane_en);
          w.index = px;
        }
      }
    }
    for (uint64_t c = 0; c < C; ++c) {
      const uint64_t ch = f.col0 + c;
      const bool real = ch < f.col_end;
      for (uint64_t t = 0; t < f.t; ++t) {
        rtlgen::ArrayNorth& n = (*in)[t + c].north[c];
        n.valid = real;
        if (real) {
          wgt_chunk(l, ch, f.t0 + t, lanes_, &n.code, &n.lane_en);
          n.bias = bias_of(ch);
          n.index = ch * l.m;
        }
      }
    }
    // Drain: column c shows row R - 1 - j in cycle T + R + c + L - 2 + j.
    for (uint64_t c = 0; c < C; ++c)
      for (uint64_t j = 0; j < R; ++j) {
        const uint64_t r = R - 1 - j, px = f.row0 + r, ch = f.col0 + c;
        if (px >= f.row_end || ch >= f.col_end) continue;  // padded: valid 0
        ArraySlot s;
        s.cycle = f.start + f.t + R + c + L - 2 + j;
        s.col = int(c), s.row = int(r);
        s.element = int64_t(ch * l.m + px);
        slots->push_back(s);
      }
  } else {
    const bool ws = g_.dataflow == Dataflow::weight_stationary;
    const uint64_t chunks = l.chunks();
    // Load: north[c] carries the stationary chunk of row R - 1 - j in cycle j.
    for (uint64_t j = 0; j < R; ++j)
      for (uint64_t c = 0; c < C; ++c) {
        rtlgen::ArrayNorth& n = (*in)[j].north[c];
        n.valid = true;
        const uint64_t chunk = f.row0 + (R - 1 - j), item = f.col0 + c;
        if (chunk >= f.row_end || item >= f.col_end) continue;  // lane_en 0
        if (ws)
          wgt_chunk(l, item, chunk, lanes_, &n.code, &n.lane_en);
        else
          act_chunk(l, item, chunk, lanes_, &n.code, &n.lane_en);
      }
    const bool first = f.row0 == 0;
    const bool last = f.row0 + R >= chunks;
    const uint64_t last_chunk = std::min(f.row0 + R, chunks) - 1;
    for (uint64_t m = 0; m < f.t; ++m) {
      const uint64_t item_t = f.t0 + m;  // WS: a pixel; IS: a channel
      for (uint64_t r = 0; r < R; ++r) {
        rtlgen::ArrayWest& w = (*in)[R + m + r].west[r];
        w.valid = true;
        const uint64_t chunk = f.row0 + r;
        if (chunk >= f.row_end) continue;  // a padded row: the stored lane_en are 0
        if (ws)
          act_chunk(l, item_t, chunk, lanes_, &w.code, &w.lane_en);
        else
          wgt_chunk(l, item_t, chunk, lanes_, &w.code, &w.lane_en);
      }
      for (uint64_t c = 0; c < C; ++c) {
        const uint64_t item = f.col0 + c;
        const bool real = item < f.col_end;
        const uint64_t ch = ws ? item : item_t, px = ws ? item_t : item;
        const int64_t el = real ? int64_t(ch * l.m + px) : -1;
        rtlgen::ArrayNorth& n = (*in)[R + m + c].north[c];
        n.psum_first = first || !real;
        if (!n.psum_first) {
          bool o = false;
          buffered_psum(el, &n.psum, &o);
          n.psum_ovf = o;
        }
        rtlgen::ArraySouthCtl& sc = (*in)[2 * R + m + c + L - 2].south[c];
        sc.last = last;
        if (real) {
          sc.bias = bias_of(ch);
          sc.index = uint64_t(el);
        }
        ArraySlot s;
        s.cycle = f.start + 2 * R + m + c + L - 2;
        s.col = int(c);
        s.element = el;
        s.last = last;
        s.chunk = last_chunk;
        slots->push_back(s);
      }
    }
  }
  std::stable_sort(slots->begin(), slots->end(),
                   [](const ArraySlot& a, const ArraySlot& b) { return a.cycle < b.cycle; });
}

void ArrayController::buffered_psum(int64_t element, int64_t* psum, bool* ovf) const {
  *psum = buf_psum_[size_t(element)];
  *ovf = buf_ovf_[size_t(element)] != 0;
}

void ArrayController::load_window(uint64_t cycle) {
  if (next_fold_ < folds_.size() && folds_[next_fold_].start == cycle) {
    std::vector<ArraySlot> slots;
    build_fold(folds_[next_fold_], &win_in_, &slots);
    win_start_ = cycle;
    win_slots_.insert(win_slots_.end(), slots.begin(), slots.end());
    ++next_fold_;
  }
}

const ArrayInputs& ArrayController::inputs() {
  load_window(cycle_);
  if (cycle_ >= win_start_ && cycle_ - win_start_ < win_in_.size() && next_fold_ > 0)
    return win_in_[cycle_ - win_start_];
  idle_.reset = cycle_ < 2;
  idle_.cfg_we = cycle_ == 2 && shape_.runtime_fl;
  idle_.cfg_fl = shape_.runtime_fl ? rtlgen::runtime_fl_word(shape_) : 0;
  return idle_;
}

const ArrayOutputs& ArrayController::expected() {
  if (expected_cycle_ == cycle_) return expected_;
  load_window(cycle_);
  expected_.south.assign(size_t(g_.cols), ArraySouth{});
  for (const ArraySlot& s : win_slots_) {
    if (s.cycle > cycle_) break;
    if (s.cycle != cycle_) continue;
    ArraySouth& o = expected_.south[size_t(s.col)];
    if (s.last) {
      const Golden& gd = s.element >= 0 ? layer_.golden[size_t(s.element)] : layer_.zero;
      o.valid = true, o.out = gd.out, o.sat = gd.sat, o.acc_ovf = gd.acc_ovf;
    } else {
      o.psum_valid = true;
      if (s.element >= 0) {
        const size_t at = size_t(s.element) * layer_.chunks() + s.chunk;
        o.psum = layer_.psum[at];
        o.psum_ovf = layer_.psum_ovf[at] != 0;
      }
    }
  }
  expected_cycle_ = cycle_;
  return expected_;
}

void ArrayController::locate(ArrayMismatch* m) const {
  for (const ArraySlot& s : win_slots_) {
    if (s.cycle > cycle_) break;
    if (s.cycle == cycle_ && s.col == m->col) m->row = s.row, m->element = s.element;
  }
}

void ArrayController::observe(const ArrayOutputs& out) {
  const ArrayOutputs& exp = expected();
  ArrayMismatch m;
  if (!compare_south(exp, out, &m)) {
    ++stats_.mismatches;
    if (!first_.found) {
      first_ = m;
      first_.cycle = cycle_;
      locate(&first_);
    }
  }
  // Keep what the array wrote: partial sums into the buffer, converted outputs.
  size_t used = 0;
  for (const ArraySlot& s : win_slots_) {
    if (s.cycle > cycle_) break;
    ++used;
    if (s.cycle < cycle_) continue;
    const ArraySouth& o = size_t(s.col) < out.south.size() ? out.south[size_t(s.col)] : ArraySouth{};
    if (s.element < 0) {
      ++stats_.padded_slots;
      continue;
    }
    const size_t e = size_t(s.element);
    if (s.last) {
      out_codes_[e] = o.out;
      produced_[e] = o.valid;
      ++stats_.outputs;
    } else {
      buf_psum_[e] = o.psum;
      buf_ovf_[e] = o.psum_ovf;
      ++stats_.psums;
    }
  }
  win_slots_.erase(win_slots_.begin(), win_slots_.begin() + long(used));
  ++cycle_;
}

}  // namespace ristsim::cycle
