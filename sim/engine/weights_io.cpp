#include "engine/weights_io.h"

#include "engine/spec.h"
#include "util/output.h"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <fstream>
#include <map>
#include <stdexcept>

namespace ristsim::engine {

namespace {
constexpr char kMagic[8] = {'R', 'S', 'T', 'W', 'G', 'T', '0', '1'};

void put_u32(std::string& f, uint32_t v) {
  const char b[4] = {char(uint8_t(v)), char(uint8_t(v >> 8)), char(uint8_t(v >> 16)),
                     char(uint8_t(v >> 24))};
  f.append(b, 4);
}

/// Reads a weight file front to back; every size is checked against the bytes left in the
/// file before anything is allocated.
struct Reader {
  std::ifstream f;
  std::string path;
  uint64_t size = 0, pos = 0;
  [[noreturn]] void fail(const std::string& what) const { throw WeightsError(path + ": " + what); }
  uint64_t left() const { return size - pos; }
  void read(void* p, std::size_t n, const char* what) {
    if (n > left())
      fail("truncated weight file (" + std::string(what) + " needs " + std::to_string(n) +
           " bytes at offset " + std::to_string(pos) + ", " + std::to_string(left()) + " left)");
    f.read(static_cast<char*>(p), static_cast<std::streamsize>(n));
    if (!f) fail("read error (while reading " + std::string(what) + ")");
    pos += n;
  }
  uint32_t u32(const char* what) {
    unsigned char b[4];
    read(b, 4, what);
    return uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
  }
};

bool little_endian() {
  const uint32_t one = 1;
  unsigned char c;
  std::memcpy(&c, &one, 1);
  return c == 1;
}
}  // namespace

void save_weights(Net& net, const std::string& path) {
  if (!little_endian()) throw std::runtime_error("save_weights: big-endian hosts are not supported");
  std::string f(kMagic, 8);
  const std::vector<ParamRef> params = net.params();
  const std::string& desc = net.spec().text;
  put_u32(f, static_cast<uint32_t>(desc.size()));
  f += desc;
  put_u32(f, static_cast<uint32_t>(params.size()));
  for (const ParamRef& p : params) {
    put_u32(f, static_cast<uint32_t>(p.name.size()));
    f += p.name;
    const Blob& b = *p.param->blob;
    put_u32(f, static_cast<uint32_t>(b.num_axes()));
    for (int s : b.shape()) put_u32(f, static_cast<uint32_t>(s));
    f.append(reinterpret_cast<const char*>(b.data()), b.count() * 4);
  }
  util::write_file(path, f);  // temporary file, fsync, rename: never a truncated weight file
}

namespace {
/// Opens a weight file and reads up to the blob count; returns the description.
std::string open_weights(Reader& r, const std::string& path) {
  if (!little_endian()) throw std::runtime_error("weight files: big-endian hosts are not supported");
  r.path = path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) r.fail("is a directory, expected a weight file");
  r.f.open(path, std::ios::binary);
  if (!r.f) r.fail("cannot open the weight file");
  r.f.seekg(0, std::ios::end);
  const std::streamoff end = r.f.tellg();
  r.f.seekg(0);
  if (end < 0 || !r.f) r.fail("cannot read the weight file (not a regular file?)");
  r.size = static_cast<uint64_t>(end);
  char magic[8];
  r.read(magic, 8, "the magic number");
  if (std::memcmp(magic, kMagic, 8) != 0) r.fail("not a ristsim weight file (bad magic number)");
  const uint32_t dlen = r.u32("the description length");
  if (dlen > r.left())
    r.fail("corrupt weight file (description length " + std::to_string(dlen) + ", " +
           std::to_string(r.left()) + " bytes left)");
  std::string desc(dlen, '\0');
  r.read(desc.data(), dlen, "the network description");
  return desc;
}
}  // namespace

namespace {
NetSpec read_weights_spec_file(const std::string& path);
void load_weights_file(Net& net, const std::string& path);
}  // namespace

bool is_weights_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char magic[8] = {};
  f.read(magic, 8);
  return f && std::memcmp(magic, kMagic, 8) == 0;
}

NetSpec read_weights_spec(const std::string& path) {
  return checked::with_input_errors(
      "the weight file", [&] { return read_weights_spec_file(path); },
      [&](const std::string& m) { return WeightsError(path + ": " + m); });
}

void load_weights(Net& net, const std::string& path) {
  checked::with_input_errors(
      "the weight file", [&] { load_weights_file(net, path); },
      [&](const std::string& m) { return WeightsError(path + ": " + m); });
}

namespace {
NetSpec read_weights_spec_file(const std::string& path) {
  Reader r;
  const std::string desc = open_weights(r, path);
  if (desc.empty()) r.fail("the weight file carries no network description");
  return parse_net_spec(desc, path + " (embedded description)");
}
}  // namespace

std::unique_ptr<Net> load_model(const std::string& path, const NetOptions& options) {
  if (is_weights_file(path)) {
    auto net = std::make_unique<Net>(read_weights_spec(path), options);
    load_weights(*net, path);
    return net;
  }
  return std::make_unique<Net>(load_net_spec(path), options);
}

namespace {
void load_weights_file(Net& net, const std::string& path) {
  Reader r;
  open_weights(r, path);
  std::map<std::string, ParamRef> by_name;
  for (const ParamRef& p : net.params()) by_name[p.name] = p;
  const uint32_t count = r.u32("the blob count");
  std::map<std::string, bool> loaded;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t len = r.u32("a name length");
    if (len > 4096) r.fail("corrupt weight file (name length " + std::to_string(len) + ")");
    std::string name(len, '\0');
    r.read(name.data(), len, "a blob name");
    const uint32_t axes = r.u32("an axis count");
    if (axes > 8)
      r.fail("corrupt weight file (blob '" + name + "' has " + std::to_string(axes) + " axes)");
    std::vector<int> shape;
    for (uint32_t a = 0; a < axes; ++a) {
      const std::optional<int> s = checked::narrow<int>(r.u32("a blob shape"));
      if (!s) r.fail("corrupt weight file (blob '" + name + "' has a size above 2^31 - 1)");
      shape.push_back(*s);
    }
    if (loaded.count(name)) r.fail("blob '" + name + "' appears twice");
    auto it = by_name.find(name);
    if (it == by_name.end())
      r.fail("blob '" + name + "' has no parameter of that name in network '" + net.spec().name + "'");
    Blob& b = *it->second.param->blob;
    if (b.shape() != shape)
      r.fail("blob '" + name + "' has shape " + shape_string(shape) + ", the network expects " +
             b.shape_string());
    r.read(b.data(), b.count() * 4, name.c_str());
    loaded[name] = true;
  }
  for (const auto& kv : by_name)
    if (!loaded.count(kv.first))
      r.fail("parameter '" + kv.first + "' of network '" + net.spec().name +
             "' is missing from the weight file");
  if (r.left() > 0)
    r.fail("trailing data: " + std::to_string(r.left()) + " bytes after the last blob (offset " +
           std::to_string(r.pos) + ")");
}
}  // namespace

}  // namespace ristsim::engine
