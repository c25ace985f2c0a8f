// bench_cuda: images per second of a network on the GPU (scripts/bench_cuda.sh runs it).
//
//   bench_cuda --model models/caffenet.yaml --mode fp32  [--batch 256] [--iters 10]
//   bench_cuda --model models/lenet_fmnist.rstw --mode fp32  (a trained model: a weight file)
//   bench_cuda --model models/caffenet.yaml --mode exact --arch configs/dynfixed8.yaml
//   bench_cuda --model models/caffenet.yaml --mode engine-exact --arch configs/dynfixed8.yaml
//   bench_cuda --dump-net models/caffenet.yaml          (the layers as JSON, for the PyTorch peer)
//
// fp32: the engine's cuda mode, whole-net forward passes (random weights from the fillers),
// each with its batch in and the class scores out. exact: every Convolution / InnerProduct
// on the exact datapath (cuda::exact_conv_device: the int8 IMMA route where the accumulator
// bound admits the layer, the per-output kernel elsewhere) on random codes of the arch's
// formats (a speed figure, not an accuracy one), plus the engine's
// GPU forward of every other layer; the sum of the layers' times gives images/s.
// engine-exact: whole-net forward passes of the quantized net (engine::attach_arch, the
// arch's exact datapath): what `eval --datapath exact --device cuda` runs, the quantizers,
// statistics and decoding of every weighted layer on the device (LayerQuant::forward_gpu).
// Prints one JSON object per run.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/arch_yaml.h"
#include "cuda/device.h"
#include "cuda/exact_layer_cuda.h"
#include "engine/device.h"
#include "engine/net.h"
#include "engine/quant.h"
#include "engine/weights_io.h"

namespace {

using namespace ristsim;
using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void sync() {
  if (cudaDeviceSynchronize() != cudaSuccess)
    throw std::runtime_error("cudaDeviceSynchronize failed");
}

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) o += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return o + "\"";
}

void dump_net(const std::string& path) {
  const engine::NetSpec spec = engine::load_net_spec(path);
  std::printf("{\"name\": %s, \"input\": %s, \"output\": %s, \"input_shape\": [",
              json_string(spec.name).c_str(), json_string(spec.input).c_str(),
              json_string(spec.output).c_str());
  for (std::size_t i = 0; i < spec.input_shape.size(); ++i)
    std::printf("%s%d", i ? ", " : "", spec.input_shape[i]);
  std::printf("], \"layers\": [\n");
  for (std::size_t li = 0; li < spec.layers.size(); ++li) {
    const engine::LayerSpec& l = spec.layers[li];
    std::printf("  {\"name\": %s, \"type\": %s, \"bottoms\": [", json_string(l.name).c_str(),
                json_string(l.type).c_str());
    for (std::size_t i = 0; i < l.bottoms.size(); ++i)
      std::printf("%s%s", i ? ", " : "", json_string(l.bottoms[i]).c_str());
    std::printf("], \"tops\": [");
    for (std::size_t i = 0; i < l.tops.size(); ++i)
      std::printf("%s%s", i ? ", " : "", json_string(l.tops[i]).c_str());
    std::printf("], \"params\": {");
    bool first = true;
    for (const auto& [key, v] : l.params) {
      std::printf("%s%s: ", first ? "" : ", ", json_string(key).c_str());
      first = false;
      if (v.nums.empty()) {
        std::printf("%s", json_string(v.str).c_str());
      } else if (!v.is_list) {
        std::printf("%.17g", v.nums[0]);
      } else {
        std::printf("[");
        for (std::size_t i = 0; i < v.nums.size(); ++i)
          std::printf("%s%.17g", i ? ", " : "", v.nums[i]);
        std::printf("]");
      }
    }
    std::printf("}}%s\n", li + 1 < spec.layers.size() ? "," : "");
  }
  std::printf("]}\n");
}

/// The exact datapath's layer spec for weighted layer `index`: the arch's formats (dynamic
/// fixed point at the file's default fractional lengths: a speed figure needs no range
/// analysis), accumulator and lanes.
kernels::ExactLayerSpec exact_spec(const config::Arch& arch, int index) {
  kernels::ExactLayerSpec s{};
  s.act = arch.formats.activations.quantizer;
  s.wt = arch.formats.weights.quantizer;
  s.bias = arch.formats.bias.quantizer;
  s.out = arch.formats.outputs.quantizer;
  s.acc = arch.accumulator;
  s.lanes = arch.array.lanes;
  s.stream = static_cast<uint64_t>(index);
  s.has_bias = true;
  return s;
}

int run(int argc, char** argv) {
  std::string model, mode = "fp32", arch_path = "configs/dynfixed8.yaml";
  int batch = 256, iters = 10;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--dump-net") return dump_net(next()), 0;
    if (a == "--model")
      model = next();
    else if (a == "--mode")
      mode = next();
    else if (a == "--arch")
      arch_path = next();
    else if (a == "--batch")
      batch = std::stoi(next());
    else if (a == "--iters")
      iters = std::stoi(next());
    else
      throw std::invalid_argument("unknown argument " + a);
  }
  if (model.empty() || (mode != "fp32" && mode != "exact" && mode != "engine-exact") ||
      batch < 1 || iters < 1)
    throw std::invalid_argument(
        "usage: bench_cuda --model M.yaml [--mode fp32|exact|engine-exact] [--arch A] [--batch N] "
        "[--iters N]");
  engine::set_device(engine::Device::cuda);  // throws with the driver's reason without a GPU
  engine::NetOptions o;
  o.batch = batch;
  std::unique_ptr<engine::Net> owned = engine::load_model(model, o);  // .yaml: random weights
  engine::Net& net = *owned;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> images(net.input().count());
  for (float& v : images) v = u(rng);
  auto batch_in = [&] {
    std::memcpy(net.input().data(), images.data(), images.size() * sizeof(float));
  };
  config::Arch engine_arch;
  if (mode == "engine-exact") {
    engine_arch = config::load_arch(arch_path);
    engine_arch.datapath = config::Datapath::exact;
    engine::attach_arch(net, engine_arch);
  }
  batch_in();
  net.forward();  // warm-up: allocations, cuBLAS handle
  sync();

  double total = 0;
  if (mode == "fp32" || mode == "engine-exact") {
    const auto t0 = Clock::now();
    for (int it = 0; it < iters; ++it) {
      batch_in();
      net.forward();
      volatile float first = net.output().data()[0];  // the scores out
      (void)first;
    }
    sync();
    total = seconds(t0) / iters;
  } else {
    const config::Arch arch = config::load_arch(arch_path);
    // Per layer: the exact datapath for the weighted ones, the engine's GPU forward otherwise.
    for (int li = 0; li < net.num_layers(); ++li) {
      engine::Layer& layer = net.layer(li);
      auto* w = dynamic_cast<engine::WeightedLayer*>(&layer);
      if (!w) {
        const auto t0 = Clock::now();
        for (int it = 0; it < iters; ++it) layer.forward_gpu(net.bottoms(li), net.tops(li));
        sync();
        total += seconds(t0) / iters;
        continue;
      }
      const engine::ConvGeometry& g = w->geometry();
      const kernels::ConvShape s{g.n,     g.c,        g.h,        g.w,     g.k,     g.kh,
                                 g.kw,    g.stride_h, g.stride_w, g.pad_h, g.pad_w, g.dil_h,
                                 g.dil_w, g.groups,   g.oh,       g.ow};
      const kernels::ExactLayerSpec spec = exact_spec(arch, li);
      const size_t n_in = size_t(s.n) * s.c * s.h * s.w,
                   n_w = size_t(s.k) * (s.c / s.groups) * s.kh * s.kw;
      const size_t n_out = size_t(s.n) * s.k * s.oh * s.ow;
      const int code_bits = std::min(spec.act.format.code_bits(), 31);
      std::uniform_int_distribution<uint32_t> code(0, (1u << code_bits) - 1);
      std::vector<uint32_t> h_in(n_in), h_w(n_w), h_b(s.k);
      for (auto& v : h_in) v = code(rng);
      for (auto& v : h_w) v = code(rng);
      for (auto& v : h_b) v = code(rng);
      uint32_t *d_in, *d_w, *d_b, *d_out;
      unsigned long long* d_counts;
      cudaMalloc(&d_in, n_in * 4), cudaMalloc(&d_w, n_w * 4), cudaMalloc(&d_b, size_t(s.k) * 4);
      cudaMalloc(&d_out, n_out * 4), cudaMalloc(&d_counts, 3 * sizeof(unsigned long long));
      cudaMemcpy(d_in, h_in.data(), n_in * 4, cudaMemcpyHostToDevice);
      cudaMemcpy(d_w, h_w.data(), n_w * 4, cudaMemcpyHostToDevice);
      cudaMemcpy(d_b, h_b.data(), size_t(s.k) * 4, cudaMemcpyHostToDevice);
      cudaMemset(d_counts, 0, 3 * sizeof(unsigned long long));
      cuda::ExactRoute used;
      cuda::exact_conv_device(s, spec, d_in, d_w, d_b, d_out, d_counts, cuda::ExactRoute::automatic,
                              &used);
      sync();
      const auto t0 = Clock::now();
      for (int it = 0; it < iters; ++it)
        cuda::exact_conv_device(s, spec, d_in, d_w, d_b, d_out, d_counts);
      sync();
      const double t = seconds(t0) / iters;
      total += t;
      std::fprintf(stderr, "  %-12s %-6s %8.3f ms\n", layer.name().c_str(),
                   used == cuda::ExactRoute::gemm ? "imma" : "element", t * 1e3);
      for (void* p : {(void*)d_in, (void*)d_w, (void*)d_b, (void*)d_out, (void*)d_counts})
        cudaFree(p);
    }
  }
  std::printf(
      "{\"model\": %s, \"mode\": %s, \"batch\": %d, \"iters\": %d, \"seconds_per_batch\": %.6f, "
      "\"images_per_s\": %.1f, \"device\": %s}\n",
      json_string(model).c_str(), json_string(mode).c_str(), batch, iters, total, batch / total,
      json_string(cuda::device_name()).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "bench_cuda: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cuda: error: %s\n", e.what());
    return 1;
  }
}
