// The mapper's analytic compute cycles and folds (sim/map, through the cost
// report's mapping) against the folds the array controller walks
// (cycle::plan_folds, docs/array.md), exactly, on every conv / FC layer of
// LeNet and cifar10_full for the shipped 16 x 16 arrays (weight stationary,
// output stationary) and the input-stationary variant. The SystemC array runs
// the same folds cycle by cycle (systemc_array_* tests check that its cycles
// equal the mapper's); this test covers every layer in milliseconds.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/arch_yaml.h"
#include "cycle/array_run.h"
#include "cycle/stimulus.h"

using namespace ristsim;

namespace {

struct Layer {
  const char* name;
  const char* shape;  // C,H,W,K,KH,KW,STRIDE,PAD
};

const std::vector<Layer> kLayers = {
    {"lenet_conv1", "1,28,28,20,5,5,1,0"},  {"lenet_conv2", "20,12,12,50,5,5,1,0"},
    {"lenet_ip1", "800,1,1,500,1,1,1,0"},   {"lenet_ip2", "500,1,1,10,1,1,1,0"},
    {"cifar_conv1", "3,32,32,32,5,5,1,2"},  {"cifar_conv2", "32,16,16,32,5,5,1,2"},
    {"cifar_conv3", "32,8,8,64,5,5,1,2"},   {"cifar_ip1", "1024,1,1,10,1,1,1,0"}};

config::Arch arch_of(const std::string& file, const char* df) {
  config::Arch a = config::load_arch(std::string(RISTSIM_SOURCE_DIR) + "/configs/" + file);
  if (std::string(df) == "is") a.array.dataflow = config::Dataflow::input_stationary;
  return a;
}

/// Differences between the mapper and the controller's folds ("" if none);
/// `latency_error` shortens the controller's PE latency (the _bad test).
std::string compare(const config::Arch& arch, int latency_error) {
  std::string diff;
  const rtlgen::PeShape shape = rtlgen::make_pe_shape(arch, nullptr, "auto");
  for (const Layer& l : kLayers) {
    const kernels::ConvShape c = cycle::parse_conv_shape(l.shape);
    const map::LayerMap m = cycle::report_mapping(arch, arch.formats, c, l.name);
    const uint64_t mm = uint64_t(c.oh) * c.ow, n = uint64_t(c.k), k = uint64_t(c.c) * c.kh * c.kw;
    uint64_t in_folds = 0, stalls = 0;
    const std::vector<cycle::ArrayFold> folds = cycle::plan_folds(
        cycle::array_geometry(arch), shape.latency() - latency_error, shape.lanes,
        cycle::mapping_tiles(m.mapping, mm, n, k), {}, &in_folds, &stalls);
    if (in_folds != m.compute_cycles || folds.size() != m.mapping.folds)
      diff += std::string(l.name) + ": mapper " + std::to_string(m.compute_cycles) + " cycles in " +
              std::to_string(m.mapping.folds) + " folds, controller " + std::to_string(in_folds) +
              " in " + std::to_string(folds.size()) + " (" + m.mapping.text() + ")\n";
  }
  return diff;
}

}  // namespace

TEST(MapArray, analytic_compute_cycles_equal_the_controllers_folds) {
  for (auto [file, df] : {std::pair{"systolic16x16_ws.yaml", "ws"}, std::pair{"os16x16.yaml", "os"},
                          std::pair{"systolic16x16_ws.yaml", "is"}})
    EXPECT_EQ(compare(arch_of(file, df), 0), "") << file << " " << df;
}

TEST(MapArray, analytic_compute_cycles_equal_bad) {
  // A controller whose PEs had one cycle less latency must disagree on every layer.
  const std::string d = compare(arch_of("systolic16x16_ws.yaml", "ws"), 1);
  EXPECT_NE(d.find("lenet_conv2"), std::string::npos) << d;
  EXPECT_NE(d.find("cifar_ip1"), std::string::npos) << d;
}

// libsystemc (linked through sim/cycle) brings main(), which calls sc_main.
extern "C" int sc_main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
