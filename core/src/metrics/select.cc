#include "avsl/metrics/select.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

namespace avsl::metrics {
namespace {

// Unsigned keys in the order of the doubles: negative values flip all bits (their magnitude order reverses),
// non-negative ones set the sign bit. −0.0 is folded onto +0.0 first so that equal values have equal keys.
inline uint64_t OrderedKey(double v) {
  v += 0.0;  // −0.0 + 0.0 is +0.0; every other value is unchanged
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  const uint64_t negative = static_cast<uint64_t>(static_cast<int64_t>(bits) >> 63);  // all ones or zero
  return bits ^ (negative | (uint64_t{1} << 63));
}

inline double FromOrderedKey(uint64_t key) {
  const uint64_t bits = (key >> 63) != 0 ? key & ~(uint64_t{1} << 63) : ~key;
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

constexpr int kDigitBits = 11;
constexpr uint64_t kDigitMask = (uint64_t{1} << kDigitBits) - 1;
// Below this many candidates a partition is cheaper than another histogram.
constexpr size_t kSmall = 64;

}  // namespace

ValueRange MinMaxValues(const double* values, size_t n) {
  double lo[4] = {values[0], values[0], values[0], values[0]};
  double hi[4] = {values[0], values[0], values[0], values[0]};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int l = 0; l < 4; ++l) {
      lo[l] = values[i + l] < lo[l] ? values[i + l] : lo[l];
      hi[l] = values[i + l] > hi[l] ? values[i + l] : hi[l];
    }
  }
  for (; i < n; ++i) {
    lo[0] = values[i] < lo[0] ? values[i] : lo[0];
    hi[0] = values[i] > hi[0] ? values[i] : hi[0];
  }
  return {std::min(std::min(lo[0], lo[1]), std::min(lo[2], lo[3])),
          std::max(std::max(hi[0], hi[1]), std::max(hi[2], hi[3]))};
}

namespace {

using Histogram = std::array<uint32_t, size_t{1} << kDigitBits>;

// The digit holding position *k in `histogram`; *k becomes the position within that digit's keys.
size_t DigitOf(const Histogram& histogram, size_t* k) {
  size_t digit = 0;
  for (; *k >= histogram[digit]; ++digit) *k -= histogram[digit];
  return digit;
}

// Digit by digit below `shift` on candidates that share every higher bit: keep the keys whose digit holds
// position k, and k within them, then a partition of the last few.
double Refine(std::vector<uint64_t>& keys, std::vector<uint64_t>& next, int shift, size_t k) {
  Histogram histogram;
  while (keys.size() > kSmall && shift > 0) {
    shift = std::max(0, shift - kDigitBits);
    histogram.fill(0);
    for (uint64_t key : keys) ++histogram[(key >> shift) & kDigitMask];
    const size_t digit = DigitOf(histogram, &k);
    next.clear();
    for (uint64_t key : keys) {
      if (((key >> shift) & kDigitMask) == digit) next.push_back(key);
    }
    keys.swap(next);
  }
  std::nth_element(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(k), keys.end());
  return FromOrderedKey(keys[k]);
}

// Every key lies between the keys of the smallest and the largest value, so the bits above their highest
// differing bit are common to all and the first digit starts below them. -1: all values are equal.
int FirstShift(const ValueRange& range) {
  const uint64_t differing = OrderedKey(range.lo) ^ OrderedKey(range.hi);
  if (differing == 0) return -1;
  return std::max(0, 64 - __builtin_clzll(differing) - kDigitBits);
}

// Candidate buffers reused per thread (scoring calls the selection from every scoring thread), bound to
// references once, as a thread_local in a shared library costs a call per access.
struct Scratch {
  std::vector<uint64_t> keys[2];
  std::vector<uint64_t> next;
};
Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

}  // namespace

void SelectAscendingPair(const double* values, size_t n, const ValueRange& range, size_t k0, size_t k1, double* v0,
                         double* v1) {
  const int shift = FirstShift(range);
  if (shift < 0) {
    *v0 = *v1 = FromOrderedKey(OrderedKey(range.lo));
    return;
  }
  // The first level reads the doubles directly: keys computed on the fly, nothing written but the candidates.
  Histogram histogram;
  histogram.fill(0);
  for (size_t i = 0; i < n; ++i) ++histogram[(OrderedKey(values[i]) >> shift) & kDigitMask];
  const size_t d0 = DigitOf(histogram, &k0);
  const size_t d1 = DigitOf(histogram, &k1);
  Scratch& scratch = ThreadScratch();
  std::vector<uint64_t>& keys0 = scratch.keys[0];
  std::vector<uint64_t>& keys1 = scratch.keys[1];
  keys0.clear();
  keys1.clear();
  keys0.reserve(histogram[d0]);
  if (d1 != d0) keys1.reserve(histogram[d1]);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t key = OrderedKey(values[i]);
    const size_t digit = (key >> shift) & kDigitMask;
    if (digit == d0) keys0.push_back(key);
    else if (digit == d1) keys1.push_back(key);
  }
  if (d1 == d0 && k1 == k0) {
    *v0 = *v1 = Refine(keys0, scratch.next, shift, k0);
    return;
  }
  if (d1 == d0) keys1 = keys0;
  *v0 = Refine(keys0, scratch.next, shift, k0);
  *v1 = Refine(keys1, scratch.next, shift, k1);
}

double SelectAscending(const double* values, size_t n, size_t k) {
  double v = 0;
  SelectAscendingPair(values, n, MinMaxValues(values, n), k, k, &v, &v);
  return v;
}

}  // namespace avsl::metrics
