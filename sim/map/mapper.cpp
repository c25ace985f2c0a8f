// The mapper's search and its analytic cycle and access model (see mapper.h).
#include "map/mapper.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace ristsim::map {

namespace {

using config::Dataflow;
using config::Interconnect;
using config::MemoryKind;
using config::MemoryOperand;

uint64_t cdiv(uint64_t a, uint64_t b) {
  return b ? (a + b - 1) / b : 0;
}

/// Tile sizes of a dimension D mapped in granules of g: for every tile count j
/// the smallest tile that covers D in j tiles (a multiple of g, or D). Every j
/// up to `limit`; beyond, only powers of two (the heuristic).
std::vector<uint64_t> tile_sizes(uint64_t d, uint64_t g, uint64_t limit, bool* exhaustive) {
  const uint64_t units = cdiv(d, g);
  std::set<uint64_t> s;
  for (uint64_t j = 1; j <= std::min(units, limit); ++j) s.insert(std::min(d, g * cdiv(units, j)));
  if (units > limit) {
    *exhaustive = false;
    for (uint64_t j = limit; j <= units; j *= 2) s.insert(std::min(d, g * cdiv(units, j)));
    s.insert(std::min(d, g));
  }
  return {s.begin(), s.end()};
}

/// The pieces of dimension d cut into tiles of t: (size, how many).
std::vector<std::pair<uint64_t, uint64_t>> pieces(uint64_t d, uint64_t t) {
  std::vector<std::pair<uint64_t, uint64_t>> v;
  if (d / t) v.push_back({t, d / t});
  if (d % t) v.push_back({d % t, 1});
  return v;
}

/// Does `op` depend on loop `dim` (0 m, 1 n, 2 k)?
bool indexes(int op, int dim) {
  static const bool t[3][3] = {{true, false, true}, {false, true, true}, {true, true, false}};
  return t[op][dim];
}

int dim_of(char c) {
  return c == 'm' ? 0 : c == 'n' ? 1 : 2;
}

/// How many times the tiles of `op` are brought in by loops `order` (outer to
/// inner) of `count` iterations: a loop multiplies the fetches if it indexes
/// the operand, or if a loop inside it does (the tile changed in between).
double fetches(int op, const std::string& order, const uint64_t count[3]) {
  double f = 1;
  for (size_t i = 0; i < order.size(); ++i) {
    const int d = dim_of(order[i]);
    bool inner_indexes = false;
    for (size_t j = i + 1; j < order.size(); ++j)  // a loop of one iteration changes nothing
      inner_indexes |= indexes(op, dim_of(order[j])) && count[dim_of(order[j])] > 1;
    if (indexes(op, d) || inner_indexes) f *= double(count[d]);
  }
  return f;
}

struct Eval {
  LayerMap map;
  double objective[3] = {0, 0, 0};  ///< compared in order; the last: bits moved, outermost first
};

class Mapper {
 public:
  Mapper(const LayerShape& l, const config::ArraySpec& a, const config::MemoryHierarchy& h,
         const Options& o)
      : l_(l), a_(a), h_(h), o_(o) {
    if (l.m == 0 || l.n == 0 || l.k == 0)
      throw std::invalid_argument("layer " + l.name + ": empty matrix product");
    rho_ = l.input_elements ? double(l.input_elements) / (double(l.m) * double(l.k)) : 1.0;
    systolic_ = a.interconnect == Interconnect::systolic;
    // A broadcast array is a column of `pes` PEs (code may set pes alone).
    rows_ = systolic_ ? uint64_t(std::max(1, a.rows)) : uint64_t(std::max(1, a.pes));
    cols_ = systolic_ ? uint64_t(std::max(1, a.cols)) : 1;
    for (size_t i = 0; i < h.levels.size(); ++i)
      if (h.levels[i].kind == MemoryKind::sram && !(h.levels[i].capacity_bytes > 0))
        throw std::invalid_argument("memory level " + h.levels[i].name +
                                    ": buffer capacity not resolved");
  }

  /// Granule of each dimension (what one array row / column takes) and whether
  /// the dimension may be tiled at the DRAM level.
  void granules(uint64_t g[3], bool tiled[3]) const {
    const uint64_t R = rows_, C = cols_, L = uint64_t(a_.lanes);
    g[0] = g[1] = 1;
    g[2] = L;
    tiled[0] = tiled[1] = true;
    tiled[2] = false;  // output stationary: the sums stay in the PEs over all of K
    if (!systolic_) return;
    switch (a_.dataflow) {
      case Dataflow::output_stationary: g[0] = R; g[1] = C; break;
      case Dataflow::weight_stationary: g[2] = R * L; g[1] = C; tiled[2] = true; break;
      case Dataflow::input_stationary: g[2] = R * L; g[0] = C; tiled[2] = true; break;
    }
  }

  LayerMap run() {
    have_best_ = false;
    uint64_t g[3];
    bool tiled[3];
    granules(g, tiled);
    const uint64_t dims[3] = {l_.m, l_.n, l_.k};
    bool exhaustive = true;
    std::vector<uint64_t> cand[3];
    for (int d = 0; d < 3; ++d)
      cand[d] = tiled[d] ? tile_sizes(dims[d], g[d], o_.exhaustive_tiles, &exhaustive)
                         : std::vector<uint64_t>{dims[d]};
    std::string order = "kmn";  // sorted, for next_permutation
    Eval best;
    uint64_t tried = 0, valid = 0;
    do {
      for (uint64_t tm : cand[0])
        for (uint64_t tn : cand[1])
          for (uint64_t tk : cand[2]) {
            ++tried;
            Eval e;
            if (!evaluate(tm, tn, tk, order, &e)) continue;
            ++valid;
            if (!have_best_ || better(e, best)) {
              best = e;
              have_best_ = true;
            }
          }
    } while (std::next_permutation(order.begin(), order.end()));
    if (!have_best_)
      throw std::invalid_argument("layer " + l_.name + ": no tiling fits the buffers (" +
                                  smallest_fit_note(cand) + ")");
    best.map.mapping.exhaustive = exhaustive;
    best.map.mapping.candidates = tried;
    best.map.mapping.valid = valid;
    return best.map;
  }

 private:
  bool better(const Eval& a, const Eval& b) const {
    const double eps = 1e-12;
    for (int i = 0; i < 3; ++i) {
      if (a.objective[i] < b.objective[i] * (1 - eps)) return true;
      if (a.objective[i] > b.objective[i] * (1 + eps)) return false;
    }
    return false;
  }

  /// Which buffer the smallest tiles overflow, and by how much.
  std::string smallest_fit_note(const std::vector<uint64_t> cand[3]) const {
    const uint64_t tm = cand[0].front(), tn = cand[1].front(), tk = cand[2].front();
    for (const config::MemoryLevel& lv : h_.levels) {
      if (lv.kind != MemoryKind::sram) continue;
      const double used = buffer_bytes(lv, tm, tn, tk);
      if (used > lv.capacity_bytes)
        return lv.name + " needs " + std::to_string(uint64_t(std::ceil(used))) +
               " bytes for the smallest tiles (m" + std::to_string(tm) + " n" +
               std::to_string(tn) + " k" + std::to_string(tk) + ", double buffered) and holds " +
               std::to_string(uint64_t(lv.capacity_bytes));
    }
    return "no buffer";
  }

  /// Bytes a buffer holds for tiles tm x tn x tk of the operands it keeps (double buffered).
  double buffer_bytes(const config::MemoryLevel& lv, uint64_t tm, uint64_t tn, uint64_t tk) const {
    const bool psums_in_buffer = systolic_ && a_.dataflow != Dataflow::output_stationary;
    const double tile_bytes[3] = {
        2.0 * double(tm) * double(tk) * rho_ * l_.bits[kInputs] / 8.0,
        2.0 * double(tk) * double(tn) * l_.bits[kWeights] / 8.0,
        2.0 * double(tm) * double(tn) * (psums_in_buffer ? l_.psum_bits : l_.bits[kOutputs]) /
            8.0};
    double used = 0;
    for (int op = 0; op < 3; ++op)
      if (holds(lv, op)) used += tile_bytes[op];
    return used;
  }

  /// Compute cycles and folds of one tile of m x n x k.
  void tile_compute(uint64_t m, uint64_t n, uint64_t k, uint64_t* cycles, uint64_t* folds) const {
    const uint64_t R = rows_, C = cols_;
    const uint64_t kc = cdiv(k, uint64_t(a_.lanes));
    if (!systolic_) {
      *folds = cdiv(m * n, R);
      *cycles = *folds * kc;
      return;
    }
    uint64_t sr = m, sc = n, t = kc;
    if (a_.dataflow == Dataflow::weight_stationary) sr = kc, sc = n, t = m;
    if (a_.dataflow == Dataflow::input_stationary) sr = kc, sc = m, t = n;
    *folds = cdiv(sr, R) * cdiv(sc, C);
    *cycles = *folds * (2 * R + C + t - 2 + uint64_t(o_.latency) - 1);
  }

  /// Words the array reads from / writes to the buffers for one tile.
  void tile_array_access(uint64_t m, uint64_t n, uint64_t k, Access acc[3]) const {
    const uint64_t R = rows_, C = cols_;
    const uint64_t kc = cdiv(k, uint64_t(a_.lanes));
    if (!systolic_) {
      acc[kInputs].reads += double(m * n * k);
      acc[kWeights].reads += double(m * n * k);
      acc[kOutputs].writes += double(m * n);
      return;
    }
    switch (a_.dataflow) {
      case Dataflow::output_stationary:
        acc[kInputs].reads += double(m * k * cdiv(n, C));
        acc[kWeights].reads += double(k * n * cdiv(m, R));
        acc[kOutputs].writes += double(m * n);
        break;
      case Dataflow::weight_stationary:
      case Dataflow::input_stationary: {
        const bool ws = a_.dataflow == Dataflow::weight_stationary;
        const uint64_t row_folds = cdiv(kc, R);
        acc[kWeights].reads += double(ws ? k * n : k * n * cdiv(m, C));
        acc[kInputs].reads += double(ws ? m * k * cdiv(n, C) : m * k);
        acc[kOutputs].writes += double(m * n * row_folds);
        acc[kOutputs].reads += double(m * n * (row_folds - 1));
        break;
      }
    }
  }

  bool evaluate(uint64_t tm, uint64_t tn, uint64_t tk, const std::string& order, Eval* e) const {
    const uint64_t t[3] = {tm, tn, tk};
    const uint64_t dims[3] = {l_.m, l_.n, l_.k};
    uint64_t count[3];
    for (int d = 0; d < 3; ++d) count[d] = cdiv(dims[d], t[d]);
    // Buffer capacity, double buffered.
    LayerMap& r = e->map;
    r.levels.resize(h_.levels.size());
    for (size_t i = 0; i < h_.levels.size(); ++i) {
      const config::MemoryLevel& lv = h_.levels[i];
      r.levels[i].name = lv.name;
      r.levels[i].kind = lv.kind;
      r.levels[i].capacity_bytes = lv.capacity_bytes;
      if (lv.kind != MemoryKind::sram) continue;
      const double used = buffer_bytes(lv, tm, tn, tk);
      if (used > lv.capacity_bytes) return false;
      r.levels[i].bytes_used = uint64_t(std::ceil(used));
    }

    // Compute cycles and the array's buffer accesses, tile by tile.
    uint64_t compute = 0, folds = 0;
    Access arr[3];
    for (auto [pm, cm] : pieces(l_.m, tm))
      for (auto [pn, cn] : pieces(l_.n, tn))
        for (auto [pk, ck] : pieces(l_.k, tk)) {
          uint64_t cy = 0, fo = 0;
          tile_compute(pm, pn, pk, &cy, &fo);
          const uint64_t times = cm * cn * ck;
          compute += cy * times;
          folds += fo * times;
          Access one[3];
          tile_array_access(pm, pn, pk, one);
          for (int op = 0; op < 3; ++op) {
            arr[op].reads += one[op].reads * double(times);
            arr[op].writes += one[op].writes * double(times);
          }
        }
    if (!systolic_) compute += uint64_t(o_.latency) - 1;
    const double mn = double(l_.m) * double(l_.n);
    arr[kOutputs].reads += mn * double(count[2] - 1);  // the previous K tile's partial sums

    // DRAM traffic of the loop order.
    const double in_words = double(l_.m) * double(l_.k) * rho_;
    const double dram_in = in_words * fetches(kInputs, order, count) / double(count[0] * count[2]);
    const double dram_w = double(l_.k) * double(l_.n) * fetches(kWeights, order, count) /
                          double(count[1] * count[2]);
    // Outputs: the K loop does not index them, so it re-visits them when it runs outside.
    double visits = 1;
    {
      bool inner_mn = false;
      for (size_t i = order.size(); i-- > 0;) {
        const int d = dim_of(order[i]);
        if (d == 2 && inner_mn) visits = double(count[2]);
        if (d != 2 && count[d] > 1) inner_mn = true;
      }
    }
    const double dram_out_w = mn * visits, dram_out_r = mn * (visits - 1);

    // Fill every level.
    const int pb = l_.psum_bits, ob = l_.bits[kOutputs];
    const uint64_t chunks = l_.m * l_.n * cdiv(l_.k, uint64_t(a_.lanes));
    const double macs = double(l_.macs());
    r.name = l_.name;
    r.macs = l_.macs();
    for (size_t i = 0; i < h_.levels.size(); ++i) {
      const config::MemoryLevel& lv = h_.levels[i];
      LevelCount& c = r.levels[i];
      for (int op = 0; op < 3; ++op) {
        if (!holds(lv, op)) continue;
        Access& x = c.op[op];
        double rb = 0, wb = 0;  // bits
        switch (lv.kind) {
          case MemoryKind::register_file: {
            // Per-PE registers: the stationary operand is loaded once per tile
            // and read by every MAC; a moving one is latched and read per MAC;
            // partial sums are read and written once per chunk.
            if (op == kOutputs) {
              x.reads = x.writes = double(chunks);
              rb = wb = x.reads * pb;
              break;
            }
            x.reads = macs;
            x.writes = macs;
            if (systolic_ && a_.dataflow == Dataflow::weight_stationary && op == kWeights)
              x.writes = double(l_.k) * double(l_.n) * double(count[0]);
            if (systolic_ && a_.dataflow == Dataflow::input_stationary && op == kInputs)
              x.writes = double(l_.m) * double(l_.k) * double(count[1]);
            rb = x.reads * l_.bits[op];
            wb = x.writes * l_.bits[op];
            break;
          }
          case MemoryKind::sram: {
            if (op == kOutputs) {
              x.writes = arr[kOutputs].writes + dram_out_r;
              x.reads = arr[kOutputs].reads + dram_out_w;
              // Final outputs at their own width, written once and drained once.
              wb = (x.writes - mn) * pb + mn * ob;
              rb = (x.reads - mn) * pb + mn * ob;
            } else {
              x.reads = arr[op].reads;
              x.writes = op == kInputs ? dram_in : dram_w;
              rb = x.reads * l_.bits[op];
              wb = x.writes * l_.bits[op];
            }
            break;
          }
          case MemoryKind::dram: {
            if (op == kOutputs) {
              x.writes = dram_out_w;
              x.reads = dram_out_r;
              wb = (x.writes - mn) * pb + mn * ob;
              rb = x.reads * pb;
            } else {
              x.reads = op == kInputs ? dram_in : dram_w;
              rb = x.reads * l_.bits[op];
            }
            break;
          }
        }
        c.read_bits += rb;
        c.write_bits += wb;
      }
      const LevelEnergy le = i < o_.energy.size() ? o_.energy[i] : LevelEnergy{};
      c.energy_pj = c.read_bits * le.read_pj_per_bit + c.write_bits * le.write_pj_per_bit;
      r.energy_pj += c.energy_pj;
      if (lv.kind == MemoryKind::sram && lv.width_bits > 0)
        c.supply_bits_per_cycle = double(lv.width_bits) * lv.banks;
      if (lv.kind == MemoryKind::dram && lv.bandwidth_bytes_per_cycle > 0)
        c.supply_bits_per_cycle = 8.0 * lv.bandwidth_bytes_per_cycle;
    }

    // Stalls: a buffer that cannot move its bits in the compute time, then DRAM.
    uint64_t fetch = 0, dram = 0;
    for (LevelCount& c : r.levels)
      if (c.kind == MemoryKind::sram && c.supply_bits_per_cycle > 0) {
        const double need = std::ceil((c.read_bits + c.write_bits) / c.supply_bits_per_cycle);
        if (need > double(compute)) fetch = std::max(fetch, uint64_t(need) - compute);
      }
    for (LevelCount& c : r.levels)
      if (c.kind == MemoryKind::dram && c.supply_bits_per_cycle > 0) {
        const double need = std::ceil((c.read_bits + c.write_bits) / c.supply_bits_per_cycle);
        // The first tiles must arrive before anything computes (no overlap for them).
        const double first = std::ceil(
            (double(std::min(tm, l_.m)) * double(std::min(tk, l_.k)) * rho_ * l_.bits[kInputs] +
             double(std::min(tk, l_.k)) * double(std::min(tn, l_.n)) * l_.bits[kWeights]) /
            c.supply_bits_per_cycle);
        const double busy = double(compute + fetch);
        dram = uint64_t(first + std::max(0.0, need - first - busy));
      }
    r.compute_cycles = compute;
    r.fetch_stall_cycles = fetch;
    r.dram_stall_cycles = dram;
    r.cycles = compute + fetch + dram;
    for (LevelCount& c : r.levels)
      c.demand_bits_per_cycle = r.cycles ? (c.read_bits + c.write_bits) / double(r.cycles) : 0;
    r.utilisation = r.cycles ? macs / (double(r.cycles) * double(rows_ * cols_) * a_.lanes) : 0;

    Mapping& mp = r.mapping;
    mp.dataflow = a_.dataflow;
    mp.interconnect = a_.interconnect;
    mp.rows = int(rows_);
    mp.cols = int(cols_);
    mp.lanes = a_.lanes;
    const uint64_t kc = cdiv(l_.k, uint64_t(a_.lanes));
    mp.sr = l_.m, mp.sc = l_.n, mp.t = kc;
    if (systolic_ && a_.dataflow == Dataflow::weight_stationary) mp.sr = kc, mp.sc = l_.n, mp.t = l_.m;
    if (systolic_ && a_.dataflow == Dataflow::input_stationary) mp.sr = kc, mp.sc = l_.m, mp.t = l_.n;
    if (!systolic_) mp.sr = l_.m * l_.n, mp.sc = 1;
    mp.folds = folds;
    mp.tile[0] = tm, mp.tile[1] = tn, mp.tile[2] = tk;
    mp.order = order;
    const double cyc = double(r.cycles);
    if (o_.objective == Objective::energy)
      e->objective[0] = r.energy_pj, e->objective[1] = cyc;
    else
      e->objective[0] = cyc, e->objective[1] = r.energy_pj;
    // Ties (e.g. no energies given): the fewest bits moved, outer levels weighing most.
    double w = 1;
    for (size_t i = r.levels.size(); i-- > 0; w *= 1e-3)
      e->objective[2] += w * (r.levels[i].read_bits + r.levels[i].write_bits);
    return true;
  }

  static bool holds(const config::MemoryLevel& lv, int op) {
    return lv.kind == MemoryKind::dram || lv.operand == MemoryOperand::shared ||
           int(lv.operand) == op;
  }

  const LayerShape& l_;
  const config::ArraySpec& a_;
  const config::MemoryHierarchy& h_;
  const Options& o_;
  double rho_ = 1;
  bool systolic_ = false;
  bool have_best_ = false;
  uint64_t rows_ = 1, cols_ = 1;
};

}  // namespace

const char* operand_name(int op) {
  return op == kInputs ? "inputs" : op == kWeights ? "weights" : "outputs";
}

std::string Mapping::text() const {
  std::string s = std::to_string(rows) + "x" + std::to_string(cols) + " " +
                  config::to_string(interconnect) + " " + config::to_string(dataflow) +
                  ": Sr " + std::to_string(sr) + ", Sc " + std::to_string(sc) + ", T " +
                  std::to_string(t) + ", " + std::to_string(folds) + " folds; tiles m" +
                  std::to_string(tile[0]) + " n" + std::to_string(tile[1]) + " k" +
                  std::to_string(tile[2]) + ", loops " + order;
  return s;
}

LayerMap map_layer(const LayerShape& layer, const config::ArraySpec& array,
                   const config::MemoryHierarchy& memory, const Options& opt) {
  return Mapper(layer, array, memory, opt).run();
}

uint64_t scalesim_cycles(config::Dataflow df, uint64_t m, uint64_t n, uint64_t k, int rows,
                         int cols) {
  uint64_t sr = m, sc = n, t = k;
  if (df == Dataflow::weight_stationary) sr = k, sc = n, t = m;
  if (df == Dataflow::input_stationary) sr = k, sc = m, t = n;
  const uint64_t R = uint64_t(rows), C = uint64_t(cols);
  return (2 * R + C + t - 2) * cdiv(sr, R) * cdiv(sc, C);
}

}  // namespace ristsim::map
