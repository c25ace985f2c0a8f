// The sizes, and the exact datapath's spec and shape, of a quantized layer, shared by the CPU
// forward (quant.cpp, kernels::exact_conv_cpu) and the GPU forward (quant.cu,
// cuda::exact_conv_device), so that both run the same quantizers, accumulator and lanes. Internal
// to the engine.
#pragma once

#include <stdexcept>
#include <string>

#include "engine/quant.h"
#include "kernels/reference/exact_layer.h"

namespace ristsim::engine::detail {

/// Element counts of a layer's four number groups (the bias: 0 without one).
struct GroupSizes {
  std::size_t in, w, out, b;
};
inline GroupSizes group_sizes(WeightedLayer& layer, bool has_bias) {
  const ConvGeometry& g = layer.geometry();
  return {std::size_t(g.n) * g.c * g.h * g.w, layer.weights().count(),
          std::size_t(g.n) * g.k * g.oh * g.ow, has_bias ? std::size_t(g.k) : 0};
}

inline kernels::ConvShape conv_shape(const ConvGeometry& g) {
  return {g.n,        g.c,     g.h,     g.w,     g.k,     g.kh,     g.kw, g.stride_h,
          g.stride_w, g.pad_h, g.pad_w, g.dil_h, g.dil_w, g.groups, g.oh, g.ow};
}

/// The layer's exact-datapath spec; throws std::runtime_error naming the layer where a group
/// is float (the exact datapath has no float operand).
inline kernels::ExactLayerSpec exact_layer_spec(const LayerQuant& q, const config::Arch& arch,
                                                const std::string& layer, bool has_bias) {
  const config::LayerFormats& f = q.formats();
  for (const config::NumberSpec* s : {&f.activations, &f.weights, &f.bias, &f.outputs})
    if (s->is_float)
      throw std::runtime_error("layer '" + layer +
                               "': the exact datapath needs a format for every number group "
                               "(float is only allowed with datapath: float)");
  kernels::ExactLayerSpec spec;
  spec.act = q.group_quantizer(f.activations, NumberGroup::inputs);
  spec.wt = q.group_quantizer(f.weights, NumberGroup::weights);
  spec.bias = q.group_quantizer(f.bias, NumberGroup::bias);
  spec.out = q.group_quantizer(f.outputs, NumberGroup::outputs);
  spec.acc = arch.accumulator;
  spec.lanes = arch.array.lanes;
  spec.stream = q.output_stream();
  spec.has_bias = has_bias;
  spec.wt_fl = f.weights.channel_fl;  // empty: one FL for the layer
  return spec;
}

}  // namespace ristsim::engine::detail
