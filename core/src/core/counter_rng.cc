#include "avsl/core/counter_rng.h"

#include <cmath>

namespace avsl {
namespace {
constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;
constexpr double kTwoPi = 6.283185307179586476925286766559;
}  // namespace

uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x;
}

uint64_t HashCombine(uint64_t h, uint64_t v) {
  // Mixing after each word makes (a, b) and (b, a) hash differently.
  return Mix64(h ^ Mix64(v + kGolden));
}

uint64_t CounterRng::KeyFor(uint64_t seed, uint64_t split, uint64_t epoch, uint64_t index, uint64_t stream) {
  uint64_t h = Mix64(seed ^ 0x6176736C73796E74ULL);  // "avslsynt"
  h = HashCombine(h, split);
  h = HashCombine(h, epoch);
  h = HashCombine(h, index);
  h = HashCombine(h, stream);
  return h;
}

uint64_t CounterRng::NextU64() {
  ++counter_;
  return Mix64(key_ + counter_ * kGolden);
}

double CounterRng::Uniform() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }

double CounterRng::Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }

uint64_t CounterRng::UniformInt(uint64_t n) {
  if (n <= 1) return 0;
  // Lemire (2019): the high word of a 64x64 product, rejecting the few low words that would bias it.
  unsigned __int128 m = static_cast<unsigned __int128>(NextU64()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(NextU64()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

double CounterRng::Normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  // 1 - U is in (0, 1], so the log is finite.
  const double u1 = 1.0 - Uniform();
  const double u2 = Uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  spare_ = r * std::sin(kTwoPi * u2);
  has_spare_ = true;
  return r * std::cos(kTwoPi * u2);
}

bool CounterRng::Bernoulli(double p) { return Uniform() < p; }

}  // namespace avsl
