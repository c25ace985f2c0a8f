// Data set readers: labelled images as one NCHW float tensor plus int32 labels.
//
// Formats read here, each validated against its own header before a pixel is used:
//   idx          MNIST / Fashion-MNIST files, gzipped or not (detected by the gzip magic
//                1f 8b). Images: magic 0x00000803, dims n, h, w, then n*h*w bytes.
//                Labels: magic 0x00000801, dim n, then n bytes. Pixels become byte / 255.
//   CIFAR-10     binary batches (data_batch_1..5.bin, test_batch.bin): records of 1 label
//                byte + 3072 pixel bytes (1024 R, 1024 G, 1024 B, rows of 32). byte / 255.
//   image folder one subfolder per class holding JPEG/PNG files (libjpeg / libpng),
//                prepared the way Caffe prepares ImageNet: resize to a fixed size,
//                center crop, subtract a per-channel mean, multiply by a scale.
//
// Every failure (missing file, wrong magic, truncated data, count mismatch, label out of
// range, undecodable image) throws DataError with a message that starts with the file name.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "numeric/checked.h"  // InputError

namespace ristsim::io {

/// Thrown for every data problem; the message names the file and what is wrong with it.
/// An InputError: the command line exits with 2.
struct DataError : InputError {
  using InputError::InputError;
};

/// Labelled images. images holds n*c*h*w floats in NCHW order; labels holds n values in
/// [0, classes).
struct Dataset {
  int n = 0, c = 0, h = 0, w = 0, classes = 0;
  std::vector<float> images;    ///< NCHW; idx and CIFAR pixels are byte / 255
  std::vector<int32_t> labels;  ///< one per image, in [0, classes)
  std::string source;           ///< where it came from, e.g. "idx:/path/t10k-images-idx3-ubyte.gz"
  std::vector<std::string> class_names;  ///< empty when the format carries none

  /// Floats per image (c*h*w).
  std::size_t image_size() const { return std::size_t(c) * h * w; }
  /// First float of image i.
  const float* image(int i) const { return images.data() + std::size_t(i) * image_size(); }
};

/// How image folders are turned into tensors (Caffe's transform_param, applied in this
/// order): decode, convert to `channels` (1 gray or 3 color), resize to resize_h x resize_w
/// (Caffe's convert_imageset; 0 = keep the size, then all images must have the same size)
/// or, with resize_shorter > 0, so that the shorter side is resize_shorter (aspect kept,
/// torchvision's style; needs a crop), with bilinear interpolation (OpenCV's INTER_LINEAR
/// pixel-center convention, computed in double and rounded to nearest; OpenCV's fixed-point
/// arithmetic may differ by a level), center crop to crop x crop (0 = none), then
/// value = (pixel - mean[ch]) * scale, with pixel in 0..255. `bgr` stores the color channels
/// in Caffe's B, G, R order (mean is then given in that order too). Images are decoded on
/// all cores; the result does not depend on the thread count.
struct ImageFolderOptions {
  int channels = 3;
  int resize_h = 256, resize_w = 256;
  int resize_shorter = 0;  ///< > 0: shorter side to this size instead of resize_h x resize_w
  int crop = 224;
  std::array<float, 3> mean = {0.f, 0.f, 0.f};
  float scale = 1.f / 255.f;
  bool bgr = false;
  int max_images = 0;  ///< 0 = all; otherwise the first max_images in (class, file) order

  /// Caffe's ImageNet preparation (CaffeNet / GoogLeNet / SqueezeNet): 256x256, crop
  /// `crop_size`, BGR, mean (104, 117, 123), scale 1.
  static ImageFolderOptions caffe_imagenet(int crop_size = 227);
};

/// Reads an idx image file and an idx label file (each gzipped or not). classes > 0
/// checks every label against it; classes == 0 takes max(label) + 1.
Dataset load_idx(const std::string& images_path, const std::string& labels_path, int classes = 0);

/// Reads CIFAR-10 binary batch files (10 classes, 3x32x32) and concatenates them.
Dataset load_cifar10(const std::vector<std::string>& batch_paths);

/// Reads an image folder: one subfolder per class (sorted by name = class index), each
/// with .jpg/.jpeg/.png files (sorted by name). Other files are ignored.
Dataset load_image_folder(const std::string& dir, const ImageFolderOptions& opts = {});

/// Resolves a data set by name or directory:
///   "fashion-mnist"      the Debian package's files (/usr/share/datasets/fashion-mnist)
///   a directory with     {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]   -> idx
///   a directory with     data_batch_{1..5}.bin / test_batch.bin (or a cifar-10-batches-bin
///                        subfolder)                                          -> CIFAR-10
///   a directory with     train/ and val/ (or test/) class folders, or class folders
///                        directly                                            -> image folder
/// train picks the training split (train / data_batch_*), otherwise the test split.
Dataset load_dataset(const std::string& name_or_dir, bool train,
                     const ImageFolderOptions& image_opts = {});

/// The whole file, gunzipped when it starts with 1f 8b. Throws DataError.
std::vector<uint8_t> read_maybe_gzip(const std::string& path);

}  // namespace ristsim::io
