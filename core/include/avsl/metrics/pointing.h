// Pointing game: does the map's peak fall on the sounding object?
#pragma once

#include "avsl/core/map2d.h"

namespace avsl::metrics {

/// True when the map's maximum lies where gt > 0. Ties: the first maximum in row-major order is taken
/// (numpy.argmax's convention), so a constant map points at pixel (0, 0). Requires equal sizes.
bool PointingHit(const Map2D& map, const Map2D& gt);

}  // namespace avsl::metrics
