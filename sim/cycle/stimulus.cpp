// Corner-weighted stimulus and golden results (see stimulus.h).
#include "cycle/stimulus.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace ristsim::cycle {

using numeric::Format;
using numeric::Quantizer;
using rtlgen::PeInputs;
using rtlgen::PeShape;

kernels::ExactLayerSpec exact_spec(const PeShape& shape, uint64_t stream) {
  kernels::ExactLayerSpec s{};
  s.act.format = shape.fmt.act;
  s.wt.format = shape.fmt.wt;
  s.bias.format = shape.fmt.bias;
  s.out = shape.fmt.out;
  s.acc = shape.fmt.acc;
  s.lanes = shape.lanes;
  s.stream = stream;
  s.has_bias = true;
  return s;
}

Golden golden(const kernels::ExactLayerSpec& spec, const DotJob& job,
              kernels::ExactDotTrace* trace) {
  kernels::ExactStats st;
  Golden g;
  g.out =
      kernels::exact_dot(spec, job.terms.data(), job.terms.size(), job.bias, job.index, &st, trace);
  g.sat = st.out_saturations > 0;
  g.acc_ovf = st.acc_overflows > 0;
  return g;
}

uint32_t random_finite_code(const Format& f, std::mt19937_64& rng) {
  const int bits = f.code_bits();
  for (;;) {
    const uint32_t c = static_cast<uint32_t>(rng() & numeric::low_mask(bits));
    numeric::Dyadic d;
    if (numeric::decode_exact(f, c, &d)) return c;
  }
}

std::vector<uint32_t> random_codes(const Format& f, size_t n, std::mt19937_64& rng) {
  std::vector<uint32_t> v(n);
  for (uint32_t& x : v) x = random_finite_code(f, rng);
  return v;
}

namespace {

uint32_t zero_code(const Format& f) {
  if (f.kind == numeric::FormatKind::pow2 && !f.zero_code) return 0;  // smallest: no zero exists
  return 0;
}

}  // namespace

bool is_tie(const kernels::ExactLayerSpec& spec, const kernels::ExactDotTrace& t) {
  const int f = kernels::accumulator_frac_bits(spec);
  const double v = std::ldexp(static_cast<double>(t.acc_final), -f);
  if (t.out.saturated) return false;
  Quantizer q = spec.out;
  q.rounding = numeric::Rounding::toward_zero;
  const double lo = numeric::quantize(q, v).value;
  if (lo == v) return false;
  q.rounding = v > 0 ? numeric::Rounding::up : numeric::Rounding::down;
  const double hi = numeric::quantize(q, v).value;
  return std::isfinite(hi) && (v - lo) == (hi - v);
}

namespace {

/// The largest product magnitude of one sign (positive: sign > 0) on the
/// accumulator grid, and the operand codes that give it.
int64_t extreme_product(const PeShape& shape, const kernels::ExactLayerSpec& spec, int sign,
                        kernels::ExactTerm* best) {
  const Format& fa = shape.fmt.act;
  const Format& fw = shape.fmt.wt;
  const uint32_t as[2] = {static_cast<uint32_t>(numeric::min_code(fa)),
                          static_cast<uint32_t>(numeric::max_code(fa))};
  const uint32_t ws[2] = {static_cast<uint32_t>(numeric::min_code(fw)),
                          static_cast<uint32_t>(numeric::max_code(fw))};
  int64_t top = 0;
  for (uint32_t a : as)
    for (uint32_t w : ws) {
      DotJob j;
      kernels::ExactTerm t;
      t.act_code = a;
      t.wt_code = w;
      j.terms.push_back(t);
      kernels::ExactDotTrace tr;
      golden(spec, j, &tr);
      const int64_t p = tr.aligned.empty() ? 0 : tr.aligned[0] * sign;
      if (p > top) {
        top = p;
        if (best) *best = t;
      }
    }
  return top;
}

}  // namespace

uint64_t acc_overflow_terms(const PeShape& shape) {
  const kernels::ExactLayerSpec spec = exact_spec(shape, 0);
  const int64_t p =
      std::min(extreme_product(shape, spec, 1, nullptr), extreme_product(shape, spec, -1, nullptr));
  if (p <= 0) return 0;
  const long double need = std::ldexp(1.0L, shape.acc_bits - 1) / static_cast<long double>(p);
  return static_cast<uint64_t>(std::min(need, 1e18L)) + 1;
}

std::vector<DotJob> make_jobs(const PeShape& shape, const kernels::ExactLayerSpec& spec, int count,
                              uint64_t seed) {
  std::mt19937_64 rng(seed);
  const Format& fa = shape.fmt.act;
  const Format& fw = shape.fmt.wt;
  const Format& fb = shape.fmt.bias;
  const int k = shape.lanes;
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::vector<DotJob> jobs;
  jobs.reserve(static_cast<size_t>(count));
  for (int n = 0; n < count; ++n) {
    DotJob j;
    j.index = uni(0, 3) ? rng() % 100000 : rng();  // sometimes the full 64-bit range
    const int pick = uni(0, 99);
    auto term = [&](uint32_t a, uint32_t w) {
      kernels::ExactTerm t;
      t.act_code = a;
      t.wt_code = w;
      return t;
    };
    if (pick < 35) {  // uniform random, any length
      j.kind = "random";
      const int len = uni(1, 3 * k);
      for (int i = 0; i < len; ++i)
        j.terms.push_back(term(random_finite_code(fa, rng), random_finite_code(fw, rng)));
      j.bias = random_finite_code(fb, rng);
    } else if (pick < 45) {  // most negative x most negative everywhere: widest tree sums
      j.kind = "min_x_min";
      const int len = k * uni(1, 3);
      for (int i = 0; i < len; ++i)
        j.terms.push_back(term(static_cast<uint32_t>(numeric::min_code(fa)),
                               static_cast<uint32_t>(numeric::min_code(fw))));
      j.bias = uni(0, 1) ? static_cast<uint32_t>(numeric::max_code(fb)) : zero_code(fb);
    } else if (pick < 60) {  // extremes of both signs: saturation of accumulator and output
      j.kind = "extremes";
      const int len = uni(1, 8 * k);
      const bool pos = uni(0, 1);
      for (int i = 0; i < len; ++i) {
        const uint32_t a =
            static_cast<uint32_t>(uni(0, 1) ? numeric::max_code(fa) : numeric::min_code(fa));
        uint32_t w =
            static_cast<uint32_t>(uni(0, 1) ? numeric::max_code(fw) : numeric::min_code(fw));
        // steer the sign of most products
        numeric::Dyadic da, dw;
        numeric::decode_exact(fa, a, &da);
        numeric::decode_exact(fw, w, &dw);
        if (uni(0, 9) && ((da.neg != dw.neg) == pos))
          w = static_cast<uint32_t>(dw.neg ? numeric::max_code(fw) : numeric::min_code(fw));
        j.terms.push_back(term(a, w));
      }
      j.bias = uni(0, 1) ? static_cast<uint32_t>(numeric::min_code(fb))
                         : static_cast<uint32_t>(numeric::max_code(fb));
    } else if (pick < 80) {  // a rounding tie at the output, found by trying biases
      j.kind = "tie";
      const int len = uni(1, 3) * (uni(0, 3) ? 1 : k);
      for (int i = 0; i < len; ++i)
        j.terms.push_back(term(random_finite_code(fa, rng), random_finite_code(fw, rng)));
      j.bias = random_finite_code(fb, rng);
      j.kind = "tie_missed";
      // Try biases, then the last term's operands, until the output is a tie.
      for (int tries = 0; tries < 400; ++tries) {
        kernels::ExactDotTrace t;
        golden(spec, j, &t);
        if (is_tie(spec, t)) {
          j.kind = "tie";
          break;
        }
        if (tries < 32) {
          j.bias = random_finite_code(fb, rng);
        } else {
          j.terms.back().act_code = random_finite_code(fa, rng);
          if (tries % 4 == 0) j.terms.back().wt_code = random_finite_code(fw, rng);
        }
      }
    } else if (pick < 90) {  // small operands: rounding near zero, subnormal outputs
      j.kind = "small";
      const int len = uni(1, 2 * k);
      for (int i = 0; i < len; ++i) {
        uint32_t a = random_finite_code(fa, rng), w = random_finite_code(fw, rng);
        if (uni(0, 1)) a &= 0x3u | (1u << (fa.code_bits() - 1));  // keep the sign, tiny magnitude
        if (uni(0, 1)) w &= 0x3u | (1u << (fw.code_bits() - 1));
        j.terms.push_back(term(a, w));
      }
      j.bias = random_finite_code(fb, rng) & (0x7u | (1u << (fb.code_bits() - 1)));
      numeric::Dyadic d;
      if (!numeric::decode_exact(fb, j.bias, &d)) j.bias = 0;
    } else {  // padding: positions outside the image (the lane is disabled)
      j.kind = "padding";
      const int len = uni(1, 2 * k);
      for (int i = 0; i < len; ++i) {
        kernels::ExactTerm t = term(random_finite_code(fa, rng), random_finite_code(fw, rng));
        t.padding = uni(0, 2) == 0;
        j.terms.push_back(t);
      }
      j.bias = random_finite_code(fb, rng);
    }
    jobs.push_back(std::move(j));
  }
  // Two elements long enough to overflow the accumulator, one per sign, where
  // that takes at most kMaxOverflowChunks chunks (otherwise the coverage report
  // says the accumulator cannot overflow in this stimulus).
  const uint64_t need = acc_overflow_terms(shape);
  if (count >= 20 && need > 0 && need <= kMaxOverflowChunks * static_cast<uint64_t>(k) - k) {
    for (int sign : {1, -1}) {
      kernels::ExactTerm t;
      extreme_product(shape, spec, sign, &t);
      DotJob j;
      j.kind = "acc_overflow";
      j.terms.assign(static_cast<size_t>(need + static_cast<uint64_t>(k)), t);
      j.bias = random_finite_code(fb, rng);
      j.index = rng() % 100000;
      jobs[static_cast<size_t>(sign > 0 ? count / 3 : 2 * count / 3)] = std::move(j);
    }
  }
  return jobs;
}

std::vector<DotJob> layer_jobs(const kernels::ConvShape& c, const uint32_t* in_codes,
                               const uint32_t* w_codes, const uint32_t* bias_codes) {
  if (const char* e = kernels::validate(c)) throw std::invalid_argument(e);
  std::vector<DotJob> jobs;
  jobs.reserve(static_cast<size_t>(c.n) * c.k * c.oh * c.ow);
  for (int img = 0; img < c.n; ++img)
    for (int k = 0; k < c.k; ++k)
      for (int oy = 0; oy < c.oh; ++oy)
        for (int ox = 0; ox < c.ow; ++ox) {
          DotJob j;
          j.terms = kernels::conv_terms(c, in_codes, w_codes, img, k, oy, ox);
          j.bias = bias_codes ? bias_codes[k] : 0;
          j.index = ((static_cast<uint64_t>(img) * c.k + k) * c.oh + oy) * c.ow + ox;
          j.kind = "layer";
          jobs.push_back(std::move(j));
        }
  return jobs;
}

kernels::ConvShape parse_conv_shape(const std::string& text) {
  int ch, h, w, k, kh, kw, st, pad;
  char tail;
  if (std::sscanf(text.c_str(), "%d,%d,%d,%d,%d,%d,%d,%d%c", &ch, &h, &w, &k, &kh, &kw, &st, &pad,
                  &tail) != 8)
    throw std::invalid_argument("layer shape: expected C,H,W,K,KH,KW,STRIDE,PAD, not '" + text +
                                "'");
  kernels::ConvShape c{1, ch, h, w, k, kh, kw, st, st, pad, pad, 1, 1, 1, 0, 0};
  if (st < 1) throw std::invalid_argument("layer shape: stride must be >= 1");
  c.oh = (h + 2 * pad - kh) / st + 1;
  c.ow = (w + 2 * pad - kw) / st + 1;
  if (const char* e = kernels::validate(c)) throw std::invalid_argument(e);
  return c;
}

OperandActivity operand_activity(const PeShape& shape, const std::vector<DotJob>& jobs) {
  const size_t k = static_cast<size_t>(shape.lanes);
  const uint32_t act_mask = shape.act_bits >= 32 ? ~0u : (1u << shape.act_bits) - 1;
  const uint32_t wt_mask = shape.wt_bits >= 32 ? ~0u : (1u << shape.wt_bits) - 1;
  std::vector<uint32_t> act(k, 0), wt(k, 0);  // what each lane's bus holds
  OperandActivity a;
  bool started = false;
  for (const DotJob& j : jobs)
    for (size_t start = 0; start < j.terms.size(); start += k) {
      for (size_t i = 0; i < k; ++i) {
        const size_t idx = start + i;
        if (idx >= j.terms.size() || j.terms[idx].padding) continue;  // gated: holds
        const uint32_t x = j.terms[idx].act_code & act_mask, w = j.terms[idx].wt_code & wt_mask;
        if (started)
          a.toggles +=
              static_cast<uint64_t>(__builtin_popcount(x ^ act[i]) + __builtin_popcount(w ^ wt[i]));
        act[i] = x;
        wt[i] = w;
      }
      if (started) a.bit_slots += k * static_cast<uint64_t>(shape.act_bits + shape.wt_bits);
      started = true;
    }
  return a;
}

PeStream stream_jobs(const PeShape& shape, const std::vector<DotJob>& jobs, uint64_t stream,
                     uint64_t seed, const StreamOptions& opt) {
  std::mt19937_64 rng(seed ^ 0x5eedull);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const int k = shape.lanes;
  PeStream s;
  auto garbage = [&]() {
    PeInputs in;
    in.lane_en.resize(static_cast<size_t>(k));
    in.act.resize(static_cast<size_t>(k));
    in.wgt.resize(static_cast<size_t>(k));
    for (int i = 0; i < k; ++i) {
      in.lane_en[i] = rng() & 1;
      in.act[i] = random_finite_code(shape.fmt.act, rng);
      in.wgt[i] = random_finite_code(shape.fmt.wt, rng);
    }
    in.first = rng() & 1;
    in.last = rng() & 1;
    in.bias = random_finite_code(shape.fmt.bias, rng);
    in.index = rng();
    in.seed = shape.fmt.out.seed;
    in.stream = stream;
    return in;
  };
  auto reset_pulse = [&](int n) {
    for (int i = 0; i < n; ++i) {
      PeInputs in = garbage();
      in.reset = true;
      in.valid = rng() & 1;  // ignored in reset, like everything else
      s.cycles.push_back(in);
      ++s.reset_cycles;
    }
  };
  reset_pulse(2);
  s.job_first_cycle.assign(jobs.size(), 0);
  std::vector<uint8_t> interrupted(jobs.size(), 0), idle_inside(jobs.size(), 0);
  // Jobs whose last chunk went in, with its cycle: their results are due
  // `latency` - 1 cycles later, unless a reset flushes them first.
  std::vector<std::pair<size_t, uint64_t>> in_flight;
  const uint64_t latency = static_cast<uint64_t>(shape.latency());
  size_t j = 0;
  while (j < jobs.size()) {
    const DotJob& job = jobs[j];
    while (u(rng) < opt.idle_rate) {
      s.cycles.push_back(garbage());
      ++s.idle_between;
    }
    s.job_first_cycle[j] = s.cycles.size();
    const size_t t = job.terms.size();
    const size_t chunks = t == 0 ? 1 : (t + static_cast<size_t>(k) - 1) / static_cast<size_t>(k);
    size_t interrupt_after = chunks;  // none
    if (!interrupted[j] && opt.reset_rate > 0 && u(rng) < opt.reset_rate) {
      interrupted[j] = 1;
      interrupt_after = static_cast<size_t>(rng() % chunks);
    }
    bool had_idle = false;
    bool restarted = false;
    for (size_t c = 0; c < chunks; ++c) {
      if (c > 0)
        while (u(rng) < opt.idle_rate) {
          s.cycles.push_back(garbage());
          ++s.idle_inside;
          had_idle = true;
        }
      const size_t start = c * static_cast<size_t>(k);
      PeInputs in = garbage();
      in.valid = true;
      in.first = c == 0;
      in.last = c + 1 == chunks;
      for (int i = 0; i < k; ++i) {
        const size_t idx = start + static_cast<size_t>(i);
        if (idx < t) {
          in.act[i] = job.terms[idx].act_code;
          in.wgt[i] = job.terms[idx].wt_code;
          in.lane_en[i] = !job.terms[idx].padding;
        } else {
          in.lane_en[i] = 0;  // the last chunk's padding lanes (codes stay garbage)
        }
      }
      if (in.last) {
        in.bias = job.bias;
        in.index = job.index;
        in_flight.emplace_back(j, s.cycles.size());
      }
      s.cycles.push_back(in);
      if (c == interrupt_after) {
        // A reset now flushes every result not yet out: stream those again.
        const uint64_t r = s.cycles.size();
        reset_pulse(1 + static_cast<int>(rng() & 1));
        ++s.resets;
        size_t restart = j;
        for (const auto& [jj, last_cycle] : in_flight)
          if (last_cycle + latency - 1 >= r) restart = std::min(restart, jj);
        in_flight.clear();
        s.restreamed += j - restart + 1;
        j = restart;
        restarted = true;
        break;
      }
    }
    if (restarted) continue;
    idle_inside[j] = had_idle;
    // Forget jobs whose results are out.
    const uint64_t now = s.cycles.size();
    while (!in_flight.empty() && in_flight.front().second + latency <= now)
      in_flight.erase(in_flight.begin());
    ++j;
  }
  for (uint8_t x : idle_inside) s.idle_elements += x;
  for (uint64_t i = 0; i < latency + 3; ++i) {
    s.cycles.push_back(garbage());
    ++s.idle_between;
  }
  return s;
}

}  // namespace ristsim::cycle
