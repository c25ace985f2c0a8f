#include "engine/weights_io.h"

#include "engine/spec.h"
#include "util/output.h"

#include <cstdint>
#include <cstring>
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

struct Reader {
  std::ifstream f;
  std::string path;
  void read(void* p, std::size_t n, const char* what) {
    f.read(static_cast<char*>(p), static_cast<std::streamsize>(n));
    if (!f) throw std::runtime_error(path + ": truncated weight file (while reading " + what + ")");
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
  r.f.open(path, std::ios::binary);
  if (!r.f) throw std::runtime_error(path + ": cannot open the weight file");
  char magic[8];
  r.read(magic, 8, "the magic number");
  if (std::memcmp(magic, kMagic, 8) != 0)
    throw std::runtime_error(path + ": not a ristsim weight file (bad magic number)");
  const uint32_t dlen = r.u32("the description length");
  if (dlen > (64u << 20)) throw std::runtime_error(path + ": corrupt weight file (description length)");
  std::string desc(dlen, '\0');
  r.read(desc.data(), dlen, "the network description");
  return desc;
}
}  // namespace

bool is_weights_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char magic[8] = {};
  f.read(magic, 8);
  return f && std::memcmp(magic, kMagic, 8) == 0;
}

NetSpec read_weights_spec(const std::string& path) {
  Reader r;
  const std::string desc = open_weights(r, path);
  if (desc.empty()) throw std::runtime_error(path + ": the weight file carries no network description");
  return parse_net_spec(desc, path + " (embedded description)");
}

std::unique_ptr<Net> load_model(const std::string& path, const NetOptions& options) {
  if (is_weights_file(path)) {
    auto net = std::make_unique<Net>(read_weights_spec(path), options);
    load_weights(*net, path);
    return net;
  }
  return std::make_unique<Net>(load_net_spec(path), options);
}

void load_weights(Net& net, const std::string& path) {
  Reader r;
  open_weights(r, path);
  std::map<std::string, ParamRef> by_name;
  for (const ParamRef& p : net.params()) by_name[p.name] = p;
  const uint32_t count = r.u32("the blob count");
  std::map<std::string, bool> loaded;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t len = r.u32("a name length");
    if (len > 4096) throw std::runtime_error(path + ": corrupt weight file (name length " + std::to_string(len) + ")");
    std::string name(len, '\0');
    r.read(name.data(), len, "a blob name");
    const uint32_t axes = r.u32("an axis count");
    if (axes > 8) throw std::runtime_error(path + ": corrupt weight file (blob '" + name + "' has " + std::to_string(axes) + " axes)");
    std::vector<int> shape;
    for (uint32_t a = 0; a < axes; ++a) shape.push_back(static_cast<int>(r.u32("a blob shape")));
    auto it = by_name.find(name);
    if (it == by_name.end())
      throw std::runtime_error(path + ": blob '" + name + "' has no parameter of that name in network '" +
                               net.spec().name + "'");
    Blob& b = *it->second.param->blob;
    if (b.shape() != shape)
      throw std::runtime_error(path + ": blob '" + name + "' has shape " + shape_string(shape) +
                               ", the network expects " + b.shape_string());
    r.read(b.data(), b.count() * 4, name.c_str());
    loaded[name] = true;
  }
  for (const auto& kv : by_name)
    if (!loaded.count(kv.first))
      throw std::runtime_error(path + ": parameter '" + kv.first + "' of network '" + net.spec().name +
                               "' is missing from the weight file");
}

}  // namespace ristsim::engine
