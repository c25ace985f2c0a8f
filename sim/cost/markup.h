// Text escaping shared by the reports that write Markdown and HTML (the cost report,
// sim/cost/report.cpp, and the sweep report, sim/sweep/report.cpp).
#pragma once

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

}  // namespace ristsim::cost
