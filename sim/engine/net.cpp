#include "engine/net.h"

#include <algorithm>
#include <sstream>

#include "engine/math.h"

namespace ristsim::engine {

namespace {
std::string spec_where(const LayerSpec& s) { return s.location() + "layer '" + s.name + "': "; }
}  // namespace

int Net::new_blob(const std::string& name) {
  std::string internal = name;
  if (latest_.count(name)) internal = name + "#" + std::to_string(blobs_.size());
  blobs_.push_back(std::make_unique<Blob>());
  blob_names_.push_back(internal);
  latest_[name] = static_cast<int>(blobs_.size()) - 1;
  return static_cast<int>(blobs_.size()) - 1;
}

Net::Net(const NetSpec& spec, const NetOptions& opt) : spec_(spec), phase_(opt.phase) {
  const std::string file_prefix = spec.file.empty() ? "" : spec.file + ": ";
  std::vector<int> shape = opt.input_shape.empty() ? spec.input_shape : opt.input_shape;
  if (shape.size() != 3)
    throw NetSpecError(file_prefix + "the input shape must be [C, H, W], got " + shape_string(shape));
  if (opt.batch <= 0) throw NetSpecError(file_prefix + "batch size must be positive");
  if (spec.layers.empty()) throw NetSpecError(file_prefix + "the network has no layers");

  std::vector<LayerSpec> specs = spec.layers;
  std::string output = spec.output.empty() ? specs.back().tops.at(0) : spec.output;
  input_id_ = new_blob(spec.input);
  try {
    blobs_[input_id_]->reshape({opt.batch, shape[0], shape[1], shape[2]});
  } catch (const BlobSizeError& e) {
    throw NetSpecError(file_prefix + "the input of batch " + std::to_string(opt.batch) + ": " +
                       e.what());
  }
  if (opt.with_loss) {
    label_id_ = new_blob("label");
    blobs_[label_id_]->reshape({opt.batch});
    LayerSpec loss;
    loss.name = "loss";
    loss.type = "SoftmaxWithLoss";
    loss.bottoms = {output, "label"};
    loss.tops = {"loss"};
    loss.file = spec.file;
    specs.push_back(loss);
  }

  // Resolve names to blob versions.
  struct Pending {
    LayerSpec spec;
    std::vector<int> bottoms, tops;
    int spec_index;
  };
  std::vector<Pending> pending;
  for (std::size_t li = 0; li < specs.size(); ++li) {
    const LayerSpec& s = specs[li];
    Pending p{s, {}, {}, static_cast<int>(li)};
    if (s.bottoms.empty()) throw NetSpecError(spec_where(s) + "has no bottom");
    if (s.tops.empty()) throw NetSpecError(spec_where(s) + "has no top");
    for (const std::string& b : s.bottoms) {
      auto it = latest_.find(b);
      if (it == latest_.end())
        throw NetSpecError(spec_where(s) + "bottom '" + b +
                           "' is not the input nor a top of an earlier layer");
      p.bottoms.push_back(it->second);
    }
    for (const std::string& t : s.tops) p.tops.push_back(new_blob(t));
    pending.push_back(std::move(p));
  }
  auto out_it = latest_.find(output);
  if (out_it == latest_.end())
    throw NetSpecError(file_prefix + "output '" + output + "' is not a blob of the network");
  output_id_ = opt.with_loss ? pending.back().bottoms[0] : out_it->second;
  if (opt.with_loss) loss_id_ = pending.back().tops[0];

  // Consumers per blob, then Split layers for blobs read more than once.
  std::vector<int> consumers(blobs_.size(), 0);
  for (const Pending& p : pending)
    for (int b : p.bottoms) ++consumers[b];
  std::vector<std::vector<int>> split_tops(blobs_.size());
  std::vector<int> next_split(blobs_.size(), 0);
  auto make_split = [&](int b, std::vector<Pending>& out) {
    Pending sp;
    sp.spec.name = blob_names_[b] + "_split";
    sp.spec.type = "Split";
    sp.spec.file = spec.file;
    sp.spec_index = -1;
    sp.bottoms = {b};
    for (int i = 0; i < consumers[b]; ++i) {
      blobs_.push_back(std::make_unique<Blob>());
      blob_names_.push_back(blob_names_[b] + "_split_" + std::to_string(i));
      split_tops[b].push_back(static_cast<int>(blobs_.size()) - 1);
      sp.tops.push_back(split_tops[b].back());
    }
    out.push_back(sp);
  };
  std::vector<Pending> ordered;
  for (int b : {input_id_, label_id_})
    if (b >= 0 && consumers[b] > 1) make_split(b, ordered);
  for (Pending& p : pending) {
    ordered.push_back(p);
    for (int t : p.tops)
      if (consumers[t] > 1) make_split(t, ordered);
  }
  for (Pending& p : ordered) {
    if (p.spec.type == "Split") continue;
    for (int& b : p.bottoms)
      if (!split_tops[b].empty()) b = split_tops[b][next_split[b]++];
  }
  consumers.assign(blobs_.size(), 0);
  for (const Pending& p : ordered)
    for (int b : p.bottoms) ++consumers[b];

  // Which blobs need a gradient.
  std::vector<bool> needs(blobs_.size(), false);
  for (Pending& p : ordered) {
    std::unique_ptr<Layer> layer = create_layer(p.spec);
    const int idx = p.spec_index >= 0 ? p.spec_index : static_cast<int>(layers_.size());
    layer->set_index(idx);
    layer->set_seed(derive_seed(opt.seed, static_cast<uint64_t>(idx) + 1));
    layer->set_phase(phase_);
    const int nb = layer->num_bottoms(), nt = layer->num_tops();
    if (nb >= 0 && static_cast<int>(p.bottoms.size()) != nb)
      throw NetSpecError(spec_where(p.spec) + "a " + p.spec.type + " layer takes " + std::to_string(nb) +
                         " bottom(s), got " + std::to_string(p.bottoms.size()));
    if (nt >= 0 && static_cast<int>(p.tops.size()) != nt)
      throw NetSpecError(spec_where(p.spec) + "a " + p.spec.type + " layer makes " + std::to_string(nt) +
                         " top(s), got " + std::to_string(p.tops.size()));
    Blobs bottoms, tops;
    for (int b : p.bottoms) bottoms.push_back(blobs_[b].get());
    for (int t : p.tops) tops.push_back(blobs_[t].get());
    try {
      layer->setup(bottoms, tops);
      layer->spec().check_all_used();
      layer->reshape(bottoms, tops);
    } catch (const BlobSizeError& e) {  // a shape too large for memory: name the layer
      throw NetSpecError(spec_where(p.spec) + e.what());
    }
    bool has_learnable = false;
    for (const Param& pr : layer->params()) has_learnable |= pr.learnable;
    std::vector<bool> pd;
    bool any = has_learnable;
    for (int b : p.bottoms) {
      pd.push_back(needs[b]);
      any = any || needs[b];
    }
    for (int t : p.tops) needs[t] = any;
    propagate_.push_back(pd);
    layer_backward_.push_back(any);
    bottoms_.push_back(bottoms);
    tops_.push_back(tops);
    bottom_ids_.push_back(p.bottoms);
    top_ids_.push_back(p.tops);
    layers_.push_back(std::move(layer));
  }
  for (std::size_t b = 0; b < blobs_.size(); ++b)
    if (consumers[b] == 0 && static_cast<int>(b) != loss_id_) unconsumed_.push_back(static_cast<int>(b));
}

void Net::set_phase(Phase p) {
  phase_ = p;
  for (auto& l : layers_) l->set_phase(p);
}

void Net::reshape(int batch) {
  if (batch <= 0) throw std::invalid_argument("Net::reshape: batch size must be positive");
  std::vector<int> s = input().shape();
  s[0] = batch;
  input().reshape(s);
  if (label_id_ >= 0) blobs_[label_id_]->reshape({batch});
  for (std::size_t i = 0; i < layers_.size(); ++i) layers_[i]->reshape(bottoms_[i], tops_[i]);
}

Blob& Net::label() {
  if (label_id_ < 0) throw std::logic_error("Net::label: the net was built without a loss");
  return *blobs_[label_id_];
}

float Net::forward() {
  const bool gpu = device() == Device::cuda;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    if (gpu) layers_[i]->forward_gpu(bottoms_[i], tops_[i]);
    else layers_[i]->forward(bottoms_[i], tops_[i]);
  }
  return loss_id_ >= 0 ? blobs_[loss_id_]->data()[0] : 0.0f;
}

void Net::backward() {
  if (loss_id_ < 0) throw std::logic_error("Net::backward: the net was built without a loss");
  blobs_[loss_id_]->diff()[0] = 1.0f;
  for (int b : unconsumed_) blobs_[b]->zero_diff();
  const bool gpu = device() == Device::cuda;
  for (int i = static_cast<int>(layers_.size()) - 1; i >= 0; --i) {
    if (!layer_backward_[i]) continue;
    if (gpu) layers_[i]->backward_gpu(tops_[i], propagate_[i], bottoms_[i]);
    else layers_[i]->backward(tops_[i], propagate_[i], bottoms_[i]);
  }
}

void Net::zero_param_diffs() {
  for (auto& l : layers_)
    for (Param& p : l->params()) p.blob->zero_diff();
}

Blob* Net::blob(const std::string& name) {
  auto it = latest_.find(name);
  return it == latest_.end() ? nullptr : blobs_[it->second].get();
}

Layer* Net::layer(const std::string& name) {
  for (auto& l : layers_)
    if (l->name() == name) return l.get();
  return nullptr;
}

std::vector<WeightedLayer*> Net::weighted_layers() {
  std::vector<WeightedLayer*> v;
  for (auto& l : layers_)
    if (auto* w = dynamic_cast<WeightedLayer*>(l.get())) v.push_back(w);
  return v;
}

std::vector<ParamRef> Net::params() {
  std::vector<ParamRef> v;
  for (auto& l : layers_)
    for (std::size_t i = 0; i < l->params().size(); ++i)
      v.push_back({l->name() + "." + std::to_string(i), l.get(), static_cast<int>(i), &l->params()[i]});
  return v;
}

std::string Net::describe() const {
  std::ostringstream os;
  os << "input " << blob_names_[input_id_] << " " << blobs_[input_id_]->shape_string() << "\n";
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = *layers_[i];
    os << l.name() << " (" << l.type() << ") ->";
    for (const Blob* t : tops_[i]) os << " " << t->shape_string();
    std::size_t n = 0;
    for (const Param& p : l.params()) n += p.blob->count();
    if (n) os << "  params " << n;
    os << "\n";
  }
  return os.str();
}

}  // namespace ristsim::engine
