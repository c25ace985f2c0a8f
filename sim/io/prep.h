// How an image folder is prepared, as a user gives it: the CLI's data options (--preprocess,
// --resize, --crop, --mean, --scale, --channels, --order, --max-images; sim/cli/data_options.h)
// and a sweep file's per-model keys of the same names (sim/config/sweep_yaml.h). One
// conversion to io::ImageFolderOptions and one validation for both (docs/data.md).
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "io/dataset.h"

namespace ristsim::io {

/// The settings given (unset: the default). Keys, as prep_keys() names them: preprocess,
/// resize, crop, mean, scale, channels, order, max_images.
struct PrepSettings {
  std::optional<std::string> preprocess;  ///< default, caffe_imagenet or none
  std::optional<std::string> resize;      ///< N, HxW, shorter=N or none
  std::optional<int> crop;                ///< 0..16384 (0: none)
  std::optional<std::string> mean;        ///< one value or three, comma-separated
  std::optional<double> scale;            ///< finite, non-zero
  std::optional<int> channels;            ///< 1 or 3
  std::optional<std::string> order;       ///< interleaved or class
  std::optional<int> max_images;          ///< >= 0 (0: all)

  /// The image-folder keys given (all but max_images, which applies to every format).
  std::vector<std::string> image_keys_given() const;
  /// "preprocess=caffe_imagenet crop=200" for the keys given ("" when none).
  std::string text() const;
};

/// The keys of PrepSettings, in their order.
const std::vector<std::string>& prep_keys();

/// A bad setting: `key` is the one to blame (a prep_keys() name), what() the message.
struct PrepError : std::invalid_argument {
  PrepError(std::string k, const std::string& msg)
      : std::invalid_argument(msg), key(std::move(k)) {}
  std::string key;
};

/// The validated options. `name` spells a key as the user wrote it (the CLI: "--max-images",
/// a sweep file: "models[].max_images"); messages use it. `data` (a data set name or folder):
/// image-folder keys on a set that exists and is not an image folder are an error (idx and
/// CIFAR-10 sets are used as stored). Throws PrepError.
ImageFolderOptions image_folder_options(const PrepSettings& s, const std::string& data,
                                        const std::function<std::string(const std::string&)>& name);

}  // namespace ristsim::io
