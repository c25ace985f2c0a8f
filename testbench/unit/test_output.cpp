// The output writer (sim/util/output.h): atomic files on a full disk, output folders that never
// replace what ristsim did not write, checks before any work, leftovers of killed runs, and
// clean-up on SIGINT.
//
// A full disk is simulated without root: a child process lowers RLIMIT_FSIZE and ignores
// SIGXFSZ, so that a write past the limit fails with EFBIG ("File too large") as it would with
// ENOSPC on a full disk.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "util/output.h"

namespace fs = std::filesystem;
using namespace ristsim;

namespace {

struct TempDir {
  fs::path root;
  TempDir() {
    root = fs::temp_directory_path() /
           ("ristsim_output_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
    fs::create_directories(root);
  }
  ~TempDir() { fs::remove_all(root); }
};

std::string read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<std::string> names(const fs::path& dir) {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(dir)) v.push_back(e.path().filename().string());
  std::sort(v.begin(), v.end());
  return v;
}

/// Runs `body` in a child process whose files may not grow past `limit` bytes; returns the
/// child's exit status (0 when `body` returned true).
int with_file_limit(rlim_t limit, const std::function<bool()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl {
      limit, limit
    };
    ::setrlimit(RLIMIT_FSIZE, &rl);
    bool ok = false;
    try {
      ok = body();
    } catch (...) {
    }
    ::_exit(ok ? 0 : 3);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// The check of a writer on a full disk: the old file keeps its bytes and the folder holds
/// nothing else. Returns "" when the writer passed, else what went wrong.
std::string full_disk_check(
    const std::function<void(const std::string&, const std::string&)>& writer) {
  TempDir t;
  const fs::path file = t.root / "w.onnx";
  std::ofstream(file) << "the previous model";
  const std::string big(64 * 1024, 'x');
  const int rc = with_file_limit(16 * 1024, [&] {
    try {
      writer(file.string(), big);
    } catch (const std::exception& e) {
      return true;  // the writer reported the failure
    }
    return false;
  });
  std::string why;
  if (rc != 0)
    why += "the write did not fail with an exception (status " + std::to_string(rc) + "); ";
  if (read(file) != "the previous model")
    why += "w.onnx was changed (" + std::to_string(fs::file_size(file)) + " bytes); ";
  if (names(t.root) != std::vector<std::string>{"w.onnx"}) why += "something was left next to it; ";
  return why;
}

}  // namespace

TEST(OutputFile, writes_and_replaces) {
  TempDir t;
  const std::string p = (t.root / "a.txt").string();
  util::write_file(p, "one");
  util::write_file(p, "two, longer");
  EXPECT_EQ(read(p), "two, longer");
  EXPECT_EQ(names(t.root), std::vector<std::string>{"a.txt"});
}

TEST(OutputFile, full_disk_keeps_the_old_file_and_leaves_nothing) {
  EXPECT_EQ(
      full_disk_check([](const std::string& p, const std::string& b) { util::write_file(p, b); }),
      "");
  // The message names the file and the OS reason.
  TempDir t;
  const std::string p = (t.root / "w.rstw").string();
  const int rc = with_file_limit(1024, [&] {
    try {
      util::write_file(p, std::string(8192, 'x'));
    } catch (const util::WriteError& e) {
      const std::string m = e.what();
      return m.find(p) != std::string::npos && m.find("File too large") != std::string::npos;
    }
    return false;
  });
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(fs::is_empty(t.root));
}

// The planted bug the check above must catch: a writer that truncates the file in place (what
// std::ofstream does) leaves a truncated file on a full disk.
TEST(OutputFile, full_disk_check_catches_an_in_place_writer_bad) {
  const std::string why = full_disk_check([](const std::string& p, const std::string& b) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f << b;
    f.close();
    if (!f) throw std::runtime_error(p + ": write error");
  });
  EXPECT_NE(why.find("w.onnx was changed"), std::string::npos) << why;
}

TEST(OutputFile, checked_before_any_work) {
  TempDir t;
  auto message = [](const std::string& p) -> std::string {
    try {
      util::check_output_file(p);
    } catch (const util::BadOutput& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_EQ(message((t.root / "w.onnx").string()), "accepted");
  EXPECT_TRUE(fs::is_empty(t.root));  // the probe file is gone
  const std::string missing = (t.root / "no" / "w.onnx").string();
  EXPECT_NE(message(missing).find("does not exist"), std::string::npos) << message(missing);
  std::ofstream(t.root / "file") << "x";
  const std::string under_file = (t.root / "file" / "w.onnx").string();
  EXPECT_NE(message(under_file).find("is not a folder"), std::string::npos) << message(under_file);
  EXPECT_NE(message(t.root.string()).find("is a folder"), std::string::npos);
  EXPECT_NE(message("/dev/null").find("not a regular file"), std::string::npos);
  if (::geteuid() != 0) {  // root writes anywhere
    fs::create_directories(t.root / "ro");
    fs::permissions(t.root / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    const std::string ro = (t.root / "ro" / "w.onnx").string();
    EXPECT_NE(message(ro).find("Permission denied"), std::string::npos) << message(ro);
    fs::permissions(t.root / "ro", fs::perms::owner_all);
  }
}

TEST(OutputDir, staged_commit_and_the_rules_for_an_existing_folder) {
  TempDir t;
  const std::string out = (t.root / "q").string();
  {
    util::OutputDir d(out, util::Existing::refuse, "ristsim test");
    EXPECT_FALSE(fs::exists(out));  // staged until commit
    util::write_file(d.path("a.txt"), "a");
    fs::create_directories(d.path("plots"));
    util::write_file(d.path("plots/p.svg"), "p");
    d.commit();
  }
  EXPECT_EQ(names(out), (std::vector<std::string>{".ristsim-output", "a.txt", "plots"}));
  EXPECT_EQ(util::marked_entries(out), (std::vector<std::string>{"a.txt", "plots"}));
  EXPECT_EQ(names(t.root), std::vector<std::string>{"q"});  // no staging folder left

  // A previous output: refused without --force, replaced with it.
  try {
    util::OutputDir d(out, util::Existing::refuse, "ristsim test");
    ADD_FAILURE() << "a previous output was accepted without --force";
  } catch (const util::BadOutput& e) {
    EXPECT_NE(std::string(e.what()).find("--force"), std::string::npos) << e.what();
  }
  {
    util::OutputDir d(out, util::Existing::replace, "ristsim test");
    util::write_file(d.path("b.txt"), "b");
    d.commit();
  }
  EXPECT_EQ(names(out), (std::vector<std::string>{".ristsim-output", "b.txt"}));

  // A file ristsim did not write: never replaced, even with --force.
  std::ofstream(fs::path(out) / "notes.txt") << "mine";
  EXPECT_THROW(util::OutputDir(out, util::Existing::replace, "ristsim test"), util::BadOutput);
  EXPECT_EQ(read(fs::path(out) / "notes.txt"), "mine");

  // A folder without the marker: refused (nothing of it is deleted); an empty one is used.
  const fs::path user = t.root / "user";
  fs::create_directories(user);
  std::ofstream(user / "precious.txt") << "keep";
  EXPECT_THROW(util::OutputDir(user.string(), util::Existing::replace, "ristsim test"),
               util::BadOutput);
  EXPECT_EQ(read(user / "precious.txt"), "keep");
  fs::create_directories(t.root / "empty");
  {
    util::OutputDir d((t.root / "empty").string(), util::Existing::refuse, "ristsim test");
    util::write_file(d.path("c.txt"), "c");
    d.commit();
  }
  EXPECT_EQ(read(t.root / "empty" / "c.txt"), "c");

  // Not committed (the job failed): nothing is left, the previous output is untouched.
  fs::remove(fs::path(out) / "notes.txt");
  {
    util::OutputDir d(out, util::Existing::replace, "ristsim test");
    util::write_file(d.path("half.txt"), "h");
  }
  EXPECT_EQ(names(out), (std::vector<std::string>{".ristsim-output", "b.txt"}));
  EXPECT_EQ(names(t.root), (std::vector<std::string>{"empty", "q", "user"}));

  // Bad locations, found at once.
  EXPECT_THROW(util::OutputDir((t.root / "no" / "x").string(), util::Existing::refuse, "t"),
               util::BadOutput);
  EXPECT_THROW(util::OutputDir((user / "precious.txt").string(), util::Existing::replace, "t"),
               util::BadOutput);
}

TEST(OutputDir, in_place_keeps_a_previous_output_for_resume) {
  TempDir t;
  const std::string out = (t.root / "ft").string();
  {
    util::OutputDir d(out, util::Existing::refuse, "ristsim finetune",
                      util::OutputDir::Mode::in_place);
    EXPECT_TRUE(fs::exists(fs::path(out) / ".ristsim-output"));
    d.commit({"checkpoints", "report.json"});
    fs::create_directories(fs::path(out) / "checkpoints");
    util::write_file(out + "/checkpoints/state.txt", "iter 2");
  }
  EXPECT_THROW(util::OutputDir(out, util::Existing::refuse, "t", util::OutputDir::Mode::in_place),
               util::BadOutput);
  {
    util::OutputDir d(out, util::Existing::reuse, "t", util::OutputDir::Mode::in_place);
    EXPECT_TRUE(d.reused());
    EXPECT_EQ(read(out + "/checkpoints/state.txt"), "iter 2");
  }
  {
    util::OutputDir d(out, util::Existing::replace, "t", util::OutputDir::Mode::in_place);
    EXPECT_FALSE(fs::exists(out + "/checkpoints"));  // the listed entries were removed
  }
  // A new folder of a failed run is removed again.
  const std::string fresh = (t.root / "fresh").string();
  {
    util::OutputDir d(fresh, util::Existing::refuse, "t", util::OutputDir::Mode::in_place);
    d.discard_if_new();
  }
  EXPECT_FALSE(fs::exists(fresh));
}

TEST(OutputDir, leftovers_of_killed_runs_are_removed) {
  TempDir t;
  // A PID that no longer runs: a child that has exited and been reaped.
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ::waitpid(dead, nullptr, 0);
  ASSERT_FALSE(util::pid_alive(dead));
  const std::string d = std::to_string(dead), live = std::to_string(::getppid());
  for (const std::string& n : {".out.partial-" + d, ".out.partial-" + live})
    fs::create_directories(t.root / n / "plots");
  std::ofstream(t.root / (".out.tmp-" + d)) << "half";
  std::ofstream(t.root / (".other.partial-" + d)) << "another output's";
  { util::OutputDir o((t.root / "out").string(), util::Existing::refuse, "t"); }
  EXPECT_EQ(names(t.root),
            (std::vector<std::string>{".other.partial-" + d, ".out.partial-" + live}));
  // A commit killed between setting the previous output aside and moving the new one in: the
  // previous output is put back, not deleted.
  fs::create_directories(t.root / (".prev.old-" + d));
  std::ofstream(t.root / (".prev.old-" + d) / "report.md") << "the previous report";
  EXPECT_EQ(util::remove_stale((t.root / "prev").string()), 1);
  EXPECT_EQ(read(t.root / "prev" / "report.md"), "the previous report");
  // When the new output did move in, the set-aside one is removed.
  fs::create_directories(t.root / (".prev.old-" + d));
  EXPECT_EQ(util::remove_stale((t.root / "prev").string()), 1);
  EXPECT_FALSE(fs::exists(t.root / (".prev.old-" + d)));
  EXPECT_TRUE(fs::exists(t.root / "prev" / "report.md"));
}

TEST(OutputDir, sigint_removes_the_staging_folder) {
  TempDir t;
  const std::string out = (t.root / "main").string();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    util::OutputDir d(out, util::Existing::refuse, "t");
    fs::create_directories(d.path("plots"));
    util::write_file(d.path("plots/a.svg"), std::string(5000, 'a'));
    util::write_file(d.path("arch.txt"), "arch");
    const char c = 'r';
    if (::write(fds[1], &c, 1) != 1) ::_exit(4);
    for (;;) ::pause();
  }
  char c = 0;
  ASSERT_EQ(::read(fds[0], &c, 1), 1);
  EXPECT_FALSE(fs::is_empty(t.root));  // the staging folder exists while the job runs
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT) << status;
  EXPECT_TRUE(fs::is_empty(t.root)) << names(t.root).size();
  ::close(fds[0]);
  ::close(fds[1]);
}
