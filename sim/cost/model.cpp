// The cost model's primitives (see model.h).
#include "cost/model.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>

namespace ristsim::cost {

AdderTreeShape adder_tree_shape(numeric::FixedType inputs, int fan_in) {
  AdderTreeShape s;
  s.fan_in = fan_in;
  int n = fan_in < 1 ? 1 : fan_in;
  int level = 0;
  while (n > 1) {
    ++level;
    const int width = numeric::tree_level_type(inputs, level - 1).bits;
    const int pairs = n / 2;
    s.adders += pairs;
    s.adder_bits += pairs * width;
    n = n - pairs;  // pairs sums plus an odd value out
  }
  s.levels = level;
  s.output = numeric::tree_level_type(inputs, level);
  return s;
}

int parse_node_nm(const std::string& node) {
  size_t i = 0;
  int v = 0;
  while (i < node.size() && std::isdigit(static_cast<unsigned char>(node[i]))) {
    v = v * 10 + (node[i] - '0');
    if (v > 100000) return -1;
    ++i;
  }
  if (i == 0) return -1;
  while (i < node.size() && node[i] == ' ') ++i;
  const std::string rest = node.substr(i);
  if (rest.empty() || rest == "nm") return v;
  return -1;
}

double interp_loglog(const std::vector<std::pair<double, double>>& p, double x) {
  if (p.empty()) throw std::invalid_argument("interp_loglog: no points");
  if (p.size() == 1) return p[0].second * x / p[0].first;
  size_t i = 0;  // segment [i, i + 1]
  while (i + 2 < p.size() && x > p[i + 1].first) ++i;
  const double lx0 = std::log(p[i].first), lx1 = std::log(p[i + 1].first);
  const double ly0 = std::log(p[i].second), ly1 = std::log(p[i + 1].second);
  const double lx = std::log(x);
  if (lx == lx0) return p[i].second;  // exact at the anchors
  if (lx == lx1) return p[i + 1].second;
  return std::exp(ly0 + (ly1 - ly0) * (lx - lx0) / (lx1 - lx0));
}

TechModel::TechModel(config::TechTable table, int node_nm)
    : table_(std::move(table)), node_nm_(node_nm) {
  const config::NodeScaling* own = nullptr;
  const config::NodeScaling* at = nullptr;
  std::string have;
  for (const config::NodeScaling& n : table_.nodes) {
    if (n.nm == table_.node_nm) own = &n;
    if (n.nm == node_nm) at = &n;
    have += (have.empty() ? "" : ", ") + std::to_string(n.nm) + "nm";
  }
  if (!own || !at)
    throw std::invalid_argument("technology node " + std::to_string(node_nm) +
                                "nm is not in the table " + table_.path + " (its nodes: " + have +
                                ")");
  area_factor_ = at->area / own->area;
  energy_factor_ = at->energy_poly() / own->energy_poly();
  const auto& adds = table_.operations.at("int_add");
  const config::TechAnchor& widest = adds.back();
  energy_per_ge_pj_ = widest.energy_pj / (widest.area_um2 / table_.nand2_area_um2);
}

Cost TechModel::from_anchors(const std::string& op, double size, bool square) const {
  const auto it = table_.operations.find(op);
  if (it == table_.operations.end()) throw std::invalid_argument("no anchors for " + op);
  std::vector<std::pair<double, double>> area, energy;
  for (const config::TechAnchor& a : it->second) {
    const double x = square ? double(a.bits) * a.bits : a.bits;
    area.emplace_back(x, a.area_um2);
    energy.emplace_back(x, a.energy_pj);
  }
  Cost c;
  if (size <= 0) return c;
  const double a45 = interp_loglog(area, size);
  c.ge = a45 / table_.nand2_area_um2;
  c.area_um2 = a45 * area_factor_;
  c.energy_pj = interp_loglog(energy, size) * energy_factor_;
  return c;
}

Cost TechModel::int_multiplier(int m, int n) const {
  if (m <= 0 || n <= 0) return Cost{};
  return from_anchors("int_mult", double(m) * n, true);
}
Cost TechModel::adder(int bits) const {
  return from_anchors("int_add", bits, false);
}
Cost TechModel::fp_multiplier(int bits) const {
  return from_anchors("fp_mult", bits, false);
}
Cost TechModel::fp_adder(int bits) const {
  return from_anchors("fp_add", bits, false);
}

Cost TechModel::gates(const std::string& cell, double count) const {
  const auto it = table_.cells_um2.find(cell);
  if (it == table_.cells_um2.end())
    throw std::invalid_argument("no cell '" + cell + "' in the technology table");
  Cost c;
  c.ge = count_nonneg(count) * it->second / table_.nand2_area_um2;
  c.area_um2 = c.ge * nand2_um2();
  c.energy_pj = c.ge * energy_per_ge_pj();
  return c;
}

Cost TechModel::barrel_shifter(int width, uint64_t positions) const {
  if (width <= 0 || positions <= 1) return Cost{};
  return mux2(double(width) * numeric::ceil_log2(positions));
}

Cost TechModel::left_shifter(int in_bits, uint64_t positions, int out_bits) const {
  if (in_bits <= 0 || positions <= 1 || out_bits <= 0) return Cost{};
  // Level j: output bit i is sel ? x[i - 2^j] : x[i], where x (the previous
  // level) reaches `have` bits: a multiplexer where both can be nonzero
  // (2^j <= i < have), an AND2 where only one can (the zeros shifted in below,
  // the new bits above), up to `reach` bits.
  const uint64_t out = uint64_t(out_bits);
  double muxes = 0, ands = 0;
  uint64_t have = std::min<uint64_t>(out, uint64_t(in_bits));
  for (int j = 0; j < numeric::ceil_log2(positions); ++j) {
    const uint64_t step = uint64_t{1} << j;
    const uint64_t reach = std::min<uint64_t>(out, have + step);
    const uint64_t both = have > step ? std::min(have, reach) - step : 0;
    muxes += double(both);
    ands += double(reach - both);
    have = reach;
  }
  return mux2(muxes) + gates("AND", ands);
}

Cost TechModel::adder_tree(numeric::FixedType inputs, int fan_in) const {
  Cost c;
  int n = fan_in < 1 ? 1 : fan_in;
  int level = 0;
  while (n > 1) {
    ++level;
    const int pairs = n / 2;
    c += adder(numeric::tree_level_type(inputs, level - 1).bits) * pairs;
    n -= pairs;
  }
  return c;
}

Cost TechModel::constant_multiplier(int bits, uint64_t c) const {
  Cost r;
  for (int i = 1; i < bits && i < 64; ++i)
    if ((c >> i) & 1) r += adder(bits - i);
  return r;
}

Cost TechModel::shift_round(int in_bits, int max_left, int shift_bits,
                            numeric::Rounding mode) const {
  // rtl/ristsim_shift_round.sv, cell by cell.
  const int out_bits = in_bits + std::max(max_left, 1);
  const int ext = in_bits + 2;  // the right path's width
  const uint64_t right_max = uint64_t(in_bits) + 1;
  Cost c;
  c += incrementer(shift_bits);  // amount_l = -shift (inverters absorbed)
  // Both amounts clamped: a shift_bits-bit comparison (about two gates a bit)
  // and a 2:1 multiplexer per amount bit.
  c += (gates("NAND", 2.0 * shift_bits) + mux2(shift_bits)) * 2;
  c += barrel_shifter(out_bits, uint64_t(std::max(max_left, 1)) + 1);  // left, exact
  c += barrel_shifter(ext, right_max + 1);                             // right, floor
  // The dropped-bit mask (a thermometer code of the amount) and rem = ext & mask.
  c += barrel_shifter(ext, right_max + 1) * 0.5 + gates("AND", ext);
  const bool nearest =
      mode == numeric::Rounding::nearest_even || mode == numeric::Rounding::nearest_away;
  if (mode != numeric::Rounding::down) {
    c += gates("OR", ext - 1);  // rem != 0
    if (nearest) {
      // half = 1 << (amount - 1): a decoder; rem > half and rem == half: a
      // magnitude comparator (about three gates a bit).
      c += gates("AND", ext) + gates("NAND", 3.0 * ext);
    }
    c += incrementer(ext);  // floor + up
  }
  c += mux2(out_bits);  // left or right result
  return c;
}

double TechModel::sram_pj_per_bit(double capacity_bytes, bool write) const {
  std::vector<std::pair<double, double>> p;
  for (const config::SramPoint& s : table_.sram) p.emplace_back(s.bytes, s.read_pj);
  const double per_access = interp_loglog(p, capacity_bytes) * energy_factor_;
  return per_access / table_.sram_access_bits * (write ? table_.sram_write_to_read : 1.0);
}

double TechModel::register_file_pj_per_bit(double bytes, int word_bits, bool write) const {
  if (write) return gates("DFF_P", 1).energy_pj;
  const double words = std::max(1.0, std::floor(bytes * 8.0 / std::max(1, word_bits)));
  const double levels = std::max(1.0, std::ceil(std::log2(words)));
  return mux2(levels).energy_pj;
}

double TechModel::dram_pj_per_bit(const std::string& type) const {
  const auto it = table_.dram.find(type);
  if (it == table_.dram.end()) {
    std::string have;
    for (const auto& [k, v] : table_.dram) have += (have.empty() ? "" : ", ") + k;
    throw std::invalid_argument("unknown DRAM type '" + type + "' (the table has: " + have + ")");
  }
  return it->second.energy_pj / it->second.access_bits;
}

std::string TechModel::source_of(const std::string& op) const {
  const auto it = table_.operations.find(op);
  if (it == table_.operations.end() || it->second.empty()) return "";
  return it->second.front().source;
}

}  // namespace ristsim::cost
