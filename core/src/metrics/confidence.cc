#include "avsl/metrics/confidence.h"

#include <algorithm>
#include <cmath>

#include "avsl/metrics/select.h"

namespace avsl::metrics {

int64_t TopFractionCount(int64_t n, double fraction) {
  const int64_t count = static_cast<int64_t>(std::ceil(static_cast<double>(n) * fraction));
  return std::min<int64_t>(std::max<int64_t>(count, 1), n);
}

double TopFractionMean(const Map2D& map, double fraction) {
  const int64_t n = static_cast<int64_t>(map.values.size());
  if (n == 0) return 0.0;
  const int64_t count = TopFractionCount(n, fraction);
  // Only the multiset of the top `count` values matters: the smallest of them is found by selection, the values
  // above it are summed in map order and the ties the count still needs are added last, so the result does not
  // depend on how a partition happened to arrange them.
  const double lowest = SelectAscending(map.values.data(), map.values.size(), static_cast<size_t>(n - count));
  int64_t above = 0;
  double sum = 0.0;
  for (double v : map.values) {
    const bool in = v > lowest;
    above += in ? 1 : 0;
    sum += in ? v : 0.0;
  }
  for (int64_t i = above; i < count; ++i) sum += lowest;
  return sum / static_cast<double>(count);
}

}  // namespace avsl::metrics
