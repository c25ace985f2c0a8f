// Writes every models/*.yaml network, with random weights (fixed seeds), as ONNX together
// with one input batch and the engine's output for it, so that an independent ONNX runtime
// can check the export (testbench/io/ort_check.py runs onnxruntime on them):
//   OUT/<model>.onnx  OUT/<model>.input.pb  OUT/<model>.output.pb
// Small nets (input <= 32x32) are also written at Fashion-MNIST's 1x28x28 (<model>_28).
//   onnx_export_models MODELS_DIR OUT_DIR
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>

#include "engine/net.h"
#include "engine/net_yaml.h"
#include "io/onnx.h"
#include "io/onnx_export.h"

namespace fs = std::filesystem;
using namespace ristsim;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: onnx_export_models MODELS_DIR OUT_DIR\n");
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
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "onnx_export_models: %s\n", e.what());
    return 1;
  }
  std::printf("%d models written to %s\n", written, out.string().c_str());
  return 0;
}
