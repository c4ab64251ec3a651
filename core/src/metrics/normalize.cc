#include "avsl/metrics/normalize.h"

#include <algorithm>

namespace avsl::metrics {

Map2D MinMaxNormalize(const Map2D& map) {
  Map2D out = map;
  if (map.values.empty()) return out;
  auto [mn, mx] = std::minmax_element(map.values.begin(), map.values.end());
  const double lo = *mn, hi = *mx;
  if (hi - lo == 0) return out;
  const double range = hi - lo;
  for (double& v : out.values) v = (v - lo) / range;
  return out;
}

}  // namespace avsl::metrics
