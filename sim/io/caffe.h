// Caffe and Ristretto models in and out: a deploy / train_test prototxt (protobuf text format)
// with its .caffemodel (binary NetParameter holding the trained blobs), through a schema written
// for ristsim from Caffe's field numbers (sim/io/caffe.proto).
//
// In: the layers the engine has (Convolution, InnerProduct, Pooling, LRN, ReLU, Dropout, Concat,
// Softmax) and Ristretto's ConvolutionRistretto / FcRistretto / LRNRistretto, whose
// quantization_param becomes that layer's formats in an arch (float datapath, one override per
// layer, as `quantize` writes it):
//   DYNAMIC_FIXED_POINT         inputs fixed<bw_layer_in, fl_layer_in>, weights and bias
//                               fixed<bw_params, fl_params>, outputs fixed<bw_layer_out,
//                               fl_layer_out>
//   MINIFLOAT                   every group minifloat<exp_bits, mant_bits> with Ristretto's specials
//   INTEGER_POWER_OF_2_WEIGHTS  weights pow2 over exp_min..exp_max (log rounding, no zero code;
//                               the range must fill 2^(B-1) exponents), inputs / outputs fixed
//   rounding_scheme NEAREST -> nearest_away (Ristretto's round()), STOCHASTIC -> stochastic.
// The input is the net's `input` + input_shape / input_dim, an Input layer, or a Data layer's
// first top; Data, Input, Accuracy, loss layers and layers excluded from the TEST phase are
// left out, and a final Softmax too (the engine's output is the class scores; top-1 is the same).
// Out (`quantize --export caffe`): the same vocabulary back, with each quantized Convolution /
// InnerProduct as ConvolutionRistretto / FcRistretto and its quantization_param (Ristretto's
// quantized prototxt), and the weights as a caffemodel.
//
// Errors (ModelError, exit 2) name the file: a text parse error with its line and column, a
// truncated or hostile caffemodel, a layer type or parameter the engine lacks, blobs whose
// count does not fit the layer.
#pragma once

#include <optional>
#include <string>

#include "config/arch.h"
#include "engine/net.h"
#include "io/onnx_import.h"

namespace ristsim::io {

/// A Caffe model: the net with its weights (when a caffemodel was given) and, for a Ristretto
/// prototxt, the layers' formats.
struct CaffeModel {
  ImportedNet net;
  std::optional<config::Arch> arch;  ///< Ristretto layers' formats (float datapath)
};

/// True for a path ending in .prototxt.
bool is_caffe_prototxt(const std::string& path);

/// Reads `prototxt` and, unless `caffemodel` is empty, the weights of its layers from it.
/// Throws ModelError naming the file and what is wrong.
CaffeModel read_caffe(const std::string& prototxt, const std::string& caffemodel = "");

/// The same from memory (`what` names them in messages): for tests and the fuzzer.
CaffeModel parse_caffe(const std::string& prototxt_text, const std::string& caffemodel_bytes,
                       const std::string& what = "<memory>");

/// Why `arch`'s formats cannot be written as Ristretto's quantization_param ("LAYER: reason"
/// for the first such layer; checked on its defaults as layer "*"), empty when they can.
std::string not_caffe_exportable(const config::Arch& arch);

/// Writes the net as `prototxt` + `caffemodel`. With `arch`, its layers' formats as
/// Ristretto's quantization_param (fixed point, Ristretto minifloat and pow2 weights; other
/// formats are refused with ModelError). Each file through a temporary file and a rename.
void write_caffe(engine::Net& net, const config::Arch* arch, const std::string& prototxt,
                 const std::string& caffemodel);

}  // namespace ristsim::io
