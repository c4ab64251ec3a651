#include "avsl/metrics/binarize.h"

#include <algorithm>
#include <cmath>

#include "avsl/metrics/select.h"

namespace avsl::metrics {

int64_t TopKIndex(int64_t n, double top_percent) {
  if (n <= 0) return 0;
  // 1 − k/100 is exact for k = 50 and k = 25, so the reference index 25088 is reproduced bit-exactly.
  double pos = std::floor(static_cast<double>(n) * (1.0 - top_percent / 100.0));
  int64_t idx = static_cast<int64_t>(pos);
  return std::min<int64_t>(std::max<int64_t>(idx, 0), n - 1);
}

double TopKThreshold(const Map2D& map, double top_percent) {
  if (map.values.empty()) return 0.0;
  const int64_t idx = TopKIndex(static_cast<int64_t>(map.values.size()), top_percent);
  return SelectAscending(map.values.data(), map.values.size(), static_cast<size_t>(idx));
}

std::vector<uint8_t> BinarizeAtLeast(const Map2D& map, double threshold) {
  std::vector<uint8_t> infer(map.values.size());
  for (size_t i = 0; i < infer.size(); ++i) infer[i] = map.values[i] >= threshold ? 1 : 0;
  return infer;
}

std::vector<uint8_t> BinarizeTopK(const Map2D& map, double top_percent) {
  return BinarizeAtLeast(map, TopKThreshold(map, top_percent));
}

std::vector<uint8_t> BinarizeTopKOfMinMax(const Map2D& map, double top_percent) {
  if (map.values.empty()) return {};
  const auto [lo, hi] = MinMaxValues(map.values.data(), map.values.size());
  if (hi - lo == 0) return BinarizeTopK(map, top_percent);  // MinMaxNormalize leaves a flat map as it is
  const double range = hi - lo;
  const int64_t idx = TopKIndex(static_cast<int64_t>(map.values.size()), top_percent);
  const double threshold = (SelectAscending(map.values.data(), map.values.size(), static_cast<size_t>(idx)) - lo) /
                           range;
  std::vector<uint8_t> infer(map.values.size());
  for (size_t i = 0; i < infer.size(); ++i) infer[i] = (map.values[i] - lo) / range >= threshold ? 1 : 0;
  return infer;
}

}  // namespace avsl::metrics
