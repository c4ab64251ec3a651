#include "avsl/metrics/binarize.h"

#include <algorithm>
#include <cmath>

namespace avsl::metrics {

int64_t TopKIndex(int64_t n, double top_percent) {
  if (n <= 0) return 0;
  // 1 − k/100 is exact for k = 50 and k = 25, so the reference index 25088 is reproduced bit-exactly.
  double pos = std::floor(static_cast<double>(n) * (1.0 - top_percent / 100.0));
  int64_t idx = static_cast<int64_t>(pos);
  return std::min<int64_t>(std::max<int64_t>(idx, 0), n - 1);
}

double TopKThreshold(const Map2D& map, double top_percent) {
  std::vector<double> v = map.values;
  if (v.empty()) return 0.0;
  const int64_t idx = TopKIndex(static_cast<int64_t>(v.size()), top_percent);
  std::nth_element(v.begin(), v.begin() + idx, v.end());
  return v[idx];
}

std::vector<uint8_t> BinarizeAtLeast(const Map2D& map, double threshold) {
  std::vector<uint8_t> infer(map.values.size());
  for (size_t i = 0; i < infer.size(); ++i) infer[i] = map.values[i] >= threshold ? 1 : 0;
  return infer;
}

std::vector<uint8_t> BinarizeTopK(const Map2D& map, double top_percent) {
  return BinarizeAtLeast(map, TopKThreshold(map, top_percent));
}

}  // namespace avsl::metrics
