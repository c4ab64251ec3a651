#include "avsl/metrics/pointing.h"

namespace avsl::metrics {

size_t PeakIndex(const Map2D& map) {
  size_t best = 0;
  for (size_t i = 1; i < map.values.size(); ++i) {
    if (map.values[i] > map.values[best]) best = i;  // strict: keeps the first maximum
  }
  return best;
}

bool PointingHit(const Map2D& map, const Map2D& gt) {
  if (map.values.empty()) return false;
  return gt.values[PeakIndex(map)] > 0;
}

}  // namespace avsl::metrics
