// Descriptions of formats and arches for people (the CLI's reports), and the
// arch hash that generated RTL carries in its header. Ranges, quanta and widths
// come from the numeric core (format.h, growth.h), never from arithmetic here.
#include "config/describe.h"

#include <cinttypes>
#include <cstdio>
#include <sstream>

namespace ristsim::config {
namespace {

namespace nm = numeric;

std::string g(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string fixed_type(nm::FixedType t) {
  return "fixed<" + std::to_string(t.bits) + "," + std::to_string(t.fl) + ">";
}

}  // namespace

std::string format_name(const nm::Format& f) {
  switch (f.kind) {
    case nm::FormatKind::fixed:
      return std::string(f.is_signed ? "" : "unsigned ") + "fixed<" + std::to_string(f.bits) +
             "," + std::to_string(f.fl) + ">";
    case nm::FormatKind::minifloat: {
      const nm::Format e4 = nm::Format::e4m3(), e5 = nm::Format::e5m2();
      auto same = [&](const nm::Format& p) {
        return f.exp_bits == p.exp_bits && f.mant_bits == p.mant_bits && f.bias == p.bias &&
               f.subnormals == p.subnormals && f.specials == p.specials;
      };
      if (same(e4)) return "e4m3 (OCP FP8: fn specials, subnormals)";
      if (same(e5)) return "e5m2 (OCP FP8: ieee specials, subnormals)";
      return "minifloat<E" + std::to_string(f.exp_bits) + ",M" + std::to_string(f.mant_bits) +
             ",bias " + std::to_string(f.bias) + ",subnormals " + (f.subnormals ? "on" : "off") +
             ",specials " + nm::to_string(f.specials) + ">";
    }
    case nm::FormatKind::pow2:
      return "pow2<" + std::to_string(f.bits) + ",exp " + std::to_string(f.exp_min()) + ".." +
             std::to_string(f.exp_max) + "," + (f.zero_code ? "zero code" : "no zero code") + "," +
             nm::to_string(f.pow2_rounding) + " rounding>";
  }
  return "?";
}

std::string describe(const nm::Quantizer& q) {
  const nm::Format& f = q.format;
  std::ostringstream os;
  os << format_name(f) << ": " << f.code_bits() << "-bit code, range [" << g(nm::min_value(f))
     << ", " << g(nm::max_value(f)) << "], smallest positive " << g(nm::smallest_positive(f));
  if (f.has_inf()) os << ", inf";
  if (f.has_nan()) os << ", NaN";
  os << "; rounding " << nm::to_string(q.rounding);
  if (q.rounding == nm::Rounding::stochastic)
    os << " (seed " << q.seed << ", stream " << q.stream << ", " << q.random_bits
       << " random bits)";
  os << ", overflow " << nm::to_string(q.overflow);
  return os.str();
}

std::string describe_mx(const nm::MxFormat& f) {
  const nm::Format e = f.element_format();
  std::ostringstream os;
  os << nm::mx_name(f.element) << " (OCP MX v1.0): blocks of " << f.block
     << " elements sharing an E8M0 scale 2^-127..2^127 (code 255 NaN), "
     << g(f.bits_per_element()) << " bits per element; elements " << format_name(e) << ", "
     << e.code_bits() << "-bit code, range [" << g(nm::min_value(e)) << ", " << g(nm::max_value(e))
     << "], emax " << f.emax_elem() << "; scale 2^(floor(log2 max|x|) - " << f.emax_elem()
     << "), rounding nearest_even, overflow saturate";
  return os.str();
}

std::string describe(const NumberSpec& s) {
  if (s.is_float) return "float32 (not quantized)";
  if (!s.dynamic && !s.channel_fl.empty()) {  // static per-channel weights
    std::string fls;
    for (int fl : s.channel_fl) fls += (fls.empty() ? "" : ", ") + std::to_string(fl);
    return describe(s.quantizer) + "; FL per output channel: " + fls;
  }
  if (s.is_mx) return describe_mx(s.mx);
  if (!s.dynamic) return describe(s.quantizer);
  // Dynamic fixed point: the FL is chosen per layer; show the format at its default FL.
  const std::string d = describe(s.quantizer);
  const size_t colon = d.find(": ");
  const std::string sign = s.signed_auto                   ? "(signed: auto) "
                           : s.quantizer.format.is_signed ? ""
                                                          : "unsigned ";
  const char* per = s.per_channel() ? ",FL per output channel>" : ",FL per layer>";
  return "dynamic " + sign + "fixed<" + std::to_string(s.quantizer.format.bits) + per +
         " (at the default FL " + std::to_string(s.quantizer.format.fl) + ": " +
         d.substr(colon + 2, d.find(';') - colon - 2) + ")" + d.substr(d.find(';'));
}

std::string describe(const Arch& a) {
  std::ostringstream os;
  os << "arch " << a.name;
  if (!a.path.empty()) os << " (" << a.path << ")";
  os << ", hash " << hex64(arch_hash(a)) << "\n";
  os << "datapath: "
     << (a.datapath == Datapath::exact
             ? "exact (integer hardware: exact products, aligned and summed in the accumulator)"
             : "float (float32 arithmetic on quantized values, as Ristretto)")
     << "\n";
  const char* names[4] = {"activations", "weights", "bias", "outputs"};
  const NumberSpec* groups[4] = {&a.formats.activations, &a.formats.weights, &a.formats.bias,
                                 &a.formats.outputs};
  os << "formats:\n";
  for (int i = 0; i < 4; ++i) os << "  " << names[i] << ": " << describe(*groups[i]) << "\n";
  for (const LayerOverride& o : a.overrides) {
    const bool has[4] = {o.has_activations, o.has_weights, o.has_bias, o.has_outputs};
    const NumberSpec* og[4] = {&o.formats.activations, &o.formats.weights, &o.formats.bias,
                               &o.formats.outputs};
    for (int i = 0; i < 4; ++i)
      if (has[i])
        os << "  layer " << o.layer << " " << names[i] << ": " << describe(*og[i]) << "\n";
  }

  if (has_dynamic_groups(a))
    os << "range rule: "
       << (a.range_rule == RangeRule::ristretto
               ? "ristretto (inputs / outputs IL = ceil(log2 max), weights / bias one bit more)"
           : a.range_rule == RangeRule::no_saturation
               ? "no_saturation (every group IL = ceil(log2 max + 1): nothing up to max saturates)"
               : "auto (per group, the rule of the smaller estimated quantization error: "
                 "ristretto's saturation against no_saturation's coarser grid)")
       << "\n";

  const AccumulatorSpec& acc = a.accumulator;
  os << "accumulator: " << acc.bits << " bits, ";
  if (a.datapath == Datapath::exact) {
    const nm::FixedType prod = nm::product_type(a.formats.activations.quantizer.format,
                                                a.formats.weights.quantizer.format);
    const nm::FixedType chunk = nm::sum_type(prod, static_cast<uint64_t>(a.array.lanes));
    if (acc.frac_bits_auto)
      os << "frac_bits auto (" << prod.fl << " = the products' FL"
         << (a.formats.activations.dynamic || a.formats.weights.dynamic
                 ? ", per layer with dynamic FLs"
                 : "")
         << ")";
    else
      os << "frac_bits " << acc.frac_bits;
    os << ", overflow " << nm::to_string(acc.overflow) << ", alignment rounding "
       << nm::to_string(acc.align_rounding) << "\n";
    os << "  products " << fixed_type(prod) << "; a chunk of " << a.array.lanes << " lanes sums to "
       << fixed_type(chunk);
    if (chunk.bits > acc.bits) os << " (wider than the accumulator: chunk sums can overflow it)";
    os << "\n";
    if (a.formats.activations.is_mx || a.formats.weights.is_mx) {
      const int block =
          a.formats.activations.is_mx ? a.formats.activations.mx.block : a.formats.weights.mx.block;
      os << "  MX: a block of " << block << " products sums exactly to "
         << fixed_type(nm::sum_type(prod, static_cast<uint64_t>(block)))
         << ", then shifts by the two block scales onto the grid 2^-" << acc.frac_bits << " ("
         << nm::to_string(acc.align_rounding) << " below it; docs/datapath.md \"MX blocks\")\n";
    }
  } else {
    os << "unused by the float datapath\n";
  }
  os << "array: " << a.array.pes << " PE" << (a.array.pes == 1 ? "" : "s") << " x " << a.array.lanes
     << " lanes (" << a.array.rows << " x " << a.array.cols << ", "
     << to_string(a.array.interconnect) << ", " << to_string(a.array.dataflow)
     << "), adder tree of " << nm::tree_levels(static_cast<uint64_t>(a.array.lanes))
     << " levels, ";
  if (a.array.pipeline_every == 0)
    os << "no pipeline registers inside the tree\n";
  else
    os << "a pipeline register every " << a.array.pipeline_every << " level"
       << (a.array.pipeline_every == 1 ? "" : "s") << "\n";
  os << describe_memory(a.memory);
  os << "technology: " << a.tech.node << ", " << g(a.tech.frequency_mhz) << " MHz";
  if (!a.tech.table.empty()) os << ", table " << a.tech.table;
  os << "\nseed: " << a.seed << "\n";
  return os.str();
}

std::string describe_memory(const MemoryHierarchy& h) {
  std::ostringstream os;
  os << "memory" << (h.given ? "" : " (default)") << ":";
  for (const MemoryLevel& l : h.levels) {
    os << "\n  " << l.name << ": " << to_string(l.kind);
    switch (l.kind) {
      case MemoryKind::register_file:
        os << " for " << to_string(l.operand) << ", " << g(l.capacity_bytes) << " B per PE";
        break;
      case MemoryKind::sram:
        os << " for " << to_string(l.operand) << ", "
           << (l.capacity_bytes > 0 ? g(l.capacity_bytes / 1024) + " KiB" : "the table's default size")
           << ", " << (l.width_bits > 0 ? std::to_string(l.width_bits) + " bits/cycle" : "unlimited width")
           << " x " << l.banks << " bank" << (l.banks == 1 ? "" : "s");
        break;
      case MemoryKind::dram:
        os << " " << (l.dram_type.empty() ? "(the table's default type)" : l.dram_type) << ", "
           << (l.bandwidth_bytes_per_cycle > 0 ? g(l.bandwidth_bytes_per_cycle) + " bytes/cycle"
                                               : "unlimited bandwidth");
        break;
    }
  }
  os << "\n";
  return os.str();
}

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016" PRIx64, v);
  return buf;
}

}  // namespace ristsim::config
