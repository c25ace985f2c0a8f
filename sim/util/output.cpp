// Output files and folders (see output.h).
#include "util/output.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>

namespace ristsim::util {

namespace fs = std::filesystem;

namespace {

std::string reason(int err) {
  return std::strerror(err);
}

std::string pid_suffix() {
  return std::to_string(static_cast<long>(::getpid()));
}

/// `path` without trailing slashes (but "/" stays "/").
std::string trim_slashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

fs::path parent_of(const fs::path& p) {
  const fs::path parent = p.parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

/// `name` next to `p` (in its folder; no "./" for a relative path without one).
fs::path sibling(const fs::path& p, const std::string& name) {
  return p.parent_path() / name;
}

void fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);  // best effort: some file systems refuse fsync on a folder
  ::close(fd);
}

// ---------------------------------------------------------------- cleanup on signals

struct Slot {
  std::atomic<int> state{0};  // 0 free, 1 being filled, 2 armed
  char path[4096];
};
Slot g_slots[64];

struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[1];
};

/// Removes `name` under `dirfd` (a file, or a folder with its contents) with system calls only:
/// safe inside a signal handler.
void remove_tree_at(int dirfd, const char* name, int depth) {
  if (::unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return;
  if (depth > 32) return;
  const int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  alignas(8) char buf[2048];
  for (bool removed = true; removed;) {  // entries removed while listing: list again
    removed = false;
    ::lseek(fd, 0, SEEK_SET);
    for (;;) {
      const long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
      if (n <= 0) break;
      for (long off = 0; off < n;) {
        const LinuxDirent64* d = reinterpret_cast<const LinuxDirent64*>(buf + off);
        off += d->d_reclen;
        const char* e = d->d_name;
        if (e[0] == '.' && (e[1] == 0 || (e[1] == '.' && e[2] == 0))) continue;
        remove_tree_at(fd, e, depth + 1);
        removed = true;
      }
    }
  }
  ::close(fd);
  ::unlinkat(dirfd, name, AT_REMOVEDIR);
}

void on_fatal_signal(int sig) {
  const int saved = errno;
  for (Slot& s : g_slots)
    if (s.state.load() == 2) remove_tree_at(AT_FDCWD, s.path, 0);
  errno = saved;
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  ::raise(sig);  // delivered when the handler returns: the process ends as it would have
}

void install_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction old {};
      if (::sigaction(sig, nullptr, &old) != 0) continue;
      if (old.sa_handler == SIG_IGN || (old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
        continue;  // ignored (nohup) or someone else's handler: leave it
      struct sigaction sa {};
      sa.sa_handler = on_fatal_signal;
      sigemptyset(&sa.sa_mask);
      ::sigaction(sig, &sa, nullptr);
    }
  });
}

/// Registers for the lifetime of a scope.
struct CleanupGuard {
  int slot;
  explicit CleanupGuard(const std::string& path) : slot(register_cleanup(path)) {}
  ~CleanupGuard() { unregister_cleanup(slot); }
};

// ---------------------------------------------------------------- marker

std::string marker_text(const std::string& command, const std::vector<std::string>& entries) {
  std::string t = "# ristsim output folder, written by " + command +
                  ".\n# ristsim replaces or deletes only the entries listed below.\n";
  for (const std::string& e : entries) t += e + "\n";
  return t;
}

/// The names in `dir` (not "." and "..").
std::vector<std::string> list_dir(const fs::path& dir) {
  std::vector<std::string> v;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec))
    v.push_back(e.path().filename().string());
  if (ec) throw BadOutput(dir.string() + ": cannot list the folder: " + ec.message());
  std::sort(v.begin(), v.end());
  return v;
}

/// Checks that every entry of the existing folder `dir` is ristsim's (listed in its marker).
/// Returns the entries; empty when the folder is empty.
std::vector<std::string> check_ours(const fs::path& dir, const std::string& what) {
  const std::vector<std::string> entries = list_dir(dir);
  if (entries.empty()) return entries;
  if (!fs::exists(dir / kMarkerName))
    throw BadOutput(what + " '" + dir.string() +
                    "': the folder is not empty and was not written by ristsim (it has no " +
                    kMarkerName + "); ristsim does not write into it: choose another folder");
  const std::vector<std::string> listed = marked_entries(dir.string());
  const std::set<std::string> ours(listed.begin(), listed.end());
  for (const std::string& e : entries)
    if (e != kMarkerName && !ours.count(e))
      throw BadOutput(
          what + " '" + dir.string() + "': it holds '" + e +
          "', which ristsim did not write; ristsim does not replace the folder: move '" + e +
          "' away or choose another folder");
  return entries;
}

/// The parent folder of an output must exist and be a folder.
void check_parent(const fs::path& p, const std::string& what) {
  const fs::path parent = parent_of(p);
  std::error_code ec;
  const fs::file_status st = fs::status(parent, ec);
  if (!fs::exists(st))
    throw BadOutput(what + " '" + p.string() + "': its folder '" + parent.string() +
                    "' does not exist");
  if (!fs::is_directory(st))
    throw BadOutput(what + " '" + p.string() + "': '" + parent.string() + "' is not a folder");
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

// ---------------------------------------------------------------- public

int register_cleanup(const std::string& path) {
  install_handler();
  const std::string abs = fs::absolute(path).lexically_normal().string();
  if (abs.size() >= sizeof(Slot::path)) return -1;
  for (int i = 0; i < static_cast<int>(std::size(g_slots)); ++i) {
    int expected = 0;
    if (g_slots[i].state.compare_exchange_strong(expected, 1)) {
      std::memcpy(g_slots[i].path, abs.c_str(), abs.size() + 1);
      g_slots[i].state.store(2);
      return i;
    }
  }
  return -1;
}

void unregister_cleanup(int slot) {
  if (slot >= 0 && slot < static_cast<int>(std::size(g_slots))) g_slots[slot].state.store(0);
}

bool pid_alive(long pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

int remove_stale(const std::string& path) {
  const fs::path p = fs::path(trim_slashes(path));
  const std::string name = p.filename().string();
  if (name.empty() || name == "." || name == "..") return 0;
  std::error_code ec;
  int removed = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(parent_of(p), ec)) {
    const std::string f = e.path().filename().string();
    std::string_view rest;
    bool old = false;
    for (const std::string& prefix :
         {"." + name + ".partial-", "." + name + ".old-", "." + name + ".tmp-"})
      if (f.size() > prefix.size() && f.compare(0, prefix.size(), prefix) == 0) {
        rest = std::string_view(f).substr(prefix.size());
        old = prefix == "." + name + ".old-";
      }
    if (!all_digits(rest) || rest.size() > 9) continue;
    const long pid = std::stol(std::string(rest));
    if (pid == static_cast<long>(::getpid()) || pid_alive(pid)) continue;
    std::error_code rec;
    // A previous output set aside by a commit that was killed before the new one moved in:
    // it is the output, put it back.
    if (old && !fs::exists(fs::symlink_status(p, rec)) &&
        ::rename(e.path().c_str(), p.c_str()) == 0) {
      ++removed;
      continue;
    }
    if (fs::remove_all(e.path(), rec) > 0 && !rec) ++removed;
  }
  return removed;
}

void write_file(const std::string& path, std::string_view bytes) {
  const fs::path p(path);
  const fs::path tmp = sibling(p, "." + p.filename().string() + ".tmp-" + pid_suffix());
  CleanupGuard guard(tmp.string());
  auto fail = [&](int err, const char* step, int fd) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw WriteError(path + ": cannot write (" + step + "): " + reason(err));
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    const int err = errno;
    throw WriteError(path + ": cannot write (creating its temporary file " + tmp.string() +
                     "): " + reason(err));
  }
  const char* data = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, data, std::min<std::size_t>(left, 1 << 24));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(errno, "writing", fd);
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) fail(errno, "fsync", fd);
  if (::close(fd) != 0) fail(errno, "closing", -1);
  if (::rename(tmp.c_str(), p.c_str()) != 0) fail(errno, "renaming into place", -1);
  fsync_dir(parent_of(p));
}

void check_output_file(const std::string& path, const std::string& what) {
  if (path.empty()) throw BadOutput(what + ": empty path");
  const fs::path p(path);
  remove_stale(path);
  std::error_code ec;
  const fs::file_status st = fs::status(p, ec);
  if (fs::is_directory(st)) throw BadOutput(what + " '" + path + "': is a folder, not a file");
  check_parent(p, what);
  if (fs::exists(st) && !fs::is_regular_file(st))
    throw BadOutput(what + " '" + path + "': exists and is not a regular file");
  // The real test: can a file be created next to it (permissions, read-only file systems)?
  const fs::path probe = sibling(p, "." + p.filename().string() + ".tmp-" + pid_suffix());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    const int err = errno;
    throw BadOutput(what + " '" + path + "': cannot create files in '" + parent_of(p).string() +
                    "': " + reason(err));
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

std::vector<std::string> marked_entries(const std::string& dir) {
  std::vector<std::string> v;
  std::ifstream f(fs::path(dir) / kMarkerName);
  for (std::string line; std::getline(f, line);)
    if (!line.empty() && line[0] != '#') v.push_back(line);
  return v;
}

OutputDir::OutputDir(const std::string& path, Existing existing, const std::string& command,
                     Mode mode)
    : out_(trim_slashes(path)), command_(command), mode_(mode) {
  const std::string what = "--out";
  if (out_.empty()) throw BadOutput(what + ": empty path");
  if (fs::path(out_).filename() == "." || fs::path(out_).filename() == "..")
    out_ = fs::weakly_canonical(fs::absolute(out_)).string();  // a name to stage next to
  const fs::path p(out_);
  check_parent(p, what);
  remove_stale(out_);
  std::error_code ec;
  const fs::file_status st = fs::status(p, ec);
  bool previous = false;
  if (fs::exists(st)) {
    if (!fs::is_directory(st))
      throw BadOutput(what + " '" + out_ + "': exists and is not a folder");
    previous = !check_ours(p, what).empty();
  }
  if (previous && existing == Existing::refuse)
    throw BadOutput(what + " '" + out_ + "' holds a previous ristsim output: --force replaces it" +
                    (mode == Mode::in_place ? ", --resume continues it" : "") +
                    " (or choose another folder)");
  if (mode == Mode::staged) {
    work_ = sibling(p, "." + p.filename().string() + ".partial-" + pid_suffix()).string();
    fs::remove_all(work_, ec);
    if (!fs::create_directory(work_, ec) || ec)
      throw BadOutput(what + " '" + out_ + "': cannot create a folder in '" +
                      parent_of(p).string() + "': " + (ec ? ec.message() : "exists"));
    slot_ = register_cleanup(work_);
    return;
  }
  work_ = out_;
  if (!fs::exists(st)) {
    if (!fs::create_directory(p, ec) || ec)
      throw BadOutput(what + " '" + out_ + "': cannot create the folder: " + ec.message());
    created_ = true;
  } else if (previous && existing == Existing::replace) {
    for (const std::string& e : marked_entries(out_)) fs::remove_all(p / e, ec);
  } else if (previous) {
    reused_ = true;
    return;  // the marker stays as it is
  }
  try {
    write_file((p / kMarkerName).string(), marker_text(command_, {}));
  } catch (const WriteError& e) {
    throw BadOutput(what + " '" + out_ + "': " + e.what());
  }
}

OutputDir::~OutputDir() {
  if (mode_ == Mode::staged && !committed_) {
    std::error_code ec;
    fs::remove_all(work_, ec);
  }
  unregister_cleanup(slot_);
}

std::string OutputDir::path(const std::string& name) const {
  return (fs::path(work_) / name).string();
}

void OutputDir::commit(const std::vector<std::string>& entries) {
  const fs::path p(out_);
  if (mode_ == Mode::in_place) {
    std::vector<std::string> listed = marked_entries(out_);
    for (const std::string& e : entries)
      if (std::find(listed.begin(), listed.end(), e) == listed.end()) listed.push_back(e);
    write_file((p / kMarkerName).string(), marker_text(command_, listed));
    return;
  }
  if (committed_) return;
  std::vector<std::string> staged = list_dir(work_);
  staged.erase(std::remove(staged.begin(), staged.end(), std::string(kMarkerName)), staged.end());
  write_file((fs::path(work_) / kMarkerName).string(), marker_text(command_, staged));
  std::error_code ec;
  fs::path old;
  if (fs::exists(p, ec)) {
    try {
      check_ours(p, "--out");  // again: the folder may have changed while the job ran
    } catch (const BadOutput& e) {
      throw WriteError(std::string(e.what()) + " (the results are not kept)");
    }
    old = sibling(p, "." + p.filename().string() + ".old-" + pid_suffix());
    fs::remove_all(old, ec);
    if (::rename(p.c_str(), old.c_str()) != 0) {
      const int err = errno;
      throw WriteError(out_ + ": cannot set the previous output aside: " + reason(err));
    }
  }
  if (::rename(work_.c_str(), p.c_str()) != 0) {
    const int err = errno;
    if (!old.empty()) ::rename(old.c_str(), p.c_str());
    throw WriteError(out_ + ": cannot move the results into place: " + reason(err));
  }
  committed_ = true;
  unregister_cleanup(slot_);
  slot_ = -1;
  work_ = out_;
  fsync_dir(parent_of(p));
  if (!old.empty()) fs::remove_all(old, ec);
}

void OutputDir::discard_if_new() {
  if (mode_ != Mode::in_place || !created_) return;
  std::error_code ec;
  fs::remove_all(out_, ec);
  created_ = false;
}

void check_stdout() {
  errno = 0;
  std::cout.flush();  // synced with stdio: this already flushes stdout, and records the reason
  int err = errno;
  errno = 0;
  const bool flush_failed = std::fflush(stdout) != 0;
  if (!err) err = errno;
  if (flush_failed || std::ferror(stdout) || !std::cout)
    throw WriteError(std::string("standard output: cannot write: ") +
                     (err ? reason(err) : std::string("output error")));
}

}  // namespace ristsim::util
