#include "avsl/metrics/size_bucket.h"

namespace avsl::metrics {

SizeBucket BucketForArea(double area) {
  if (area < 32.0 * 32.0) return SizeBucket::kSmall;
  if (area < 96.0 * 96.0) return SizeBucket::kMedium;
  if (area < 144.0 * 144.0) return SizeBucket::kLarge;
  return SizeBucket::kHuge;
}

double GtArea(const Map2D& gt) {
  double s = 0.0;
  for (double v : gt.values) s += v;
  return s;
}

const char* BucketName(SizeBucket b) {
  switch (b) {
    case SizeBucket::kSmall: return "small";
    case SizeBucket::kMedium: return "medium";
    case SizeBucket::kLarge: return "large";
    case SizeBucket::kHuge: return "huge";
  }
  return "unknown";
}

}  // namespace avsl::metrics
