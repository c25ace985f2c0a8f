// ONNX reader / writer: node-test models read into the graph IR with the values ONNX
// documents, a round trip (read, write, read back: identical IR) over every node test the
// IR can hold, every element type and storage (raw_data, typed fields), and the errors.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>  // only to build odd TensorProtos the writer never produces

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "io/graph.h"
#include "io/onnx.h"

namespace fs = std::filesystem;
using namespace ristsim::io;

namespace {

const fs::path kNode = "/usr/share/libonnx-testdata/data/node";

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("ristsim_onnx_" + std::to_string(rd()) + "_" + std::to_string(rd()));
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

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ModelError& e) {
    return e.what();
  }
  return "<no ModelError>";
}

bool have_node_tests() {
  return fs::exists(kNode / "test_relu/model.onnx");
}

// A valid one-node model: y = Relu(x), x float [1, 3].
Model relu_model() {
  Model m;
  m.graph.name = "g";
  Node n;
  n.op_type = "Relu";
  n.name = "relu1";
  n.inputs = {"x"};
  n.outputs = {"y"};
  m.graph.nodes.push_back(n);
  m.graph.inputs.push_back({"x", DataType::kFloat, true, {1, 3}, {"", ""}, ""});
  m.graph.outputs.push_back({"y", DataType::kFloat, true, {1, 3}, {"", ""}, ""});
  return m;
}

}  // namespace

TEST(OnnxRead, conv_node_test_model_and_data) {
  if (!have_node_tests()) GTEST_SKIP() << kNode << " not installed";
  const fs::path dir = kNode / "test_conv_with_strides_padding";
  Model m = read_onnx((dir / "model.onnx").string());
  ASSERT_EQ(m.graph.nodes.size(), 1u);
  const Node& n = m.graph.nodes[0];
  EXPECT_EQ(n.op_type, "Conv");
  EXPECT_EQ(n.inputs, (std::vector<std::string>{"x", "W"}));
  EXPECT_EQ(n.outputs, (std::vector<std::string>{"y"}));
  EXPECT_EQ(n.get_ints("kernel_shape", {}), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(n.get_ints("pads", {}), (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(n.get_ints("strides", {}), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(n.get_int("group", 1), 1);  // absent: the default
  EXPECT_NE(error_of([&] { n.get_int("pads", 0); }).find("attribute 'pads' is ints, expected int"),
            std::string::npos);
  ASSERT_EQ(m.graph.inputs.size(), 2u);
  EXPECT_EQ(m.graph.inputs[0].shape, (std::vector<int64_t>{1, 1, 7, 5}));
  EXPECT_EQ(m.graph.outputs[0].shape, (std::vector<int64_t>{1, 1, 4, 3}));
  EXPECT_GE(m.opset(), 7);
  EXPECT_EQ(m.source, (dir / "model.onnx").string());

  Tensor x = read_tensor_pb((dir / "test_data_set_0/input_0.pb").string());
  Tensor w = read_tensor_pb((dir / "test_data_set_0/input_1.pb").string());
  Tensor y = read_tensor_pb((dir / "test_data_set_0/output_0.pb").string());
  EXPECT_EQ(x.dims, (std::vector<int64_t>{1, 1, 7, 5}));
  ASSERT_EQ(x.data.size(), 35u);
  for (int i = 0; i < 35; ++i) EXPECT_EQ(x.data[i], float(i));  // np.arange(35)
  EXPECT_EQ(w.data, std::vector<float>(9, 1.f));
  // ONNX's documented result for this case (onnx/backend/test/case/node/conv.py).
  EXPECT_EQ(y.data, (std::vector<float>{12, 27, 24, 63, 108, 81, 123, 198, 141, 112, 177, 124}));
  EXPECT_TRUE(x.int_data.empty());
}

TEST(OnnxRead, int64_initializer_shapes_exact) {
  if (!have_node_tests()) GTEST_SKIP();
  const fs::path dir = kNode / "test_reshape_negative_dim";
  Model m = read_onnx((dir / "model.onnx").string());
  Tensor shape = read_tensor_pb((dir / "test_data_set_0/input_1.pb").string());
  EXPECT_EQ(shape.type, DataType::kInt64);
  EXPECT_EQ(shape.int_data, (std::vector<int64_t>{2, -1, 2}));
  EXPECT_EQ(shape.data, (std::vector<float>{2, -1, 2}));
  EXPECT_EQ(m.graph.nodes.at(0).op_type, "Reshape");
}

TEST(OnnxRoundTrip, every_node_test_model) {
  if (!have_node_tests()) GTEST_SKIP();
  TempDir t;
  int ok = 0, unreadable = 0;
  std::vector<std::string> reasons;
  for (const auto& e : fs::directory_iterator(kNode)) {
    const fs::path model = e.path() / "model.onnx";
    if (!fs::exists(model)) continue;
    Model a;
    try {
      a = read_onnx(model.string());
    } catch (const ModelError& err) {
      ++unreadable;  // graph attributes, sequences, string tensors, ...: IR limits
      reasons.push_back(err.what());
      continue;
    }
    const std::string out = t / "rt.onnx";
    write_onnx(a, out);
    Model b = read_onnx(out);
    b.source = a.source;
    ASSERT_EQ(a, b) << model;
    // The test tensors too.
    for (const auto& f : fs::directory_iterator(e.path() / "test_data_set_0")) {
      Tensor x;
      try {
        x = read_tensor_pb(f.path().string());
      } catch (const ModelError&) {
        continue;  // string / sequence data
      }
      write_tensor_pb(x, t / "rt.pb");
      ASSERT_EQ(read_tensor_pb(t / "rt.pb"), x) << f.path();
    }
    ++ok;
  }
  std::printf("round trip: %d node-test models identical, %d not representable in the IR\n", ok,
              unreadable);
  // Of the 932 node tests in libonnx-testdata 1.12 nearly all hold plain tensors.
  EXPECT_GT(ok, 700);
  for (const auto& r : reasons)
    EXPECT_TRUE(r.find("not supported") != std::string::npos ||
                r.find("does not hold") != std::string::npos)
        << r;
}

TEST(OnnxRoundTrip, all_element_types_raw) {
  TempDir t;
  struct Case {
    DataType type;
    std::vector<float> v;
  };
  const std::vector<Case> cases = {
      {DataType::kFloat, {1.5f, -0.f, 3.4e38f, 1e-45f}},
      {DataType::kDouble, {1.5f, -2.25f, 0.f, 1e-30f}},
      {DataType::kFloat16, {1.f, -65504.f, 5.9604645e-08f, 0.333251953125f}},  // max, min subnormal
      {DataType::kBFloat16, {1.f, -0x1.fep+127f, 0.0078125f, 3.140625f}},  // -(2 - 2^-7) * 2^127
      {DataType::kInt8, {-128, 127, 0, -1}},
      {DataType::kUint8, {0, 255, 1, 128}},
      {DataType::kInt16, {-32768, 32767, 0, 5}},
      {DataType::kUint16, {0, 65535, 1, 2}},
      {DataType::kInt32, {-2147483648.f, 7, 0, -7}},
      {DataType::kInt64, {-5, 1 << 24, 0, 3}},
      {DataType::kBool, {1, 0, 1, 1}},
  };
  for (const Case& c : cases) {
    Tensor x;
    x.name = "x";
    x.dims = {2, 2};
    x.type = c.type;
    x.data = c.v;
    if (is_integer_type(c.type))
      for (float f : c.v) x.int_data.push_back(static_cast<int64_t>(f));
    const std::string p = t / "x.pb";
    write_tensor_pb(x, p);
    Tensor y = read_tensor_pb(p);
    EXPECT_EQ(y.type, c.type);
    EXPECT_EQ(y.data, x.data) << data_type_name(c.type);
    EXPECT_EQ(y.int_data, x.int_data) << data_type_name(c.type);
  }
  // Values off the float16 / bfloat16 grid round to nearest, ties to even.
  Tensor h = Tensor::from_floats("h", {4}, {1.f + 0x1p-11f, 1.f + 3 * 0x1p-11f, 70000.f, 0x1p-25f});
  h.type = DataType::kFloat16;
  write_tensor_pb(h, t / "h.pb");
  EXPECT_EQ(read_tensor_pb(t / "h.pb").data,
            (std::vector<float>{1.f, 1.f + 0x1p-9f, INFINITY, 0.f}));  // 2^-25 ties to 0
  h.type = DataType::kBFloat16;
  h.data = {1.f + 0x1p-8f, 1.f + 3 * 0x1p-8f, -0.f, 1.f + 0x1p-7f};
  write_tensor_pb(h, t / "h.pb");
  EXPECT_EQ(read_tensor_pb(t / "h.pb").data,
            (std::vector<float>{1.f, 1.f + 0x1p-6f, -0.f, 1.f + 0x1p-7f}));
  // Large int64 values survive exactly in int_data (data holds the nearest float).
  Tensor big = Tensor::from_int64s("big", {2}, {(int64_t(1) << 53) + 1, -(int64_t(1) << 40) - 3});
  write_tensor_pb(big, t / "big.pb");
  EXPECT_EQ(read_tensor_pb(t / "big.pb").int_data, big.int_data);
}

TEST(OnnxRead, typed_fields) {
  TempDir t;
  auto write = [&](const onnx::TensorProto& p) {
    std::string b;
    p.SerializeToString(&b);
    std::ofstream(t / "t.pb", std::ios::binary) << b;
    return read_tensor_pb(t / "t.pb");
  };
  onnx::TensorProto p;
  p.set_name("w");
  p.add_dims(3);
  p.set_data_type(onnx::TensorProto_DataType_INT32);
  for (int v : {-3, 0, 7}) p.add_int32_data(v);
  EXPECT_EQ(write(p).data, (std::vector<float>{-3, 0, 7}));
  p.clear_int32_data();
  p.set_data_type(onnx::TensorProto_DataType_UINT8);
  for (int v : {0, 200, 255}) p.add_int32_data(v);
  EXPECT_EQ(write(p).int_data, (std::vector<int64_t>{0, 200, 255}));
  p.clear_int32_data();
  p.set_data_type(onnx::TensorProto_DataType_INT8);
  for (int v : {-128, 1, 127}) p.add_int32_data(v);
  EXPECT_EQ(write(p).data, (std::vector<float>{-128, 1, 127}));
  p.clear_int32_data();
  p.set_data_type(onnx::TensorProto_DataType_FLOAT16);
  for (int v : {0x3c00, 0xc000, 0x0001}) p.add_int32_data(v);  // 1, -2, 2^-24
  EXPECT_EQ(write(p).data, (std::vector<float>{1.f, -2.f, std::ldexp(1.f, -24)}));
  p.clear_int32_data();
  p.set_data_type(onnx::TensorProto_DataType_DOUBLE);
  for (double v : {0.1, -1e300, 2.5}) p.add_double_data(v);
  Tensor d = write(p);
  EXPECT_EQ(d.data[0], 0.1f);
  EXPECT_TRUE(std::isinf(d.data[1]) && d.data[1] < 0);  // out of float range
  p.clear_double_data();
  p.set_data_type(onnx::TensorProto_DataType_INT64);
  for (int64_t v : {int64_t(-1), int64_t(1) << 40, int64_t(9)}) p.add_int64_data(v);
  EXPECT_EQ(write(p).int_data, (std::vector<int64_t>{-1, int64_t(1) << 40, 9}));
  p.clear_int64_data();
  p.set_data_type(onnx::TensorProto_DataType_FLOAT);
  for (float v : {1.f, 2.f}) p.add_float_data(v);
  EXPECT_NE(
      error_of([&] { write(p); }).find("t.pb: tensor 'w': 2 values for dims [3] (3 expected)"),
      std::string::npos);
  p.clear_float_data();
  p.set_raw_data(std::string(8, '\0'));
  EXPECT_NE(error_of([&] {
              write(p);
            }).find("tensor 'w': 8 bytes of raw data for 3 float values of dims [3] (12 expected)"),
            std::string::npos);
  // Huge declared shapes are refused before anything is allocated.
  p.clear_dims();
  p.add_dims(int64_t(1) << 30);
  p.add_dims(int64_t(1) << 30);
  EXPECT_NE(error_of([&] { write(p); }).find("hold more than 268435456 values"),
            std::string::npos);  // checked::kMaxFileElements
  p.clear_dims();
  p.add_dims(int64_t(1) << 20);
  p.add_dims(int64_t(1) << 7);  // 2^27 floats (512 MiB) declared, 8 bytes present
  EXPECT_NE(error_of([&] { write(p); }).find("8 bytes of raw data for 134217728 float values"),
            std::string::npos);
  p.clear_dims();
  p.add_dims(int64_t(1) << 31);  // one dimension past an int
  p.add_dims(0);
  EXPECT_NE(error_of([&] { write(p); }).find("dimension 2147483648 in [2147483648,0] is larger"),
            std::string::npos);
  p.clear_dims();
  p.add_dims(3);
  p.clear_raw_data();
  p.set_data_type(onnx::TensorProto_DataType_STRING);
  p.add_string_data("a");
  EXPECT_NE(error_of([&] { write(p); }).find("element type string (8) is not supported"),
            std::string::npos);
}

TEST(OnnxRead, external_data) {
  TempDir t;
  const float vals[3] = {1.f, -2.f, 0.5f};
  {
    std::ofstream f(t / "weights.bin", std::ios::binary);
    f.write("PAD!", 4);
    f.write(reinterpret_cast<const char*>(vals), sizeof vals);
  }
  onnx::TensorProto p;
  p.set_name("w");
  p.add_dims(3);
  p.set_data_type(onnx::TensorProto_DataType_FLOAT);
  p.set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
  auto kv = [&](const char* k, const char* v) {
    auto* e = p.add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  kv("location", "weights.bin");
  kv("offset", "4");
  kv("length", "12");
  std::string b;
  p.SerializeToString(&b);
  std::ofstream(t / "w.pb", std::ios::binary) << b;
  EXPECT_EQ(read_tensor_pb(t / "w.pb").data, (std::vector<float>{1.f, -2.f, 0.5f}));
  p.mutable_external_data(1)->set_value("8");  // 8 + 12 > 16 bytes
  p.SerializeToString(&b);
  std::ofstream(t / "w.pb", std::ios::binary | std::ios::trunc) << b;
  EXPECT_NE(error_of([&] {
              read_tensor_pb(t / "w.pb");
            }).find("weights.bin: truncated: tensor 'w' needs 12 bytes from byte 8, file has 16"),
            std::string::npos);
  // Hostile locations and numbers: no path out of the model's folder, no "stoll" message.
  p.mutable_external_data(0)->set_value("../weights.bin");
  p.SerializeToString(&b);
  std::ofstream(t / "w.pb", std::ios::binary | std::ios::trunc) << b;
  EXPECT_NE(error_of([&] { read_tensor_pb(t / "w.pb"); })
                .find("external data location '../weights.bin' is not a relative path inside"),
            std::string::npos);
  p.mutable_external_data(0)->set_value("weights.bin");
  p.mutable_external_data(1)->set_value("4x");
  p.SerializeToString(&b);
  std::ofstream(t / "w.pb", std::ios::binary | std::ios::trunc) << b;
  EXPECT_NE(error_of([&] { read_tensor_pb(t / "w.pb"); })
                .find("w.pb: tensor 'w': external data offset '4x' is not a non-negative integer"),
            std::string::npos);
}

// A model whose initializer is external data next to it reads (and passes the checker) from
// any working directory: the checker used to look for the file relative to the working
// directory and reject the model.
TEST(OnnxRead, external_initializer_of_a_model_in_another_folder) {
  TempDir t;
  const float vals[2] = {3.f, -1.f};
  std::ofstream(t / "w.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(vals), sizeof vals);
  Model m = relu_model();
  m.graph.initializers.push_back(Tensor::from_floats("w", {2}, {0.f, 0.f}));
  onnx::ModelProto mp;
  ASSERT_TRUE(mp.ParseFromString(serialize_onnx(m)));
  onnx::TensorProto* w = mp.mutable_graph()->mutable_initializer(0);
  w->clear_raw_data();
  w->set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
  auto* e = w->add_external_data();
  e->set_key("location");
  e->set_value("w.bin");
  std::string b;
  mp.SerializeToString(&b);
  std::ofstream(t / "m.onnx", std::ios::binary) << b;
  ASSERT_NE(std::filesystem::current_path(), std::filesystem::path(t / ""));
  const Model r = read_onnx(t / "m.onnx");
  ASSERT_EQ(r.graph.initializers.size(), 1u);
  EXPECT_EQ(r.graph.initializers[0].data, (std::vector<float>{3.f, -1.f}));
}

TEST(OnnxWrite, written_model_runs_the_checker_and_keeps_opset) {
  TempDir t;
  Model m = relu_model();
  m.graph.initializers.push_back(Tensor::from_floats("unused", {2}, {1.f, 2.f}));
  m.metadata["ristsim.format.unused"] = "fixed<8,4>";
  write_onnx(m, t / "relu.onnx");
  Model r = read_onnx(t / "relu.onnx");
  EXPECT_EQ(r.opset(), 13);
  EXPECT_EQ(r.ir_version, 7);
  EXPECT_EQ(r.producer_name, "ristsim");
  r.source.clear();
  EXPECT_EQ(r, m);

  // An invalid model (Relu without its input) is refused and nothing is written.
  Model bad = relu_model();
  bad.graph.nodes[0].inputs.clear();
  const std::string err = error_of([&] { write_onnx(bad, t / "bad.onnx"); });
  EXPECT_NE(err.find(t / "bad.onnx" + ": the model to write is not valid ONNX (nothing written)"),
            std::string::npos)
      << err;
  EXPECT_FALSE(fs::exists(t / "bad.onnx"));
}

TEST(OnnxRead, errors_name_the_file) {
  TempDir t;
  EXPECT_EQ(error_of([&] { read_onnx(t / "none.onnx"); }), t / "none.onnx" + ": no such file");
  std::ofstream(t / "junk.onnx") << "this is not a protobuf \xff\xff\xff";
  EXPECT_NE(
      error_of([&] { read_onnx(t / "junk.onnx"); }).find(t / "junk.onnx" + ": not an ONNX model"),
      std::string::npos);
  // Parses as protobuf, fails the checker (no ir_version, no opset).
  onnx::ModelProto mp;
  mp.mutable_graph()->set_name("g");
  std::string b;
  mp.SerializeToString(&b);
  std::ofstream(t / "noir.onnx", std::ios::binary) << b;
  const std::string e = error_of([&] { read_onnx(t / "noir.onnx"); });
  EXPECT_NE(e.find(t / "noir.onnx" + ": invalid ONNX model: "), std::string::npos) << e;
  EXPECT_NE(e.find("ir_version"), std::string::npos) << e;
  // Without the check the same file is read (the IR can hold it).
  EXPECT_EQ(read_onnx(t / "noir.onnx", false).graph.name, "g");
}

TEST(OnnxRead, graph_attribute_is_named) {
  if (!fs::exists(kNode / "test_if/model.onnx")) GTEST_SKIP();
  const std::string e = error_of([] { read_onnx((kNode / "test_if/model.onnx").string()); });
  EXPECT_NE(e.find("test_if/model.onnx: node 0 (If"), std::string::npos) << e;
  EXPECT_NE(e.find("attribute 'else_branch' has type GRAPH"), std::string::npos) << e;
}

TEST(OnnxValidate, names_each_unsupported_op) {
  Model m = relu_model();
  m.source = "net.onnx";
  Node lstm;
  lstm.op_type = "LSTM";
  lstm.name = "lstm1";
  Node up1, up2;
  up1.op_type = up2.op_type = "Resize";
  up1.name = "up1";  // up2 unnamed: reported by index
  m.graph.nodes.insert(m.graph.nodes.begin(), {lstm, up1, up2});
  Node custom;
  custom.op_type = "Foo";
  custom.domain = "com.acme";
  m.graph.nodes.push_back(custom);
  const std::vector<std::string> supported = {"Relu", "Conv"};
  const auto bad = unsupported_ops(m.graph, supported);
  ASSERT_EQ(bad.size(), 3u);
  EXPECT_EQ(bad.at("Resize"), (std::vector<std::string>{"'up1'", "#2"}));
  EXPECT_EQ(error_of([&] { validate_ops(m, supported); }),
            "net.onnx: 3 unsupported ops: LSTM (node 'lstm1'), Resize (nodes 'up1', #2), "
            "com.acme::Foo (node #4); supported: Relu, Conv");
  EXPECT_NO_THROW(validate_ops(relu_model(), supported));
}

// Every truncation of a real model file: a ModelError naming the file (parse or checker
// failure), never a crash or a silently shorter model.
TEST(OnnxRead, every_truncation_is_an_error) {
  if (!have_node_tests()) GTEST_SKIP();
  const fs::path model = kNode / "test_conv_with_strides_padding/model.onnx";
  std::ifstream in(model, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 50u);
  int errors = 0;
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    try {
      Model m = parse_onnx(bytes.substr(0, len), "cut.onnx");
      // A protobuf cut exactly at a field boundary parses; the checker must then have found
      // the model complete, which a strict prefix of this model never is.
      ADD_FAILURE() << "prefix of " << len << " bytes accepted";
    } catch (const ModelError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("cut.onnx: ", 0), 0u) << e.what();
      ++errors;
    }
  }
  EXPECT_EQ(errors, int(bytes.size()));
}
