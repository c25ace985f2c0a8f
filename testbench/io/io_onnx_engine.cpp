// ONNX <-> engine: export a Net, write it, read it back, import it and compare the forward
// pass bit for bit (the same engine layers run on the same values); quantized export puts
// the weights on their grid as DequantizeLinear(int8 codes); import errors name the node.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include "engine/net.h"
#include "engine/spec.h"
#include "engine/quant.h"
#include "io/onnx.h"
#include "io/onnx_export.h"
#include "io/onnx_import.h"
#include "numeric/quantize.h"

namespace fs = std::filesystem;
using namespace ristsim;
using io::Model;
using io::Tensor;

namespace {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("ristsim_onnxe_" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string operator/(const std::string& s) const { return (path_ / s).string(); }

 private:
  fs::path path_;
};

engine::LayerSpec layer(const std::string& name, const std::string& type,
                        std::vector<std::string> bottoms, std::vector<std::string> tops) {
  engine::LayerSpec s;
  s.name = name;
  s.type = type;
  s.bottoms = std::move(bottoms);
  s.tops = std::move(tops);
  return s;
}

// A small net with every exportable layer type: two branches (Concat, Eltwise), BatchNorm +
// Scale, LRN, in-place ReLU, max and average pooling (Caffe ceil sizes), Dropout, InnerProduct
// on a 3-D input (after a Reshape), Softmax.
engine::NetSpec test_net() {
  engine::NetSpec n;
  n.name = "testnet";
  n.input = "data";
  n.input_shape = {3, 12, 12};
  auto conv = [](const std::string& name, const std::string& bottom, int k, int ks, int pad) {
    engine::LayerSpec s = layer(name, "Convolution", {bottom}, {name});
    s.set("num_output", double(k)).set("kernel_size", double(ks)).set("pad", double(pad));
    s.set("weight_filler.type", std::string("gaussian")).set("weight_filler.std", 0.3);
    s.set("bias_filler.type", std::string("uniform")).set("bias_filler.min", -0.5);
    s.set("bias_filler.max", 0.5);
    return s;
  };
  n.layers.push_back(conv("conv1", "data", 8, 3, 1));
  n.layers.push_back(layer("bn1", "BatchNorm", {"conv1"}, {"conv1"}));
  n.layers.push_back(layer("scale1", "Scale", {"conv1"}, {"conv1"}));
  n.layers.push_back(layer("relu1", "ReLU", {"conv1"}, {"conv1"}));
  n.layers.push_back(conv("conv2a", "conv1", 4, 1, 0));
  n.layers.push_back(conv("conv2b", "conv1", 4, 3, 1));
  n.layers.push_back(layer("cat", "Concat", {"conv2a", "conv2b"}, {"cat"}));
  n.layers.push_back(layer("sum", "Eltwise", {"cat", "conv1"}, {"sum"}));
  engine::LayerSpec lrn = layer("norm", "LRN", {"sum"}, {"norm"});
  lrn.set("local_size", 3.0).set("alpha", 0.01).set("beta", 0.75).set("k", 2.0);
  n.layers.push_back(lrn);
  engine::LayerSpec p1 = layer("pool1", "Pooling", {"norm"}, {"pool1"});
  p1.set("pool", std::string("max"))
      .set("kernel_size", 3.0)
      .set("stride", 2.0);  // 12 -> 6 (ceil; floor: 5)
  n.layers.push_back(p1);
  engine::LayerSpec p2 = layer("pool2", "Pooling", {"pool1"}, {"pool2"});
  p2.set("pool", std::string("ave")).set("kernel_size", 2.0).set("stride", 2.0);  // 6 -> 3
  n.layers.push_back(p2);
  n.layers.push_back(layer("drop", "Dropout", {"pool2"}, {"pool2"}));
  engine::LayerSpec view = layer("view", "Reshape", {"pool2"}, {"view"});
  view.set("shape", std::vector<double>{0, -1, 3});  // [N, 8, 3, 3] -> [N, 24, 3]
  n.layers.push_back(view);
  engine::LayerSpec fc = layer("fc", "InnerProduct", {"view"}, {"fc"});
  fc.set("num_output", 5.0).set("weight_filler.type", std::string("gaussian"));
  fc.set("weight_filler.std", 0.2);
  n.layers.push_back(fc);
  n.layers.push_back(layer("prob", "Softmax", {"fc"}, {"prob"}));
  n.output = "prob";
  return n;
}

// Gives the BatchNorm statistics and Scale non-trivial values.
void set_bn(engine::Net& net) {
  auto& bn = *net.layer("bn1");
  for (int c = 0; c < 8; ++c) {
    bn.params()[0].blob->data()[c] = 0.1f * c - 0.2f;   // mean sum
    bn.params()[1].blob->data()[c] = 0.5f + 0.25f * c;  // variance sum
  }
  bn.params()[2].blob->data()[0] = 2.0f;  // count: mean = sum / 2
  auto& sc = *net.layer("scale1");
  for (int c = 0; c < 8; ++c) {
    sc.params()[0].blob->data()[c] = 1.0f + 0.1f * c;
    sc.params()[1].blob->data()[c] = 0.05f * c;
  }
}

void fill_input(engine::Net& net, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  engine::Blob& x = net.input();
  for (std::size_t i = 0; i < x.count(); ++i) x.data()[i] = d(rng);
}

std::vector<float> output_of(engine::Net& net) {
  net.forward();
  const engine::Blob& y = net.output();
  return std::vector<float>(y.data(), y.data() + y.count());
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

}  // namespace

TEST(OnnxEngine, export_import_round_trip_is_bit_exact) {
  engine::NetOptions opt;
  opt.batch = 2;
  opt.seed = 7;
  engine::Net net(test_net(), opt);
  set_bn(net);
  fill_input(net, 1);
  const std::vector<float> want = output_of(net);
  ASSERT_EQ(want.size(), 10u);
  // Class probabilities far from uniform: the weights matter, so equality below means something.
  EXPECT_GT(
      *std::max_element(want.begin(), want.end()) - *std::min_element(want.begin(), want.end()),
      0.05f);

  TempDir t;
  io::export_onnx(net, t / "net.onnx");
  Model m = io::read_onnx(t / "net.onnx");  // the checker passed twice (write and read)
  EXPECT_EQ(m.opset(), 13);
  std::vector<std::string> ops;
  for (const auto& n : m.graph.nodes) ops.push_back(n.op_type);
  EXPECT_EQ(ops, (std::vector<std::string>{"Conv", "BatchNormalization", "Relu", "Conv", "Conv",
                                           "Concat", "Add", "LRN", "MaxPool", "AveragePool",
                                           "Reshape", "Flatten", "Gemm", "Softmax"}));
  // Caffe's ceil size 12 -> 6 for the 3x3/2 max pool is ONNX's ceil_mode.
  EXPECT_EQ(m.graph.nodes[8].get_int("ceil_mode", 0), 1);
  EXPECT_EQ(m.graph.inputs[0].dim_params[0], "N");
  EXPECT_EQ(m.graph.inputs[0].shape, (std::vector<int64_t>{-1, 3, 12, 12}));

  // Import as an engine Net (batch from the options) and as a GraphRunner.
  io::ImportedNet imported = io::import_net(m);
  EXPECT_EQ(imported.spec.input_shape, (std::vector<int>{3, 12, 12}));
  auto net2 = io::build_net(imported, opt);
  std::copy(net.input().data(), net.input().data() + net.input().count(), net2->input().data());
  EXPECT_TRUE(same_bits(output_of(*net2), want));

  io::GraphRunner runner(m);
  Tensor x = Tensor::from_floats(
      "data", {2, 3, 12, 12},
      std::vector<float>(net.input().data(), net.input().data() + net.input().count()));
  auto out = runner.run({{m.graph.inputs[0].name, x}});
  ASSERT_EQ(out.size(), 1u);
  const Tensor& y = out.begin()->second;
  EXPECT_EQ(y.dims, (std::vector<int64_t>{2, 5}));
  EXPECT_TRUE(same_bits(y.data, want));
  float row = 0;
  for (int k = 0; k < 5; ++k) row += y.data[k];
  EXPECT_NEAR(row, 1.f, 1e-6f);  // softmax rows (float sum of 5 terms)
}

TEST(OnnxEngine, quantized_export_stores_grid_codes) {
  engine::NetOptions opt;
  opt.batch = 2;
  opt.seed = 3;
  engine::Net net(test_net(), opt);
  set_bn(net);
  config::Arch arch;
  arch.name = "w8";
  arch.datapath = config::Datapath::float32;
  arch.formats.activations.is_float = true;
  arch.formats.outputs.is_float = true;
  arch.formats.bias.is_float = true;
  arch.formats.weights.quantizer.format = numeric::Format::fixed_point(8, 6);
  engine::attach_arch(net, arch);
  fill_input(net, 2);
  const std::vector<float> want = output_of(net);  // weights (and bias) on the fixed<8,6> grid

  io::ExportOptions eo;
  eo.quantized = true;
  eo.arch = &arch;
  TempDir t;
  io::export_onnx(net, t / "q.onnx", eo);
  Model m = io::read_onnx(t / "q.onnx");
  EXPECT_EQ(m.metadata.at("ristsim.format.conv1.W"),
            "fixed<8,6> round=nearest_even overflow=saturate");
  const Tensor* codes = m.graph.find_initializer("conv1.W.codes");
  ASSERT_NE(codes, nullptr);
  EXPECT_EQ(codes->type, io::DataType::kInt8);
  const engine::Blob& w = *net.layer("conv1")->params()[0].blob;
  numeric::Quantizer q;
  q.format = numeric::Format::fixed_point(8, 6);
  for (std::size_t i = 0; i < w.count(); ++i) {
    const double v = numeric::quantize(q, double(w.data()[i]), i).value;
    ASSERT_EQ(double(codes->int_data[i]) / 64.0, v) << "weight " << i;
  }
  // Reimported (DequantizeLinear folded to the grid values), the float net computes what the
  // quantized one did: the float datapath with float activations is the same arithmetic.
  auto net2 = io::build_net(io::import_net(m), opt);
  std::copy(net.input().data(), net.input().data() + net.input().count(), net2->input().data());
  EXPECT_TRUE(same_bits(output_of(*net2), want));

  // The exported graph validates with integer-coded weights (no float copy of them).
  EXPECT_EQ(m.graph.find_initializer("conv1.W"), nullptr);
  int dq = 0;
  for (const auto& n : m.graph.nodes) dq += n.op_type == "DequantizeLinear";
  EXPECT_EQ(dq, 8);  // W and B of conv1, conv2a, conv2b, fc
}

namespace {
// test_net quantized on the float datapath with every group in `f` (bias: the weights').
config::Arch arch_all(const numeric::Format& f, numeric::Rounding r = numeric::Rounding::nearest_even) {
  config::Arch arch;
  arch.name = "all";
  arch.datapath = config::Datapath::float32;
  for (config::NumberSpec* s : {&arch.formats.activations, &arch.formats.weights,
                                &arch.formats.bias, &arch.formats.outputs}) {
    s->is_float = false;
    s->quantizer.format = f;
    s->quantizer.rounding = r;
  }
  return arch;
}

int count_ops(const Model& m, const std::string& op) {
  int n = 0;
  for (const auto& x : m.graph.nodes) n += x.op_type == op;
  return n;
}
}  // namespace

TEST(OnnxEngine, quantized_export_qdq_activations_int16_and_qonnx) {
  engine::NetOptions opt;
  opt.batch = 2;
  opt.seed = 3;
  engine::Net net(test_net(), opt);
  set_bn(net);
  fill_input(net, 2);
  // 12-bit fixed point: int16 QuantizeLinear (opset 21, IR 10) + Clip to the 12-bit range on
  // every weighted layer's input and output (4 layers).
  config::Arch a12 = arch_all(numeric::Format::fixed_point(12, 8));
  engine::attach_arch(net, a12);
  const std::vector<float> want = output_of(net);
  io::ExportOptions eo;
  eo.quantized = true;
  eo.arch = &a12;
  TempDir t;
  io::export_onnx(net, t / "q12.onnx", eo);
  Model m = io::read_onnx(t / "q12.onnx");
  EXPECT_EQ(m.opset_imports[0].version, 21);
  EXPECT_EQ(m.ir_version, 10);
  EXPECT_EQ(count_ops(m, "QuantizeLinear"), 8);
  EXPECT_EQ(count_ops(m, "Clip"), 8);
  EXPECT_EQ(m.graph.find_initializer("conv1.input.zero_point")->type, io::DataType::kInt16);
  EXPECT_EQ(m.graph.find_initializer("conv1.input.scale")->data[0], 1.f / 256);
  // ristsim reads its own export back (the activation quantization as identities, the
  // weights' codes folded): with the same arch it computes the same bits.
  auto back = io::build_net(io::import_net(m), opt);
  engine::attach_arch(*back, a12);
  std::copy(net.input().data(), net.input().data() + net.input().count(), back->input().data());
  EXPECT_TRUE(same_bits(output_of(*back), want));

  // QONNX: Quant nodes (weights and bias after their grid values, inputs and outputs) in
  // QONNX's domain, with the rounding mode; the import reads them back as well.
  config::Arch az = arch_all(numeric::Format::fixed_point(6, 4), numeric::Rounding::toward_zero);
  engine::attach_arch(net, az);
  const std::vector<float> want_z = output_of(net);
  eo.arch = &az;
  eo.form = io::QuantExport::qonnx;
  io::export_onnx(net, t / "qonnx.onnx", eo);
  Model q = io::read_onnx(t / "qonnx.onnx");
  EXPECT_EQ(count_ops(q, "Quant"), 16);  // W, B, input, output of 4 layers
  EXPECT_EQ(count_ops(q, "QuantizeLinear"), 0);
  ASSERT_EQ(q.opset_imports.size(), 2u);
  EXPECT_EQ(q.opset_imports[1].domain, "qonnx.custom_op.general");
  for (const auto& n : q.graph.nodes)
    if (n.op_type == "Quant") {
      EXPECT_EQ(n.domain, "qonnx.custom_op.general");
      EXPECT_EQ(n.get_string("rounding_mode", ""), "DOWN") << n.name;
    }
  auto back_q = io::build_net(io::import_net(q), opt);
  engine::attach_arch(*back_q, az);
  std::copy(net.input().data(), net.input().data() + net.input().count(), back_q->input().data());
  EXPECT_TRUE(same_bits(output_of(*back_q), want_z));
}

// Per-channel weights (granularity: channel): the codes' scale is one 2^-FL per output channel,
// DequantizeLinear's per-axis form (axis 0) in QDQ, a {K, 1, ...} broadcast scale on QONNX's
// Quant; the channel FLs are in the metadata; reimported, the float net computes what the
// quantized one did (weights and, on the float datapath, bias on their channel's grid).
TEST(OnnxEngine, quantized_export_per_channel_weights_per_axis) {
  engine::NetOptions opt;
  opt.batch = 2;
  opt.seed = 3;
  engine::Net net(test_net(), opt);
  set_bn(net);
  engine::Blob& w1 = *net.layer("conv1")->params()[0].blob;
  for (std::size_t i = 0; i < w1.count() / 8; ++i) w1.data()[i] *= 0.05f;  // channel 0 small
  config::Arch arch;
  arch.name = "w4c";
  arch.datapath = config::Datapath::float32;
  arch.formats.activations.is_float = true;
  arch.formats.outputs.is_float = true;
  arch.formats.bias.is_float = true;
  arch.formats.weights.quantizer.format = numeric::Format::fixed_point(4, 0);
  arch.formats.weights.dynamic = true;
  arch.formats.weights.granularity = config::Granularity::channel;
  engine::attach_arch(net, arch);
  const std::vector<int> fl = net.weighted_layers()[0]->quant()->formats().weights.channel_fl;
  ASSERT_EQ(fl.size(), 8u);
  EXPECT_GE(fl[0], fl[1] + 3);
  fill_input(net, 2);
  const std::vector<float> want = output_of(net);

  io::ExportOptions eo;
  eo.quantized = true;
  eo.arch = &arch;
  TempDir t;
  io::export_onnx(net, t / "c.onnx", eo);
  Model m = io::read_onnx(t / "c.onnx");
  const Tensor* scale = m.graph.find_initializer("conv1.W.scale");
  ASSERT_NE(scale, nullptr);
  ASSERT_EQ(scale->dims, (std::vector<int64_t>{8}));
  for (int c = 0; c < 8; ++c) EXPECT_EQ(scale->data[c], std::ldexp(1.f, -fl[c])) << c;
  EXPECT_EQ(m.graph.find_initializer("conv1.W.zero_point")->dims, (std::vector<int64_t>{8}));
  EXPECT_EQ(m.graph.find_initializer("conv1.B.scale")->dims, (std::vector<int64_t>{8}));
  std::string fls;
  for (int x : fl) fls += (fls.empty() ? "" : ",") + std::to_string(x);
  EXPECT_EQ(m.metadata.at("ristsim.channel_fl.conv1.W"), fls);
  for (const auto& n : m.graph.nodes)
    if (n.op_type == "DequantizeLinear") EXPECT_EQ(n.get_int("axis", 1), 0) << n.name;
  auto back = io::build_net(io::import_net(m), opt);
  std::copy(net.input().data(), net.input().data() + net.input().count(), back->input().data());
  EXPECT_TRUE(same_bits(output_of(*back), want));

  eo.form = io::QuantExport::qonnx;
  io::export_onnx(net, t / "cq.onnx", eo);
  Model q = io::read_onnx(t / "cq.onnx");
  const Tensor* qs = q.graph.find_initializer("conv1.W.scale");
  ASSERT_NE(qs, nullptr);
  EXPECT_EQ(qs->dims, (std::vector<int64_t>{8, 1, 1, 1}));
  EXPECT_EQ(q.graph.find_initializer("fc.W.scale")->dims, (std::vector<int64_t>{5, 1}));
  auto back_q = io::build_net(io::import_net(q), opt);
  std::copy(net.input().data(), net.input().data() + net.input().count(), back_q->input().data());
  EXPECT_TRUE(same_bits(output_of(*back_q), want));
}

TEST(OnnxEngine, quantized_export_refuses_what_it_cannot_express) {
  engine::NetOptions opt;
  opt.batch = 2;
  engine::Net net(test_net(), opt);
  set_bn(net);
  struct Case {
    config::Arch arch;
    io::QuantExport form;
    const char* reason;  // in the message, after the layer and tensor
  };
  numeric::Format mf = numeric::Format::minifloat(3, 4);  // no subnormals
  const Case cases[] = {
      {arch_all(numeric::Format::pow2(6, 0, true)), io::QuantExport::qdq, "power-of-two"},
      {arch_all(numeric::Format::pow2(6, 0, true)), io::QuantExport::qonnx, "power-of-two"},
      {arch_all(mf), io::QuantExport::qdq, "FP8 E4M3 (fn) and E5M2 (ieee)"},
      {arch_all(mf), io::QuantExport::qonnx, "has no subnormals"},
      {arch_all(numeric::Format::fixed_point(8, 4), numeric::Rounding::toward_zero),
       io::QuantExport::qdq, "rounds to nearest even"},
      {arch_all(numeric::Format::fixed_point(20, 4)), io::QuantExport::qdq, "wider than int16"},
      {arch_all(numeric::Format::fixed_point(28, 4)), io::QuantExport::qonnx, "24 bits"},
      {arch_all(numeric::Format::e4m3(), numeric::Rounding::up), io::QuantExport::qdq,
       "saturate=1"},
  };
  for (const Case& c : cases) {
    engine::attach_arch(net, c.arch);
    net.forward();
    io::ExportOptions eo;
    eo.quantized = true;
    eo.arch = &c.arch;
    eo.form = c.form;
    try {
      io::export_model(net, eo);
      ADD_FAILURE() << c.reason << ": no error";
    } catch (const io::ModelError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("layer 'conv1'"), std::string::npos) << what;
      EXPECT_NE(what.find(c.reason), std::string::npos) << what;
    }
    // The same verdict before any work, from the arch alone.
    EXPECT_NE(io::not_exportable(c.arch, c.form).find(c.reason), std::string::npos) << c.reason;
  }
  // The float form writes any format (values on the grid, formats as metadata).
  config::Arch p = arch_all(numeric::Format::pow2(6, 0, true));
  engine::attach_arch(net, p);
  io::ExportOptions eo;
  eo.quantized = true;
  eo.arch = &p;
  eo.form = io::QuantExport::float_grid;
  EXPECT_NO_THROW(io::export_model(net, eo));
  EXPECT_EQ(io::not_exportable(p, io::QuantExport::float_grid), "");
}

TEST(OnnxEngine, quantized_export_needs_the_arch) {
  engine::NetOptions opt;
  engine::Net net(test_net(), opt);
  io::ExportOptions eo;
  eo.quantized = true;
  try {
    io::export_model(net, eo);
    FAIL() << "no error";
  } catch (const io::ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("needs ExportOptions::arch"), std::string::npos);
  }
}

TEST(OnnxEngine, import_errors_name_node_and_reason) {
  Model m;
  m.source = "m.onnx";
  io::Node pool;
  pool.op_type = "MaxPool";
  pool.name = "p";
  pool.inputs = {"x"};
  pool.outputs = {"y"};
  pool.attributes = {io::Attribute::make_ints("kernel_shape", {2, 2}),
                     io::Attribute::make_ints("pads", {0, 0, 1, 1})};
  m.graph.nodes = {pool};
  m.graph.inputs.push_back({"x", io::DataType::kFloat, true, {1, 1, 4, 4}, {"", "", "", ""}, ""});
  m.graph.outputs.push_back({"y", io::DataType::kFloat, true, {}, {}, ""});
  io::GraphRunner r(m);
  Tensor x = Tensor::from_floats("x", {1, 1, 4, 4}, std::vector<float>(16, 1.f));
  try {
    r.run({{"x", x}});
    FAIL() << "no error";
  } catch (const io::UnsupportedError& e) {
    EXPECT_EQ(std::string(e.what()),
              "MaxPool 'p': asymmetric pads [0, 0, 1, 1] (begin != end): the engine pads both "
              "sides equally");
  }
  m.graph.nodes[0].op_type = "Resize";
  try {
    io::GraphRunner bad(m);
    FAIL() << "no error";
  } catch (const io::ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("m.onnx: 1 unsupported op: Resize (node 'p')"),
              std::string::npos)
        << e.what();
  }
}

TEST(OnnxEngine, fold_dequantize_per_axis) {
  Model m;
  Tensor codes;
  codes.name = "w.codes";
  codes.type = io::DataType::kInt8;
  codes.dims = {2, 2};
  codes.int_data = {-128, 127, 3, -3};
  codes.data = {-128, 127, 3, -3};
  m.graph.initializers = {codes, Tensor::from_floats("s", {2}, {0.5f, 0.25f})};
  Tensor zp;
  zp.name = "z";
  zp.type = io::DataType::kInt8;
  zp.dims = {2};
  zp.int_data = {0, 1};
  zp.data = {0, 1};
  m.graph.initializers.push_back(zp);
  io::Node dq;
  dq.op_type = "DequantizeLinear";
  dq.inputs = {"w.codes", "s", "z"};
  dq.outputs = {"w"};
  dq.attributes = {io::Attribute::make_int("axis", 0)};
  m.graph.nodes = {dq};
  EXPECT_EQ(io::fold_constants(m), 1);
  EXPECT_TRUE(m.graph.nodes.empty());
  const Tensor* w = m.graph.find_initializer("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->data, (std::vector<float>{-64.f, 63.5f, 0.5f, -1.f}));  // row 1: (q - 1) / 4
}

// Every shipped model description (models/*.yaml): random weights, export, import, the same
// output bits. Small nets also with Fashion-MNIST's 1x28x28; ImageNet nets at batch 1.
static int round_trip_models(bool imagenet) {
  const fs::path dir = fs::path(RISTSIM_SOURCE_DIR) / "models";
  int checked = 0;
  TempDir t;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".yaml") continue;
    const engine::NetSpec spec = engine::load_net_spec(e.path().string());
    const bool small = spec.input_shape.size() == 3 && spec.input_shape[1] <= 32;
    if (small == imagenet) continue;
    std::vector<std::vector<int>> shapes = {spec.input_shape};
    if (small) shapes.push_back({1, 28, 28});
    for (const std::vector<int>& shape : shapes) {
      SCOPED_TRACE(e.path().filename().string() + " " + engine::shape_string(shape));
      engine::NetOptions opt;
      opt.batch = small ? 2 : 1;
      opt.input_shape = shape;
      opt.seed = 11;
      engine::Net net(spec, opt);
      fill_input(net, 5);
      const std::vector<float> want = output_of(net);
      io::export_onnx(net, t / "m.onnx");
      Model m = io::read_onnx(t / "m.onnx");
      auto net2 = io::build_net(io::import_net(m), opt);
      std::copy(net.input().data(), net.input().data() + net.input().count(), net2->input().data());
      EXPECT_TRUE(same_bits(output_of(*net2), want));
      // Layer names round-trip: a node keeps its layer's name although its output value has the
      // same one (node and value names are separate namespaces in ONNX).
      std::vector<std::string> names, names2;
      for (engine::WeightedLayer* l : net.weighted_layers()) names.push_back(l->name());
      for (engine::WeightedLayer* l : net2->weighted_layers()) names2.push_back(l->name());
      EXPECT_FALSE(names.empty());
      EXPECT_EQ(names2, names);
      ++checked;
    }
  }
  return checked;
}

TEST(OnnxEngine, small_models_round_trip) {
  EXPECT_GE(round_trip_models(false), 4);  // lenet, cifar10_full: own shape and 1x28x28
}

TEST(OnnxEngine, imagenet_models_round_trip) {
  const int n = round_trip_models(true);
  if (n == 0) GTEST_SKIP() << "no ImageNet model descriptions in models/";
  std::printf("%d ImageNet model descriptions exported and imported bit-exactly\n", n);
}

TEST(OnnxEngine, fold_constant_nodes) {
  Model m;
  io::Node c1, c2, c3;
  c1.op_type = c2.op_type = c3.op_type = "Constant";
  c1.outputs = {"a"};
  c1.attributes = {io::Attribute::make_tensor("value", Tensor::from_floats("", {2}, {1.5f, -2.f}))};
  c2.outputs = {"b"};
  c2.attributes = {io::Attribute::make_ints("value_ints", {3, -1})};
  c3.outputs = {"c"};
  c3.attributes = {io::Attribute::make_float("value_float", 0.25f)};
  io::Node relu;
  relu.op_type = "Relu";
  relu.inputs = {"x"};
  relu.outputs = {"y"};
  m.graph.nodes = {c1, relu, c2, c3};
  EXPECT_EQ(io::fold_constants(m), 3);
  ASSERT_EQ(m.graph.nodes.size(), 1u);
  EXPECT_EQ(m.graph.nodes[0].op_type, "Relu");
  EXPECT_EQ(m.graph.find_initializer("a")->data, (std::vector<float>{1.5f, -2.f}));
  EXPECT_EQ(m.graph.find_initializer("b")->int_data, (std::vector<int64_t>{3, -1}));
  EXPECT_EQ(m.graph.find_initializer("b")->type, io::DataType::kInt64);
  EXPECT_TRUE(m.graph.find_initializer("c")->dims.empty());
  EXPECT_EQ(m.graph.find_initializer("c")->data, (std::vector<float>{0.25f}));
}

// Formats ONNX has no integer form for (here e4m3 weights) are stored as float values on the
// grid; the exact datapath's bias uses the bias format (16-bit fixed: int32 codes).
TEST(OnnxEngine, quantized_export_minifloat_weights_and_exact_bias) {
  engine::NetOptions opt;
  opt.batch = 2;
  opt.seed = 5;
  engine::Net net(test_net(), opt);
  set_bn(net);
  config::Arch arch;
  arch.name = "e4m3w";
  arch.datapath = config::Datapath::float32;
  arch.formats.activations.is_float = true;
  arch.formats.outputs.is_float = true;
  arch.formats.bias.is_float = true;
  arch.formats.weights.quantizer.format = numeric::Format::e4m3();
  engine::attach_arch(net, arch);
  fill_input(net, 3);
  const std::vector<float> want = output_of(net);
  io::ExportOptions eo;
  eo.quantized = true;
  eo.arch = &arch;
  TempDir t;
  io::export_onnx(net, t / "e.onnx", eo);
  Model m = io::read_onnx(t / "e.onnx");
  // E4M3 weights as float8e4m3fn codes + DequantizeLinear (scale 1: the default bias), opset 19.
  const Tensor* w = m.graph.find_initializer("conv1.W.codes");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->type, io::DataType::kFloat8E4M3FN);
  EXPECT_EQ(m.graph.find_initializer("conv1.W.scale")->data[0], 1.f);
  EXPECT_EQ(m.opset_imports[0].version, 19);
  EXPECT_EQ(m.ir_version, 9);
  EXPECT_NE(w->doc_string.find("e4m3"), std::string::npos) << w->doc_string;
  const engine::Blob& w0 = *net.layer("conv1")->params()[0].blob;
  numeric::Quantizer q;
  q.format = numeric::Format::e4m3();
  for (std::size_t i = 0; i < w0.count(); ++i)
    ASSERT_EQ(double(w->data[i]), numeric::quantize(q, double(w0.data()[i]), i).value) << i;
  const io::Node* conv = nullptr;
  for (const auto& n : m.graph.nodes)
    if (n.op_type == "Conv" && !conv) conv = &n;
  ASSERT_NE(conv, nullptr);
  EXPECT_NE(conv->doc_string.find("ristsim float datapath; input float32; weights e4m3"),
            std::string::npos)
      << conv->doc_string;
  auto net2 = io::build_net(io::import_net(m), opt);
  std::copy(net.input().data(), net.input().data() + net.input().count(), net2->input().data());
  EXPECT_TRUE(same_bits(output_of(*net2), want));

  // The exact datapath: the bias takes the bias group's format (16-bit fixed: int32 codes).
  arch.datapath = config::Datapath::exact;
  arch.formats.weights.quantizer.format = numeric::Format::fixed_point(8, 6);
  arch.formats.bias.is_float = false;
  arch.formats.bias.quantizer.format = numeric::Format::fixed_point(16, 10);
  arch.formats.activations.is_float = false;
  arch.formats.activations.quantizer.format = numeric::Format::fixed_point(8, 4);
  arch.formats.outputs = arch.formats.activations;
  engine::attach_arch(net, arch);
  Model x = io::export_model(net, eo);
  EXPECT_EQ(x.metadata.at("ristsim.format.conv1.B"),
            "fixed<16,10> round=nearest_even overflow=saturate");
  EXPECT_EQ(x.graph.find_initializer("conv1.B.codes")->type, io::DataType::kInt32);
  EXPECT_EQ(x.metadata.at("ristsim.format.conv1.input"),
            "fixed<8,4> round=nearest_even overflow=saturate");
}

// Caffe's pooling sizes: ceil_mode where ONNX's ceil agrees (max pooling with padding here),
// and a clear error where ONNX cannot express Caffe's average (a padded window that runs past
// the padded input).
TEST(OnnxEngine, pooling_sizes_and_unexportable_average) {
  auto net_with = [](const std::string& pool, int k, int s, int pad) {
    engine::NetSpec n;
    n.input = "data";
    n.input_shape = {2, 12, 12};
    engine::LayerSpec p = layer("pool", "Pooling", {"data"}, {"pool"});
    p.set("pool", pool).set("kernel_size", double(k)).set("stride", double(s));
    p.set("pad", double(pad));
    n.layers.push_back(p);
    engine::NetOptions opt;
    opt.batch = 1;
    return std::make_unique<engine::Net>(n, opt);
  };
  auto max = net_with("max", 3, 2, 1);  // 12 -> ceil(11/2)+1 = 7, floor 6
  EXPECT_EQ(max->output().shape(2), 7);
  Model m = io::export_model(*max);
  EXPECT_EQ(m.graph.nodes[0].get_int("ceil_mode", 0), 1);
  EXPECT_EQ(m.graph.nodes[0].get_ints("pads", {}), (std::vector<int64_t>{1, 1, 1, 1}));
  fill_input(*max, 9);
  const std::vector<float> want = output_of(*max);
  io::GraphRunner r(m);
  Tensor x = Tensor::from_floats(
      "data", {1, 2, 12, 12},
      std::vector<float>(max->input().data(), max->input().data() + max->input().count()));
  EXPECT_TRUE(same_bits(r.run({{"data", x}}).begin()->second.data, want));

  auto ave = net_with("ave", 3, 2, 1);
  try {
    io::export_model(*ave);
    FAIL() << "no error";
  } catch (const io::ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("layer 'pool' (Pooling): average pooling with padding"),
              std::string::npos)
        << e.what();
  }
  auto ave0 = net_with("ave", 3, 2, 0);  // no padding: ONNX ceil_mode, valid cells only
  Model m0 = io::export_model(*ave0);
  EXPECT_EQ(m0.graph.nodes[0].get_int("ceil_mode", 0), 1);
  EXPECT_EQ(m0.graph.nodes[0].get_int("count_include_pad", -1), 0);
}
