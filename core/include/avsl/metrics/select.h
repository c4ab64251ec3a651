// Order statistics of a map without sorting it: the threshold of the relative binarization and the SLAVC
// confidence each need one element of the ascending order of 50,176 values per sample, which dominated scoring.
#pragma once

#include <cstddef>

namespace avsl::metrics {

struct ValueRange {
  double lo;
  double hi;
};
/// The smallest and largest of values[0..n) (n > 0, no NaN), in four independent lanes: a single min/max chain
/// waits on every comparison. Which zero is returned when both −0.0 and +0.0 are extremes is unspecified.
ValueRange MinMaxValues(const double* values, size_t n);

/// The value at position `k` (0-based) of the ascending sort of values[0..n): what std::nth_element would put
/// there, found by radix selection on the values' order-preserving bit patterns (two or three passes over the
/// data, no copy of the doubles, no data-dependent branches). Exact for any finite doubles; −0.0 and +0.0 are the
/// same value and +0.0 is returned for them. Requires n > 0, k < n and no NaN.
double SelectAscending(const double* values, size_t n, size_t k);

/// SelectAscending for two positions at once, given the values' range (MinMaxValues): one histogram and one
/// candidate pass over the data serve both. Same requirements and results as two SelectAscending calls.
void SelectAscendingPair(const double* values, size_t n, const ValueRange& range, size_t k0, size_t k1, double* v0,
                         double* v1);

}  // namespace avsl::metrics
