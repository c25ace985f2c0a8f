// The YAML reading helpers of sim/config (internal: included only by its .cpp
// files, which are the only code that sees yaml-cpp). Every error is a
// ConfigError naming the file, the 1-based line and column of the offending
// node (yaml-cpp's mark) and what was expected.
#pragma once

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/arch_yaml.h"  // ConfigError

namespace ristsim::config::detail {

inline std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

inline const char* node_kind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    default: return "an undefined node";
  }
}

/// Parsing state: the file name, for messages.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const YAML::Mark& m, const std::string& msg) const {
    if (m.is_null()) throw ConfigError(file_, 0, 0, msg);
    throw ConfigError(file_, m.line + 1, m.column + 1, msg);
  }
  [[noreturn]] void fail(const YAML::Node& n, const std::string& msg) const { fail(n.Mark(), msg); }

  /// Parses YAML text holding exactly one document (a null node for an empty file); a syntax
  /// error is "malformed YAML: " with yaml-cpp's mark, and anything after the document (a
  /// second document after `---` or `...`, even one that is not YAML) is an error.
  ///
  /// (Not YAML::LoadAll: yaml-cpp 0.7's LoadAll loops forever on some malformed input, found by
  /// fuzzing. The parser is asked for exactly two documents instead.)
  YAML::Node load(const std::string& text) const {
    YAML::Node root;
    try {
      root = YAML::Load(text);
      std::istringstream in(text);
      YAML::Parser parser(in);
      DocumentStart first, second;
      parser.HandleNextDocument(first);
      if (parser.HandleNextDocument(second)) {
        YAML::Mark m = second.mark;
        if (m.is_null() || m.line <= 0) m = last_marker(text);
        fail(m, "a second YAML document: the file must hold one document (remove what follows "
                "the '---' or '...' marker)");
      }
    } catch (const YAML::Exception& e) {
      fail(e.mark, "malformed YAML: " + e.msg);
    }
    return root;
  }

  /// Records where a document starts and ignores its content.
  struct DocumentStart : YAML::EventHandler {
    YAML::Mark mark = YAML::Mark::null_mark();
    void OnDocumentStart(const YAML::Mark& m) override { mark = m; }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
  };

  /// The position of the last line that starts with a document marker (--- or ...).
  static YAML::Mark last_marker(const std::string& text) {
    YAML::Mark m = YAML::Mark::null_mark();
    int line = 0;
    for (std::size_t i = 0; i < text.size(); ++line) {
      const std::size_t e = std::min(text.find('\n', i), text.size());
      if (text.compare(i, 3, "---") == 0 || text.compare(i, 3, "...") == 0) {
        m.line = line;
        m.column = 0;
        m.pos = static_cast<int>(i);
      }
      i = e + 1;
    }
    return m;
  }

  std::string scalar(const YAML::Node& n, const std::string& where,
                     const std::string& expected) const {
    if (!n.IsScalar()) fail(n, "expected " + expected + " for " + where + ", got " + node_kind(n));
    return n.Scalar();
  }

  long long integer(const YAML::Node& n, const std::string& where, long long lo,
                    long long hi) const {
    const std::string expected = "an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
    const std::string s = scalar(n, where, expected);
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno == ERANGE)
      fail(n, "expected " + expected + " for " + where + ", got '" + s + "'");
    if (v < lo || v > hi) fail(n, where + " is " + s + ", expected " + expected);
    return v;
  }

  uint64_t unsigned64(const YAML::Node& n, const std::string& where) const {
    const std::string expected = "a non-negative integer below 2^64";
    const std::string s = scalar(n, where, expected);
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (s.empty() || s[0] == '-' || *end != '\0' || errno == ERANGE)
      fail(n, "expected " + expected + " for " + where + ", got '" + s + "'");
    return v;
  }

  double real(const YAML::Node& n, const std::string& where, double lo_exclusive) const {
    const std::string s = scalar(n, where, "a number");
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v))
      fail(n, "expected a finite number for " + where + ", got '" + s + "'");
    if (!(v > lo_exclusive))
      fail(n, where + " is " + s + ", expected a number above " + std::to_string(lo_exclusive));
    return v;
  }

  bool on_off(const YAML::Node& n, const std::string& where) const {
    const std::string s = scalar(n, where, "on or off");
    if (s == "on" || s == "true") return true;
    if (s == "off" || s == "false") return false;
    fail(n, "expected on or off for " + where + ", got '" + s + "'");
  }

  /// One of `names`; returns its index.
  size_t choice(const YAML::Node& n, const std::string& where,
                const std::vector<std::string>& names) const {
    const std::string s = scalar(n, where, "one of " + join(names));
    for (size_t i = 0; i < names.size(); ++i)
      if (s == names[i]) return i;
    fail(n, "unknown value '" + s + "' for " + where + " (expected one of: " + join(names) + ")");
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

/// A YAML map checked for scalar, unique keys; lookups keep the key's mark.
class MapView {
 public:
  MapView(const Reader& r, const YAML::Node& n, std::string where, const std::string& expected)
      : r_(r), node_(n), where_(std::move(where)) {
    if (!n.IsMap())
      r.fail(n, "expected a map (" + expected + ") for " + where_ + ", got " + node_kind(n));
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar()) r.fail(it->first, "expected a plain key in " + where_);
      const std::string key = it->first.Scalar();
      for (const auto& e : entries_)
        if (e.key == key)
          r.fail(it->first, "duplicate key '" + key + "' in " + where_ + " (first at line " +
                                std::to_string(e.key_node.Mark().line + 1) + ")");
      entries_.push_back({key, it->first, it->second});
    }
  }

  /// Every key must be one of `allowed`.
  void allow_only(const std::vector<std::string>& allowed) const {
    for (const auto& e : entries_) {
      bool ok = false;
      for (const std::string& a : allowed) ok = ok || a == e.key;
      if (!ok)
        r_.fail(e.key_node, "unknown key '" + e.key + "' in " + where_ +
                                " (expected one of: " + join(allowed) + ")");
    }
  }

  /// The value of `key`, or nullptr.
  const YAML::Node* find(const std::string& key) const {
    for (const auto& e : entries_)
      if (e.key == key) return &e.value;
    return nullptr;
  }

  const YAML::Node& need(const std::string& key, const std::string& why = "") const {
    const YAML::Node* n = find(key);
    if (!n)
      r_.fail(node_,
              "missing key '" + key + "' in " + where_ + (why.empty() ? "" : " (" + why + ")"));
    return *n;
  }

  std::string sub(const std::string& key) const { return where_ + "." + key; }
  const std::string& where() const { return where_; }
  const YAML::Node& node() const { return node_; }

  struct Entry {
    std::string key;
    YAML::Node key_node, value;
  };
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  const Reader& r_;
  YAML::Node node_;
  std::string where_;
  std::vector<Entry> entries_;
};

/// The bytes of a file; ConfigError "PATH: cannot open `what`" (or read).
inline std::string read_file(const std::string& path, const std::string& what) {
  std::ifstream is(path, std::ios::binary);
  if (!is) throw ConfigError(path, 0, 0, "cannot open " + what);
  std::ostringstream ss;
  ss << is.rdbuf();
  if (is.bad()) throw ConfigError(path, 0, 0, "cannot read " + what);
  return ss.str();
}

}  // namespace ristsim::config::detail
