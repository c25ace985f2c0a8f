// Models and data as the commands use them: quantizing by an arch, and real
// layers. A real layer of a
// trained network is what the hardware sees: the engine runs one image through
// the network quantized by the arch on the exact datapath, and the layer's
// operand codes, formats and output codes come out of that run
// (engine::LayerQuant). `ristsim cosim --model --layer` and the main job stream
// them through the co-simulation.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "cli/data_options.h"
#include "config/arch.h"
#include "cycle/cosim.h"
#include "engine/net.h"
#include "engine/train.h"
#include "flow/flow.h"
#include "io/dataset.h"

namespace ristsim::cli {

// Model files and data sets come through sim/flow: flow::load_model (ONNX, weight
// file or description), flow::samples_of, flow::is_onnx.

/// Quantizes `net` by `arch` (the range analysis of dynamic fixed point over
/// the first `calib_images` training images of `data`, loaded only when the
/// arch has dynamic groups). Returns the number of images the range analysis
/// used (0 without dynamic groups): --calib is bounded by the training split
/// (bounded_count). Throws config::ConfigError for an override of the arch that
/// names no layer of the net (engine::check_overrides). `data_opts`: the image
/// preparation of the command's data options (cli/data_options.h).
int quantize_with(engine::Net& net, const config::Arch& arch, const std::string& data,
                  int calib_images, int batch, const DataOptions& data_opts = {});

/// A model without trained weights is said: for a network description (.yaml)
/// given without a weight file, the note "MODEL is a network description
/// without trained weights: its weights are random (seed N), so its accuracy
/// means nothing"; empty for a weight file or an ONNX model.
std::string untrained_note(const std::string& model, bool has_weights, uint64_t seed);

/// The Convolution or InnerProduct layer `name`; throws UsageError naming the
/// layers there are.
engine::WeightedLayer& weighted_layer(engine::Net& net, const std::string& name);

/// Runs image `image` of `images` through `net` (quantized, exact datapath) and
/// returns layer `layer`'s codes and formats. Leaves the net at batch 1.
/// Throws UsageError for an unknown or unweighted layer or an image out of range.
cycle::LayerData real_layer(engine::Net& net, const std::string& layer,
                            const engine::Samples& images, int image);

/// The net of --model with --weights (empty: none): a Caffe prototxt with its caffemodel
/// (io/caffe.h; a Ristretto prototxt's per-layer formats go to *ristretto_arch when it is not
/// null), or what flow::load_model reads (ONNX, engine weight file, .yaml description) with
/// --weights an engine weight file for a .yaml description.
std::unique_ptr<engine::Net> load_model_weights(const std::string& model,
                                                const std::string& weights,
                                                const engine::NetOptions& options,
                                                std::optional<config::Arch>* ristretto_arch = nullptr);

/// The command line that re-runs `command` as parsed by `cl`: "ristsim COMMAND --opt value ..."
/// with every option's effective value (defaults included, so that a later change of a default
/// does not change what it re-runs), in name order, shell-quoted where needed; true switches
/// as "--name", false ones left out. Options named in `skip` (e.g. out, force, quiet) are left
/// out. What quantize / finetune record as ristsim.<command>.command.
std::string effective_command(const std::string& command, const boost::program_options::variables_map& vm,
                              const std::vector<std::string>& skip);

/// The names of the net's Convolution and InnerProduct layers, comma-separated.
std::string weighted_layer_names(engine::Net& net);

}  // namespace ristsim::cli
