// Graph IR helpers: attribute getters, equality (bitwise on tensor data), op validation.
#include "io/graph.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace ristsim::io {

const char* data_type_name(DataType t) {
  switch (t) {
    case DataType::kUndefined: return "undefined";
    case DataType::kFloat: return "float";
    case DataType::kUint8: return "uint8";
    case DataType::kInt8: return "int8";
    case DataType::kUint16: return "uint16";
    case DataType::kInt16: return "int16";
    case DataType::kInt32: return "int32";
    case DataType::kInt64: return "int64";
    case DataType::kString: return "string";
    case DataType::kBool: return "bool";
    case DataType::kFloat16: return "float16";
    case DataType::kDouble: return "double";
    case DataType::kUint32: return "uint32";
    case DataType::kUint64: return "uint64";
    case DataType::kBFloat16: return "bfloat16";
    case DataType::kFloat8E4M3FN: return "float8e4m3fn";
    case DataType::kFloat8E5M2: return "float8e5m2";
  }
  return "unknown";
}

bool is_integer_type(DataType t) {
  switch (t) {
    case DataType::kUint8:
    case DataType::kInt8:
    case DataType::kUint16:
    case DataType::kInt16:
    case DataType::kInt32:
    case DataType::kInt64:
    case DataType::kBool:
    case DataType::kUint32:
    case DataType::kUint64: return true;
    default: return false;
  }
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

Tensor Tensor::from_floats(std::string name, std::vector<int64_t> dims, std::vector<float> v) {
  Tensor t;
  t.name = std::move(name);
  t.dims = std::move(dims);
  t.type = DataType::kFloat;
  t.data = std::move(v);
  return t;
}

Tensor Tensor::from_int64s(std::string name, std::vector<int64_t> dims, std::vector<int64_t> v) {
  Tensor t;
  t.name = std::move(name);
  t.dims = std::move(dims);
  t.type = DataType::kInt64;
  t.data.assign(v.begin(), v.end());
  t.int_data = std::move(v);
  return t;
}

namespace {
// Bit equality, so that NaN == NaN and -0 != +0: a round trip must keep every bit.
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}
bool same_bits(float a, float b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}
}  // namespace

bool Tensor::operator==(const Tensor& o) const {
  return name == o.name && dims == o.dims && type == o.type && same_bits(data, o.data) &&
         int_data == o.int_data && doc_string == o.doc_string;
}

Attribute Attribute::make_int(std::string name, int64_t v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kInt;
  a.i = v;
  return a;
}
Attribute Attribute::make_float(std::string name, float v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kFloat;
  a.f = v;
  return a;
}
Attribute Attribute::make_string(std::string name, std::string v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kString;
  a.s = std::move(v);
  return a;
}
Attribute Attribute::make_ints(std::string name, std::vector<int64_t> v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kInts;
  a.ints = std::move(v);
  return a;
}
Attribute Attribute::make_floats(std::string name, std::vector<float> v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kFloats;
  a.floats = std::move(v);
  return a;
}
Attribute Attribute::make_strings(std::string name, std::vector<std::string> v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kStrings;
  a.strings = std::move(v);
  return a;
}
Attribute Attribute::make_tensor(std::string name, Tensor v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kTensor;
  a.t = std::move(v);
  return a;
}

bool Attribute::operator==(const Attribute& o) const {
  if (name != o.name || type != o.type) return false;
  switch (type) {
    case AttrType::kFloat: return same_bits(f, o.f);
    case AttrType::kInt: return i == o.i;
    case AttrType::kString: return s == o.s;
    case AttrType::kTensor: return t == o.t;
    case AttrType::kFloats: return same_bits(floats, o.floats);
    case AttrType::kInts: return ints == o.ints;
    case AttrType::kStrings: return strings == o.strings;
    case AttrType::kUndefined: return true;
  }
  return false;
}

const Attribute* Node::find(const std::string& attr) const {
  for (const Attribute& a : attributes)
    if (a.name == attr) return &a;
  return nullptr;
}

namespace {
const char* attr_type_name(AttrType t) {
  switch (t) {
    case AttrType::kFloat: return "float";
    case AttrType::kInt: return "int";
    case AttrType::kString: return "string";
    case AttrType::kTensor: return "tensor";
    case AttrType::kFloats: return "floats";
    case AttrType::kInts: return "ints";
    case AttrType::kStrings: return "strings";
    case AttrType::kUndefined: break;
  }
  return "undefined";
}

const Attribute* typed(const Node& n, const std::string& attr, AttrType want) {
  const Attribute* a = n.find(attr);
  if (a && a->type != want)
    throw ModelError(n.describe() + ": attribute '" + attr + "' is " + attr_type_name(a->type) +
                     ", expected " + attr_type_name(want));
  return a;
}
}  // namespace

int64_t Node::get_int(const std::string& attr, int64_t def) const {
  const Attribute* a = typed(*this, attr, AttrType::kInt);
  return a ? a->i : def;
}
float Node::get_float(const std::string& attr, float def) const {
  const Attribute* a = typed(*this, attr, AttrType::kFloat);
  return a ? a->f : def;
}
std::string Node::get_string(const std::string& attr, const std::string& def) const {
  const Attribute* a = typed(*this, attr, AttrType::kString);
  return a ? a->s : def;
}
std::vector<int64_t> Node::get_ints(const std::string& attr,
                                    const std::vector<int64_t>& def) const {
  const Attribute* a = typed(*this, attr, AttrType::kInts);
  return a ? a->ints : def;
}
std::vector<float> Node::get_floats(const std::string& attr, const std::vector<float>& def) const {
  const Attribute* a = typed(*this, attr, AttrType::kFloats);
  return a ? a->floats : def;
}

std::string Node::describe() const {
  std::string op = domain.empty() || domain == "ai.onnx" ? op_type : domain + "::" + op_type;
  if (!name.empty()) return op + " '" + name + "'";
  if (!outputs.empty()) return op + " (output '" + outputs.front() + "')";
  return op;
}

bool Node::operator==(const Node& o) const {
  return op_type == o.op_type && name == o.name && domain == o.domain && inputs == o.inputs &&
         outputs == o.outputs && attributes == o.attributes && doc_string == o.doc_string;
}

bool ValueInfo::operator==(const ValueInfo& o) const {
  return name == o.name && type == o.type && has_shape == o.has_shape && shape == o.shape &&
         dim_params == o.dim_params && doc_string == o.doc_string;
}

const Tensor* Graph::find_initializer(const std::string& n) const {
  for (const Tensor& t : initializers)
    if (t.name == n) return &t;
  return nullptr;
}
Tensor* Graph::find_initializer(const std::string& n) {
  for (Tensor& t : initializers)
    if (t.name == n) return &t;
  return nullptr;
}

std::vector<const ValueInfo*> Graph::runtime_inputs() const {
  std::set<std::string> init;
  for (const Tensor& t : initializers) init.insert(t.name);
  std::vector<const ValueInfo*> r;
  for (const ValueInfo& v : inputs)
    if (!init.count(v.name)) r.push_back(&v);
  return r;
}

bool Graph::operator==(const Graph& o) const {
  return name == o.name && nodes == o.nodes && initializers == o.initializers &&
         inputs == o.inputs && outputs == o.outputs && value_info == o.value_info &&
         doc_string == o.doc_string;
}

int64_t Model::opset() const {
  for (const OpsetImport& op : opset_imports)
    if (op.domain.empty() || op.domain == "ai.onnx") return op.version;
  return 0;
}

bool Model::operator==(const Model& o) const {
  return ir_version == o.ir_version && opset_imports == o.opset_imports &&
         producer_name == o.producer_name && producer_version == o.producer_version &&
         domain == o.domain && doc_string == o.doc_string && model_version == o.model_version &&
         metadata == o.metadata && graph == o.graph;
}

std::map<std::string, std::vector<std::string>> unsupported_ops(
    const Graph& g, const std::vector<std::string>& supported) {
  const std::set<std::string> ok(supported.begin(), supported.end());
  std::map<std::string, std::vector<std::string>> bad;
  for (std::size_t k = 0; k < g.nodes.size(); ++k) {
    const Node& n = g.nodes[k];
    const bool default_domain = n.domain.empty() || n.domain == "ai.onnx";
    const std::string key = default_domain ? n.op_type : n.domain + "::" + n.op_type;
    if (default_domain && ok.count(n.op_type)) continue;
    bad[key].push_back(n.name.empty() ? "#" + std::to_string(k) : "'" + n.name + "'");
  }
  return bad;
}

void validate_ops(const Model& m, const std::vector<std::string>& supported) {
  const auto bad = unsupported_ops(m.graph, supported);
  if (bad.empty()) return;
  std::string msg = (m.source.empty() ? std::string("<memory>") : m.source) + ": " +
                    std::to_string(bad.size()) + " unsupported op" + (bad.size() > 1 ? "s" : "") +
                    ": ";
  bool first = true;
  for (const auto& [op, nodes] : bad) {
    if (!first) msg += ", ";
    first = false;
    msg += op + (nodes.size() > 1 ? " (nodes " : " (node ");
    const std::size_t shown = std::min<std::size_t>(nodes.size(), 5);
    for (std::size_t i = 0; i < shown; ++i) msg += (i ? ", " : "") + nodes[i];
    if (nodes.size() > shown) msg += ", ... " + std::to_string(nodes.size() - shown) + " more";
    msg += ")";
  }
  msg += "; supported: ";
  for (std::size_t i = 0; i < supported.size(); ++i) msg += (i ? ", " : "") + supported[i];
  throw ModelError(msg);
}

}  // namespace ristsim::io
