// Object-size buckets: the enum and its rule are SDK value types (avsl/core/eval_result.h); this header
// adds the GT area they are computed from and keeps the metrics:: spelling.
#pragma once

#include "avsl/core/eval_result.h"
#include "avsl/core/map2d.h"

namespace avsl::metrics {

using ::avsl::BucketForArea;
using ::avsl::BucketName;
using ::avsl::kNumSizeBuckets;
using ::avsl::SizeBucket;

/// Σgt.
double GtArea(const Map2D& gt);

}  // namespace avsl::metrics
