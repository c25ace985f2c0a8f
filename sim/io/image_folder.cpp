// Image folders: JPEG (libjpeg) and PNG (libpng) decoding and Caffe-style preparation
// (resize, center crop, mean, scale). See ImageFolderOptions in dataset.h.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <csetjmp>
#include <cstdio>  // before jpeglib.h, which needs FILE and size_t
#include <filesystem>
#include <thread>

#include <jpeglib.h>
#include <png.h>
#include <unistd.h>

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

Dataset load_image_folder(const std::string& dir, const ImageFolderOptions& o) {
  if (o.channels != 1 && o.channels != 3)
    fail(dir, "image folder options: channels must be 1 or 3, got " + std::to_string(o.channels));
  if (o.resize_h < 0 || o.resize_w < 0 || o.crop < 0 || o.resize_shorter < 0)
    fail(dir, "image folder options: negative resize or crop size");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(dir, "no such directory");

  Dataset ds;
  std::vector<fs::path> class_dirs;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory()) class_dirs.push_back(e.path());
  std::sort(class_dirs.begin(), class_dirs.end());
  if (class_dirs.empty()) fail(dir, "no class subfolders");

  std::vector<std::pair<fs::path, int>> files;
  for (std::size_t k = 0; k < class_dirs.size(); ++k) {
    ds.class_names.push_back(class_dirs[k].filename().string());
    std::vector<fs::path> in_class;
    for (const auto& e : fs::directory_iterator(class_dirs[k], ec)) {
      const std::string ext = lower_ext(e.path());
      if (e.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png"))
        in_class.push_back(e.path());
    }
    std::sort(in_class.begin(), in_class.end());
    for (auto& p : in_class) files.emplace_back(p, static_cast<int>(k));
  }
  if (files.empty()) fail(dir, "no .jpg/.jpeg/.png files in the class subfolders");
  if (o.max_images > 0 && files.size() > std::size_t(o.max_images)) files.resize(o.max_images);

  ds.classes = static_cast<int>(class_dirs.size());
  ds.c = o.channels;
  for (const auto& f : files) ds.labels.push_back(f.second);

  // Decode + resize of image i; the crop size check and the tensor write follow.
  auto decoded = [&](std::size_t i) {
    const std::string path = files[i].first.string();
    Image img = decode_image(path, o.channels);
    if (o.resize_shorter > 0) {
      const bool h_short = img.h <= img.w;
      const int s = o.resize_shorter;
      const int other = static_cast<int>(
          std::lround(double(h_short ? img.w : img.h) * s / (h_short ? img.h : img.w)));
      const int nh = h_short ? s : other, nw = h_short ? other : s;
      if (img.h != nh || img.w != nw) img = resize_bilinear(img, nh, nw);
    } else if (o.resize_h > 0 && o.resize_w > 0) {
      if (img.h != o.resize_h || img.w != o.resize_w)
        img = resize_bilinear(img, o.resize_h, o.resize_w);
    }
    return img;
  };
  // The output size: the crop, else the resize, else the first image's size (which every
  // image must then have).
  Image first = decoded(0);
  ds.h = o.crop > 0 ? o.crop : first.h;
  ds.w = o.crop > 0 ? o.crop : first.w;
  if (o.crop == 0 && o.resize_shorter > 0)
    fail(dir, "resize_shorter without crop gives images of different sizes; set crop");
  ds.n = static_cast<int>(files.size());
  const double need = double(files.size()) * ds.image_size() * sizeof(float);
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0 && need > double(pages) * page)
    fail(dir, std::to_string(files.size()) + " images of " + std::to_string(ds.c) + "x" +
                  std::to_string(ds.h) + "x" + std::to_string(ds.w) + " floats need " +
                  std::to_string(int64_t(need / (1 << 20))) + " MiB, more than this machine's " +
                  std::to_string(int64_t(double(pages) * page / (1 << 20))) +
                  " MiB of memory; set max_images");
  ds.images.resize(files.size() * ds.image_size());

  auto store = [&](std::size_t i, const Image& img) {
    const std::string path = files[i].first.string();
    if (o.crop == 0 && (img.h != ds.h || img.w != ds.w))
      fail(path, "size " + std::to_string(img.w) + "x" + std::to_string(img.h) +
                     " differs from the first image's " + std::to_string(ds.w) + "x" +
                     std::to_string(ds.h) + " and no resize is set");
    if (ds.h > img.h || ds.w > img.w)
      fail(path, "crop " + std::to_string(o.crop) + " is larger than the image (" +
                     std::to_string(img.w) + "x" + std::to_string(img.h) + ")");
    // Caffe's test-phase crop: offset (size - crop) / 2, rounded down.
    const int oy = (img.h - ds.h) / 2, ox = (img.w - ds.w) / 2;
    float* dst = ds.images.data() + i * ds.image_size();
    for (int ch = 0; ch < o.channels; ++ch) {
      const int src_ch = (o.bgr && o.channels == 3) ? 2 - ch : ch;
      for (int y = 0; y < ds.h; ++y)
        for (int x = 0; x < ds.w; ++x) {
          const uint8_t p = img.pixels[(std::size_t(y + oy) * img.w + (x + ox)) * img.c + src_ch];
          *dst++ = (float(p) - o.mean[ch]) * o.scale;
        }
    }
  };
  store(0, first);

  // The rest on all cores; each image lands in its own slot, so the result does not depend
  // on the thread count, and the error reported is the one of the first bad file in order.
  std::vector<std::string> errors(files.size());
  std::atomic<std::size_t> next{1};
  auto work = [&] {
    for (std::size_t i = next++; i < files.size(); i = next++) {
      try {
        store(i, decoded(i));
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    }
  };
  const unsigned threads =
      std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(), 16u));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads && t < files.size(); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (const std::string& e : errors)
    if (!e.empty()) throw DataError(e);
  ds.source = "images:" + dir;
  return ds;
}

}  // namespace ristsim::io
