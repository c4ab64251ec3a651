#include "avsl/metrics/ciou.h"

namespace avsl::metrics {

double Ciou(const std::vector<uint8_t>& infer, const Map2D& gt) {
  double inter = 0.0, gt_sum = 0.0, extra = 0.0;
  for (size_t i = 0; i < infer.size(); ++i) {
    const double g = gt.values[i];
    gt_sum += g;
    if (infer[i]) {
      inter += g;
      if (g == 0) extra += 1.0;
    }
  }
  const double denom = gt_sum + extra;
  return denom == 0 ? 0.0 : inter / denom;
}

}  // namespace avsl::metrics
