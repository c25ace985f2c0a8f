// Engine Net -> ONNX: a trained network (weights as initializers) as a standard model that
// onnx_import (and other ONNX runtimes) read back.
//
//   Convolution           Conv (W, B initializers "<layer>.W", "<layer>.B")
//   InnerProduct          Gemm transB=1 (after Flatten axis 1 when the input is not 2-D)
//   ReLU                  Relu (LeakyRelu with negative_slope)
//   Pooling               MaxPool / AveragePool / GlobalMaxPool / GlobalAveragePool; Caffe's
//                         ceil output size as ceil_mode=1 when ONNX's formula agrees, else as
//                         extra end padding (max pooling, or average pooling without overhang)
//   LRN                   LRN (size, alpha, beta, bias = k)
//   BatchNorm [+ Scale]   BatchNormalization (the running sums divided by their count; the
//                         following Scale's gamma / beta, or 1 / 0)
//   Concat, Eltwise sum   Concat, Add (a chain for more than two inputs; coefficients 1)
//   Flatten               Flatten (axis 1) or Reshape
//   Softmax               Softmax axis 1 (opset 13 semantics: the engine's)
//   Dropout, Split        nothing (inference identity / fan-out)
//   SoftmaxWithLoss       nothing (the graph output is the class scores)
//
// Quantized export (ExportOptions::quantized, for layers with an attached LayerQuant): the
// weights and bias stored are the values on their format's grid (the engine's own
// quantization of the current weights), and each tensor's format is recorded in the model's
// metadata ("ristsim.format.<tensor>" = "fixed<8,6> round=nearest_even overflow=saturate").
// Integer fixed-point weights (B <= 8, int8 codes; B <= 32 int32) are also stored as standard
// integer codes + DequantizeLinear(scale 2^-FL, zero point 0), which ONNX evaluates exactly;
// with qdq_activations, 8-bit-or-narrower fixed-point activations as QuantizeLinear +
// DequantizeLinear pairs around each Conv / Gemm.
#pragma once

#include <map>
#include <string>

#include "config/arch.h"
#include "engine/net.h"
#include "io/graph.h"

namespace ristsim::io {

struct ExportOptions {
  bool quantized = false;  ///< weights on the grid + formats (layers with a LayerQuant)
  bool qdq = true;         ///< with quantized: fixed-point weights as DequantizeLinear
  /// With quantized: also each weighted layer's input and output quantization as
  /// QuantizeLinear + DequantizeLinear (+ Clip below 8 bits), where the format is fixed point
  /// of <= 8 bits with nearest_even and saturate: the graph then computes the float
  /// datapath exactly as defined (other runtimes evaluate it). ristsim's own importer does
  /// not take such graphs (it quantizes through an arch instead).
  bool qdq_activations = false;
  /// The arch the net's LayerQuants came from (required with quantized: its datapath decides
  /// the bias format, float: the weights', exact: the bias group's; its seed the streams).
  const config::Arch* arch = nullptr;
  std::string graph_name;  ///< default: the net's name
  std::map<std::string, std::string>
      metadata;  ///< extra metadata_props (e.g. the training command)
};

/// The Net as an ONNX Model (opset 13, IR 7). Throws ModelError naming the layer for what
/// ONNX cannot express exactly.
Model export_model(engine::Net& net, const ExportOptions& options = {});

/// export_model, checked and written to path.
void export_onnx(engine::Net& net, const std::string& path, const ExportOptions& options = {});

}  // namespace ristsim::io
