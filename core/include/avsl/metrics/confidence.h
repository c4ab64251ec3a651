// The per-sample confidence c_i that decides whether a model claims a visible sound source
// (SLAVC test.py::validate; EZ-VSL has none). SLAVC's definition is the default; a method may supply its own
// value instead.
#pragma once

#include <cstdint>

#include "avsl/core/map2d.h"

namespace avsl::metrics {

/// Mean of the largest ceil(n·fraction) values of the map. With fraction = 0.25 this is SLAVC's
/// `np.sort(scores.flatten())[-n//4:].mean()` (Python's −n//4 is −ceil(n/4)), to be applied to the
/// fixed-range-normalized map `scores`, not the min-max normalized prediction. Empty map: 0.
double TopFractionMean(const Map2D& map, double fraction = 0.25);

/// How many values TopFractionMean averages for a map of n values: ceil(n·fraction), at least 1 and at most n.
int64_t TopFractionCount(int64_t n, double fraction);

/// SLAVC's default confidence: TopFractionMean(map, 0.25).
inline double SlavcConfidence(const Map2D& fixed_range_map) { return TopFractionMean(fixed_range_map, 0.25); }

}  // namespace avsl::metrics
