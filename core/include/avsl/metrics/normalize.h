// Per-map value normalizations applied before binarization (reference_spec §1.4).
#pragma once

#include "avsl/core/map2d.h"

namespace avsl::metrics {

/// utils.normalize_img: (v − min)/(max − min); the map is returned unchanged when max == min.
Map2D MinMaxNormalize(const Map2D& map);

}  // namespace avsl::metrics
