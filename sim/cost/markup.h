// Helpers shared by the reports that write Markdown, HTML and gnuplot plots (the cost report,
// sim/cost/report.cpp, and the sweep report, sim/sweep/report.cpp): text escaping, finding a
// program on PATH, reading a file whole.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ristsim::cost {

/// `s` as the text of a Markdown table cell: `|` escaped, a line break as a space.
inline std::string md_cell(const std::string& s) {
  std::string r;
  for (char c : s)
    r += c == '|' ? std::string("\\|") : c == '\n' ? std::string(" ") : std::string(1, c);
  return r;
}

/// `s` as HTML text or attribute value: & < > " escaped.
inline std::string html_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    switch (c) {
      case '&': r += "&amp;"; break;
      case '<': r += "&lt;"; break;
      case '>': r += "&gt;"; break;
      case '"': r += "&quot;"; break;
      default: r += c;
    }
  }
  return r;
}

/// The path of the executable `name` on PATH ("" when there is none).
inline std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "");
  for (std::string dir; std::getline(ss, dir, ':');) {
    const std::filesystem::path p = std::filesystem::path(dir.empty() ? "." : dir) / name;
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec)) return p.string();
  }
  return "";
}

/// The whole text of a file ("" when it cannot be read).
inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream is(p);
  std::stringstream ss;
  ss << is.rdbuf();
  return ss.str();
}

}  // namespace ristsim::cost
