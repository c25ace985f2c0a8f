// Pareto fronts and the report of a sweep (report.h).
#include "sweep/report.h"

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "cost/json.h"
#include "cost/markup.h"
#include "cost/report.h"
#include "util/output.h"

namespace ristsim::sweep {

namespace fs = std::filesystem;

namespace {

using cost::find_program;
using cost::html_escape;
using cost::md_cell;
using cost::read_text;

std::string fmt(double v, int digits = 4) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

/// A file name piece: letters, digits, '-', '_' kept; the rest '_'.
std::string slug(const std::string& s) {
  std::string r;
  for (char c : s) r += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_';
  return r;
}

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

}  // namespace

const std::vector<CostAxis>& cost_axes() {
  static const std::vector<CostAxis> axes = {
      {"energy_pj", "energy per inference (uJ)", 1e-6},
      {"area_um2", "logic area (mm^2)", 1e-6},
      {"cycles", "cycles per inference", 1},
  };
  return axes;
}

std::vector<Front> pareto_fronts(const std::vector<Row>& rows) {
  std::vector<std::string> models;
  for (const Row& r : rows)
    if (r.get("status") == "ok" &&
        std::find(models.begin(), models.end(), r.get("model")) == models.end())
      models.push_back(r.get("model"));
  std::vector<Front> fronts;
  for (const std::string& m : models)
    for (const CostAxis& ax : cost_axes()) {
      Front f;
      f.model = m;
      f.axis = &ax;
      // cost::pareto_front minimizes its `energy_pj` field: here, the axis's cost.
      std::vector<cost::ParetoPoint> pts;
      for (const Row& r : rows)
        if (r.get("status") == "ok" && r.get("model") == m && std::isfinite(r.number("top1")) &&
            std::isfinite(r.number(ax.column))) {
          f.points.push_back(r);
          pts.push_back({r.get("point_id"), r.number(ax.column), r.number("top1")});
        }
      if (pts.empty()) continue;
      for (const cost::ParetoPoint& p : cost::pareto_front(pts))
        for (const Row& r : f.points)
          if (r.get("point_id") == p.label) f.front.push_back(r);
      fronts.push_back(std::move(f));
    }
  return fronts;
}

SweepReportFiles write_sweep_report(const std::string& dir, const std::string& out_dir) {
  const Database db = Database::open_read_only(dir);
  const std::vector<Row> rows = db.rows();
  std::vector<std::string> axes;
  {
    std::stringstream ss(db.meta("axes"));
    for (std::string a; std::getline(ss, a);)
      if (!a.empty()) axes.push_back(a);
  }
  const std::string name = db.meta("name");
  int ok = 0, failed = 0;
  for (const Row& r : rows) (r.get("status") == "ok" ? ok : failed)++;
  if (ok == 0)
    throw std::runtime_error(database_path(dir) + ": no point of the sweep has results yet (" +
                             std::to_string(failed) + " failed)");
  const std::vector<Front> fronts = pareto_fronts(rows);

  auto label = [&](const Row& r) {
    std::string s;
    for (const std::string& a : axes) s += (s.empty() ? "" : ", ") + a + "=" + r.get(a);
    return s.empty() ? r.get("arch_name") : s;
  };

  // Plots: every point, the front as a line, its points labelled by index.
  SweepReportFiles files;
  std::vector<std::pair<std::string, std::string>> plots;  // file, svg
  const std::string gnuplot = find_program("gnuplot");
  if (gnuplot.empty()) {
    files.plot_note = "gnuplot is not installed: no plots (install gnuplot-nox).";
  } else {
    char tmpl[] = "/tmp/ristsim-sweep-report-XXXXXX";
    const char* d = mkdtemp(tmpl);
    if (!d) throw std::runtime_error("cannot create a temporary folder for the plots");
    const fs::path tmp(d);
    for (const Front& f : fronts) {
      const std::string file = "pareto_" + slug(f.model) + "_" + f.axis->column + ".svg";
      {
        std::ofstream all(tmp / "all.dat"), front(tmp / "front.dat");
        for (const Row& r : f.points)
          all << r.number(f.axis->column) * f.axis->scale << "\t" << 100 * r.number("top1") << "\n";
        for (const Row& r : f.front)
          front << r.number(f.axis->column) * f.axis->scale << "\t" << 100 * r.number("top1")
                << "\t" << r.get("idx") << "\n";
        std::ofstream g(tmp / "plot.gp");
        g << "set encoding utf8\nset terminal svg size 720,440 font 'sans,11' background rgb "
             "'white'\nset grid\nset key bottom right\n"
          << "set output '" << file << "'\n"
          << "set title \"" << name << " / " << f.model << ": top-1 against " << f.axis->title
          << "\"\nset xlabel '" << f.axis->title << "'\nset ylabel 'top-1 (%)'\n"
          << "plot 'all.dat' using 1:2 with points pt 7 ps 0.6 lc rgb '#8080a0' title 'points ("
          << f.points.size() << ")', 'front.dat' using 1:2 with linespoints lw 2 pt 6 ps 1.2 "
          << "lc rgb '#c03020' title 'Pareto front', '' using 1:2:3 with labels offset 0.8,0.6 "
             "font 'sans,9' notitle\n";
      }
      const std::string cmd =
          "cd '" + tmp.string() + "' && '" + gnuplot + "' plot.gp > plot.log 2>&1";
      if (std::system(cmd.c_str()) == 0 && fs::exists(tmp / file) && fs::file_size(tmp / file) > 0)
        plots.push_back({file, read_text(tmp / file)});
      else
        files.plot_note +=
            "gnuplot failed on " + file + ": " + read_text(tmp / "plot.log").substr(0, 300) + " ";
    }
    std::error_code ec;
    fs::remove_all(tmp, ec);
  }

  // The document: summary, then per front a table and its plot.
  std::ostringstream md, html;
  cost::JsonWriter js;
  const std::string title = "ristsim sweep report: " + name;
  md << "# " << title << "\n\n";
  html << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
       << html_escape(title)
       << "</title>\n<style>\nbody{font-family:sans-serif;max-width:76em;margin:2em auto;padding:0 "
          "1em;color:#222}\ntable{border-collapse:collapse;margin:0.5em 0 1.5em}\nth,td{border:1px "
          "solid #bbb;padding:0.25em 0.6em;text-align:left}\nth{background:#eee}\n</style>\n"
          "</head>\n<body>\n<h1>"
       << html_escape(title) << "</h1>\n";
  const std::string summary = std::to_string(rows.size()) + " points in " + database_path(dir) +
                              ": " + std::to_string(ok) + " ok, " + std::to_string(failed) +
                              " failed. Axes: " +
                              (axes.empty() ? std::string("none") : [&] {
                                std::string s;
                                for (const std::string& a : axes) s += (s.empty() ? "" : ", ") + a;
                                return s;
                              }()) +
                              ". A point is on a front when no other point of its model is at "
                              "most as costly and at least as accurate, one of them strictly.";
  md << summary << "\n\n";
  html << "<p>" << html_escape(summary) << "</p>\n";
  if (!files.plot_note.empty()) {
    md << files.plot_note << "\n\n";
    html << "<p>" << html_escape(files.plot_note) << "</p>\n";
  }
  js.begin_object().value("sweep", name).value("database", database_path(dir));
  js.value("points", static_cast<int>(rows.size())).value("ok", ok).value("failed", failed);
  js.begin_array("fronts");
  int plot_no = 0;
  for (const Front& f : fronts) {
    const std::string h = f.model + ": top-1 against " + f.axis->title;
    md << "## " << h << "\n\n";
    html << "<h2>" << html_escape(h) << "</h2>\n";
    Table t;
    t.header = {"idx", "point", "top-1 (%)", "energy (uJ)", "area (mm^2)", "cycles", "arch hash"};
    for (const Row& r : f.front)
      t.rows.push_back({r.get("idx"), label(r), fmt(100 * r.number("top1"), 4),
                        fmt(r.number("energy_pj") * 1e-6), fmt(r.number("area_um2") * 1e-6),
                        fmt(r.number("cycles"), 10), r.get("arch_hash")});
    md << "|";
    for (const std::string& c : t.header) md << " " << md_cell(c) << " |";
    md << "\n|";
    for (size_t i = 0; i < t.header.size(); ++i) md << " --- |";
    md << "\n";
    html << "<table>\n<tr>";
    for (const std::string& c : t.header) html << "<th>" << html_escape(c) << "</th>";
    html << "</tr>\n";
    for (const auto& r : t.rows) {
      md << "|";
      html << "<tr>";
      for (const std::string& c : r) {
        md << " " << md_cell(c) << " |";
        html << "<td>" << html_escape(c) << "</td>";
      }
      md << "\n";
      html << "</tr>\n";
    }
    md << "\n";
    html << "</table>\n";
    const std::string file = "pareto_" + slug(f.model) + "_" + f.axis->column + ".svg";
    for (const auto& [pf, svg] : plots)
      if (pf == file) {
        md << "![" << h << "](plots/" << file << ")\n\n";
        std::string s = svg;
        const std::string tag = "s" + std::to_string(++plot_no) + "_";
        for (const char* id : {"gpDot", "gpPt", "gnuplot_canvas", "gpPat"})
          for (size_t k = s.find(id); k != std::string::npos; k = s.find(id, k + tag.size() + 1))
            s.insert(k, tag);
        const size_t at = s.find("<svg");
        html << "<figure>\n"
             << (at == std::string::npos ? std::string() : s.substr(at)) << "\n</figure>\n";
      }
    js.begin_object().value("model", f.model).value("cost", f.axis->column);
    js.value("points", static_cast<int>(f.points.size()));
    js.begin_array("front");
    for (const Row& r : f.front) {
      js.begin_object().value("idx", static_cast<int>(r.number("idx")));
      js.value("point_id", r.get("point_id")).value("label", label(r));
      js.value("top1", r.number("top1")).value("cost", r.number(f.axis->column));
      js.end_object();
    }
    js.end_array().end_object();
  }
  js.end_array().end_object();
  html << "</body>\n</html>\n";

  std::error_code ec;
  fs::create_directories(fs::path(out_dir) / "plots", ec);
  if (ec) throw std::runtime_error("cannot create '" + out_dir + "/plots': " + ec.message());
  files.md = (fs::path(out_dir) / "sweep_report.md").string();
  files.html = (fs::path(out_dir) / "sweep_report.html").string();
  files.json = (fs::path(out_dir) / "sweep_report.json").string();
  for (const auto& [file, svg] : plots) {
    const std::string p = (fs::path(out_dir) / "plots" / file).string();
    util::write_file(p, svg);
    files.plots.push_back(p);
  }
  util::write_file(files.md, md.str());
  util::write_file(files.html, html.str());
  util::write_file(files.json, js.str() + "\n");
  return files;
}

}  // namespace ristsim::sweep
