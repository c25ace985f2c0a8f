// The SystemC PE model against its untimed twins (MatchLib style): one
// stimulus, one monitor per block, each checked against the corresponding step
// of kernels/reference exact_dot() (ExactDotTrace), bit for bit:
//   stage 1 (s1_prod)  == trace.aligned, per chunk and lane (0 for disabled lanes)
//   stage 2 (s2_sum)   == trace.chunk_sums
//   stage 3 (s3_acc)   == trace.acc_after (each chunk)
//   outputs            == exact_dot's code, saturation and overflow flags
// The monitor samples after every rising edge; each stage pops its own queue
// of expectations whenever its valid is high, so latency is checked too.
//
//   systemc_pe_test ARCH.yaml [JOBS] [SEED] [BAD]
// BAD plants a bug in the model's shape, for the *_bad tests: "narrow" (the
// aligned products one bit too narrow), "acc" (an accumulator only one bit wider than a chunk sum).
// Prints "SYSTEMC PASS" or the first mismatch and "SYSTEMC FAIL".
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>

#include "config/arch_yaml.h"
#include "cycle/pe_model.h"
#include "cycle/stimulus.h"

using namespace ristsim;

namespace {

struct Expect {
  uint64_t job;
  size_t chunk;
  std::vector<int64_t> prod;
  int64_t sum = 0, acc = 0;
};

int fail_count = 0;

void check(bool ok, const char* stage, uint64_t cycle, uint64_t job, const std::string& what) {
  if (ok) return;
  if (fail_count++ < 5)
    std::printf("MISMATCH %s: cycle %llu, job %llu: %s\n", stage,
                static_cast<unsigned long long>(cycle), static_cast<unsigned long long>(job),
                what.c_str());
}

}  // namespace

extern "C" int sc_main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: systemc_pe_test ARCH.yaml [JOBS] [SEED] [BAD]\n");
    return 2;
  }
  const config::Arch arch = config::load_arch(argv[1]);
  const int njobs = argc > 2 ? std::atoi(argv[2]) : 500;
  const uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 7;
  const std::string bad = argc > 4 ? argv[4] : "";
  const rtlgen::PeShape shape = rtlgen::make_pe_shape(arch, nullptr, "auto");
  rtlgen::PeShape model_shape = shape;
  if (bad == "narrow") model_shape.aligned.bits -= 1;
  if (bad == "acc") model_shape.acc_bits = shape.tree_sum.bits + 1;

  const uint64_t stream = 2;
  const kernels::ExactLayerSpec spec = cycle::exact_spec(shape, stream);
  const std::vector<cycle::DotJob> jobs = cycle::make_jobs(shape, spec, njobs, seed);
  const cycle::PeStream st = cycle::stream_jobs(shape, jobs, stream, seed);
  std::vector<kernels::ExactDotTrace> traces(jobs.size());
  std::vector<cycle::Golden> gold;
  for (size_t j = 0; j < jobs.size(); ++j) gold.push_back(cycle::golden(spec, jobs[j], &traces[j]));

  cycle::PeHarness h(model_shape);
  cycle::PeModel& m = h.model();
  h.reset();

  std::deque<Expect> q1, q2, q3;
  std::deque<uint64_t> qout;
  size_t next_job = 0, chunk = 0;
  const size_t k = static_cast<size_t>(shape.lanes);
  uint64_t checked = 0;
  for (uint64_t c = 0; c < st.cycles.size(); ++c) {
    const rtlgen::PeInputs& in = st.cycles[c];
    if (in.valid && !in.reset) {  // the expectations of this chunk, from the twin's trace
      const kernels::ExactDotTrace& t = traces[next_job];
      Expect e;
      e.job = next_job;
      e.chunk = chunk;
      for (size_t i = 0; i < k; ++i) {
        const size_t idx = chunk * k + i;
        e.prod.push_back(idx < t.aligned.size() && in.lane_en[i] ? t.aligned[idx] : 0);
      }
      e.sum = chunk < t.chunk_sums.size() ? t.chunk_sums[chunk] : 0;
      e.acc = chunk < t.acc_after.size() ? t.acc_after[chunk] : 0;
      q1.push_back(e);
      q2.push_back(e);
      q3.push_back(e);
      if (in.last) {
        qout.push_back(next_job);
        ++next_job;
        chunk = 0;
      } else {
        ++chunk;
      }
    }
    const rtlgen::PeOutputs o = h.cycle(in);
    if (m.s1_valid.read()) {
      check(!q1.empty(), "stage1", c, 0, "valid without a chunk");
      if (!q1.empty()) {
        const Expect e = q1.front();
        q1.pop_front();
        check(m.s1_prod.read().v == e.prod, "stage1 products", c, e.job,
              "chunk " + std::to_string(e.chunk));
      }
    }
    if (m.s2_valid.read()) {
      check(!q2.empty(), "stage2", c, 0, "valid without a chunk");
      if (!q2.empty()) {
        const Expect e = q2.front();
        q2.pop_front();
        check(m.s2_sum.read() == e.sum, "stage2 tree sum", c, e.job,
              "chunk " + std::to_string(e.chunk) + ": expected " + std::to_string(e.sum) +
                  ", model " + std::to_string(m.s2_sum.read()));
      }
    }
    // The accumulator register changes one cycle after its input was valid.
    static bool acc_due = false;
    static Expect acc_e;
    if (acc_due) {
      check(m.s3_acc.read() == acc_e.acc, "stage3 accumulator", c, acc_e.job,
            "chunk " + std::to_string(acc_e.chunk) + ": expected " + std::to_string(acc_e.acc) +
                ", model " + std::to_string(m.s3_acc.read()));
      acc_due = false;
    }
    if (m.s2_valid.read() && !q3.empty()) {
      acc_e = q3.front();
      q3.pop_front();
      acc_due = true;
    }
    if (o.valid) {
      check(!qout.empty(), "output", c, 0, "valid without a job");
      if (!qout.empty()) {
        const uint64_t j = qout.front();
        qout.pop_front();
        const cycle::Golden& g = gold[j];
        check(o.out == g.out && o.sat == g.sat && o.acc_ovf == g.acc_ovf, "output", c, j,
              "expected code " + std::to_string(g.out) + " sat " + std::to_string(g.sat) + " ovf " +
                  std::to_string(g.acc_ovf) + ", model " + std::to_string(o.out) + " sat " +
                  std::to_string(o.sat) + " ovf " + std::to_string(o.acc_ovf));
        ++checked;
      }
    }
  }
  check(qout.empty() && q1.empty() && q2.empty(), "drain", st.cycles.size(), 0,
        "expected results never came out");
  std::printf("arch %s%s: %zu jobs, %zu cycles, %llu outputs checked, %d mismatches\n",
              arch.name.c_str(), bad.empty() ? "" : (" (planted: " + bad + ")").c_str(),
              jobs.size(), st.cycles.size(), static_cast<unsigned long long>(checked), fail_count);
  std::printf("%s\n", fail_count == 0 ? "SYSTEMC PASS" : "SYSTEMC FAIL");
  return fail_count == 0 ? 0 : 1;
}
