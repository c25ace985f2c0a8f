#include "engine/report.h"

#include <cinttypes>
#include <cmath>
#include <sstream>

namespace ristsim::engine {

void ProgressPrinter::train(const Progress& p) {
  if (p.epoch_done) {
    finish();
    if (quiet_) return;
    std::fprintf(out_, "epoch %d/%d  loss %.4f  %.1f s  %.0f images/s  lr %.3g", p.epoch, p.epochs, p.loss,
                 p.seconds, p.images_per_s, double(p.lr));
    if (p.test_top1 >= 0) std::fprintf(out_, "  test top-1 %.2f %%", 100.0 * p.test_top1);
    std::fprintf(out_, "\n");
    std::fflush(out_);
    return;
  }
  if (!live_) return;
  std::fprintf(out_, "\repoch %d/%d  batch %" PRId64 "/%" PRId64 "  loss %.4f  %.0f images/s   ", p.epoch,
               p.epochs, p.batch, p.batches, p.loss, p.images_per_s);
  std::fflush(out_);
  pending_ = true;
}

void ProgressPrinter::eval(const Progress& p) {
  if (!live_) return;
  std::fprintf(out_, "\revaluating batch %" PRId64 "/%" PRId64 "  %.0f images/s   ", p.batch, p.batches,
               p.images_per_s);
  std::fflush(out_);
  pending_ = true;
}

void ProgressPrinter::finish() {
  if (!pending_) return;
  std::fprintf(out_, "\r%80s\r", "");
  std::fflush(out_);
  pending_ = false;
}

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\', o += c;
    else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else o += c;
  }
  return o + "\"";
}

namespace {
std::string num(double v) {
  if (!std::isfinite(v)) return "null";
  char b[32];
  std::snprintf(b, sizeof b, "%.9g", v);
  return b;
}
}  // namespace

std::string format_json(const config::NumberSpec& s) {
  if (s.is_float) return "{\"type\": \"float\"}";
  const numeric::Format& f = s.quantizer.format;
  std::ostringstream o;
  o << "{\"type\": \"" << (s.dynamic ? "dynamic_" : "") << numeric::to_string(f.kind) << "\", \"bits\": " << f.bits;
  if (f.kind == numeric::FormatKind::fixed) {
    o << ", \"fl\": " << f.fl;
    if (!f.is_signed) o << ", \"signed\": false";
    if (s.per_channel()) o << ", \"granularity\": \"channel\"";
    if (!s.channel_fl.empty()) {  // one FL per output channel (fl: the finest)
      o << ", \"channel_fl\": [";
      for (std::size_t k = 0; k < s.channel_fl.size(); ++k) o << (k ? ", " : "") << s.channel_fl[k];
      o << "]";
    }
  }
  if (f.kind == numeric::FormatKind::minifloat)
    o << ", \"exp_bits\": " << f.exp_bits << ", \"mant_bits\": " << f.mant_bits << ", \"bias\": " << f.bias;
  if (f.kind == numeric::FormatKind::pow2) o << ", \"exp_max\": " << f.exp_max;
  o << ", \"rounding\": \"" << numeric::to_string(s.quantizer.rounding) << "\", \"overflow\": \""
    << numeric::to_string(s.quantizer.overflow) << "\"}";
  return o.str();
}

std::string stats_json(const std::vector<LayerStats>& stats,
                       const std::vector<const config::LayerFormats*>& formats, int indent) {
  const std::string pad(indent, ' ');
  std::ostringstream o;
  o << "[";
  for (std::size_t i = 0; i < stats.size(); ++i) {
    const LayerStats& l = stats[i];
    o << (i ? "," : "") << "\n" << pad << "  {\"layer\": " << json_string(l.layer);
    const config::LayerFormats* f = i < formats.size() ? formats[i] : nullptr;
    if (f)
      o << ", \"formats\": {\"inputs\": " << format_json(f->activations) << ", \"weights\": "
        << format_json(f->weights) << ", \"bias\": " << format_json(f->bias) << ", \"outputs\": "
        << format_json(f->outputs) << "}";
    o << ", \"acc_overflows\": " << l.acc_overflows << ", \"groups\": {";
    for (int g = 0; g < 4; ++g) {
      const GroupStats& s = l.groups[g];
      o << (g ? ", " : "") << "\n" << pad << "    " << json_string(to_string(static_cast<NumberGroup>(g)))
        << ": {\"max_abs\": " << num(s.max_abs) << ", \"count\": " << s.count << ", \"zeros\": " << s.zeros
        << ", \"saturations\": " << s.saturations << ", \"nans\": " << s.nans
        << ", \"log2_hist\": {\"min_exp\": " << GroupStats::kMinExp << ", \"counts\": [";
      for (int b = 0; b < GroupStats::kBins; ++b) o << (b ? ", " : "") << s.hist[b];
      o << "]}}";
    }
    o << "}}";
  }
  o << "\n" << pad << "]";
  return o.str();
}

}  // namespace ristsim::engine
