// Sweep YAML -> config::Sweep (docs/sweep.md), with validation: every error
// names the file, line and column. The points' archs are built here, on the base
// arch's YAML tree (the only code that sees yaml-cpp), and each goes through
// parse_arch like an arch file.
#include "config/sweep_yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <unordered_set>

#include "config/arch_yaml.h"
#include "config/describe.h"
#include "config/yaml_reader.h"

namespace ristsim::config {

namespace {

namespace fs = std::filesystem;
using detail::join;
using detail::MapView;
using detail::node_kind;
using detail::Reader;

/// Largest number of points a sweep may have (grid, or the sample's grid).
constexpr long long kMaxGridPoints = 10'000'000;
constexpr long long kMaxPoints = 100'000;

/// A YAML value in one line (flow style), for labels and database cells.
std::string flow_text(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  YAML::Emitter e;
  e.SetMapFormat(YAML::Flow);
  e.SetSeqFormat(YAML::Flow);
  e << n;
  return e.c_str();
}

/// Sets `path` (dotted keys) in the map `root` to `value`, creating maps.
void set_key(YAML::Node root, const std::string& path, const YAML::Node& value) {
  YAML::Node cur = root;
  size_t start = 0;
  std::string walked;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? dot : dot - start);
    if (!cur.IsMap() && !cur.IsNull())
      throw std::invalid_argument("'" + (walked.empty() ? std::string("the arch") : walked) +
                                  "' is " + node_kind(cur) + ", not a map, so '" + path +
                                  "' cannot be set");
    walked += (walked.empty() ? "" : ".") + key;
    if (dot == std::string::npos) {
      cur[key] = YAML::Clone(value);
      return;
    }
    YAML::Node next = cur[key];
    if (!next.IsDefined() || next.IsNull()) {
      cur[key] = YAML::Node(YAML::NodeType::Map);
      next = cur[key];
    }
    cur.reset(next);
    start = dot + 1;
  }
}

std::string emit(const YAML::Node& n) {
  YAML::Emitter e;
  e << n;
  return std::string(e.c_str()) + "\n";
}

/// A path relative to the sweep file's folder (kept as written when absolute, and
/// for data set names that are not files there).
std::string resolve(const std::string& sweep_path, const std::string& p, bool must_exist) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  const fs::path r = fs::path(sweep_path).parent_path() / p;
  if (!must_exist || fs::exists(r)) return fs::absolute(r).lexically_normal().string();
  return p;
}

std::string hex16(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

/// SplitMix64: the sample's random source (fully specified, the same everywhere).
uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// Unbiased integer in 0..n-1.
uint64_t below(uint64_t& s, uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t v;
  do v = splitmix(s);
  while (v >= limit);
  return v % n;
}

SweepMeasure read_measure(const Reader& r, const YAML::Node& n) {
  const MapView m(r, n, "measure", "images, calib, batch, fp32, cost, cycles, cosim");
  m.allow_only({"images", "calib", "batch", "fp32", "cost", "cycles", "cosim"});
  SweepMeasure s;
  if (const YAML::Node* x = m.find("images"))
    s.images = static_cast<int>(r.integer(*x, m.sub("images"), 0, 100'000'000));
  if (const YAML::Node* x = m.find("calib"))
    s.calib = static_cast<int>(r.integer(*x, m.sub("calib"), 1, 100'000'000));
  if (const YAML::Node* x = m.find("batch"))
    s.batch = static_cast<int>(r.integer(*x, m.sub("batch"), 1, 65536));
  if (const YAML::Node* x = m.find("fp32")) s.fp32 = r.on_off(*x, m.sub("fp32"));
  if (const YAML::Node* x = m.find("cost")) s.cost = r.on_off(*x, m.sub("cost"));
  if (const YAML::Node* x = m.find("cycles")) s.cycles = r.on_off(*x, m.sub("cycles"));
  if (const YAML::Node* x = m.find("cosim")) {
    s.cosim = r.scalar(*x, m.sub("cosim"), "a layer name");
    if (s.cosim.empty()) r.fail(*x, "measure.cosim must name a layer");
  }
  return s;
}

SweepSlurm read_slurm(const Reader& r, const YAML::Node& n) {
  const std::vector<std::string> keys = {
      "partition",     "account",         "qos",         "time",        "mem",
      "cpus_per_task", "points_per_task", "max_retries", "max_running", "extra"};
  const MapView m(r, n, "slurm", join(keys));
  m.allow_only(keys);
  SweepSlurm s;
  auto text = [&](const char* key, std::string* out) {
    if (const YAML::Node* x = m.find(key)) {
      *out = r.scalar(*x, m.sub(key), "a value");
      if (out->find_first_of("\n\r") != std::string::npos || out->find(' ') != std::string::npos)
        r.fail(*x, m.sub(key) + " must be one word");
    }
  };
  text("partition", &s.partition);
  text("account", &s.account);
  text("qos", &s.qos);
  text("time", &s.time);
  text("mem", &s.mem);
  if (const YAML::Node* x = m.find("cpus_per_task"))
    s.cpus_per_task = static_cast<int>(r.integer(*x, m.sub("cpus_per_task"), 1, 4096));
  if (const YAML::Node* x = m.find("points_per_task"))
    s.points_per_task = static_cast<int>(r.integer(*x, m.sub("points_per_task"), 1, 100000));
  if (const YAML::Node* x = m.find("max_retries"))
    s.max_retries = static_cast<int>(r.integer(*x, m.sub("max_retries"), 0, 100));
  if (const YAML::Node* x = m.find("max_running"))
    s.max_running = static_cast<int>(r.integer(*x, m.sub("max_running"), 0, 100000));
  if (const YAML::Node* x = m.find("extra")) {
    if (!x->IsSequence()) r.fail(*x, "expected a list of sbatch options for slurm.extra");
    for (const YAML::Node& e : *x) {
      const std::string o = r.scalar(e, "slurm.extra", "an sbatch option such as --qos=short");
      if (o.rfind("--", 0) != 0 || o.find_first_of("\n\r") != std::string::npos)
        r.fail(e, "slurm.extra options must be one line starting with --, got '" + o + "'");
      s.extra.push_back(o);
    }
  }
  return s;
}

/// A model's image preparation keys (the CLI's data options, io/prep.h); their values are
/// checked by io::image_folder_options, the types here.
io::PrepSettings read_prep(const Reader& r, const MapView& m) {
  io::PrepSettings p;
  auto text = [&](const char* key, std::optional<std::string>* out) {
    if (const YAML::Node* x = m.find(key)) *out = r.scalar(*x, m.sub(key), "a value");
  };
  auto integer = [&](const char* key, std::optional<int>* out) {
    if (const YAML::Node* x = m.find(key)) {
      // (The range is io::image_folder_options's to check, with the CLI's message.)
      const std::string s = r.scalar(*x, m.sub(key), "an integer");
      char* end = nullptr;
      errno = 0;
      const long long v = std::strtoll(s.c_str(), &end, 10);
      if (s.empty() || *end != '\0' || errno == ERANGE || v < INT32_MIN || v > INT32_MAX)
        r.fail(*x, "expected an integer for " + m.sub(key) + ", got '" + s + "'");
      *out = static_cast<int>(v);
    }
  };
  text("preprocess", &p.preprocess);
  text("resize", &p.resize);
  integer("crop", &p.crop);
  if (const YAML::Node* x = m.find("mean")) {
    // One value, three as a list ([104, 117, 123]) or comma-separated, as the CLI's --mean.
    if (x->IsSequence()) {
      std::string v;
      for (const YAML::Node& e : *x)
        v += (v.empty() ? "" : ",") + r.scalar(e, m.sub("mean"), "a number");
      p.mean = v;
    } else {
      p.mean = r.scalar(*x, m.sub("mean"), "a number or a list of three");
    }
  }
  if (const YAML::Node* x = m.find("scale")) {
    const std::string s = r.scalar(*x, m.sub("scale"), "a number");
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0')
      r.fail(*x, "expected a number for " + m.sub("scale") + ", got '" + s + "'");
    p.scale = v;
  }
  integer("channels", &p.channels);
  text("order", &p.order);
  integer("max_images", &p.max_images);
  return p;
}

}  // namespace

std::string Sweep::label(const SweepPoint& p) const {
  std::string s;
  if (models.size() > 1) s = "model=" + models[p.model].name;
  for (size_t a = 0; a < axes.size(); ++a)
    s += (s.empty() ? "" : " ") + axes[a].path + "=" + axes[a].values[p.value[a]];
  return s.empty() ? "base" : s;
}

std::string set_arch_key(const std::string& arch_text, const std::string& path,
                         const std::string& value) {
  YAML::Node root = YAML::Load(arch_text);
  set_key(root, path, YAML::Load(value));
  return emit(root);
}

Sweep parse_sweep(const std::string& text, const std::string& path) {
  const Reader r(path);
  const YAML::Node root = r.load(text);
  const std::vector<std::string> top = {"name",   "arch",    "models", "axes",
                                        "sample", "measure", "slurm"};
  if (root.IsNull())
    throw ConfigError(path, 1, 1,
                      "the file is empty (expected a map with keys: " + join(top) + ")");
  const MapView m(r, root, "the sweep", join(top));
  m.allow_only(top);

  Sweep sw;
  sw.path = path;
  sw.text = text;
  sw.name = r.scalar(m.need("name", "a short name for reports"), "name", "a name");
  if (sw.name.empty()) r.fail(*m.find("name"), "name must not be empty");

  // The base arch: a file (relative to the sweep file) or an inline map.
  const YAML::Node& an = m.need("arch", "the base arch: a file name or an arch map");
  YAML::Node base;
  std::string base_where;
  if (an.IsScalar()) {
    sw.base_arch = resolve(path, an.Scalar(), false);
    std::string base_text;
    try {
      base_text = detail::read_file(sw.base_arch, "the base arch file");
    } catch (const ConfigError&) {
      r.fail(an, "arch: cannot open '" + sw.base_arch + "'");
    }
    parse_arch(base_text, sw.base_arch);  // the base itself must be valid
    base = YAML::Load(base_text);
    base_where = sw.base_arch;
  } else if (an.IsMap()) {
    base = YAML::Clone(an);
    parse_arch(emit(base), path + " (arch)");
    base_where = path + " (arch)";
  } else {
    r.fail(an, std::string("expected a file name or a map for arch, got ") + node_kind(an));
  }

  // Models.
  const YAML::Node& mn = m.need("models", "a list of {model, data[, name]}");
  if (!mn.IsSequence() || mn.size() == 0)
    r.fail(mn, "expected a non-empty list of {model, data[, name]} for models");
  for (const YAML::Node& e : mn) {
    std::vector<std::string> model_keys = {"model", "data", "name"};
    model_keys.insert(model_keys.end(), io::prep_keys().begin(), io::prep_keys().end());
    const MapView em(r, e, "models[]", join(model_keys));
    em.allow_only(model_keys);
    SweepModel sm;
    sm.model = resolve(path, r.scalar(em.need("model"), "models[].model", "a model file"), false);
    sm.data = resolve(path, r.scalar(em.need("data"), "models[].data", "a data set"), true);
    sm.prep = read_prep(r, em);
    try {
      sm.image = io::image_folder_options(sm.prep, sm.data,
                                          [](const std::string& key) { return "models[]." + key; });
    } catch (const io::PrepError& x) {
      const YAML::Node* blame = em.find(x.key);
      r.fail(blame ? *blame : e, x.what());
    }
    sm.name = em.find("name") ? r.scalar(*em.find("name"), "models[].name", "a name")
                              : fs::path(sm.model).stem().string();
    for (const SweepModel& o : sw.models)
      if (o.name == sm.name)
        r.fail(e, "two models are named '" + sm.name + "' (give them distinct names)");
    sw.models.push_back(sm);
  }

  // Axes.
  long long grid = static_cast<long long>(sw.models.size());
  std::vector<std::vector<YAML::Node>> axis_nodes;
  if (const YAML::Node* x = m.find("axes")) {
    const MapView am(r, *x, "axes", "arch key path: [values]");
    for (const auto& e : am.entries()) {
      SweepAxis ax;
      ax.path = e.key;
      if (ax.path.empty() || ax.path.front() == '.' || ax.path.back() == '.' ||
          ax.path.find("..") != std::string::npos)
        r.fail(e.key_node, "axis '" + ax.path + "' is not a dotted arch key path");
      if (!e.value.IsSequence() || e.value.size() == 0)
        r.fail(e.value, "expected a non-empty list of values for axis " + ax.path + ", got " +
                            node_kind(e.value));
      std::vector<YAML::Node> nodes;
      for (const YAML::Node& v : e.value) {
        const std::string t = flow_text(v);
        for (const std::string& o : ax.values)
          if (o == t) r.fail(v, "value " + t + " appears twice in axis " + ax.path);
        ax.values.push_back(t);
        ax.lines.push_back(v.Mark().line + 1);
        ax.columns.push_back(v.Mark().column + 1);
        nodes.push_back(v);
      }
      grid *= static_cast<long long>(ax.values.size());
      if (grid > kMaxGridPoints)
        r.fail(e.key_node, "the grid has more than " + std::to_string(kMaxGridPoints) + " points");
      sw.axes.push_back(ax);
      axis_nodes.push_back(nodes);
    }
  }

  // Sampling: the grid, or a seeded random sample of it.
  if (const YAML::Node* x = m.find("sample")) {
    if (x->IsScalar()) {
      if (x->Scalar() != "grid")
        r.fail(*x, "expected grid or {random: N, seed: S} for sample, got '" + x->Scalar() + "'");
    } else {
      const MapView sm(r, *x, "sample", "random, seed");
      sm.allow_only({"random", "seed"});
      sw.random = true;
      sw.samples = static_cast<int>(
          r.integer(sm.need("random", "the number of points"), "sample.random", 1, kMaxPoints));
      if (const YAML::Node* s = sm.find("seed")) sw.seed = r.unsigned64(*s, "sample.seed");
      if (sw.samples > grid)
        r.fail(sm.need("random"), "sample.random is " + std::to_string(sw.samples) +
                                      " but the grid has only " + std::to_string(grid) + " points");
    }
  }
  if (!sw.random && grid > kMaxPoints)
    r.fail(root, "the grid has " + std::to_string(grid) + " points, more than " +
                     std::to_string(kMaxPoints) + " (use sample: {random: N})");
  if (const YAML::Node* x = m.find("measure")) sw.measure = read_measure(r, *x);
  if (const YAML::Node* x = m.find("slurm")) {
    sw.slurm = read_slurm(r, *x);
    // SystemC elaborates once per process: one co-simulated point per task.
    if (!sw.measure.cosim.empty() && sw.slurm.points_per_task > 1)
      r.fail(*MapView(r, *x, "slurm", "").find("points_per_task"),
             "slurm.points_per_task must be 1 with measure.cosim (a process co-simulates once)");
  }

  // The grid indices of the points, in grid order.
  std::vector<long long> chosen;
  if (sw.random) {
    // Floyd's algorithm: `samples` distinct indices, then sorted (grid order).
    uint64_t state = sw.seed;
    std::vector<long long> picked;
    std::unordered_set<long long> seen;
    for (long long j = grid - sw.samples; j < grid; ++j) {
      const long long t = static_cast<long long>(below(state, static_cast<uint64_t>(j + 1)));
      picked.push_back(seen.insert(t).second ? t : j);
      if (picked.back() == j) seen.insert(j);
    }
    std::sort(picked.begin(), picked.end());
    chosen = picked;
  } else {
    for (long long g = 0; g < grid; ++g) chosen.push_back(g);
  }

  // Each point's arch: the base with the axis values set, then validated.
  char measure_key[160];
  std::snprintf(measure_key, sizeof measure_key, "images=%d calib=%d fp32=%d cost=%d cycles=%d",
                sw.measure.images, sw.measure.calib, sw.measure.fp32, sw.measure.cost,
                sw.measure.cycles);
  std::map<std::string, int> ids;
  for (long long g : chosen) {
    SweepPoint p;
    p.index = static_cast<int>(sw.points.size());
    long long rest = g;
    p.value.assign(sw.axes.size(), 0);
    for (size_t a = sw.axes.size(); a-- > 0;) {
      p.value[a] = static_cast<int>(rest % static_cast<long long>(sw.axes[a].values.size()));
      rest /= static_cast<long long>(sw.axes[a].values.size());
    }
    p.model = static_cast<int>(rest);
    YAML::Node arch = YAML::Clone(base);
    std::string values;
    for (size_t a = 0; a < sw.axes.size(); ++a) {
      const YAML::Node& v = axis_nodes[a][p.value[a]];
      try {
        set_key(arch, sw.axes[a].path, v);
      } catch (const std::invalid_argument& e) {
        r.fail(v, "axis " + sw.axes[a].path + ": " + e.what());
      }
    }
    const std::string arch_text = emit(arch);
    try {
      p.arch = parse_arch(arch_text, base_where);
    } catch (const ConfigError& e) {
      // Point at the value (of the axis the message names, else the last axis).
      int blame = static_cast<int>(sw.axes.size()) - 1;
      for (size_t a = 0; a < sw.axes.size(); ++a)
        if (e.message().find(sw.axes[a].path) != std::string::npos) blame = static_cast<int>(a);
      const std::string msg = "point " + std::to_string(p.index) + " (" + sw.label(p) +
                              ") is not a valid arch: " + e.message();
      if (blame < 0) throw ConfigError(path, 1, 1, msg);
      throw ConfigError(path, sw.axes[blame].lines[p.value[blame]],
                        sw.axes[blame].columns[p.value[blame]], msg);
    }
    const SweepModel& sm = sw.models[p.model];
    // (The preparation joins the key only when given: the ids of sweeps without it stay.)
    const std::string prep = sm.prep.text();
    p.id = hex16(fnv1a64(arch_text + "\n#model " + sm.model + "\n#data " + sm.data +
                         (prep.empty() ? "" : "\n#prep " + prep) + "\n#" + measure_key +
                         " cosim=" + sw.measure.cosim));
    const auto [it, fresh] = ids.emplace(p.id, p.index);
    if (!fresh)
      throw ConfigError(path, 0, 0,
                        "points " + std::to_string(it->second) + " and " + std::to_string(p.index) +
                            " (" + sw.label(p) +
                            ") are the same arch on the same model (an axis value repeats "
                            "another one in other words)");
    sw.points.push_back(std::move(p));
  }
  return sw;
}

Sweep load_sweep(const std::string& path) {
  return parse_sweep(detail::read_file(path, "the sweep file"), path);
}

}  // namespace ristsim::config
