#include "engine/layer.h"

#include <functional>
#include <map>

#include "engine/layers.h"

namespace ristsim::engine {

void Layer::fail(const std::string& what) const { throw NetSpecError(spec_.where() + what); }

void Layer::apply_multipliers() {
  const std::vector<double> lr = spec_.get_list("lr_mult", {});
  const std::vector<double> decay = spec_.get_list("decay_mult", {});
  if (lr.size() > params_.size() || decay.size() > params_.size())
    throw NetSpecError(spec_.where("lr_mult") + "more multipliers than the layer's " +
                       std::to_string(params_.size()) + " parameter blobs");
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (i < lr.size()) params_[i].lr_mult = static_cast<float>(lr[i]);
    if (i < decay.size()) params_[i].decay_mult = static_cast<float>(decay[i]);
  }
}

namespace {
using Factory = std::function<std::unique_ptr<Layer>(const LayerSpec&)>;
template <class L>
Factory make() {
  return [](const LayerSpec& s) { return std::unique_ptr<Layer>(new L(s)); };
}
const std::map<std::string, Factory>& registry() {
  static const std::map<std::string, Factory> r = {
      {"BatchNorm", make<BatchNormLayer>()},   {"Concat", make<ConcatLayer>()},
      {"Convolution", make<ConvolutionLayer>()}, {"Dropout", make<DropoutLayer>()},
      {"Eltwise", make<EltwiseLayer>()},       {"Flatten", make<FlattenLayer>()},
      {"InnerProduct", make<InnerProductLayer>()}, {"LRN", make<LRNLayer>()},
      {"Pooling", make<PoolingLayer>()},       {"ReLU", make<ReLULayer>()},
      {"Reshape", make<ReshapeLayer>()},
      {"Scale", make<ScaleLayer>()},           {"Softmax", make<SoftmaxLayer>()},
      {"SoftmaxWithLoss", make<SoftmaxWithLossLayer>()}, {"Split", make<SplitLayer>()},
  };
  return r;
}
}  // namespace

std::unique_ptr<Layer> create_layer(const LayerSpec& spec) {
  auto it = registry().find(spec.type);
  if (it == registry().end()) {
    std::string names;
    for (const auto& kv : registry()) names += (names.empty() ? "" : ", ") + kv.first;
    throw NetSpecError(spec.location() + "layer '" + spec.name + "': unknown type '" + spec.type +
                       "' (known: " + names + ")");
  }
  return it->second(spec);
}

std::vector<std::string> layer_types() {
  std::vector<std::string> v;
  for (const auto& kv : registry()) v.push_back(kv.first);
  return v;
}

}  // namespace ristsim::engine
