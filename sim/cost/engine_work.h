// The work of a network's layers for the cost model, from the engine's Net:
// every Convolution and InnerProduct layer becomes a LayerWork (one image).
#pragma once

#include <vector>

#include "config/arch.h"
#include "cost/arch_cost.h"

namespace ristsim::engine {
class Net;
}

namespace ristsim::cost {

/// LayerWork of every Convolution / InnerProduct layer of `net` (built with batch
/// 1), per image: MACs = outputs x (weights / output channels); traffic from
/// fill_traffic with the layer's formats; cycles 0, so that layer_energy
/// counts them with the cycle model.
std::vector<LayerWork> layer_work_from_net(engine::Net& net, const config::Arch& arch);

/// Sets LayerWork::formats of every layer of `layers` that `net` has quantized
/// (its actual fractional lengths after a range analysis), by layer name.
void attach_formats(engine::Net& net, std::vector<LayerWork>* layers);

}  // namespace ristsim::cost
