// The shared data options (data_options.h).
#include "cli/data_options.h"

#include <algorithm>

#include "io/prep.h"

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

DataOptions data_options(const CommandLine& cl, const std::string& data) {
  DataOptions d;
  // The preparation: the conversion and checks a sweep file's model keys share (io/prep.h).
  io::PrepSettings ps;
  if (cl.has("preprocess")) ps.preprocess = cl.get<std::string>("preprocess");
  if (cl.has("resize")) ps.resize = cl.get<std::string>("resize");
  if (cl.has("crop")) ps.crop = cl.get<int>("crop");
  if (cl.has("mean")) ps.mean = cl.get<std::string>("mean");
  if (cl.has("scale")) ps.scale = cl.get<float>("scale");
  if (cl.has("channels")) ps.channels = cl.get<int>("channels");
  if (cl.has("order")) ps.order = cl.get<std::string>("order");
  if (cl.has("max-images")) ps.max_images = cl.get<int>("max-images");
  try {
    d.image = io::image_folder_options(ps, data, [](const std::string& key) {
      std::string o = "--" + key;
      std::replace(o.begin(), o.end(), '_', '-');
      return o;
    });
  } catch (const io::PrepError& e) {
    throw UsageError(e.what());
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
