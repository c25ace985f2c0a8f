// The shared image-folder preparation settings (prep.h).
#include "io/prep.h"

#include <cmath>
#include <filesystem>
#include <sstream>

namespace ristsim::io {

namespace {

std::vector<float> parse_floats(const std::string& key, const std::string& shown,
                                const std::string& text) {
  std::vector<float> v;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    try {
      std::size_t used = 0;
      const float f = std::stof(item, &used);
      if (used != item.size() || !std::isfinite(f)) throw std::invalid_argument(item);
      v.push_back(f);
    } catch (const std::exception&) {
      throw PrepError(key, shown + ": '" + item + "' is not a number");
    }
  }
  return v;
}

int parse_size(const std::string& key, const std::string& shown, const std::string& text) {
  try {
    std::size_t used = 0;
    const int v = std::stoi(text, &used);
    if (used != text.size() || v < 1 || v > 16384) throw std::invalid_argument(text);
    return v;
  } catch (const std::exception&) {
    throw PrepError(key, shown + ": '" + text + "' is not a size in 1..16384");
  }
}

}  // namespace

const std::vector<std::string>& prep_keys() {
  static const std::vector<std::string> keys = {"preprocess", "resize",   "crop",  "mean",
                                                "scale",      "channels", "order", "max_images"};
  return keys;
}

std::vector<std::string> PrepSettings::image_keys_given() const {
  std::vector<std::string> k;
  if (preprocess) k.push_back("preprocess");
  if (resize) k.push_back("resize");
  if (crop) k.push_back("crop");
  if (mean) k.push_back("mean");
  if (scale) k.push_back("scale");
  if (channels) k.push_back("channels");
  if (order) k.push_back("order");
  return k;
}

std::string PrepSettings::text() const {
  std::ostringstream s;
  auto put = [&](const char* key, const auto& v) {
    if (v) s << (s.tellp() > 0 ? " " : "") << key << "=" << *v;
  };
  put("preprocess", preprocess);
  put("resize", resize);
  put("crop", crop);
  put("mean", mean);
  put("scale", scale);
  put("channels", channels);
  put("order", order);
  put("max_images", max_images);
  return s.str();
}

ImageFolderOptions image_folder_options(
    const PrepSettings& s, const std::string& data,
    const std::function<std::string(const std::string&)>& name) {
  ImageFolderOptions im;
  const std::vector<std::string> given = s.image_keys_given();
  std::error_code ec;
  const bool exists =
      data == "fashion-mnist" || data == "fashion_mnist" || std::filesystem::is_directory(data, ec);
  // (A data set that does not exist is reported by the reader, with its reason.)
  if (!given.empty() && exists && !is_image_folder_dataset(data)) {
    std::string list;
    for (const std::string& k : given) list += (list.empty() ? "" : ", ") + name(k);
    throw PrepError(given.front(), list + ": image-folder options, but '" + data +
                                       "' is not an image folder (idx and CIFAR-10 sets are used "
                                       "as stored)");
  }
  if (s.preprocess) {
    const std::string& p = *s.preprocess;
    if (p == "caffe_imagenet") {
      im = ImageFolderOptions::caffe_imagenet(227);
    } else if (p == "none") {
      im.resize_h = im.resize_w = 0;
      im.crop = 0;
    } else if (p != "default") {
      throw PrepError(
          "preprocess",
          name("preprocess") + " must be default, caffe_imagenet or none, not '" + p + "'");
    }
  }
  if (s.resize) {
    const std::string& r = *s.resize;
    const std::string shown = name("resize");
    im.resize_shorter = 0;
    if (r == "none") {
      im.resize_h = im.resize_w = 0;
    } else if (r.rfind("shorter=", 0) == 0) {
      im.resize_shorter = parse_size("resize", shown, r.substr(8));
      im.resize_h = im.resize_w = 0;
    } else if (const std::size_t x = r.find('x'); x != std::string::npos) {
      im.resize_h = parse_size("resize", shown, r.substr(0, x));
      im.resize_w = parse_size("resize", shown, r.substr(x + 1));
    } else {
      im.resize_h = im.resize_w = parse_size("resize", shown, r);
    }
  }
  if (s.crop) {
    if (*s.crop < 0 || *s.crop > 16384)
      throw PrepError("crop", name("crop") + " must be in 0..16384");
    im.crop = *s.crop;
  }
  if (im.resize_shorter > 0 && im.crop == 0)
    throw PrepError("resize", name("resize") + " shorter=N gives images of different sizes: set " +
                                  name("crop"));
  if (im.crop > 0 && im.resize_h > 0 && (im.crop > im.resize_h || im.crop > im.resize_w))
    throw PrepError(s.crop ? "crop" : "resize",
                    name("crop") + " " + std::to_string(im.crop) + " is larger than the resize " +
                        std::to_string(im.resize_h) + "x" + std::to_string(im.resize_w));
  if (im.crop > 0 && im.resize_shorter > 0 && im.crop > im.resize_shorter)
    throw PrepError("crop", name("crop") + " " + std::to_string(im.crop) +
                                " is larger than the shorter side " +
                                std::to_string(im.resize_shorter));
  if (s.channels) {
    if (*s.channels != 1 && *s.channels != 3)
      throw PrepError("channels", name("channels") + " must be 1 or 3");
    im.channels = *s.channels;
  }
  if (s.mean) {
    const std::vector<float> m = parse_floats("mean", name("mean"), *s.mean);
    if (m.size() == 1)
      im.mean = {m[0], m[0], m[0]};
    else if (m.size() == 3 && im.channels == 3)
      im.mean = {m[0], m[1], m[2]};
    else
      throw PrepError("mean", name("mean") + " takes one value" +
                                  std::string(im.channels == 3 ? " or three (one per channel)"
                                                               : " (gray images)") +
                                  ", got " + std::to_string(m.size()));
  }
  if (s.scale) {
    if (!std::isfinite(*s.scale) || *s.scale == 0)
      throw PrepError("scale", name("scale") + " must be a finite non-zero number");
    im.scale = static_cast<float>(*s.scale);
  }
  const std::string order = s.order ? *s.order : "interleaved";
  if (order != "interleaved" && order != "class")
    throw PrepError("order", name("order") + " must be interleaved or class, not '" + order + "'");
  im.interleave = order == "interleaved";
  if (s.max_images) {
    if (*s.max_images < 0)
      throw PrepError("max_images", name("max_images") + " must not be negative");
    im.max_images = *s.max_images;
  }
  return im;
}

}  // namespace ristsim::io
