#include "engine/quant_mx.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include "engine/math.h"

#ifdef RISTSIM_HAVE_EXACT_CPU
#include <stdexcept>

#include "kernels/reference/exact_mx.h"
#endif

namespace ristsim::engine {

namespace {

void merge(numeric::MxStats* into, const numeric::MxStats& s) {
  into->blocks += s.blocks;
  into->nan_blocks += s.nan_blocks;
  into->saturations += s.saturations;
}

}  // namespace

void mx_quantize_rows(const numeric::MxFormat& f, const float* x, std::size_t rows,
                      std::size_t len, float* y, numeric::MxStats* st) {
  std::mutex mu;
  parallel_for(rows, 16, [&](std::size_t r0, std::size_t r1) {
    numeric::MxStats s;
    for (std::size_t r = r0; r < r1; ++r)
      numeric::mx_fake_quantize_array(f, x + r * len, len, y + r * len, &s);
    std::lock_guard<std::mutex> lock(mu);
    if (st) merge(st, s);
  });
}

void mx_conv_forward(const ConvGeometry& g, const numeric::MxFormat& act, const float* in,
                     const float* w, const float* b, float* out, numeric::MxStats* st) {
  const int cg = g.c / g.groups, kg = g.k / g.groups;
  const std::size_t K = std::size_t(cg) * g.kh * g.kw;
  const std::size_t P = std::size_t(g.oh) * g.ow;
  // Images per GEMM: a column matrix of at most 2^20 floats (at least one image).
  const std::size_t per_image = K * P;
  const int chunk = static_cast<int>(
      std::max<std::size_t>(1, std::min<std::size_t>(g.n, (std::size_t{1} << 20) / per_image)));
  std::vector<float> col, prod;
  std::mutex mu;
  for (int n0 = 0; n0 < g.n; n0 += chunk) {
    const int nc = std::min(chunk, g.n - n0);
    const std::size_t ld = std::size_t(nc) * P;
    col.resize(K * ld);
    prod.resize(std::size_t(kg) * ld);
    for (int gi = 0; gi < g.groups; ++gi) {
      // Column q = i * P + p: gather the window of output p of image n0 + i in term
      // order, quantize it in blocks along K, store it as column q of col (K x ld).
      parallel_for(ld, 64, [&](std::size_t q0, std::size_t q1) {
        std::vector<float> v(K);
        numeric::MxStats s;
        for (std::size_t q = q0; q < q1; ++q) {
          const std::size_t i = q / P, p = q % P;
          const int oy = static_cast<int>(p / g.ow), ox = static_cast<int>(p % g.ow);
          const float* img = in + ((std::size_t(n0) + i) * g.c + std::size_t(gi) * cg) * g.h * g.w;
          std::size_t t = 0;
          for (int c = 0; c < cg; ++c)
            for (int r = 0; r < g.kh; ++r) {
              const int y = oy * g.stride_h - g.pad_h + r * g.dil_h;
              for (int s2 = 0; s2 < g.kw; ++s2, ++t) {
                const int x = ox * g.stride_w - g.pad_w + s2 * g.dil_w;
                v[t] = (y < 0 || y >= g.h || x < 0 || x >= g.w)
                           ? 0.0f
                           : img[(std::size_t(c) * g.h + y) * g.w + x];
              }
            }
          numeric::mx_fake_quantize_array(act, v.data(), K, v.data(), &s);
          for (std::size_t r = 0; r < K; ++r) col[r * ld + q] = v[r];
        }
        std::lock_guard<std::mutex> lock(mu);
        if (st) merge(st, s);
      });
      gemm(false, false, kg, static_cast<int>(ld), static_cast<int>(K), 1.0f,
           w + std::size_t(gi) * kg * K, col.data(), 0.0f, prod.data());
      for (int i = 0; i < nc; ++i)
        for (int k = 0; k < kg; ++k) {
          const int ko = gi * kg + k;
          float* dst = out + ((std::size_t(n0) + i) * g.k + ko) * P;
          const float* src = prod.data() + std::size_t(k) * ld + std::size_t(i) * P;
          const float bias = b ? b[ko] : 0.0f;
          for (std::size_t p = 0; p < P; ++p) dst[p] = src[p] + bias;
        }
    }
  }
}

bool mx_exact_available() {
#ifdef RISTSIM_HAVE_EXACT_CPU
  return true;
#else
  return false;
#endif
}

void mx_exact_forward(const ConvGeometry& g, const config::NumberSpec& act,
                      const config::NumberSpec& wt, const numeric::Quantizer& act_q,
                      const numeric::Quantizer& wt_q, const numeric::Quantizer& bias_q,
                      const numeric::Quantizer& out_q, const config::AccumulatorSpec& acc,
                      int lanes, uint64_t stream, const float* in, const float* w,
                      const uint32_t* bias_codes, bool has_bias, uint32_t* w_codes,
                      uint32_t* out_codes, uint64_t* acc_overflows, uint64_t* out_saturations,
                      uint64_t* out_nans, numeric::MxStats* act_st, numeric::MxStats* wt_st) {
#ifdef RISTSIM_HAVE_EXACT_CPU
  kernels::ExactLayerSpec spec;
  spec.act = act_q;
  spec.wt = wt_q;
  spec.bias = bias_q;
  spec.out = out_q;
  spec.acc = acc;
  spec.lanes = lanes;
  spec.stream = stream;
  spec.has_bias = has_bias;
  kernels::ExactMxSpec mx;
  mx.act_mx = act.is_mx;
  mx.wt_mx = wt.is_mx;
  mx.block = act.is_mx ? act.mx.block : wt.mx.block;
  if (act.is_mx && wt.is_mx && act.mx.block != wt.mx.block)
    throw std::invalid_argument("MX activations and weights need the same block size");
  if (const char* e = kernels::validate(spec, mx)) throw std::invalid_argument(e);

  const int cg = g.c / g.groups, kg = g.k / g.groups;
  const std::size_t K = std::size_t(cg) * g.kh * g.kw, P = std::size_t(g.oh) * g.ow;
  const std::size_t blocks = (K + mx.block - 1) / mx.block;
  // Weights: one row of K terms per output channel.
  std::vector<uint8_t> w_scales(std::size_t(g.k) * blocks, kernels::kMxUnitScale);
  for (int k = 0; k < g.k; ++k) {
    if (wt.is_mx) {
      numeric::mx_quantize_array(wt.mx, w + k * K, K, w_scales.data() + k * blocks, w_codes + k * K,
                                 static_cast<float*>(nullptr), wt_st);
    } else {
      for (std::size_t i = 0; i < K; ++i)
        w_codes[k * K + i] = static_cast<uint32_t>(numeric::quantize(wt_q, double(w[k * K + i]), k * K + i).code);
    }
  }
  // Every (image, group, output position): its column, then its kg outputs.
  std::mutex mu;
  const std::size_t columns = std::size_t(g.n) * g.groups * P;
  parallel_for(columns, 16, [&](std::size_t c0, std::size_t c1) {
    std::vector<float> v(K);
    std::vector<uint32_t> codes(K);
    std::vector<uint8_t> a_scales(blocks, kernels::kMxUnitScale);
    std::vector<kernels::ExactTerm> terms(K);
    numeric::MxStats s;
    kernels::ExactStats es;
    for (std::size_t col = c0; col < c1; ++col) {
      const std::size_t p = col % P, gi = (col / P) % g.groups, n = col / (P * g.groups);
      const int oy = static_cast<int>(p / g.ow), ox = static_cast<int>(p % g.ow);
      std::size_t t = 0;
      for (int c = 0; c < cg; ++c)
        for (int r = 0; r < g.kh; ++r)
          for (int q = 0; q < g.kw; ++q, ++t) {
            const int y = oy * g.stride_h - g.pad_h + r * g.dil_h;
            const int x = ox * g.stride_w - g.pad_w + q * g.dil_w;
            terms[t].padding = y < 0 || y >= g.h || x < 0 || x >= g.w;
            const std::size_t idx =
                ((n * g.c + gi * cg + c) * std::size_t(g.h) + (terms[t].padding ? 0 : y)) * g.w +
                (terms[t].padding ? 0 : x);
            v[t] = terms[t].padding ? 0.0f : in[idx];
            if (!act.is_mx)  // element-wise, with the element's NCHW index
              codes[t] = terms[t].padding
                             ? 0
                             : static_cast<uint32_t>(numeric::quantize(act_q, double(v[t]), idx).code);
          }
      if (act.is_mx)
        numeric::mx_quantize_array(act.mx, v.data(), K, a_scales.data(), codes.data(),
                                   static_cast<float*>(nullptr), &s);
      for (std::size_t i = 0; i < K; ++i) terms[i].act_code = codes[i];
      for (int kk = 0; kk < kg; ++kk) {
        const std::size_t ko = gi * kg + kk;
        for (std::size_t i = 0; i < K; ++i) terms[i].wt_code = w_codes[ko * K + i];
        const uint64_t out_index = (n * g.k + ko) * P + p;
        out_codes[out_index] = kernels::exact_mx_dot(
            spec, mx, terms.data(), K, a_scales.data(), w_scales.data() + ko * blocks,
            has_bias ? bias_codes[ko] : 0, out_index, &es);
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    if (act_st) merge(act_st, s);
    *acc_overflows += es.acc_overflows;
    *out_saturations += es.out_saturations;
    *out_nans += es.out_nans;
  });
#else
  (void)g, (void)act, (void)wt, (void)act_q, (void)wt_q, (void)bias_q, (void)out_q, (void)acc,
      (void)lanes, (void)stream, (void)in, (void)w, (void)bias_codes, (void)has_bias, (void)w_codes,
      (void)out_codes, (void)acc_overflows, (void)out_saturations, (void)out_nans, (void)act_st,
      (void)wt_st;
  throw std::runtime_error("the exact MX datapath needs kernels/reference, which this build lacks");
#endif
}

}  // namespace ristsim::engine
