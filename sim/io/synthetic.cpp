// Synthetic ImageNet-shaped image folders (write_synthetic_folder in image.h): deterministic
// from a seed, one image at a time from (seed, split, class, index), written in parallel.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "io/dataset.h"
#include "io/image.h"

namespace ristsim::io {
namespace fs = std::filesystem;

namespace {

/// SplitMix64: a small, well-mixed generator, enough for test pictures.
struct Mix {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % uint64_t(n)); }
  double unit() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }
};

Image synthetic_image(const SyntheticFolderOptions& o, int split, int cls, int index) {
  Mix r{o.seed * 0x100000001b3ull ^ (uint64_t(split) << 56) ^ (uint64_t(cls) << 28) ^
        uint64_t(index)};
  r.next();
  Image img;
  img.h = o.size - o.jitter + r.below(2 * o.jitter + 1);
  img.w = o.size - o.jitter + r.below(2 * o.jitter + 1);
  img.c = 3;
  img.pixels.resize(std::size_t(img.h) * img.w * 3);
  // Two class colors (the same for every image of the class) with a per-image tilt.
  Mix rc{o.seed ^ (0xc1a55ull << 32) ^ uint64_t(cls)};
  double a[3], b[3];
  for (int ch = 0; ch < 3; ++ch) a[ch] = 30 + rc.below(196), b[ch] = 30 + rc.below(196);
  const double angle = r.unit() * 6.283185307179586;
  const double dx = std::cos(angle) / img.w, dy = std::sin(angle) / img.h;
  for (int y = 0; y < img.h; ++y)
    for (int x = 0; x < img.w; ++x) {
      const double t = std::clamp(0.5 + (x - img.w / 2) * dx + (y - img.h / 2) * dy, 0.0, 1.0);
      uint8_t* p = &img.pixels[(std::size_t(y) * img.w + x) * 3];
      for (int ch = 0; ch < 3; ++ch) p[ch] = static_cast<uint8_t>(a[ch] + (b[ch] - a[ch]) * t);
    }
  // A few rectangles and disks of random colors.
  const int shapes = 2 + r.below(5);
  for (int s = 0; s < shapes; ++s) {
    const int cx = r.below(img.w), cy = r.below(img.h);
    const int rad = 4 + r.below(std::max(1, std::min(img.h, img.w) / 4));
    const uint8_t col[3] = {uint8_t(r.below(256)), uint8_t(r.below(256)), uint8_t(r.below(256))};
    const bool disk = r.below(2) == 0;
    for (int y = std::max(0, cy - rad); y < std::min(img.h, cy + rad); ++y)
      for (int x = std::max(0, cx - rad); x < std::min(img.w, cx + rad); ++x) {
        if (disk && (x - cx) * (x - cx) + (y - cy) * (y - cy) > rad * rad) continue;
        std::copy(col, col + 3, &img.pixels[(std::size_t(y) * img.w + x) * 3]);
      }
  }
  // Mild noise (+-8 levels), as a camera's.
  for (uint8_t& p : img.pixels)
    p = static_cast<uint8_t>(std::clamp(int(p) + r.below(17) - 8, 0, 255));
  return img;
}

}  // namespace

int64_t write_synthetic_folder(const std::string& dir, const SyntheticFolderOptions& o) {
  auto bad = [&](const std::string& what) { throw DataError(dir + ": " + what); };
  if (o.classes < 1 || o.classes > 100000) bad("classes must be in 1..100000");
  if (o.train_per_class < 0 || o.val_per_class < 0 || o.train_per_class > 1000000 ||
      o.val_per_class > 1000000)
    bad("images per class must be in 0..1000000");
  if (o.val_per_class == 0) bad("the val split needs at least one image per class");
  if (o.size < 8 || o.size > 4096) bad("size must be in 8..4096");
  if (o.jitter < 0 || o.jitter >= o.size) bad("jitter must be in 0..size-1");
  if (o.format != "jpeg" && o.format != "png" && o.format != "mixed")
    bad("format must be jpeg, png or mixed, not '" + o.format + "'");
  if (o.quality < 1 || o.quality > 100) bad("quality must be in 1..100");
  const fs::path tmp = dir;  // an empty folder: the caller stages it (util::OutputDir)

  struct Job {
    int split, cls, index;
  };
  std::vector<Job> jobs;
  const int per[2] = {o.train_per_class, o.val_per_class};
  const char* split_name[2] = {"train", "val"};
  try {
    for (int split = 0; split < 2; ++split) {
      if (per[split] == 0) continue;
      for (int k = 0; k < o.classes; ++k) {
        char cls[16];
        std::snprintf(cls, sizeof cls, "n%08d", k);
        fs::create_directories(tmp / split_name[split] / cls);
        for (int j = 0; j < per[split]; ++j) jobs.push_back({split, k, j});
      }
    }
    std::vector<std::string> errors(jobs.size());
    std::atomic<std::size_t> next{0};
    auto work = [&] {
      for (std::size_t i = next++; i < jobs.size(); i = next++) {
        const Job& jb = jobs[i];
        try {
          const Image img = synthetic_image(o, jb.split, jb.cls, jb.index);
          const bool png = o.format == "png" || (o.format == "mixed" && jb.index % 5 == 4);
          char name[48];
          std::snprintf(name, sizeof name, "n%08d/img_%07d.%s", jb.cls, jb.index,
                        png ? "png" : "jpg");
          const std::string path = (tmp / split_name[jb.split] / name).string();
          if (png) write_png(path, img);
          else write_jpeg(path, img, o.quality);
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      }
    };
    const int hw = o.threads > 0 ? o.threads : int(std::thread::hardware_concurrency());
    std::vector<std::thread> pool;
    for (int t = 1; t < std::clamp(hw, 1, 64); ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    for (const std::string& e : errors)
      if (!e.empty()) throw DataError(e);
  } catch (const fs::filesystem_error& e) {
    bad(std::string("cannot write: ") + e.code().message());
  }
  return static_cast<int64_t>(jobs.size());
}

}  // namespace ristsim::io
