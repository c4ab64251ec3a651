// Counter-based random numbers for the synthetic benchmark.
//
// Every random draw of the generator is a pure function of (seed, split, epoch, index, stream, counter),
// so a scene can be produced on any thread, in any order, on any platform, and come out the same. The
// integer stream is SplitMix64 mixing (exact 64-bit integer arithmetic); the uniform transform uses only
// IEEE-754 basic operations. Standard-library distributions are not used because their algorithms are
// implementation-defined (libstdc++ and libc++ give different numbers for the same engine).
#pragma once

#include <cstdint>

namespace avsl {
namespace synth {

/// SplitMix64 finalizer: a bijective 64-bit mixer with full avalanche.
uint64_t Mix64(uint64_t x);

/// Combines a running hash with one more 64-bit word (order-sensitive).
uint64_t HashCombine(uint64_t h, uint64_t v);

/// A stateless-by-construction generator: draw n returns Mix64(key + n * golden), so two generators with
/// the same key produce the same sequence whatever else has been drawn elsewhere.
class CounterRng {
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

}  // namespace synth
}  // namespace avsl
