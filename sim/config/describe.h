// Human-readable descriptions of formats and arches, and the arch's hash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/arch.h"

namespace ristsim::config {

/// A format's short name: "fixed<8,4>", "minifloat<E4,M3,bias 7,subnormals off,specials none>",
/// "e4m3", "e5m2", "pow2<4,exp -8..-1,no zero code,value rounding>".
std::string format_name(const numeric::Format& f);

/// A quantizer on one line: name, range, smallest positive value, rounding, overflow.
std::string describe(const numeric::Quantizer& q);

/// An MX format on one line: the spec's name, the block, the scale's and the elements' ranges.
std::string describe_mx(const numeric::MxFormat& f);

/// A number group's format ("float32 (not quantized)", "dynamic fixed ...").
std::string describe(const NumberSpec& s);

/// The whole arch over several lines: datapath, formats, overrides,
/// accumulator (with the widths the growth rules give), array, technology.
std::string describe(const Arch& a);

/// The memory hierarchy, one level per line.
std::string describe_memory(const MemoryHierarchy& h);

/// FNV-1a 64-bit hash (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
uint64_t fnv1a64(std::string_view bytes);

/// The hash of the arch file's bytes (Arch::text), for generated RTL headers.
inline uint64_t arch_hash(const Arch& a) {
  return fnv1a64(a.text);
}

/// "0x" and 16 lowercase hex digits.
std::string hex64(uint64_t v);

}  // namespace ristsim::config
