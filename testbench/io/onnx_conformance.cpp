// ONNX backend conformance through the engine's layers.
//
// Runs every node test of Debian's libonnx-testdata whose graph uses only importable ops
// (Conv, Gemm, MatMul, Relu, MaxPool, AveragePool, GlobalAveragePool, LRN,
// BatchNormalization, Concat, Add, Flatten, Reshape, Softmax, Dropout): the model is read
// by sim/io, inputs that the engine holds as parameters (weights, bias, statistics, shapes)
// become initializers, the graph runs through engine layers (io::GraphRunner), and every
// output is compared with output_N.pb within ONNX's own backend-test tolerance
// (|got - want| <= 1e-7 + 1e-3 * |want|, onnx/backend/test/runner). Cases the engine cannot
// express are skipped with the reason, named per case; no case is silently dropped.
//
//   onnx_conformance [--data DIR]... [--op OP]... [--verbose] [--perturb F]
// --perturb F changes every computed output value v to v * (1 + F) + F before the comparison:
// the planted bug of ctest onnx_conformance_bad. Then the exit status is 0 only when every
// case that ran with at least one output value failed (a case whose outputs are empty
// tensors has nothing to perturb).
// Default data: libonnx-testdata's node, pytorch-converted, pytorch-operator and simple.
// Exit status: 0 when no case failed (skips allowed), 1 on a failure, 2 on a usage error.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "io/onnx.h"
#include "io/onnx_import.h"

namespace fs = std::filesystem;
using namespace ristsim::io;

namespace {

struct Outcome {
  enum Kind { kPass, kFail, kSkip } kind;
  std::string detail;
  std::size_t values = 0;  ///< output values compared (a case with empty outputs has none)
};

struct Case {
  std::string name, op;
  Outcome outcome;
};

std::string compare(const Tensor& got, const Tensor& want) {
  if (got.dims != want.dims) {
    std::string g = "[", w = "[";
    for (auto d : got.dims) g += std::to_string(d) + ",";
    for (auto d : want.dims) w += std::to_string(d) + ",";
    return "output '" + want.name + "' shape " + g + "] != expected " + w + "]";
  }
  double worst = 0;
  std::size_t worst_i = 0, bad = 0;
  for (std::size_t i = 0; i < want.data.size(); ++i) {
    const double a = got.data[i], b = want.data[i];
    const double err = std::fabs(a - b);
    const bool ok = (std::isnan(a) && std::isnan(b)) || a == b || err <= 1e-7 + 1e-3 * std::fabs(b);
    if (!ok) {
      ++bad;
      if (!(err <= worst)) worst = err, worst_i = i;
    }
  }
  if (!bad) return {};
  char buf[256];
  std::snprintf(buf, sizeof buf, "output '%s': %zu of %zu values off, worst at %zu: %.9g vs %.9g",
                want.name.c_str(), bad, want.data.size(), worst_i, double(got.data[worst_i]),
                double(want.data[worst_i]));
  return buf;
}

Outcome run_case(const fs::path& dir, float perturb) {
  Model m;
  try {
    m = read_onnx((dir / "model.onnx").string());
  } catch (const ModelError& e) {
    return {Outcome::kFail, std::string("unreadable: ") + e.what()};
  }
  // Test data: input_i.pb in graph-input order; output_i.pb in graph-output order.
  std::vector<fs::path> sets;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0)
      sets.push_back(e.path());
  std::sort(sets.begin(), sets.end());
  if (sets.empty()) return {Outcome::kFail, "no test_data_set_*"};

  // Graph inputs that fill a parameter slot of some node become constants.
  std::set<std::string> const_names;
  for (const Node& n : m.graph.nodes)
    for (int slot : constant_input_slots(n.op_type))
      if (slot < int(n.inputs.size()) && !n.inputs[slot].empty())
        const_names.insert(n.inputs[slot]);

  std::size_t values = 0;
  for (const fs::path& set : sets) {
    Model mm = m;
    std::map<std::string, Tensor> feeds;
    const auto rt = m.graph.runtime_inputs();
    for (std::size_t i = 0; i < rt.size(); ++i) {
      const fs::path p = set / ("input_" + std::to_string(i) + ".pb");
      Tensor t;
      try {
        t = read_tensor_pb(p.string());
      } catch (const ModelError& e) {
        return {Outcome::kSkip, std::string("input data not representable: ") + e.what()};
      }
      t.name = rt[i]->name;
      if (const_names.count(t.name))
        mm.graph.initializers.push_back(t);
      else
        feeds[t.name] = t;
    }
    std::map<std::string, Tensor> got;
    try {
      GraphRunner runner(mm);
      got = runner.run(feeds);
    } catch (const UnsupportedError& e) {
      std::string why = e.what();
      const std::string prefix = (dir / "model.onnx").string() + ": ";
      if (why.rfind(prefix, 0) == 0) why = why.substr(prefix.size());
      return {Outcome::kSkip, why};
    } catch (const std::exception& e) {
      return {Outcome::kFail, std::string("error: ") + e.what()};
    }
    for (std::size_t i = 0; i < m.graph.outputs.size(); ++i) {
      const fs::path p = set / ("output_" + std::to_string(i) + ".pb");
      Tensor want = read_tensor_pb(p.string());
      want.name = m.graph.outputs[i].name;
      if (want.type != DataType::kFloat)
        return {Outcome::kSkip, "expected output '" + want.name + "' is " +
                                    data_type_name(want.type) + ", the engine computes float32"};
      Tensor& mine = got.at(want.name);
      for (float& v : mine.data) v = v * (1.0f + perturb) + perturb;
      values += want.data.size();
      const std::string diff = compare(mine, want);
      if (!diff.empty()) return {Outcome::kFail, set.filename().string() + ": " + diff};
    }
  }
  return {Outcome::kPass, {}, values};
}

}  // namespace

int main(int argc, char** argv) {
  const std::string root = "/usr/share/libonnx-testdata/data/";
  std::vector<std::string> data_dirs;
  std::set<std::string> only;
  bool verbose = false;
  float perturb = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--perturb" && i + 1 < argc)
      perturb = std::strtof(argv[++i], nullptr);
    else if (a == "--data" && i + 1 < argc)
      data_dirs.push_back(argv[++i]);
    else if (a == "--op" && i + 1 < argc)
      only.insert(argv[++i]);
    else if (a == "--verbose" || a == "-v")
      verbose = true;
    else {
      std::fprintf(stderr,
                   "usage: onnx_conformance [--data DIR]... [--op OP]... [--verbose] "
                   "[--perturb F]\n");
      return 2;
    }
  }
  if (data_dirs.empty())
    for (const char* d : {"node", "pytorch-converted", "pytorch-operator", "simple"})
      data_dirs.push_back(root + d);
  const std::vector<std::string>& ops = importable_ops();
  const std::set<std::string> importable(ops.begin(), ops.end());
  std::vector<fs::path> dirs;
  for (const std::string& data : data_dirs) {
    if (!fs::is_directory(data)) {
      std::fprintf(stderr, "onnx_conformance: %s: no such directory (install libonnx-testdata)\n",
                   data.c_str());
      return 2;
    }
    for (const auto& e : fs::directory_iterator(data))
      if (fs::exists(e.path() / "model.onnx")) dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());

  std::vector<Case> cases;
  for (const fs::path& d : dirs) {
    Model m;
    try {
      m = read_onnx((d / "model.onnx").string(), false);
    } catch (const ModelError&) {
      continue;  // not a plain-tensor model: none of our ops (the round-trip test counts these)
    }
    fold_constants(m);  // Constant nodes are initializers to the importer
    if (m.graph.nodes.empty()) continue;
    bool all = true;
    for (const Node& n : m.graph.nodes)
      all &= (n.domain.empty() || n.domain == "ai.onnx") && importable.count(n.op_type) > 0;
    if (!all) continue;
    const std::string op = m.graph.nodes.front().op_type;
    if (!only.empty() && !only.count(op)) continue;
    cases.push_back(
        {d.parent_path().filename().string() + "/" + d.filename().string(), op, run_case(d, perturb)});
  }

  std::map<std::string, std::array<int, 3>> per_op;  // pass, fail, skip
  int pass = 0, fail = 0, skip = 0;
  for (const Case& c : cases) {
    auto& cnt = per_op[c.op];
    switch (c.outcome.kind) {
      case Outcome::kPass: ++pass, ++cnt[0]; break;
      case Outcome::kFail: ++fail, ++cnt[1]; break;
      case Outcome::kSkip: ++skip, ++cnt[2]; break;
    }
    if (c.outcome.kind == Outcome::kFail)
      std::printf("FAIL %-58s %s\n", c.name.c_str(), c.outcome.detail.c_str());
    else if (c.outcome.kind == Outcome::kSkip)
      std::printf("SKIP %-58s %s\n", c.name.c_str(), c.outcome.detail.c_str());
    else if (verbose)
      std::printf("PASS %s\n", c.name.c_str());
  }
  std::printf("\n%-20s %5s %5s %5s\n", "op", "pass", "fail", "skip");
  for (const auto& [op, cnt] : per_op)
    std::printf("%-20s %5d %5d %5d\n", op.c_str(), cnt[0], cnt[1], cnt[2]);
  std::printf(
      "\nonnx_conformance: %zu cases for %zu ops: %d ran, %d passed, %d failed, %d skipped\n",
      cases.size(), per_op.size(), pass + fail, pass, fail, skip);
  if (perturb != 0) {
    int with_values = 0, caught = 0;
    for (const Case& c : cases) {
      if (c.outcome.kind == Outcome::kSkip) continue;
      if (c.outcome.kind == Outcome::kPass && c.outcome.values == 0) continue;
      ++with_values;
      caught += c.outcome.kind == Outcome::kFail;
    }
    std::printf("onnx_conformance --perturb %g: %d of %d cases with output values failed\n",
                double(perturb), caught, with_values);
    return with_values > 0 && caught == with_values ? 0 : 1;
  }
  return fail ? 1 : 0;
}
