// The one random-number generator of avsl: counter-based, so that every draw is a pure function of
// (seed, stream key, counter). The loader's epoch permutation, training augmentations and the synthetic
// benchmark all use it, so a sample comes out the same on any thread, in any order, on any platform. The
// integer stream is SplitMix64 mixing (exact 64-bit integer arithmetic); the uniform transform uses only
// IEEE-754 basic operations. Standard-library distributions are not used because their algorithms are
// implementation-defined (libstdc++ and libc++ give different numbers for the same engine).
#pragma once

#include <cstdint>

#include "avsl/core/export.h"

namespace avsl {

/// SplitMix64's increment (the golden ratio in 64 bits).
inline constexpr uint64_t kSplitMixGamma = 0x9E3779B97F4A7C15ULL;

/// SplitMix64 finalizer: a bijective 64-bit mixer with full avalanche.
AVSL_EXPORT uint64_t Mix64(uint64_t x);

/// One SplitMix64 output for state `x`: Mix64(x + gamma).
inline uint64_t SplitMix64(uint64_t x) { return Mix64(x + kSplitMixGamma); }

/// Combines a running hash with one more 64-bit word (order-sensitive).
AVSL_EXPORT uint64_t HashCombine(uint64_t h, uint64_t v);

/// A stateless-by-construction generator: draw n returns Mix64(key + n * golden), so two generators with
/// the same key produce the same sequence whatever else has been drawn elsewhere.
class AVSL_EXPORT CounterRng {
 public:
  /// `key` should come from KeyFor(); equal keys give equal sequences.
  explicit CounterRng(uint64_t key) : key_(key) {}

  /// Builds the key of one independent stream of one sample.
  static uint64_t KeyFor(uint64_t seed, uint64_t split, uint64_t epoch, uint64_t index, uint64_t stream);

  /// Next raw 64-bit word.
  uint64_t NextU64();
  /// Uniform in [0, 1) with 53 random bits.
  double Uniform();
  /// Uniform in [lo, hi).
  double Uniform(double lo, double hi);
  /// Uniform integer in [0, n) for n >= 1 (Lemire's multiply-shift with rejection; exact, unbiased).
  uint64_t UniformInt(uint64_t n);
  /// Standard normal via Box-Muller (uses std::log/std::sqrt/std::cos; the spare value is cached).
  double Normal();
  /// True with probability p.
  bool Bernoulli(double p);

  /// Number of 64-bit words drawn so far (for tests).
  uint64_t counter() const { return counter_; }

 private:
  uint64_t key_;
  uint64_t counter_ = 0;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace avsl
