// Writes the binary seeds and reproducers of testbench/fuzz (committed; rerun only to change
// them): `fuzz_make_inputs DIR` fills DIR/corpus/{onnx,rstw,idx,cifar} and
// DIR/regressions/{onnx,rstw,idx,cifar}. The YAML inputs are plain text files written by hand.
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "engine/net.h"
#include "engine/spec.h"
#include "engine/weights_io.h"
#include "io/caffe.h"
#include "io/onnx.h"
#include "io/onnx_export.h"

#include <onnx/onnx_pb.h>

namespace fs = std::filesystem;
using namespace ristsim;
using Bytes = std::string;

namespace {

fs::path g_dir;

void put(const std::string& rel, const Bytes& b) {
  const fs::path p = g_dir / rel;
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary).write(b.data(), static_cast<std::streamsize>(b.size()));
}

Bytes be32(uint32_t v) {
  return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

Bytes gzip(const Bytes& raw) {
  z_stream s{};
  deflateInit2(&s, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  Bytes out(raw.size() + 256, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  s.avail_in = static_cast<uInt>(raw.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  deflate(&s, Z_FINISH);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

// An idx fuzz input: 2-byte little-endian length of the image file, the image file, the labels.
Bytes idx_input(const Bytes& images, const Bytes& labels) {
  return Bytes{char(images.size() & 0xff), char(images.size() >> 8)} + images + labels;
}

Bytes idx_images(uint32_t n, uint32_t h, uint32_t w, bool data = true) {
  Bytes b = be32(0x803) + be32(n) + be32(h) + be32(w);
  if (data)
    for (uint32_t i = 0; i < n * h * w; ++i) b += char(i * 37);
  return b;
}

Bytes idx_labels(uint32_t n) {
  Bytes b = be32(0x801) + be32(n);
  for (uint32_t i = 0; i < n; ++i) b += char(i % 10);
  return b;
}

engine::LayerSpec layer(const std::string& name, const std::string& type,
                        std::vector<std::string> bottoms, std::vector<std::string> tops) {
  engine::LayerSpec s;
  s.name = name;
  s.type = type;
  s.bottoms = std::move(bottoms);
  s.tops = std::move(tops);
  return s;
}

// A tiny CNN (1x8x8 -> conv 2x3x3 -> ReLU -> max pool 2 -> InnerProduct 3), also as YAML text
// so that the weight file carries its description.
const char* kTinyNet = R"(name: tiny
input: data
input_shape: [1, 8, 8]
layers:
  - {name: conv1, type: Convolution, bottom: data, top: conv1, num_output: 2, kernel_size: 3}
  - {name: relu1, type: ReLU, bottom: conv1, top: conv1}
  - {name: pool1, type: Pooling, bottom: conv1, top: pool1, pool: max, kernel_size: 2, stride: 2}
  - {name: ip1, type: InnerProduct, bottom: pool1, top: ip1, num_output: 3}
)";

io::Model one_node_model(io::Node node, std::vector<int64_t> in_shape,
                         std::vector<io::Tensor> inits) {
  io::Model m;
  m.graph.name = "g";
  node.inputs.insert(node.inputs.begin(), "x");
  node.outputs = {"y"};
  for (const io::Tensor& t : inits) node.inputs.push_back(t.name);
  m.graph.nodes = {node};
  m.graph.initializers = std::move(inits);
  m.graph.inputs.push_back(
      {"x", io::DataType::kFloat, true, in_shape, std::vector<std::string>(in_shape.size()), ""});
  m.graph.outputs.push_back({"y", io::DataType::kFloat, true, {}, {}, ""});
  return m;
}

io::Node node(const std::string& op, std::vector<io::Attribute> attrs) {
  io::Node n;
  n.op_type = op;
  n.name = "n";
  n.attributes = std::move(attrs);
  return n;
}

io::Tensor weights(std::vector<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return io::Tensor::from_floats("W", dims, std::vector<float>(n, 0.5f));
}

void put_onnx(const std::string& rel, const io::Model& m) {
  put(rel, io::serialize_onnx(m));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_make_inputs DIR\n";
    return 2;
  }
  g_dir = argv[1];
  using io::Attribute;

  // ---- seeds
  const engine::NetSpec spec = engine::parse_net_spec(kTinyNet, "tiny.yaml");
  engine::Net net(spec, engine::NetOptions{});
  put_onnx("corpus/onnx/tiny_cnn.onnx", io::export_model(net));
  const fs::path tmp = fs::temp_directory_path() / "ristsim_make_inputs.rstw";
  engine::save_weights(net, tmp.string());
  std::ifstream wf(tmp, std::ios::binary);
  const Bytes rstw((std::istreambuf_iterator<char>(wf)), std::istreambuf_iterator<char>());
  fs::remove(tmp);
  put("corpus/rstw/tiny.rstw", rstw);
  {  // caffe: 2-byte length of the prototxt, the prototxt, the caffemodel
    const fs::path pt = fs::temp_directory_path() / "ristsim_make_inputs.prototxt";
    const fs::path cm = fs::temp_directory_path() / "ristsim_make_inputs.caffemodel";
    config::Arch a;
    a.datapath = config::Datapath::float32;
    for (config::NumberSpec* g : {&a.formats.activations, &a.formats.weights, &a.formats.bias,
                                  &a.formats.outputs})
      g->quantizer.format = numeric::Format::fixed_point(8, 4);
    const config::Arch* arches[] = {nullptr, &a};
    for (const config::Arch* arch : arches) {
      io::write_caffe(net, arch, pt.string(), cm.string());
      std::ifstream t(pt, std::ios::binary), c(cm, std::ios::binary);
      const Bytes text((std::istreambuf_iterator<char>(t)), std::istreambuf_iterator<char>());
      const Bytes model((std::istreambuf_iterator<char>(c)), std::istreambuf_iterator<char>());
      const Bytes len = {char(text.size() & 0xff), char(text.size() >> 8)};
      put(arch ? "corpus/caffe/tiny_ristretto" : "corpus/caffe/tiny", len + text + model);
      put(arch ? "corpus/caffe/tiny_ristretto_text_only" : "corpus/caffe/tiny_text_only", len + text);
    }
    fs::remove(pt);
    fs::remove(cm);
  }
  put_onnx("corpus/onnx/conv_same_upper.onnx",
           one_node_model(node("Conv", {Attribute::make_ints("strides", {2, 2}),
                                        Attribute::make_string("auto_pad", "SAME_UPPER")}),
                          {1, 1, 7, 7}, {weights({2, 1, 3, 3})}));
  put_onnx("corpus/onnx/avgpool_pads.onnx",
           one_node_model(node("AveragePool", {Attribute::make_ints("kernel_shape", {3, 3}),
                                               Attribute::make_ints("pads", {1, 1, 1, 1}),
                                               Attribute::make_int("ceil_mode", 1)}),
                          {1, 2, 6, 6}, {}));
  put_onnx("corpus/onnx/gemm.onnx", one_node_model(node("Gemm", {Attribute::make_int("transB", 1)}),
                                                   {2, 4}, {weights({3, 4})}));
  put("corpus/idx/tiny.bin", idx_input(idx_images(3, 2, 2), idx_labels(3)));
  put("corpus/idx/tiny_gz.bin", idx_input(gzip(idx_images(3, 2, 2)), gzip(idx_labels(3))));
  Bytes cifar;
  for (int r = 0; r < 2; ++r) {
    cifar += char(r + 3);
    for (int i = 0; i < 3072; ++i) cifar += char(i * 7 + r);
  }
  put("corpus/cifar/two_records.bin", cifar);
  put("corpus/cifar/two_records_gz.bin", gzip(cifar));

  // ---- reproducers (expected messages: regressions/expect.txt)
  const io::Tensor w3 = weights({1, 1, 3, 3});
  put_onnx("regressions/onnx/conv_strides0_same_upper.onnx",
           one_node_model(node("Conv", {Attribute::make_ints("strides", {0, 0}),
                                        Attribute::make_string("auto_pad", "SAME_UPPER")}),
                          {1, 1, 8, 8}, {w3}));
  put_onnx("regressions/onnx/conv_group_2pow62.onnx",
           one_node_model(node("Conv", {Attribute::make_int("group", int64_t(1) << 62)}),
                          {1, 1, 8, 8}, {w3}));
  put_onnx(
      "regressions/onnx/maxpool_kernel_2pow31.onnx",
      one_node_model(node("MaxPool", {Attribute::make_ints("kernel_shape", {int64_t(1) << 31, 2})}),
                     {1, 1, 8, 8}, {}));
  put_onnx("regressions/onnx/maxpool_dilated_huge_kernel.onnx",
           one_node_model(node("MaxPool", {Attribute::make_ints("kernel_shape", {2, 1 << 30}),
                                           Attribute::make_ints("dilations", {1, 4})}),
                          {1, 1, 8, 8}, {}));
  const int64_t big = (int64_t(1) << 31) - 1;
  put_onnx("regressions/onnx/input_dims_product_overflow.onnx",
           one_node_model(node("Relu", {}), {1, big, big, big}, {}));
  put_onnx("regressions/onnx/input_dim_2pow31m1.onnx",
           one_node_model(node("Relu", {}), {1, 1, 1, big}, {}));
  // External data (the fuzz entry's folder holds external.bin, 64 bytes): the initializer W
  // rewritten as external data by hand (the IR has no external tensors).
  auto external = [&](const std::string& file, const std::string& offset, const std::string& length,
                      const std::string& location) {
    onnx::ModelProto mp;
    mp.ParseFromString(io::serialize_onnx(one_node_model(node("Conv", {}), {1, 1, 8, 8}, {w3})));
    onnx::TensorProto* t = mp.mutable_graph()->mutable_initializer(0);
    t->clear_raw_data();
    t->set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
    auto kv = [&](const std::string& k, const std::string& v) {
      auto* e = t->add_external_data();
      e->set_key(k);
      e->set_value(v);
    };
    kv("location", location);
    if (!offset.empty()) kv("offset", offset);
    if (!length.empty()) kv("length", length);
    Bytes b;
    mp.SerializeToString(&b);
    put("regressions/onnx/" + file, b);
  };
  external("external_offset_near_2pow63.onnx", "9223372036854775800", "36", "external.bin");
  external("external_length_near_2pow63.onnx", "8", "9223372036854775800", "external.bin");
  external("external_offset_not_a_number.onnx", "12abc", "36", "external.bin");
  external("external_offset_out_of_range.onnx", "99999999999999999999", "36", "external.bin");
  external("external_location_escapes.onnx", "", "", "../../../../etc/passwd");

  // .rstw: trailing bytes; a description length beyond the file.
  put("regressions/rstw/trailing_bytes.rstw", rstw + "junk");
  Bytes long_desc = rstw;
  long_desc[8] = long_desc[9] = long_desc[10] = char(0xff);
  long_desc[11] = 0x03;
  put("regressions/rstw/description_length_beyond_file.rstw", long_desc);

  // idx: gzip with trailing bytes; dims whose product wraps to 0 in 64 bits; a dim of 2^31.
  put("regressions/idx/gzip_trailing_bytes.bin",
      idx_input(gzip(idx_images(3, 2, 2)) + "trailing", idx_labels(3)));
  put("regressions/idx/dims_product_wraps_to_zero.bin",
      idx_input(idx_images(1u << 24, 1u << 20, 1u << 20, false), idx_labels(0)));
  put("regressions/idx/dim_2pow31.bin",
      idx_input(idx_images(1u << 31, 1, 1, false), idx_labels(0)));
  put("regressions/idx/zero_sized_images.bin",
      idx_input(idx_images(3, 0, 5, false), idx_labels(3)));
  put("regressions/cifar/gzip_trailing_bytes.bin", gzip(cifar) + "x");
  return 0;
}
