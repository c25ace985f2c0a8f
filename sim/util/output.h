// Output files and folders: nothing partial, nothing lost, checked early.
//
// Every file ristsim writes goes through write_file: the bytes go to a temporary file next to
// the destination (".NAME.tmp-PID"), which is fsync'ed and renamed over the destination (and
// the folder fsync'ed), so a reader sees the old file or the new one, never a truncated one. On
// any error (a full disk, a file-size limit) the temporary file is removed and WriteError names
// the path and the OS reason; the destination is untouched.
//
// Every folder a command writes is an OutputDir:
//   - it is checked when the command starts, before any work (check_output_file does the same
//     for a single output file): the parent must exist and take new files, the path must not be
//     a file; a non-empty folder must be a previous ristsim output (it holds the marker file
//     ".ristsim-output", which lists the entries ristsim wrote) whose entries are all listed
//     there: ristsim never deletes what it did not write. A previous output is replaced only
//     with Existing::replace (the commands' --force) or reused with Existing::reuse (finetune
//     --resume). A bad location throws BadOutput (the commands' exit code 2).
//   - staged (the default): the files go into a sibling ".NAME.partial-PID" folder, which
//     commit() moves into place at the end (the old output is set aside and removed); a failed
//     or interrupted command leaves nothing. In place (finetune's checkpoints must survive a
//     kill): the folder is created with its marker, and the files go straight into it.
// Temporary files and staging folders are removed on SIGINT/SIGTERM (an async-signal-safe
// handler, installed on first use), and the leftovers of a killed run (names with a PID that no
// longer runs) are removed by the next run that writes the same output.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ristsim::util {

/// An output location that cannot be used (checked before any work): bad usage.
class BadOutput : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Writing an output failed (a full disk, an I/O error): the job failed.
class WriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The marker file of a ristsim output folder.
inline constexpr const char* kMarkerName = ".ristsim-output";

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename; see above). Throws
/// WriteError "PATH: cannot write: REASON" and leaves no temporary file.
void write_file(const std::string& path, std::string_view bytes);

/// Checks, before any work, that `path` can be written as a file: its folder exists and takes
/// new files (a probe file is created and removed), and `path` is not a folder. Removes the
/// temporary files of killed earlier writes of `path`. Throws BadOutput naming the path and the
/// reason; `what` names the option in the message (e.g. "--out").
void check_output_file(const std::string& path, const std::string& what = "--out");

/// What to do with an existing, non-empty output folder that ristsim wrote.
enum class Existing {
  refuse,   ///< BadOutput: "--force replaces it"
  replace,  ///< replace it (its listed entries only; nothing else may be there)
  reuse,    ///< keep it and write into it (in-place folders: finetune --resume)
};

/// An output folder (see the header paragraph).
class OutputDir {
 public:
  enum class Mode { staged, in_place };
  /// Checks the location (BadOutput) and prepares it: a staged folder creates its staging
  /// twin; an in-place folder is created (with its marker) or, with Existing::replace, emptied
  /// of its listed entries. `command` is recorded in the marker ("ristsim quantize").
  OutputDir(const std::string& path, Existing existing, const std::string& command,
            Mode mode = Mode::staged);
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  /// Where to write `name` now (the staging folder until commit()).
  std::string path(const std::string& name) const;
  /// The folder written into now.
  const std::string& dir() const { return work_; }
  /// The final folder.
  const std::string& out() const { return out_; }
  /// True when an in-place folder already held a previous output (Existing::reuse).
  bool reused() const { return reused_; }

  /// Staged: writes the marker (listing every entry of the staging folder) and moves the
  /// folder into place, replacing a previous output. In place: adds `entries` to the marker.
  void commit(const std::vector<std::string>& entries = {});
  /// In place: removes the folder again if this run created it and no entry of it is listed
  /// in the marker yet (nothing worth keeping); staged: the destructor does it.
  void discard_if_new();

 private:
  std::string out_, work_, command_;
  Mode mode_;
  bool committed_ = false, created_ = false, reused_ = false;
  int slot_ = -1;  // signal-cleanup registration of the staging folder
};

/// The entries a marker file lists (empty when `dir` has no marker).
std::vector<std::string> marked_entries(const std::string& dir);

/// Removes the leftovers of killed runs next to `path`: ".NAME.partial-PID", ".NAME.old-PID"
/// and ".NAME.tmp-PID" whose PID no longer runs (an ".old" folder is put back as `path` when
/// `path` is missing: a commit was killed between its two renames). Returns how many.
int remove_stale(const std::string& path);

/// True when a process with this id runs (or exists under another user).
bool pid_alive(long pid);

/// Registers `path` (a file or a folder) to be removed if the process gets SIGINT or SIGTERM,
/// installing the handler on first use. Returns a slot for unregister_cleanup (-1: the table
/// is full; the path is then only removed by the next run).
int register_cleanup(const std::string& path);
void unregister_cleanup(int slot);

/// Flushes standard output and throws WriteError if anything written to it was lost (a full
/// disk behind a redirection, a closed pipe).
void check_stdout();

}  // namespace ristsim::util
