// Row files, the SQLite database and the CSV of a sweep (results.h).
#include "sweep/results.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "util/output.h"

namespace ristsim::sweep {

namespace fs = std::filesystem;

namespace {

// Row files: one "key<TAB>value" line per cell; backslash escapes \\, \t, \n, \r.
std::string escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    switch (c) {
      case '\\': r += "\\\\"; break;
      case '\t': r += "\\t"; break;
      case '\n': r += "\\n"; break;
      case '\r': r += "\\r"; break;
      default: r += c;
    }
  }
  return r;
}

bool unescape(const std::string& s, std::string* out) {
  out->clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      *out += s[i];
      continue;
    }
    if (++i == s.size()) return false;
    switch (s[i]) {
      case '\\': *out += '\\'; break;
      case 't': *out += '\t'; break;
      case 'n': *out += '\n'; break;
      case 'r': *out += '\r'; break;
      default: return false;
    }
  }
  return true;
}

constexpr const char* kRowMagic = "# ristsim sweep row 1";

bool parse_number(const std::string& s, double* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return *end == '\0' && std::isfinite(*v);
}

bool parse_integer(const std::string& s, long long* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  *v = std::strtoll(s.c_str(), &end, 10);
  return *end == '\0';
}

std::string quote_ident(const std::string& s) {
  std::string r = "\"";
  for (char c : s) r += c == '"' ? std::string("\"\"") : std::string(1, c);
  return r + "\"";
}

const char* sql_type(Kind k) {
  switch (k) {
    case Kind::text: return "TEXT";
    case Kind::integer: return "INTEGER";
    case Kind::real: return "REAL";
    case Kind::value: return "";  // no affinity: numbers stay numbers, words stay words
  }
  return "";
}

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string r = "\"";
  for (char c : s) r += c == '"' ? std::string("\"\"") : std::string(1, c);
  return r + "\"";
}

}  // namespace

const std::string& Row::get(const std::string& k) const {
  static const std::string empty;
  const auto it = cells.find(k);
  return it == cells.end() ? empty : it->second;
}

double Row::number(const std::string& k) const {
  double v;
  return parse_number(get(k), &v) ? v : NAN;
}

void Row::set(const std::string& k, double v) {
  if (!std::isfinite(v)) return;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  cells[k] = buf;
}

const std::vector<Column>& fixed_columns() {
  static const std::vector<Column> cols = {
      {"point_id", Kind::text, false},
      {"idx", Kind::integer, false},
      {"model", Kind::text, false},
      {"arch_name", Kind::text, false},
      {"arch_hash", Kind::text, false},
      {"status", Kind::text, false},
      {"error", Kind::text, false},
      {"top1", Kind::real, false},
      {"top1_fp32", Kind::real, false},
      {"images", Kind::integer, false},
      {"energy_pj", Kind::real, false},
      {"energy_per_mac_pj", Kind::real, false},
      {"area_um2", Kind::real, false},
      {"macs", Kind::integer, false},
      {"cycles", Kind::integer, false},
      {"inferences_per_s", Kind::real, false},
      {"cosim_layer", Kind::text, false},
      {"cosim_outputs", Kind::integer, false},
      {"cosim_mismatches", Kind::integer, false},
      {"version", Kind::text, false},
      {"seconds", Kind::real, true},
      {"started_at", Kind::text, true},
      {"finished_at", Kind::text, true},
      {"host", Kind::text, true},
      {"backend", Kind::text, true},
      {"task", Kind::integer, true},
      {"attempt", Kind::integer, true},
  };
  return cols;
}

std::vector<Column> columns_for(const std::vector<std::string>& axes) {
  std::vector<Column> cols;
  for (const Column& c : fixed_columns()) {
    cols.push_back(c);
    if (c.name == "arch_hash")
      for (const std::string& a : axes) cols.push_back({a, Kind::value, false});
  }
  return cols;
}

std::string rows_dir(const std::string& dir) {
  return (fs::path(dir) / "rows").string();
}
std::string database_path(const std::string& dir) {
  return (fs::path(dir) / "results.sqlite").string();
}
std::string csv_path(const std::string& dir) {
  return (fs::path(dir) / "results.csv").string();
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void write_row_file(const std::string& dir, const Row& row) {
  const std::string id = row.get("point_id");
  if (id.empty()) throw std::invalid_argument("a sweep row needs its point_id");
  std::ostringstream os;
  os << kRowMagic << "\n";
  for (const auto& [k, v] : row.cells) os << escape(k) << "\t" << escape(v) << "\n";
  std::error_code ec;
  fs::create_directories(rows_dir(dir), ec);
  util::write_file((fs::path(rows_dir(dir)) / (id + ".row")).string(), os.str());
}

Row read_row_file(const std::string& path) {
  std::ifstream is(path, std::ios::binary);
  if (!is) throw std::runtime_error(path + ": cannot open the row file");
  std::string line;
  if (!std::getline(is, line) || line != kRowMagic)
    throw std::runtime_error(path + ":1: not a ristsim sweep row file (expected '" +
                             std::string(kRowMagic) + "')");
  Row row;
  int n = 1;
  while (std::getline(is, line)) {
    ++n;
    const size_t tab = line.find('\t');
    std::string k, v;
    if (tab == std::string::npos || !unescape(line.substr(0, tab), &k) ||
        !unescape(line.substr(tab + 1), &v) || k.empty())
      throw std::runtime_error(path + ":" + std::to_string(n) + ": malformed row line");
    row.cells[k] = v;
  }
  if (row.get("point_id").empty()) throw std::runtime_error(path + ": the row has no point_id");
  return row;
}

std::map<std::string, Row> read_row_files(const std::string& dir) {
  std::map<std::string, Row> rows;
  std::error_code ec;
  const fs::path rd = rows_dir(dir);
  if (!fs::exists(rd, ec)) return rows;
  for (const fs::directory_entry& e : fs::directory_iterator(rd, ec)) {
    const fs::path p = e.path();
    if (p.extension() != ".row" || p.filename().string()[0] == '.') continue;
    Row r = read_row_file(p.string());
    rows[r.get("point_id")] = std::move(r);
  }
  if (ec) throw std::runtime_error("cannot list " + rd.string() + ": " + ec.message());
  return rows;
}

// ---------------------------------------------------------------- SQLite

struct Database::Impl {
  sqlite3* db = nullptr;
  std::string path;
  std::vector<Column> columns;  ///< the table's, in order

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(path + ": " + what + ": " + (db ? sqlite3_errmsg(db) : "no database"));
  }
  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string m = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error(path + ": " + m + " (in: " + sql.substr(0, 200) + ")");
    }
  }
  std::vector<std::string> table_columns() {
    std::vector<std::string> names;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA table_info(points)", -1, &st, nullptr) != SQLITE_OK)
      fail("cannot read the table's columns");
    while (sqlite3_step(st) == SQLITE_ROW)
      names.push_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
    sqlite3_finalize(st);
    return names;
  }
  /// The kind of a column name (axis columns: Kind::value).
  static Kind kind_of(const std::string& name) {
    for (const Column& c : fixed_columns())
      if (c.name == name) return c.kind;
    return Kind::value;
  }
  void load_columns() {
    columns.clear();
    for (const std::string& n : table_columns()) {
      bool timing = false;
      for (const Column& c : fixed_columns())
        if (c.name == n) timing = c.timing;
      columns.push_back({n, kind_of(n), timing});
    }
  }
};

Database::Database(const std::string& dir, const std::vector<std::string>& axes) {
  impl_ = new Impl;
  impl_->path = database_path(dir);
  if (sqlite3_open_v2(impl_->path.c_str(), &impl_->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK) {
    const std::string m = impl_->db ? sqlite3_errmsg(impl_->db) : "out of memory";
    sqlite3_close(impl_->db);
    delete impl_;
    impl_ = nullptr;
    throw std::runtime_error(database_path(dir) + ": cannot open the results database: " + m);
  }
  try {
    sqlite3_busy_timeout(impl_->db, 10000);
    impl_->exec("PRAGMA journal_mode=WAL");
    impl_->exec("PRAGMA synchronous=NORMAL");
    const std::vector<Column> want = columns_for(axes);
    std::string sql = "CREATE TABLE IF NOT EXISTS points (";
    for (size_t i = 0; i < want.size(); ++i)
      sql += (i ? ", " : "") + quote_ident(want[i].name) + " " + sql_type(want[i].kind) +
             (want[i].name == "point_id" ? " PRIMARY KEY" : "");
    impl_->exec(sql + ")");
    impl_->exec("CREATE TABLE IF NOT EXISTS sweep (key TEXT PRIMARY KEY, value TEXT)");
    // A sweep file that gained an axis since the last run: add its column.
    const std::vector<std::string> have = impl_->table_columns();
    for (const Column& c : want) {
      bool found = false;
      for (const std::string& h : have) found = found || h == c.name;
      if (!found)
        impl_->exec("ALTER TABLE points ADD COLUMN " + quote_ident(c.name) + " " +
                    sql_type(c.kind));
    }
    impl_->load_columns();
  } catch (...) {
    sqlite3_close(impl_->db);
    delete impl_;
    impl_ = nullptr;
    throw;
  }
}

Database Database::open_read_only(const std::string& dir) {
  const std::string path = database_path(dir);
  if (!fs::exists(path))
    throw std::runtime_error(path + ": no sweep results here (run 'ristsim sweep' first)");
  Database d;
  d.impl_ = new Impl;
  d.impl_->path = path;
  if (sqlite3_open_v2(path.c_str(), &d.impl_->db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    d.impl_->fail("cannot open the results database");
  sqlite3_busy_timeout(d.impl_->db, 10000);
  const std::vector<std::string> cols = d.impl_->table_columns();
  if (cols.empty()) d.impl_->fail("not a ristsim sweep database (no table 'points')");
  d.impl_->load_columns();
  return d;
}

Database::~Database() {
  if (impl_) {
    sqlite3_close(impl_->db);
    delete impl_;
  }
}

Database::Database(Database&& o) noexcept : impl_(o.impl_) {
  o.impl_ = nullptr;
}

void Database::set_meta(const std::string& key, const std::string& value) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(impl_->db, "INSERT OR REPLACE INTO sweep (key, value) VALUES (?, ?)", -1,
                         &st, nullptr) != SQLITE_OK)
    impl_->fail("cannot prepare");
  sqlite3_bind_text(st, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, value.c_str(), -1, SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) impl_->fail("cannot write the sweep's metadata");
}

std::string Database::meta(const std::string& key) const {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(impl_->db, "SELECT value FROM sweep WHERE key = ?", -1, &st, nullptr) !=
      SQLITE_OK)
    return "";
  sqlite3_bind_text(st, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  std::string v;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
    v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return v;
}

void Database::upsert(const std::vector<Row>& rows) {
  if (rows.empty()) return;
  const std::vector<Column>& cols = impl_->columns;
  std::string sql = "INSERT OR REPLACE INTO points (";
  std::string qs;
  for (size_t i = 0; i < cols.size(); ++i) {
    sql += (i ? ", " : "") + quote_ident(cols[i].name);
    qs += i ? ", ?" : "?";
  }
  sql += ") VALUES (" + qs + ")";
  impl_->exec("BEGIN IMMEDIATE");
  sqlite3_stmt* st = nullptr;
  try {
    if (sqlite3_prepare_v2(impl_->db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
      impl_->fail("cannot prepare the insert");
    for (const Row& r : rows) {
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      for (size_t i = 0; i < cols.size(); ++i) {
        const int at = static_cast<int>(i) + 1;
        if (!r.has(cols[i].name)) continue;  // NULL
        const std::string& v = r.get(cols[i].name);
        long long iv;
        double dv;
        const Kind k = cols[i].kind;
        if ((k == Kind::integer || k == Kind::value) && parse_integer(v, &iv))
          sqlite3_bind_int64(st, at, iv);
        else if ((k == Kind::real || k == Kind::value || k == Kind::integer) &&
                 parse_number(v, &dv))
          sqlite3_bind_double(st, at, dv);
        else
          sqlite3_bind_text(st, at, v.c_str(), -1, SQLITE_TRANSIENT);
      }
      if (sqlite3_step(st) != SQLITE_DONE) impl_->fail("cannot insert point " + r.get("point_id"));
    }
    sqlite3_finalize(st);
    impl_->exec("COMMIT");
  } catch (...) {
    sqlite3_finalize(st);
    sqlite3_exec(impl_->db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::vector<std::string> Database::column_names() const {
  std::vector<std::string> names;
  for (const Column& c : impl_->columns) names.push_back(c.name);
  return names;
}

std::vector<Row> Database::rows() const {
  std::vector<Row> out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(impl_->db, "SELECT * FROM points ORDER BY idx, point_id", -1, &st,
                         nullptr) != SQLITE_OK)
    impl_->fail("cannot read the points");
  const int n = sqlite3_column_count(st);
  while (sqlite3_step(st) == SQLITE_ROW) {
    Row r;
    for (int i = 0; i < n; ++i) {
      const std::string name = sqlite3_column_name(st, i);
      switch (sqlite3_column_type(st, i)) {
        case SQLITE_NULL: break;
        case SQLITE_INTEGER: r.set_int(name, sqlite3_column_int64(st, i)); break;
        case SQLITE_FLOAT: r.set(name, sqlite3_column_double(st, i)); break;
        default: r.set(name, reinterpret_cast<const char*>(sqlite3_column_text(st, i)));
      }
    }
    out.push_back(std::move(r));
  }
  sqlite3_finalize(st);
  return out;
}

void Database::write_csv(const std::string& path) const {
  const std::vector<std::string> names = column_names();
  std::ostringstream os;
  for (size_t i = 0; i < names.size(); ++i) os << (i ? "," : "") << csv_cell(names[i]);
  os << "\n";
  for (const Row& r : rows()) {
    for (size_t i = 0; i < names.size(); ++i) os << (i ? "," : "") << csv_cell(r.get(names[i]));
    os << "\n";
  }
  util::write_file(path, os.str());
}

}  // namespace ristsim::sweep
