// The fuzzed readers (see fuzz_entries.h). Readers that take a path get the bytes through a
// file in a per-process temporary folder.
#include "fuzz_entries.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/arch_yaml.h"
#include "engine/net.h"
#include "engine/spec.h"
#include "engine/weights_io.h"
#include "io/dataset.h"
#include "io/caffe.h"
#include "io/onnx.h"
#include "io/onnx_import.h"
#include "numeric/checked.h"

namespace ristsim::fuzz {
namespace fs = std::filesystem;

namespace {

/// Elements of one blob under fuzzing: a hostile model is rejected (BlobSizeError) before it
/// can take more than 64 KiB per blob, or run a forward pass of more than ~2^28 operations.
constexpr int64_t kFuzzBlobLimit = int64_t(1) << 14;

const fs::path& temp_dir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("ristsim_fuzz_" + std::to_string(::getpid()));
    fs::create_directories(d);
    // 64 bytes of external tensor data for the ONNX inputs that refer to it.
    std::ofstream(d / "external.bin", std::ios::binary) << std::string(64, '\x11');
    return d;
  }();
  return dir;
}

std::string write_temp(const std::string& name, const uint8_t* data, std::size_t size) {
  const std::string path = (temp_dir() / name).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

template <class F>
std::optional<std::string> accepts(F&& f) {
  try {
    f();
    return std::nullopt;
  } catch (const InputError& e) {
    return std::string(e.what());
  }
}

std::optional<std::string> arch_yaml(const uint8_t* d, std::size_t n) {
  const std::string text(reinterpret_cast<const char*>(d), n);
  return accepts([&] { config::parse_arch(text, "fuzz_arch.yaml"); });
}

engine::NetOptions small_net_options(const engine::NetSpec& spec) {
  engine::NetOptions o;
  o.batch = 1;
  if (spec.input_shape.size() != 3) o.input_shape = {1, 8, 8};
  return o;
}

std::optional<std::string> net_yaml(const uint8_t* d, std::size_t n) {
  const std::string text(reinterpret_cast<const char*>(d), n);
  return accepts([&] {
    const engine::NetSpec spec = engine::parse_net_spec(text, "fuzz_net.yaml");
    engine::Net net(spec, small_net_options(spec));
  });
}

std::optional<std::string> onnx(const uint8_t* d, std::size_t n) {
  const std::string bytes(reinterpret_cast<const char*>(d), n);
  return accepts([&] {
    const io::Model m = io::parse_onnx(bytes, "fuzz.onnx", true, temp_dir().string());
    const io::ImportedNet imported = io::import_net(m);
    io::build_net(imported, engine::NetOptions{});
  });
}

std::optional<std::string> rstw(const uint8_t* d, std::size_t n) {
  const std::string path = write_temp("fuzz.rstw", d, n);
  return accepts([&] {
    if (!engine::is_weights_file(path)) {
      engine::read_weights_spec(path);  // the bad-magic path
      return;
    }
    const engine::NetSpec spec = engine::read_weights_spec(path);
    engine::Net net(spec, small_net_options(spec));
    engine::load_weights(net, path);
  });
}

// The first two bytes (little-endian) give the length of the image file; the rest after it
// is the label file.
std::optional<std::string> idx(const uint8_t* d, std::size_t n) {
  if (n < 2) return std::string("fewer than 2 bytes");
  const std::size_t k = std::min<std::size_t>(n - 2, std::size_t(d[0]) | std::size_t(d[1]) << 8);
  const std::string images = write_temp("fuzz-images-idx3-ubyte", d + 2, k);
  const std::string labels = write_temp("fuzz-labels-idx1-ubyte", d + 2 + k, n - 2 - k);
  return accepts([&] { io::load_idx(images, labels, 0); });
}

// Caffe: the first two bytes (little-endian) give the length of the prototxt text; the rest
// after it is the caffemodel (none when empty). The net is built with its weights.
std::optional<std::string> caffe(const uint8_t* d, std::size_t n) {
  if (n < 2) return std::string("fewer than 2 bytes");
  const std::size_t k = std::min<std::size_t>(n - 2, std::size_t(d[0]) | std::size_t(d[1]) << 8);
  const std::string text(reinterpret_cast<const char*>(d + 2), k);
  const std::string bytes(reinterpret_cast<const char*>(d + 2 + k), n - 2 - k);
  return accepts([&] {
    const io::CaffeModel m = io::parse_caffe(text, bytes, "fuzz.prototxt");
    io::build_net(m.net, small_net_options(m.net.spec));
  });
}

std::optional<std::string> cifar(const uint8_t* d, std::size_t n) {
  const std::string path = write_temp("fuzz_batch.bin", d, n);
  return accepts([&] { io::load_cifar10({path}); });
}

}  // namespace

const std::vector<Target>& targets() {
  static const std::vector<Target> t = {
      {"arch_yaml", arch_yaml}, {"net_yaml", net_yaml}, {"onnx", onnx},
      {"rstw", rstw},           {"idx", idx},           {"cifar", cifar},
      {"caffe", caffe}};
  return t;
}

const Target* find_target(const std::string& name) {
  for (const Target& t : targets())
    if (name == t.name) return &t;
  return nullptr;
}

void init() {
  engine::Blob::set_element_limit(kFuzzBlobLimit);
}

void cleanup() {
  std::error_code ec;
  fs::remove_all(temp_dir(), ec);
}

}  // namespace ristsim::fuzz
