// 8-bit images in memory (interleaved HWC) and the pieces of Caffe-style preparation
// that the image-folder reader uses: decoding, bilinear resize, PNG writing (for tests
// and for dumping inputs).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ristsim::io {

/// An 8-bit image, h rows of w pixels of c interleaved channels (RGB or gray).
struct Image {
  int h = 0, w = 0, c = 0;
  std::vector<uint8_t> pixels;  ///< (y * w + x) * c + channel
};

/// Decodes a JPEG or PNG file (by its magic bytes) into `channels` (1 = gray, 3 = RGB)
/// channels. Throws DataError naming the file on any failure.
Image decode_image(const std::string& path, int channels = 3);

/// Writes a 1- or 3-channel image as PNG. Throws DataError on failure.
void write_png(const std::string& path, const Image& img);

/// Writes a 1- or 3-channel image as baseline JPEG (libjpeg, `quality` 1..100). Throws
/// DataError on failure.
void write_jpeg(const std::string& path, const Image& img, int quality = 90);

/// Bilinear resize with OpenCV's INTER_LINEAR convention (source x = (x + 0.5) * sx - 0.5,
/// clamped to the border), results rounded to nearest.
Image resize_bilinear(const Image& src, int out_h, int out_w);

/// A synthetic ImageNet-shaped folder, for tests and measurements of the data path:
/// DIR/train/CLASS/*.jpg and DIR/val/CLASS/*.jpg, CLASS = n00000000, n00000001, ... (ImageNet's
/// synset style, so that name order is class order). Each image is a function of (seed, split,
/// class, index) alone: a smooth two-color gradient whose colors depend on the class, a few
/// random rectangles and disks, and noise, of size `size` +- `jitter` in each dimension
/// (random aspect), so that resize and crop have work to do.
struct SyntheticFolderOptions {
  int classes = 10;
  int train_per_class = 10;  ///< 0: no train/ split (the folder is then val/ only)
  int val_per_class = 5;
  int size = 256;
  int jitter = 64;  ///< each dimension in [size - jitter, size + jitter]
  uint64_t seed = 1;
  /// "jpeg", "png", or "mixed" (every fifth image PNG, the rest JPEG)
  std::string format = "jpeg";
  int quality = 90;  ///< JPEG quality
  int threads = 0;   ///< 0: all cores
};

/// Writes the folder's train/ and val/ into `dir`, an empty folder that the caller stages
/// (util::OutputDir: nothing is left behind on failure). Returns the number of images written. Throws
/// DataError naming the folder for bad options or a failed write.
int64_t write_synthetic_folder(const std::string& dir, const SyntheticFolderOptions& o);

}  // namespace ristsim::io
