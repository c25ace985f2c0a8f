// Net -> LayerWork (see engine_work.h).
#include "cost/engine_work.h"

#include <stdexcept>
#include <string>

#include "engine/layers.h"
#include "engine/net.h"
#include "engine/quant.h"

namespace ristsim::cost {

std::vector<LayerWork> layer_work_from_net(engine::Net& net, const config::Arch& arch) {
  std::vector<LayerWork> out;
  const uint64_t batch = net.batch() > 0 ? uint64_t(net.batch()) : 1;
  for (int i = 0; i < net.num_layers(); ++i) {
    engine::Layer& l = net.layer(i);
    const std::string type = l.type();
    if (type != "Convolution" && type != "InnerProduct") continue;
    if (net.bottoms(i).empty() || net.tops(i).empty() || l.params().empty())
      throw std::runtime_error("layer " + l.name() + " has no input, output or weights");
    const engine::Blob& in = *net.bottoms(i)[0];
    const engine::Blob& top = *net.tops(i)[0];
    const engine::Blob& wts = *l.params()[0].blob;
    LayerWork w;
    w.name = l.name();
    w.kind = type == "Convolution" ? "conv" : "fc";
    w.outputs = top.count() / batch;
    w.inputs = in.count() / batch;
    w.weights = wts.count();
    const uint64_t out_channels = uint64_t(wts.shape(0));
    w.terms = out_channels ? w.weights / out_channels : 0;
    w.macs = w.outputs * w.terms;
    if (l.params().size() > 1) w.biases = l.params()[1].blob->count();
    std::vector<int> is(in.shape().begin() + 1, in.shape().end()),
        os(top.shape().begin() + 1, top.shape().end());
    w.shape = engine::shape_string(is) + " -> " + engine::shape_string(os) + ", weights " +
              wts.shape_string();
    fill_traffic(arch, &w);
    out.push_back(w);
  }
  attach_formats(net, &out);
  return out;
}

void attach_formats(engine::Net& net, std::vector<LayerWork>* layers) {
  for (int i = 0; i < net.num_layers(); ++i) {
    auto* wl = dynamic_cast<engine::WeightedLayer*>(&net.layer(i));
    if (!wl || !wl->quant()) continue;
    for (LayerWork& w : *layers)
      if (w.name == wl->name()) w.formats = wl->quant()->formats();
  }
}

}  // namespace ristsim::cost
