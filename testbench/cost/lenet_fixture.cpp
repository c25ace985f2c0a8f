#include "lenet_fixture.h"

namespace ristsim::cost::testing {

namespace {
LayerWork conv(const char* name, const char* shape, uint64_t in_c, uint64_t in_hw, uint64_t out_c,
               uint64_t k) {
  const uint64_t out_hw = in_hw - k + 1;
  LayerWork w;
  w.name = name;
  w.kind = "conv";
  w.shape = shape;
  w.outputs = out_c * out_hw * out_hw;
  w.terms = in_c * k * k;
  w.macs = w.outputs * w.terms;
  w.weights = out_c * in_c * k * k;
  w.biases = out_c;
  w.inputs = in_c * in_hw * in_hw;
  return w;
}
LayerWork fc(const char* name, const char* shape, uint64_t in, uint64_t out) {
  LayerWork w;
  w.name = name;
  w.kind = "fc";
  w.shape = shape;
  w.outputs = out;
  w.terms = in;
  w.macs = in * out;
  w.weights = in * out;
  w.biases = out;
  w.inputs = in;
  return w;
}
}  // namespace

std::vector<LayerWork> lenet_layers(const config::Arch& arch) {
  std::vector<LayerWork> v = {conv("conv1", "1x28x28 -> 20x24x24, k5", 1, 28, 20, 5),
                              conv("conv2", "20x12x12 -> 50x8x8, k5", 20, 12, 50, 5),
                              fc("ip1", "800 -> 500", 800, 500), fc("ip2", "500 -> 10", 500, 10)};
  for (LayerWork& w : v) fill_traffic(arch, &w);
  return v;
}

config::Arch fixed_arch(int bits, int lanes) {
  config::Arch a;
  a.name = "fixed" + std::to_string(bits);
  a.datapath = config::Datapath::exact;
  for (config::NumberSpec* s : {&a.formats.activations, &a.formats.weights, &a.formats.outputs}) {
    s->quantizer.format = numeric::Format::fixed_point(bits, bits / 2);
    s->dynamic = true;
  }
  a.formats.bias.quantizer.format = numeric::Format::fixed_point(16, 8);
  a.accumulator.bits = 32;
  a.array.pes = 1;
  a.array.lanes = lanes;
  a.array.pipeline_every = 1;
  a.tech.node = "45nm";
  a.tech.frequency_mhz = 500;
  return a;
}

}  // namespace ristsim::cost::testing
