// Pointing game: does the map's peak fall on the sounding object?
#pragma once

#include <cstddef>

#include "avsl/core/map2d.h"

namespace avsl::metrics {

/// True when the map's maximum lies where gt > 0. Ties: the first maximum in row-major order is taken
/// (numpy.argmax's convention), so a constant map points at pixel (0, 0). Requires equal sizes.
bool PointingHit(const Map2D& map, const Map2D& gt);

/// Row-major index of the map's first maximum (0 for an empty map): the pixel the pointing game tests.
size_t PeakIndex(const Map2D& map);

}  // namespace avsl::metrics
