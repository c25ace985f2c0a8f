// Weight files: save_weights / load_weights, the interface the ONNX exporter
// (sim/io) can replace. Until then the engine's own binary format:
//
//   offset 0   8 bytes  magic "RSTWGT01"
//              u32      number of parameter blobs P
//   P times:   u32      name length L, then L bytes: "<layer>.<index>" ("conv1.0")
//              u32      number of axes A, then A x u32 sizes
//              f32 x count  the values (little-endian IEEE binary32)
//
// Every parameter of the net is written, BatchNorm statistics included.
// load_weights requires every parameter of the net to be present with the same
// shape (extra blobs in the file are an error too) and throws
// std::runtime_error naming the file and the blob otherwise.
#pragma once

#include <string>

#include "engine/net.h"

namespace ristsim::engine {

void save_weights(Net& net, const std::string& path);
void load_weights(Net& net, const std::string& path);

}  // namespace ristsim::engine
