// Replays every committed fuzz input through the reader entries of fuzz_entries.cpp in the
// normal build: the seeds (corpus/TARGET/*) must not crash or throw anything but InputError,
// and every reproducer (regressions/TARGET/*) must be rejected with an InputError whose message
// contains what regressions/expect.txt says (one line per file: "TARGET/FILE  substring"), and
// none of the library internals that used to leak (stoll, _M_create, _M_default_append,
// -2147483648). Each reproducer crashed, invoked undefined behaviour, leaked a library message
// or was accepted before the fix it documents.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "engine/blob.h"
#include "fuzz_entries.h"
#include "numeric/checked.h"

namespace fs = std::filesystem;
using namespace ristsim;

namespace {

const fs::path kDir = RISTSIM_FUZZ_DIR;

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> v;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file()) v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

std::optional<std::string> run(const fuzz::Target& t, const std::string& bytes) {
  return t.entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

/// "" when the outcome is what a reproducer needs, else what is wrong with it.
std::string check_rejected(const std::optional<std::string>& r, const std::string& expect) {
  if (!r) return "accepted (expected an error containing '" + expect + "')";
  for (const char* leak : {"stoll", "_M_create", "_M_default_append", "-2147483648", "std::"})
    if (r->find(leak) != std::string::npos)
      return "message leaks '" + std::string(leak) + "': " + *r;
  if (r->find(expect) == std::string::npos)
    return "message '" + *r + "' does not contain '" + expect + "'";
  return "";
}

/// Runs one input; "" when it returns or throws InputError, else the escaped exception.
std::string check_no_escape(const fuzz::Target& t, const std::string& bytes) {
  try {
    run(t, bytes);
    return "";
  } catch (const std::exception& e) {
    return std::string("escaped exception: ") + e.what();
  }
}

std::map<std::string, std::string> expectations() {
  std::map<std::string, std::string> m;
  std::ifstream in(kDir / "regressions" / "expect.txt");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t sp = line.find("  ");
    if (sp == std::string::npos) continue;
    m[line.substr(0, sp)] = line.substr(line.find_first_not_of(' ', sp));
  }
  return m;
}

class FuzzInputs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { fuzz::init(); }
  static void TearDownTestSuite() { fuzz::cleanup(); }
};

}  // namespace

TEST_F(FuzzInputs, seeds_are_read_or_rejected_cleanly) {
  int n = 0;
  for (const fuzz::Target& t : fuzz::targets())
    for (const fs::path& f : files_in(kDir / "corpus" / t.name)) {
      EXPECT_EQ(check_no_escape(t, read_bytes(f)), "") << f;
      ++n;
    }
  EXPECT_GE(n, 6) << "the seed corpus is missing";
}

TEST_F(FuzzInputs, reproducers_are_rejected_with_a_clear_message) {
  const auto expect = expectations();
  int n = 0;
  for (const fuzz::Target& t : fuzz::targets())
    for (const fs::path& f : files_in(kDir / "regressions" / t.name)) {
      const std::string key = std::string(t.name) + "/" + f.filename().string();
      auto it = expect.find(key);
      ASSERT_NE(it, expect.end()) << key << " has no line in regressions/expect.txt";
      std::optional<std::string> r;
      ASSERT_NO_THROW(r = run(t, read_bytes(f))) << key;
      EXPECT_EQ(check_rejected(r, it->second), "") << key;
      ++n;
    }
  EXPECT_EQ(n, static_cast<int>(expect.size())) << "expect.txt names files that do not exist";
}

// The fuzz entries lower the blob limit; the huge-allocation reproducers are refused at the
// production limit (checked::kMaxElements) too, before anything is allocated.
TEST_F(FuzzInputs, huge_shapes_are_refused_at_the_default_blob_limit) {
  engine::Blob::set_element_limit(checked::kMaxElements);
  const fuzz::Target& net = *fuzz::find_target("net_yaml");
  for (const char* f : {"num_output_1e9.yaml", "kernel_65537.yaml", "pad_1e9.yaml"}) {
    const std::optional<std::string> r = run(net, read_bytes(kDir / "regressions/net_yaml" / f));
    ASSERT_TRUE(r.has_value()) << f;
    EXPECT_NE(r->find("elements (the limit of one blob)"), std::string::npos) << *r;
    EXPECT_NE(r->find(std::to_string(checked::kMaxElements)), std::string::npos) << *r;
  }
  fuzz::init();
}

// The checks above must fail on a planted bug: a reader that leaks an internal message, one
// that accepts a reproducer, and one whose library exception escapes.
TEST(FuzzInputs_bad, the_checks_catch_planted_bugs) {
  EXPECT_NE(check_rejected(std::string("f.onnx: stoll"), "offset"), "");
  EXPECT_NE(check_rejected(std::nullopt, "trailing data"), "");
  EXPECT_NE(check_rejected(std::string("f.yaml:3:9: kernel_size is -2147483648"), "kernel_size"),
            "");
  EXPECT_NE(check_rejected(std::string("f.idx: truncated"), "trailing data"), "");
  const fuzz::Target escaping = {"planted",
                                 [](const uint8_t*, std::size_t) -> std::optional<std::string> {
                                   throw std::out_of_range("vector::_M_range_check");
                                 }};
  EXPECT_NE(check_no_escape(escaping, "x"), "");
  EXPECT_EQ(check_rejected(std::string("f.idx: trailing data: 3 bytes"), "trailing data"), "");
}
