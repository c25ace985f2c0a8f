// The sweep collector, its local and Slurm backends, and the worker (run.h).
#include "sweep/run.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "config/describe.h"
#include "util/output.h"

namespace ristsim::sweep {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kTaskMagic = "# ristsim sweep tasks 1";

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

/// The task file: one line per task, its point ids separated by spaces.
std::vector<std::vector<std::string>> read_task_file(const std::string& path) {
  std::ifstream is(path);
  if (!is) throw std::runtime_error(path + ": cannot open the task file");
  std::string line;
  if (!std::getline(is, line) || line.rfind(kTaskMagic, 0) != 0)
    throw std::runtime_error(path + ":1: not a ristsim sweep task file");
  std::vector<std::vector<std::string>> tasks;
  while (std::getline(is, line)) {
    std::stringstream ss(line);
    std::vector<std::string> ids;
    for (std::string id; ss >> id;) ids.push_back(id);
    tasks.push_back(ids);
  }
  return tasks;
}

/// Runs a shell command, returning its stdout; rc in *rc.
std::string capture(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) {
    *rc = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string duration_text(double s) {
  if (!(s >= 0) || s > 1e7) return "?";
  const long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

/// The collector's state: which points of this run have rows, and the database.
class Collector {
 public:
  Collector(const config::Sweep& sw, const std::string& dir, std::vector<std::string> todo)
      : dir_(dir), todo_(todo.begin(), todo.end()), db_(dir, axis_names(sw)) {
    db_.set_meta("name", sw.name);
    db_.set_meta("sweep_file", fs::absolute(sw.path).string());
    std::string axes;
    for (const config::SweepAxis& a : sw.axes) axes += (axes.empty() ? "" : "\n") + a.path;
    db_.set_meta("axes", axes);
    db_.set_meta("points", std::to_string(sw.points.size()));
  }

  static std::vector<std::string> axis_names(const config::Sweep& sw) {
    std::vector<std::string> v;
    for (const config::SweepAxis& a : sw.axes) v.push_back(a.path);
    return v;
  }

  /// Merges new or changed row files into the database.
  void ingest() {
    std::error_code ec;
    const fs::path rd = rows_dir(dir_);
    if (!fs::exists(rd, ec)) return;
    std::vector<Row> fresh;
    for (const fs::directory_entry& e : fs::directory_iterator(rd, ec)) {
      const fs::path p = e.path();
      if (p.extension() != ".row" || p.filename().string()[0] == '.') continue;
      const auto mtime = fs::last_write_time(p, ec);
      if (ec) continue;
      const std::string id = p.stem().string();
      auto it = seen_.find(id);
      if (it != seen_.end() && it->second == mtime) continue;
      Row r = read_row_file(p.string());
      seen_[id] = mtime;
      status_[id] = r.get("status");
      fresh.push_back(std::move(r));
    }
    db_.upsert(fresh);
  }

  bool has_row(const std::string& id) const { return status_.count(id) > 0; }
  int count(const std::string& status) const {
    int n = 0;
    for (const std::string& id : todo_) {
      auto it = status_.find(id);
      if (it != status_.end() && it->second == status) ++n;
    }
    return n;
  }
  int done() const {
    int n = 0;
    for (const std::string& id : todo_) n += status_.count(id) ? 1 : 0;
    return n;
  }
  void finish() { db_.write_csv(csv_path(dir_)); }

 private:
  std::string dir_;
  std::set<std::string> todo_;
  Database db_;
  std::map<std::string, fs::file_time_type> seen_;
  std::map<std::string, std::string> status_;
};

/// The progress line: points done/failed/running, ETA (on a terminal only).
class Progress {
 public:
  Progress(bool on, std::string name, int total)
      : on_(on), name_(std::move(name)), total_(total), t0_(Clock::now()) {}
  void draw(int done, int failed, int running) {
    if (!on_) return;
    const int width = 30;
    const int fill = total_ ? done * width / total_ : width;
    const double el = since(t0_);
    const std::string eta = done > 0 && done < total_ ? duration_text(el / done * (total_ - done))
                            : done >= total_          ? "0:00"
                                                      : "?";
    std::fprintf(stderr, "\r%s [%s%s] %d/%d done, %d failed, %d running, %s elapsed, ETA %s  ",
                 name_.c_str(), std::string(fill, '#').c_str(),
                 std::string(width - fill, '.').c_str(), done, total_, failed, running,
                 duration_text(el).c_str(), eta.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  void end() {
    if (on_ && drawn_) std::fprintf(stderr, "\n");
  }

 private:
  bool on_;
  std::string name_;
  int total_;
  Clock::time_point t0_;
  bool drawn_ = false;
};

std::vector<std::string> worker_argv(const config::Sweep& sw, const RunOptions& opt,
                                     const std::string& task_file, const std::string& task,
                                     int attempt, const char* backend) {
  std::vector<std::string> a = {opt.exe,
                                "sweep",
                                fs::absolute(sw.path).string(),
                                "--out",
                                fs::absolute(opt.out_dir).string(),
                                "--worker",
                                fs::absolute(task_file).string(),
                                "--task",
                                task,
                                "--attempt",
                                std::to_string(attempt),
                                "--backend",
                                backend};
  a.insert(a.end(), opt.worker_args.begin(), opt.worker_args.end());
  return a;
}

// ---------------------------------------------------------------- local backend

/// Runs `tasks` (indices) with at most opt.jobs processes at once.
void run_local(const config::Sweep& sw, const RunOptions& opt, const std::string& task_file,
               const std::vector<int>& tasks, int attempt, Collector& col, Progress& bar) {
  const fs::path logs = fs::path(opt.out_dir) / "logs";
  fs::create_directories(logs);
  std::map<pid_t, int> running;
  size_t next = 0;
  auto tick = Clock::now();
  while (next < tasks.size() || !running.empty()) {
    while (next < tasks.size() && static_cast<int>(running.size()) < opt.jobs) {
      const int t = tasks[next++];
      const std::vector<std::string> args =
          worker_argv(sw, opt, task_file, std::to_string(t), attempt, "local");
      const std::string log = (logs / ("local-task" + std::to_string(t) + "-attempt" +
                                       std::to_string(attempt) + ".log"))
                                  .string();
      std::fflush(stdout);
      std::fflush(stderr);
      const pid_t pid = fork();
      if (pid < 0) throw std::runtime_error("cannot start a worker process (fork failed)");
      if (pid == 0) {
        const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
          dup2(fd, 1);
          dup2(fd, 2);
          close(fd);
        }
        std::vector<char*> argv;
        for (const std::string& s : args) argv.push_back(const_cast<char*>(s.c_str()));
        argv.push_back(nullptr);
        execv(args[0].c_str(), argv.data());
        _exit(127);
      }
      running[pid] = t;
    }
    int st = 0;
    const pid_t done = waitpid(-1, &st, WNOHANG);
    if (done > 0) {
      running.erase(done);
      continue;
    }
    if (done < 0 && errno != EINTR && errno != ECHILD) throw std::runtime_error("waitpid failed");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (since(tick) >= opt.poll_seconds) {
      tick = Clock::now();
      col.ingest();
      bar.draw(col.done(), col.count("failed"), static_cast<int>(running.size()));
    }
  }
}

// ---------------------------------------------------------------- slurm backend

/// The cluster's MaxArraySize (array indices must be below it); 1001, Slurm's
/// default, when scontrol does not say.
int max_array_size() {
  int rc = 0;
  const std::string out = capture("scontrol show config", &rc);
  const size_t at = out.find("MaxArraySize");
  int v = 0;
  if (rc == 0 && at != std::string::npos && std::sscanf(out.c_str() + at, "MaxArraySize = %d", &v) == 1 &&
      v > 1)
    return v;
  return 1001;
}

/// Submits the tasks as job arrays (one per block of MaxArraySize task indices:
/// index i of the array with offset o is task o + i) and waits for
/// them to leave the queue. Returns the job ids, comma-separated.
std::string run_slurm(const config::Sweep& sw, const RunOptions& opt, const std::string& task_file,
                      const std::vector<int>& tasks, int attempt, Collector& col, Progress& bar) {
  const fs::path sdir = fs::path(opt.out_dir) / "slurm";
  fs::create_directories(sdir);
  fs::create_directories(fs::path(opt.out_dir) / "logs");
  const int block = max_array_size();
  std::map<int, std::vector<int>> by_offset;
  for (int t : tasks) by_offset[t / block * block].push_back(t - t / block * block);
  std::vector<std::string> jobs;
  for (const auto& [offset, indices] : by_offset) {
    const std::string script_path =
        (sdir / (fs::path(task_file).stem().string() + "-attempt" + std::to_string(attempt) +
                 (offset ? "-offset" + std::to_string(offset) : std::string()) + ".sh"))
            .string();
    const int last = *std::max_element(indices.begin(), indices.end());
    util::write_file(script_path,
                            slurm_script(sw, opt, task_file, last + 1, attempt, offset));
    fs::permissions(script_path, fs::perms::owner_all, fs::perm_options::add);
    // The script's --array covers the block; a retry names only the tasks to redo.
    std::string spec = array_spec(indices);
    if (sw.slurm.max_running > 0) spec += "%" + std::to_string(sw.slurm.max_running);
    int rc = 0;
    const std::string out = trim(capture(
        "sbatch --parsable --array=" + shell_quote(spec) + " " + shell_quote(script_path), &rc));
    if (rc != 0) throw std::runtime_error("sbatch refused the sweep's job array: " + out);
    const std::string job = out.substr(0, out.find(';'));
    if (job.empty() || job.find_first_not_of("0123456789") != std::string::npos)
      throw std::runtime_error("sbatch printed no job id (got '" + out + "')");
    jobs.push_back(job);
  }
  std::string ids;
  for (const std::string& j : jobs) ids += (ids.empty() ? "" : ",") + j;

  // Poll squeue until none of the arrays' tasks is left in the queue.
  int errors = 0;
  while (true) {
    std::this_thread::sleep_for(
        std::chrono::milliseconds(static_cast<int>(opt.poll_seconds * 1000)));
    int rc = 0;
    const std::string q = capture("squeue -h -r -j " + ids + " -o '%i %T'", &rc);
    col.ingest();
    int in_queue = 0, running = 0;
    if (rc == 0) {
      errors = 0;
      std::stringstream ss(q);
      std::string id, state;
      while (ss >> id >> state) {
        ++in_queue;
        running += state == "RUNNING" || state == "COMPLETING" ? 1 : 0;
      }
    } else if (q.find("Invalid job id") != std::string::npos) {
      in_queue = 0;  // the controller has already forgotten the finished jobs
    } else if (++errors > 30) {
      throw std::runtime_error("squeue keeps failing: " + trim(q));
    } else {
      in_queue = 1;
    }
    bar.draw(col.done(), col.count("failed"), running);
    if (in_queue == 0) break;
  }
  return ids;
}

}  // namespace

std::string shell_quote(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

std::string array_spec(const std::vector<int>& tasks) {
  std::vector<int> t = tasks;
  std::sort(t.begin(), t.end());
  std::string s;
  for (size_t i = 0; i < t.size();) {
    size_t j = i;
    while (j + 1 < t.size() && t[j + 1] == t[j] + 1) ++j;
    s += (s.empty() ? "" : ",") + std::to_string(t[i]) +
         (j > i ? "-" + std::to_string(t[j]) : std::string());
    i = j + 1;
  }
  return s;
}

std::string slurm_script(const config::Sweep& sw, const RunOptions& opt,
                         const std::string& task_file, int tasks, int attempt, int offset) {
  const config::SweepSlurm& s = sw.slurm;
  const std::string logs = (fs::absolute(opt.out_dir) / "logs").string();
  std::ostringstream os;
  os << "#!/bin/bash\n"
     << "# ristsim sweep '" << sw.name << "': " << tasks << " tasks of at most "
     << s.points_per_task << " points (generated; " << sw.points.size()
     << " points in the sweep).\n"
     << "# Array task i evaluates task " << offset
     << " + i, a line of the task file, and writes one row file per point (attempt " << attempt
     << ").\n"
     << "#SBATCH --job-name="
     << "ristsim-sweep-" << sw.name << "\n"
     << "#SBATCH --array=0-" << tasks - 1 << "\n"
     << "#SBATCH --output=" << logs << "/slurm-%A_%a.out\n"
     << "#SBATCH --ntasks=1\n"
     << "#SBATCH --cpus-per-task=" << s.cpus_per_task << "\n";
  if (!s.mem.empty()) os << "#SBATCH --mem=" << s.mem << "\n";
  if (!s.time.empty()) os << "#SBATCH --time=" << s.time << "\n";
  if (!s.partition.empty()) os << "#SBATCH --partition=" << s.partition << "\n";
  if (!s.account.empty()) os << "#SBATCH --account=" << s.account << "\n";
  if (!s.qos.empty()) os << "#SBATCH --qos=" << s.qos << "\n";
  for (const std::string& e : s.extra) os << "#SBATCH " << e << "\n";
  os << "set -eu\n";
  const std::vector<std::string> argv = worker_argv(sw, opt, task_file, "", attempt, "slurm");
  os << "exec";
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i > 0 && argv[i - 1] == "--task")
      os << (offset ? " \"$((SLURM_ARRAY_TASK_ID + " + std::to_string(offset) + "))\""
                    : std::string(" \"${SLURM_ARRAY_TASK_ID}\""));
    else
      os << " " << shell_quote(argv[i]);
  }
  os << "\n";
  return os.str();
}

RunSummary run_sweep(const config::Sweep& sw, const RunOptions& opt) {
  const auto t0 = Clock::now();
  RunSummary sum;
  sum.points = static_cast<int>(sw.points.size());
  const int retries = opt.retries >= 0 ? opt.retries : sw.slurm.max_retries;

  // The points to do: those without an ok row from an earlier run.
  std::map<std::string, Row> old;
  if (!opt.dry_run) old = read_row_files(opt.out_dir);
  std::vector<std::string> todo;
  for (const config::SweepPoint& p : sw.points) {
    auto it = old.find(p.id);
    if (it != old.end() && it->second.get("status") == "ok") {
      ++sum.skipped;
    } else {
      todo.push_back(p.id);
      // A failed row of an earlier run: this run writes the point's row again.
      std::error_code ec;
      if (it != old.end()) fs::remove(fs::path(rows_dir(opt.out_dir)) / (p.id + ".row"), ec);
    }
  }
  // Tasks of points_per_task points, in sweep order.
  std::vector<std::vector<std::string>> tasks;
  const size_t per = static_cast<size_t>(std::max(1, sw.slurm.points_per_task));
  for (size_t i = 0; i < todo.size(); i += per)
    tasks.emplace_back(todo.begin() + i, todo.begin() + std::min(todo.size(), i + per));

  const std::string tag =
      "run-" + std::to_string(std::time(nullptr)) + "-" + std::to_string(getpid());
  const std::string task_file = (fs::path(opt.out_dir) / "tasks" / (tag + ".tasks")).string();
  if (opt.dry_run) {
    // The first array of the submission (a sweep of more tasks than the
    // cluster's MaxArraySize is submitted as several, with offsets).
    std::printf("%s",
                slurm_script(sw, opt, task_file, std::min<int>(static_cast<int>(tasks.size()), 1001),
                             1, 0)
                    .c_str());
    return sum;
  }
  fs::create_directories(fs::path(task_file).parent_path());
  {
    std::ostringstream os;
    os << kTaskMagic << " " << fs::absolute(sw.path).string() << "\n";
    for (const auto& t : tasks) {
      for (size_t i = 0; i < t.size(); ++i) os << (i ? " " : "") << t[i];
      os << "\n";
    }
    util::write_file(task_file, os.str());
  }

  Collector col(sw, opt.out_dir, todo);
  col.ingest();
  Progress bar(opt.progress, sw.name, static_cast<int>(todo.size()));
  std::vector<int> pending;
  for (size_t t = 0; t < tasks.size(); ++t) pending.push_back(static_cast<int>(t));
  for (int attempt = 1; !pending.empty(); ++attempt) {
    if (opt.backend == Backend::local) {
      run_local(sw, opt, task_file, pending, attempt, col, bar);
    } else {
      const std::string job = run_slurm(sw, opt, task_file, pending, attempt, col, bar);
      sum.job_ids += (sum.job_ids.empty() ? "" : ",") + job;
    }
    col.ingest();
    // Tasks that ended without a row for each of their points are started again.
    std::vector<int> again;
    for (int t : pending)
      for (const std::string& id : tasks[t])
        if (!col.has_row(id)) {
          again.push_back(t);
          break;
        }
    if (attempt > retries) break;
    sum.task_restarts += static_cast<int>(again.size());
    pending = again;
  }
  col.ingest();
  bar.draw(col.done(), col.count("failed"), 0);
  bar.end();
  col.finish();
  sum.ok = col.count("ok");
  sum.failed = col.count("failed");
  sum.missing = static_cast<int>(todo.size()) - col.done();
  sum.seconds = since(t0);
  return sum;
}

int run_worker(const config::Sweep& sw, const std::string& out_dir, const std::string& task_file,
               int task, int attempt, const std::string& backend, const std::string& version,
               const PointEvaluator& evaluate) {
  const std::vector<std::vector<std::string>> tasks = read_task_file(task_file);
  if (task < 0 || task >= static_cast<int>(tasks.size()))
    throw std::runtime_error(task_file + ": there is no task " + std::to_string(task) +
                             " (it has " + std::to_string(tasks.size()) + ")");
  std::map<std::string, const config::SweepPoint*> by_id;
  for (const config::SweepPoint& p : sw.points) by_id[p.id] = &p;
  int failed = 0;
  for (const std::string& id : tasks[task]) {
    auto it = by_id.find(id);
    if (it == by_id.end())
      throw std::runtime_error("point " + id + " of " + task_file +
                               " is not in the sweep file (was it changed since the submission?)");
    // An earlier attempt of this task may have done the point (only its own rows are read).
    const fs::path done = fs::path(rows_dir(out_dir)) / (id + ".row");
    std::error_code ec;
    if (fs::exists(done, ec) && read_row_file(done.string()).get("status") == "ok") continue;
    const config::SweepPoint& p = *it->second;
    Row row;
    row.set("point_id", p.id);
    row.set_int("idx", p.index);
    row.set("model", sw.models[p.model].name);
    row.set("arch_name", p.arch.name);
    char hash[20];
    std::snprintf(hash, sizeof hash, "%016llx",
                  static_cast<unsigned long long>(config::fnv1a64(p.arch.text)));
    row.set("arch_hash", hash);
    for (size_t a = 0; a < sw.axes.size(); ++a)
      row.set(sw.axes[a].path, sw.axes[a].values[p.value[a]]);
    row.set("version", version);
    row.set("host", hostname());
    row.set("backend", backend);
    row.set_int("task", task);
    row.set_int("attempt", attempt);
    row.set("started_at", utc_now());
    const auto t0 = Clock::now();
    std::printf("point %d (%s): %s\n", p.index, p.id.c_str(), sw.label(p).c_str());
    std::fflush(stdout);
    try {
      evaluate(sw, p, row);
      row.set("status", "ok");
    } catch (const std::exception& e) {
      row.set("status", "failed");
      row.set("error", e.what());
      std::printf("  failed: %s\n", e.what());
      ++failed;
    }
    row.set("seconds", since(t0));
    row.set("finished_at", utc_now());
    write_row_file(out_dir, row);
  }
  return failed;
}

}  // namespace ristsim::sweep
