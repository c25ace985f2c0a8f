// Writes every models/*.yaml network, with random weights (fixed seeds), as ONNX together
// with one input batch and the engine's output for it, so that an independent ONNX runtime
// can check the export (testbench/io/ort_check.py runs onnxruntime on them):
//   OUT/<model>.onnx  OUT/<model>.input.pb  OUT/<model>.output.pb
// Small nets (input <= 32x32) are also written at Fashion-MNIST's 1x28x28 (<model>_28), and
// quantized with ARCH's formats on the float datapath (<model>_q: weights as int8 codes +
// DequantizeLinear, activations as QuantizeLinear / DequantizeLinear), where the range
// analysis ran on the same batch; metadata "ristsim.output_quantum" is the output's quantum.
//   onnx_export_models MODELS_DIR OUT_DIR [ARCH.yaml]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

#include "config/arch_yaml.h"
#include "engine/net.h"
#include "engine/spec.h"
#include "engine/quant.h"
#include "io/onnx.h"
#include "io/onnx_export.h"

namespace fs = std::filesystem;
using namespace ristsim;

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: onnx_export_models MODELS_DIR OUT_DIR [ARCH.yaml]\n");
    return 2;
  }
  const fs::path models = argv[1], out = argv[2];
  fs::create_directories(out);
  for (const auto& e : fs::directory_iterator(out))  // no stale models from an earlier run
    if (e.path().extension() == ".onnx" || e.path().extension() == ".pb") fs::remove(e.path());
  int written = 0;
  try {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(models))
      if (e.path().extension() == ".yaml") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      const engine::NetSpec spec = engine::load_net_spec(f.string());
      const bool small = spec.input_shape.size() == 3 && spec.input_shape[1] <= 32;
      std::vector<std::pair<std::string, std::vector<int>>> variants = {
          {f.stem().string(), spec.input_shape}};
      if (small && spec.input_shape != std::vector<int>{1, 28, 28})
        variants.push_back({f.stem().string() + "_28", {1, 28, 28}});
      for (const auto& [name, shape] : variants) {
        engine::NetOptions opt;
        opt.batch = small ? 4 : 1;
        opt.input_shape = shape;
        opt.seed = 2024;
        engine::Net net(spec, opt);
        std::mt19937 rng(7);
        std::normal_distribution<float> d(0.f, 1.f);
        for (std::size_t i = 0; i < net.input().count(); ++i) net.input().data()[i] = d(rng);
        net.forward();
        io::export_onnx(net, (out / (name + ".onnx")).string());
        auto tensor = [](const engine::Blob& b, const std::string& n) {
          return io::Tensor::from_floats(n,
                                         std::vector<int64_t>(b.shape().begin(), b.shape().end()),
                                         std::vector<float>(b.data(), b.data() + b.count()));
        };
        io::write_tensor_pb(tensor(net.input(), "input"), (out / (name + ".input.pb")).string());
        io::write_tensor_pb(tensor(net.output(), "output"), (out / (name + ".output.pb")).string());
        std::printf("%s: input %s, output %s\n", name.c_str(), net.input().shape_string().c_str(),
                    net.output().shape_string().c_str());
        ++written;
        if (argc == 4 && small) {
          config::Arch arch = config::load_arch(argv[3]);
          arch.datapath = config::Datapath::float32;  // what QDQ graphs compute
          engine::attach_measurement(net);
          net.forward();  // range analysis on this batch
          engine::attach_arch(net, arch);
          net.forward();
          io::ExportOptions eo;
          eo.quantized = true;
          eo.arch = &arch;
          const auto& fo = net.weighted_layers().back()->quant()->formats().outputs;
          eo.metadata["ristsim.output_quantum"] =
              std::to_string(std::ldexp(1.0, -fo.quantizer.format.fl));
          const std::string qn = name + "_q";
          io::export_onnx(net, (out / (qn + ".onnx")).string(), eo);
          io::write_tensor_pb(tensor(net.input(), "input"), (out / (qn + ".input.pb")).string());
          io::write_tensor_pb(tensor(net.output(), "output"), (out / (qn + ".output.pb")).string());
          std::printf("%s: quantized with %s (float datapath)\n", qn.c_str(), arch.name.c_str());
          ++written;
        }
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "onnx_export_models: %s\n", e.what());
    return 1;
  }
  std::printf("%d models written to %s\n", written, out.string().c_str());
  return 0;
}
