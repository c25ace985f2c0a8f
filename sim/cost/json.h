// A minimal JSON writer for report.json: objects, arrays, strings, numbers
// (non-finite numbers are written as null), booleans. No reader.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace ristsim::cost {

class JsonWriter {
 public:
  JsonWriter& begin_object(const std::string& key = "") { return open(key, '{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array(const std::string& key = "") { return open(key, '['); }
  JsonWriter& end_array() { return close(']'); }

  JsonWriter& value(const std::string& key, const std::string& v) { return raw(key, quote(v)); }
  JsonWriter& value(const std::string& key, const char* v) { return raw(key, quote(v)); }
  JsonWriter& value(const std::string& key, double v) { return raw(key, number(v)); }
  JsonWriter& value(const std::string& key, int v) { return raw(key, std::to_string(v)); }
  JsonWriter& value(const std::string& key, uint64_t v) { return raw(key, std::to_string(v)); }
  JsonWriter& value(const std::string& key, bool v) { return raw(key, v ? "true" : "false"); }
  JsonWriter& null(const std::string& key) { return raw(key, "null"); }

  const std::string& str() const { return out_; }

  static std::string quote(const std::string& s) {
    std::string r = "\"";
    for (unsigned char c : s) {
      switch (c) {
        case '"': r += "\\\""; break;
        case '\\': r += "\\\\"; break;
        case '\n': r += "\\n"; break;
        case '\t': r += "\\t"; break;
        case '\r': r += "\\r"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            r += buf;
          } else {
            r += static_cast<char>(c);
          }
      }
    }
    return r + "\"";
  }
  static std::string number(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
  }

 private:
  JsonWriter& open(const std::string& key, char c) {
    prefix(key);
    out_ += c;
    first_.push_back(true);
    return *this;
  }
  JsonWriter& close(char c) {
    first_.pop_back();
    out_ += "\n" + std::string(2 * first_.size(), ' ') + c;
    if (first_.empty()) out_ += "\n";
    return *this;
  }
  JsonWriter& raw(const std::string& key, const std::string& v) {
    prefix(key);
    out_ += v;
    return *this;
  }
  void prefix(const std::string& key) {
    if (!first_.empty()) {
      if (!first_.back()) out_ += ",";
      first_.back() = false;
      out_ += "\n" + std::string(2 * first_.size(), ' ');
    }
    if (!key.empty()) out_ += quote(key) + ": ";
  }

  std::string out_;
  std::vector<bool> first_;
};

}  // namespace ristsim::cost
