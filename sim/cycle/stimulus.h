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
/// always finite (no inf/NaN codes: the PE has no special-value path).
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

/// The cycle-by-cycle inputs of a job stream: each job as ceil(T/K) chunks
/// back to back (first/last marked), random idle cycles between jobs (inputs
/// then random garbage with valid low), and enough idle cycles at the end to
/// drain the pipeline. `seed` randomizes idle cycles and garbage.
struct PeStream {
  std::vector<rtlgen::PeInputs> cycles;
  std::vector<uint64_t> job_first_cycle;  ///< the cycle of each job's first chunk
};
PeStream stream_jobs(const rtlgen::PeShape& shape, const std::vector<DotJob>& jobs, uint64_t stream,
                     uint64_t seed, double idle_probability = 0.1);

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

}  // namespace ristsim::cycle
