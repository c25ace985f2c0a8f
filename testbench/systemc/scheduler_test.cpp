// The layer scheduler on the SystemC PE array: a convolution and an inner
// product of random dynfixed8 codes, every output checked against
// kernels/reference exact_conv_reference(), and the reported cycles,
// utilisation and stalls checked against what the dataflow must give.
//
//   scheduler_test ARCH.yaml conv|fc|conv_bandwidth|bad
// "bad" runs the array with a planted bug (the accumulator grid one bit off)
// and must report mismatches. Prints "SCHEDULER PASS" or "SCHEDULER FAIL".
//
//   scheduler_test ARCH.yaml count C,H,W,K,KH,KW,STRIDE,PAD P WORDS [bad]
// runs that layer (one image) on P PEs with WORDS operand codes per cycle
// (0: unlimited) and checks schedule.h count_layer() against it exactly:
// cycles, chunks, stall and idle PE-cycles (and, unlimited, the closed form).
// "bad" counts with a latency one cycle short and must report the difference
// ("COUNT MISMATCH").
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "config/arch_yaml.h"
#include "cycle/scheduler.h"
#include "cycle/stimulus.h"

using namespace ristsim;

namespace {

int count_check(const rtlgen::PeShape& shape, int argc, char** argv) {
  int g[8];
  if (argc < 6 || std::sscanf(argv[3], "%d,%d,%d,%d,%d,%d,%d,%d", &g[0], &g[1], &g[2], &g[3], &g[4],
                              &g[5], &g[6], &g[7]) != 8) {
    std::fprintf(stderr, "usage: scheduler_test ARCH.yaml count C,H,W,K,KH,KW,STRIDE,PAD P WORDS\n");
    return 2;
  }
  const bool bad = argc > 6 && std::string(argv[6]) == "bad";
  kernels::ConvShape c{1, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[6], g[7], g[7], 1, 1, 1, 0, 0};
  c.oh = (c.h + 2 * c.pad_h - c.kh) / c.stride_h + 1;
  c.ow = (c.w + 2 * c.pad_w - c.kw) / c.stride_w + 1;
  cycle::LayerRun run;
  run.pes = std::atoi(argv[4]);
  run.words_per_cycle = std::atof(argv[5]);
  std::mt19937_64 rng(7);
  const auto in = cycle::random_codes(shape.fmt.act, size_t(c.n) * c.c * c.h * c.w, rng);
  const auto w = cycle::random_codes(shape.fmt.wt, size_t(c.k) * c.c * c.kh * c.kw, rng);
  const auto b = cycle::random_codes(shape.fmt.bias, size_t(c.k), rng);
  const cycle::LayerStats st = cycle::simulate_layer(shape, c, in.data(), w.data(), b.data(), run);
  const uint64_t outputs = uint64_t(c.n) * c.k * c.oh * c.ow;
  const uint64_t terms = uint64_t(c.c) * c.kh * c.kw;
  const cycle::LayerCount n = cycle::count_layer(outputs, terms, shape.lanes,
                                                 shape.latency() - (bad ? 1 : 0), run);
  std::printf("%s on %d PEs, %g words/cycle: simulated %llu cycles, %llu chunks, %llu stalls, "
              "%llu idle, %llu mismatches; counted %llu cycles, %llu chunks, %llu stalls, %llu idle\n",
              argv[3], run.pes, run.words_per_cycle, (unsigned long long)st.cycles,
              (unsigned long long)st.chunks, (unsigned long long)st.stall_cycles,
              (unsigned long long)st.idle_cycles, (unsigned long long)st.mismatches,
              (unsigned long long)n.cycles, (unsigned long long)n.chunks,
              (unsigned long long)n.stall_cycles, (unsigned long long)n.idle_cycles);
  bool same = st.cycles == n.cycles && st.chunks == n.chunks &&
              st.stall_cycles == n.stall_cycles && st.idle_cycles == n.idle_cycles;
  if (run.words_per_cycle == 0) {  // the closed form
    const uint64_t k = uint64_t(shape.lanes), p = uint64_t(run.pes);
    same = same && n.cycles == (outputs + p - 1) / p * ((terms + k - 1) / k) + shape.latency() - 1;
  }
  if (!same) std::printf("COUNT MISMATCH\n");
  const bool ok = same && st.mismatches == 0 && st.outputs == outputs;
  std::printf("%s\n", ok ? "SCHEDULER PASS" : "SCHEDULER FAIL");
  return ok ? 0 : 1;
}

}  // namespace

extern "C" int sc_main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: scheduler_test ARCH.yaml conv|fc|conv_bandwidth|bad\n");
    return 2;
  }
  const config::Arch arch = config::load_arch(argv[1]);
  const std::string mode = argv[2];
  const rtlgen::PeShape shape = rtlgen::make_pe_shape(arch, nullptr, "auto");
  if (mode == "count") return count_check(shape, argc, argv);
  kernels::ConvShape c{};
  if (mode == "fc") {
    c = kernels::ConvShape{1, 100, 1, 1, 10, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1};
  } else {
    c = kernels::ConvShape{1, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8, 8};
  }
  std::mt19937_64 rng(11);
  std::vector<uint32_t> in(static_cast<size_t>(c.n) * c.c * c.h * c.w);
  std::vector<uint32_t> w(static_cast<size_t>(c.k) * c.c * c.kh * c.kw);
  std::vector<uint32_t> b(static_cast<size_t>(c.k));
  for (auto& x : in) x = cycle::random_finite_code(shape.fmt.act, rng);
  for (auto& x : w) x = cycle::random_finite_code(shape.fmt.wt, rng);
  for (auto& x : b) x = cycle::random_finite_code(shape.fmt.bias, rng);
  cycle::LayerRun run;
  run.pes = 4;
  run.stream = 1;
  if (mode == "conv_bandwidth") run.words_per_cycle = 48;  // 1.5 PEs' worth of operands
  rtlgen::PeShape model = shape;
  if (mode == "bad") model.frac_bits += 1;  // planted: the accumulator grid one bit off
  const cycle::LayerStats st = cycle::simulate_layer(model, c, in.data(), w.data(), b.data(), run);

  const uint64_t outputs = static_cast<uint64_t>(c.n) * c.k * c.oh * c.ow;
  const uint64_t terms = static_cast<uint64_t>(c.c) * c.kh * c.kw;
  const uint64_t chunks_per = (terms + shape.lanes - 1) / shape.lanes;
  const uint64_t per_pe = (outputs + run.pes - 1) / run.pes;
  // Rising edges from the first chunk to the last result: no stalls make it exact.
  const uint64_t lower = per_pe * chunks_per + shape.latency() - 1;
  std::printf(
      "%s on %d PEs x %d lanes: %llu outputs, %llu cycles (lower bound %llu), %llu chunks, "
      "%llu MACs, utilisation %.3f, stalls %llu, idle %llu, mismatches %llu\n",
      mode.c_str(), run.pes, shape.lanes, static_cast<unsigned long long>(st.outputs),
      static_cast<unsigned long long>(st.cycles), static_cast<unsigned long long>(lower),
      static_cast<unsigned long long>(st.chunks), static_cast<unsigned long long>(st.macs),
      st.utilisation, static_cast<unsigned long long>(st.stall_cycles),
      static_cast<unsigned long long>(st.idle_cycles),
      static_cast<unsigned long long>(st.mismatches));
  bool ok = st.mismatches == 0 && st.outputs == outputs && st.chunks == outputs * chunks_per;
  if (mode == "conv" || mode == "fc") ok = ok && st.cycles == lower && st.stall_cycles == 0;
  if (mode == "conv_bandwidth") ok = ok && st.cycles > lower && st.stall_cycles > 0;
  if (mode == "bad" && st.mismatches > 0) std::printf("MISMATCH reported (planted bug caught)\n");
  std::printf("%s\n", ok ? "SCHEDULER PASS" : "SCHEDULER FAIL");
  return ok ? 0 : 1;
}
