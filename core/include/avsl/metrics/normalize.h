// Per-map value normalizations applied before binarization (reference_spec §1.4).
#pragma once

#include "avsl/core/map2d.h"

namespace avsl::metrics {

/// utils.normalize_img: (v − min)/(max − min); the map is returned unchanged when max == min.
Map2D MinMaxNormalize(const Map2D& map);

/// SLAVC's fixed-range normalization: (v − (−1/τ)) / (1/τ − (−1/τ)), mapping the theoretical logit range
/// [−1/τ, 1/τ] of a cosine/τ map onto [0, 1]. Values outside (bicubic overshoot) are not clipped.
Map2D FixedRangeNormalize(const Map2D& map, double tau);

}  // namespace avsl::metrics
