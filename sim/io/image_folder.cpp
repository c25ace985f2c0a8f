// Image folders: JPEG (libjpeg) and PNG (libpng) decoding and Caffe-style preparation
// (resize, center crop, mean, scale). See ImageFolderOptions in dataset.h.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cerrno>
#include <csetjmp>
#include <cstdio>  // before jpeglib.h, which needs FILE and size_t
#include <cstring>
#include <filesystem>
#include <limits>
#include <thread>

#include <jpeglib.h>
#include <png.h>

#include "io/dataset.h"
#include "io/image.h"

namespace ristsim::io {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw DataError(path + ": " + what);
}

// Decoding stops above this size (a 16384 x 16384 image), before the pixel buffer exists.
constexpr uint64_t kMaxPixels = uint64_t(1) << 28;

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings (corrupt data libjpeg can decode past) are counted and reported by the caller
// in the DataError, not printed to stderr.
void jpeg_output_message(j_common_ptr) {}

// Returns an empty string on success, otherwise libjpeg's message. No C++ objects with
// destructors live across setjmp in this function.
std::string decode_jpeg_c(std::FILE* f, int channels, Image* img) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_error_exit;
  err.mgr.output_message = jpeg_output_message;
  err.message[0] = 0;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return err.message[0] ? err.message : "unknown libjpeg error";
  }
  jpeg_create_decompress(&cinfo);
  jpeg_stdio_src(&cinfo, f);
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  if (uint64_t(cinfo.output_width) * cinfo.output_height > kMaxPixels) {
    jpeg_destroy_decompress(&cinfo);
    return "image of " + std::to_string(cinfo.output_width) + "x" +
           std::to_string(cinfo.output_height) + " pixels is larger than the 2^28-pixel limit";
  }
  img->w = static_cast<int>(cinfo.output_width);
  img->h = static_cast<int>(cinfo.output_height);
  img->c = channels;
  img->pixels.resize(std::size_t(img->w) * img->h * channels);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = img->pixels.data() + std::size_t(cinfo.output_scanline) * img->w * channels;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  // libjpeg reports corrupt-but-decodable data as warnings; treat them as errors.
  const long warnings = err.mgr.num_warnings;
  if (warnings > 0) {
    (*cinfo.err->format_message)(reinterpret_cast<j_common_ptr>(&cinfo), err.message);
    jpeg_destroy_decompress(&cinfo);
    return std::string("corrupt JPEG data: ") + err.message;
  }
  jpeg_destroy_decompress(&cinfo);
  return {};
}

std::string lower_ext(const fs::path& p) {
  std::string e = p.extension().string();
  for (char& ch : e) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return e;
}

}  // namespace

Image decode_image(const std::string& path, int channels) {
  if (channels != 1 && channels != 3)
    fail(path, "decode_image: channels must be 1 or 3, got " + std::to_string(channels));
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail(path, "no such file or cannot open");
  unsigned char magic[8] = {};
  const std::size_t got = std::fread(magic, 1, sizeof magic, f);
  std::rewind(f);
  Image img;
  if (got >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff) {
    std::string err = decode_jpeg_c(f, channels, &img);
    std::fclose(f);
    if (!err.empty()) fail(path, "cannot decode JPEG: " + err);
    return img;
  }
  std::fclose(f);
  if (got >= 8 && png_sig_cmp(magic, 0, 8) == 0) {
    png_image pi{};
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&pi, path.c_str()))
      fail(path, std::string("cannot decode PNG: ") + pi.message);
    if (uint64_t(pi.width) * pi.height > kMaxPixels) {
      png_image_free(&pi);
      fail(path, "image of " + std::to_string(pi.width) + "x" + std::to_string(pi.height) +
                     " pixels is larger than the 2^28-pixel limit");
    }
    pi.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    img.w = static_cast<int>(pi.width);
    img.h = static_cast<int>(pi.height);
    img.c = channels;
    img.pixels.resize(PNG_IMAGE_SIZE(pi));
    // Transparent images are composited over black (background == NULL).
    if (!png_image_finish_read(&pi, nullptr, img.pixels.data(), 0, nullptr)) {
      std::string msg = pi.message;
      png_image_free(&pi);
      fail(path, "cannot decode PNG: " + msg);
    }
    return img;
  }
  fail(path, "not a JPEG or PNG file (unknown magic bytes)");
}

void write_png(const std::string& path, const Image& img) {
  if (img.c != 1 && img.c != 3) fail(path, "write_png: channels must be 1 or 3");
  if (img.pixels.size() != std::size_t(img.w) * img.h * img.c)
    fail(path, "write_png: pixel buffer size does not match w*h*c");
  png_image pi{};
  pi.version = PNG_IMAGE_VERSION;
  pi.width = static_cast<png_uint_32>(img.w);
  pi.height = static_cast<png_uint_32>(img.h);
  pi.format = img.c == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  if (!png_image_write_to_file(&pi, path.c_str(), 0, img.pixels.data(), 0, nullptr))
    fail(path, std::string("cannot write PNG: ") + pi.message);
}

namespace {

// Returns an empty string on success, otherwise libjpeg's message. No C++ objects with
// destructors live across setjmp in this function.
std::string encode_jpeg_c(std::FILE* f, const Image& img, int quality) {
  jpeg_compress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_error_exit;
  err.mgr.output_message = jpeg_output_message;
  err.message[0] = 0;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&cinfo);
    return err.message[0] ? err.message : "unknown libjpeg error";
  }
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, f);
  cinfo.image_width = static_cast<JDIMENSION>(img.w);
  cinfo.image_height = static_cast<JDIMENSION>(img.h);
  cinfo.input_components = img.c;
  cinfo.in_color_space = img.c == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(img.pixels.data() +
                                        std::size_t(cinfo.next_scanline) * img.w * img.c);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return {};
}

}  // namespace

void write_jpeg(const std::string& path, const Image& img, int quality) {
  if (img.c != 1 && img.c != 3) fail(path, "write_jpeg: channels must be 1 or 3");
  if (img.w < 1 || img.h < 1 || img.pixels.size() != std::size_t(img.w) * img.h * img.c)
    fail(path, "write_jpeg: pixel buffer size does not match w*h*c");
  if (quality < 1 || quality > 100) fail(path, "write_jpeg: quality must be in 1..100");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) fail(path, std::string("cannot create: ") + std::strerror(errno));
  std::string err = encode_jpeg_c(f, img, quality);
  if (std::fflush(f) != 0 && err.empty()) err = std::strerror(errno);
  if (std::fclose(f) != 0 && err.empty()) err = std::strerror(errno);
  if (!err.empty()) {
    std::remove(path.c_str());
    fail(path, "cannot write JPEG: " + err);
  }
}

Image resize_bilinear(const Image& src, int out_h, int out_w) {
  Image dst;
  dst.h = out_h;
  dst.w = out_w;
  dst.c = src.c;
  dst.pixels.resize(std::size_t(out_h) * out_w * src.c);
  const double sy = double(src.h) / out_h, sx = double(src.w) / out_w;
  for (int y = 0; y < out_h; ++y) {
    // Pixel centers: source coordinate of destination center y + 0.5, clamped at the border.
    double fy = (y + 0.5) * sy - 0.5;
    fy = std::clamp(fy, 0.0, double(src.h - 1));
    const int y0 = static_cast<int>(std::floor(fy));
    const int y1 = std::min(y0 + 1, src.h - 1);
    const double wy = fy - y0;
    for (int x = 0; x < out_w; ++x) {
      double fx = (x + 0.5) * sx - 0.5;
      fx = std::clamp(fx, 0.0, double(src.w - 1));
      const int x0 = static_cast<int>(std::floor(fx));
      const int x1 = std::min(x0 + 1, src.w - 1);
      const double wx = fx - x0;
      for (int ch = 0; ch < src.c; ++ch) {
        auto at = [&](int yy, int xx) {
          return double(src.pixels[(std::size_t(yy) * src.w + xx) * src.c + ch]);
        };
        const double v = (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1)) +
                         wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1));
        dst.pixels[(std::size_t(y) * out_w + x) * src.c + ch] =
            static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
  return dst;
}

namespace {

/// An image folder read on demand: the sorted file list and labels, decoding in parallel.
class ImageFolderSource final : public DataSource {
 public:
  ImageFolderSource(const std::string& dir, const ImageFolderOptions& o, const StreamOptions& so)
      : dir_(dir), o_(o) {
    if (o.channels != 1 && o.channels != 3)
      fail(dir, "image folder options: channels must be 1 or 3, got " + std::to_string(o.channels));
    if (o.resize_h < 0 || o.resize_w < 0 || o.crop < 0 || o.resize_shorter < 0)
      fail(dir, "image folder options: negative resize or crop size");
    if (o.max_images < 0) fail(dir, "image folder options: negative max_images");
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) fail(dir, "no such directory");

    std::vector<fs::path> class_dirs;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_directory()) class_dirs.push_back(e.path());
    std::sort(class_dirs.begin(), class_dirs.end());
    if (class_dirs.empty()) fail(dir, "no class subfolders");

    std::vector<std::vector<std::string>> per_class(class_dirs.size());
    std::size_t total = 0, longest = 0;
    for (std::size_t k = 0; k < class_dirs.size(); ++k) {
      class_names.push_back(class_dirs[k].filename().string());
      std::vector<fs::path> in_class;
      for (const auto& e : fs::directory_iterator(class_dirs[k], ec)) {
        const std::string ext = lower_ext(e.path());
        if (e.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png"))
          in_class.push_back(e.path());
      }
      std::sort(in_class.begin(), in_class.end());
      for (const fs::path& p : in_class) per_class[k].push_back(p.string());
      total += in_class.size();
      longest = std::max(longest, in_class.size());
    }
    if (total == 0) fail(dir, "no .jpg/.jpeg/.png files in the class subfolders");
    if (total > std::size_t(std::numeric_limits<int>::max()))
      fail(dir, std::to_string(total) + " images: more than 2^31 - 1");
    // The order: by class then name, or interleaved (round j takes file j of every class).
    auto add = [&](std::size_t k, std::size_t j) {
      files_.push_back(std::move(per_class[k][j]));
      labels.push_back(static_cast<int32_t>(k));
    };
    if (o.interleave) {
      for (std::size_t j = 0; j < longest; ++j)
        for (std::size_t k = 0; k < per_class.size(); ++k)
          if (j < per_class[k].size()) add(k, j);
    } else {
      for (std::size_t k = 0; k < per_class.size(); ++k)
        for (std::size_t j = 0; j < per_class[k].size(); ++j) add(k, j);
    }
    if (o.max_images > 0 && files_.size() > std::size_t(o.max_images)) {
      files_.resize(std::size_t(o.max_images));
      labels.resize(std::size_t(o.max_images));
    }
    n = static_cast<int>(files_.size());
    classes = static_cast<int>(class_dirs.size());
    c = o.channels;
    source = "images:" + dir;
    path = dir;
    const int hw = so.threads > 0 ? so.threads : int(std::thread::hardware_concurrency());
    threads_ = std::clamp(hw, 1, 16);

    // The output size: the crop, else the resize, else the first image's size (which every
    // image must then have).
    if (o.crop > 0) {
      h = w = o.crop;
    } else {
      if (o.resize_shorter > 0)
        fail(dir, "resize_shorter without crop gives images of different sizes; set crop");
      const Image first = decoded(0);
      h = first.h;
      w = first.w;
    }
  }

  void read(int first, int count, float* images, int32_t* labels_out) override {
    check_range(first, count);
    if (labels_out) std::copy_n(labels.begin() + first, count, labels_out);
    // Each image lands in its own slot, so the result does not depend on the thread count, and
    // the error reported is the one of the first bad file in order.
    std::vector<std::string> errors(static_cast<std::size_t>(count));
    std::atomic<int> next{0};
    auto work = [&] {
      for (int i = next++; i < count; i = next++) {
        try {
          store(first + i, decoded(std::size_t(first + i)), images + std::size_t(i) * image_size());
        } catch (const std::exception& e) {
          errors[std::size_t(i)] = e.what();
        }
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads_ && t < count; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    for (const std::string& e : errors)
      if (!e.empty()) throw DataError(e);
  }

 private:
  /// Decode + resize of image i; the crop size check and the tensor write are store's.
  Image decoded(std::size_t i) const {
    Image img = decode_image(files_[i], o_.channels);
    if (o_.resize_shorter > 0) {
      const bool h_short = img.h <= img.w;
      const int s = o_.resize_shorter;
      const int other = static_cast<int>(
          std::lround(double(h_short ? img.w : img.h) * s / (h_short ? img.h : img.w)));
      const int nh = h_short ? s : other, nw = h_short ? other : s;
      if (img.h != nh || img.w != nw) img = resize_bilinear(img, nh, nw);
    } else if (o_.resize_h > 0 && o_.resize_w > 0) {
      if (img.h != o_.resize_h || img.w != o_.resize_w)
        img = resize_bilinear(img, o_.resize_h, o_.resize_w);
    }
    return img;
  }

  /// Center crop, channel order, mean and scale of image i into dst (image_size() floats).
  void store(int i, const Image& img, float* dst) const {
    const std::string& path = files_[std::size_t(i)];
    if (o_.crop == 0 && (img.h != h || img.w != w))
      fail(path, "size " + std::to_string(img.w) + "x" + std::to_string(img.h) +
                     " differs from the first image's " + std::to_string(w) + "x" +
                     std::to_string(h) + " and no resize is set");
    if (h > img.h || w > img.w)
      fail(path, "crop " + std::to_string(o_.crop) + " is larger than the image (" +
                     std::to_string(img.w) + "x" + std::to_string(img.h) + ")");
    // Caffe's test-phase crop: offset (size - crop) / 2, rounded down.
    const int oy = (img.h - h) / 2, ox = (img.w - w) / 2;
    for (int ch = 0; ch < o_.channels; ++ch) {
      const int src_ch = (o_.bgr && o_.channels == 3) ? 2 - ch : ch;
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const uint8_t p = img.pixels[(std::size_t(y + oy) * img.w + (x + ox)) * img.c + src_ch];
          *dst++ = (float(p) - o_.mean[ch]) * o_.scale;
        }
    }
  }

  std::string dir_;
  ImageFolderOptions o_;
  std::vector<std::string> files_;
  int threads_ = 1;
};

}  // namespace

std::unique_ptr<DataSource> open_image_folder(const std::string& dir,
                                              const ImageFolderOptions& opts,
                                              const StreamOptions& stream) {
  std::unique_ptr<DataSource> src = std::make_unique<ImageFolderSource>(dir, opts, stream);
  return stream.prefetch ? prefetching(std::move(src)) : std::move(src);
}

Dataset load_image_folder(const std::string& dir, const ImageFolderOptions& o) {
  StreamOptions so;
  so.prefetch = false;
  ImageFolderSource src(dir, o, so);
  return read_dataset(src, 0, src.n);
}

}  // namespace ristsim::io
