// Data readers: the real Fashion-MNIST files, and small generated idx / CIFAR-10 / image
// folder files, valid and corrupted, written to a fresh temporary directory per test.
#include <gtest/gtest.h>

#include <jpeglib.h>
#include <zlib.h>
#include <cstdio>  // before jpeglib.h
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>

#include "io/dataset.h"
#include "io/image.h"

namespace fs = std::filesystem;
using ristsim::io::DataError;
using ristsim::io::Dataset;
using ristsim::io::Image;
using ristsim::io::ImageFolderOptions;

namespace {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("ristsim_io_" + std::to_string(rd()) + "_" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path operator/(const std::string& s) const { return path_ / s; }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_bytes(const fs::path& p, const std::vector<uint8_t>& b) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void write_gz(const fs::path& p, const std::vector<uint8_t>& b) {
  gzFile f = gzopen(p.string().c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, b.data(), static_cast<unsigned>(b.size())), int(b.size()));
  gzclose(f);
}

void put_be32(std::vector<uint8_t>& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

std::vector<uint8_t> idx_images(uint32_t n, uint32_t h, uint32_t w, uint8_t first = 0) {
  std::vector<uint8_t> b;
  put_be32(b, 0x803);
  put_be32(b, n);
  put_be32(b, h);
  put_be32(b, w);
  for (uint32_t i = 0; i < n * h * w; ++i) b.push_back(static_cast<uint8_t>(first + i));
  return b;
}

std::vector<uint8_t> idx_labels(const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> b;
  put_be32(b, 0x801);
  put_be32(b, static_cast<uint32_t>(labels.size()));
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

// Expects a DataError whose message contains every fragment.
template <class F>
void expect_data_error(F&& f, const std::vector<std::string>& fragments) {
  try {
    f();
    ADD_FAILURE() << "no DataError thrown";
  } catch (const DataError& e) {
    const std::string msg = e.what();
    for (const auto& frag : fragments)
      EXPECT_NE(msg.find(frag), std::string::npos) << "message: " << msg << "\nmissing: " << frag;
  }
}

const char* kFm = "/usr/share/datasets/fashion-mnist";

}  // namespace

TEST(FashionMnist, test_split) {
  if (!fs::exists(kFm)) GTEST_SKIP() << kFm << " not installed";
  Dataset ds = ristsim::io::load_dataset("fashion-mnist", false);
  EXPECT_EQ(ds.n, 10000);
  EXPECT_EQ(ds.c, 1);
  EXPECT_EQ(ds.h, 28);
  EXPECT_EQ(ds.w, 28);
  EXPECT_EQ(ds.classes, 10);
  ASSERT_EQ(ds.images.size(), 10000u * 784u);
  ASSERT_EQ(ds.labels.size(), 10000u);
  const std::vector<int32_t> first = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
  EXPECT_EQ(std::vector<int32_t>(ds.labels.begin(), ds.labels.begin() + 10), first);
  std::vector<int> per_class(10, 0);
  for (int32_t l : ds.labels) ++per_class[l];
  EXPECT_EQ(per_class, std::vector<int>(10, 1000));
  // First image: byte sum 33456, maximum 255, center pixel (14, 14) = 110 (checked with
  // Python's gzip module on the same file).
  double sum = 0;
  float mx = 0;
  for (int i = 0; i < 784; ++i) {
    sum += ds.images[i] * 255.0;
    mx = std::max(mx, ds.images[i]);
  }
  EXPECT_NEAR(sum, 33456.0, 1e-2);  // 784 float products, each within 2^-24 relative
  EXPECT_EQ(mx, 1.0f);
  EXPECT_EQ(ds.images[14 * 28 + 14], 110.f / 255.f);
  EXPECT_EQ(ds.class_names.at(9), "Ankle boot");
  EXPECT_NE(ds.source.find("t10k-images-idx3-ubyte.gz"), std::string::npos);
}

// max_images: the first images, bit for bit those of the whole split, and no more floats.
TEST(FashionMnist, max_images_keeps_the_first_images) {
  if (!fs::exists(kFm)) GTEST_SKIP() << kFm << " not installed";
  const Dataset all = ristsim::io::load_dataset("fashion-mnist", false);
  ristsim::io::ImageFolderOptions o;
  o.max_images = 123;
  const Dataset ds = ristsim::io::load_dataset("fashion-mnist", false, o);
  EXPECT_EQ(ds.n, 123);
  ASSERT_EQ(ds.images.size(), 123u * 784u);
  ASSERT_EQ(ds.labels.size(), 123u);
  EXPECT_TRUE(std::equal(ds.images.begin(), ds.images.end(), all.images.begin()));
  EXPECT_TRUE(std::equal(ds.labels.begin(), ds.labels.end(), all.labels.begin()));
  EXPECT_EQ(ds.classes, 10);
}

TEST(FashionMnist, train_split) {
  if (!fs::exists(kFm)) GTEST_SKIP() << kFm << " not installed";
  Dataset ds = ristsim::io::load_dataset("fashion-mnist", true);
  EXPECT_EQ(ds.n, 60000);
  EXPECT_EQ(ds.images.size(), 60000u * 784u);
  const std::vector<int32_t> first = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
  EXPECT_EQ(std::vector<int32_t>(ds.labels.begin(), ds.labels.begin() + 10), first);
}

TEST(Idx, plain_and_gzip_read_the_same) {
  TempDir t;
  write_bytes(t / "im", idx_images(3, 2, 2, 250));  // bytes 250..255, 0..5: wraps
  write_bytes(t / "lb", idx_labels({2, 0, 1}));
  write_gz(t / "im.gz", idx_images(3, 2, 2, 250));
  write_gz(t / "lb.gz", idx_labels({2, 0, 1}));
  Dataset a = ristsim::io::load_idx((t / "im").string(), (t / "lb").string());
  Dataset b = ristsim::io::load_idx((t / "im.gz").string(), (t / "lb.gz").string());
  EXPECT_EQ(a.n, 3);
  EXPECT_EQ(a.c, 1);
  EXPECT_EQ(a.h, 2);
  EXPECT_EQ(a.w, 2);
  EXPECT_EQ(a.classes, 3);  // max label + 1
  EXPECT_EQ(a.labels, (std::vector<int32_t>{2, 0, 1}));
  ASSERT_EQ(a.images.size(), 12u);
  EXPECT_EQ(a.images[0], 250.f / 255.f);
  EXPECT_EQ(a.images[5], 1.f);
  EXPECT_EQ(a.images[6], 0.f);
  EXPECT_EQ(a.images[11], 5.f / 255.f);
  EXPECT_EQ(a.images, b.images);
  EXPECT_EQ(a.labels, b.labels);
}

TEST(Idx, missing_file) {
  TempDir t;
  write_bytes(t / "lb", idx_labels({0}));
  const std::string p = (t / "nope-images").string();
  expect_data_error([&] { ristsim::io::load_idx(p, (t / "lb").string()); }, {p + ": no such file"});
}

TEST(Idx, wrong_magic) {
  TempDir t;
  write_bytes(t / "im", idx_images(1, 2, 2));
  write_bytes(t / "lb", idx_labels({0}));
  // Labels and images swapped: each has the other's magic.
  const std::string lb = (t / "lb").string(), im = (t / "im").string();
  expect_data_error([&] { ristsim::io::load_idx(lb, im); },
                    {lb + ": wrong magic number 0x00000801, expected 0x00000803"});
  std::vector<uint8_t> junk = {'P', 'K', 3, 4, 0, 0, 0, 0};
  write_bytes(t / "zip", junk);
  expect_data_error([&] { ristsim::io::load_idx((t / "zip").string(), lb); },
                    {"zip: wrong magic number 0x504b0304"});
}

TEST(Idx, truncated_pixels) {
  TempDir t;
  std::vector<uint8_t> im = idx_images(3, 2, 2);
  im.resize(im.size() - 7);  // 12 pixel bytes expected, 5 left
  write_bytes(t / "im", im);
  write_gz(t / "im.gz", im);
  write_bytes(t / "lb", idx_labels({0, 1, 2}));
  for (const char* name : {"im", "im.gz"}) {
    const std::string p = (t / name).string();
    expect_data_error([&] { ristsim::io::load_idx(p, (t / "lb").string()); },
                      {p + ": truncated: expected 12 bytes of pixels, got 5"});
  }
}

TEST(Idx, truncated_header_and_labels) {
  TempDir t;
  write_bytes(t / "im", idx_images(2, 2, 2));
  std::vector<uint8_t> head = idx_images(2, 2, 2);
  head.resize(9);
  write_bytes(t / "short", head);
  expect_data_error([&] { ristsim::io::load_idx((t / "short").string(), "x"); },
                    {"short: truncated: header needs 16 bytes, file has 9"});
  std::vector<uint8_t> lb = idx_labels({0, 1});
  lb.pop_back();
  write_bytes(t / "lb", lb);
  expect_data_error([&] { ristsim::io::load_idx((t / "im").string(), (t / "lb").string()); },
                    {"lb: truncated: expected 2 bytes of labels, got 1"});
}

TEST(Idx, truncated_gzip_stream) {
  TempDir t;
  write_gz(t / "full.gz", idx_images(50, 8, 8));
  std::ifstream in(t / "full.gz", std::ios::binary);
  std::vector<uint8_t> z((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  z.resize(z.size() / 2);
  write_bytes(t / "cut.gz", z);
  write_bytes(t / "lb", idx_labels(std::vector<uint8_t>(50, 0)));
  expect_data_error([&] { ristsim::io::load_idx((t / "cut.gz").string(), (t / "lb").string()); },
                    {"cut.gz: truncated gzip stream"});
  z[12] ^= 0xff;  // corrupt the deflate data instead (still cut; either error names the file)
  write_bytes(t / "bad.gz", z);
  expect_data_error([&] { ristsim::io::load_idx((t / "bad.gz").string(), (t / "lb").string()); },
                    {"bad.gz: "});
}

TEST(Idx, label_count_mismatch) {
  TempDir t;
  write_bytes(t / "im", idx_images(3, 2, 2));
  write_bytes(t / "lb", idx_labels({0, 1}));
  const std::string lb = (t / "lb").string();
  expect_data_error([&] { ristsim::io::load_idx((t / "im").string(), lb); },
                    {lb + ": label count 2 does not match image count 3"});
}

TEST(Idx, label_out_of_range) {
  TempDir t;
  write_bytes(t / "im", idx_images(3, 2, 2));
  write_bytes(t / "lb", idx_labels({0, 10, 2}));
  const std::string lb = (t / "lb").string();
  expect_data_error([&] { ristsim::io::load_idx((t / "im").string(), lb, 10); },
                    {lb + ": label 10 of item 1 is out of range [0, 10)"});
}

TEST(Idx, trailing_data) {
  TempDir t;
  std::vector<uint8_t> im = idx_images(1, 2, 2);
  im.push_back(7);
  write_bytes(t / "im", im);
  write_bytes(t / "lb", idx_labels({0}));
  expect_data_error([&] { ristsim::io::load_idx((t / "im").string(), (t / "lb").string()); },
                    {"im: trailing data: expected 4 bytes after the header, got 5"});
}

TEST(LoadDataset, idx_directory_picks_split) {
  TempDir t;
  write_gz(t / "train-images-idx3-ubyte.gz", idx_images(4, 3, 3));
  write_gz(t / "train-labels-idx1-ubyte.gz", idx_labels({0, 1, 2, 3}));
  write_bytes(t / "t10k-images-idx3-ubyte", idx_images(2, 3, 3, 9));
  write_bytes(t / "t10k-labels-idx1-ubyte", idx_labels({1, 1}));
  Dataset tr = ristsim::io::load_dataset(t.path().string(), true);
  Dataset te = ristsim::io::load_dataset(t.path().string(), false);
  EXPECT_EQ(tr.n, 4);
  EXPECT_EQ(tr.classes, 4);
  EXPECT_EQ(te.n, 2);
  EXPECT_EQ(te.images[0], 9.f / 255.f);
  fs::remove(t / "t10k-labels-idx1-ubyte");
  expect_data_error([&] { ristsim::io::load_dataset(t.path().string(), false); },
                    {"t10k-labels-idx1-ubyte[.gz]: no such file"});
}

TEST(LoadDataset, unknown_name_and_empty_dir) {
  expect_data_error([] { ristsim::io::load_dataset("no-such-set", true); },
                    {"no-such-set: not a directory and not a known data set name"});
  TempDir t;
  expect_data_error([&] { ristsim::io::load_dataset(t.path().string(), true); },
                    {t.path().string() + ": no data set found"});
}

// ---- CIFAR-10 -------------------------------------------------------------------------

namespace {
std::vector<uint8_t> cifar_records(const std::vector<uint8_t>& labels, uint8_t seed) {
  std::vector<uint8_t> b;
  for (std::size_t r = 0; r < labels.size(); ++r) {
    b.push_back(labels[r]);
    for (int i = 0; i < 3072; ++i) b.push_back(static_cast<uint8_t>(seed + r * 7 + i));
  }
  return b;
}
}  // namespace

TEST(Cifar10, reads_records_in_chw_order) {
  TempDir t;
  write_bytes(t / "data_batch_1.bin", cifar_records({3, 9}, 0));
  write_bytes(t / "data_batch_2.bin", cifar_records({0}, 100));
  write_bytes(t / "test_batch.bin", cifar_records({5, 6, 7}, 50));
  Dataset tr = ristsim::io::load_dataset(t.path().string(), true);
  EXPECT_EQ(tr.n, 3);
  EXPECT_EQ(tr.c, 3);
  EXPECT_EQ(tr.h, 32);
  EXPECT_EQ(tr.w, 32);
  EXPECT_EQ(tr.classes, 10);
  EXPECT_EQ(tr.labels, (std::vector<int32_t>{3, 9, 0}));
  // Record 1 of batch 1: byte i is (7 + i) mod 256; channel G row 2 col 5 is i = 1024 + 69.
  EXPECT_EQ(tr.image(1)[1024 + 2 * 32 + 5], float((7 + 1024 + 69) % 256) / 255.f);
  EXPECT_EQ(tr.image(2)[0], 100.f / 255.f);
  EXPECT_EQ(tr.class_names.at(3), "cat");
  std::ofstream(t / "batches.meta.txt") << "a0\na1\na2\na3\na4\na5\na6\na7\na8\na9\n\n";
  EXPECT_EQ(ristsim::io::load_dataset(t.path().string(), true).class_names.at(7), "a7");
  Dataset te = ristsim::io::load_dataset(t.path().string(), false);
  EXPECT_EQ(te.n, 3);
  EXPECT_EQ(te.labels, (std::vector<int32_t>{5, 6, 7}));
}

// max_images keeps the first images of CIFAR-10 batches too (across batch files), while a
// bad label past the kept records is still an error: the files are checked whole.
TEST(Cifar10, max_images_keeps_the_first_records) {
  TempDir t;
  write_bytes(t / "data_batch_1.bin", cifar_records({3, 9}, 0));
  write_bytes(t / "data_batch_2.bin", cifar_records({0, 4}, 100));
  ristsim::io::ImageFolderOptions o;
  o.max_images = 3;
  Dataset tr = ristsim::io::load_dataset(t.path().string(), true, o);
  EXPECT_EQ(tr.n, 3);
  EXPECT_EQ(tr.labels, (std::vector<int32_t>{3, 9, 0}));
  ASSERT_EQ(tr.images.size(), 3u * 3072u);
  EXPECT_EQ(tr.image(2)[0], 100.f / 255.f);
  write_bytes(t / "data_batch_2.bin", cifar_records({0, 11}, 100));
  expect_data_error([&] { ristsim::io::load_dataset(t.path().string(), true, o); },
                    {"data_batch_2.bin: label 11 of record 1 is out of range [0, 10)"});
}

TEST(Cifar10, truncated_and_bad_label) {
  TempDir t;
  std::vector<uint8_t> b = cifar_records({1, 2}, 0);
  b.resize(b.size() - 100);
  write_bytes(t / "test_batch.bin", b);
  expect_data_error([&] { ristsim::io::load_dataset(t.path().string(), false); },
                    {"test_batch.bin: truncated: 6046 bytes is not a whole number of 3073-byte",
                     "1 records and 2973 bytes left over"});
  write_bytes(t / "test_batch.bin", cifar_records({1, 12}, 0));
  expect_data_error([&] { ristsim::io::load_dataset(t.path().string(), false); },
                    {"test_batch.bin: label 12 of record 1 is out of range [0, 10)"});
  // Training split asked for, but only the test batch is there.
  expect_data_error([&] { ristsim::io::load_dataset(t.path().string(), true); },
                    {"data_batch_1.bin: no such file"});
}

// ---- Image folders --------------------------------------------------------------------

namespace {
Image solid(int h, int w, uint8_t r, uint8_t g, uint8_t b) {
  Image im{h, w, 3, {}};
  for (int i = 0; i < h * w; ++i) im.pixels.insert(im.pixels.end(), {r, g, b});
  return im;
}

void write_jpeg(const fs::path& p, const Image& img, int quality) {
  std::FILE* f = std::fopen(p.string().c_str(), "wb");
  ASSERT_NE(f, nullptr);
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  jpeg_stdio_dest(&c, f);
  c.image_width = img.w;
  c.image_height = img.h;
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row =
        const_cast<JSAMPROW>(img.pixels.data() + std::size_t(c.next_scanline) * img.w * 3);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::fclose(f);
}
}  // namespace

TEST(ImageFolder, png_resize_crop_mean) {
  TempDir t;
  fs::create_directories(t / "set/b_dog");
  fs::create_directories(t / "set/a_cat");
  // 4x4 gradient: pixel (y, x) = (10 * x, 20 * y, 200); resized to 4x4 (no-op) and cropped
  // to the center 2x2, i.e. rows 1..2, cols 1..2.
  Image g{4, 4, 3, {}};
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x)
      g.pixels.insert(g.pixels.end(), {uint8_t(10 * x), uint8_t(20 * y), uint8_t(200)});
  ristsim::io::write_png((t / "set/a_cat/1.png").string(), g);
  ristsim::io::write_png((t / "set/b_dog/x.PNG").string(), solid(8, 8, 1, 2, 3));
  write_bytes(t / "set/b_dog/notes.txt", {'h', 'i'});  // ignored
  ImageFolderOptions o;
  o.resize_h = o.resize_w = 4;
  o.crop = 2;
  o.mean = {10.f, 20.f, 30.f};
  o.scale = 0.5f;
  Dataset ds = ristsim::io::load_dataset((t / "set").string(), true, o);
  EXPECT_EQ(ds.n, 2);
  EXPECT_EQ(ds.c, 3);
  EXPECT_EQ(ds.h, 2);
  EXPECT_EQ(ds.w, 2);
  EXPECT_EQ(ds.classes, 2);
  EXPECT_EQ(ds.class_names, (std::vector<std::string>{"a_cat", "b_dog"}));
  EXPECT_EQ(ds.labels, (std::vector<int32_t>{0, 1}));
  const float* a = ds.image(0);
  // R plane: x = 1, 2 -> 10, 20 minus mean 10, times 0.5.
  EXPECT_EQ(std::vector<float>(a, a + 4), (std::vector<float>{0.f, 5.f, 0.f, 5.f}));
  // G plane: y = 1, 2 -> 20, 40 minus 20, times 0.5.
  EXPECT_EQ(std::vector<float>(a + 4, a + 8), (std::vector<float>{0.f, 0.f, 10.f, 10.f}));
  EXPECT_EQ(a[8], (200.f - 30.f) * 0.5f);
  // The 8x8 solid image is resized to 4x4 (solid stays solid) and cropped.
  EXPECT_EQ(ds.image(1)[0], (1.f - 10.f) * 0.5f);
  EXPECT_EQ(ds.image(1)[11], (3.f - 30.f) * 0.5f);

  o.bgr = true;  // channel 0 is now blue, and mean[0] applies to it
  Dataset bgr = ristsim::io::load_image_folder((t / "set").string(), o);
  EXPECT_EQ(bgr.image(0)[0], (200.f - 10.f) * 0.5f);
  EXPECT_EQ(bgr.image(0)[8], (10.f - 30.f) * 0.5f);
}

TEST(ImageFolder, bilinear_resize_matches_hand_values) {
  // 1x2 -> 1x4: sources x = -0.25, 0.25, 0.75, 1.25 -> clamped 0, 0.25, 0.75, 1.
  Image s{1, 2, 1, {0, 100}};
  Image d = ristsim::io::resize_bilinear(s, 1, 4);
  EXPECT_EQ(d.pixels, (std::vector<uint8_t>{0, 25, 75, 100}));
  // 2x2 -> 1x1: the average of the four.
  Image s2{2, 2, 1, {0, 10, 20, 30}};
  EXPECT_EQ(ristsim::io::resize_bilinear(s2, 1, 1).pixels, (std::vector<uint8_t>{15}));
}

TEST(ImageFolder, jpeg_train_val_splits) {
  TempDir t;
  fs::create_directories(t / "train/c0");
  fs::create_directories(t / "train/c1");
  fs::create_directories(t / "val/c0");
  fs::create_directories(t / "val/c1");
  write_jpeg(t / "train/c0/a.jpg", solid(16, 16, 200, 100, 50), 100);
  write_jpeg(t / "train/c1/b.jpeg", solid(16, 16, 10, 20, 30), 100);
  write_jpeg(t / "val/c1/z.jpg", solid(20, 12, 90, 90, 90), 100);
  ImageFolderOptions o;
  o.resize_h = o.resize_w = 8;
  o.crop = 4;
  o.scale = 1.f;
  Dataset tr = ristsim::io::load_dataset(t.path().string(), true, o);
  Dataset va = ristsim::io::load_dataset(t.path().string(), false, o);
  EXPECT_EQ(tr.n, 2);
  EXPECT_EQ(tr.labels, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(va.n, 1);
  EXPECT_EQ(va.labels, (std::vector<int32_t>{1}));
  EXPECT_EQ(va.h, 4);
  // JPEG is lossy (YCbCr 4:2:0 round trip): a solid color comes back within 2 levels.
  for (int i = 0; i < 16; ++i) {
    EXPECT_NEAR(tr.image(0)[i], 200.f, 2.f);
    EXPECT_NEAR(tr.image(0)[16 + i], 100.f, 2.f);
    EXPECT_NEAR(tr.image(0)[32 + i], 50.f, 2.f);
    EXPECT_NEAR(va.image(0)[i], 90.f, 2.f);
  }
  ImageFolderOptions gray = o;
  gray.channels = 1;
  Dataset g = ristsim::io::load_image_folder((t / "val").string(), gray);
  EXPECT_EQ(g.c, 1);
  EXPECT_NEAR(g.image(0)[0], 90.f, 2.f);
}

TEST(ImageFolder, corrupt_images_name_the_file) {
  TempDir t;
  fs::create_directories(t / "set/c0");
  write_jpeg(t / "set/c0/good.jpg", solid(16, 16, 1, 2, 3), 90);
  std::ifstream in(t / "set/c0/good.jpg", std::ios::binary);
  std::vector<uint8_t> j((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  j.resize(j.size() / 3);
  write_bytes(t / "set/c0/cut.jpg", j);
  const std::string cut = (t / "set/c0/cut.jpg").string();
  expect_data_error([&] { ristsim::io::load_image_folder((t / "set").string()); },
                    {cut + ": cannot decode JPEG"});
  fs::remove(t / "set/c0/cut.jpg");
  write_bytes(t / "set/c0/fake.png", {'n', 'o', 't', ' ', 'p', 'n', 'g', '!', '!'});
  expect_data_error([&] { ristsim::io::load_image_folder((t / "set").string()); },
                    {"fake.png: not a JPEG or PNG file"});
  fs::remove(t / "set/c0/fake.png");
  ImageFolderOptions big;  // 3 x 300000^2 floats: more than any machine's memory
  big.resize_h = big.resize_w = 0;
  big.crop = 300000;
  expect_data_error([&] { ristsim::io::load_image_folder((t / "set").string(), big); },
                    {"set: 1 images of 3x300000x300000 floats need", "set max_images"});
  ImageFolderOptions o;
  o.resize_h = o.resize_w = 0;
  o.crop = 32;
  expect_data_error([&] { ristsim::io::load_image_folder((t / "set").string(), o); },
                    {"good.jpg: crop 32 is larger than the image (16x16)"});
}

// Every truncation of a small idx pair (plain and gzipped) and of a CIFAR batch is reported as
// a DataError naming the file; none crashes or loads partial data.
TEST(Idx, every_truncation_is_an_error) {
  TempDir t;
  const std::vector<uint8_t> im = idx_images(3, 4, 4, 7);
  write_bytes(t / "lb", idx_labels({0, 1, 2}));
  int gz_checked = 0;
  for (std::size_t len = 0; len < im.size(); ++len) {
    const std::vector<uint8_t> cut(im.begin(), im.begin() + static_cast<std::ptrdiff_t>(len));
    write_bytes(t / "im", cut);
    expect_data_error([&] { ristsim::io::load_idx((t / "im").string(), (t / "lb").string()); },
                      {(t / "im").string() + ": "});
  }
  // Cuts of the gzip stream itself (the member header, deflate data and trailer).
  write_gz(t / "full.gz", im);
  std::ifstream in(t / "full.gz", std::ios::binary);
  const std::vector<uint8_t> z((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
  for (std::size_t len = 2; len < z.size(); ++len) {
    write_bytes(t / "cut.gz", std::vector<uint8_t>(z.begin(), z.begin() + std::ptrdiff_t(len)));
    expect_data_error([&] { ristsim::io::load_idx((t / "cut.gz").string(), (t / "lb").string()); },
                      {(t / "cut.gz").string() + ": "});
    ++gz_checked;
  }
  EXPECT_GT(gz_checked, 20);
}

TEST(Cifar10, every_truncation_is_an_error) {
  TempDir t;
  const std::vector<uint8_t> b = cifar_records({4, 5}, 3);
  for (std::size_t len :
       {std::size_t(0), std::size_t(1), std::size_t(3072), std::size_t(3074), b.size() - 1}) {
    write_bytes(t / "test_batch.bin",
                std::vector<uint8_t>(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(len)));
    expect_data_error([&] { ristsim::io::load_dataset(t.path().string(), false); },
                      {"test_batch.bin: "});
  }
}

// Many images of different sizes and aspect ratios, decoded on all cores: the tensor equals
// decode + resize (shorter side) + center crop done one image at a time, and of two bad
// files the first in (class, name) order is the one reported.
TEST(ImageFolder, parallel_shorter_side_matches_serial) {
  TempDir t;
  std::vector<std::pair<std::string, int>> made;  // path, label
  for (int k = 0; k < 3; ++k) {
    const std::string cls = "c" + std::to_string(k);
    fs::create_directories(t / "set" / cls);
    for (int j = 0; j < 14; ++j) {
      const int h = 9 + (j * 5 + k) % 13, w = 9 + (j * 3 + 2 * k) % 17;
      Image im{h, w, 3, {}};
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          im.pixels.insert(im.pixels.end(), {uint8_t(x * 13 + j), uint8_t(y * 11 + k * 40),
                                             uint8_t((x * y + j) & 255)});
      char name[16];
      std::snprintf(name, sizeof name, "%02d.png", j);
      ristsim::io::write_png((t / "set" / cls / name).string(), im);
      made.emplace_back((t / "set" / cls / name).string(), k);
    }
  }
  ImageFolderOptions o;
  o.resize_shorter = 8;
  o.crop = 6;
  o.mean = {1.f, 2.f, 3.f};
  o.scale = 0.5f;
  const Dataset ds = ristsim::io::load_image_folder((t / "set").string(), o);
  ASSERT_EQ(ds.n, 42);
  for (int i = 0; i < ds.n; ++i) {
    ASSERT_EQ(ds.labels[i], made[i].second);
    Image im = ristsim::io::decode_image(made[i].first, 3);
    const bool h_short = im.h <= im.w;
    const int other = int(std::lround(double(h_short ? im.w : im.h) * 8 / (h_short ? im.h : im.w)));
    im = ristsim::io::resize_bilinear(im, h_short ? 8 : other, h_short ? other : 8);
    const int oy = (im.h - 6) / 2, ox = (im.w - 6) / 2;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 6; ++y)
        for (int x = 0; x < 6; ++x) {
          const float want =
              (float(im.pixels[((y + oy) * im.w + x + ox) * 3 + c]) - o.mean[c]) * o.scale;
          ASSERT_EQ(ds.image(i)[(c * 6 + y) * 6 + x], want) << made[i].first;
        }
  }
  write_bytes(t / "set/c2/99.png", {'b', 'a', 'd'});
  write_bytes(t / "set/c1/50.png", {'b', 'a', 'd'});
  expect_data_error([&] { ristsim::io::load_image_folder((t / "set").string(), o); },
                    {"c1/50.png: not a JPEG or PNG file"});
  o.crop = 0;
  expect_data_error([&] { ristsim::io::load_image_folder((t / "set").string(), o); },
                    {"resize_shorter without crop"});
}
