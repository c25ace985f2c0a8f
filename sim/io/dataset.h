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
#include <memory>
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
  int max_images = 0;  ///< 0 = all; otherwise the first max_images in the order below
  /// The order of the images: false = by class, then by file name (class 0's files first);
  /// true = interleaved, file k of every class before file k + 1 of any (class order within a
  /// round), so that the first N images (max_images, a range analysis over the first images)
  /// cover the classes evenly.
  bool interleave = false;

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
/// image_opts.max_images > 0 keeps the first max_images images of any format (idx and
/// CIFAR-10 files are still checked whole; only the images kept are converted to floats).
Dataset load_dataset(const std::string& name_or_dir, bool train,
                     const ImageFolderOptions& image_opts = {});

// ---------------------------------------------------------------------------------------------
// Streaming: data sets read piece by piece, so that memory stays bounded (ImageNet's 50,000
// validation images at 3x227x227 are 31 GB of floats).

/// How a streamed data set is read.
struct StreamOptions {
  int threads = 0;       ///< image decoding threads (0: all cores, at most 16)
  bool prefetch = true;  ///< after each read, read the next piece of the same size ahead, in
                         ///< the background (one piece of memory more)
};

/// A labelled data set read in pieces. The labels (known without decoding) and the shape are
/// there from the start; images come from read(). An image folder holds only its file list and
/// decodes on demand (in parallel, plus the prefetched piece); idx and CIFAR-10 sets, at most
/// 200 MB of floats, are read whole into memory and handed out from there. The pixels are
/// exactly those load_dataset gives.
class DataSource {
 public:
  virtual ~DataSource() = default;
  int n = 0, c = 0, h = 0, w = 0, classes = 0;
  std::string source;                    ///< as Dataset::source
  std::vector<std::string> class_names;  ///< as Dataset::class_names
  std::vector<int32_t> labels;           ///< all n labels, in [0, classes)
  std::string path;                      ///< the folder or file that messages name

  std::size_t image_size() const { return std::size_t(c) * h * w; }
  /// Writes images [first, first + count) as NCHW floats to `images` (count * image_size()
  /// floats) and, when `labels_out` is not null, their labels. Throws DataError naming the
  /// file (of several bad files, the first in order) or the range when it is outside [0, n).
  /// Not for concurrent calls on one source.
  virtual void read(int first, int count, float* images, int32_t* labels_out) = 0;

 protected:
  /// Checks [first, first + count) against [0, n); throws DataError naming `source`.
  void check_range(int first, int count) const;
};

/// A source over a data set in memory (moved in).
std::unique_ptr<DataSource> memory_source(Dataset ds);

/// Wraps a source so that each read(first, count) is followed by a background read of the
/// next `count` images (up to n) into a buffer, which the next read takes when it asks for
/// exactly that piece (sequential evaluation); any other read goes to the source directly.
/// An error of a read ahead is thrown by the read that asks for its piece, not before.
std::unique_ptr<DataSource> prefetching(std::unique_ptr<DataSource> src);

/// An image folder as a stream (the same file list, order, checks and pixels as
/// load_image_folder, which reads it whole). Lists the files and decodes the first image (its
/// size fixes h and w when there is no crop) before it returns.
std::unique_ptr<DataSource> open_image_folder(const std::string& dir,
                                              const ImageFolderOptions& opts = {},
                                              const StreamOptions& stream = {});

/// load_dataset's resolution (same names and folder layouts), streamed: image folders are
/// decoded on demand, other formats are read whole (memory_source); image_opts.max_images
/// limits every format to its first images. With
/// stream.prefetch the source reads ahead in the background.
std::unique_ptr<DataSource> open_dataset(const std::string& name_or_dir, bool train,
                                         const ImageFolderOptions& image_opts = {},
                                         const StreamOptions& stream = {});

/// True when load_dataset / open_dataset would read `name_or_dir` as an image folder (the
/// preprocessing options apply to it only).
bool is_image_folder_dataset(const std::string& name_or_dir);

/// Images [first, first + count) of a source as a Dataset in memory. Throws DataError (naming
/// the source) when they would need more than this machine's memory.
Dataset read_dataset(DataSource& src, int first, int count);

/// The whole file, gunzipped when it starts with 1f 8b. Throws DataError.
std::vector<uint8_t> read_maybe_gzip(const std::string& path);

}  // namespace ristsim::io
