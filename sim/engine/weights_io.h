// Weight files: save_weights / load_weights, the interface the ONNX exporter
// (sim/io) can replace. Until then the engine's own binary format, which also
// carries the network description so that a weight file alone is a model:
//
//   offset 0   8 bytes  magic "RSTWGT01"
//              u32      length D of the description, then D bytes: the YAML
//                       text of the network (docs/engine.md); D may be 0
//              u32      number of parameter blobs P
//   P times:   u32      name length L, then L bytes: "<layer>.<index>" ("conv1.0")
//              u32      number of axes A, then A x u32 sizes
//              f32 x count  the values (little-endian IEEE binary32)
//
// All integers are little-endian. Every parameter of the net is written,
// BatchNorm statistics included. load_weights requires every parameter of the
// net to be present once with the same shape, no extra blob and no byte after
// the last blob, and throws WeightsError naming the file and the blob otherwise.
#pragma once

#include <memory>
#include <string>

#include "engine/net.h"

namespace ristsim::engine {

/// A weight file that cannot be read: truncated, corrupt, trailing bytes, or blobs that do
/// not match the network. The message starts with the file name. An InputError (exit 2).
struct WeightsError : NetSpecError {
  using NetSpecError::NetSpecError;
};

void save_weights(Net& net, const std::string& path);
void load_weights(Net& net, const std::string& path);

/// True when the file starts with the weight file magic.
bool is_weights_file(const std::string& path);
/// The network description stored in a weight file (throws if it has none).
NetSpec read_weights_spec(const std::string& path);

/// A model from a path: a network description (.yaml; random weights from
/// options.seed) or a weight file with its description. The data set's image
/// shape goes in options.input_shape.
std::unique_ptr<Net> load_model(const std::string& path, const NetOptions& options);

}  // namespace ristsim::engine
