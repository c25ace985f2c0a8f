// The quantized export against an independent runtime on real data: the trained lenet and
// cifar10_full (models/*_fmnist.rstw), quantized on the float datapath by each format QDQ can
// express, run by ristsim on the first N Fashion-MNIST test images, and exported as QDQ ONNX.
// testbench/io/ort_check_quantized.py then runs onnxruntime on the same images and asserts the
// same top-1 and logits within one output quantum. Writes, for each model M and arch A:
//   OUT/M.input.pb  OUT/M.labels.pb             the images as ristsim reads them, the labels
//   OUT/M_A.onnx  OUT/M_A.logits.pb  OUT/M_A.quantum.pb   the export, ristsim's logits, and
//                                                         each logit's quantum (the gap to the
//                                                         next value of the output format)
//   ort_quantized_models MODELS_DIR CONFIGS_DIR OUT_DIR [--images N] [--model M] [--plant-bad]
//                        [--form qdq|qonnx]
// --form qonnx writes QONNX (Quant / FloatQuant) instead of QDQ, for the QONNX executor's check
// (testbench/io/qonnx_check.py); the same models, formats and reference logits.
// --plant-bad (the checker's own test, ort_quantized_bad): every export's first weight scale
// (each channel's, for a per-axis one) is written 1 % off, a bug the check must find.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "config/arch_yaml.h"
#include "engine/net.h"
#include "engine/quant.h"
#include "engine/train.h"
#include "flow/flow.h"
#include "io/dataset.h"
#include "io/onnx.h"
#include "io/onnx_export.h"
#include "numeric/quantize.h"

namespace fs = std::filesystem;
using namespace ristsim;

namespace {

io::Tensor tensor(const std::string& name, std::vector<int64_t> dims, std::vector<float> v) {
  return io::Tensor::from_floats(name, std::move(dims), std::move(v));
}

// The gap from v to the next value of q's format away from zero (its quantum there).
float quantum_at(const numeric::Quantizer& q, float v) {
  const numeric::Quantized r = numeric::quantize(q, double(v), 0);
  const double a = std::fabs(r.value);
  const numeric::Format& f = q.format;
  if (f.kind == numeric::FormatKind::fixed) return std::ldexp(1.f, -f.fl);
  // minifloat: the spacing of v's binade (the subnormal spacing below the normal range)
  const int e = a > 0 ? std::max(int(std::floor(std::log2(a))), f.emin()) : f.emin();
  return static_cast<float>(std::ldexp(1.0, e - f.mant_bits));
}

// The arches of the check: each on the float datapath (what a QDQ graph computes).
std::vector<config::Arch> arches(const fs::path& configs) {
  std::vector<config::Arch> r;
  for (const char* name :
       {"dynfixed8", "dynfixed8u", "dynfixed8c", "dynfixed4", "dynfixed4c", "fixed16", "e4m3"}) {
    config::Arch a = config::load_arch((configs / (std::string(name) + ".yaml")).string());
    a.datapath = config::Datapath::float32;
    r.push_back(a);
  }
  config::Arch e5m2 = r.back();  // E4M3's arch with E5M2 numbers
  e5m2.name = "e5m2";
  for (config::NumberSpec* s : {&e5m2.formats.activations, &e5m2.formats.weights,
                                &e5m2.formats.outputs})
    s->quantizer.format = numeric::Format::e5m2();
  r.push_back(e5m2);
  return r;
}

// The first weight's scale 1 % off: a DequantizeLinear's (QDQ) or a (Float)Quant's (QONNX) whose
// data input is an initializer.
void plant_bad_scale(io::Model& m) {
  for (const io::Node& n : m.graph.nodes) {
    if ((n.op_type != "DequantizeLinear" && n.op_type != "Quant" && n.op_type != "FloatQuant") ||
        !m.graph.find_initializer(n.inputs[0]))
      continue;
    for (io::Tensor& t : m.graph.initializers)
      if (t.name == n.inputs[1]) {  // every scale of the tensor (per axis: every channel's)
        for (float& v : t.data) v *= 1.01f;
        return;
      }
  }
  throw std::runtime_error("--plant-bad: no weight DequantizeLinear or Quant to perturb");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> pos;
  int images = 1000;
  bool bad = false;
  std::string only;  // --model: one of the two
  std::string form_name = "qdq";
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--plant-bad")) bad = true;
    else if (!std::strcmp(argv[i], "--images") && i + 1 < argc) images = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--model") && i + 1 < argc) only = argv[++i];
    else if (!std::strcmp(argv[i], "--form") && i + 1 < argc) form_name = argv[++i];
    else pos.push_back(argv[i]);
  }
  const io::QuantExport form = form_name == "qonnx" ? io::QuantExport::qonnx : io::QuantExport::qdq;
  if (pos.size() != 3 || images < 1 || (form_name != "qdq" && form_name != "qonnx")) {
    std::fprintf(stderr,
                 "usage: ort_quantized_models MODELS_DIR CONFIGS_DIR OUT_DIR [--images N] "
                 "[--model lenet_fmnist|cifar10_full_fmnist] [--plant-bad] [--form qdq|qonnx]\n");
    return 2;
  }
  const fs::path models = pos[0], configs = pos[1], out = pos[2];
  try {
    fs::create_directories(out);
    for (const auto& e : fs::directory_iterator(out)) fs::remove_all(e.path());
    io::ImageFolderOptions first;  // only the images used: the first N of each split
    first.max_images = images;
    const io::Dataset test = io::load_dataset("fashion-mnist", false, first);
    // The range analysis of dynamic fixed point: 200 training images (a max: 200 are enough).
    const int calib_images = 200;
    first.max_images = calib_images;
    const io::Dataset train = io::load_dataset("fashion-mnist", true, first);
    images = std::min(images, test.n);
    const engine::Samples tr = flow::samples_of(train);
    const std::size_t isz = test.image_size();
    std::vector<float> labels(test.labels.begin(), test.labels.begin() + images);
    const int batch = 100;
    std::vector<std::string> model_names = {"lenet_fmnist", "cifar10_full_fmnist"};
    if (!only.empty()) model_names = {only};
    for (const std::string& model : model_names) {
      const std::string path = (models / (model + ".rstw")).string();
      const std::vector<int64_t> idims = {images, test.c, test.h, test.w};
      io::write_tensor_pb(tensor("input", idims,
                                 std::vector<float>(test.images.begin(),
                                                    test.images.begin() + images * isz)),
                          (out / (model + ".input.pb")).string());
      io::write_tensor_pb(tensor("labels", {images}, labels),
                          (out / (model + ".labels.pb")).string());
      for (const config::Arch& arch : arches(configs)) {
        engine::NetOptions no;
        no.batch = batch;
        no.input_shape = {test.c, test.h, test.w};
        no.phase = engine::Phase::test;
        std::unique_ptr<engine::Net> net = flow::load_model(path, no);
        engine::quantize_net(*net, arch, tr, std::min(tr.n, calib_images), batch);
        // ristsim's logits, batch by batch, and each one's quantum in the last layer's format.
        const numeric::Quantizer qo =
            net->weighted_layers().back()->quant()->formats().outputs.quantizer;
        std::vector<float> logits, quanta;
        int correct = 0;
        for (int first = 0; first < images; first += batch) {
          const int n = std::min(batch, images - first);
          std::copy(test.images.begin() + first * isz, test.images.begin() + (first + n) * isz,
                    net->input().data());
          net->forward();
          const engine::Blob& y = net->output();
          const int k = y.count(1);
          for (int i = 0; i < n; ++i) {
            const float* row = y.data() + std::size_t(i) * k;
            correct += std::max_element(row, row + k) - row == test.labels[first + i];
            logits.insert(logits.end(), row, row + k);
            for (int j = 0; j < k; ++j) quanta.push_back(quantum_at(qo, row[j]));
          }
        }
        const int k = int(logits.size() / images);
        const std::string stem = model + "_" + arch.name;
        io::ExportOptions eo;
        eo.quantized = true;
        eo.arch = &arch;
        eo.form = form;
        eo.metadata["ristsim.top1"] = std::to_string(correct) + "/" + std::to_string(images);
        io::Model m = io::export_model(*net, eo);
        if (bad) plant_bad_scale(m);
        io::write_onnx(m, (out / (stem + ".onnx")).string());
        io::write_tensor_pb(tensor("logits", {images, k}, logits), (out / (stem + ".logits.pb")).string());
        io::write_tensor_pb(tensor("quantum", {images, k}, quanta),
                            (out / (stem + ".quantum.pb")).string());
        std::printf("%s: ristsim top-1 %d/%d (float datapath, opset %lld)\n", stem.c_str(), correct,
                    images, static_cast<long long>(m.opset_imports[0].version));
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ort_quantized_models: %s\n", e.what());
    return 1;
  }
  return 0;
}
