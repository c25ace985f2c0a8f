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
// Quantized export (ExportOptions::quantized, for layers with an attached LayerQuant): every
// quantized tensor of a Convolution / InnerProduct (weights, bias, and the layer's input and
// output, as the engine quantizes them) is written so that another runtime computes what
// ristsim's float datapath computes (QuantExport):
//   qdq    the standard ONNX operators. Weights and bias: codes + DequantizeLinear (fixed point
//          as int8 / int32 codes with scale 2^-FL, zero point 0; FP8 E4M3 / E5M2 as float8
//          codes with scale 2^(default bias - bias)). Input and output: QuantizeLinear +
//          DequantizeLinear (+ Clip to the format's range below the container's width) for
//          fixed point of <= 16 bits with nearest_even + saturate (int8, or int16 at opset 21)
//          and FP8 with nearest_even + saturate (opset 19; saturate=1, the default).
//   qonnx  QONNX's custom operators (domain qonnx.custom_op.general): Quant (scale 2^-FL,
//          zeropt 0, bitwidth B, signed 1, narrow 0, rounding_mode) for fixed point of any width
//          up to 24 bits, FloatQuant (scale, exponent_bitwidth, mantissa_bitwidth,
//          exponent_bias, max_val) for minifloats with subnormals; weights as float values on
//          the grid followed by their Quant node, as QONNX writes them.
//   float  the values on the grid as float initializers and the formats as metadata only:
//          other runtimes then compute with float activations (a different network).
// What the chosen form cannot express exactly (pow2; minifloat without subnormals or with
// Ristretto's specials; a rounding the runtime does not have; stochastic rounding) is refused
// with a ModelError naming the layer, tensor, format and reason: never written as float.
// Each tensor's format is also recorded in the model's metadata
// ("ristsim.format.<tensor>" = "fixed<8,6> round=nearest_even overflow=saturate").
#pragma once

#include <map>
#include <string>

#include "config/arch.h"
#include "engine/net.h"
#include "io/graph.h"

namespace ristsim::io {

/// How a quantized export writes its formats (see the table above).
enum class QuantExport { qdq, qonnx, float_grid };

/// "qdq", "qonnx", "float".
const char* to_string(QuantExport e);
/// Parses to_string's names; false for anything else.
bool parse_quant_export(const std::string& s, QuantExport* out);

struct ExportOptions {
  bool quantized = false;  ///< layers with a LayerQuant: their formats, as `form` writes them
  QuantExport form = QuantExport::qdq;
  /// The arch the net's LayerQuants came from (required with quantized: its datapath decides
  /// the bias format, float: the weights', exact: the bias group's; its seed the streams).
  const config::Arch* arch = nullptr;
  std::string graph_name;  ///< default: the net's name
  std::map<std::string, std::string>
      metadata;  ///< extra metadata_props (e.g. the training command)
};

/// Why `spec` (a number group of a weighted layer; `activation`: its input or output, which
/// the runtime must quantize itself) cannot be written as `form`; empty when it can.
std::string not_exportable(const config::NumberSpec& spec, QuantExport form, bool activation);

/// Every number group of `arch` (its defaults and per-layer overrides) that `form` cannot
/// write, as "GROUP: FORMAT: REASON" lines; empty when all can. Dynamic fixed point is
/// checked at its width (its fractional length is only known after the range analysis).
std::string not_exportable(const config::Arch& arch, QuantExport form);

/// The Net as an ONNX Model (opset 13 and IR 7; opset 19 / IR 9 with FP8 QDQ, opset 21 /
/// IR 10 with int16 QuantizeLinear). Throws ModelError naming the layer for what
/// ONNX cannot express exactly.
Model export_model(engine::Net& net, const ExportOptions& options = {});

/// export_model, checked and written to path.
void export_onnx(engine::Net& net, const std::string& path, const ExportOptions& options = {});

}  // namespace ristsim::io
