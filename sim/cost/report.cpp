// The cost report writer (see report.h). The document is built once as a list
// of blocks (headings, paragraphs, tables, plots) and rendered to Markdown and
// HTML; report.json is written from the same numbers.
#include "cost/report.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "config/describe.h"
#include "cost/json.h"
#include "cost/markup.h"
#include "rtlgen/pe_shape.h"
#include "util/output.h"

namespace ristsim::cost {

namespace fs = std::filesystem;

namespace {

std::string fmt(double v, int digits = 4) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}
/// Fixed notation with `decimals` decimals: one notation down a column.
std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}
std::string u64(uint64_t v) {
  return std::to_string(v);
}
std::string pct(double v) {
  return std::isfinite(v) ? fmt(100 * v, 4) + " %" : "n/a";
}

std::string datapath_name(const config::Arch& a) {
  return a.datapath == config::Datapath::float32 ? "float32" : "exact";
}

std::string group_name(const config::NumberSpec& s) {
  if (s.is_float) return "float32";
  if (s.dynamic && s.quantizer.format.kind == numeric::FormatKind::fixed)
    return "dynamic fixed<" + std::to_string(s.quantizer.format.bits) + ", FL per layer>";
  return config::format_name(s.quantizer.format);
}

/// A layer's formats: with the quantized network's own (dynamic fixed point
/// with its actual FLs, "fixed<8,5>"), else the arch's.
std::string layer_formats_text(const config::Arch& a, const LayerWork& w) {
  if (w.formats) {
    const config::LayerFormats& f = *w.formats;
    auto name = [](const config::NumberSpec& g) {
      return g.is_float ? std::string("float32") : config::format_name(g.quantizer.format);
    };
    return name(f.activations) + " x " + name(f.weights) + " + " + name(f.bias) + " -> " +
           name(f.outputs);
  }
  const config::LayerFormats f = config::formats_for(a, w.name);
  return group_name(f.activations) + " x " + group_name(f.weights) + " -> " +
         group_name(f.outputs);
}

// ---------------------------------------------------------------- claims

std::vector<Claim> check_claims(const ReportInput& in, const TechModel& m, const Summary& s) {
  std::vector<Claim> claims;
  const double fp32 = m.fp_multiplier(32).area_um2;
  {
    Claim c;
    c.claim = "multiplier area: 32-bit float multiplier against an 8-bit fixed-point multiplier";
    const double int8 = m.int_multiplier(8, 8).area_um2;
    c.value = fp32 / int8;
    c.expected = "about an order of magnitude (10^0.5 to 10^1.5 = 3.2x to 31.6x)";
    c.holds = std::isfinite(c.value) && std::fabs(std::log10(c.value) - 1) <= 0.5;
    c.how = "fp_mult 32-bit " + fmt(fp32) + " µm² / int_mult 8x8 " + fmt(int8) + " µm² at " +
            std::to_string(m.node_nm()) + " nm";
    claims.push_back(c);
  }
  {
    Claim c;
    c.claim = "multiplier area: 32-bit float multiplier against this arch's lane";
    const ArchCost& ac = s.arch;
    double lane_um2 = 0;
    for (const Component& x : ac.components)
      if (x.name == "multipliers" || x.name == "exponent adders" || x.name == "shifters")
        lane_um2 += x.each.area_um2;
    c.value = lane_um2 > 0 ? fp32 / lane_um2 : NAN;
    c.expected = "at least about an order of magnitude smaller (>= 10^0.5 = 3.2x)";
    c.holds = std::isfinite(c.value) && std::log10(c.value) >= 0.5;
    c.how = "fp_mult 32-bit " + fmt(fp32) + " µm² / lane (" + ac.pe.lane_text + ") " +
            fmt(lane_um2) + " µm²";
    claims.push_back(c);
  }
  {
    Claim c;
    c.claim =
        "memory bandwidth: float32 against the arch's formats (weights, inputs, outputs of every "
        "layer)";
    double f32 = 0, q = 0;
    for (const LayerWork& w : in.layers) {
      const config::LayerFormats f = config::formats_for(in.arch, w.name);
      f32 += 32.0 * double(w.weights + w.inputs + w.outputs);
      q += double(w.weights) * storage_bits(f.weights) +
           double(w.inputs) * storage_bits(f.activations) +
           double(w.outputs) * storage_bits(f.outputs);
    }
    c.value = q > 0 ? f32 / q : NAN;
    c.expected = "4x to 8x lower";
    c.holds = std::isfinite(c.value) && c.value >= 4 * (1 - 1e-12) && c.value <= 8 * (1 + 1e-12);
    c.how = fmt(f32, 6) + " bits at float32 / " + fmt(q, 6) + " bits at the arch's formats";
    claims.push_back(c);
  }
  return claims;
}

// ---------------------------------------------------------------- plots

struct Plot {
  std::string file;  ///< e.g. energy_vs_bits.svg
  std::string title;
  std::string svg;
};

/// The arch at `bits` in one format family (exact datapath): fixed and minifloat
/// for both operands; pow2 for the weights, on 8-bit fixed-point activations
/// (shift-only lanes, Ristretto's power-of-two weights).
std::optional<config::Arch> sweep_arch(const config::Arch& base, int family, int bits) {
  config::Arch a = base;
  a.datapath = config::Datapath::exact;
  a.overrides.clear();
  numeric::Format f;
  if (family == 0) {
    f = numeric::Format::fixed_point(bits, bits / 2);
  } else if (family == 1) {
    const int e = std::clamp(bits / 2, 2, 5);
    if (bits - 1 - e < 0) return std::nullopt;
    f = numeric::Format::minifloat(e, bits - 1 - e);
  } else {
    f = numeric::Format::pow2(bits, -1);
  }
  if (numeric::validate(f)) return std::nullopt;
  for (config::NumberSpec* s : {&a.formats.activations, &a.formats.weights}) {
    s->is_float = false;
    s->dynamic = false;
    s->quantizer.format = f;
    s->quantizer.overflow = numeric::Overflow::saturate;
  }
  if (family == 2) a.formats.activations.quantizer.format = numeric::Format::fixed_point(8, 4);
  if (a.formats.outputs.is_float) a.formats.outputs = a.formats.activations;
  return a;
}

std::vector<Plot> make_plots(const ReportInput& in, const TechModel& m, const Summary& s,
                             std::string* note) {
  std::vector<Plot> plots;
  const std::string gnuplot = find_program("gnuplot");
  if (gnuplot.empty()) {
    *note = "gnuplot is not installed: no plots (install gnuplot-nox).";
    return plots;
  }
  char tmpl[] = "/tmp/ristsim-report-XXXXXX";
  const char* dir_c = mkdtemp(tmpl);
  if (!dir_c) {
    *note = "cannot create a temporary folder for the plots.";
    return plots;
  }
  const fs::path dir(dir_c);
  // Removed on SIGINT/SIGTERM too (the scope below removes it otherwise).
  struct Cleanup {
    int slot;
    ~Cleanup() { util::unregister_cleanup(slot); }
  } cleanup{util::register_cleanup(dir.string())};
  const std::string node = std::to_string(m.node_nm()) + " nm";
  const std::string term =
      "set encoding utf8\nset terminal svg size 900,540 font 'sans,13' background rgb 'white'\nset "
      "grid\nset key top "
      "left\n";

  // Energy and area against bit-width, per format family.
  {
    std::ofstream d(dir / "sweep.dat");
    const char* names[] = {"fixed", "minifloat", "pow2"};
    const int lo[] = {2, 4, 2}, hi[] = {16, 16, 8};
    for (int fam = 0; fam < 3; ++fam) {
      d << "# " << names[fam] << ": bits energy_per_mac_pj area_per_lane_um2\n";
      for (int b = lo[fam]; b <= hi[fam]; ++b) {
        const auto a = sweep_arch(in.arch, fam, b);
        if (!a) continue;
        try {
          const ArchCost c = arch_cost(*a, m, in.memory);
          const double lanes = double(a->array.pes) * a->array.lanes;
          d << b << "\t" << JsonWriter::number(c.energy_per_mac_pj) << "\t"
            << JsonWriter::number(c.area_um2 / lanes) << "\n";
        } catch (const std::exception&) {
        }
      }
      d << "\n\n";
    }
    std::ofstream f(dir / "float.dat");
    for (int b : {16, 32}) {
      const Cost mul = m.fp_multiplier(b), add = m.fp_adder(b);
      f << b << "\t" << JsonWriter::number(mul.energy_pj + add.energy_pj) << "\t"
        << JsonWriter::number(mul.area_um2 + add.area_um2) << "\n";
    }
  }
  auto sweep_plot = [&](const std::string& file, const std::string& title,
                        const std::string& ylabel, int col) {
    std::ofstream g(dir / (file + ".gp"));
    g << term << "set output '" << file << "'\n"
      << "set title \"" << title
      << "\"\nset xlabel 'bits per operand (pow2: weight bits, on fixed<8> activations)'\n"
      << "set ylabel \"" << ylabel << "\"\nset logscale y\nset xrange [0:34]\n"
      << "plot 'sweep.dat' index 0 using 1:" << col << " with linespoints pt 7 title 'fixed', "
      << "'' index 1 using 1:" << col
      << " with linespoints pt 5 title 'minifloat (E = bits/2, clamped 2..5)', "
      << "'' index 2 using 1:" << col
      << " with linespoints pt 9 title 'pow2 weights x fixed<8> activations (shifts)', "
      << "'float.dat' using 1:" << col
      << " with points pt 13 ps 1.5 title 'IEEE float mult + add (Horowitz)'\n";
  };
  sweep_plot("energy_vs_bits.svg", "Energy per MAC against bit-width (" + node + ")",
             "energy per MAC (pJ)", 2);
  sweep_plot("area_vs_bits.svg", "Area per lane against bit-width (" + node + ")",
             "area per lane, with its tree and accumulator share (µm²)", 3);
  std::vector<std::pair<std::string, std::string>> wanted = {
      {"energy_vs_bits.svg", "Energy per MAC against bit-width, per format"},
      {"area_vs_bits.svg", "Area per lane against bit-width, per format"}};

  // Accuracy against energy: the Pareto front.
  if (!in.pareto.empty()) {
    std::ofstream d(dir / "pareto.dat"), f(dir / "front.dat"), self(dir / "self.dat");
    for (const ParetoPoint& p : in.pareto)
      d << JsonWriter::number(p.energy_pj * 1e-6) << "\t" << 100 * p.accuracy << "\t\""
        << p.label << "\"\n";
    // The arch's own point: its energy per inference and its measured accuracy.
    const bool own = in.accuracy_quantized.has_value() && s.energy_pj > 0;
    if (own)
      self << JsonWriter::number(s.energy_pj * 1e-6) << "\t" << 100 * *in.accuracy_quantized
           << "\t\"" << in.arch.name << "\"\n";
    for (const ParetoPoint& p : pareto_front(in.pareto))
      f << JsonWriter::number(p.energy_pj * 1e-6) << "\t" << 100 * p.accuracy << "\n";
    std::ofstream g(dir / "pareto.svg.gp");
    g << term << "set output 'pareto.svg'\nset title 'Accuracy against energy per inference'\n"
      << "set xlabel 'energy per inference (µJ)'\nset ylabel 'accuracy (%)'\nset key bottom right\n"
      << "plot 'pareto.dat' using 1:2 with points pt 7 title 'quantization search results', "
      << "'' using 1:2:3 with labels offset 0,1 font ',10' notitle, "
      << "'front.dat' using 1:2 with linespoints lw 2 pt 6 ps 1.5 title 'Pareto front'"
      << (own ? ", 'self.dat' using 1:2 with points pt 3 ps 2.5 lw 2 title 'this arch (" +
                    in.arch.name + ")'"
              : std::string())
      << "\n";
    wanted.push_back({"pareto.svg", "Accuracy against energy: the Pareto front"});
  }

  // Compute against memory energy per layer.
  if (!s.layers.empty()) {
    std::ofstream d(dir / "layers.dat");
    for (const LayerEnergy& e : s.layers)
      d << e.name << "\t" << JsonWriter::number(e.compute() * 1e-3) << "\t"
        << JsonWriter::number(e.memory() * 1e-3) << "\n";
    std::ofstream g(dir / "layers_energy.svg.gp");
    g << term
      << "set output 'layers_energy.svg'\nset title 'Compute against memory energy per layer'\n"
      << "set datafile separator '\\t'\nset style data histograms\nset style histogram clustered "
         "gap 1\n"
      << "set style fill solid 0.8 border -1\nset ylabel 'energy per inference (nJ)'\nset logscale "
         "y\n"
      << "set key top left\nplot 'layers.dat' using 2:xtic(1) title 'compute', '' using 3 "
         "title 'memory (register files, buffers, DRAM)'\n";
    wanted.push_back({"layers_energy.svg", "Compute against memory energy per layer"});

    // Energy by level, stacked per layer (the Timeloop-style breakdown as a picture).
    std::ofstream lv(dir / "levels.dat");
    lv << "layer\tcompute\tregister files\tbuffers\tDRAM\n";
    for (const LayerEnergy& e : s.layers)
      lv << e.name << "\t" << JsonWriter::number(e.compute() * 1e-3) << "\t"
         << JsonWriter::number(e.rf * 1e-3) << "\t" << JsonWriter::number(e.sram * 1e-3) << "\t"
         << JsonWriter::number(e.dram * 1e-3) << "\n";
    std::ofstream gl(dir / "energy_by_level.svg.gp");
    gl << term << "set output 'energy_by_level.svg'\nset title 'Energy per layer by level'\n"
       << "set datafile separator '\\t'\nset style data histograms\n"
       << "set style histogram rowstacked\nset style fill solid 0.85 border -1\nset boxwidth 0.6\n"
       << "set ylabel 'energy per inference (nJ)'\nset key top right\n"
       << "plot 'levels.dat' using 2:xtic(1) title columnheader(2), '' using 3 title "
          "columnheader(3), '' using 4 title columnheader(4), '' using 5 title columnheader(5)\n";
    wanted.push_back({"energy_by_level.svg", "Energy per layer by level: compute, register "
                                             "files, buffers, DRAM"});

    // Utilisation per layer.
    std::ofstream ud(dir / "util.dat");
    for (const LayerEnergy& e : s.layers)
      ud << e.name << "\t" << JsonWriter::number(100 * e.utilisation) << "\n";
    std::ofstream gu(dir / "utilisation.svg.gp");
    gu << term << "set output 'utilisation.svg'\nset title 'PE utilisation per layer'\n"
       << "set datafile separator '\\t'\nset style fill solid 0.85 border -1\nset boxwidth 0.6\n"
       << "set yrange [0:105]\nset ylabel 'utilisation (%): MACs / (cycles x PEs x lanes)'\n"
       << "unset key\nplot 'util.dat' using 0:2:xtic(1) with boxes, '' using 0:2:(sprintf('%.1f "
          "%%', $2)) with labels offset 0,0.8\n";
    wanted.push_back({"utilisation.svg", "PE utilisation per layer"});

    // Roofline: MACs per cycle against MACs per DRAM byte, the array's peak and
    // the DRAM bandwidth as roofs, every layer a labelled point.
    const double peak = double(in.arch.array.pes) * in.arch.array.lanes;
    double bw = 0;
    for (const config::MemoryLevel& l : s.arch.memory.levels)
      if (l.kind == config::MemoryKind::dram) bw = l.bandwidth_bytes_per_cycle;
    std::ofstream rd(dir / "roof.dat");
    double imin = 1e300, imax = 0;
    for (const LayerEnergy& e : s.layers) {
      const double bytes = e.dram_bits / 8, perf = e.cycles ? double(e.map.macs) / e.cycles : 0;
      if (bytes <= 0 || perf <= 0) continue;
      const double intensity = double(e.map.macs) / bytes;
      imin = std::min(imin, intensity), imax = std::max(imax, intensity);
      rd << e.name << "\t" << JsonWriter::number(intensity) << "\t" << JsonWriter::number(perf)
         << "\n";
    }
    if (imax > 0) {
      std::ofstream gr(dir / "roofline.svg.gp");
      gr << term << "set output 'roofline.svg'\nset title 'Roofline of the layers on the arch'\n"
         << "set datafile separator '\\t'\nset logscale xy\nset key bottom right\n"
         << "set xlabel 'operational intensity (MACs per DRAM byte)'\n"
         << "set ylabel 'performance (MACs per cycle)'\nset samples 400\n"
         << "set xrange [" << JsonWriter::number(imin / 4) << ":" << JsonWriter::number(imax * 4)
         << "]\nset yrange [*:" << JsonWriter::number(peak * 2) << "]\n"
         << "peak = " << JsonWriter::number(peak) << "\n"
         << (bw > 0 ? "bw = " + JsonWriter::number(bw) + "\nroof(x) = x * bw < peak ? x * bw : peak\n"
                    : "roof(x) = peak\n")
         << "plot roof(x) with lines lw 2 title '"
         << (bw > 0 ? "roof: min(peak " + fmt(peak) + ", " + fmt(bw) + " B/cycle x intensity)"
                    : "peak " + fmt(peak) + " MACs/cycle (DRAM bandwidth unlimited)")
         << "', 'roof.dat' using 2:3 with points pt 7 ps 1.3 title 'layers', '' using "
            "2:3:1 with labels offset 1.5,0.7 notitle\n";
      wanted.push_back({"roofline.svg", "Roofline: the layers against the array's peak and the "
                                        "DRAM bandwidth"});
    }
  }

  for (const auto& [file, title] : wanted) {
    const std::string script = file + ".gp";
    const std::string cmd =
        "cd '" + dir.string() + "' && '" + gnuplot + "' '" + script + "' > '" + file + ".log' 2>&1";
    const int rc = std::system(cmd.c_str());
    const fs::path out = dir / file;
    if (rc == 0 && fs::exists(out) && fs::file_size(out) > 0) {
      plots.push_back({file, title, read_text(out)});
    } else {
      *note += (note->empty() ? "" : " ") + std::string("gnuplot failed on ") + file + ": " +
               read_text(dir / (file + ".log")).substr(0, 300);
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return plots;
}

// ---------------------------------------------------------------- document

struct Block {
  enum Kind { h1, h2, para, table, plot } kind;
  std::string text;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  const Plot* figure = nullptr;
};

std::string render_md(const std::vector<Block>& doc) {
  std::string out;
  for (const Block& b : doc) {
    switch (b.kind) {
      case Block::h1: out += "# " + b.text + "\n\n"; break;
      case Block::h2: out += "## " + b.text + "\n\n"; break;
      case Block::para: out += b.text + "\n\n"; break;
      case Block::table: {
        out += "|";
        for (const std::string& h : b.header) out += " " + md_cell(h) + " |";
        out += "\n|";
        for (size_t i = 0; i < b.header.size(); ++i) out += " --- |";
        out += "\n";
        for (const auto& r : b.rows) {
          out += "|";
          for (const std::string& c : r) out += " " + md_cell(c) + " |";
          out += "\n";
        }
        out += "\n";
        break;
      }
      case Block::plot:
        out += "![" + b.figure->title + "](plots/" + b.figure->file + ")\n\n";
        break;
    }
  }
  return out;
}

/// A cell that starts with a number followed by nothing, "%" or a short unit
/// ("B per PE", "(given)"): right-aligned. Sentences that start with a number stay left.
bool looks_numeric(const std::string& c) {
  if (c.empty() || std::isalpha(static_cast<unsigned char>(c[0]))) return false;
  char* end = nullptr;
  std::strtod(c.c_str(), &end);
  if (end == c.c_str()) return false;
  const std::size_t rest = c.size() - std::size_t(end - c.c_str());
  return *end == '\0' || *end == '%' || (*end == ' ' && rest <= 12);
}

std::string render_html(const std::vector<Block>& doc, const std::string& title) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
      html_escape(title) +
      "</title>\n<style>\n"
      "body{font-family:sans-serif;max-width:1400px;margin:2em auto;padding:0 1em;color:#222}\n"
      ".scroll{overflow-x:auto;max-width:100%;margin:0.5em 0 1.5em}\n"
      "table{border-collapse:collapse;font-size:0.9em}\n"
      "th,td{border:1px solid #bbb;padding:0.25em 0.6em;text-align:left;vertical-align:top}\n"
      "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
      "th{background:#eee}\nfigure{margin:1em 0}\nfigcaption{font-style:italic}\n"
      "figure svg{max-width:100%;height:auto}\n"
      "</style>\n</head>\n<body>\n";
  int plot_no = 0;
  for (const Block& b : doc) {
    switch (b.kind) {
      case Block::h1: out += "<h1>" + html_escape(b.text) + "</h1>\n"; break;
      case Block::h2: out += "<h2>" + html_escape(b.text) + "</h2>\n"; break;
      case Block::para: out += "<p>" + html_escape(b.text) + "</p>\n"; break;
      case Block::table:
        // Wide tables scroll inside the page; numbers align right.
        out += "<div class=\"scroll\"><table>\n<tr>";
        for (const std::string& h : b.header) out += "<th>" + html_escape(h) + "</th>";
        out += "</tr>\n";
        for (const auto& r : b.rows) {
          out += "<tr>";
          for (const std::string& c : r)
            out += (looks_numeric(c) ? "<td class=\"num\">" : "<td>") + html_escape(c) + "</td>";
          out += "</tr>\n";
        }
        out += "</table></div>\n";
        break;
      case Block::plot: {
        // gnuplot names its markers gpDot, gpPt0... in every file: give each plot its own.
        std::string svg = b.figure->svg;
        const std::string tag = "p" + std::to_string(++plot_no) + "_";
        for (const char* id : {"gpDot", "gpPt", "gnuplot_canvas", "gpPat"})
          for (size_t k = svg.find(id); k != std::string::npos;
               k = svg.find(id, k + tag.size() + 1))
            svg.insert(k, tag);
        const size_t at = svg.find("<svg");
        out += "<figure>\n" + (at == std::string::npos ? std::string() : svg.substr(at)) +
               "\n<figcaption>" + html_escape(b.figure->title) + "</figcaption>\n</figure>\n";
        break;
      }
    }
  }
  return out + "</body>\n</html>\n";
}

std::vector<Block> build_doc(const ReportInput& in, const TechModel& m, const Summary& s,
                             const std::vector<Plot>& plots, const std::string& plot_note) {
  std::vector<Block> d;
  auto h1 = [&](std::string t) { d.push_back({Block::h1, std::move(t), {}, {}, nullptr}); };
  auto h2 = [&](std::string t) { d.push_back({Block::h2, std::move(t), {}, {}, nullptr}); };
  auto p = [&](std::string t) { d.push_back({Block::para, std::move(t), {}, {}, nullptr}); };
  auto table = [&](std::vector<std::string> h, std::vector<std::vector<std::string>> r) {
    d.push_back({Block::table, "", std::move(h), std::move(r), nullptr});
  };
  const config::Arch& a = in.arch;
  const ArchCost& ac = s.arch;
  const double P = a.array.pes, K = a.array.lanes;

  h1("ristsim cost report: " + (a.name.empty() ? std::string("arch") : a.name));
  p("Arch " + (a.path.empty() ? std::string("(in memory)") : a.path) + ", datapath " +
    datapath_name(a) + ", " + fmt(P, 6) + " PE x " + fmt(K, 6) + " lanes at " +
    fmt(a.tech.frequency_mhz) + " MHz, technology " + std::to_string(m.node_nm()) + " nm (table " +
    m.table().path + ": " + m.table().name + "; node factors area " + fmt(m.area_factor()) +
    ", energy " + fmt(m.energy_factor()) + " relative to " + std::to_string(m.table().node_nm) +
    " nm). Model " + (in.model_name.empty() ? "-" : in.model_name) + ", data " +
    (in.data_name.empty() ? "-" : in.data_name) + ".");
  p("Formats: activations " + group_name(a.formats.activations) + ", weights " +
    group_name(a.formats.weights) + ", bias " + group_name(a.formats.bias) + ", outputs " +
    group_name(a.formats.outputs) + "; accumulator " + std::to_string(ac.pe.acc_bits) + " bits.");

  h2("Summary");
  auto acc = [](const std::optional<double>& v) {
    return v ? pct(*v) : std::string("not measured");
  };
  table({"quantity", "value", "unit"},
        {{"logic area (all PEs, SRAM not included)", fmt(ac.area_um2 * 1e-6, 4), "mm²"},
         {"logic area in gate equivalents", fmt(ac.ge, 6), "NAND2 GE"},
         {"energy per inference", fmt(s.energy_pj * 1e-6, 5), "µJ"},
         {"  of which compute / register files / buffers (SRAM) / DRAM",
          fmt(s.compute_pj * 1e-6, 4) + " / " + fmt(s.rf_pj * 1e-6, 4) + " / " +
              fmt(s.sram_pj * 1e-6, 4) + " / " + fmt(s.dram_pj * 1e-6, 4),
          "µJ"},
         {"energy per MAC by level: compute / register files / buffers / DRAM",
          fmt(s.compute_pj / double(s.macs), 3) + " / " + fmt(s.rf_pj / double(s.macs), 3) +
              " / " + fmt(s.sram_pj / double(s.macs), 3) + " / " +
              fmt(s.dram_pj / double(s.macs), 3),
          "pJ/MAC"},
         {"energy per MAC (everything)", fmt(s.energy_per_mac_pj), "pJ/MAC"},
         {"energy per MAC (PE compute only, all lanes busy)", fmt(ac.energy_per_mac_pj), "pJ/MAC"},
         {"efficiency", fmt(s.tops_per_w), "TOPS/W (2 ops per MAC)"},
         {"throughput", fmt(s.inferences_per_s, 6),
          "inferences/s at " + fmt(a.tech.frequency_mhz) + " MHz"},
         {"MACs per inference", u64(s.macs), "MAC"},
         {"cycles per inference", u64(s.cycles), "cycles (mapper: compute + stalls)"},
         {"stalls per inference", u64(s.stall_cycles), "PE-cycles waiting for operands"},
         {"utilisation", pct(s.utilisation), "MACs / (cycles x P x K)"},
         {"on-chip traffic (SRAM reads + writes)", fmt(double(s.sram_bits) / 8e3, 6),
          "kB per inference"},
         {"off-chip traffic (DRAM)", fmt(double(s.dram_bits) / 8e3, 6), "kB per inference"},
         {"accuracy, float32", acc(in.accuracy_fp32), "top-1"},
         {"accuracy, quantized", acc(in.accuracy_quantized), "top-1"}});
  for (const std::string& n : in.notes) p("Note: " + n);
  p("Cycles, stalls, utilisation and memory accesses are the mapper's (sim/map, docs/cost.md "
    "\"Mapping\"): each layer tiled onto the " + std::to_string(a.array.rows) + " x " +
    std::to_string(a.array.cols) + " " + config::to_string(a.array.interconnect) + " array (" +
    config::to_string(a.array.dataflow) + "), PEs of " +
    std::to_string(rtlgen::pe_latency(a.array.lanes, a.array.pipeline_every)) +
    "-cycle latency; stalls where a buffer's width or the DRAM bandwidth cannot feed it. "
    "For a broadcast array (array: {pes: P}) the compute cycles are the SystemC scheduler's. "
    "Cycles marked 'given' came with the layer.");

  h2("Thesis claims checked on this arch");
  {
    std::vector<std::vector<std::string>> r;
    for (const Claim& c : s.claims)
      r.push_back(
          {c.claim, fmt(c.value) + "x", c.expected, c.holds ? "holds" : "does not hold", c.how});
    table({"claim", "value", "expected", "verdict", "how"}, r);
  }

  h2("Area and energy by component");
  {
    std::vector<std::vector<std::string>> r;
    for (const Component& c : ac.components)
      r.push_back({c.name, c.detail, fmt(c.count, 6), fmt(c.each.ge), fmt(c.total_um2(), 5),
                   fmt(100 * c.total_um2() / ac.area_um2, 3), fmt(c.each.energy_pj), c.action,
                   c.source});
    r.push_back(
        {"total", "", "", fmt(ac.ge, 6) + " (all)", fmt(ac.area_um2, 6), "100", "", "", ""});
    table({"component", "widths", "count", "GE each", "area total (µm²)", "area (%)",
           "energy (pJ/action)", "action", "source"},
          r);
  }

  h2("Energy per layer");
  {
    std::vector<std::vector<std::string>> r;
    for (size_t i = 0; i < s.layers.size(); ++i) {
      const LayerWork& w = in.layers[i];
      const LayerEnergy& e = s.layers[i];
      r.push_back({w.name, w.kind + " " + w.shape, u64(w.macs), layer_formats_text(a, w),
                   u64(e.cycles) + (e.cycles_given ? " (given)" : ""), u64(e.stall_cycles),
                   pct(e.utilisation),
                   u64(uint64_t(e.sram_bits)), u64(uint64_t(e.dram_bits)),
                   fixed(e.multipliers * 1e-3, 3), fixed(e.tree * 1e-3, 3),
                   fixed(e.shifters * 1e-3, 3), fixed(e.accumulator * 1e-3, 3),
                   fixed(e.output_stage * 1e-3, 3), fixed(e.rf * 1e-3, 3), fixed(e.sram * 1e-3, 3),
                   fixed(e.dram * 1e-3, 3), fixed(e.total() * 1e-3, 3)});
    }
    table({"layer", "shape", "MACs", "formats", "cycles", "stall PE-cycles", "utilisation",
           "buffer bits", "DRAM bits",
           "mult (nJ)", "tree (nJ)", "shift (nJ)", "acc (nJ)", "output (nJ)", "RF (nJ)",
           "buffers (nJ)",
           "DRAM (nJ)", "total (nJ)"},
          r);
  }

  h2("Memory hierarchy");
  {
    std::string sram_src;
    for (const config::SramPoint& q : m.table().sram)
      sram_src += (sram_src.empty() ? "" : "; ") + fmt(q.bytes / 1024, 6) +
                  " KiB: " + fmt(q.read_pj) + " pJ (" + q.source + ")";
    std::vector<std::vector<std::string>> r;
    for (size_t i = 0; i < ac.memory.levels.size(); ++i) {
      const config::MemoryLevel& l = ac.memory.levels[i];
      const map::LevelEnergy& le = ac.level_energy[i];
      std::string size, src;
      switch (l.kind) {
        case config::MemoryKind::register_file:
          size = fmt(l.capacity_bytes, 6) + " B per PE";
          src = "derived: ceil(log2 words) MUX2 per bit read, one DFF per bit written (" +
                m.table().gates_source + ")";
          break;
        case config::MemoryKind::sram:
          size = fmt(l.capacity_bytes / 1024, 6) + " KiB, " + std::to_string(l.banks) + " bank" +
                 (l.banks == 1 ? "" : "s") + ", " +
                 (l.width_bits ? std::to_string(l.width_bits) + " bit/cycle per bank" : "unlimited width");
          src = "log-log interpolation per bank capacity of " +
                std::to_string(m.table().sram_access_bits) + "-bit reads: " + sram_src +
                "; write = read x " + fmt(m.table().sram_write_to_read) + " (assumed)";
          break;
        case config::MemoryKind::dram: {
          const auto& dt = m.table().dram.at(l.dram_type);
          size = l.dram_type + ", " +
                 (l.bandwidth_bytes_per_cycle > 0 ? fmt(l.bandwidth_bytes_per_cycle) + " B/cycle"
                                                  : "unlimited bandwidth");
          src = fmt(dt.energy_pj) + " pJ per " + std::to_string(dt.access_bits) + "-bit access (" +
                dt.source + ")";
          break;
        }
      }
      r.push_back({l.name, config::to_string(l.kind), config::to_string(l.operand), size,
                   fmt(le.read_pj_per_bit), fmt(le.write_pj_per_bit), src});
    }
    table({"level", "kind", "holds", "size", "read (pJ/bit)", "write (pJ/bit)", "source"}, r);
    if (!ac.memory.given)
      p("The arch has no memory key: one shared buffer of the table's default size and the "
        "table's default DRAM, both without width limits (docs/arch.md).");
  }

  h2("Mapping and accesses per layer and level");
  p("Timeloop-style breakdown: for every layer the mapper's choice (SCALE-Sim's Sr x Sc "
    "operand matrix on the array, T in time, folds; buffer tiles of M, N, K and the DRAM-level "
    "loop order, outer to inner), its cycles, and per memory level the words read and written "
    "per operand (outputs include partial sums), the energy and the bandwidth the layer demands "
    "against what the level supplies.");
  for (const LayerEnergy& e : s.layers) {
    const map::LayerMap& lm = e.map;
    p("Layer " + e.name + ": " + lm.mapping.text() + " (" + u64(lm.mapping.valid) + " of " +
      u64(lm.mapping.candidates) + " mappings fit, " +
      (lm.mapping.exhaustive ? "exhaustive" : "heuristic: powers of two beyond 64 tiles") +
      "); cycles " + u64(lm.cycles) + " = compute " + u64(lm.compute_cycles) + " + fetch stalls " +
      u64(lm.fetch_stall_cycles) + " + DRAM stalls " + u64(lm.dram_stall_cycles) +
      ", utilisation " + pct(lm.utilisation) + ".");
    std::vector<std::vector<std::string>> r;
    for (const map::LevelCount& c : lm.levels) {
      auto rw = [&](int op) {
        return c.op[op].reads || c.op[op].writes
                   ? fixed(c.op[op].reads, 0) + " / " + fixed(c.op[op].writes, 0)
                   : std::string("-");
      };
      r.push_back({c.name, rw(map::kInputs), rw(map::kWeights), rw(map::kOutputs),
                   fixed(c.energy_pj * 1e-3, 3), fixed(c.demand_bits_per_cycle, 1),
                   c.supply_bits_per_cycle > 0 ? fixed(c.supply_bits_per_cycle, 0) : "unlimited"});
    }
    table({"level", "inputs (reads / writes)", "weights (reads / writes)",
           "outputs (reads / writes)", "energy (nJ)", "demand (bit/cycle)", "supply (bit/cycle)"},
          r);
  }

  h2("Yosys cross-check");
  if (in.cross_checks.empty()) {
    p("No blocks were synthesized for this report (give --yosys or --rtl DIR; needs yosys).");
  } else {
    std::vector<std::vector<std::string>> r;
    for (const CrossCheck& c : in.cross_checks)
      r.push_back({c.block, c.top, fmt(c.instances, 6), c.model_ge > 0 ? fmt(c.model_ge, 6) : "-",
                   c.error.empty() ? fmt(c.yosys_ge, 6) : "-",
                   c.error.empty() && c.model_ge > 0 ? fmt(c.ratio(), 3) : "-",
                   !c.error.empty()  ? "yosys failed: " + c.error.substr(0, 200)
                   : c.model_ge <= 0 ? "no separate model block"
                   : c.warn()        ? "WARNING: differ by more than 50 %"
                                     : "ok"});
    table({"block", "module", "instances", "model (GE)", "yosys (GE)", "yosys / model", "check"},
          r);
    p("GE weights: cell area / NAND2 area from the table's gates.cells_um2 (" +
      m.table().gates_source + ").");
  }

  h2("Plots");
  if (!plot_note.empty()) p(plot_note);
  for (const Plot& pl : plots) d.push_back({Block::plot, "", {}, {}, &pl});
  if (in.pareto.empty())
    p("No quantization-search results were given, so there is no accuracy/energy Pareto plot.");

  h2("Operation anchors used");
  {
    std::vector<std::vector<std::string>> r;
    for (const auto& [op, anchors] : m.table().operations)
      for (const config::TechAnchor& x : anchors)
        r.push_back({op, std::to_string(x.bits), fmt(x.energy_pj), fmt(x.area_um2), x.source});
    r.push_back({"NAND2 gate", "", "", fmt(m.table().nand2_area_um2), m.table().gates_source});
    table({"operation", "bits", "energy (pJ, " + std::to_string(m.table().node_nm) + " nm)",
           "area (µm², " + std::to_string(m.table().node_nm) + " nm)", "source"},
          r);
    p("Derived: logic energy per gate equivalent " + fmt(m.energy_per_ge_pj() * 1e3) +
      " fJ at this node (widest int_add anchor's energy / its area in GE; activity 1), used for "
      "muxes, "
      "registers and gates. Leakage is not modelled.");
  }
  h2("Sources");
  {
    std::vector<std::vector<std::string>> r;
    for (const auto& [k, v] : m.table().sources) r.push_back({k, v});
    table({"key", "citation"}, r);
  }
  return d;
}

std::string render_json(const ReportInput& in, const TechModel& m, const Summary& s,
                        const std::vector<Plot>& plots) {
  const config::Arch& a = in.arch;
  const ArchCost& ac = s.arch;
  JsonWriter j;
  j.begin_object();
  j.value("format", "ristsim-cost-report-1");
  j.begin_object("units")
      .value("area", "um^2")
      .value("area_ge", "NAND2 gate equivalents")
      .value("energy", "pJ")
      .value("traffic", "bits")
      .value("frequency", "MHz")
      .value("accuracy", "fraction 0..1")
      .end_object();
  j.begin_object("arch")
      .value("name", a.name)
      .value("path", a.path)
      .value("datapath", datapath_name(a))
      .value("pes", a.array.pes)
      .value("lanes", a.array.lanes)
      .value("frequency_mhz", a.tech.frequency_mhz)
      .value("node_nm", m.node_nm())
      .value("tech_table", m.table().path)
      .value("activations", group_name(a.formats.activations))
      .value("weights", group_name(a.formats.weights))
      .value("bias", group_name(a.formats.bias))
      .value("outputs", group_name(a.formats.outputs))
      .value("accumulator_bits", ac.pe.acc_bits)
      .end_object();
  j.begin_object("summary")
      .value("area_um2", ac.area_um2)
      .value("area_ge", ac.ge)
      .value("energy_per_inference_pj", s.energy_pj)
      .value("compute_energy_pj", s.compute_pj)
      .value("sram_energy_pj", s.sram_pj)
      .value("dram_energy_pj", s.dram_pj)
      .value("energy_per_mac_pj", s.energy_per_mac_pj)
      .value("pe_energy_per_mac_pj", ac.energy_per_mac_pj)
      .value("output_stage_energy_per_output_pj", ac.energy_per_output_pj)
      .value("tops_per_w", s.tops_per_w)
      .value("inferences_per_s", s.inferences_per_s)
      .value("macs", s.macs)
      .value("cycles", s.cycles)
      .value("stall_cycles", s.stall_cycles)
      .value("utilisation", s.utilisation)
      .value("sram_bits", s.sram_bits)
      .value("dram_bits", s.dram_bits);
  if (in.accuracy_fp32)
    j.value("accuracy_fp32", *in.accuracy_fp32);
  else
    j.null("accuracy_fp32");
  if (in.accuracy_quantized)
    j.value("accuracy_quantized", *in.accuracy_quantized);
  else
    j.null("accuracy_quantized");
  j.end_object();
  j.begin_array("components");
  for (const Component& c : ac.components)
    j.begin_object()
        .value("name", c.name)
        .value("category", c.category)
        .value("widths", c.detail)
        .value("count", c.count)
        .value("ge_each", c.each.ge)
        .value("area_um2_each", c.each.area_um2)
        .value("area_um2_total", c.total_um2())
        .value("energy_pj_per_action", c.each.energy_pj)
        .value("action", c.action)
        .value("source", c.source)
        .end_object();
  j.end_array();
  j.begin_array("layers");
  for (size_t i = 0; i < s.layers.size(); ++i) {
    const LayerWork& w = in.layers[i];
    const LayerEnergy& e = s.layers[i];
    const config::LayerFormats f = config::formats_for(a, w.name);
    j.begin_object()
        .value("name", w.name)
        .value("kind", w.kind)
        .value("shape", w.shape)
        .value("macs", w.macs)
        .value("outputs", w.outputs)
        .value("activations", group_name(f.activations))
        .value("weights", group_name(f.weights))
        .value("outputs_format", group_name(f.outputs))
        .value("formats", layer_formats_text(a, w))
        .value("cycles", e.cycles)
        .value("stall_cycles", e.stall_cycles)
        .value("cycles_source", e.cycles_given ? "given" : "cycle model")
        .value("utilisation", e.utilisation)
        .value("buffer_bits", e.sram_bits)
        .value("dram_bits", e.dram_bits)
        .value("mapping", e.map.mapping.text())
        .value("compute_cycles", e.map.compute_cycles)
        .value("fetch_stall_cycles", e.map.fetch_stall_cycles)
        .value("dram_stall_cycles", e.map.dram_stall_cycles);
    j.begin_array("levels");
    for (const map::LevelCount& c : e.map.levels) {
      j.begin_object().value("name", c.name);
      for (int op = 0; op < 3; ++op)
        j.value(std::string(map::operand_name(op)) + "_reads", c.op[op].reads)
            .value(std::string(map::operand_name(op)) + "_writes", c.op[op].writes);
      j.value("read_bits", c.read_bits)
          .value("write_bits", c.write_bits)
          .value("energy_pj", c.energy_pj)
          .value("demand_bits_per_cycle", c.demand_bits_per_cycle)
          .value("supply_bits_per_cycle", c.supply_bits_per_cycle)
          .end_object();
    }
    j.end_array();
    j.begin_object("energy_pj")
        .value("multipliers", e.multipliers)
        .value("tree", e.tree)
        .value("shifters", e.shifters)
        .value("accumulator", e.accumulator)
        .value("output_stage", e.output_stage)
        .value("register_files", e.rf)
        .value("sram", e.sram)
        .value("dram", e.dram)
        .value("total", e.total())
        .end_object();
    j.end_object();
  }
  j.end_array();
  j.begin_object("memory")
      .value("sram_bytes", ac.sram_bytes)
      .value("sram_read_pj_per_bit", ac.sram_read_pj_per_bit)
      .value("sram_write_pj_per_bit", ac.sram_write_pj_per_bit)
      .value("dram_type", ac.dram_type)
      .value("dram_pj_per_bit", ac.dram_pj_per_bit);
  j.begin_array("levels");
  for (size_t i = 0; i < ac.memory.levels.size(); ++i) {
    const config::MemoryLevel& l = ac.memory.levels[i];
    j.begin_object()
        .value("name", l.name)
        .value("kind", config::to_string(l.kind))
        .value("holds", config::to_string(l.operand))
        .value("capacity_bytes", l.capacity_bytes)
        .value("width_bits", l.width_bits)
        .value("banks", l.banks)
        .value("dram_type", l.dram_type)
        .value("bandwidth_bytes_per_cycle", l.bandwidth_bytes_per_cycle)
        .value("read_pj_per_bit", ac.level_energy[i].read_pj_per_bit)
        .value("write_pj_per_bit", ac.level_energy[i].write_pj_per_bit)
        .end_object();
  }
  j.end_array();
  j.end_object();
  j.begin_array("claims");
  for (const Claim& c : s.claims)
    j.begin_object()
        .value("claim", c.claim)
        .value("value", c.value)
        .value("expected", c.expected)
        .value("holds", c.holds)
        .value("how", c.how)
        .end_object();
  j.end_array();
  j.begin_array("cross_check");
  for (const CrossCheck& c : in.cross_checks) {
    j.begin_object()
        .value("block", c.block)
        .value("module", c.top)
        .value("instances", c.instances)
        .value("model_ge", c.model_ge)
        .value("yosys_ge", c.yosys_ge)
        .value("ratio", c.ratio())
        .value("warning", c.error.empty() && c.model_ge > 0 && c.warn())
        .value("error", c.error);
    j.begin_object("cells");
    for (const auto& [k, v] : c.cells) j.value(k, v);
    j.end_object();
    j.end_object();
  }
  j.end_array();
  j.begin_array("pareto");
  for (const ParetoPoint& q : in.pareto) {
    bool on = false;
    for (const ParetoPoint& f : pareto_front(in.pareto))
      on = on || (f.label == q.label && f.energy_pj == q.energy_pj);
    j.begin_object()
        .value("label", q.label)
        .value("energy_pj", q.energy_pj)
        .value("accuracy", q.accuracy)
        .value("on_front", on)
        .end_object();
  }
  j.end_array();
  j.begin_array("notes");
  for (const std::string& n : in.notes) j.value("", n);
  j.end_array();
  j.begin_array("plots");
  for (const Plot& p : plots) j.value("", "plots/" + p.file);
  j.end_array();
  j.begin_object("sources");
  for (const auto& [k, v] : m.table().sources) j.value(k, v);
  j.end_object();
  j.end_object();
  return j.str();
}

}  // namespace

std::vector<ParetoPoint> pareto_front(const std::vector<ParetoPoint>& points) {
  std::vector<ParetoPoint> front;
  for (const ParetoPoint& a : points) {
    bool dominated = false;
    for (const ParetoPoint& b : points)
      if (b.energy_pj <= a.energy_pj && b.accuracy >= a.accuracy &&
          (b.energy_pj < a.energy_pj || b.accuracy > a.accuracy))
        dominated = true;
    if (!dominated) front.push_back(a);
  }
  std::sort(front.begin(), front.end(),
            [](const ParetoPoint& x, const ParetoPoint& y) { return x.energy_pj < y.energy_pj; });
  return front;
}

Summary summarize(const ReportInput& in, const TechModel& m) {
  Summary s;
  s.arch = arch_cost(in.arch, m, in.memory);
  s.layers = layer_energy(in.arch, m, in.layers, in.memory);
  for (size_t i = 0; i < in.layers.size(); ++i) {
    const LayerWork& w = in.layers[i];
    const LayerEnergy& e = s.layers[i];
    s.macs += w.macs;
    s.cycles += e.cycles;
    s.stall_cycles += e.stall_cycles;
    s.energy_pj += e.total();
    s.compute_pj += e.compute();
    s.rf_pj += e.rf;
    s.sram_pj += e.sram;
    s.dram_pj += e.dram;
    s.sram_bits += uint64_t(e.sram_bits);
    s.dram_bits += uint64_t(e.dram_bits);
  }
  const double lanes = double(in.arch.array.pes) * in.arch.array.lanes;
  s.energy_per_mac_pj = s.macs ? s.energy_pj / double(s.macs) : NAN;
  s.tops_per_w = s.energy_pj > 0 ? 2.0 * double(s.macs) / s.energy_pj : NAN;
  s.inferences_per_s = s.cycles ? in.arch.tech.frequency_mhz * 1e6 / double(s.cycles) : NAN;
  s.utilisation = s.cycles ? double(s.macs) / (double(s.cycles) * lanes) : NAN;
  s.claims = check_claims(in, m, s);
  return s;
}

std::string render_csv(const ReportInput& in, const Summary& s) {
  // SCALE-Sim's COMPUTE_REPORT columns first (layer, cycles, stalls, utilisation),
  // then the mapping, SCALE-Sim's published formula on the same shape (one MAC
  // per PE per cycle: K in terms), and the traffic and energy per level.
  const config::ArraySpec& a = in.arch.array;
  std::ostringstream o;
  o << "LayerID,LayerName,Total Cycles,Compute Cycles,Stall Cycles,Fetch Stall Cycles,"
       "DRAM Stall Cycles,Overall Util %,Dataflow,Array,Sr,Sc,T,Folds,Tile M,Tile N,Tile K,"
       "Loop Order,SCALE-Sim Formula Cycles,MACs";
  const std::vector<map::LevelCount>* first =
      s.layers.empty() ? nullptr : &s.layers.front().map.levels;
  if (first)
    for (const map::LevelCount& c : *first)
      o << "," << c.name << " Read Bytes," << c.name << " Write Bytes," << c.name << " Energy pJ";
  o << "\n";
  for (size_t i = 0; i < s.layers.size(); ++i) {
    const LayerEnergy& e = s.layers[i];
    const map::LayerMap& lm = e.map;
    const map::LayerShape sh = layer_shape(in.arch, in.layers[i]);
    const std::string formula =
        a.interconnect == config::Interconnect::systolic
            ? u64(map::scalesim_cycles(a.dataflow, sh.m, sh.n, sh.k, a.rows, a.cols))
            : std::string("");
    o << i << "," << e.name << "," << e.cycles << "," << lm.compute_cycles << ","
      << lm.fetch_stall_cycles + lm.dram_stall_cycles << "," << lm.fetch_stall_cycles << ","
      << lm.dram_stall_cycles << "," << JsonWriter::number(100 * e.utilisation) << ","
      << config::to_string(a.dataflow) << "," << a.rows << "x" << a.cols << "," << lm.mapping.sr
      << "," << lm.mapping.sc << "," << lm.mapping.t << "," << lm.mapping.folds << ","
      << lm.mapping.tile[0] << "," << lm.mapping.tile[1] << "," << lm.mapping.tile[2] << ","
      << lm.mapping.order << "," << formula << "," << lm.macs;
    for (const map::LevelCount& c : lm.levels)
      o << "," << JsonWriter::number(c.read_bits / 8) << "," << JsonWriter::number(c.write_bits / 8)
        << "," << JsonWriter::number(c.energy_pj);
    o << "\n";
  }
  return o.str();
}

ReportFiles write_report(const ReportInput& in, const TechModel& m, const std::string& out_dir) {
  // Everything is computed before the first file is touched.
  const Summary s = summarize(in, m);
  ReportFiles files;
  const std::vector<Plot> plots = make_plots(in, m, s, &files.plot_note);
  const std::vector<Block> doc = build_doc(in, m, s, plots, files.plot_note);
  const std::string title = "ristsim cost report: " + in.arch.name;
  const std::string md = render_md(doc), html = render_html(doc, title),
                    json = render_json(in, m, s, plots), csv = render_csv(in, s);

  std::error_code ec;
  fs::create_directories(fs::path(out_dir) / "plots", ec);
  if (ec) throw util::WriteError(out_dir + "/plots: cannot create the folder: " + ec.message());
  // Every file through the one output writer (temporary file, fsync, rename). The commands
  // write into a staged folder (util::OutputDir), so a failure leaves no partial report.
  std::vector<std::pair<fs::path, std::string>> outputs = {
      {fs::path(out_dir) / "report.md", md},
      {fs::path(out_dir) / "report.html", html},
      {fs::path(out_dir) / "report.json", json},
      {fs::path(out_dir) / "report.csv", csv}};
  for (const Plot& p : plots) outputs.push_back({fs::path(out_dir) / "plots" / p.file, p.svg});
  for (const auto& [path, text] : outputs) util::write_file(path.string(), text);
  files.md = outputs[0].first.string();
  files.html = outputs[1].first.string();
  files.json = outputs[2].first.string();
  files.csv = outputs[3].first.string();
  for (const Plot& p : plots)
    files.plots.push_back((fs::path(out_dir) / "plots" / p.file).string());
  // Plots of an earlier report that this one does not have (e.g. no Pareto points now).
  for (const char* name :
       {"energy_vs_bits.svg", "area_vs_bits.svg", "pareto.svg", "layers_energy.svg",
        "energy_by_level.svg", "utilisation.svg", "roofline.svg"}) {
    bool ours = false;
    for (const Plot& p : plots) ours = ours || p.file == name;
    if (!ours) fs::remove(fs::path(out_dir) / "plots" / name, ec);
  }
  return files;
}

}  // namespace ristsim::cost
