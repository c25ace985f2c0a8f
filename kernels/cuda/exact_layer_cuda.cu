// Exact datapath on the GPU (see exact_layer_cuda.h): one thread per output element running
// steps::conv_element (kernels/reference/exact_steps.h), or, where the accumulator bound
// admits the layer, int8 codes through cuBLASLt's IMMA GEMM and gemm_element per output
// (kernels/reference/accumulator_bound.h). The host tests hold both against
// exact_conv_reference.
#include "exact_layer_cuda.h"

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "device.h"
#include "kernels/reference/accumulator_bound.h"
#include "kernels/reference/exact_steps.h"
#include "quantize_cuda.h"

namespace ristsim::cuda {
namespace {

namespace steps = kernels::steps;

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw CudaError(std::string(what) + ": " + cudaGetErrorString(e));
}

__global__ void exact_conv_kernel(kernels::ConvShape s, steps::ElementSpec d, const uint32_t* in,
                                  const uint32_t* wts, const uint32_t* bias, uint32_t* out,
                                  unsigned long long* counts) {
  const int64_t total = int64_t{s.n} * s.k * s.oh * s.ow;
  for (int64_t index = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; index < total;
       index += int64_t{gridDim.x} * blockDim.x) {
    const steps::ElementResult r = steps::conv_element(s, d, in, wts, bias, index);
    out[index] = r.code;
    if (r.acc_overflows) atomicAdd(&counts[0], static_cast<unsigned long long>(r.acc_overflows));
    if (r.saturated) atomicAdd(&counts[1], 1ull);
    if (r.nan) atomicAdd(&counts[2], 1ull);
  }
}

template <typename T>
T* upload(const T* host, size_t count) {
  T* d = nullptr;
  check(cudaMalloc(&d, count * sizeof(T) + 1), "cudaMalloc");
  if (host && count)
    check(cudaMemcpy(d, host, count * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
  return d;
}

void check(cublasStatus_t e, const char* what) {
  if (e != CUBLAS_STATUS_SUCCESS)
    throw CudaError(std::string(what) + ": cuBLAS status " + std::to_string(int(e)));
}

int grid(int64_t n) {
  const int64_t b = (n + 255) / 256;
  return static_cast<int>(b < 65535 ? (b > 0 ? b : 1) : 65535);
}

#define GRID_LOOP(i, n)                                                     \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); \
       i += int64_t{gridDim.x} * blockDim.x)

constexpr int64_t kPad = 4;  // IMMA with the regular (column) order: leading dimensions % 4 == 0
int64_t padded(int64_t v) {
  return (v + kPad - 1) / kPad * kPad;
}

/// The GEMM's A for group g: the weights' codes as int8, [kg_pad][rows_pad] (A^T of TN).
__global__ void pack_weights_kernel(kernels::ConvShape s, numeric::Format wf, const uint32_t* w, int group,
                                    int64_t rows, int64_t rows_pad, int64_t kg_pad, int8_t* a) {
  const int kg = s.k / s.groups;
  GRID_LOOP(i, kg_pad * rows_pad) {
    const int64_t kk = i / rows_pad, r = i % rows_pad;
    a[i] = (kk < kg && r < rows) ? static_cast<int8_t>(kernels::code_value(
                                       wf, w[(int64_t{group} * kg + kk) * rows + r]))
                                 : int8_t{0};
  }
}

/// The GEMM's B: for each output pixel of images [img0, img0 + images), the K input codes of
/// group g as int8 in datapath order (channel, kernel row, kernel column), zero-padded.
__global__ void pack_columns_kernel(kernels::ConvShape s, numeric::Format af, const uint32_t* in, int group,
                                    int img0, int images, int64_t rows, int64_t rows_pad,
                                    int8_t* b) {
  const int cg = s.c / s.groups;
  const int64_t cols = int64_t{s.oh} * s.ow;
  GRID_LOOP(i, int64_t{images} * cols * rows_pad) {
    const int64_t r = i % rows_pad, p = (i / rows_pad) % cols;
    const int img = img0 + static_cast<int>(i / (rows_pad * cols));
    int8_t v = 0;
    if (r < rows) {
      const int kx = static_cast<int>(r % s.kw), ky = static_cast<int>((r / s.kw) % s.kh);
      const int ci = static_cast<int>(r / (int64_t{s.kw} * s.kh));
      const int ox = static_cast<int>(p % s.ow), oy = static_cast<int>(p / s.ow);
      const int y = oy * s.stride_h - s.pad_h + ky * s.dil_h,
                x = ox * s.stride_w - s.pad_w + kx * s.dil_w;
      if (y >= 0 && y < s.h && x >= 0 && x < s.w)
        v = static_cast<int8_t>(kernels::code_value(
            af, in[((int64_t{img} * s.c + group * cg + ci) * s.h + y) * s.w + x]));
    }
    b[i] = v;
  }
}

/// Output codes of group g for images [img0, img0 + images) from the GEMM's int32 sums
/// C[pixel][kg_pad].
__global__ void gemm_epilogue_kernel(kernels::ConvShape s, steps::ElementSpec d, int shift,
                                     const int32_t* c, const uint32_t* bias, int group, int img0,
                                     int images, int64_t kg_pad, uint32_t* out,
                                     unsigned long long* counts) {
  const int kg = s.k / s.groups;
  const int64_t cols = int64_t{s.oh} * s.ow;
  GRID_LOOP(i, int64_t{images} * kg * cols) {
    const int64_t p = i % cols;
    const int kk = static_cast<int>((i / cols) % kg), il = static_cast<int>(i / (cols * kg));
    const int k = group * kg + kk;
    const int64_t index = (int64_t{img0 + il} * s.k + k) * cols + p;
    const steps::ElementResult r =
        kernels::gemm_element(d, shift, c[(int64_t{il} * cols + p) * kg_pad + kk], bias, k, index);
    out[index] = r.code;
    if (r.saturated) atomicAdd(&counts[1], 1ull);
    if (r.nan) atomicAdd(&counts[2], 1ull);
  }
}

/// Whether cuBLASLt has an IMMA algorithm for C[m x n] = A^T B with these padded sizes.
bool imma_available(cublasLtHandle_t lt, cublasLtMatmulDesc_t op, int64_t k, int64_t m, int64_t n) {
  cublasLtMatrixLayout_t la = nullptr, lb = nullptr, lc = nullptr;
  check(cublasLtMatrixLayoutCreate(&la, CUDA_R_8I, k, m, k), "layout A");
  check(cublasLtMatrixLayoutCreate(&lb, CUDA_R_8I, k, n, k), "layout B");
  check(cublasLtMatrixLayoutCreate(&lc, CUDA_R_32I, m, n, m), "layout C");
  cublasLtMatmulPreference_t pref = nullptr;
  check(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t st =
      cublasLtMatmulAlgoGetHeuristic(lt, op, la, lb, lc, lc, pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  cublasLtMatrixLayoutDestroy(la);
  cublasLtMatrixLayoutDestroy(lb);
  cublasLtMatrixLayoutDestroy(lc);
  return st == CUBLAS_STATUS_SUCCESS && found > 0;
}

/// The process's cuBLASLt handle (created on first use; cublasLtCreate costs more than a small
/// layer's GEMM).
cublasLtHandle_t lt_handle() {
  static cublasLtHandle_t handle = [] {
    cublasLtHandle_t h = nullptr;
    check(cublasLtCreate(&h), "cublasLtCreate");
    return h;
  }();
  return handle;
}

/// Grow-only device buffers of the gemm route, kept for the process: no cudaMalloc / cudaFree
/// (both synchronise with the device) per layer. Slots: 0 packed weights, 1 packed columns,
/// 2 the int32 sums. The engine drives the GPU from one thread.
void* scratch(int slot, size_t bytes) {
  static void* ptr[3] = {nullptr, nullptr, nullptr};
  static size_t size[3] = {0, 0, 0};
  if (bytes > size[slot]) {
    if (ptr[slot]) cudaFree(ptr[slot]);
    ptr[slot] = nullptr;
    size[slot] = 0;
    check(cudaMalloc(&ptr[slot], bytes), "cudaMalloc");
    size[slot] = bytes;
  }
  return ptr[slot];
}

/// The gemm route: per group and per slice of images, pack A and B, IMMA, epilogue. False
/// (nothing written) when cuBLASLt offers no IMMA algorithm for the layer's sizes.
bool exact_conv_gemm(const kernels::ConvShape& s, const steps::ElementSpec& d,
                     const kernels::ExactLayerSpec& spec, int shift, const uint32_t* d_in,
                     const uint32_t* d_w, const uint32_t* d_b, uint32_t* d_out,
                     unsigned long long* d_counts) {
  const int kg = s.k / s.groups;
  const int64_t rows = int64_t{s.c / s.groups} * s.kh * s.kw, rows_pad = padded(rows),
                kg_pad = padded(kg);
  const int64_t cols = int64_t{s.oh} * s.ow;
  // Images per GEMM: the packed columns within 256 MiB.
  const int64_t per_image = cols * rows_pad;
  const int chunk = static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>(s.n, (int64_t{256} << 20) / per_image)));
  auto* a = static_cast<int8_t*>(scratch(0, size_t(kg_pad * rows_pad)));
  auto* b = static_cast<int8_t*>(scratch(1, size_t(int64_t{chunk} * per_image)));
  auto* c = static_cast<int32_t*>(scratch(2, size_t(int64_t{chunk} * cols * kg_pad) * 4));
  cublasLtHandle_t lt = lt_handle();
  cublasLtMatmulDesc_t op = nullptr;
  check(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32I, CUDA_R_32I), "cublasLtMatmulDescCreate");
  const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;  // IMMA's "TN"
  check(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta), "TRANSA");
  check(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb), "TRANSB");
  const int32_t alpha = 1, beta = 0;
  const int last = s.n % chunk == 0 ? chunk : s.n % chunk;
  if (!imma_available(lt, op, rows_pad, kg_pad, int64_t{chunk} * cols) ||
      !imma_available(lt, op, rows_pad, kg_pad, int64_t{last} * cols)) {
    cublasLtMatmulDescDestroy(op);
    return false;
  }
  for (int g = 0; g < s.groups; ++g) {
    pack_weights_kernel<<<grid(kg_pad * rows_pad), 256>>>(s, spec.wt.format, d_w, g, rows,
                                                          rows_pad, kg_pad, a);
    for (int img0 = 0; img0 < s.n; img0 += chunk) {
      const int images = std::min(chunk, s.n - img0);
      const int64_t n = int64_t{images} * cols;
      pack_columns_kernel<<<grid(n * rows_pad), 256>>>(s, spec.act.format, d_in, g, img0,
                                                       images, rows, rows_pad, b);
      cublasLtMatrixLayout_t la = nullptr, lb = nullptr, lc = nullptr;
      check(cublasLtMatrixLayoutCreate(&la, CUDA_R_8I, rows_pad, kg_pad, rows_pad), "layout A");
      check(cublasLtMatrixLayoutCreate(&lb, CUDA_R_8I, rows_pad, n, rows_pad), "layout B");
      check(cublasLtMatrixLayoutCreate(&lc, CUDA_R_32I, kg_pad, n, kg_pad), "layout C");
      // C[kg_pad x n] = A^T B: column p of C holds the sums of pixel p for every output channel.
      check(
          cublasLtMatmul(lt, op, &alpha, a, la, b, lb, &beta, c, lc, c, lc, nullptr, nullptr, 0, 0),
          "cublasLtMatmul (int8 IMMA)");
      cublasLtMatrixLayoutDestroy(la);
      cublasLtMatrixLayoutDestroy(lb);
      cublasLtMatrixLayoutDestroy(lc);
      gemm_epilogue_kernel<<<grid(int64_t{images} * kg * cols), 256>>>(
          s, d, shift, c, d_b, g, img0, images, kg_pad, d_out, d_counts);
      check(cudaGetLastError(), "exact_conv gemm route");
    }
  }
  cublasLtMatmulDescDestroy(op);
  return true;
}

}  // namespace

void exact_conv_device(const kernels::ConvShape& s, const kernels::ExactLayerSpec& spec,
                       const uint32_t* d_in, const uint32_t* d_w, const uint32_t* d_b,
                       uint32_t* d_out, unsigned long long* d_counts, ExactRoute route,
                       ExactRoute* used) {
  if (const char* e = kernels::validate(s)) throw std::invalid_argument(e);
  if (const char* e = kernels::validate(spec)) throw std::invalid_argument(e);
  if (!spec.wt_fl.empty())
    throw std::invalid_argument(
        "the CUDA exact path has one weight fractional length per layer; per-channel weights "
        "(granularity: channel) run on the CPU kernels");
  const kernels::GemmPlan plan = kernels::integer_gemm_exact(
      spec, int64_t{s.c / s.groups} * s.kh * s.kw, kernels::IntegerGemm{8, 8, 32});
  if (route == ExactRoute::gemm && !plan.exact)
    throw std::invalid_argument("exact_conv: the integer GEMM route does not apply: " + plan.why);
  const bool gemm = route == ExactRoute::gemm || (route == ExactRoute::automatic && plan.exact);
  const steps::ElementSpec d = steps::element_spec(spec);
  const bool gemm_done =
      gemm && exact_conv_gemm(s, d, spec, plan.shift, d_in, d_w, d_b, d_out, d_counts);
  if (gemm && !gemm_done && route == ExactRoute::gemm)
    throw CudaError("exact_conv: cuBLASLt offers no int8 IMMA algorithm for this layer's sizes");
  if (used) *used = gemm_done ? ExactRoute::gemm : ExactRoute::element;
  if (!gemm_done) {
    const int64_t n_out = int64_t{s.n} * s.k * s.oh * s.ow;
    const int64_t blocks = (n_out + 127) / 128;
    exact_conv_kernel<<<static_cast<int>(blocks < 65535 ? blocks : 65535), 128>>>(
        s, d, d_in, d_w, d_b, d_out, d_counts);
    check(cudaGetLastError(), "exact_conv kernel launch");
  }
}

void exact_conv(const kernels::ConvShape& s, const kernels::ExactLayerSpec& spec,
                const uint32_t* in_codes, const uint32_t* w_codes, const uint32_t* bias_codes,
                uint32_t* out_codes, kernels::ExactStats* stats, ExactRoute route,
                ExactRoute* used) {
  if (const char* e = kernels::validate(s)) throw std::invalid_argument(e);
  if (const char* e = kernels::validate(spec)) throw std::invalid_argument(e);
  if (!spec.wt_fl.empty())
    throw std::invalid_argument(
        "the CUDA exact path has one weight fractional length per layer; per-channel weights "
        "(granularity: channel) run on the CPU kernels");
  std::string why;
  if (!device_available(&why)) throw CudaError("no usable GPU: " + why);
  const size_t n_in = size_t(s.n) * s.c * s.h * s.w;
  const size_t n_w = size_t(s.k) * (s.c / s.groups) * s.kh * s.kw;
  const size_t n_out = size_t(s.n) * s.k * s.oh * s.ow;
  uint32_t* d_in = upload(in_codes, n_in);
  uint32_t* d_w = upload(w_codes, n_w);
  uint32_t* d_b = upload(spec.has_bias ? bias_codes : nullptr, size_t(s.k));
  uint32_t* d_out = upload<uint32_t>(nullptr, n_out);
  unsigned long long* d_counts = upload<unsigned long long>(nullptr, 3);
  check(cudaMemset(d_counts, 0, 3 * sizeof(unsigned long long)), "cudaMemset");
  try {
    exact_conv_device(s, spec, d_in, d_w, d_b, d_out, d_counts, route, used);
  } catch (...) {
    for (void* p : {(void*)d_in, (void*)d_w, (void*)d_b, (void*)d_out, (void*)d_counts})
      cudaFree(p);
    throw;
  }
  check(cudaMemcpy(out_codes, d_out, n_out * sizeof(uint32_t), cudaMemcpyDeviceToHost),
        "cudaMemcpy");
  unsigned long long counts[3];
  check(cudaMemcpy(counts, d_counts, sizeof counts, cudaMemcpyDeviceToHost), "cudaMemcpy");
  if (stats) {
    stats->acc_overflows += counts[0];
    stats->out_saturations += counts[1];
    stats->out_nans += counts[2];
  }
  for (void* p : {(void*)d_in, (void*)d_w, (void*)d_b, (void*)d_out, (void*)d_counts}) cudaFree(p);
}

}  // namespace ristsim::cuda
