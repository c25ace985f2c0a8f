// idx and CIFAR-10 readers, gzip handling, and the name/directory resolver.
#include "io/dataset.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>

namespace ristsim::io {
namespace fs = std::filesystem;

namespace {

/// The most bytes a gzipped data file may decompress to (1 GiB).
constexpr std::size_t kMaxGunzipBytes = std::size_t(1) << 30;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw DataError(path + ": " + what);
}

std::vector<uint8_t> read_raw(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path, "no such file");
  if (fs::is_directory(path, ec)) fail(path, "is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (in.bad()) fail(path, "read error");
  return bytes;
}

std::vector<uint8_t> gunzip(const std::string& path, const std::vector<uint8_t>& z) {
  if (z.size() > std::numeric_limits<uInt>::max())
    fail(path, "compressed file of " + std::to_string(z.size()) + " bytes is larger than 4 GiB");
  std::vector<uint8_t> out;
  out.resize(std::min<std::size_t>(std::max<std::size_t>(z.size() * 4, 1 << 16), kMaxGunzipBytes));
  z_stream s{};
  // 15 + 32: zlib or gzip header, detected automatically.
  if (inflateInit2(&s, 15 + 32) != Z_OK) fail(path, "zlib inflateInit failed");
  s.next_in = const_cast<Bytef*>(z.data());
  s.avail_in = static_cast<uInt>(z.size());
  std::size_t produced = 0;
  int rc = Z_OK;
  while (true) {
    if (produced == out.size()) {
      if (out.size() >= kMaxGunzipBytes) {
        inflateEnd(&s);
        fail(path, "decompresses to more than " + std::to_string(kMaxGunzipBytes) +
                       " bytes (the limit of a gzipped data file)");
      }
      out.resize(std::min(out.size() * 2, kMaxGunzipBytes));
    }
    s.next_out = out.data() + produced;
    s.avail_out = static_cast<uInt>(out.size() - produced);
    rc = inflate(&s, Z_NO_FLUSH);
    produced = out.size() - s.avail_out;
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members (gzip allows them): continue with the next one.
      if (s.avail_in >= 2 && s.next_in[0] == 0x1f && s.next_in[1] == 0x8b) {
        inflateReset(&s);
        continue;
      }
      if (s.avail_in > 0) {
        const std::size_t at = z.size() - s.avail_in;
        inflateEnd(&s);
        fail(path, "trailing data: " + std::to_string(z.size() - at) +
                       " bytes after the end of the gzip stream (at offset " + std::to_string(at) +
                       ")");
      }
      break;
    }
    if (rc == Z_BUF_ERROR && s.avail_in == 0) {
      inflateEnd(&s);
      fail(path, "truncated gzip stream (compressed data ends before the end marker; " +
                     std::to_string(produced) + " bytes decompressed)");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      std::string msg = s.msg ? s.msg : "error " + std::to_string(rc);
      inflateEnd(&s);
      fail(path, "corrupt gzip stream: " + msg);
    }
  }
  inflateEnd(&s);
  out.resize(produced);
  return out;
}

uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::string dims_string(const std::vector<uint32_t>& d) {
  std::string s;
  for (uint32_t x : d) s += (s.empty() ? "" : " x ") + std::to_string(x);
  return s;
}

struct IdxFile {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> bytes;  // whole file; data starts at offset
  std::size_t offset = 0;
};

// Parses an idx header of unsigned bytes with the expected dimension count.
IdxFile read_idx(const std::string& path, uint32_t expected_magic, const char* kind) {
  IdxFile f;
  f.bytes = read_maybe_gzip(path);
  const auto& b = f.bytes;
  if (b.size() < 4) fail(path, "truncated: " + std::to_string(b.size()) + " bytes, no idx header");
  const uint32_t magic = be32(b.data());
  if (magic != expected_magic) {
    std::string what = "wrong magic number " + hex32(magic) + ", expected " +
                       hex32(expected_magic) + " (idx " + kind + ")";
    if ((magic >> 16) == 0 && (magic & 0xff00) == 0x0800 &&
        (magic & 0xff) != (expected_magic & 0xff))
      what += ": this is an idx file with " + std::to_string(magic & 0xff) + " dimensions";
    fail(path, what);
  }
  const std::size_t ndims = magic & 0xff;
  if (b.size() < 4 + 4 * ndims)
    fail(path, "truncated: header needs " + std::to_string(4 + 4 * ndims) + " bytes, file has " +
                   std::to_string(b.size()));
  for (std::size_t i = 0; i < ndims; ++i) {
    f.dims.push_back(be32(b.data() + 4 + 4 * i));
    if (f.dims.back() > uint32_t(checked::kMaxDim))
      fail(path, "dimension " + std::to_string(i) + " is " + std::to_string(f.dims.back()) +
                     ", more than " + std::to_string(checked::kMaxDim));
  }
  f.offset = 4 + 4 * ndims;
  const std::size_t have = b.size() - f.offset;
  // The element count, checked against the data actually present (so that it cannot wrap).
  const std::optional<int64_t> n = checked::product(f.dims, checked::kMaxFileElements);
  if (!n)
    fail(path, "dimensions " + dims_string(f.dims) + " hold more than " +
                   std::to_string(checked::kMaxFileElements) + " elements");
  const std::size_t count = static_cast<std::size_t>(*n);
  if (have < count)
    fail(path, std::string("truncated: expected ") + std::to_string(count) + " bytes of " +
                   (ndims == 1 ? "labels" : "pixels") + ", got " + std::to_string(have));
  if (have > count)
    fail(path, "trailing data: expected " + std::to_string(count) +
                   " bytes after the header, got " + std::to_string(have));
  return f;
}

// byte / 255 (correctly rounded division), looked up.
struct ByteToUnit {
  float v[256];
  ByteToUnit() {
    for (int i = 0; i < 256; ++i) v[i] = static_cast<float>(i) / 255.f;
  }
};
const ByteToUnit kUnit;

// Checks labels against classes (or derives classes) and fills ds.classes.
void check_labels(const std::string& path, Dataset& ds, int classes) {
  int max_label = -1;
  for (std::size_t i = 0; i < ds.labels.size(); ++i) {
    const int32_t l = ds.labels[i];
    if (l < 0 || (classes > 0 && l >= classes))
      fail(path, "label " + std::to_string(l) + " of item " + std::to_string(i) +
                     " is out of range [0, " + std::to_string(classes) + ")");
    max_label = std::max(max_label, l);
  }
  ds.classes = classes > 0 ? classes : max_label + 1;
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}
bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// "<dir>/<stem>" or "<dir>/<stem>.gz", whichever exists; empty when neither does.
std::string find_idx(const fs::path& dir, const std::string& stem) {
  if (is_file(dir / stem)) return (dir / stem).string();
  if (is_file(dir / (stem + ".gz"))) return (dir / (stem + ".gz")).string();
  return {};
}

const char* const kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
const std::vector<std::string> kFashionMnistClasses = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
const std::vector<std::string> kCifar10Classes = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

Dataset load_idx_files(const std::string& images_path, const std::string& labels_path,
                       int classes, int limit);

Dataset load_idx_dir(const fs::path& dir, bool train, int classes, int limit) {
  const std::string split = train ? "train" : "t10k";
  std::string images = find_idx(dir, split + "-images-idx3-ubyte");
  std::string labels = find_idx(dir, split + "-labels-idx1-ubyte");
  if (images.empty()) fail((dir / (split + "-images-idx3-ubyte[.gz]")).string(), "no such file");
  if (labels.empty()) fail((dir / (split + "-labels-idx1-ubyte[.gz]")).string(), "no such file");
  return checked::with_input_errors(
      "the idx files", [&] { return load_idx_files(images, labels, classes, limit); },
      [&](const std::string& m) { return DataError(images + ": " + m); });
}

}  // namespace

std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
  std::vector<uint8_t> raw = read_raw(path);
  if (raw.size() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) return gunzip(path, raw);
  return raw;
}

namespace {
// limit > 0: only the first `limit` images are converted to floats (the files are still
// checked whole, labels included).
Dataset load_idx_files(const std::string& images_path, const std::string& labels_path,
                       int classes, int limit) {
  IdxFile im = read_idx(images_path, 0x00000803, "images: unsigned bytes, 3 dimensions");
  IdxFile lb = read_idx(labels_path, 0x00000801, "labels: unsigned bytes, 1 dimension");
  if (im.dims[0] != lb.dims[0])
    fail(labels_path, "label count " + std::to_string(lb.dims[0]) + " does not match image count " +
                          std::to_string(im.dims[0]) + " of " + images_path);
  if (im.dims[1] == 0 || im.dims[2] == 0)
    fail(images_path, "images of " + std::to_string(im.dims[1]) + " x " +
                          std::to_string(im.dims[2]) + " pixels");
  Dataset ds;
  ds.n = static_cast<int>(im.dims[0]);  // each dim is at most checked::kMaxDim
  ds.c = 1;
  ds.h = static_cast<int>(im.dims[1]);
  ds.w = static_cast<int>(im.dims[2]);
  const int kept = limit > 0 ? std::min(ds.n, limit) : ds.n;
  const std::size_t total = std::size_t(kept) * ds.h * ds.w;
  ds.images.resize(total);
  const uint8_t* px = im.bytes.data() + im.offset;
  for (std::size_t i = 0; i < total; ++i) ds.images[i] = kUnit.v[px[i]];
  ds.labels.assign(lb.bytes.begin() + static_cast<std::ptrdiff_t>(lb.offset), lb.bytes.end());
  check_labels(labels_path, ds, classes);
  if (limit > 0 && ds.n > limit) {
    ds.n = limit;
    ds.labels.resize(std::size_t(limit));
  }
  ds.source = "idx:" + images_path;
  return ds;
}
}  // namespace

Dataset load_idx(const std::string& images_path, const std::string& labels_path, int classes) {
  return checked::with_input_errors(
      "the idx files", [&] { return load_idx_files(images_path, labels_path, classes, 0); },
      [&](const std::string& m) { return DataError(images_path + ": " + m); });
}

namespace {
// limit > 0: only the first `limit` records are converted (every batch is still checked).
Dataset load_cifar10_files(const std::vector<std::string>& batch_paths, int limit) {
  constexpr std::size_t kPixels = 3 * 32 * 32, kRecord = 1 + kPixels;
  if (batch_paths.empty()) throw DataError("load_cifar10: no batch files given");
  Dataset ds;
  ds.c = 3;
  ds.h = ds.w = 32;
  ds.classes = 10;
  ds.class_names = kCifar10Classes;
  for (const std::string& path : batch_paths) {
    std::vector<uint8_t> b = read_maybe_gzip(path);
    if (b.empty()) fail(path, "empty file, expected CIFAR-10 records of 3073 bytes");
    if (b.size() % kRecord != 0)
      fail(path, "truncated: " + std::to_string(b.size()) + " bytes is not a whole number of " +
                     "3073-byte CIFAR-10 records (" + std::to_string(b.size() / kRecord) +
                     " records and " + std::to_string(b.size() % kRecord) + " bytes left over)");
    const std::size_t records = b.size() / kRecord;
    const std::size_t base = ds.images.size();
    if (base + records * kPixels > std::size_t(checked::kMaxFileElements))
      fail(path, "the batches hold more than " + std::to_string(checked::kMaxFileElements) +
                     " pixels in all (the limit of a data set read into memory)");
    std::size_t keep = records;
    if (limit > 0) keep = std::min<std::size_t>(records, std::size_t(std::max(0, limit - ds.n)));
    ds.images.resize(base + keep * kPixels);
    for (std::size_t r = 0; r < records; ++r) {
      const uint8_t* rec = b.data() + r * kRecord;
      if (rec[0] >= 10)
        fail(path, "label " + std::to_string(rec[0]) + " of record " + std::to_string(r) +
                       " is out of range [0, 10) (is this CIFAR-100? its records are 3074 bytes)");
      if (r >= keep) continue;
      ds.labels.push_back(rec[0]);
      float* dst = ds.images.data() + base + r * kPixels;
      for (std::size_t i = 0; i < kPixels; ++i) dst[i] = kUnit.v[rec[1 + i]];
    }
    ds.n += static_cast<int>(keep);
  }
  ds.source =
      "cifar10:" + batch_paths.front() +
      (batch_paths.size() > 1 ? " (+" + std::to_string(batch_paths.size() - 1) + " more)" : "");
  return ds;
}
}  // namespace

Dataset load_cifar10(const std::vector<std::string>& batch_paths) {
  return checked::with_input_errors(
      "the CIFAR-10 batches", [&] { return load_cifar10_files(batch_paths, 0); },
      [&](const std::string& m) {
        return DataError((batch_paths.empty() ? std::string("cifar10") : batch_paths.front()) +
                         ": " + m);
      });
}

ImageFolderOptions ImageFolderOptions::caffe_imagenet(int crop_size) {
  ImageFolderOptions o;
  o.channels = 3;
  o.resize_h = o.resize_w = 256;
  o.crop = crop_size;
  o.mean = {104.f, 117.f, 123.f};
  o.scale = 1.f;
  o.bgr = true;
  return o;
}

Dataset load_dataset(const std::string& name_or_dir, bool train,
                     const ImageFolderOptions& image_opts) {
  if (name_or_dir == "fashion-mnist" || name_or_dir == "fashion_mnist") {
    if (!is_dir(kFashionMnistDir))
      fail(kFashionMnistDir,
           "no such directory (install the Debian package dataset-fashion-mnist)");
    Dataset ds = load_idx_dir(kFashionMnistDir, train, 10, image_opts.max_images);
    ds.class_names = kFashionMnistClasses;
    return ds;
  }
  const fs::path dir(name_or_dir);
  if (!is_dir(dir))
    fail(name_or_dir, "not a directory and not a known data set name (known: fashion-mnist)");

  // idx: either split present marks the folder as idx.
  if (!find_idx(dir, "train-images-idx3-ubyte").empty() ||
      !find_idx(dir, "t10k-images-idx3-ubyte").empty())
    return load_idx_dir(dir, train, 0, image_opts.max_images);

  // CIFAR-10 binary, directly or in the archive's cifar-10-batches-bin subfolder.
  for (const fs::path& d : {dir, dir / "cifar-10-batches-bin"}) {
    if (!is_file(d / "data_batch_1.bin") && !is_file(d / "test_batch.bin")) continue;
    std::vector<std::string> files;
    if (train) {
      for (int i = 1; i <= 5; ++i) {
        const fs::path f = d / ("data_batch_" + std::to_string(i) + ".bin");
        if (is_file(f)) files.push_back(f.string());
      }
      if (files.empty()) fail((d / "data_batch_1.bin").string(), "no such file");
    } else {
      files.push_back((d / "test_batch.bin").string());  // a missing file is reported by the reader
    }
    Dataset ds = checked::with_input_errors(
        "the CIFAR-10 batches", [&] { return load_cifar10_files(files, image_opts.max_images); },
        [&](const std::string& m) { return DataError(files.front() + ": " + m); });
    // The archive's class names, one per line, when present.
    std::ifstream meta(d / "batches.meta.txt");
    std::vector<std::string> names;
    for (std::string line; std::getline(meta, line);)
      if (!line.empty()) names.push_back(line);
    if (names.size() == 10) ds.class_names = names;
    return ds;
  }

  // Image folder, with train/ and val/ (or test/) splits or class folders directly.
  if (is_dir(dir / "train") && (is_dir(dir / "val") || is_dir(dir / "test"))) {
    if (train) return load_image_folder((dir / "train").string(), image_opts);
    return load_image_folder((dir / (is_dir(dir / "val") ? "val" : "test")).string(), image_opts);
  }
  bool has_subdir = false;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory()) has_subdir = true;
  if (has_subdir) return load_image_folder(dir.string(), image_opts);
  fail(name_or_dir,
       "no data set found: expected {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (idx), "
       "data_batch_N.bin / test_batch.bin (CIFAR-10), or class subfolders of JPEG/PNG images");
}

}  // namespace ristsim::io
