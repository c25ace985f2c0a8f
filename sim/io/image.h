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

/// Bilinear resize with OpenCV's INTER_LINEAR convention (source x = (x + 0.5) * sx - 0.5,
/// clamped to the border), results rounded to nearest.
Image resize_bilinear(const Image& src, int out_h, int out_w);

}  // namespace ristsim::io
