// The output stage of the exact datapath on the CPU (see output_stage.h).
#include "kernels/cpu/output_stage.h"

namespace ristsim::kernels {

using numeric::Dyadic;
using numeric::FormatKind;
using numeric::Rounding;

namespace {

Dyadic accumulator_value(int64_t acc, int frac_bits) {
  Dyadic v;
  v.neg = acc < 0;
  v.mag = acc < 0 ? uint64_t{0} - static_cast<uint64_t>(acc) : static_cast<uint64_t>(acc);
  v.exp = -frac_bits;
  return v;
}

}  // namespace

OutputStage::OutputStage(const numeric::Quantizer& out, int frac_bits, uint64_t outputs, CpuIsa isa)
    : out_(out), frac_bits_(frac_bits), isa_(isa) {
  while (!cpu_supports(isa_)) isa_ = static_cast<CpuIsa>(static_cast<int>(isa_) - 1);
  const numeric::Format& f = out.format;
  // Unsigned fixed point takes quantize() itself (the passes below are two's complement).
  if (f.kind == FormatKind::fixed && f.is_signed) {
    mode_ = Mode::fixed;
    key_ = numeric::stream_key(out.seed, out.stream);
    max_mag_ = f.max_mag_code();
    code_mask_ = numeric::low_mask(f.bits);
    shift_ = frac_bits - f.fl;
    saturate_ = out.overflow == numeric::Overflow::saturate;
    for (int s = 0; s < 2; ++s) {
      const numeric::Quantized q = numeric::quantize(out_, Dyadic{s == 1, uint64_t{1} << 62, 0}, 0);
      saturated_code_[s] = static_cast<uint32_t>(q.code);
    }
    if (out.rounding != Rounding::stochastic && shift_ >= 1 && shift_ <= 62 && f.bits >= 3) {
      mode_ = Mode::fixed_decision;
      for (int i = 0; i < 16; ++i) {
        // (p + guard/2 + sticky/4) * 2^-fl rounds to p or p + 1 (in range: B >= 3).
        const bool neg = (i >> 3) & 1;
        const uint64_t p = (i >> 2) & 1;
        const numeric::Quantized q =
            numeric::quantize(out_, Dyadic{neg, static_cast<uint64_t>(i & 7), -f.fl - 2}, 0);
        const int64_t v = numeric::sign_extend(q.code, f.bits);
        const uint64_t m = static_cast<uint64_t>(v < 0 ? -v : v);
        up_[i] = m != p ? 1 : 0;
        up_bits_ |= static_cast<uint32_t>(up_[i]) << i;
      }
    } else {
      mode_ = Mode::fixed;
    }
    return;
  }
  if (f.kind == FormatKind::minifloat && out.rounding != Rounding::stochastic && f.mant_bits <= 4) {
    keep_ = f.mant_bits + 3;
    const uint64_t entries = 2 * ((uint64_t{1} << keep_) + 64 * (uint64_t{1} << (keep_ - 1)));
    if (outputs < 4 * entries) return;
    mode_ = Mode::minifloat_table;
    // One table per sign: [mag] for mag < 2^keep_, then for larger mag, reduced
    // by a right shift sh in 1..64 - keep_ to keep_ bits (top bit set, the
    // shifted-out bits OR-ed into bit 0): [(sh + 1) << (keep_ - 1) | low bits].
    const int shifts = 64 - keep_;
    const size_t size = (static_cast<size_t>(shifts) + 2) << (keep_ - 1);
    for (int s = 0; s < 2; ++s) {
      mf_[s].assign(size, 0);
      for (uint64_t m = 0; m < (uint64_t{1} << keep_); ++m) {
        const numeric::Quantized q = numeric::quantize(out_, Dyadic{s == 1, m, -frac_bits_}, 0);
        mf_[s][m] = static_cast<uint32_t>(q.code << 1) | (q.saturated ? 1 : 0);
      }
      for (int sh = 1; sh <= shifts; ++sh) {
        for (uint64_t low = 0; low < (uint64_t{1} << (keep_ - 1)); ++low) {
          const uint64_t red = (uint64_t{1} << (keep_ - 1)) | low;
          const numeric::Quantized q =
              numeric::quantize(out_, Dyadic{s == 1, red, sh - frac_bits_}, 0);
          mf_[s][(static_cast<size_t>(sh + 1) << (keep_ - 1)) | low] =
              static_cast<uint32_t>(q.code << 1) | (q.saturated ? 1 : 0);
        }
      }
    }
  }
}

namespace {

/// The parameters of the fixed-point output pass.
struct FixedRows {
  int shift;             ///< r = F - FL_o, 1..62
  uint64_t sticky_mask;  ///< the r - 1 bits below the guard bit
  uint32_t up_bits;  ///< bit key: round up (key = sign << 3 | parity << 2 | guard << 1 | sticky)
  uint64_t max_mag;
  uint64_t code_mask;
};

/// Codes of n accumulators; out_of_range[i] marks those beyond the range
/// (their code is then to be replaced). Returns whether any is.
__attribute__((always_inline)) inline bool fixed_rows_body(const FixedRows& p,
                                                           const int64_t* __restrict acc, int n,
                                                           uint32_t* __restrict codes,
                                                           uint8_t* __restrict out_of_range) {
  uint8_t any = 0;
  for (int i = 0; i < n; ++i) {
    const uint64_t sign = static_cast<uint64_t>(acc[i] >> 63);  // all ones if negative
    const uint64_t mag = (static_cast<uint64_t>(acc[i]) ^ sign) - sign;
    const uint64_t t = mag >> p.shift;
    const uint64_t key = (sign & 8) | (t & 1) << 2 | ((mag >> (p.shift - 1)) & 1) << 1 |
                         ((mag & p.sticky_mask) != 0 ? 1 : 0);
    const uint64_t m = t + ((p.up_bits >> key) & 1);
    const uint8_t out = m > p.max_mag + (sign & 1) ? 1 : 0;
    out_of_range[i] = out;
    any |= out;
    codes[i] = static_cast<uint32_t>(((m ^ sign) - sign) & p.code_mask);
  }
  return any != 0;
}

bool fixed_rows_portable(const FixedRows& p, const int64_t* acc, int n, uint32_t* codes,
                         uint8_t* out) {
  return fixed_rows_body(p, acc, n, codes, out);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) bool fixed_rows_avx2(const FixedRows& p, const int64_t* acc, int n,
                                                     uint32_t* codes, uint8_t* out) {
  return fixed_rows_body(p, acc, n, codes, out);
}

__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq"))) bool fixed_rows_avx512(
    const FixedRows& p, const int64_t* acc, int n, uint32_t* codes, uint8_t* out) {
  return fixed_rows_body(p, acc, n, codes, out);
}
#endif

bool fixed_rows(CpuIsa isa, const FixedRows& p, const int64_t* acc, int n, uint32_t* codes,
                uint8_t* out) {
#if defined(__x86_64__) || defined(__i386__)
  switch (isa) {
    case CpuIsa::avx512_vnni:
    case CpuIsa::avx512: return fixed_rows_avx512(p, acc, n, codes, out);
    case CpuIsa::avx2: return fixed_rows_avx2(p, acc, n, codes, out);
    case CpuIsa::portable: break;
  }
#else
  (void)isa;
#endif
  return fixed_rows_portable(p, acc, n, codes, out);
}

}  // namespace

uint64_t OutputStage::convert_many(const int64_t* acc, const uint64_t* index, int n,
                                   uint32_t* codes) const {
  uint64_t saturations = 0;
  if (mode_ == Mode::fixed_decision) {
    // convert_fixed_decision() for a row of outputs: a branch-free pass (that
    // vectorises), then quantize()'s overflow for the few out of range.
    const FixedRows p{shift_, numeric::low_mask(shift_ - 1), up_bits_, max_mag_, code_mask_};
    uint8_t out_of_range[256];
    for (int i0 = 0; i0 < n; i0 += 256) {
      const int len = n - i0 < 256 ? n - i0 : 256;
      if (!fixed_rows(isa_, p, acc + i0, len, codes + i0, out_of_range)) continue;
      for (int i = 0; i < len; ++i) {
        if (!out_of_range[i]) continue;
        bool sat = false;
        codes[i0 + i] = convert_fixed_decision(acc[i0 + i], index[i0 + i], &sat);
        saturations += sat ? 1 : 0;
      }
    }
    return saturations;
  }
  if (mode_ == Mode::minifloat_table) {
    const uint32_t* table[2] = {mf_[0].data(), mf_[1].data()};
    for (int i = 0; i < n; ++i) {
      const uint64_t sign = static_cast<uint64_t>(acc[i] >> 63);
      const uint64_t mag = (static_cast<uint64_t>(acc[i]) ^ sign) - sign;
      const uint32_t e = table[sign & 1][table_index(mag)];
      codes[i] = e >> 1;
      saturations += e & 1;
    }
    return saturations;
  }
  for (int i = 0; i < n; ++i) {
    bool sat = false;
    codes[i] = convert(acc[i], index[i], &sat);
    saturations += sat ? 1 : 0;
  }
  return saturations;
}

uint32_t OutputStage::convert_quantize(int64_t acc, uint64_t index, bool* saturated) const {
  const numeric::Quantized q = numeric::quantize(out_, accumulator_value(acc, frac_bits_), index);
  *saturated = q.saturated;
  return static_cast<uint32_t>(q.code);
}

uint32_t OutputStage::convert_fixed(int64_t acc, uint64_t index, bool* saturated) const {
  // quantize()'s fixed branch: split at the output's quantum 2^-fl, round once.
  const Dyadic v = accumulator_value(acc, frac_bits_);
  const numeric::Split s = numeric::split(v.mag, v.exp, -out_.format.fl);
  uint64_t m = s.t;
  if (!s.exact()) {
    uint32_t random = 0;
    if (out_.rounding == Rounding::stochastic)
      random = static_cast<uint32_t>(numeric::random64(key_, index) >> (64 - out_.random_bits));
    numeric::Neighbours nb;
    nb.lo_even = (s.t & 1) == 0;
    nb.hi_even = !nb.lo_even;
    if (numeric::round_to_larger(out_.rounding, v.neg, s.rem, s.k,
                                 numeric::compare_half(s.rem, s.k), nb, random, out_.random_bits))
      ++m;
  }
  if (s.huge || m > max_mag_ + (v.neg ? 1 : 0)) return convert_quantize(acc, index, saturated);
  *saturated = false;
  return static_cast<uint32_t>((v.neg ? uint64_t{0} - m : m) & code_mask_);
}

uint32_t OutputStage::convert_fixed_decision(int64_t acc, uint64_t index, bool* saturated) const {
  const bool neg = acc < 0;
  const uint64_t mag = neg ? uint64_t{0} - static_cast<uint64_t>(acc) : static_cast<uint64_t>(acc);
  const uint64_t t = mag >> shift_;
  const uint64_t guard = (mag >> (shift_ - 1)) & 1;
  const uint64_t sticky = (mag & numeric::low_mask(shift_ - 1)) != 0 ? 1 : 0;
  const uint64_t m = t + up_[(neg ? 8 : 0) | (t & 1) << 2 | guard << 1 | sticky];
  if (m > max_mag_ + (neg ? 1 : 0)) {
    if (!saturate_) return convert_quantize(acc, index, saturated);
    *saturated = true;
    return saturated_code_[neg ? 1 : 0];
  }
  *saturated = false;
  return static_cast<uint32_t>((neg ? uint64_t{0} - m : m) & code_mask_);
}

uint32_t OutputStage::convert_table(int64_t acc, bool* saturated) const {
  const uint64_t sign = static_cast<uint64_t>(acc >> 63);
  const uint64_t mag = (static_cast<uint64_t>(acc) ^ sign) - sign;
  const uint32_t e = mf_[sign & 1][table_index(mag)];
  *saturated = e & 1;
  return e >> 1;
}

}  // namespace ristsim::kernels
