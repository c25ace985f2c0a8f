// Caffe / Ristretto models (sim/io/caffe.h): the trained lenet and cifar10_full written as
// prototxt + caffemodel and read back with the same weight bits and the same outputs (so the
// same top-1), Ristretto's quantization_param as per-layer formats both ways, and hostile
// input rejected with the file and what is wrong.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "engine/net.h"
#include "engine/quant.h"
#include "engine/weights_io.h"
#include "io/caffe.h"

namespace fs = std::filesystem;
using namespace ristsim;

namespace {

fs::path temp_dir() {
  const fs::path d = fs::temp_directory_path() / ("ristsim_caffe_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<float> run(engine::Net& net, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);  // pixels in [0, 1]
  for (std::size_t i = 0; i < net.input().count(); ++i) net.input().data()[i] = u(rng);
  net.forward();
  return std::vector<float>(net.output().data(), net.output().data() + net.output().count());
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Every layer's formats fixed point (Ristretto's DYNAMIC_FIXED_POINT, NEAREST = nearest_away).
config::Arch ristretto_arch(engine::Net& net) {
  config::Arch a;
  a.name = "r";
  a.datapath = config::Datapath::float32;
  for (config::NumberSpec* g : {&a.formats.activations, &a.formats.weights, &a.formats.bias,
                                &a.formats.outputs})
    g->is_float = true;
  int k = 0;
  for (engine::WeightedLayer* l : net.weighted_layers()) {
    config::LayerOverride o;
    o.layer = l->name();
    o.has_activations = o.has_weights = o.has_bias = o.has_outputs = true;
    auto fx = [](int bits, int fl) {
      config::NumberSpec s;
      s.quantizer.format = numeric::Format::fixed_point(bits, fl);
      s.quantizer.rounding = numeric::Rounding::nearest_away;
      return s;
    };
    o.formats.activations = fx(8, 4 - k % 2);
    o.formats.weights = o.formats.bias = fx(8, 7 + k % 2);
    o.formats.outputs = fx(16, 6);
    a.overrides.push_back(o);
    ++k;
  }
  return a;
}

}  // namespace

TEST(Caffe, trained_models_round_trip_bit_exactly) {
  const fs::path dir = temp_dir();
  for (const char* name : {"lenet_fmnist", "cifar10_full_fmnist"}) {
    engine::NetOptions opt;
    opt.batch = 8;
    opt.input_shape = {1, 28, 28};
    auto net = engine::load_model(std::string(RISTSIM_SOURCE_DIR) + "/models/" + name + ".rstw", opt);
    const std::vector<float> want = run(*net, 5);
    // float
    io::write_caffe(*net, nullptr, (dir / "f.prototxt").string(), (dir / "f.caffemodel").string());
    io::CaffeModel cm = io::read_caffe((dir / "f.prototxt").string(), (dir / "f.caffemodel").string());
    EXPECT_FALSE(cm.arch) << name;
    auto back = io::build_net(cm.net, opt);
    const auto a = net->weighted_layers(), b = back->weighted_layers();
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i]->name(), b[i]->name());
      for (std::size_t p = 0; p < a[i]->params().size(); ++p) {
        const engine::Blob &x = *a[i]->params()[p].blob, &y = *b[i]->params()[p].blob;
        ASSERT_EQ(x.shape_string(), y.shape_string()) << name << " " << a[i]->name();
        EXPECT_EQ(std::memcmp(x.data(), y.data(), x.count() * sizeof(float)), 0)
            << name << " " << a[i]->name() << " blob " << p;
      }
    }
    EXPECT_TRUE(same_bits(run(*back, 5), want)) << name;

    // Ristretto: ConvolutionRistretto / FcRistretto carry the formats; read back as the arch.
    const config::Arch arch = ristretto_arch(*net);
    engine::attach_arch(*net, arch);
    const std::vector<float> want_q = run(*net, 6);
    io::write_caffe(*net, &arch, (dir / "q.prototxt").string(), (dir / "q.caffemodel").string());
    const std::string text = read(dir / "q.prototxt");
    EXPECT_NE(text.find("type: \"ConvolutionRistretto\""), std::string::npos);
    EXPECT_NE(text.find("type: \"FcRistretto\""), std::string::npos);
    EXPECT_NE(text.find("bw_layer_out: 16"), std::string::npos);
    io::CaffeModel qm = io::read_caffe((dir / "q.prototxt").string(), (dir / "q.caffemodel").string());
    ASSERT_TRUE(qm.arch);
    ASSERT_EQ(qm.arch->overrides.size(), arch.overrides.size());
    for (const config::LayerOverride& o : arch.overrides) {
      const config::LayerFormats f = config::formats_for(*qm.arch, o.layer);
      EXPECT_EQ(f.activations.quantizer.format.fl, o.formats.activations.quantizer.format.fl);
      EXPECT_EQ(f.weights.quantizer.format.fl, o.formats.weights.quantizer.format.fl);
      EXPECT_EQ(f.outputs.quantizer.format.bits, 16);
      EXPECT_EQ(f.weights.quantizer.rounding, numeric::Rounding::nearest_away);
    }
    auto back_q = io::build_net(qm.net, opt);
    engine::attach_arch(*back_q, *qm.arch);
    EXPECT_TRUE(same_bits(run(*back_q, 6), want_q)) << name;
  }
  fs::remove_all(dir);
}

TEST(Caffe, hostile_input_names_file_and_reason) {
  const char* net = R"(name: "t"
input: "data"
input_shape { dim: 1 dim: 1 dim: 8 dim: 8 }
layer { name: "c" type: "Convolution" bottom: "data" top: "c"
        convolution_param { num_output: 2 kernel_size: 3 } }
)";
  struct Case {
    std::string text, bytes, expect;
  };
  const std::vector<Case> cases = {
      {"name: \"t\"\nlayer { name: \"c\" typo: 1 }\n", "", "t.prototxt:2:"},
      {"name: \"t\"\nlayers { name: \"c\" }\n", "", "t.prototxt:2:"},  // V1: not in the schema
      {"name: \"t\"\ninput: \"data\"\n", "", "no layers"},
      {std::string(net) + "layer { name: \"x\" type: \"Crop\" bottom: \"c\" top: \"x\" }\n", "",
       "layer 'x' (Crop): layer type not supported"},
      {net, std::string("\x0a\xff\xff\xff\xff\x0f", 6), "not a caffemodel"},
      {net, std::string("\x0a\x01t", 3), "no layers"},
      {std::string(net) + "layer { name: \"c\" type: \"ReLU\" bottom: \"c\" top: \"c\" }\n", "",
       "a second layer of this name"},
      {std::string(net) + "layer { name: \"q\" type: \"FcRistretto\" bottom: \"c\" top: \"q\" "
       "inner_product_param { num_output: 2 } quantization_param { precision: "
       "INTEGER_POWER_OF_2_WEIGHTS exp_min: -8 exp_max: -2 } }\n",
       "", "must be 2^k of them"},
  };
  for (const Case& c : cases) {
    try {
      io::parse_caffe(c.text, c.bytes, "t.prototxt");
      ADD_FAILURE() << c.expect << ": accepted";
    } catch (const io::ModelError& e) {
      EXPECT_NE(std::string(e.what()).find(c.expect), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).rfind("t.prototxt", 0), 0u) << e.what();
    }
  }
  // A caffemodel that does not parse is named as the weight file.
  const fs::path dir = temp_dir();
  {
    std::ofstream(dir / "t.prototxt") << net;
    std::ofstream(dir / "bad.caffemodel", std::ios::binary) << std::string("\xa2\x06\x03\x0a\x01x", 6);
    try {
      io::read_caffe((dir / "t.prototxt").string(), (dir / "bad.caffemodel").string());
      ADD_FAILURE() << "bad caffemodel accepted";
    } catch (const io::ModelError& e) {
      EXPECT_EQ(std::string(e.what()).rfind((dir / "bad.caffemodel").string(), 0), 0u) << e.what();
    }
  }
  fs::remove_all(dir);
}
