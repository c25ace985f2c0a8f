// The layer scheduler on the SystemC PE array: a convolution and an inner
// product of random dynfixed8 codes, every output checked against
// kernels/reference exact_conv_reference(), and the reported cycles,
// utilisation and stalls checked against what the dataflow must give.
//
//   scheduler_test ARCH.yaml conv|fc|conv_bandwidth|bad
// "bad" runs the array with a planted bug (the accumulator grid one bit off)
// and must report mismatches. Prints "SCHEDULER PASS" or "SCHEDULER FAIL".
#include <cstdio>
#include <random>
#include <string>

#include "config/arch_yaml.h"
#include "cycle/scheduler.h"
#include "cycle/stimulus.h"

using namespace ristsim;

extern "C" int sc_main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: scheduler_test ARCH.yaml conv|fc|conv_bandwidth|bad\n");
    return 2;
  }
  const config::Arch arch = config::load_arch(argv[1]);
  const std::string mode = argv[2];
  const rtlgen::PeShape shape = rtlgen::make_pe_shape(arch, nullptr, "auto");
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
