#include "avsl/metrics/pointing.h"

namespace avsl::metrics {

bool PointingHit(const Map2D& map, const Map2D& gt) {
  if (map.values.empty()) return false;
  size_t best = 0;
  for (size_t i = 1; i < map.values.size(); ++i) {
    if (map.values[i] > map.values[best]) best = i;  // strict: keeps the first maximum
  }
  return gt.values[best] > 0;
}

}  // namespace avsl::metrics
