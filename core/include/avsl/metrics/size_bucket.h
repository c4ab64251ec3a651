// Object-size buckets of SLAVC's finalize_stats, from the GT area in 224×224 pixels.
#pragma once

#include <string>

#include "avsl/core/map2d.h"

namespace avsl::metrics {

enum class SizeBucket { kSmall = 0, kMedium = 1, kLarge = 2, kHuge = 3 };
inline constexpr int kNumSizeBuckets = 4;

/// area < 32² small, < 96² medium, < 144² large, else huge (SLAVC: min <= area < max). The area is Σgt, so a
/// Flickr pixel covered by one annotator counts 0.5. An all-zero GT (area 0) is small, as in SLAVC.
SizeBucket BucketForArea(double area);

/// Σgt.
double GtArea(const Map2D& gt);

/// "small", "medium", "large", "huge".
const char* BucketName(SizeBucket b);

}  // namespace avsl::metrics
