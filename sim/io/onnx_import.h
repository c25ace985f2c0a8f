// ONNX graph IR -> engine layers.
//
// Each ONNX node becomes one or two engine layers (Caffe's vocabulary):
//   Conv                  Convolution (2-D; symmetric pads; W, B from initializers; 1-D as
//                         2-D on an [N, C, 1, L] view between two Reshape layers)
//   Gemm, MatMul          InnerProduct (B constant; Gemm's alpha folded into the weights,
//                         beta * C into the bias, or an Eltwise sum with a constant C matrix)
//   Relu                  ReLU
//   MaxPool, AveragePool  Pooling (2-D, 1-D as Conv; symmetric pads; ceil_mode -> round: ceil /
//                         floor; count_include_pad=0 -> count_include_pad: false; MaxPool
//                         dilations -> dilation)
//   GlobalAveragePool     Pooling, global_pooling
//   LRN                   LRN across channels (odd size)
//   BatchNormalization    BatchNorm (use_global_stats, eps; mean / var) + Scale (scale, B)
//   Concat                Concat
//   Add                   Eltwise sum (same shapes)
//   Flatten               Flatten (axis 1), else a Reshape to [outer, inner]
//   Softmax               Softmax (axis 1), else Reshape + Softmax + Reshape
//   Dropout               Dropout (inference: identity)
//   Reshape               Flatten where the target keeps leading sizes and collapses the
//                         rest; otherwise the engine's Reshape (shape = [...] with ONNX's
//                         meaning, 0 = copy, -1 = infer; sizes resolved and the first entry
//                         written 0 or -1 so any batch works; a size of zero with allowzero)
// Anything the engine's layers cannot express exactly (asymmetric padding, dilated average
// pooling, broadcasting, transposed Gemm inputs, ...) is refused with UnsupportedError naming
// the node, the attribute or input and the reason: no layer is approximated.
//
// The translation needs the input shapes of each node, so it runs the engine layers' own
// reshape over the graph (GraphRunner does this; import_net uses the graph input shapes).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/net.h"
#include "engine/spec.h"
#include "io/graph.h"

namespace ristsim::io {

/// A node the engine cannot run as described; the message names node and reason.
struct UnsupportedError : ModelError {
  using ModelError::ModelError;
};

/// The ONNX op types the importer translates (default domain).
const std::vector<std::string>& importable_ops();

/// For an op type, the indices of inputs that are parameters (weights, bias, statistics,
/// shapes) and must be constants (initializers), e.g. Conv -> {1, 2}.
std::vector<int> constant_input_slots(const std::string& op_type);

/// One engine layer made from a node: its spec (bottoms / tops are value names) and the
/// values of its parameter blobs in the layer's order, shaped as the engine wants them.
struct ImportedLayer {
  engine::LayerSpec spec;
  std::vector<Tensor> params;
  std::vector<std::string> constant_bottoms;  ///< bottoms that are initializers (Eltwise)
};

/// Replaces constant subgraphs by initializers: Constant nodes (value, value_float(s),
/// value_int(s)), and DequantizeLinear nodes whose inputs are all initializers (quantized
/// weights stored as integer codes + scale + zero point) by the float values they compute,
/// (code - zero_point) * scale, per tensor or per axis. Returns the number of nodes folded.
/// GraphRunner and import_net call it first, so that quantized exports import as their grid
/// values.
int fold_constants(Model& m);

/// Translates one node given the shapes of its inputs (empty for an absent optional input)
/// and the graph's initializers. Throws UnsupportedError.
std::vector<ImportedLayer> translate_node(const Node& node,
                                          const std::vector<std::vector<int>>& input_shapes,
                                          const Graph& graph, int64_t opset);

/// Runs a graph through engine layers, node by node, for any number of inputs and outputs:
/// layers are built when the input shapes are first known. Inputs and outputs are Tensors
/// (float). Used by the ONNX conformance test and for models with several inputs.
class GraphRunner {
 public:
  /// Checks the ops against importable_ops() (ModelError naming each unsupported one).
  explicit GraphRunner(Model model);
  ~GraphRunner();
  GraphRunner(const GraphRunner&) = delete;
  GraphRunner& operator=(const GraphRunner&) = delete;

  /// Feeds the runtime inputs by name and returns the graph outputs by name. Throws
  /// UnsupportedError on the first node the engine cannot run.
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& inputs);

  /// The engine layers built by the last run, in order (type and name), for reports.
  std::vector<std::string> layer_summary() const;
  /// What the last run translated the nodes into (specs with the imported parameters).
  const std::vector<ImportedLayer>& imported_layers() const;

 private:
  struct State;
  Model model_;
  std::unique_ptr<State> state_;
};

/// A whole CNN (one 4-D input [N, C, H, W], one output) as an engine NetSpec plus the
/// imported parameter values per layer name.
struct ImportedNet {
  engine::NetSpec spec;
  std::map<std::string, std::vector<Tensor>> params;
};

/// Translates a model with one runtime input of known shape [N, C, H, W]. Throws ModelError
/// naming every unsupported op, or UnsupportedError for the first untranslatable node.
ImportedNet import_net(const Model& model);

/// Builds the engine Net and copies the imported parameters into its layers.
std::unique_ptr<engine::Net> build_net(const ImportedNet& imported,
                                       const engine::NetOptions& options);

}  // namespace ristsim::io
