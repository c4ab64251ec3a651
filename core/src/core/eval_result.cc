#include "avsl/core/eval_result.h"

namespace avsl {

SizeBucket BucketForArea(double area) {
  if (area < 32.0 * 32.0) return SizeBucket::kSmall;
  if (area < 96.0 * 96.0) return SizeBucket::kMedium;
  if (area < 144.0 * 144.0) return SizeBucket::kLarge;
  return SizeBucket::kHuge;
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

}  // namespace avsl
