#include "avsl/metrics/size_bucket.h"

#include <string>

#include "gtest/gtest.h"

namespace avsl::metrics {
namespace {

TEST(SizeBucketTest, BoundariesAreHalfOpen) {
  // 32² = 1024, 96² = 9216, 144² = 20736; SLAVC uses min <= area < max.
  EXPECT_EQ(BucketForArea(0), SizeBucket::kSmall);  // all-zero GT on a sounding sample
  EXPECT_EQ(BucketForArea(1023.5), SizeBucket::kSmall);
  EXPECT_EQ(BucketForArea(1024), SizeBucket::kMedium);
  EXPECT_EQ(BucketForArea(9215), SizeBucket::kMedium);
  EXPECT_EQ(BucketForArea(9216), SizeBucket::kLarge);
  EXPECT_EQ(BucketForArea(20735.5), SizeBucket::kLarge);
  EXPECT_EQ(BucketForArea(20736), SizeBucket::kHuge);
  EXPECT_EQ(BucketForArea(224.0 * 224.0), SizeBucket::kHuge);
}

TEST(SizeBucketTest, AreaIsSoftSum) {
  // A 40×40 box seen by one Flickr annotator has value 0.5: area 800 -> small, although 1600 pixels.
  Map2D gt(224, 224);
  for (int y = 0; y < 40; ++y)
    for (int x = 0; x < 40; ++x) gt.at(y, x) = 0.5;
  EXPECT_DOUBLE_EQ(GtArea(gt), 800.0);
  EXPECT_EQ(BucketForArea(GtArea(gt)), SizeBucket::kSmall);
  EXPECT_EQ(std::string(BucketName(SizeBucket::kHuge)), "huge");
}

}  // namespace
}  // namespace avsl::metrics
