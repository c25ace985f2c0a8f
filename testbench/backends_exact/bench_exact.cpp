// Benchmark: the exact datapath (exact_conv_cpu, codes in, codes out) against
// float GEMM convolution (im2col + OpenBLAS sgemm + bias) on LeNet's layers,
// and against the float datapath as a whole (the same plus quantize() of every
// output, as the Ristretto-style float datapath does). Prints the times and
// ratios (best of N runs each). Usage: bench_exact [threads] [batch] [repeats] [arch ...]
// With 1 thread the times are the thread's CPU time (robust on a shared
// machine); with more, wall-clock time. Environment: RISTSIM_ISA=portable,
// avx2, avx512 or avx512_vnni forces the exact kernels' instruction set.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "exact_cases.h"
#include "kernels/cpu/exact_layer_cpu.h"

extern "C" void openblas_set_num_threads(int);

namespace {

using namespace ristsim;
using kernels::ConvShape;
using Clock = std::chrono::steady_clock;

struct LayerDef {
  const char* name;
  ConvShape shape;
};

/// im2col + sgemm + bias: out[n][k][p] = sum_d w[k][d] * col[d][p] + b[k].
void float_conv(const ConvShape& s, const float* in, const float* w, const float* b, float* out,
                std::vector<float>& col) {
  const int cg = s.c / s.groups, kg = s.k / s.groups, depth = cg * s.kh * s.kw;
  const int ohw = s.oh * s.ow;
  col.resize(static_cast<size_t>(depth) * ohw);
  for (int img = 0; img < s.n; ++img) {
    for (int g = 0; g < s.groups; ++g) {
      const float* src = in + (static_cast<size_t>(img) * s.c + g * cg) * s.h * s.w;
      if (s.kh == 1 && s.kw == 1 && s.h == 1 && s.w == 1) {
        std::copy(src, src + depth, col.begin());
      } else {
        int d = 0;
        for (int ci = 0; ci < cg; ++ci)
          for (int ky = 0; ky < s.kh; ++ky)
            for (int kx = 0; kx < s.kw; ++kx, ++d)
              for (int oy = 0; oy < s.oh; ++oy)
                for (int ox = 0; ox < s.ow; ++ox) {
                  const int y = oy * s.stride_h - s.pad_h + ky * s.dil_h;
                  const int x = ox * s.stride_w - s.pad_w + kx * s.dil_w;
                  col[static_cast<size_t>(d) * ohw + oy * s.ow + ox] =
                      y >= 0 && y < s.h && x >= 0 && x < s.w
                          ? src[(static_cast<size_t>(ci) * s.h + y) * s.w + x]
                          : 0.f;
                }
      }
      float* dst = out + (static_cast<size_t>(img) * s.k + g * kg) * ohw;
      for (int k = 0; k < kg; ++k) std::fill(dst + k * ohw, dst + (k + 1) * ohw, b[g * kg + k]);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kg, ohw, depth, 1.f,
                  w + static_cast<size_t>(g) * kg * depth, depth, col.data(), ohw, 1.f, dst, ohw);
    }
  }
}

/// Inner products batch their images into one sgemm: out[n][k] = in[n][:] . w[k][:].
void float_fc(const ConvShape& s, const float* in, const float* w, const float* b, float* out) {
  for (int img = 0; img < s.n; ++img) std::copy(b, b + s.k, out + static_cast<size_t>(img) * s.k);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.n, s.k, s.c, 1.f, in, s.c, w, s.c, 1.f,
              out, s.k);
}

bool g_thread_cpu_time = false;  // one thread: this thread's CPU time, else wall time

double now_ms() {
  if (g_thread_cpu_time) {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
  }
  return std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
}

template <typename F>
double best_ms(int repeats, F&& f) {
  std::vector<double> t;
  f();  // warm-up
  for (int r = 0; r < repeats; ++r) {
    const double t0 = now_ms();
    f();
    t.push_back(now_ms() - t0);
  }
  // The fastest run: on a shared machine the others measure the neighbours.
  return *std::min_element(t.begin(), t.end());
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const int batch = argc > 2 ? std::atoi(argv[2]) : 64;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 15;
  std::vector<std::string> archs;
  for (int i = 4; i < argc; ++i) archs.push_back(argv[i]);
  g_thread_cpu_time = threads == 1;
  kernels::CpuIsa isa = kernels::best_cpu_isa();
  if (const char* e = std::getenv("RISTSIM_ISA")) {
    for (kernels::CpuIsa i : {kernels::CpuIsa::portable, kernels::CpuIsa::avx2,
                              kernels::CpuIsa::avx512, kernels::CpuIsa::avx512_vnni})
      if (std::string(e) == kernels::to_string(i)) isa = i;
  }
  if (archs.empty()) archs = {"dynfixed8", "dynfixed4", "pow2_4", "fixed16", "minifloat8", "e4m3"};
  openblas_set_num_threads(threads);

  const LayerDef layers[] = {
      {"conv1", testing::finish_shape({batch, 1, 28, 28, 20, 5, 5, 1, 1, 0, 0, 1, 1, 1, 0, 0})},
      {"conv2", testing::finish_shape({batch, 20, 12, 12, 50, 5, 5, 1, 1, 0, 0, 1, 1, 1, 0, 0})},
      {"ip1", testing::inner_product(batch, 800, 500)},
      {"ip2", testing::inner_product(batch, 500, 10)},
  };
  std::printf("batch %d, best of %d runs, isa %s, %d thread(s) (OpenBLAS too), %s\n", batch,
              repeats, kernels::to_string(isa), threads,
              threads == 1 ? "thread CPU time" : "wall time");
  std::printf("%-10s %-6s %9s %9s %9s %8s %8s  %s\n", "arch", "layer", "sgemm_ms", "fdp_ms",
              "exact_ms", "x_sgemm", "x_fdp", "kernel");
  for (const std::string& arch : archs) {
    double tot_f = 0, tot_fq = 0, tot_e = 0;
    for (const LayerDef& L : layers) {
      const ConvShape& s = L.shape;
      std::mt19937_64 rng(5);
      // "<arch>_accN": the arch with an N-bit accumulator (narrow ones overflow).
      const size_t acc_at = arch.find("_acc");
      kernels::ExactLayerSpec spec = testing::shipped_arch(arch.substr(0, acc_at), rng);
      if (acc_at != std::string::npos) spec.acc.bits = std::atoi(arch.c_str() + acc_at + 4);
      const size_t n_in = static_cast<size_t>(s.n) * s.c * s.h * s.w;
      const size_t n_w = static_cast<size_t>(s.k) * (s.c / s.groups) * s.kh * s.kw;
      const size_t n_out = static_cast<size_t>(s.n) * s.k * s.oh * s.ow;
      // Trained-network-like data: activations in [0, 1) (after a ReLU),
      // weights ~ N(0, 1/depth), bias ~ N(0, 0.05); dynamic fixed point gets
      // Ristretto's fractional length from the range (fl = B - ceil(log2 max) - 1).
      const int depth = (s.c / s.groups) * s.kh * s.kw;
      std::uniform_real_distribution<double> ua(0.0, 1.0);
      std::normal_distribution<double> nw(0.0, 1.0 / std::sqrt(double(depth))), nb(0.0, 0.05);
      std::vector<double> xa(n_in), xw(n_w), xb(s.k);
      for (double& v : xa) v = ua(rng);
      for (double& v : xw) v = nw(rng);
      for (double& v : xb) v = nb(rng);
      const bool dynamic = arch.rfind("fixed16", 0) != 0;
      auto set_fl = [&](numeric::Quantizer& q, double max_abs) {
        if (q.format.kind == numeric::FormatKind::fixed && dynamic)
          q.format.fl = q.format.bits - 1 - int(std::ceil(std::log2(max_abs)));
      };
      auto max_abs = [](const std::vector<double>& v) {
        double m = 1e-30;
        for (double x : v) m = std::max(m, std::fabs(x));
        return m;
      };
      set_fl(spec.act, max_abs(xa));
      set_fl(spec.wt, max_abs(xw));
      set_fl(spec.bias, max_abs(xb));
      auto codes = [](const numeric::Quantizer& q, const std::vector<double>& v) {
        std::vector<uint32_t> c(v.size());
        for (size_t i = 0; i < v.size(); ++i) c[i] = uint32_t(numeric::quantize(q, v[i]).code);
        return c;
      };
      const auto in = codes(spec.act, xa), w = codes(spec.wt, xw), b = codes(spec.bias, xb);
      std::vector<float> fin(n_in), fw(n_w), fb(s.k), fout(n_out), col;
      for (size_t i = 0; i < n_in; ++i) fin[i] = float(numeric::decode(spec.act.format, in[i]));
      for (size_t i = 0; i < n_w; ++i) fw[i] = float(numeric::decode(spec.wt.format, w[i]));
      for (int i = 0; i < s.k; ++i) fb[i] = float(numeric::decode(spec.bias.format, b[i]));
      std::vector<uint32_t> out(n_out), fq(n_out);
      const bool fc = s.h == 1 && s.w == 1 && s.kh == 1 && s.kw == 1;
      auto run_float = [&] {
        if (fc)
          float_fc(s, fin.data(), fw.data(), fb.data(), fout.data());
        else
          float_conv(s, fin.data(), fw.data(), fb.data(), fout.data(), col);
      };
      run_float();  // the output's range sets its fractional length
      {
        double m = 1e-30;
        for (float v : fout) m = std::max(m, double(std::fabs(v)));
        set_fl(spec.out, m);
      }
      numeric::Quantizer oq = spec.out;
      oq.stream = spec.stream;
      const double t_f = best_ms(repeats, run_float);
      const double t_fq = best_ms(repeats, [&] {
        run_float();
        for (size_t i = 0; i < n_out; ++i)
          fq[i] = uint32_t(numeric::quantize(oq, double(fout[i]), i).code);
      });
      kernels::ExactCpuReport rep;
      kernels::ExactStats st;
      const double t_e = best_ms(repeats, [&] {
        st = kernels::ExactStats{};
        kernels::ExactCpuOptions opt;
        opt.threads = threads;
        opt.isa = isa;
        kernels::exact_conv_cpu(s, spec, in.data(), w.data(), b.data(), out.data(), &st, opt, &rep);
      });
      tot_f += t_f;
      tot_fq += t_fq;
      tot_e += t_e;
      std::printf(
          "%-10s %-6s %9.3f %9.3f %9.3f %8.2f %8.2f  %s, %d chunked + %d generic channels, "
          "%.1f%% outputs saturated, %llu acc overflows\n",
          arch.c_str(), L.name, t_f, t_fq, t_e, t_e / t_f, t_e / t_fq,
          kernels::to_string(rep.kernel), rep.chunked_channels, rep.generic_channels,
          100.0 * double(st.out_saturations) / double(n_out),
          static_cast<unsigned long long>(st.acc_overflows));
    }
    std::printf("%-10s %-6s %9.3f %9.3f %9.3f %8.2f %8.2f\n", arch.c_str(), "total", tot_f, tot_fq,
                tot_e, tot_e / tot_f, tot_e / tot_fq);
  }
  return 0;
}
