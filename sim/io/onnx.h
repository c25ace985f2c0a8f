// ONNX files <-> the graph IR of graph.h, through libonnx's protobuf classes and checker.
//
// Reading converts every initializer to float (from float, double, float16, bfloat16 and
// all integer types, whether stored in raw_data, in the typed fields or as external data
// next to the model) and keeps integer values exactly as well. Writing builds a ModelProto
// (opset and IR version as in the Model: 13 and 7 by default, or what a read model came
// with), stores tensors as raw_data in their own element type, runs the ONNX checker on
// the result and only then writes the file. No protobuf type appears in this header.
#pragma once

#include <string>

#include "io/graph.h"

namespace ristsim::io {

/// Reads and (when check) validates an ONNX model with onnx::checker::check_model.
/// Throws ModelError "<path>: ..." for a missing file, a parse failure, a checker failure
/// ("invalid ONNX model: ...") or content the IR cannot hold (graph attributes, sparse or
/// string tensors, non-tensor values, model-local functions).
Model read_onnx(const std::string& path, bool check = true);

/// Same from serialized bytes; `what` names the source in messages, base_dir is where
/// external tensor data would be found.
Model parse_onnx(const std::string& bytes, const std::string& what = "<memory>", bool check = true,
                 const std::string& base_dir = ".");

/// Builds the ModelProto, checks it, and writes it to path. ModelError when the checker
/// rejects it (the message names the file and the checker's complaint) or writing fails.
void write_onnx(const Model& m, const std::string& path);

/// The serialized, checked ModelProto.
std::string serialize_onnx(const Model& m);

/// Reads one TensorProto file (the node tests' input_N.pb / output_N.pb).
Tensor read_tensor_pb(const std::string& path);

/// Writes one TensorProto file.
void write_tensor_pb(const Tensor& t, const std::string& path);

}  // namespace ristsim::io
