// The streamed data path (io::DataSource, engine::SampleStream, flow::stream_of): an image
// folder read in pieces, in parallel and ahead gives the bits load_image_folder gives; the
// quantization flow on Fashion-MNIST gives the same top-1 and the same report streamed as in
// memory (and a planted off-by-one in the stream is caught: *_bad); errors name their file and
// come with their piece; the synthetic folder generator is deterministic.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include "engine/train.h"
#include "flow/flow.h"
#include "flow/report.h"
#include "io/dataset.h"
#include "io/image.h"

namespace fs = std::filesystem;
using namespace ristsim;

namespace {

struct TempDir {
  fs::path p;
  TempDir() {
    p = fs::temp_directory_path() /
        ("ristsim_stream_" + std::to_string(getpid()) + "_" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(p);
    fs::create_directories(p);
  }
  ~TempDir() { fs::remove_all(p); }
};

std::vector<char> bytes_of(const fs::path& f) {
  std::ifstream in(f, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

io::SyntheticFolderOptions small_folder() {
  io::SyntheticFolderOptions o;
  o.classes = 3;
  o.train_per_class = 5;
  o.val_per_class = 3;
  o.size = 40;
  o.jitter = 10;
  o.format = "mixed";
  o.seed = 7;
  return o;
}

/// Reads the whole source in pieces of `piece` images.
std::vector<float> read_in_pieces(io::DataSource& src, int piece, std::vector<int32_t>* labels) {
  std::vector<float> out(std::size_t(src.n) * src.image_size());
  labels->assign(std::size_t(src.n), -1);
  for (int first = 0; first < src.n; first += piece) {
    const int k = std::min(piece, src.n - first);
    src.read(first, k, out.data() + std::size_t(first) * src.image_size(), labels->data() + first);
  }
  return out;
}

}  // namespace

// Caffe's ImageNet preparation (resize 256 -> here 32, crop, BGR, mean, scale 1) of a folder of
// JPEGs and PNGs of different sizes: every piece size, with and without read-ahead, on 1 and 3
// threads, gives exactly the floats and labels of load_image_folder.
TEST(Stream, image_folder_pieces_match_load) {
  TempDir t;
  io::write_synthetic_folder((t.p / "set").string(), small_folder());
  io::ImageFolderOptions o = io::ImageFolderOptions::caffe_imagenet(28);
  o.resize_h = o.resize_w = 32;
  for (bool interleave : {false, true}) {
    o.interleave = interleave;
    const io::Dataset want = io::load_image_folder((t.p / "set/train").string(), o);
    ASSERT_EQ(want.n, 15);
    ASSERT_EQ(want.c, 3);
    ASSERT_EQ(want.h, 28);
    for (int i = 0; i < want.n; ++i)  // the two orders: 0,0,0,0,0,1,.. and 0,1,2,0,1,2,..
      EXPECT_EQ(want.labels[std::size_t(i)], interleave ? i % 3 : i / 5) << i;
    for (int threads : {1, 3})
      for (bool prefetch : {false, true})
        for (int piece : {1, 4, 15}) {
          io::StreamOptions so;
          so.threads = threads;
          so.prefetch = prefetch;
          auto src = io::open_dataset((t.p / "set").string(), true, o, so);
          ASSERT_EQ(src->n, want.n);
          std::vector<int32_t> labels;
          const std::vector<float> got = read_in_pieces(*src, piece, &labels);
          EXPECT_EQ(labels, want.labels);
          ASSERT_EQ(got.size(), want.images.size());
          EXPECT_EQ(std::memcmp(got.data(), want.images.data(), got.size() * sizeof(float)), 0)
              << "threads " << threads << " prefetch " << prefetch << " piece " << piece;
        }
  }
  // max_images takes the first images of the order; out-of-range reads are refused.
  o.max_images = 4;
  auto src = io::open_dataset((t.p / "set").string(), false, o);
  EXPECT_EQ(src->n, 4);
  EXPECT_EQ(src->labels, (std::vector<int32_t>{0, 1, 2, 0}));
  std::vector<float> buf(5 * src->image_size());
  EXPECT_THROW(src->read(2, 3, buf.data(), nullptr), io::DataError);
}

// A bad file is reported (by name) by the read whose piece holds it, also when it was read
// ahead; the pieces before it are delivered.
TEST(Stream, bad_file_reported_with_its_piece) {
  TempDir t;
  io::write_synthetic_folder((t.p / "set").string(), small_folder());
  const fs::path bad = t.p / "set/val/n00000001/img_0000001.jpg";
  std::ofstream(bad, std::ios::binary | std::ios::trunc) << "not an image";
  io::ImageFolderOptions o;
  o.resize_h = o.resize_w = 32;
  o.crop = 24;
  o.interleave = false;  // class order: the bad file is image 3 + 1 = 4
  auto src = io::open_dataset((t.p / "set").string(), false, o);
  std::vector<float> buf(2 * src->image_size());
  src->read(0, 2, buf.data(), nullptr);
  src->read(2, 2, buf.data(), nullptr);  // its successor [4, 6) is now read ahead
  try {
    src->read(4, 2, buf.data(), nullptr);
    FAIL() << "no error";
  } catch (const io::DataError& e) {
    EXPECT_NE(std::string(e.what()).find(bad.string() + ": not a JPEG or PNG file"),
              std::string::npos)
        << e.what();
  }
  // The whole set in memory: the same message.
  EXPECT_THROW(io::load_image_folder((t.p / "set/val").string(), o), io::DataError);
}

// The generator: the same seed writes the same files, another seed other pixels; bad options
// are refused before anything is written.
TEST(Stream, synthetic_folder_is_deterministic) {
  TempDir t;
  io::SyntheticFolderOptions o = small_folder();
  EXPECT_EQ(io::write_synthetic_folder((t.p / "a").string(), o), 24);
  o.threads = 1;
  io::write_synthetic_folder((t.p / "b").string(), o);
  o.seed = 8;
  io::write_synthetic_folder((t.p / "c").string(), o);
  int files = 0, differ = 0;
  for (const auto& e : fs::recursive_directory_iterator(t.p / "a")) {
    if (!e.is_regular_file()) continue;
    const fs::path rel = fs::relative(e.path(), t.p / "a");
    EXPECT_EQ(bytes_of(e.path()), bytes_of(t.p / "b" / rel)) << rel;
    differ += bytes_of(e.path()) != bytes_of(t.p / "c" / rel);
    ++files;
  }
  EXPECT_EQ(files, 24);
  EXPECT_EQ(differ, 24);
  // Sizes vary around `size`, and every fifth image is a PNG.
  const io::Image a = io::decode_image((t.p / "a/train/n00000000/img_0000000.jpg").string());
  const io::Image b = io::decode_image((t.p / "a/train/n00000000/img_0000004.png").string());
  EXPECT_GE(a.h, 30);
  EXPECT_LE(a.h, 50);
  EXPECT_TRUE(a.h != b.h || a.w != b.w);
  // Bad options are refused before anything is written (the CLI stages the folder itself:
  // util::OutputDir refuses an existing one and removes a failed one).
  o.format = "gif";
  EXPECT_THROW(io::write_synthetic_folder((t.p / "d").string(), o), io::DataError);
  EXPECT_FALSE(fs::exists(t.p / "d"));
}

namespace {

/// Ristretto's flow on lenet as `ristsim quantize` runs it (range analysis over the first
/// images, category search on the end of the training split, test check), as report.json.
std::string quantize_report(const engine::SampleStream& train, const engine::SampleStream& test) {
  engine::NetOptions no;
  no.batch = 100;
  no.input_shape = {1, 28, 28};
  no.with_loss = true;
  no.phase = engine::Phase::test;
  const std::string model = std::string(RISTSIM_SOURCE_DIR) + "/models/lenet_fmnist.onnx";
  std::unique_ptr<engine::Net> net = flow::load_model(model, no);
  flow::QuantizeReport rep;
  rep.ranges = flow::analyze_ranges(*net, train, 200, 100);
  const engine::SampleStream search = flow::slice(train, train.n - 500, 500);
  flow::Scorer scorer(*net, rep.ranges, search, 100, 1);
  flow::SearchOptions so;
  so.margin = 0.01;
  rep.result = flow::search_category(scorer, flow::slice(test, 0, 500), so);
  rep.model = model;
  rep.data = "fashion-mnist";
  rep.granularity = "category";
  rep.range_images = 200;
  rep.search_images = 500;
  rep.test_images = 500;
  rep.arch = flow::plan_arch(rep.result.plan, rep.ranges, "lenet_dynamic_fixed", 1);
  rep.evaluations = scorer.evaluations();
  // The report prints rounded figures; the top-1 values are compared to the last bit too.
  char exact[160];
  std::snprintf(exact, sizeof exact, "top-1 %a %a %a %a\n", rep.result.baseline_search,
                rep.result.baseline_test, rep.result.quantized_search, rep.result.quantized_test);
  return flow::report_json(rep) + exact;
}

/// A source with a planted bug: every read starts one image late (the classic off-by-one of a
/// piece offset).
class OffByOne final : public io::DataSource {
 public:
  explicit OffByOne(io::DataSource& s) : s_(s) {
    n = s.n, c = s.c, h = s.h, w = s.w, classes = s.classes;
    labels = s.labels;
  }
  void read(int first, int count, float* images, int32_t* labels_out) override {
    const int f = std::min(first + 1, n - count);
    s_.read(f, count, images, nullptr);
    if (labels_out) std::copy_n(labels.begin() + first, count, labels_out);
  }

 private:
  io::DataSource& s_;
};

bool have_fashion_mnist() { return fs::exists("/usr/share/datasets/fashion-mnist"); }

/// Fashion-MNIST's first 1,000 training and 1,000 test images, read once per process.
const io::Dataset& fmnist(bool train) {
  static const io::Dataset sets[2] = {
      [] {
        io::Dataset d = io::load_dataset("fashion-mnist", false);
        d.n = 1000;
        d.images.resize(std::size_t(d.n) * d.image_size());
        d.labels.resize(std::size_t(d.n));
        return d;
      }(),
      [] {
        io::Dataset d = io::load_dataset("fashion-mnist", true);
        d.n = 1000;
        d.images.resize(std::size_t(d.n) * d.image_size());
        d.labels.resize(std::size_t(d.n));
        return d;
      }()};
  return sets[train ? 1 : 0];
}

/// The same images as a streamed source: a copy behind the read-ahead wrapper, which is what
/// io::open_dataset makes of an idx set.
std::unique_ptr<io::DataSource> fmnist_stream(bool train) {
  return io::prefetching(io::memory_source(fmnist(train)));
}

}  // namespace

// The streamed quantization flow is today's in-memory flow bit for bit: same top-1 figures
// (to the last bit), same report (ranges, plan, formats).
TEST(StreamVsMemory, lenet_fashion_mnist_same_report) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const std::string in_memory =
      quantize_report(flow::samples_of(fmnist(true)), flow::samples_of(fmnist(false)));
  auto train_src = fmnist_stream(true), test_src = fmnist_stream(false);
  const std::string streamed =
      quantize_report(flow::stream_of(*train_src), flow::stream_of(*test_src));
  EXPECT_EQ(streamed, in_memory);
  EXPECT_NE(in_memory.find("\"quantized\""), std::string::npos) << in_memory;
}

// The comparison above catches a planted off-by-one in the stream.
TEST(StreamVsMemory, lenet_fashion_mnist_off_by_one_bad) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const std::string in_memory =
      quantize_report(flow::samples_of(fmnist(true)), flow::samples_of(fmnist(false)));
  auto train_src = fmnist_stream(true), test_src = fmnist_stream(false);
  OffByOne bad_train(*train_src), bad_test(*test_src);
  const std::string streamed =
      quantize_report(flow::stream_of(bad_train), flow::stream_of(bad_test));
  EXPECT_NE(streamed, in_memory);
}
