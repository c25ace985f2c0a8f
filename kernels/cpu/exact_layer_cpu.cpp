// The exact datapath on the CPU (see exact_layer_cpu.h for the method).
//
// Layout of the work: the output positions of all images form the GEMM's
// columns (p = img * oh * ow + oy * ow + ox), so an inner product batches its
// images. Work items are (group, block of columns); each thread packs its
// block's columns (im2col on exact integers), runs the GEMM for the group's
// fast channels (int16, float64), or one GEMM per chunk of K terms for all of
// them (*_chunked), and the generic per-term path for the channels left, then
// converts to output codes. Every output element depends on its own terms
// only, so the result does not depend on the split or the thread count.
#include "kernels/cpu/exact_layer_cpu.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/cpu/exact_gemm.h"
#include "kernels/cpu/output_stage.h"
#include "kernels/reference/accumulator_bound.h"

namespace ristsim::kernels {

using numeric::Dyadic;
using numeric::Format;
using numeric::Quantized;
using numeric::Quantizer;

const char* to_string(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::portable: return "portable";
    case CpuIsa::avx2: return "avx2";
    case CpuIsa::avx512: return "avx512";
    case CpuIsa::avx512_vnni: return "avx512_vnni";
  }
  return "?";
}

const char* to_string(ExactKernel k) {
  switch (k) {
    case ExactKernel::int8: return "int8";
    case ExactKernel::int16: return "int16";
    case ExactKernel::float64: return "float64";
    case ExactKernel::int8_chunked: return "int8_chunked";
    case ExactKernel::int16_chunked: return "int16_chunked";
    case ExactKernel::float64_chunked: return "float64_chunked";
    case ExactKernel::generic: return "generic";
  }
  return "?";
}

bool cpu_supports(CpuIsa isa) {
#if defined(__x86_64__) || defined(__i386__)
  switch (isa) {
    case CpuIsa::portable: return true;
    case CpuIsa::avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CpuIsa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
    case CpuIsa::avx512_vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vnni");
  }
  return false;
#else
  return isa == CpuIsa::portable;
#endif
}

CpuIsa best_cpu_isa() {
  for (CpuIsa isa : {CpuIsa::avx512_vnni, CpuIsa::avx512, CpuIsa::avx2})
    if (cpu_supports(isa)) return isa;
  return CpuIsa::portable;
}

namespace {

using u128 = unsigned __int128;
using i128 = __int128;

/// Operands as exact integers in units of 2^-exactly_fixed(format).fl.
struct Operand {
  Format format;
  int fl = 0;                   ///< exactly_fixed(format).fl
  int int_bits = 0;             ///< exactly_fixed(format).bits
  bool has_ints = false;        ///< int_bits <= 62: values below fit int64
  std::vector<int64_t> value;   ///< per element (has_ints); 0 for inf/NaN
  std::vector<uint8_t> finite;  ///< per element
  bool any_special = false;
  uint64_t max_abs = 0;
  int64_t min_value = 0, max_value = 0;  ///< of the finite values (has_ints)
};

/// One code as an exact integer (has_ints formats). False for inf/NaN.
bool code_to_int(const Format& f, int fl, uint32_t code, int64_t* v) {
  Dyadic d;
  if (!numeric::decode_exact(f, code, &d)) return false;
  if (d.mag == 0) {
    *v = 0;
    return true;
  }
  const uint64_t m = d.mag << (d.exp + fl);  // exp + fl >= 0: fl is the format's quantum
  *v = d.neg ? -static_cast<int64_t>(m) : static_cast<int64_t>(m);
  return true;
}

/// Runs fn(begin, end, part) on up to `threads` contiguous parts of [0, n),
/// each at least `grain` long; part 0 runs in the calling thread.
template <typename F>
void parallel_for(int threads, int64_t n, int64_t grain, F&& fn) {
  const int parts = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, n / grain)));
  if (parts == 1) {
    fn(int64_t{0}, n, 0);
    return;
  }
  std::vector<std::thread> pool;
  for (int t = 1; t < parts; ++t)
    pool.emplace_back([&fn, n, t, parts] { fn(n * t / parts, n * (t + 1) / parts, t); });
  fn(int64_t{0}, n / parts, 0);
  for (std::thread& t : pool) t.join();
}

/// Fills `op` (its buffers are reused from call to call).
void convert(const Format& f, const uint32_t* codes, size_t count, int threads, Operand& op) {
  op.format = f;
  op.any_special = false;
  op.max_abs = 0;
  op.min_value = op.max_value = 0;
  const numeric::FixedType t = numeric::exactly_fixed(f);
  op.fl = t.fl;
  op.int_bits = t.bits;
  op.has_ints = t.bits <= 62;
  op.finite.resize(count);
  if (op.has_ints) op.value.resize(count);
  // A table per code for narrow codes, when there are more elements than codes.
  const int cb = f.code_bits() <= 16 && (size_t{1} << f.code_bits()) <= count ? f.code_bits() : 32;
  std::vector<int64_t> tv;
  std::vector<uint8_t> tf;
  if (cb <= 16) {
    const size_t n = size_t{1} << cb;
    tv.assign(n, 0);
    tf.assign(n, 0);
    for (size_t c = 0; c < n; ++c) {
      if (op.has_ints) {
        tf[c] = code_to_int(f, op.fl, static_cast<uint32_t>(c), &tv[c]);
      } else {
        Dyadic d;
        tf[c] = numeric::decode_exact(f, c, &d);
      }
    }
  }
  const uint32_t mask = static_cast<uint32_t>(numeric::low_mask(std::min(cb, 32)));
  std::vector<uint64_t> part_max(threads, 0);
  std::vector<int64_t> part_lo(threads, 0), part_hi(threads, 0);
  std::vector<uint8_t> part_special(threads, 0);
  parallel_for(threads, static_cast<int64_t>(count), 1 << 16, [&](int64_t b, int64_t e, int part) {
    uint64_t mx = 0;
    int64_t lo = 0, hi = 0;  // 0 is a value of every format (and the padding)
    bool special = false;
    if (cb <= 16 && op.has_ints) {  // the common case, without branches
      const int64_t* __restrict table_v = tv.data();
      const uint8_t* __restrict table_f = tf.data();
      int64_t* __restrict value = op.value.data();
      uint8_t* __restrict finite = op.finite.data();
      uint8_t all_finite = 1;
      for (int64_t i = b; i < e; ++i) {
        const uint32_t c = codes[i] & mask;
        const int64_t v = table_v[c];
        value[i] = v;
        finite[i] = table_f[c];
        all_finite &= table_f[c];
        const uint64_t av = static_cast<uint64_t>(v < 0 ? -v : v);  // |v| < 2^62
        mx = av > mx ? av : mx;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
      }
      part_max[part] = mx;
      part_lo[part] = lo;
      part_hi[part] = hi;
      part_special[part] = !all_finite;
      return;
    }
    for (int64_t i = b; i < e; ++i) {
      int64_t v = 0;
      bool finite;
      if (cb <= 16) {
        const uint32_t c = codes[i] & mask;
        finite = tf[c];
        v = op.has_ints ? tv[c] : 0;
      } else if (op.has_ints) {
        finite = code_to_int(f, op.fl, codes[i], &v);
      } else {
        Dyadic d;
        finite = numeric::decode_exact(f, codes[i], &d);
      }
      op.finite[i] = finite;
      special = special || !finite;
      if (op.has_ints) {
        op.value[i] = v;
        const uint64_t av =
            v < 0 ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
        mx = std::max(mx, av);
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
    part_max[part] = mx;
    part_lo[part] = lo;
    part_hi[part] = hi;
    part_special[part] = special;
  });
  for (int t = 0; t < threads; ++t) {
    op.max_abs = std::max(op.max_abs, part_max[t]);
    op.min_value = std::min(op.min_value, part_lo[t]);
    op.max_value = std::max(op.max_value, part_hi[t]);
    op.any_special = op.any_special || part_special[t];
  }
}

/// A value onto the accumulator's grid, exactly as docs/datapath.md step 2.
int64_t align(const ExactLayerSpec& spec, int frac_bits, const Dyadic& v) {
  Quantizer grid;
  grid.format = Format::fixed_point(64, frac_bits);
  grid.rounding = spec.acc.align_rounding;
  grid.overflow = numeric::Overflow::wrap;
  return numeric::sign_extend(numeric::quantize(grid, v).code, 64);
}

/// The accumulator's overflow mode on A bits; counts a change.
struct Accumulator {
  i128 max, min;
  int bits;
  bool saturate;
  explicit Accumulator(const config::AccumulatorSpec& a)
      : max((static_cast<i128>(1) << (a.bits - 1)) - 1),
        min(-(static_cast<i128>(1) << (a.bits - 1))),
        bits(a.bits),
        saturate(a.overflow == numeric::Overflow::saturate) {}
  int64_t apply(i128 v, uint64_t* overflows) const {
    if (v >= min && v <= max) return static_cast<int64_t>(v);
    ++*overflows;
    if (saturate) return static_cast<int64_t>(v > max ? max : min);
    const u128 low = static_cast<u128>(v) & ((static_cast<u128>(1) << bits) - 1);
    return numeric::sign_extend(static_cast<uint64_t>(low), bits);
  }
};

/// The aligned products of the generic path.
class TermSource {
 public:
  enum class Mode { int_shift, table, quantize };

  /// `spec`: the spec of the channels it serves (channel_spec(): their weight format, whose
  /// codes are w's integers on that format's grid).
  TermSource(const ExactLayerSpec& spec, int frac_bits, const Operand& a, const Operand& w,
             const uint32_t* in_codes, const uint32_t* w_codes, size_t in_count, size_t w_count)
      : spec_(spec), frac_bits_(frac_bits), a_(a), w_(w), in_codes_(in_codes), w_codes_(w_codes) {
    const Format& wf = spec.wt.format;
    shift_ = frac_bits - (a.fl + numeric::exactly_fixed(wf).fl);
    const int acb = a.format.code_bits(), wcb = wf.code_bits();
    if (shift_ >= 0 && a.has_ints && w.has_ints) {
      mode_ = Mode::int_shift;
    } else if (acb + wcb <= 16) {
      mode_ = Mode::table;
      w_bits_ = wcb;
      a_mask_ = (1u << acb) - 1;
      w_mask_ = (1u << wcb) - 1;
      table_.assign(size_t{1} << (acb + wcb), 0);
      for (uint32_t ac = 0; ac < (1u << acb); ++ac) {
        for (uint32_t wc = 0; wc < (1u << wcb); ++wc) {
          Dyadic da, dw;
          if (!numeric::decode_exact(a.format, ac, &da) || !numeric::decode_exact(wf, wc, &dw))
            continue;
          table_[(size_t{ac} << wcb) | wc] = align(spec, frac_bits, product(da, dw));
        }
      }
    } else {
      mode_ = Mode::quantize;
      a_dy_.resize(in_count);
      w_dy_.resize(w_count);
      for (size_t i = 0; i < in_count; ++i) numeric::decode_exact(a.format, in_codes[i], &a_dy_[i]);
      for (size_t i = 0; i < w_count; ++i) numeric::decode_exact(wf, w_codes[i], &w_dy_[i]);
    }
  }

  /// The aligned product of input element ai and weight element wi (both finite).
  int64_t aligned(size_t ai, size_t wi) const {
    switch (mode_) {
      case Mode::int_shift: {
        if (shift_ >= 64) return 0;  // only the low 64 bits are kept (wrap), all zero
        const i128 p = static_cast<i128>(a_.value[ai]) * w_.value[wi];
        return static_cast<int64_t>(static_cast<uint64_t>(static_cast<u128>(p) << shift_));
      }
      case Mode::table:
        return table_[(static_cast<size_t>(in_codes_[ai] & a_mask_) << w_bits_) |
                      (w_codes_[wi] & w_mask_)];
      case Mode::quantize: return align(spec_, frac_bits_, product(a_dy_[ai], w_dy_[wi]));
    }
    return 0;
  }

 private:
  static Dyadic product(const Dyadic& a, const Dyadic& w) {
    Dyadic p;
    p.neg = a.neg != w.neg;
    p.mag = a.mag * w.mag;
    p.exp = a.exp + w.exp;
    return p;
  }

  const ExactLayerSpec spec_;
  int frac_bits_;
  const Operand& a_;
  const Operand& w_;
  const uint32_t* in_codes_;
  const uint32_t* w_codes_;
  Mode mode_ = Mode::quantize;
  int shift_ = 0;
  int w_bits_ = 0;
  uint32_t a_mask_ = 0, w_mask_ = 0;
  std::vector<int64_t> table_;
  std::vector<Dyadic> a_dy_, w_dy_;
};

/// What depends on the weights' fractional length: one class for a layer with
/// one weight FL, one per distinct FL of a per-channel layer (ExactLayerSpec::wt_fl).
struct ChannelClass {
  int wt_fl = 0;
  int frac_bits = 0;  ///< F of its channels
  int shift = 0;      ///< F - FL_p (fast path: >= 0)
  std::unique_ptr<OutputStage> stage;
  std::unique_ptr<TermSource> terms;
};

/// Everything a worker needs about the layer.
struct Layer {
  ConvShape s;
  const ExactLayerSpec* spec;
  const uint32_t* in_codes;
  const uint32_t* w_codes;
  uint32_t* out_codes;
  int cg = 0, kg = 0, depth = 0, ohw = 0;
  int64_t p_total = 0;
  Quantizer out;
  std::vector<ChannelClass> classes;
  std::vector<int> class_of;  ///< per output channel: its index in classes
  const ChannelClass& cls(int k) const { return classes[static_cast<size_t>(class_of[k])]; }
  const Operand* a = nullptr;
  const Operand* w = nullptr;
  std::vector<int64_t> bias_aligned;
  std::vector<uint8_t> bias_finite;
  std::vector<uint8_t> fast;  ///< per output channel
  ExactKernel kernel = ExactKernel::generic;
  CpuIsa isa = CpuIsa::portable;
  int kk = 0;                  ///< kg rounded up to the row block
  int lanes = 0;               ///< K
  int kc = 0;                  ///< int*_chunked: min(K, depth) rounded up to 2 (int16) or 4 (int8)
  int nchunks = 0;             ///< ceil(depth / K)
  int depth_c = 0;             ///< int*_chunked: nchunks * kc, the padded depth
  int a_offset = 0;            ///< int8: added to the activations (0 or 128)
  std::vector<int32_t> w8;     ///< [groups][kk][d4] packed quads (int8 kernels)
  std::vector<int32_t> init8;  ///< [groups][chunks or 1][kk]: -a_offset * sum w, mod 2^32
  std::vector<uint8_t> in8;    ///< input tensor + a_offset as uint8 (int8 kernels)
  std::vector<int32_t> w16;    ///< [groups][kk][d2] packed pairs
  std::vector<double> wd;      ///< [groups][kk][depth]
  std::vector<int16_t> in16;   ///< input tensor as int16 (int16 kernels)
  std::vector<double> ind;     ///< input tensor as double (float64 kernels)
};

/// A run of columns that share an image and an output row: ox = ox0, ox0 + 1, ...
struct Segment {
  int first_col, cols, y0, x0;  ///< x0: input column of the first output's window
  int64_t base;                 ///< offset of (img, 0, 0, 0) in the input
};

/// Per-thread buffers and counters.
struct Worker {
  std::vector<uint8_t> x8, x8_rows;  ///< int8: the GEMM's layout; plain rows before it
  std::vector<int16_t> x16;
  std::vector<double> xd;
  std::vector<int32_t> o32;
  std::vector<double> od;
  std::vector<int64_t> col_base;  ///< per column: offset of (img, 0, 0, 0) in the input
  std::vector<int> col_y, col_x;  ///< per column: top-left input position of the window
  std::vector<uint64_t> col_out;  ///< per column: output index of channel 0
  std::vector<Segment> segments;
  std::vector<int64_t> acc;               ///< per column: the accumulator of one channel
  std::vector<int64_t> acc_all;           ///< *_chunked: [channel of the group][column]
  std::vector<uint64_t> index;            ///< per column: its output index
  std::vector<std::pair<int, int>> runs;  ///< (first column, count): consecutive outputs
  ExactStats stats;
};

/// Buffers reused by the calls made from one thread.
struct Scratch {
  Operand a, w;
  Layer layer;
  std::vector<Worker> workers;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

void store_output(const Layer& L, Worker& wk, int k, uint64_t index, bool nan, int64_t acc) {
  if (nan) {
    L.out_codes[index] = static_cast<uint32_t>(numeric::quantize(L.out, std::nan(""), index).code);
    ++wk.stats.out_nans;
    return;
  }
  bool saturated = false;
  L.out_codes[index] = L.cls(k).stage->convert(acc, index, &saturated);
  if (saturated) ++wk.stats.out_saturations;
}

/// The generic path: one output element, chunk by chunk, as docs/datapath.md.
void generic_output(const Layer& L, Worker& wk, int k, int col) {
  const ConvShape& s = L.s;
  const Accumulator accu(L.spec->acc);
  const TermSource& terms = *L.cls(k).terms;
  const int group = k / L.kg;
  const size_t lanes = static_cast<size_t>(L.spec->lanes);
  const int y0 = wk.col_y[col], x0 = wk.col_x[col];
  const int64_t base = wk.col_base[col];
  const size_t w_row = static_cast<size_t>(k) * L.depth;
  int64_t acc = 0;
  i128 chunk = 0;
  size_t lane = 0;
  bool nan = false;
  uint64_t overflows = 0;
  size_t d = 0;
  for (int ci = 0; ci < L.cg; ++ci) {
    const int64_t plane = base + static_cast<int64_t>(group * L.cg + ci) * s.h * s.w;
    for (int ky = 0; ky < s.kh; ++ky) {
      const int y = y0 + ky * s.dil_h;
      for (int kx = 0; kx < s.kw; ++kx, ++d) {
        const int x = x0 + kx * s.dil_w;
        if (y >= 0 && y < s.h && x >= 0 && x < s.w) {
          const size_t ai = static_cast<size_t>(plane + static_cast<int64_t>(y) * s.w + x);
          const size_t wi = w_row + d;
          if (L.a->finite[ai] && L.w->finite[wi]) {
            chunk += terms.aligned(ai, wi);
          } else {
            nan = true;
          }
        }
        if (++lane == lanes) {
          acc = accu.apply(static_cast<i128>(acc) + chunk, &overflows);
          chunk = 0;
          lane = 0;
        }
      }
    }
  }
  if (lane != 0) acc = accu.apply(static_cast<i128>(acc) + chunk, &overflows);
  if (L.spec->has_bias) {
    if (!L.bias_finite[k]) nan = true;
    acc = accu.apply(static_cast<i128>(acc) + L.bias_aligned[k], &overflows);
  }
  wk.stats.acc_overflows += overflows;
  store_output(L, wk, k, wk.col_out[col] + static_cast<uint64_t>(k) * L.ohw, nan, acc);
}

/// dst[0, n) = src[0, n) for im2col's short runs (8 to 24 elements in LeNet):
/// fixed-size copies the compiler turns into moves, no call.
template <typename T>
inline void copy_run(T* __restrict dst, const T* __restrict src, int n) {
  constexpr int kBlock = sizeof(T) >= 16 ? 1 : static_cast<int>(16 / sizeof(T));
  int i = 0;
  for (; i + kBlock <= n; i += kBlock) std::memcpy(dst + i, src + i, kBlock * sizeof(T));
  // The rest (< kBlock) in halving blocks: a loop here would become a memcpy call.
  auto part = [&](auto len) {
    constexpr int m = decltype(len)::value;
    if (m >= 1 && i + m <= n) {
      std::memcpy(dst + i, src + i, m * sizeof(T));
      i += m;
    }
  };
  part(std::integral_constant<int, kBlock / 2>{});
  part(std::integral_constant<int, kBlock / 4>{});
  part(std::integral_constant<int, kBlock / 8>{});
  part(std::integral_constant<int, kBlock / 16>{});
}

/// im2col of a block of columns of group g into the kernel's layout: row d of
/// x holds term d of every column (kInterleave rows interleaved: 2 for int16;
/// int8 packs plain rows and interleaves them after). `chunked`: term d goes
/// to row (d / K) * kc + d % K (chunks of K padded to kc). Padding (outside
/// the image, or beyond the depth) is `zero`.
template <typename T, int kInterleave>
void pack_columns(const Layer& L, const std::vector<Segment>& segs, const T* in, int g, int pp,
                  T* x, bool chunked = false, T zero = T{0}) {
  const ConvShape& s = L.s;
  const int rows = chunked ? L.depth_c : L.depth;
  constexpr int step = kInterleave;
  std::fill(x, x + static_cast<size_t>((rows + step - 1) / step * step) * pp, zero);
  auto row_of = [&](int d) { return chunked ? d / L.lanes * L.kc + d % L.lanes : d; };
  if (s.h == 1 && s.w == 1 && s.kh == 1 && s.kw == 1 && s.pad_h == 0 && s.pad_w == 0) {
    // Inner product: column c is the image's input vector, term d = channel d.
    for (const Segment& sg : segs) {
      const T* src = in + sg.base + static_cast<int64_t>(g) * L.cg;
      for (int d = 0; d < L.depth; ++d) {
        const int r = row_of(d);
        T* row = x + static_cast<size_t>(r / step) * pp * step + r % step;
        row[static_cast<size_t>(sg.first_col) * step] = src[d];
      }
    }
    return;
  }
  int d = 0;
  for (int ci = 0; ci < L.cg; ++ci) {
    const int64_t plane = static_cast<int64_t>(g * L.cg + ci) * s.h * s.w;
    for (int ky = 0; ky < s.kh; ++ky) {
      for (int kx = 0; kx < s.kw; ++kx, ++d) {
        const int r = row_of(d);
        T* row = x + static_cast<size_t>(r / step) * pp * step + r % step;
        for (const Segment& sg : segs) {
          const int y = sg.y0 + ky * s.dil_h;
          if (y < 0 || y >= s.h) continue;
          // Columns i of the segment read input column x0 + kx * dil + i * stride.
          const int xs = sg.x0 + kx * s.dil_w;
          int lo = 0, hi = sg.cols;  // valid i: 0 <= xs + i * stride < w
          if (xs < 0) lo = (-xs + s.stride_w - 1) / s.stride_w;
          if (xs + (hi - 1) * s.stride_w >= s.w)
            hi = xs >= s.w ? 0 : (s.w - 1 - xs) / s.stride_w + 1;
          const T* src = in + sg.base + plane + static_cast<int64_t>(y) * s.w + xs;
          T* dst = row + static_cast<size_t>(sg.first_col) * step;
          if (s.stride_w == 1 && step == 1) {
            copy_run(dst + lo, src + lo, hi - lo);
          } else if (s.stride_w == 1) {
            for (int i = lo; i < hi; ++i) dst[i * step] = src[i];
          } else {
            for (int i = lo; i < hi; ++i) dst[i * step] = src[i * s.stride_w];
          }
        }
      }
    }
  }
}

/// The output codes of channel k for the item's columns, from their
/// accumulators, converted straight into the output tensor run by run.
void store_channel(const Layer& L, Worker& wk, int k, const int64_t* acc, int cols) {
  const uint64_t k_offset = static_cast<uint64_t>(k) * L.ohw;
  for (int c = 0; c < cols; ++c) wk.index[c] = wk.col_out[c] + k_offset;
  for (const auto& [first, count] : wk.runs)
    wk.stats.out_saturations += L.cls(k).stage->convert_many(acc + first, wk.index.data() + first, count,
                                                      L.out_codes + wk.index[first]);
}

/// pack_columns() for the int8 kernels: plain rows first (contiguous copies),
/// then interleaved by fours (interleave_quads), faster than byte scatters.
void pack_columns_u8(const Layer& L, Worker& wk, int g, int pp, bool chunked) {
  const int rows = chunked ? L.depth_c : L.depth;
  const int d4 = (rows + 3) / 4;
  const uint8_t zero = static_cast<uint8_t>(L.a_offset);
  wk.x8_rows.resize(static_cast<size_t>(d4) * 4 * pp);
  wk.x8.resize(static_cast<size_t>(d4) * 4 * pp);
  pack_columns<uint8_t, 1>(L, wk.segments, L.in8.data(), g, pp, wk.x8_rows.data(), chunked, zero);
  std::fill(wk.x8_rows.begin() + static_cast<size_t>(rows) * pp, wk.x8_rows.end(), zero);
  cpu_detail::interleave_quads(wk.x8_rows.data(), d4, pp, wk.x8.data());
}

/// int8_chunked / int16_chunked / float64_chunked: every channel of group g
/// over the item's columns, one GEMM per chunk of K terms, the accumulator's
/// overflow mode after each chunk and after the bias (docs/datapath.md steps
/// 3 to 5).
void run_chunked(const Layer& L, Worker& wk, int g, int cols) {
  const int pp =
      (cols + cpu_detail::kColumnBlock - 1) / cpu_detail::kColumnBlock * cpu_detail::kColumnBlock;
  const bool i8 = L.kernel == ExactKernel::int8_chunked;
  const bool i16 = L.kernel == ExactKernel::int16_chunked;
  const bool i32_sums = i8 || i16;
  wk.acc_all.assign(static_cast<size_t>(L.kg) * cols, 0);
  const Accumulator accu(L.spec->acc);
  uint64_t overflows = 0;
  if (i8) {
    wk.o32.resize(static_cast<size_t>(L.kk) * pp);
    pack_columns_u8(L, wk, g, pp, true);
  } else if (i16) {
    const int d2c = L.depth_c / 2;
    wk.x16.resize(static_cast<size_t>(d2c) * pp * 2);
    wk.o32.resize(static_cast<size_t>(L.kk) * pp);
    pack_columns<int16_t, 2>(L, wk.segments, L.in16.data(), g, pp, wk.x16.data(), true);
  } else {  // rows in term order: chunk q is rows [qK, qK + K)
    wk.xd.resize(static_cast<size_t>(L.depth) * pp);
    wk.od.resize(static_cast<size_t>(L.kk) * pp);
    pack_columns<double, 1>(L, wk.segments, L.ind.data(), g, pp, wk.xd.data());
  }
  for (int q = 0; q < L.nchunks; ++q) {
    if (i8) {
      const int d4c = L.depth_c / 4, kc4 = L.kc / 4;
      const int32_t* w_group = L.w8.data() + static_cast<size_t>(g) * L.kk * d4c;
      cpu_detail::gemm_u8i8(L.isa, wk.x8.data() + static_cast<size_t>(q) * kc4 * pp * 4,
                            w_group + static_cast<size_t>(q) * kc4, d4c,
                            L.init8.data() + (static_cast<size_t>(g) * L.nchunks + q) * L.kk,
                            wk.o32.data(), L.kk, kc4, pp);
    } else if (i16) {
      const int d2c = L.depth_c / 2, kc2 = L.kc / 2;
      const int32_t* w_group = L.w16.data() + static_cast<size_t>(g) * L.kk * d2c;
      cpu_detail::gemm_i16(L.isa, wk.x16.data() + static_cast<size_t>(q) * kc2 * pp * 2,
                           w_group + static_cast<size_t>(q) * kc2, d2c, wk.o32.data(), L.kk, kc2,
                           pp);
    } else {
      const int d0 = q * L.lanes, dn = std::min(L.lanes, L.depth - d0);
      const double* w_group = L.wd.data() + static_cast<size_t>(g) * L.kk * L.depth;
      cpu_detail::gemm_f64(L.isa, wk.xd.data() + static_cast<size_t>(d0) * pp, w_group + d0,
                           L.depth, wk.od.data(), L.kk, dn, pp);
    }
    for (int kl = 0; kl < L.kg; ++kl) {
      int64_t* __restrict acc = wk.acc_all.data() + static_cast<size_t>(kl) * cols;
      const size_t row = static_cast<size_t>(kl) * pp;
      const int shift = L.cls(g * L.kg + kl).shift;
      if (L.spec->acc.bits <= 63) {
        // |acc| <= 2^62 and |chunk sum| <= 2^62 on the grid: the sum fits int64.
        overflows += i32_sums
                         ? cpu_detail::accumulate_chunk(L.isa, accu.saturate, L.spec->acc.bits, acc,
                                                        wk.o32.data() + row, cols, shift)
                         : cpu_detail::accumulate_chunk(L.isa, accu.saturate, L.spec->acc.bits, acc,
                                                        wk.od.data() + row, cols, shift);
      } else {
        for (int c = 0; c < cols; ++c) {  // the chunk's exact sum, on the grid 2^-F
          const int64_t sum =
              i32_sums ? int64_t{wk.o32[row + c]} : static_cast<int64_t>(wk.od[row + c]);
          acc[c] = accu.apply(static_cast<i128>(acc[c]) + (static_cast<i128>(sum) << shift),
                              &overflows);
        }
      }
    }
  }
  for (int kl = 0; kl < L.kg; ++kl) {
    const int k = g * L.kg + kl;
    int64_t* acc = wk.acc_all.data() + static_cast<size_t>(kl) * cols;
    if (L.spec->has_bias)
      for (int c = 0; c < cols; ++c)
        acc[c] = accu.apply(static_cast<i128>(acc[c]) + L.bias_aligned[k], &overflows);
    store_channel(L, wk, k, acc, cols);
  }
  wk.stats.acc_overflows += overflows;
}

void run_item(const Layer& L, Worker& wk, int g, int64_t p0, int cols) {
  const ConvShape& s = L.s;
  // Column bookkeeping.
  wk.col_base.resize(cols);
  wk.col_y.resize(cols);
  wk.col_x.resize(cols);
  wk.col_out.resize(cols);
  for (int c = 0; c < cols; ++c) {
    const int64_t p = p0 + c;
    const int64_t img = p / L.ohw;
    const int pos = static_cast<int>(p % L.ohw);
    const int oy = pos / s.ow, ox = pos % s.ow;
    wk.col_base[c] = img * s.c * s.h * s.w;
    wk.col_y[c] = oy * s.stride_h - s.pad_h;
    wk.col_x[c] = ox * s.stride_w - s.pad_w;
    wk.col_out[c] = static_cast<uint64_t>(img) * s.k * L.ohw + pos;
  }
  wk.index.resize(cols);
  wk.runs.clear();
  for (int c = 0; c < cols; ++c) {
    if (c > 0 && wk.col_out[c] == wk.col_out[c - 1] + 1)
      ++wk.runs.back().second;
    else
      wk.runs.emplace_back(c, 1);
  }
  // Segments: runs of columns in one output row of one image.
  std::vector<Segment>& segs = wk.segments;
  segs.clear();
  for (int c = 0; c < cols;) {
    const int64_t p = p0 + c;
    const int ox = static_cast<int>(p % L.ohw) % s.ow;
    const int len = std::min(cols - c, s.ow - ox);
    segs.push_back(Segment{c, len, wk.col_y[c], wk.col_x[c], wk.col_base[c]});
    c += len;
  }
  const int k_begin = g * L.kg;
  if (L.kernel == ExactKernel::int8_chunked || L.kernel == ExactKernel::int16_chunked ||
      L.kernel == ExactKernel::float64_chunked) {
    run_chunked(L, wk, g, cols);
    return;
  }
  bool any_fast = false;
  for (int k = k_begin; k < k_begin + L.kg; ++k) any_fast = any_fast || L.fast[k];

  if (any_fast && L.kernel != ExactKernel::generic) {
    const int pp =
        (cols + cpu_detail::kColumnBlock - 1) / cpu_detail::kColumnBlock * cpu_detail::kColumnBlock;
    if (L.kernel == ExactKernel::int8) {
      const int d4 = (L.depth + 3) / 4;
      wk.o32.resize(static_cast<size_t>(L.kk) * pp);
      pack_columns_u8(L, wk, g, pp, false);
      cpu_detail::gemm_u8i8(L.isa, wk.x8.data(), L.w8.data() + static_cast<size_t>(g) * L.kk * d4,
                            d4, L.init8.data() + static_cast<size_t>(g) * L.kk, wk.o32.data(), L.kk,
                            d4, pp);
    } else if (L.kernel == ExactKernel::int16) {
      const int d2 = (L.depth + 1) / 2;
      wk.x16.resize(static_cast<size_t>(d2) * pp * 2);
      wk.o32.resize(static_cast<size_t>(L.kk) * pp);
      pack_columns<int16_t, 2>(L, segs, L.in16.data(), g, pp, wk.x16.data());
      cpu_detail::gemm_i16(L.isa, wk.x16.data(), L.w16.data() + static_cast<size_t>(g) * L.kk * d2,
                           d2, wk.o32.data(), L.kk, d2, pp);
    } else {
      wk.xd.resize(static_cast<size_t>(L.depth) * pp);
      wk.od.resize(static_cast<size_t>(L.kk) * pp);
      pack_columns<double, 1>(L, segs, L.ind.data(), g, pp, wk.xd.data());
      cpu_detail::gemm_f64(L.isa, wk.xd.data(),
                           L.wd.data() + static_cast<size_t>(g) * L.kk * L.depth, L.depth,
                           wk.od.data(), L.kk, L.depth, pp);
    }
    wk.acc.resize(cols);
    for (int kl = 0; kl < L.kg; ++kl) {
      const int k = k_begin + kl;
      if (!L.fast[k]) continue;
      const int64_t bias = L.spec->has_bias ? L.bias_aligned[k] : 0;
      const int shift = L.cls(k).shift;
      // The bound makes (sum << shift) + bias exact and within the accumulator.
      int64_t* __restrict acc = wk.acc.data();
      if (L.kernel == ExactKernel::int8 || L.kernel == ExactKernel::int16) {
        const int32_t* sum = wk.o32.data() + static_cast<size_t>(kl) * pp;
        for (int c = 0; c < cols; ++c)
          acc[c] = static_cast<int64_t>(static_cast<uint64_t>(int64_t{sum[c]}) << shift) + bias;
      } else {
        const double* sum = wk.od.data() + static_cast<size_t>(kl) * pp;
        for (int c = 0; c < cols; ++c)
          acc[c] =
              static_cast<int64_t>(static_cast<uint64_t>(static_cast<int64_t>(sum[c])) << shift) +
              bias;
      }
      store_channel(L, wk, k, acc, cols);
    }
  }
  for (int k = k_begin; k < k_begin + L.kg; ++k) {
    if (L.fast[k] && L.kernel != ExactKernel::generic) continue;
    for (int c = 0; c < cols; ++c) generic_output(L, wk, k, c);
  }
}

}  // namespace

void exact_conv_cpu(const ConvShape& shape, const ExactLayerSpec& spec, const uint32_t* in_codes,
                    const uint32_t* w_codes, const uint32_t* bias_codes, uint32_t* out_codes,
                    ExactStats* stats) {
  exact_conv_cpu(shape, spec, in_codes, w_codes, bias_codes, out_codes, stats, ExactCpuOptions{},
                 nullptr);
}

void exact_conv_cpu(const ConvShape& s, const ExactLayerSpec& spec, const uint32_t* in_codes,
                    const uint32_t* w_codes, const uint32_t* bias_codes, uint32_t* out_codes,
                    ExactStats* stats, const ExactCpuOptions& options, ExactCpuReport* report) {
  if (const char* e = validate(s, spec)) throw std::invalid_argument(e);

  // The buffers of the calling thread, kept from call to call (fresh pages
  // for megabytes of operands on every call cost more than the GEMM).
  Scratch& sc = scratch();
  Layer& L = sc.layer;
  L.kernel = ExactKernel::generic;
  L.s = s;
  L.spec = &spec;
  L.in_codes = in_codes;
  L.w_codes = w_codes;
  L.out_codes = out_codes;
  L.cg = s.c / s.groups;
  L.kg = s.k / s.groups;
  L.depth = L.cg * s.kh * s.kw;
  L.ohw = s.oh * s.ow;
  L.p_total = static_cast<int64_t>(s.n) * L.ohw;
  L.out = spec.out;
  L.out.stream = spec.stream;

  int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(1, threads);

  const size_t in_count = static_cast<size_t>(s.n) * s.c * s.h * s.w;
  const size_t w_count = static_cast<size_t>(s.k) * L.depth;
  Operand& a = sc.a;
  Operand& w = sc.w;
  convert(spec.act.format, in_codes, in_count, threads, a);
  convert(spec.wt.format, w_codes, w_count, threads, w);
  L.a = &a;
  L.w = &w;
  // One class per distinct weight FL: its F, shift, output stage and aligned products.
  L.classes.clear();
  L.class_of.assign(s.k, 0);
  int min_shift = 0, max_shift = 0;
  for (int k = 0; k < s.k; ++k) {
    const ExactLayerSpec cs = channel_spec(spec, k);
    const int fl = cs.wt.format.fl;
    size_t c = 0;
    while (c < L.classes.size() && L.classes[c].wt_fl != fl) ++c;
    L.class_of[k] = static_cast<int>(c);
    if (c < L.classes.size()) continue;
    ChannelClass cc;
    cc.wt_fl = fl;
    cc.frac_bits = accumulator_frac_bits(cs);
    // w's integers are on the grid of spec.wt.format; a fixed-point code is the same integer
    // on any FL's grid, so only the product's FL changes with the channel.
    cc.shift = cc.frac_bits - (a.fl + numeric::exactly_fixed(cs.wt.format).fl);
    cc.stage = std::make_unique<OutputStage>(L.out, cc.frac_bits,
                                             static_cast<uint64_t>(L.p_total) * s.k, options.isa);
    cc.terms = std::make_unique<TermSource>(cs, cc.frac_bits, a, w, in_codes, w_codes, in_count,
                                            w_count);
    min_shift = L.classes.empty() ? cc.shift : std::min(min_shift, cc.shift);
    max_shift = L.classes.empty() ? cc.shift : std::max(max_shift, cc.shift);
    L.classes.push_back(std::move(cc));
  }

  // The bias, aligned once per channel (step 5).
  L.bias_aligned.assign(s.k, 0);
  L.bias_finite.assign(s.k, 1);
  if (spec.has_bias) {
    for (int k = 0; k < s.k; ++k) {
      Dyadic b;
      L.bias_finite[k] = numeric::decode_exact(spec.bias.format, bias_codes[k], &b);
      if (L.bias_finite[k]) L.bias_aligned[k] = align(spec, L.cls(k).frac_bits, b);
    }
  }

  // Which channels can never overflow the accumulator: the bound
  // max|a| * sum|w| * 2^shift + |bias| <= 2^(A-1) - 1 holds for every partial sum
  // (shift: the channel's own).
  L.fast.assign(s.k, 0);
  const bool layer_ok = !options.force_generic && min_shift >= 0 && max_shift < 64 && a.has_ints &&
                        w.has_ints && !a.any_special && !w.any_special;
  u128 max_bound = 0;  // the largest max|a| * sum|w| of a fast channel
  int fast_count = 0;
  if (layer_ok) {
    std::vector<u128> bounds(s.k, 0);
    parallel_for(threads, s.k, std::max(1, (1 << 16) / L.depth), [&](int64_t kb, int64_t ke, int) {
      for (int64_t k = kb; k < ke; ++k) {
        if (!L.bias_finite[k]) continue;
        u128 sum_w = 0;
        const int64_t* row = w.value.data() + static_cast<size_t>(k) * L.depth;
        if (w.int_bits <= 32 && L.depth < (1 << 30)) {  // fits 64 bits: vectorizes
          uint64_t sum64 = 0;
          for (int d = 0; d < L.depth; ++d)
            sum64 += static_cast<uint64_t>(row[d] < 0 ? -row[d] : row[d]);
          sum_w = sum64;
        } else {
          for (int d = 0; d < L.depth; ++d)
            sum_w += row[d] < 0 ? uint64_t{0} - static_cast<uint64_t>(row[d])
                                : static_cast<uint64_t>(row[d]);
        }
        // The shared bound (kernels/reference/accumulator_bound.h), refined by the values;
        // the channel's own shift.
        const u128 bound = value_sum_bound(a.max_abs, sum_w);
        const int shift = L.cls(static_cast<int>(k)).shift;
        const int64_t b = L.bias_aligned[k];
        const u128 b_abs =
            b < 0 ? uint64_t{0} - static_cast<uint64_t>(b) : static_cast<uint64_t>(b);
        if (!accumulator_holds(bound, shift, b_abs, spec.acc.bits)) continue;
        L.fast[k] = 1;
        bounds[k] = bound;
      }
    });
    for (int k = 0; k < s.k; ++k) {
      if (!L.fast[k]) continue;
      ++fast_count;
      max_bound = std::max(max_bound, bounds[k]);
    }
  }
  // int16_chunked: operands within int16 and a chunk of K products within
  // int32 (and, shifted onto the grid 2^-F, far within int64).
  L.lanes = spec.lanes;
  L.nchunks = (L.depth + spec.lanes - 1) / spec.lanes;
  const bool bias_ok =
      std::all_of(L.bias_finite.begin(), L.bias_finite.end(), [](uint8_t f) { return f; });
  const u128 chunk_bound = static_cast<u128>(spec.lanes) * a.max_abs * w.max_abs;
  const bool chunk_fits = layer_ok && bias_ok && (chunk_bound << max_shift) <= (u128{1} << 62);
  ExactKernel chunked_kernel = ExactKernel::generic;
  if (chunk_fits && a.max_abs <= 32767 && w.max_abs <= 32767 && chunk_bound <= 0x7fffffff) {
    chunked_kernel = ExactKernel::int16_chunked;
  } else if (chunk_fits && a.max_abs <= (uint64_t{1} << 53) && w.max_abs <= (uint64_t{1} << 53) &&
             chunk_bound <= (u128{1} << 53)) {
    chunked_kernel = ExactKernel::float64_chunked;
  }
  const bool chunk_ok = chunked_kernel != ExactKernel::generic;
  if (fast_count > 0 && (fast_count == s.k || !chunk_ok)) {
    // By the values present, not the formats: E4M3 activations in [0, 1) are
    // integers below 2^10 in units of 2^-9 and take the int16 kernel.
    if (a.max_abs <= 32767 && w.max_abs <= 32767 && max_bound <= 0x7fffffff) {
      L.kernel = ExactKernel::int16;
    } else if (a.max_abs <= (uint64_t{1} << 53) && w.max_abs <= (uint64_t{1} << 53) &&
               max_bound <= (u128{1} << 53)) {
      L.kernel = ExactKernel::float64;
    }
  }
  if (L.kernel == ExactKernel::generic && chunk_ok) L.kernel = chunked_kernel;
  if (L.kernel == ExactKernel::generic) {
    std::fill(L.fast.begin(), L.fast.end(), 0);
    fast_count = 0;
  }
  L.isa = options.isa;
  while (!cpu_supports(L.isa)) L.isa = static_cast<CpuIsa>(static_cast<int>(L.isa) - 1);
  // int8 (vpdpbusd) for the int16 kernels' layers whose weights fit int8 and
  // whose activations fit uint8, or int8 offset by +128. The bound that chose
  // int16 (every true sum within int32) makes the modulo-2^32 sums exact.
  const bool a_u8 = a.min_value >= 0 && a.max_value <= 255;
  const bool a_s8 = a.min_value >= -128 && a.max_value <= 127;
  if (L.isa == CpuIsa::avx512_vnni && w.min_value >= -128 && w.max_value <= 127 && (a_u8 || a_s8)) {
    if (L.kernel == ExactKernel::int16) L.kernel = ExactKernel::int8;
    if (L.kernel == ExactKernel::int16_chunked) L.kernel = ExactKernel::int8_chunked;
  }
  const bool int8 = L.kernel == ExactKernel::int8 || L.kernel == ExactKernel::int8_chunked;
  L.a_offset = int8 && !a_u8 ? 128 : 0;
  // The most terms a chunk holds, rounded up to the kernel's interleave.
  const int interleave = int8 ? 4 : 2;
  L.kc = (std::min(spec.lanes, L.depth) + interleave - 1) / interleave * interleave;
  L.depth_c = L.nchunks * L.kc;

  // Operands in the kernel's types; weights packed per group, rows padded.
  L.kk = (L.kg + cpu_detail::kRowBlock - 1) / cpu_detail::kRowBlock * cpu_detail::kRowBlock;
  const int64_t grain = 1 << 16;
  if (int8) {
    const bool chunked = L.kernel == ExactKernel::int8_chunked;
    const int d4 = chunked ? L.depth_c / 4 : (L.depth + 3) / 4;
    const int qn = chunked ? L.nchunks : 1;
    L.in8.resize(in_count);
    parallel_for(threads, in_count, grain, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) L.in8[i] = static_cast<uint8_t>(a.value[i] + L.a_offset);
    });
    L.w8.assign(static_cast<size_t>(s.groups) * L.kk * d4, 0);
    L.init8.assign(static_cast<size_t>(s.groups) * qn * L.kk, 0);
    parallel_for(
        threads, s.k, std::max<int64_t>(1, grain / L.depth), [&](int64_t kb, int64_t ke, int) {
          for (int64_t k = kb; k < ke; ++k) {
            const int64_t g = k / L.kg, kl = k % L.kg;
            uint32_t* row = reinterpret_cast<uint32_t*>(L.w8.data()) +
                            (static_cast<size_t>(g) * L.kk + kl) * d4;
            uint32_t* init = reinterpret_cast<uint32_t*>(L.init8.data()) +
                             static_cast<size_t>(g) * qn * L.kk + kl;
            const int64_t* src = w.value.data() + static_cast<size_t>(k) * L.depth;
            for (int d = 0; d < L.depth; ++d) {
              const int r = chunked ? d / L.lanes * L.kc + d % L.lanes : d;
              row[r / 4] |= static_cast<uint32_t>(static_cast<uint8_t>(src[d])) << (8 * (r & 3));
              // The offset's correction, -a_offset * w, on the chunk's start value.
              init[static_cast<size_t>(chunked ? d / L.lanes : 0) * L.kk] -=
                  static_cast<uint32_t>(L.a_offset * src[d]);
            }
          }
        });
  } else if (L.kernel == ExactKernel::int16 || L.kernel == ExactKernel::int16_chunked) {
    const bool chunked = L.kernel == ExactKernel::int16_chunked;
    const int d2 = chunked ? L.depth_c / 2 : (L.depth + 1) / 2;
    L.in16.resize(in_count);
    parallel_for(threads, in_count, grain, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) L.in16[i] = static_cast<int16_t>(a.value[i]);
    });
    L.w16.assign(static_cast<size_t>(s.groups) * L.kk * d2, 0);
    parallel_for(
        threads, s.k, std::max<int64_t>(1, grain / L.depth), [&](int64_t kb, int64_t ke, int) {
          for (int64_t k = kb; k < ke; ++k) {
            const int64_t g = k / L.kg, kl = k % L.kg;
            int32_t* row = L.w16.data() + (static_cast<size_t>(g) * L.kk + kl) * d2;
            const int64_t* src = w.value.data() + static_cast<size_t>(k) * L.depth;
            for (int d = 0; d < L.depth; ++d) {
              const uint32_t v = static_cast<uint16_t>(src[d]);
              const int r = chunked ? d / L.lanes * L.kc + d % L.lanes : d;
              row[r / 2] =
                  static_cast<int32_t>(static_cast<uint32_t>(row[r / 2]) | (v << (16 * (r & 1))));
            }
          }
        });
  } else if (L.kernel == ExactKernel::float64 || L.kernel == ExactKernel::float64_chunked) {
    L.ind.resize(in_count);
    parallel_for(threads, in_count, grain, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) L.ind[i] = static_cast<double>(a.value[i]);
    });
    L.wd.assign(static_cast<size_t>(s.groups) * L.kk * L.depth, 0.0);
    parallel_for(threads, s.k, std::max<int64_t>(1, grain / L.depth),
                 [&](int64_t kb, int64_t ke, int) {
                   for (int64_t k = kb; k < ke; ++k) {
                     const int64_t g = k / L.kg, kl = k % L.kg;
                     double* row = L.wd.data() + (static_cast<size_t>(g) * L.kk + kl) * L.depth;
                     const int64_t* src = w.value.data() + static_cast<size_t>(k) * L.depth;
                     for (int d = 0; d < L.depth; ++d) row[d] = static_cast<double>(src[d]);
                   }
                 });
  }

  // Work items: (group, block of columns), taken from a shared counter.
  const int64_t per_thread = (L.p_total * s.groups + threads * 4 - 1) / (threads * 4);
  int64_t block = std::clamp<int64_t>(per_thread, 32, 128);
  block = (block + 31) / 32 * 32;
  const int64_t blocks = (L.p_total + block - 1) / block;
  const int64_t items = blocks * s.groups;
  threads = static_cast<int>(std::min<int64_t>(threads, items));
  std::vector<Worker>& workers = sc.workers;
  workers.resize(threads);
  for (Worker& wk : workers) wk.stats = ExactStats{};
  std::atomic<int64_t> next{0};
  auto work = [&](Worker& wk) {
    for (int64_t it = next++; it < items; it = next++) {
      const int g = static_cast<int>(it / blocks);
      const int64_t p0 = (it % blocks) * block;
      run_item(L, wk, g, p0, static_cast<int>(std::min<int64_t>(block, L.p_total - p0)));
    }
  };
  if (threads == 1) {
    work(workers[0]);
  } else {
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work, std::ref(workers[t]));
    work(workers[0]);
    for (std::thread& t : pool) t.join();
  }

  if (stats) {
    for (const Worker& wk : workers) {
      stats->acc_overflows += wk.stats.acc_overflows;
      stats->out_saturations += wk.stats.out_saturations;
      stats->out_nans += wk.stats.out_nans;
    }
  }
  if (report) {
    report->kernel = L.kernel;
    report->isa = L.isa;
    report->fast_channels = fast_count;
    report->act_offset = L.a_offset;
    const bool chunked = L.kernel == ExactKernel::int8_chunked ||
                         L.kernel == ExactKernel::int16_chunked ||
                         L.kernel == ExactKernel::float64_chunked;
    report->chunked_channels = chunked ? s.k - fast_count : 0;
    report->generic_channels = chunked ? 0 : s.k - fast_count;
  }
}

}  // namespace ristsim::kernels
