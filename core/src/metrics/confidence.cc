#include "avsl/metrics/confidence.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace avsl::metrics {

double TopFractionMean(const Map2D& map, double fraction) {
  const int64_t n = static_cast<int64_t>(map.values.size());
  if (n == 0) return 0.0;
  int64_t count = static_cast<int64_t>(std::ceil(static_cast<double>(n) * fraction));
  count = std::min<int64_t>(std::max<int64_t>(count, 1), n);
  std::vector<double> v = map.values;
  // Only the multiset of the top `count` values matters, so a partition suffices.
  std::nth_element(v.begin(), v.begin() + (count - 1), v.end(), std::greater<double>());
  double sum = 0.0;
  for (int64_t i = 0; i < count; ++i) sum += v[i];
  return sum / static_cast<double>(count);
}

}  // namespace avsl::metrics
