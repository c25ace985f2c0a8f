// Test fixture only: the layer shapes of Caffe's LeNet (models/lenet.yaml) on
// 1x28x28 inputs, for cost tests until the engine fills LayerWork itself.
#pragma once

#include <vector>

#include "config/arch.h"
#include "cost/arch_cost.h"

namespace ristsim::cost::testing {

/// conv1 (1x28x28 -> 20x24x24, 5x5), conv2 (20x12x12 -> 50x8x8, 5x5),
/// ip1 (800 -> 500), ip2 (500 -> 10); traffic from fill_traffic, cycles 0 (the cycle model counts them).
std::vector<LayerWork> lenet_layers(const config::Arch& arch);

/// A hand-built exact 8-bit arch like configs/dynfixed8.yaml (16 lanes, 32-bit
/// accumulator, 45 nm, 500 MHz), without reading YAML.
config::Arch fixed_arch(int bits, int lanes = 16);

}  // namespace ristsim::cost::testing
