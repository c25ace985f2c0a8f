// `ristsim synth-images`: writes a synthetic ImageNet-shaped image folder (train/ and val/
// splits of class subfolders of JPEG/PNG images, deterministic from a seed), for tests and
// for measuring the data path without ImageNet (io::write_synthetic_folder).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "util/output.h"
#include "io/dataset.h"
#include "io/image.h"

namespace ristsim::cli {

int cmd_synth_images(const std::vector<std::string>& args) {
  CommandLine cl("synth-images", "--out DIR [--classes K] [--train N] [--val N] [options]",
                 "Writes a synthetic image folder shaped like ImageNet: DIR/train/CLASS/*.jpg and\n"
                 "DIR/val/CLASS/*.jpg (CLASS = n00000000, n00000001, ...), images of about --size\n"
                 "pixels a side (+- --jitter, random aspect): a class-colored gradient, shapes and\n"
                 "noise. The same seed gives the same files. DIR must not exist; it appears only\n"
                 "when every image is written. The labels carry no learnable meaning beyond the\n"
                 "class colors: the folder is for testing the data path, not for accuracy.");
  cl.options()
      ("out", po::value<std::string>()->required(), "folder to create")
      ("classes", po::value<int>()->default_value(10), "class subfolders (ImageNet: 1000)")
      ("train", po::value<int>()->default_value(10), "training images per class (0: no train/)")
      ("val", po::value<int>()->default_value(5), "validation images per class (ImageNet: 50)")
      ("size", po::value<int>()->default_value(256), "typical side in pixels")
      ("jitter", po::value<int>()->default_value(64), "each side varies by up to this much")
      ("format", po::value<std::string>()->default_value("jpeg"),
       "jpeg, png or mixed (every fifth PNG)")
      ("quality", po::value<int>()->default_value(90), "JPEG quality 1..100")
      ("seed", po::value<uint64_t>()->default_value(1), "seed")
      ("threads", po::value<int>()->default_value(0), "threads (0: all cores)")
      ("force", "replace a previous ristsim output in DIR");
  if (!cl.parse(args)) return kExitOk;
  io::SyntheticFolderOptions o;
  o.classes = cl.get<int>("classes");
  o.train_per_class = cl.get<int>("train");
  o.val_per_class = cl.get<int>("val");
  o.size = cl.get<int>("size");
  o.jitter = cl.get<int>("jitter");
  o.format = cl.get<std::string>("format");
  o.quality = cl.get<int>("quality");
  o.seed = cl.get<uint64_t>("seed");
  o.threads = cl.get<int>("threads");
  if (o.threads < 0) throw UsageError("--threads must not be negative");
  const std::string out = cl.get<std::string>("out");
  // Checked before any work and staged, like every output folder (README "Outputs").
  util::OutputDir out_dir(out, cl.has("force") ? util::Existing::replace : util::Existing::refuse,
                          "ristsim synth-images");
  const auto t0 = std::chrono::steady_clock::now();
  int64_t n = 0;
  try {
    n = io::write_synthetic_folder(out_dir.dir(), o);
    out_dir.commit();
  } catch (const io::DataError& e) {
    // Options and an existing folder are usage errors; a failed write is the job's.
    const std::string msg = e.what();
    if (msg.find("cannot write") != std::string::npos) throw JobError(msg);
    throw UsageError(msg);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("wrote %lld images in %d classes to %s (%.1f s, %.0f images/s)\n",
              static_cast<long long>(n), o.classes, out.c_str(), s, double(n) / std::max(s, 1e-9));
  return kExitOk;
}

}  // namespace ristsim::cli
