// The shared data options (data_options.h).
#include "cli/data_options.h"

#include <cmath>
#include <filesystem>
#include <sstream>
#include <thread>
#include <vector>

namespace ristsim::cli {

void add_data_options(CommandLine& cl, bool streaming) {
  cl.options()
      ("preprocess", po::value<std::string>(),
       "image folders: default (256x256, crop 224, RGB, x/255), caffe_imagenet (Caffe's "
       "ImageNet models: 256x256, crop 227, BGR, mean 104,117,123, scale 1) or none (as stored, "
       "RGB, x/255; all images the same size)")
      ("resize", po::value<std::string>(),
       "image folders: N or HxW (both sides), shorter=N (shorter side to N, aspect kept; needs a "
       "crop) or none")
      ("crop", po::value<int>(), "image folders: center crop to NxN (0: none; caffe_imagenet: 227)")
      ("mean", po::value<std::string>(),
       "image folders: per-channel mean subtracted from 0..255 pixels, one value or three in the "
       "stored channel order (B,G,R with caffe_imagenet)")
      ("scale", po::value<float>(),
       "image folders: factor after the mean (default 1/255; caffe_imagenet 1)")
      ("channels", po::value<int>(), "image folders: 3 (color) or 1 (gray)")
      ("order", po::value<std::string>(),
       "image folders: interleaved (default: image k of every class before image k+1, so that "
       "the first N images cover the classes) or class (class by class)")
      ("max-images", po::value<int>(), "read at most the first N images of each split (0: all)")
      ("data-threads", po::value<int>()->default_value(0), "image decoding threads (0: all cores)");
  if (streaming)
    cl.options()("data-load", po::value<std::string>()->default_value("stream"),
                 "stream (batch by batch, bounded memory, decoded ahead) or memory (each split "
                 "read whole first)");
}

namespace {

std::vector<float> parse_floats(const std::string& opt, const std::string& text) {
  std::vector<float> v;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    try {
      std::size_t used = 0;
      const float f = std::stof(item, &used);
      if (used != item.size() || !std::isfinite(f)) throw std::invalid_argument(item);
      v.push_back(f);
    } catch (const std::exception&) {
      throw UsageError("--" + opt + ": '" + item + "' is not a number");
    }
  }
  return v;
}

int parse_size(const std::string& opt, const std::string& text) {
  try {
    std::size_t used = 0;
    const int v = std::stoi(text, &used);
    if (used != text.size() || v < 1 || v > 16384) throw std::invalid_argument(text);
    return v;
  } catch (const std::exception&) {
    throw UsageError("--" + opt + ": '" + text + "' is not a size in 1..16384");
  }
}

}  // namespace

DataOptions data_options(const CommandLine& cl, const std::string& data) {
  DataOptions d;
  io::ImageFolderOptions& im = d.image;
  const char* image_only[] = {"preprocess", "resize", "crop", "mean", "scale", "channels", "order"};
  bool image_given = false;
  for (const char* name : image_only) image_given = image_given || cl.has(name);
  std::error_code ec;
  const bool exists = data == "fashion-mnist" || data == "fashion_mnist" ||
                      std::filesystem::is_directory(data, ec);
  // (A data set that does not exist is reported by the reader, with its reason.)
  if (image_given && exists && !io::is_image_folder_dataset(data)) {
    std::string given;
    for (const char* name : image_only)
      if (cl.has(name)) given += (given.empty() ? "--" : ", --") + std::string(name);
    throw UsageError(given + ": image-folder options, but '" + data +
                     "' is not an image folder (idx and CIFAR-10 sets are used as stored)");
  }
  if (cl.has("preprocess")) {
    const std::string p = cl.get<std::string>("preprocess");
    if (p == "caffe_imagenet") {
      im = io::ImageFolderOptions::caffe_imagenet(227);
    } else if (p == "none") {
      im.resize_h = im.resize_w = 0;
      im.crop = 0;
    } else if (p != "default") {
      throw UsageError("--preprocess must be default, caffe_imagenet or none, not '" + p + "'");
    }
  }
  if (cl.has("resize")) {
    const std::string r = cl.get<std::string>("resize");
    im.resize_shorter = 0;
    if (r == "none") {
      im.resize_h = im.resize_w = 0;
    } else if (r.rfind("shorter=", 0) == 0) {
      im.resize_shorter = parse_size("resize", r.substr(8));
      im.resize_h = im.resize_w = 0;
    } else if (const std::size_t x = r.find('x'); x != std::string::npos) {
      im.resize_h = parse_size("resize", r.substr(0, x));
      im.resize_w = parse_size("resize", r.substr(x + 1));
    } else {
      im.resize_h = im.resize_w = parse_size("resize", r);
    }
  }
  if (cl.has("crop")) {
    const int c = cl.get<int>("crop");
    if (c < 0 || c > 16384) throw UsageError("--crop must be in 0..16384");
    im.crop = c;
  }
  if (im.resize_shorter > 0 && im.crop == 0)
    throw UsageError("--resize shorter=N gives images of different sizes: set --crop");
  if (im.crop > 0 && im.resize_h > 0 && (im.crop > im.resize_h || im.crop > im.resize_w))
    throw UsageError("--crop " + std::to_string(im.crop) + " is larger than the resize " +
                     std::to_string(im.resize_h) + "x" + std::to_string(im.resize_w));
  if (im.crop > 0 && im.resize_shorter > 0 && im.crop > im.resize_shorter)
    throw UsageError("--crop " + std::to_string(im.crop) + " is larger than the shorter side " +
                     std::to_string(im.resize_shorter));
  if (cl.has("channels")) {
    const int c = cl.get<int>("channels");
    if (c != 1 && c != 3) throw UsageError("--channels must be 1 or 3");
    im.channels = c;
  }
  if (cl.has("mean")) {
    const std::vector<float> m = parse_floats("mean", cl.get<std::string>("mean"));
    if (m.size() == 1) im.mean = {m[0], m[0], m[0]};
    else if (m.size() == 3 && im.channels == 3) im.mean = {m[0], m[1], m[2]};
    else
      throw UsageError(
          "--mean takes one value" +
          std::string(im.channels == 3 ? " or three (one per channel)" : " (gray images)") +
          ", got " + std::to_string(m.size()));
  }
  if (cl.has("scale")) {
    const float s = cl.get<float>("scale");
    if (!std::isfinite(s) || s == 0) throw UsageError("--scale must be a finite non-zero number");
    im.scale = s;
  }
  const std::string order = cl.has("order") ? cl.get<std::string>("order") : "interleaved";
  if (order != "interleaved" && order != "class")
    throw UsageError("--order must be interleaved or class, not '" + order + "'");
  im.interleave = order == "interleaved";
  if (cl.has("max-images")) {
    const int m = cl.get<int>("max-images");
    if (m < 0) throw UsageError("--max-images must not be negative");
    im.max_images = m;
  }
  const int threads = cl.get<int>("data-threads");
  if (threads < 0 || threads > 256) throw UsageError("--data-threads must be in 0..256");
  d.stream.threads = threads;
  if (cl.has("data-load")) {
    const std::string l = cl.get<std::string>("data-load");
    if (l != "stream" && l != "memory")
      throw UsageError("--data-load must be stream or memory, not '" + l + "'");
    d.in_memory = l == "memory";
  }
  return d;
}

std::unique_ptr<io::DataSource> open_data(const std::string& data, bool train,
                                          const DataOptions& o) {
  if (!o.in_memory) return io::open_dataset(data, train, o.image, o.stream);
  return io::memory_source(load_data(data, train, o));
}

io::Dataset load_data(const std::string& data, bool train, const DataOptions& o) {
  io::StreamOptions s = o.stream;
  s.prefetch = false;
  std::unique_ptr<io::DataSource> src = io::open_dataset(data, train, o.image, s);
  return io::read_dataset(*src, 0, src->n);
}

}  // namespace ristsim::cli
