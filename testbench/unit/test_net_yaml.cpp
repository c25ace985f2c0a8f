// Network description YAML (sim/config/net_yaml): every shipped models/*.yaml
// loads, values land in the plain structs, and every structural error is a
// ConfigError naming the file, line and column of the offending node.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "config/net_yaml.h"

namespace {

using namespace ristsim;
using config::ConfigError;

const char* kNet =
    "name: n\n"                                                        // 1
    "description: two layers\n"                                        // 2
    "input_shape: [1, 8, 8]\n"                                         // 3
    "classes: 4\n"                                                     // 4
    "layers:\n"                                                        // 5
    "  - name: conv\n"                                                 // 6
    "    type: Convolution\n"                                          // 7
    "    bottom: data\n"                                               // 8
    "    top: conv\n"                                                  // 9
    "    kernel_size: [3, 5]\n"                                        // 10
    "    weight_filler: {type: gaussian, std: 0.01}\n"                 // 11
    "  - {name: ip, type: InnerProduct, bottom: [conv], top: ip, num_output: 4}\n";  // 12

/// Expects a ConfigError starting "bad.yaml:LINE:COL: " and containing `what`.
void expect_error(const std::string& text, int line, int col, const std::string& what) {
  try {
    config::parse_net_desc(text, "bad.yaml");
    ADD_FAILURE() << "no error for:\n" << text;
  } catch (const ConfigError& e) {
    const std::string prefix = "bad.yaml:" + std::to_string(line) + ":" + std::to_string(col) + ": ";
    EXPECT_EQ(std::string(e.what()).rfind(prefix, 0), 0u) << e.what() << "\nwanted " << prefix;
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what() << "\nwanted " << what;
  }
}

/// kNet with line `line` (1-based) replaced.
std::string with_line(int line, const std::string& text) {
  std::string s = kNet, out;
  std::size_t pos = 0;
  for (int n = 1; pos < s.size(); ++n) {
    const std::size_t end = s.find('\n', pos);
    out += (n == line ? text : s.substr(pos, end - pos)) + "\n";
    pos = end + 1;
  }
  return out;
}

TEST(NetYamlConfig, values_and_positions) {
  const config::NetDesc d = config::parse_net_desc(kNet, "n.yaml");
  EXPECT_EQ(d.file, "n.yaml");
  EXPECT_EQ(d.text, kNet);
  EXPECT_EQ(d.name, "n");
  EXPECT_EQ(d.description, "two layers");
  EXPECT_EQ(d.input, "data");
  EXPECT_EQ(d.input_shape, (std::vector<int>{1, 8, 8}));
  EXPECT_EQ(d.classes, 4);
  EXPECT_EQ(d.output, "");
  ASSERT_EQ(d.layers.size(), 2u);
  const config::LayerDesc& c = d.layers[0];
  EXPECT_EQ(c.name, "conv");
  EXPECT_EQ(c.type, "Convolution");
  EXPECT_EQ(c.bottoms, (std::vector<std::string>{"data"}));
  EXPECT_EQ(c.line, 6);
  EXPECT_EQ(c.column, 5);
  ASSERT_EQ(c.params.size(), 3u);
  EXPECT_EQ(c.params[0].key, "kernel_size");
  EXPECT_TRUE(c.params[0].is_list);
  EXPECT_EQ(c.params[0].nums, (std::vector<double>{3, 5}));
  EXPECT_EQ(c.params[0].line, 10);
  EXPECT_EQ(c.params[0].column, 18);
  EXPECT_EQ(c.params[1].key, "weight_filler.type");
  EXPECT_EQ(c.params[1].text, "gaussian");
  EXPECT_TRUE(c.params[1].nums.empty());
  EXPECT_EQ(c.params[2].key, "weight_filler.std");
  EXPECT_EQ(c.params[2].nums, (std::vector<double>{0.01}));
  EXPECT_EQ(c.params[2].column, 42);
  const config::LayerDesc& ip = d.layers[1];
  EXPECT_EQ(ip.bottoms, (std::vector<std::string>{"conv"}));
  EXPECT_EQ(ip.column, 5);
  ASSERT_EQ(ip.params.size(), 1u);
  EXPECT_EQ(ip.params[0].text, "4");
  EXPECT_EQ(ip.params[0].nums, (std::vector<double>{4}));
}

TEST(NetYamlConfig, every_shipped_model_loads) {
  int count = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(RISTSIM_SOURCE_DIR) + "/models")) {
    if (e.path().extension() != ".yaml") continue;
    SCOPED_TRACE(e.path().string());
    const config::NetDesc d = config::load_net_desc(e.path().string());
    EXPECT_EQ(d.name, e.path().stem().string());
    EXPECT_EQ(d.input_shape.size(), 3u);
    EXPECT_GT(d.layers.size(), 3u);
    ++count;
  }
  EXPECT_EQ(count, 5);  // lenet, cifar10_full, squeezenet, caffenet, googlenet
}

TEST(NetYamlConfig, errors_name_file_line_and_column) {
  expect_error(with_line(1, "nam: n"), 1, 1,
               "unknown key 'nam' in the network description (expected one of: name, description");
  expect_error(with_line(3, "input_shape: [1, 8]"), 3, 14, "expected [C, H, W] for input_shape");
  expect_error(with_line(3, "input_shape: [1, 0, 8]"), 3, 18,
               "input_shape is 0, expected an integer in 1..");
  expect_error(with_line(4, "classes: many"), 4, 10, "expected an integer in 1..");
  expect_error(with_line(6, "  - nme: conv"), 6, 5, "missing key 'name' in layers[0]");
  expect_error(with_line(7, "    typ: Convolution"), 6, 5, "missing key 'type' in layers[0]");
  expect_error(with_line(8, "    bottom: {a: b}"), 8, 13, "expected a name or a list of names");
  expect_error(with_line(9, "    toq: conv"), 6, 5, "missing key 'top' in layers[0]");
  expect_error(with_line(10, "    kernel_size: [3, x]"), 10, 22,
               "parameter 'kernel_size' of layer 'conv': list elements must be numbers");
  expect_error(with_line(10, "    kernel_size:"), 10, 5,
               "parameter 'kernel_size' of layer 'conv' has no value");
  expect_error(with_line(10, "    top: again"), 10, 5, "duplicate key 'top' in layers[0] (first at line 9)");
  expect_error(with_line(11, "    weight_filler: {type: gaussian, type: xavier}"), 11, 37,
               "duplicate key 'type' in layer 'conv'.weight_filler");
  expect_error(with_line(12, "  - {name: conv, type: ReLU, bottom: conv, top: r}"), 12, 5,
               "layer name 'conv' is used twice (first at line 6)");
  expect_error(with_line(12, "  - relu"), 12, 5, "expected a map");
  expect_error("name: x\nlayers: []\n", 2, 9, "expected a non-empty list of layers");
  expect_error("name: x\n", 1, 1, "missing key 'layers' in the network description");
  expect_error("", 1, 1, "the file is empty");
  expect_error("name: x\nlayers: [\n", 3, 1, "malformed YAML");
  try {
    config::load_net_desc("/nonexistent/m.yaml");
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/m.yaml: cannot open the network description");
  }
}

}  // namespace
