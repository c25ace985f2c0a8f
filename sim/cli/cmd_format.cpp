// `ristsim format`: what a number format does to values. For each input it
// prints the quantized value (%.17g, so it reads back exactly), the stored code
// in hex and binary, the error (value - input) and the flags, all from
// numeric::quantize; nothing here does arithmetic of its own.
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>
#include <algorithm>

#include "cli/cli.h"
#include "config/describe.h"
#include "numeric/numeric.h"

namespace ristsim::cli {
namespace {

namespace nm = numeric;

/// Parses a whole string as a double (strtod: also nan, inf, hex floats). A
/// finite number beyond the double range is refused rather than read as inf.
bool parse_double(const std::string& s, double* out) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  const char* begin = s.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(begin, &end);
  if (end == begin || *end != '\0') return false;
  if (errno == ERANGE && std::isinf(v)) return false;
  *out = v;  // underflow gives a subnormal or zero, the nearest double
  return true;
}

/// Parses a whole string as an unsigned 64-bit integer (no sign, no spaces).
uint64_t parse_u64(const std::string& opt, const std::string& s) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0])) || *end != '\0' ||
      errno == ERANGE)
    throw UsageError("--" + opt + " must be an unsigned 64-bit integer, not '" + s + "'");
  return v;
}

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string g17(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// A JSON number, or the strings "inf", "-inf", "nan" for non-finite values.
std::string json_number(double v) {
  if (std::isnan(v)) return "\"nan\"";
  if (std::isinf(v)) return v < 0 ? "\"-inf\"" : "\"inf\"";
  return g17(v);
}

std::string hex_code(uint64_t code, int bits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%0*" PRIx64, (bits + 3) / 4, code);
  return buf;
}

std::string binary_code(uint64_t code, int bits) {
  std::string s(static_cast<size_t>(bits), '0');
  for (int i = 0; i < bits; ++i)
    if ((code >> i) & 1) s[static_cast<size_t>(bits - 1 - i)] = '1';
  return s;
}

bool parse_on_off(const std::string& opt, const std::string& v) {
  if (v == "on") return true;
  if (v == "off") return false;
  throw UsageError("--" + opt + " must be 'on' or 'off', not '" + v + "'");
}

/// Builds the quantizer from the options, checking that every given option
/// applies to the chosen type.
nm::Quantizer quantizer_from(const CommandLine& cl) {
  const std::string type = cl.get<std::string>("type");
  auto allow = [&](std::initializer_list<const char*> allowed) {
    for (const char* o : {"bits", "fl", "signed", "exp-bits", "mant-bits", "bias", "subnormals",
                          "specials", "exp-max", "zero-code", "pow2-rounding", "element",
                          "block"}) {
      if (!cl.has(o)) continue;
      bool ok = false;
      for (const char* a : allowed) ok = ok || std::string(a) == o;
      if (!ok) throw UsageError("option --" + std::string(o) + " does not apply to --type " + type);
    }
  };
  auto need = [&](const char* o) {
    if (!cl.has(o)) throw UsageError("--type " + type + " needs --" + std::string(o));
    return cl.get<int>(o);
  };

  nm::Quantizer q;
  if (type == "fixed") {
    allow({"bits", "fl", "signed"});
    const bool sgn = !cl.has("signed") || parse_on_off("signed", cl.get<std::string>("signed"));
    q.format = nm::Format::fixed_point(need("bits"), cl.has("fl") ? cl.get<int>("fl") : 0, sgn);
  } else if (type == "minifloat") {
    allow({"exp-bits", "mant-bits", "bias", "subnormals", "specials"});
    const int e = need("exp-bits"), m = need("mant-bits");
    nm::Specials sp = nm::Specials::none;
    if (cl.has("specials")) {
      const std::string s = cl.get<std::string>("specials");
      if (s == "none")
        sp = nm::Specials::none;
      else if (s == "ieee")
        sp = nm::Specials::ieee;
      else if (s == "fn")
        sp = nm::Specials::fn;
      else if (s == "ristretto")
        sp = nm::Specials::ristretto;
      else
        throw UsageError("--specials must be one of none, ieee, fn, ristretto, not '" + s + "'");
    }
    const bool sub =
        cl.has("subnormals") && parse_on_off("subnormals", cl.get<std::string>("subnormals"));
    if (e < 2 || e > 8) throw UsageError("--exp-bits must be 2 to 8, not " + std::to_string(e));
    const int bias = cl.has("bias") ? cl.get<int>("bias") : nm::Format::default_bias(e);
    q.format = nm::Format::minifloat(e, m, sp, sub, bias);
  } else if (type == "e4m3") {
    allow({});
    q.format = nm::Format::e4m3();
  } else if (type == "e5m2") {
    allow({});
    q.format = nm::Format::e5m2();
  } else if (type == "pow2") {
    allow({"bits", "exp-max", "zero-code", "pow2-rounding"});
    nm::Pow2Rounding r = nm::Pow2Rounding::value;
    if (cl.has("pow2-rounding")) {
      const std::string s = cl.get<std::string>("pow2-rounding");
      if (s == "log")
        r = nm::Pow2Rounding::log;
      else if (s != "value")
        throw UsageError("--pow2-rounding must be 'value' or 'log', not '" + s + "'");
    }
    const bool zero =
        cl.has("zero-code") && parse_on_off("zero-code", cl.get<std::string>("zero-code"));
    q.format =
        nm::Format::pow2(need("bits"), cl.has("exp-max") ? cl.get<int>("exp-max") : -1, zero, r);
  } else {
    throw UsageError("--type must be one of fixed, minifloat, e4m3, e5m2, pow2, mx, not '" + type +
                     "'");
  }

  const std::string rounding = cl.get<std::string>("rounding");
  if (!nm::parse_rounding(rounding.c_str(), &q.rounding))
    throw UsageError(
        "--rounding must be one of nearest_even, nearest_away, toward_zero, down, up, "
        "stochastic, not '" +
        rounding + "'");
  const std::string overflow = cl.get<std::string>("overflow");
  if (!nm::parse_overflow(overflow.c_str(), &q.overflow))
    throw UsageError("--overflow must be one of saturate, wrap, special, not '" + overflow + "'");
  q.seed = parse_u64("seed", cl.get<std::string>("seed"));
  q.stream = parse_u64("stream", cl.get<std::string>("stream"));
  q.random_bits = cl.get<int>("random-bits");
  if (const char* err = nm::validate(q)) {
    // The numeric core names the field; the user sees the options that set it.
    std::string given;
    for (const char* o : {"bits", "fl", "exp-bits", "mant-bits", "bias", "exp-max", "random-bits"})
      if (cl.has(o) && !cl.vm()[o].defaulted())
        given += std::string(given.empty() ? "" : " ") + "--" + o + " " + std::to_string(cl.get<int>(o));
    throw UsageError(std::string("invalid format: ") + err + (given.empty() ? "" : " (" + given + ")"));
  }
  return q;
}

/// --type mx: the MX format from --element and --block; the spec fixes rounding and
/// overflow, so --rounding and --overflow must keep their defaults.
nm::MxFormat mx_from(const CommandLine& cl) {
  for (const char* o : {"bits", "fl", "signed", "exp-bits", "mant-bits", "bias", "subnormals",
                        "specials", "exp-max", "zero-code", "pow2-rounding"})
    if (cl.has(o)) throw UsageError("option --" + std::string(o) + " does not apply to --type mx");
  for (const char* o : {"rounding", "overflow"})
    if (!cl.vm()[o].defaulted())
      throw UsageError("--" + std::string(o) +
                       " does not apply to --type mx (OCP MX elements round to nearest even "
                       "and saturate)");
  if (!cl.has("element"))
    throw UsageError("--type mx needs --element (e4m3, e5m2, e3m2, e2m3, e2m1 or int8)");
  nm::MxFormat f;
  const std::string e = cl.get<std::string>("element");
  if (!nm::parse_mx_element(e.c_str(), &f.element))
    throw UsageError("--element must be one of e4m3, e5m2, e3m2, e2m3, e2m1, int8, not '" + e + "'");
  if (cl.has("block")) f.block = cl.get<int>("block");
  if (const char* err = nm::validate(f))
    throw UsageError(std::string("invalid MX format: ") + err);
  return f;
}

/// Prints the values quantized as MX blocks of f.block consecutive values.
void print_mx(const nm::MxFormat& f, const std::vector<double>& values, bool json) {
  const nm::Format ef = f.element_format();
  const int cb = ef.code_bits();
  if (!json) {
    std::cout << "# " << config::describe_mx(f) << "\n";
    std::printf("%-24s %-24s %-6s %-*s %-*s %-24s %s\n", "# input", "value", "scale",
                (cb + 3) / 4 + 2, "code", cb, "binary", "error", "flags");
  }
  std::cout.flush();
  const size_t k = static_cast<size_t>(f.block);
  for (size_t b0 = 0; b0 < values.size(); b0 += k) {
    const size_t n = std::min(k, values.size() - b0);
    std::vector<uint32_t> codes(n);
    std::vector<double> q(n);
    const uint8_t scale = nm::mx_quantize_block(f, values.data() + b0, n, codes.data(), q.data());
    for (size_t i = 0; i < n; ++i) {
      const double x = values[b0 + i];
      const bool sat = scale != nm::kMxScaleNan && nm::mx_quantize_element(f, scale, x).saturated;
      const double err = q[i] - x;
      if (json) {
        std::printf(
            "{\"input\": %s, \"value\": %s, \"scale\": \"%s\", \"code\": \"%s\", "
            "\"binary\": \"%s\", \"error\": %s, \"saturated\": %s, \"nan\": %s}\n",
            json_number(x).c_str(), json_number(q[i]).c_str(), hex_code(scale, 8).c_str(),
            hex_code(codes[i], cb).c_str(), binary_code(codes[i], cb).c_str(),
            json_number(err).c_str(), sat ? "true" : "false",
            scale == nm::kMxScaleNan ? "true" : "false");
      } else {
        std::string flags = sat ? "saturated" : "";
        if (scale == nm::kMxScaleNan) flags += flags.empty() ? "nan" : ",nan";
        if (flags.empty()) flags = "-";
        std::printf("%-24s %-24s %-6s %-*s %-*s %-24s %s\n", g17(x).c_str(), g17(q[i]).c_str(),
                    hex_code(scale, 8).c_str(), (cb + 3) / 4 + 2, hex_code(codes[i], cb).c_str(),
                    cb, binary_code(codes[i], cb).c_str(), g17(err).c_str(), flags.c_str());
      }
    }
  }
  std::fflush(stdout);
}

}  // namespace

int cmd_format(const std::vector<std::string>& args) {
  CommandLine cl(
      "format", "--type T [format options] [--rounding R] [--overflow O] [--json] [VALUES...]",
      "Quantizes each value (from the arguments, or one per line on stdin when none are\n"
      "given) and prints: input, quantized value (%.17g), code in hex and binary, error\n"
      "(value - input) and flags (saturated, nan). For stochastic rounding the element\n"
      "index of a value is its position in the input (0-based).\n\n"
      "examples:\n"
      "  ristsim format --type fixed --bits 8 --fl 0 2.5 -2.5 3.5\n"
      "  ristsim format --type fixed --bits 8 --fl 8 --signed off 0.3 0.999 -0.01\n"
      "  ristsim format --type e4m3 --json 464\n"
      "  ristsim format --type minifloat --exp-bits 4 --mant-bits 3 --specials none 0.3\n"
      "  ristsim format --type pow2 --bits 4 --exp-max -1 0.3 -0.01\n"
      "  ristsim format --type mx --element e2m1 1.0 -0.3 5.0   (one block: shared E8M0 scale)\n"
      "formats are described in docs/formats.md");
  // clang-format off
  cl.options()
      ("type", po::value<std::string>()->required()->value_name("T"),
       "fixed | minifloat | e4m3 | e5m2 | pow2 | mx")
      ("bits", po::value<int>()->value_name("B"), "fixed, pow2: width in bits")
      ("fl", po::value<int>()->value_name("FL"), "fixed: fractional length (default 0)")
      ("signed", po::value<std::string>()->value_name("on|off"),
       "fixed: two's complement (on, default) or unsigned (off)")
      ("exp-bits", po::value<int>()->value_name("E"), "minifloat: exponent bits (2..8)")
      ("mant-bits", po::value<int>()->value_name("M"), "minifloat: mantissa bits (0..23)")
      ("bias", po::value<int>()->value_name("N"), "minifloat: exponent bias (default 2^(E-1)-1)")
      ("subnormals", po::value<std::string>()->value_name("on|off"), "minifloat: subnormals (default off)")
      ("specials", po::value<std::string>()->value_name("S"),
       "minifloat: none | ieee | fn | ristretto (default none)")
      ("exp-max", po::value<int>()->value_name("N"), "pow2: largest exponent (default -1)")
      ("zero-code", po::value<std::string>()->value_name("on|off"), "pow2: field 0 means zero (default off)")
      ("pow2-rounding", po::value<std::string>()->value_name("value|log"),
       "pow2: nearest by value or by log2 (Ristretto; default value)")
      ("element", po::value<std::string>()->value_name("E"),
       "mx: element type e4m3 | e5m2 (MXFP8), e3m2 | e2m3 (MXFP6), e2m1 (MXFP4), int8 (MXINT8)")
      ("block", po::value<int>()->value_name("N"),
       "mx: elements per block sharing a scale (default 32); the values form consecutive blocks")
      ("rounding", po::value<std::string>()->default_value("nearest_even")->value_name("R"),
       "nearest_even | nearest_away | toward_zero | down | up | stochastic")
      ("overflow", po::value<std::string>()->default_value("saturate")->value_name("O"),
       "saturate | wrap (fixed only) | special (inf/NaN formats)")
      ("seed", po::value<std::string>()->default_value("0")->value_name("S"), "stochastic: seed")
      ("stream", po::value<std::string>()->default_value("0")->value_name("N"), "stochastic: stream")
      ("random-bits", po::value<int>()->default_value(nm::kDefaultRandomBits)->value_name("R"),
       "stochastic: random bits per decision (1..32)")
      ("json", "one JSON object per line: input, value, code, binary, error, saturated, nan");
  // clang-format on
  cl.positional("values", -1);
  if (!cl.parse(args)) return kExitOk;
  const bool mx = cl.get<std::string>("type") == "mx";
  const nm::MxFormat mxf = mx ? mx_from(cl) : nm::MxFormat{};
  const nm::Quantizer q = mx ? nm::mx_element_quantizer(mxf) : quantizer_from(cl);
  const bool json = cl.has("json");
  const int cb = q.format.code_bits();

  // Read and check every value first: a bad one is a usage error and prints nothing.
  std::vector<double> values;
  if (cl.has("values")) {
    for (const std::string& s : cl.get<std::vector<std::string>>("values")) {
      double v;
      if (!parse_double(s, &v))
        throw UsageError("'" + s + "' is not a number (or is beyond the range of a double)");
      values.push_back(v);
    }
  } else {
    std::string line;
    for (int n = 1; std::getline(std::cin, line); ++n) {
      const std::string s = trim(line);
      if (s.empty()) continue;
      double v;
      if (!parse_double(s, &v))
        throw UsageError("'" + s + "' (stdin line " + std::to_string(n) +
                         ") is not a number (or is beyond the range of a double)");
      values.push_back(v);
    }
  }

  if (mx) {
    print_mx(mxf, values, json);
    return kExitOk;
  }
  if (!json) {
    std::cout << "# " << config::describe(q) << "\n";
    std::printf("%-24s %-24s %-*s %-*s %-24s %s\n", "# input", "value", (cb + 3) / 4 + 2, "code",
                cb, "binary", "error", "flags");
  }
  std::cout.flush();
  for (size_t i = 0; i < values.size(); ++i) {
    const double x = values[i];
    const nm::Quantized r = nm::quantize(q, x, static_cast<uint64_t>(i));
    const double err = r.value - x;
    if (json) {
      std::printf(
          "{\"input\": %s, \"value\": %s, \"code\": \"%s\", \"binary\": \"%s\", "
          "\"error\": %s, \"saturated\": %s, \"nan\": %s}\n",
          json_number(x).c_str(), json_number(r.value).c_str(), hex_code(r.code, cb).c_str(),
          binary_code(r.code, cb).c_str(), json_number(err).c_str(), r.saturated ? "true" : "false",
          r.nan ? "true" : "false");
    } else {
      std::string flags = r.saturated ? "saturated" : "";
      if (r.nan) flags += flags.empty() ? "nan" : ",nan";
      if (flags.empty()) flags = "-";
      std::printf("%-24s %-24s %-*s %-*s %-24s %s\n", g17(x).c_str(), g17(r.value).c_str(),
                  (cb + 3) / 4 + 2, hex_code(r.code, cb).c_str(), cb,
                  binary_code(r.code, cb).c_str(), g17(err).c_str(), flags.c_str());
    }
  }
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace ristsim::cli
