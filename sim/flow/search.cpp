// Bit-width search under an error margin: Ristretto's category search and a per-layer,
// sensitivity-guided greedy search. Every plan that is chosen is scored as a whole network:
// first on the search set, finally on the test split; a plan that misses the margin on the
// test split is backed off one width at a time, and the result says so.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "flow/flow.h"

namespace ristsim::flow {

std::vector<int> default_widths(Family f) {
  switch (f) {
    case Family::dynamic_fixed:
    case Family::fixed: return {16, 8, 4, 2, 1};
    case Family::minifloat: return {16, 8, 6, 5, 4};
    case Family::pow2: return {8, 6, 4, 3, 2};
  }
  return {16, 8, 4, 2, 1};
}

namespace {

/// Candidate widths of a category: activations of pow2 plans are dynamic fixed point.
std::vector<int> widths_for(const SearchOptions& o, Category c) {
  if (o.family == Family::pow2 && c == Category::act) return default_widths(Family::dynamic_fixed);
  return o.widths.empty() ? default_widths(o.family) : o.widths;
}

bool has_category(const std::vector<LayerRange>& ranges, Category c) {
  if (c == Category::act) return !ranges.empty();
  for (const LayerRange& r : ranges)
    if (r.fc == (c == Category::fc)) return true;
  return false;
}

int fixed_width(const SearchOptions& o, Category c) {
  return c == Category::conv ? o.fixed_conv : c == Category::fc ? o.fixed_fc : o.fixed_act;
}

std::string pct(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f %%", 100 * x);
  return b;
}

/// Final check on the test split, shared by both searches. `raise` moves the plan one step
/// back towards wider widths and returns false when nothing can be raised.
template <class Raise>
void check_on_test(Scorer& scorer, const engine::SampleStream& test, const SearchOptions& o,
                   SearchResult* r, Raise raise) {
  auto search_score = [&] {
    apply_fl_settings(scorer.ranges(), o.set_fl, &r->plan, r);
    r->quantized_search = scorer.score(&r->plan, true);
    if (o.fl_search) r->quantized_search = refine_fl(scorer, &r->plan, r->quantized_search, r, o.set_fl);
  };
  search_score();
  r->quantized_test = scorer.score_on(r->plan, test);
  while (r->baseline_test - r->quantized_test > o.margin) {
    const std::string before = pct(r->quantized_test);
    if (!raise(r)) {
      r->notes.push_back("the widest widths miss the margin on the test split (" +
                         pct(r->baseline_test - r->quantized_test) + " drop)");
      r->met = false;
      return;
    }
    search_score();
    r->quantized_test = scorer.score_on(r->plan, test);
    r->notes.back() += ": test top-1 " + before + " -> " + pct(r->quantized_test);
  }
  r->met = true;
}

const char* const kGroupNames[3] = {"weights", "inputs", "outputs"};

/// The groups of a plan whose FL can move: (layer, which), which 0 = weights (dynamic fixed
/// point only), 1 = inputs, 2 = outputs (fixed-point activations).
struct Unit {
  std::size_t layer;
  int which;
};
std::vector<Unit> fl_units(const Plan& plan) {
  std::vector<Unit> units;
  const bool fixed_acts = plan.family == Family::dynamic_fixed || plan.family == Family::pow2;
  for (std::size_t i = 0; i < plan.layers.size(); ++i) {
    const LayerBits& b = plan.layers[i];
    const int act = plan.family == Family::pow2 && !b.act ? plan.pow2_act_bits : b.act;
    if (plan.family == Family::dynamic_fixed && b.weights) units.push_back({i, 0});
    if (fixed_acts && act) units.push_back({i, 1}), units.push_back({i, 2});
  }
  return units;
}
int& fl_shift(Plan& p, const Unit& u) {
  LayerBits& b = p.layers[u.layer];
  return u.which == 0 ? b.fl_w : u.which == 1 ? b.fl_in : b.fl_out;
}
const config::NumberSpec& group_spec(const config::Arch& a, const Unit& u) {
  const config::LayerFormats& f = a.overrides[u.layer].formats;
  return u.which == 0 ? f.weights : u.which == 1 ? f.activations : f.outputs;
}
}  // namespace

FlSetting parse_fl_setting(const std::string& text) {
  const std::size_t dot = text.rfind('.', text.find('=')), eq = text.find('=');
  FlSetting s;
  if (dot != std::string::npos && eq != std::string::npos && dot > 0 && eq > dot) {
    s.layer = text.substr(0, dot);
    const std::string group = text.substr(dot + 1, eq - dot - 1), value = text.substr(eq + 1);
    s.which = -1;
    for (int w = 0; w < 3; ++w)
      if (group == kGroupNames[w]) s.which = w;
    try {
      std::size_t used = 0;
      s.fl = std::stoi(value, &used);
      if (used == value.size() && s.which >= 0 && std::abs(s.fl) <= 64) return s;
    } catch (const std::exception&) {
    }
  }
  throw FlowError("'" + text + "' is not LAYER.GROUP=FL (GROUP weights, inputs or outputs; FL an integer, e.g. ip2.outputs=1)");
}

void apply_fl_settings(const std::vector<LayerRange>& ranges, const std::vector<FlSetting>& set,
                       Plan* plan, SearchResult* r) {
  if (set.empty()) return;
  const std::vector<Unit> units = fl_units(*plan);
  for (const FlSetting& s : set) {
    const auto l = std::find_if(ranges.begin(), ranges.end(), [&](const LayerRange& x) { return x.name == s.layer; });
    if (l == ranges.end()) throw FlowError("--set-fl: '" + s.layer + "' is not a weighted layer of the net");
    const Unit u{std::size_t(l - ranges.begin()), s.which};
    if (std::none_of(units.begin(), units.end(), [&](const Unit& x) { return x.layer == u.layer && x.which == u.which; }))
      throw FlowError("--set-fl: " + s.layer + " " + kGroupNames[s.which] + " is not dynamic fixed point in this plan");
    fl_shift(*plan, u) = 0;
    const config::NumberSpec rule = group_spec(plan_arch(*plan, ranges, "rule", 1), u);
    fl_shift(*plan, u) = s.fl - rule.quantizer.format.fl;
    const std::string note = "FL given: " + s.layer + " " + kGroupNames[s.which] + " " + spec_string(rule) +
                             " -> " + spec_string(group_spec(plan_arch(*plan, ranges, "set", 1), u));
    if (std::find(r->notes.begin(), r->notes.end(), note) == r->notes.end()) r->notes.push_back(note);
  }
}

double refine_fl(Scorer& scorer, Plan* plan, double top1, SearchResult* r, const std::vector<FlSetting>& fixed) {
  const std::vector<LayerRange>& ranges = scorer.ranges();
  std::vector<Unit> units;
  for (const Unit& u : fl_units(*plan))
    if (std::none_of(fixed.begin(), fixed.end(), [&](const FlSetting& s) {
          return s.which == u.which && s.layer == ranges[u.layer].name;
        }))
      units.push_back(u);
  if (units.empty()) return top1;
  r->fl_searched = true;
  Plan start = *plan;
  double best = top1;
  for (int round = 0; round < 3; ++round) {
    bool changed = false;
    for (const Unit& u : units) {
      const int cur = fl_shift(*plan, u);
      Plan trial = *plan;
      for (int d = -2; d <= 3; ++d) {
        if (d == 0) continue;
        fl_shift(trial, u) = cur + d;
        const double t = scorer.score(&trial, false);
        if (t > best) best = t, fl_shift(*plan, u) = cur + d, changed = true;
      }
    }
    if (!changed) break;
  }
  const config::Arch a0 = plan_arch(start, ranges, "start", 1), a1 = plan_arch(*plan, ranges, "refined", 1);
  for (const Unit& u : units) {
    if (fl_shift(*plan, u) == fl_shift(start, u)) continue;
    r->notes.push_back("FL search: " + ranges[u.layer].name + " " + (u.which ? kGroupNames[u.which] : "weights and bias") +
                       " " + spec_string(group_spec(a0, u)) + " -> " + spec_string(group_spec(a1, u)));
  }
  return best;
}

SearchResult search_category(Scorer& scorer, const engine::SampleStream& test,
                             const SearchOptions& o) {
  const std::vector<LayerRange>& ranges = scorer.ranges();
  SearchResult r;
  r.baseline_search = scorer.baseline();
  r.baseline_test = scorer.baseline(&test);
  const Category cats[3] = {Category::conv, Category::fc, Category::act};
  std::map<Category, std::vector<int>> widths;
  std::map<Category, int> chosen;          // index into widths[c]
  std::map<Category, std::vector<double>> drop;  // per width, the category alone
  for (Category c : cats) {
    widths[c] = widths_for(o, c);
    const int fixed = fixed_width(o, c);
    if (fixed >= 0 || !has_category(ranges, c)) {
      widths[c] = {fixed >= 0 ? fixed : 0};
      chosen[c] = 0;
      drop[c] = {0};
      continue;
    }
    int best = 0;
    bool all_ok = true;
    for (std::size_t i = 0; i < widths[c].size(); ++i) {
      const int w = widths[c][i];
      Plan p = category_plan(o.family, ranges, c == Category::conv ? w : 0,
                             c == Category::fc ? w : 0, c == Category::act ? w : 0, o.act_rule,
                             o.unsigned_act, o.channel_weights);
      if (o.family == Family::pow2 && c != Category::act) p.pow2_act_bits = 0;
      const double t = scorer.score(&p, true);
      const bool ok = r.baseline_search - t <= o.margin;
      r.sweep.push_back({to_string(c), w, t, ok});
      drop[c].push_back(r.baseline_search - t);
      if (ok && all_ok) best = static_cast<int>(i);
      all_ok = all_ok && ok;
    }
    chosen[c] = best;
  }
  auto make = [&]() {
    return category_plan(o.family, ranges, widths[Category::conv][chosen[Category::conv]],
                         widths[Category::fc][chosen[Category::fc]],
                         widths[Category::act][chosen[Category::act]], o.act_rule, o.unsigned_act,
                         o.channel_weights);
  };
  r.plan = make();
  check_on_test(scorer, test, o, &r, [&](SearchResult* res) {
    // Back off the category that lost the most on its own at its chosen width.
    Category worst = Category::act;
    double worst_drop = -1;
    for (Category c : cats)
      if (chosen[c] > 0 && drop[c][chosen[c]] > worst_drop) worst = c, worst_drop = drop[c][chosen[c]];
    if (worst_drop < 0) return false;
    --chosen[worst];
    const int il = res->plan.static_il;
    res->plan = make();
    res->plan.static_il = il;
    res->notes.push_back(std::string("combined plan missed the margin on the test split; backed off ") +
                         to_string(worst) + " to " + std::to_string(widths[worst][chosen[worst]]) +
                         " bits");
    return true;
  });
  return r;
}

SearchResult search_layer(Scorer& scorer, const engine::SampleStream& test,
                          const SearchOptions& o) {
  const std::vector<LayerRange>& ranges = scorer.ranges();
  SearchResult r;
  r.baseline_search = scorer.baseline();
  r.baseline_test = scorer.baseline(&test);
  const std::vector<int> ww = widths_for(o, Category::conv), aw = widths_for(o, Category::act);
  // Units: 2 per layer (weights, activations); index into the width list, widest first.
  const int units = static_cast<int>(ranges.size()) * 2;
  std::vector<int> idx(units, 0);
  auto make = [&]() {
    Plan p;
    p.family = o.family;
    p.act_rule = o.act_rule;
    p.unsigned_act = o.unsigned_act;
    p.channel_weights = o.channel_weights;
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      const Category wc = ranges[i].fc ? Category::fc : Category::conv;
      int wb = ww[idx[2 * i]], ab = aw[idx[2 * i + 1]];
      if (fixed_width(o, wc) >= 0) wb = fixed_width(o, wc);
      if (o.fixed_act >= 0) ab = o.fixed_act;
      p.layers.push_back({wb, ab});
    }
    return p;
  };
  auto unit_name = [&](int u) {
    return ranges[u / 2].name + (u % 2 ? ".act" : ".weights");
  };
  auto movable = [&](int u) {
    const bool act = u % 2;
    if (act ? o.fixed_act >= 0 : fixed_width(o, ranges[u / 2].fc ? Category::fc : Category::conv) >= 0)
      return false;
    return idx[u] + 1 < static_cast<int>((act ? aw : ww).size());
  };
  Plan cur = make();
  double t_cur = scorer.score(&cur, true);
  const int il = cur.static_il;  // static fixed point: the split found at the widest widths
  std::vector<int> history;
  auto cost = [&](const Plan& p) {
    if (o.cost) return o.cost(p);
    const Cost c = plan_cost(p, ranges);
    return c.param_bits + c.act_bits;
  };
  r.notes.push_back("the layer search minimised " + o.cost_name);
  for (;;) {
    const double c0 = cost(cur);
    int best = -1;
    double best_gain = -1, best_t = 0;
    for (int u = 0; u < units; ++u) {
      if (!movable(u)) continue;
      ++idx[u];
      Plan p = make();
      p.static_il = il;
      const double t = scorer.score(&p, false);
      const double saving = c0 - cost(p);
      const bool ok = r.baseline_search - t <= o.margin;
      r.sweep.push_back({unit_name(u), (u % 2 ? aw : ww)[idx[u]], t, ok});
      --idx[u];
      if (!ok || saving <= 0) continue;
      // Sensitivity-guided: cost saved per point of accuracy lost (0.1 point floor).
      const double gain = saving / (std::max(0.0, t_cur - t) + 0.001);
      if (gain > best_gain) best_gain = gain, best = u, best_t = t;
    }
    if (best < 0) break;
    ++idx[best];
    history.push_back(best);
    cur = make();
    cur.static_il = il;
    t_cur = best_t;
  }
  r.plan = cur;
  check_on_test(scorer, test, o, &r, [&](SearchResult* res) {
    if (history.empty()) return false;
    const int u = history.back();
    history.pop_back();
    --idx[u];
    res->plan = make();
    res->plan.static_il = il;
    res->notes.push_back("plan missed the margin on the test split; backed off " + unit_name(u) +
                         " to " + std::to_string((u % 2 ? aw : ww)[idx[u]]) + " bits");
    return true;
  });
  return r;
}

SearchResult evaluate_fixed(Scorer& scorer, const engine::SampleStream& test,
                            const SearchOptions& o) {
  const std::vector<LayerRange>& ranges = scorer.ranges();
  SearchResult r;
  r.baseline_search = scorer.baseline();
  r.baseline_test = scorer.baseline(&test);
  r.plan = category_plan(o.family, ranges, std::max(0, o.fixed_conv), std::max(0, o.fixed_fc),
                         std::max(0, o.fixed_act), o.act_rule, o.unsigned_act, o.channel_weights);
  apply_fl_settings(ranges, o.set_fl, &r.plan, &r);
  r.quantized_search = scorer.score(&r.plan, true);
  if (o.fl_search) r.quantized_search = refine_fl(scorer, &r.plan, r.quantized_search, &r, o.set_fl);
  r.quantized_test = scorer.score_on(r.plan, test);
  r.met = r.baseline_test - r.quantized_test <= o.margin;
  if (!r.met)
    r.notes.push_back("the given widths miss the margin on the test split (" +
                      pct(r.baseline_test - r.quantized_test) + " drop); no back-off with fixed widths");
  return r;
}

}  // namespace ristsim::flow
