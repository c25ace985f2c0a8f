// Running a sweep's points (docs/sweep.md): the collector and its two backends.
//
// The points still to do (no `ok` row file) are cut into tasks of
// `slurm.points_per_task` points, listed one task per line in a task file under
// DIR/tasks/. Every task runs as its own process, `ristsim sweep SWEEP.yaml --out
// DIR --worker TASKFILE --task K`, which evaluates its points and writes their
// rows (results.h). The backends only start those processes:
//   local  a pool of --jobs processes on this machine (fork/exec);
//   slurm  one `sbatch --array` job array, one array task per task, watched by
//          polling `squeue`.
// A task that ends without having written a row for each of its points (killed,
// preempted, out of memory, node failure) is started again, up to `max_retries`
// times; a point whose evaluation throws gets a `failed` row and is not retried
// within the run (it is deterministic), but a re-run tries it again. The
// collector merges the row files into results.sqlite and results.csv as they come.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "config/sweep_yaml.h"
#include "sweep/results.h"

namespace ristsim::sweep {

enum class Backend { local, slurm };

struct RunOptions {
  std::string out_dir;
  Backend backend = Backend::local;
  int jobs = 1;                          ///< local: worker processes at once
  int retries = -1;                      ///< -1: the sweep file's slurm.max_retries
  bool dry_run = false;                  ///< slurm: print the batch script, submit nothing
  bool progress = false;                 ///< draw a progress bar on stderr (a terminal)
  std::string exe;                       ///< the ristsim executable the tasks run
  std::string version;                   ///< recorded in every row
  double poll_seconds = 1;               ///< squeue / row-file polling interval
  std::vector<std::string> worker_args;  ///< extra arguments of every worker (e.g. --threads 1)
};

struct RunSummary {
  int points = 0;                       ///< in the sweep
  int skipped = 0;                      ///< already done by an earlier run
  int ok = 0, failed = 0, missing = 0;  ///< of the points run now
  int task_restarts = 0;
  double seconds = 0;
  std::string job_ids;  ///< slurm: the submitted job ids, comma-separated
};

/// Runs the points of `sw` that are not done yet and collects every row into
/// DIR's database and CSV. Throws std::runtime_error when a backend cannot run
/// at all (no sbatch, a submission refused).
RunSummary run_sweep(const config::Sweep& sw, const RunOptions& opt);

/// The slurm batch script of one job array: array index i runs task `offset` + i
/// of `task_file` (`tasks` indices, 0..tasks-1), as attempt `attempt` (what
/// --dry-run prints, for attempt 1 and offset 0).
std::string slurm_script(const config::Sweep& sw, const RunOptions& opt,
                         const std::string& task_file, int tasks, int attempt, int offset);

/// Fills a row's metric cells for one point; throws on failure (the message
/// goes into the row's `error`).
using PointEvaluator = std::function<void(const config::Sweep&, const config::SweepPoint&, Row&)>;

/// A worker: evaluates task `task` of `task_file` (the points without an ok row
/// yet) and writes their rows. Returns the number of failed points.
int run_worker(const config::Sweep& sw, const std::string& out_dir, const std::string& task_file,
               int task, int attempt, const std::string& backend, const std::string& version,
               const PointEvaluator& evaluate);

/// The Slurm array specification of task indices: "0-11", "3,7,9-10".
std::string array_spec(const std::vector<int>& tasks);

/// `s` quoted for a POSIX shell.
std::string shell_quote(const std::string& s);

}  // namespace ristsim::sweep
