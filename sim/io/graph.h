// A neutral, dependency-free graph IR for ONNX models: what the engine sees of a model.
//
// It mirrors ONNX's ModelProto closely enough to round-trip the models ristsim reads and
// writes (nodes with typed attributes, initializers, graph inputs and outputs with shapes,
// opset imports), but holds no protobuf type: onnx.h reads and writes it, and nothing
// outside sim/io includes a protobuf header.
//
// Tensors keep their values as float32 (what the engine computes with). Integer tensors
// also keep their exact int64 values (shapes, axes, quantized codes), and the original
// element type, so that writing a tensor back gives it the type it came with.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/dataset.h"

namespace ristsim::io {

/// A model that cannot be read, is invalid, or uses what ristsim does not support. The
/// message starts with the file name (or "<memory>").
struct ModelError : DataError {
  using DataError::DataError;
};

/// ONNX element types, numbered as in onnx.proto's TensorProto.DataType.
enum class DataType : int32_t {
  kUndefined = 0,
  kFloat = 1,
  kUint8 = 2,
  kInt8 = 3,
  kUint16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kUint32 = 12,
  kUint64 = 13,
  kBFloat16 = 16,
  kFloat8E4M3FN = 17,  ///< OCP FP8 E4M3 (fn: no inf, NaN = S.1111.111), ONNX 1.14 / opset 19
  kFloat8E5M2 = 19,    ///< OCP FP8 E5M2 (IEEE specials), ONNX 1.14 / opset 19
};

/// "float", "int64", ...: the name onnx.proto uses, lower case.
const char* data_type_name(DataType t);
/// True for the integer and bool types (the ones whose values int_data holds exactly).
bool is_integer_type(DataType t);

/// A dense tensor. data always holds the values as float; for integer and bool types
/// int_data holds them exactly as well (same length). A scalar has empty dims and one value.
struct Tensor {
  std::string name;
  std::vector<int64_t> dims;
  DataType type = DataType::kFloat;
  std::vector<float> data;
  std::vector<int64_t> int_data;  ///< only for integer / bool types
  std::string doc_string;

  /// Product of dims (1 for a scalar).
  int64_t numel() const;
  /// A float tensor.
  static Tensor from_floats(std::string name, std::vector<int64_t> dims, std::vector<float> v);
  /// An int64 tensor (data is filled with the same values as float).
  static Tensor from_int64s(std::string name, std::vector<int64_t> dims, std::vector<int64_t> v);
  bool operator==(const Tensor& o) const;
  bool operator!=(const Tensor& o) const { return !(*this == o); }
};

enum class AttrType : int32_t {  // numbered as onnx.proto's AttributeProto.AttributeType
  kUndefined = 0,
  kFloat = 1,
  kInt = 2,
  kString = 3,
  kTensor = 4,
  kFloats = 6,
  kInts = 7,
  kStrings = 8,
};

/// One node attribute; the field that `type` names holds the value.
struct Attribute {
  std::string name;
  AttrType type = AttrType::kUndefined;
  float f = 0.f;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;

  static Attribute make_int(std::string name, int64_t v);
  static Attribute make_float(std::string name, float v);
  static Attribute make_string(std::string name, std::string v);
  static Attribute make_ints(std::string name, std::vector<int64_t> v);
  static Attribute make_floats(std::string name, std::vector<float> v);
  static Attribute make_strings(std::string name, std::vector<std::string> v);
  static Attribute make_tensor(std::string name, Tensor v);
  bool operator==(const Attribute& o) const;
  bool operator!=(const Attribute& o) const { return !(*this == o); }
};

/// One operator application. An empty input name is an omitted optional input.
struct Node {
  std::string op_type, name, domain;  ///< domain "" is the default ONNX domain
  std::vector<std::string> inputs, outputs;
  std::vector<Attribute> attributes;
  std::string doc_string;

  /// The attribute called `name`, or nullptr.
  const Attribute* find(const std::string& name) const;
  bool has(const std::string& name) const { return find(name) != nullptr; }
  /// Typed getters: the default when the attribute is absent; ModelError naming the node
  /// and attribute when it is present with another type.
  int64_t get_int(const std::string& name, int64_t def) const;
  float get_float(const std::string& name, float def) const;
  std::string get_string(const std::string& name, const std::string& def) const;
  std::vector<int64_t> get_ints(const std::string& name, const std::vector<int64_t>& def) const;
  std::vector<float> get_floats(const std::string& name, const std::vector<float>& def) const;
  /// "Conv 'conv1'" or "Conv (node 3)" for messages.
  std::string describe() const;
  bool operator==(const Node& o) const;
  bool operator!=(const Node& o) const { return !(*this == o); }
};

/// A graph input, output or intermediate value with its type and shape. A dimension is
/// its value, or -1 when unknown / symbolic (then dim_params names it, "" otherwise).
struct ValueInfo {
  std::string name;
  DataType type = DataType::kFloat;
  bool has_shape = true;  ///< false: rank unknown
  std::vector<int64_t> shape;
  std::vector<std::string> dim_params;  ///< same length as shape
  std::string doc_string;
  bool operator==(const ValueInfo& o) const;
  bool operator!=(const ValueInfo& o) const { return !(*this == o); }
};

struct Graph {
  std::string name;
  std::vector<Node> nodes;  ///< in topological order (as ONNX requires)
  std::vector<Tensor> initializers;
  std::vector<ValueInfo> inputs, outputs, value_info;
  std::string doc_string;

  /// The initializer called `name`, or nullptr.
  const Tensor* find_initializer(const std::string& name) const;
  Tensor* find_initializer(const std::string& name);
  /// Graph inputs that are not initializers (what the caller feeds).
  std::vector<const ValueInfo*> runtime_inputs() const;
  bool operator==(const Graph& o) const;
  bool operator!=(const Graph& o) const { return !(*this == o); }
};

struct OpsetImport {
  std::string domain;  ///< "" = ai.onnx
  int64_t version = 13;
  bool operator==(const OpsetImport& o) const { return domain == o.domain && version == o.version; }
};

struct Model {
  int64_t ir_version = 7;  ///< IR version 7 goes with opset 13
  std::vector<OpsetImport> opset_imports = {{"", 13}};
  std::string producer_name = "ristsim", producer_version, domain, doc_string;
  int64_t model_version = 0;
  std::map<std::string, std::string> metadata;  ///< metadata_props
  Graph graph;
  std::string source;  ///< file it was read from (not written)

  /// Version of the default (ai.onnx) opset, 0 when there is no such import.
  int64_t opset() const;
  bool operator==(const Model& o) const;  ///< ignores source
  bool operator!=(const Model& o) const { return !(*this == o); }
};

/// The op types of g that are not in `supported` (default domain, or domain == "ai.onnx"),
/// with the nodes using each: op type -> "'node name'" or "#index" for unnamed nodes. Ops of other
/// domains are reported as "domain::Op".
std::map<std::string, std::vector<std::string>> unsupported_ops(
    const Graph& g, const std::vector<std::string>& supported);

/// Throws ModelError naming every unsupported op and the nodes that use it, e.g.
/// "m.onnx: 2 unsupported ops: LSTM (node 'lstm1'), Resize (nodes 'up1', #7); supported: ...".
/// The message starts with m.source ("<memory>" when empty).
void validate_ops(const Model& m, const std::vector<std::string>& supported);

}  // namespace ristsim::io
