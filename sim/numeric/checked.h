// Checked arithmetic and size limits for everything read from a file: the one mechanism every
// reader (arch / net / tech YAML, ONNX, .rstw weights, idx, CIFAR-10) and the engine's blob
// allocation use for sizes, counts and attribute values, so that no hostile value reaches a
// signed overflow, an out-of-range float-to-int conversion, a wrapped size or a huge
// allocation. Header-only, no dependencies beyond the standard library.
//
// The helpers never throw: they return std::nullopt (or false) and the caller reports the
// problem with its own file name and position. InputError is the common base of every reader's
// error type (config::ConfigError, io::DataError and io::ModelError, engine::NetSpecError,
// engine::WeightsError): the command line maps it to exit code 2 (a bad config, model or data
// file), and with_input_errors() turns any other std::exception escaping a reader into one that
// names the file.
//
// Limits (docs/data.md, "Limits"):
//   kMaxDim             2^31 - 1   one dimension / size / count (what an int holds)
//   kMaxElements        2^29       elements of one engine blob, batch included (2 GiB of
//                                  float32 values, as much again for the gradient)
//   kMaxFileElements    2^28       elements of one tensor read from a file (ONNX initializer,
//                                  graph input sample, idx data), 1 GiB of float32
#pragma once

#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace ristsim {

/// A bad input file (config, model, weights, data): the message names the file and what is
/// wrong. The command line exits with 2 on it.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace checked {

constexpr int64_t kMaxDim = std::numeric_limits<int32_t>::max();
constexpr int64_t kMaxElements = int64_t(1) << 29;
constexpr int64_t kMaxFileElements = int64_t(1) << 28;

/// a * b, or nullopt on signed 64-bit overflow.
inline std::optional<int64_t> mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

/// a + b, or nullopt on signed 64-bit overflow.
inline std::optional<int64_t> add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

/// The product of non-negative sizes when it is at most `limit`, else nullopt (also for a
/// negative size). An empty range gives 1.
template <class It>
std::optional<int64_t> product(It first, It last, int64_t limit) {
  int64_t n = 1;
  bool zero = false;
  for (; first != last; ++first) {
    const auto d = *first;
    if (d < 0) return std::nullopt;
    if (static_cast<std::make_unsigned_t<decltype(d)>>(d) > static_cast<uint64_t>(limit))
      return std::nullopt;
    if (d == 0) zero = true;
    // Keep checking the other sizes after a zero: each must still be within the limit.
    if (!zero) {
      const auto p = mul(n, static_cast<int64_t>(d));
      if (!p || *p > limit) return std::nullopt;
      n = *p;
    }
  }
  return zero ? 0 : n;
}

template <class C>
std::optional<int64_t> product(const C& sizes, int64_t limit) {
  return product(std::begin(sizes), std::end(sizes), limit);
}

/// An integer converted to To when the value fits exactly, else nullopt.
template <class To, class From>
std::optional<To> narrow(From v) {
  static_assert(std::is_integral_v<To> && std::is_integral_v<From>);
  if constexpr (std::is_signed_v<From> == std::is_signed_v<To>) {
    if (v < std::numeric_limits<To>::min() || v > std::numeric_limits<To>::max())
      return std::nullopt;
  } else if constexpr (std::is_signed_v<From>) {  // signed -> unsigned
    if (v < 0 || static_cast<std::make_unsigned_t<From>>(v) > std::numeric_limits<To>::max())
      return std::nullopt;
  } else {  // unsigned -> signed
    if (v > static_cast<std::make_unsigned_t<To>>(std::numeric_limits<To>::max()))
      return std::nullopt;
  }
  return static_cast<To>(v);
}

/// A double converted to the integer To when it is an integer value that To holds (no NaN,
/// no infinity, no fraction), else nullopt. The range test happens in double, before any
/// conversion, so no out-of-range float-to-int conversion is ever made.
template <class To>
std::optional<To> narrow(double d) {
  static_assert(std::is_integral_v<To>);
  if (!std::isfinite(d) || d != std::floor(d)) return std::nullopt;
  // Both bounds are powers of two (exact in double): lo <= d < hi.
  const double lo = static_cast<double>(std::numeric_limits<To>::min());
  const double hi = -2.0 * static_cast<double>(std::numeric_limits<std::make_signed_t<To>>::min()) *
                    (std::is_signed_v<To> ? 0.5 : 1.0);
  if (d < lo || d >= hi) return std::nullopt;
  return static_cast<To>(d);
}

/// Runs a reader; an exception other than InputError (a library's std::exception: yaml-cpp,
/// protobuf, std::bad_alloc, std::length_error, ...) becomes the reader's own error,
/// make(message) with a message "cannot read WHAT (...)" that the caller prefixes with the
/// file, so that no library message reaches the user without the file it is about.
template <class F, class Make>
auto with_input_errors(const std::string& what, F&& f, Make&& make) -> decltype(f()) {
  try {
    return f();
  } catch (const InputError&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw make("cannot read " + what + ": out of memory");
  } catch (const std::exception& e) {
    throw make("cannot read " + what + " (" + e.what() + ")");
  }
}

}  // namespace checked
}  // namespace ristsim
