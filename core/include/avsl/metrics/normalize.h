// Per-map value normalizations applied before binarization (EZ-VSL/SLAVC train.py and test.py `validate`).
#pragma once

#include "avsl/core/map2d.h"

namespace avsl::metrics {

/// utils.normalize_img: (v − min)/(max − min); the map is returned unchanged when max == min.
Map2D MinMaxNormalize(const Map2D& map);

}  // namespace avsl::metrics
