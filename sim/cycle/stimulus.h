// Stimulus for the PE (SystemC model and RTL alike) and its golden results.
//
// A job is one output element: its terms (activation and weight codes), its
// bias code and its output index. Jobs are drawn at random but weighted toward
// the corners that break datapaths: most negative x most negative in every
// lane (the one product that needs the top bit, and the adder tree's widest
// sums), long same-sign sums that saturate the accumulator and the output,
// biases chosen so the output lands exactly on a rounding tie, disabled lanes
// and padding. The golden result of every job is kernels/reference exact_dot().
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/reference/exact_layer.h"
#include "rtlgen/pe_io.h"
#include "rtlgen/pe_shape.h"

namespace ristsim::cycle {

/// One output element's work.
struct DotJob {
  std::vector<kernels::ExactTerm> terms;
  uint32_t bias = 0;
  uint64_t index = 0;
  const char* kind = "random";  ///< which corner it was drawn for
};

/// What the PE must output for a job.
struct Golden {
  uint32_t out = 0;
  bool sat = false;
  bool acc_ovf = false;
};

/// The exact-datapath spec of a PE shape (stream: the layer's stochastic stream).
kernels::ExactLayerSpec exact_spec(const rtlgen::PeShape& shape, uint64_t stream);

/// The golden result of a job (exact_dot()).
Golden golden(const kernels::ExactLayerSpec& spec, const DotJob& job,
              kernels::ExactDotTrace* trace = nullptr);

/// `count` jobs, corner-weighted, reproducible from `seed`. Operand codes are
/// always finite (no inf/NaN codes: the PE has no special-value path). With
/// 20 jobs or more, two of them (one per sign) are long enough to overflow
/// the accumulator, when that takes at most kMaxOverflowChunks chunks.
std::vector<DotJob> make_jobs(const rtlgen::PeShape& shape, const kernels::ExactLayerSpec& spec,
                              int count, uint64_t seed);

/// The jobs of a whole convolution / inner-product layer: every output element
/// in NCHW order, its terms in datapath order (conv_terms(), padding marked),
/// its bias and its NCHW index (the stochastic element index).
std::vector<DotJob> layer_jobs(const kernels::ConvShape& conv, const uint32_t* in_codes,
                               const uint32_t* w_codes, const uint32_t* bias_codes);

/// Parses "C,H,W,K,KH,KW,STRIDE,PAD" (one image; groups 1, dilation 1) into a
/// shape; an inner product of I inputs and O outputs is "I,1,1,O,1,1,1,0".
/// Throws std::invalid_argument.
kernels::ConvShape parse_conv_shape(const std::string& text);

/// How a job stream is laid out in time.
struct StreamOptions {
  /// Probability of an idle cycle (valid low, every other input random
  /// garbage) before each chunk: between output elements and between the
  /// chunks of one element alike; repeated, so idle runs are geometric.
  double idle_rate = 0.1;
  /// Probability that a reset pulse (rst_ni low for 1 or 2 cycles) interrupts
  /// an output element after one of its chunks. The pipeline is flushed; every
  /// element whose result had not come out is streamed again from its first
  /// chunk, so each element's result still appears exactly once, in order.
  double reset_rate = 0.0;
};

/// The cycle-by-cycle inputs of a job stream: a 2-cycle reset, then each job
/// as ceil(T/K) chunks (first/last marked) with idle cycles and reset pulses
/// as StreamOptions says, then enough idle cycles to drain the pipeline.
/// `seed` randomizes idle cycles, resets and garbage.
struct PeStream {
  std::vector<rtlgen::PeInputs> cycles;
  std::vector<uint64_t> job_first_cycle;  ///< the cycle of each job's (final) first chunk
  uint64_t idle_inside = 0;               ///< idle cycles between the chunks of an element
  uint64_t idle_between = 0;              ///< idle cycles between elements
  uint64_t idle_elements = 0;             ///< elements with an idle cycle between their chunks
  uint64_t resets = 0;                    ///< reset pulses after the initial reset
  uint64_t reset_cycles = 0;              ///< cycles with rst_ni low (the initial reset included)
  uint64_t restreamed = 0;                ///< elements streamed again after a reset flushed them
};
PeStream stream_jobs(const rtlgen::PeShape& shape, const std::vector<DotJob>& jobs, uint64_t stream,
                     uint64_t seed, const StreamOptions& options = {});

/// Whether a job's final accumulator (its trace) lies exactly halfway between
/// two output values: a rounding tie of the output conversion.
bool is_tie(const kernels::ExactLayerSpec& spec, const kernels::ExactDotTrace& trace);

/// Terms needed for one element to overflow the accumulator with the largest
/// products of one sign (0: the formats have no nonzero product).
uint64_t acc_overflow_terms(const rtlgen::PeShape& shape);
/// Chunks of the longest element make_jobs() streams to overflow the
/// accumulator; beyond that it does not try (the coverage report says so).
inline constexpr uint64_t kMaxOverflowChunks = 16384;

/// Switching activity of the PE's operand buses (activation and weight codes,
/// every lane) when `jobs` stream back to back, one chunk of K terms per cycle:
/// how many code bits change from one chunk to the next. A lane that carries
/// no term (padding, or past the end of a short last chunk) is gated and holds
/// its previous codes. Uniformly random codes toggle half their bits, which is
/// the activity the cost model's published anchors stand for, so factor() is
/// what scales the dynamic compute energy (cost::LayerWork::activity).
struct OperandActivity {
  uint64_t toggles = 0;    ///< code bits that changed
  uint64_t bit_slots = 0;  ///< code bits that could have changed
  double rate() const { return bit_slots ? double(toggles) / double(bit_slots) : 0; }
  double factor() const { return rate() / 0.5; }
};
OperandActivity operand_activity(const rtlgen::PeShape& shape, const std::vector<DotJob>& jobs);

/// A uniformly random finite code of a format.
uint32_t random_finite_code(const numeric::Format& f, std::mt19937_64& rng);
/// `n` of them (a tensor of random codes).
std::vector<uint32_t> random_codes(const numeric::Format& f, size_t n, std::mt19937_64& rng);

}  // namespace ristsim::cycle
