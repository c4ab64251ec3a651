#include "avsl/metrics/size_bucket.h"

namespace avsl::metrics {

double GtArea(const Map2D& gt) {
  double s = 0.0;
  for (double v : gt.values) s += v;
  return s;
}

}  // namespace avsl::metrics
