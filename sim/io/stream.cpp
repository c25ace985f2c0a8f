// Streamed data sets (DataSource in dataset.h): the in-memory source, the read-ahead wrapper,
// load_dataset's resolution for streams, and reading a piece into a Dataset.
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <filesystem>
#include <future>

#include "io/dataset.h"

namespace ristsim::io {
namespace fs = std::filesystem;

void DataSource::check_range(int first, int count) const {
  if (first < 0 || count < 0 || first > n || count > n - first)
    throw DataError(path + ": images " + std::to_string(first) + ".." +
                    std::to_string(int64_t(first) + count - 1) + " requested, the set has 0.." +
                    std::to_string(n - 1));
}

namespace {

class MemorySource final : public DataSource {
 public:
  explicit MemorySource(Dataset ds) : ds_(std::move(ds)) {
    n = ds_.n, c = ds_.c, h = ds_.h, w = ds_.w, classes = ds_.classes;
    source = ds_.source;
    const std::size_t colon = source.find(':');
    path = colon == std::string::npos ? source : source.substr(colon + 1);
    class_names = ds_.class_names;
    labels = ds_.labels;
  }
  void read(int first, int count, float* images, int32_t* labels_out) override {
    check_range(first, count);
    if (count == 0) return;
    std::memcpy(images, ds_.image(first), sizeof(float) * image_size() * std::size_t(count));
    if (labels_out) std::copy_n(ds_.labels.begin() + first, count, labels_out);
  }

 private:
  Dataset ds_;
};

class PrefetchSource final : public DataSource {
 public:
  explicit PrefetchSource(std::unique_ptr<DataSource> src) : src_(std::move(src)) {
    n = src_->n, c = src_->c, h = src_->h, w = src_->w, classes = src_->classes;
    source = src_->source;
    path = src_->path;
    class_names = src_->class_names;
    labels = src_->labels;
  }
  ~PrefetchSource() override {
    if (ahead_.valid()) ahead_.wait();
  }

  void read(int first, int count, float* images, int32_t* labels_out) override {
    check_range(first, count);
    if (ahead_.valid()) {
      ahead_.wait();
      if (first == ahead_first_ && count == ahead_count_) {
        ahead_.get();  // rethrows the read ahead's error
        std::memcpy(images, buffer_.data(), sizeof(float) * image_size() * std::size_t(count));
      } else {
        try {
          ahead_.get();
        } catch (const std::exception&) {
          // A piece nobody asked for: its error does not matter.
        }
        src_->read(first, count, images, nullptr);
      }
    } else {
      src_->read(first, count, images, nullptr);
    }
    if (labels_out) std::copy_n(labels.begin() + first, count, labels_out);
    // The next piece of the same size, in the background.
    const int next = first + count;
    if (count > 0 && next < n) {
      ahead_first_ = next;
      ahead_count_ = std::min(count, n - next);
      buffer_.resize(image_size() * std::size_t(ahead_count_));
      ahead_ = std::async(std::launch::async, [this] {
        src_->read(ahead_first_, ahead_count_, buffer_.data(), nullptr);
      });
    }
  }

 private:
  std::unique_ptr<DataSource> src_;
  std::future<void> ahead_;
  int ahead_first_ = -1, ahead_count_ = 0;
  std::vector<float> buffer_;
};

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}
bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

/// The image folder that load_dataset would read for this split, or "" when it reads another
/// format (or fails).
std::string image_folder_of(const std::string& name_or_dir, bool train) {
  if (name_or_dir == "fashion-mnist" || name_or_dir == "fashion_mnist") return {};
  const fs::path dir(name_or_dir);
  if (!is_dir(dir)) return {};
  for (const char* stem : {"train-images-idx3-ubyte", "t10k-images-idx3-ubyte"})
    if (is_file(dir / stem) || is_file(dir / (std::string(stem) + ".gz"))) return {};
  for (const fs::path& d : {dir, dir / "cifar-10-batches-bin"})
    if (is_file(d / "data_batch_1.bin") || is_file(d / "test_batch.bin")) return {};
  if (is_dir(dir / "train") && (is_dir(dir / "val") || is_dir(dir / "test")))
    return (dir / (train ? "train" : is_dir(dir / "val") ? "val" : "test")).string();
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory()) return dir.string();
  return {};
}

}  // namespace

std::unique_ptr<DataSource> memory_source(Dataset ds) {
  return std::make_unique<MemorySource>(std::move(ds));
}

std::unique_ptr<DataSource> prefetching(std::unique_ptr<DataSource> src) {
  return std::make_unique<PrefetchSource>(std::move(src));
}

bool is_image_folder_dataset(const std::string& name_or_dir) {
  return !image_folder_of(name_or_dir, false).empty();
}

std::unique_ptr<DataSource> open_dataset(const std::string& name_or_dir, bool train,
                                         const ImageFolderOptions& image_opts,
                                         const StreamOptions& stream) {
  const std::string folder = image_folder_of(name_or_dir, train);
  if (!folder.empty()) return open_image_folder(folder, image_opts, stream);
  Dataset ds = load_dataset(name_or_dir, train, image_opts);  // max_images applied there
  std::unique_ptr<DataSource> src = memory_source(std::move(ds));
  return stream.prefetch ? prefetching(std::move(src)) : std::move(src);
}

Dataset read_dataset(DataSource& src, int first, int count) {
  if (first < 0 || count < 0 || first > src.n || count > src.n - first)
    throw DataError(src.path + ": images " + std::to_string(first) + ".." +
                    std::to_string(int64_t(first) + count - 1) + " requested, the set has 0.." +
                    std::to_string(src.n - 1));
  const double need = double(count) * double(src.image_size()) * sizeof(float);
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0 && need > double(pages) * page)
    throw DataError(src.path + ": " + std::to_string(count) + " images of " +
                    std::to_string(src.c) + "x" + std::to_string(src.h) + "x" +
                    std::to_string(src.w) + " floats need " +
                    std::to_string(int64_t(need / (1 << 20))) + " MiB, more than this machine's " +
                    std::to_string(int64_t(double(pages) * page / (1 << 20))) +
                    " MiB of memory; set max_images (--max-images)");
  Dataset ds;
  ds.n = count, ds.c = src.c, ds.h = src.h, ds.w = src.w, ds.classes = src.classes;
  ds.source = src.source;
  ds.class_names = src.class_names;
  ds.images.resize(std::size_t(count) * src.image_size());
  ds.labels.resize(std::size_t(count));
  src.read(first, count, ds.images.data(), ds.labels.data());
  return ds;
}

}  // namespace ristsim::io
