// The results of a sweep (docs/sweep.md): one row per point.
//
// Every task writes each point's row as its own small file, DIR/rows/<point id>.row
// (written to a temporary name and renamed, so a row is either whole or absent),
// and the collector (the `ristsim sweep` process that submitted the work) merges
// them into DIR/results.sqlite (WAL mode, the only writer) and DIR/results.csv.
// Why not every task writing into SQLite: SQLite's locking (and WAL's shared
// memory index) is unreliable on the network filesystems a cluster shares
// between nodes (NFS, Lustre), and a task killed mid-transaction must not be
// able to damage the results of the others. Row files need nothing but an
// atomic rename in one folder; they are also what makes a re-run resumable: a
// point with an `ok` row is done.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ristsim::sweep {

/// One point's results: named cells (absent: not measured). Values are kept as
/// text; the column's kind says how the database stores them.
struct Row {
  std::map<std::string, std::string> cells;

  bool has(const std::string& k) const { return cells.count(k) > 0; }
  const std::string& get(const std::string& k) const;  ///< "" when absent
  double number(const std::string& k) const;           ///< NaN when absent or not a number
  void set(const std::string& k, const std::string& v) { cells[k] = v; }
  void set(const std::string& k, double v);
  void set_int(const std::string& k, int64_t v) { cells[k] = std::to_string(v); }
};

enum class Kind { text, integer, real, value /* axis value: a number when it reads as one */ };

struct Column {
  std::string name;
  Kind kind;
  bool timing;  ///< differs between two runs of the same point (times, host, attempt)
};

/// The fixed columns of every sweep's table, in order (axis columns follow `arch_hash`).
const std::vector<Column>& fixed_columns();

/// The table's columns for a sweep with these axis paths.
std::vector<Column> columns_for(const std::vector<std::string>& axes);

/// Writes DIR/rows/<row's point_id>.row atomically.
void write_row_file(const std::string& dir, const Row& row);
/// Reads one row file; throws std::runtime_error naming the file when malformed.
Row read_row_file(const std::string& path);
/// All row files of DIR/rows, by point id.
std::map<std::string, Row> read_row_files(const std::string& dir);

/// The sweep's database, DIR/results.sqlite: table `points`, one row per point
/// id (primary key), a column per fixed column and per axis; table `sweep`
/// (key, value): the sweep's name, file and axes.
class Database {
 public:
  /// Opens (creates) DIR/results.sqlite in WAL mode; adds missing columns.
  Database(const std::string& dir, const std::vector<std::string>& axes);
  /// Opens an existing database read-only (for reports). Throws when missing.
  static Database open_read_only(const std::string& dir);
  ~Database();
  Database(Database&&) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void set_meta(const std::string& key, const std::string& value);
  std::string meta(const std::string& key) const;  ///< "" when absent
  /// Inserts or replaces the rows (one transaction).
  void upsert(const std::vector<Row>& rows);
  /// Every row, ordered by idx then point_id.
  std::vector<Row> rows() const;
  /// The table's column names, in order.
  std::vector<std::string> column_names() const;
  /// Writes the table as CSV (RFC 4180 quoting) to `path`, atomically.
  void write_csv(const std::string& path) const;

 private:
  Database() = default;
  struct Impl;
  Impl* impl_ = nullptr;
};

/// The ristsim results folder's file names.
std::string rows_dir(const std::string& dir);
std::string database_path(const std::string& dir);
std::string csv_path(const std::string& dir);

/// "2026-12-03T13:47:56Z"
std::string utc_now();

}  // namespace ristsim::sweep
