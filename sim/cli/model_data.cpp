// Models, data and real layers as the commands use them (model_data.h).
#include "cli/model_data.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "cli/cli.h"
#include "engine/quant.h"
#include "engine/weights_io.h"
#include "io/caffe.h"

namespace ristsim::cli {

int quantize_with(engine::Net& net, const config::Arch& arch, const std::string& data,
                  int calib_images, int batch, const DataOptions& data_opts) {
  engine::check_overrides(net, arch);  // before the training split is read
  // Streamed: only the first calib_images of the training split are read.
  std::unique_ptr<io::DataSource> calib_set;
  engine::SampleStream calib;
  int used = 0;
  if (engine::has_dynamic_groups(arch)) {
    if (calib_images < 1) throw UsageError("--calib must be at least 1");
    calib_set = open_data(data, true, data_opts);
    calib = flow::stream_of(*calib_set);
    used = bounded_count("calib", calib_images, calib.n,
                         "the images of the training split of " + calib_set->source);
  }
  engine::quantize_net(net, arch, calib, used, batch);
  return used;
}

std::unique_ptr<engine::Net> load_model_weights(const std::string& model,
                                                const std::string& weights,
                                                const engine::NetOptions& options,
                                                std::optional<config::Arch>* ristretto_arch) {
  if (io::is_caffe_prototxt(model)) {
    io::CaffeModel cm = io::read_caffe(model, weights);
    if (ristretto_arch) *ristretto_arch = cm.arch;
    return io::build_net(cm.net, options);
  }
  std::unique_ptr<engine::Net> net = flow::load_model(model, options);
  if (!weights.empty()) engine::load_weights(*net, weights);
  return net;
}

std::string untrained_note(const std::string& model, bool has_weights, uint64_t seed) {
  if (has_weights || flow::is_onnx(model) || engine::is_weights_file(model)) return "";
  return model + " is a network description without trained weights: its weights are random " +
         "(seed " + std::to_string(seed) + "), so its accuracy means nothing (give --weights)";
}

std::string weighted_layer_names(engine::Net& net) {
  std::string s;
  for (engine::WeightedLayer* l : net.weighted_layers()) s += (s.empty() ? "" : ", ") + l->name();
  return s;
}

engine::WeightedLayer& weighted_layer(engine::Net& net, const std::string& name) {
  for (engine::WeightedLayer* l : net.weighted_layers())
    if (l->name() == name) return *l;
  throw UsageError("--layer '" + name + "': the model has no convolution or inner-product " +
                   "layer of that name (it has: " + weighted_layer_names(net) + ")");
}

cycle::LayerData real_layer(engine::Net& net, const std::string& name,
                            const engine::Samples& images, int image) {
  engine::WeightedLayer* layer = &weighted_layer(net, name);
  const engine::LayerQuant* q = layer->quant();
  if (!q) throw UsageError("layer '" + name + "' is not quantized");
  if (image < 0 || image >= images.n)
    throw UsageError("--image " + std::to_string(image) + ": the data set has images 0.." +
                     std::to_string(images.n - 1));
  engine::check_samples(net, images, "co-simulation");
  net.reshape(1);
  std::memcpy(net.input().data(), images.images + std::size_t(image) * images.image_size(),
              images.image_size() * sizeof(float));
  net.forward();

  const engine::ConvGeometry& g = layer->geometry();
  cycle::LayerData d;
  d.name = name;
  d.formats = q->formats();
  d.conv = kernels::ConvShape{1,         g.c,       g.h,       g.w,     g.k,     g.kh,
                              g.kw,      g.stride_h, g.stride_w, g.pad_h, g.pad_w, g.dil_h,
                              g.dil_w,   g.groups,  g.oh,      g.ow};
  d.in = q->input_codes();
  d.w = q->weight_codes();
  d.bias = q->bias_codes();
  d.bias.resize(std::size_t(g.k), 0);  // a layer without bias: zero codes
  d.functional = q->output_codes();
  d.stream = q->output_stream();
  if (d.in.size() != std::size_t(g.c) * g.h * g.w ||
      d.functional.size() != std::size_t(g.k) * g.oh * g.ow)
    throw JobError("layer '" + name + "': no exact-datapath codes after a forward pass " +
                   "(is the arch's datapath exact?)");
  return d;
}

namespace {
// A word as a POSIX shell reads it back: as is when it is safe, else in single quotes.
std::string shell_word(const std::string& w) {
  const bool safe = !w.empty() && w.find_first_not_of(
                                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789_-+=.,/:@%") == std::string::npos;
  if (safe) return w;
  std::string q = "'";
  for (char c : w) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}
}  // namespace

std::string effective_command(const std::string& command, const po::variables_map& vm,
                              const std::vector<std::string>& skip) {
  std::string r = "ristsim " + command;
  for (const auto& [name, v] : vm) {  // std::map: name order
    if (std::find(skip.begin(), skip.end(), name) != skip.end() || v.empty()) continue;
    const boost::any& a = v.value();
    std::ostringstream s;
    s.precision(17);
    if (const bool* b = boost::any_cast<bool>(&a)) {
      if (*b) r += " --" + name;
      continue;
    }
    if (const auto* x = boost::any_cast<std::string>(&a)) s << *x;
    else if (const auto* i = boost::any_cast<int>(&a)) s << *i;
    else if (const auto* i64 = boost::any_cast<int64_t>(&a)) s << *i64;
    else if (const auto* u = boost::any_cast<uint64_t>(&a)) s << *u;
    else if (const auto* d = boost::any_cast<double>(&a)) s << *d;
    else if (const auto* f = boost::any_cast<float>(&a)) s << *f;
    else if (const auto* vs = boost::any_cast<std::vector<std::string>>(&a)) {
      for (const std::string& x : *vs) r += " --" + name + " " + shell_word(x);
      continue;
    } else {  // a new option type must be added here, not lost from the record
      throw std::logic_error("effective_command: option --" + name + " has a type it does not write");
    }
    r += " --" + name + " " + shell_word(s.str());
  }
  return r;
}

}  // namespace ristsim::cli
