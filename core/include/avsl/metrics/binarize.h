// Turning a continuous localization map into the binary "infer" map that cIoU compares with the GT.
#pragma once

#include <cstdint>
#include <vector>

#include "avsl/core/map2d.h"

namespace avsl::metrics {

/// Index into the ascending sort whose value is the top-k % threshold: floor(n · (1 − k/100)), clamped to
/// [0, n−1]. For k = 50 and n = 224·224 this is 25088, the reference's `int(224*224*0.5)`.
int64_t TopKIndex(int64_t n, double top_percent);

/// The top-k % threshold: element TopKIndex(n, k) of the ascending sort of the map's values (nth_element,
/// so O(n)). Pixels >= it are positive; with ties at the threshold more than k % become positive.
double TopKThreshold(const Map2D& map, double top_percent);

/// infer[i] = map[i] >= threshold (1/0).
std::vector<uint8_t> BinarizeAtLeast(const Map2D& map, double threshold);

/// The reference's relative rule: BinarizeAtLeast(map, TopKThreshold(map, k)). k = 50 is the reference.
std::vector<uint8_t> BinarizeTopK(const Map2D& map, double top_percent);

/// BinarizeTopK(MinMaxNormalize(map), k), the relative rule as the reference applies it, without the normalized
/// copy: min-max normalization is monotone, so the threshold is the normalized value of the raw map's element at
/// TopKIndex, and each pixel is normalized by the same expression as it is compared. Identical output.
std::vector<uint8_t> BinarizeTopKOfMinMax(const Map2D& map, double top_percent);

}  // namespace avsl::metrics
