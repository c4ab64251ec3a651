#include "avsl/metrics/pointing.h"

#include "gtest/gtest.h"

namespace avsl::metrics {
namespace {

TEST(PointingTest, PeakInsideAndOutside) {
  Map2D gt(2, 2);
  gt.values = {0, 0.5, 0, 0};  // only (0,1) is GT (a single-annotator Flickr pixel counts)
  Map2D in(2, 2);
  in.values = {0.1, 0.9, 0.2, 0.3};
  EXPECT_TRUE(PointingHit(in, gt));
  Map2D out(2, 2);
  out.values = {0.1, 0.2, 0.9, 0.3};
  EXPECT_FALSE(PointingHit(out, gt));
}

TEST(PointingTest, TiesTakeFirstRowMajorMaximum) {
  Map2D gt(2, 2);
  gt.values = {0, 1, 0, 0};
  Map2D tie(2, 2);
  tie.values = {0.5, 0.9, 0.9, 0.1};  // maxima at index 1 and 2; first is 1 (in GT)
  EXPECT_TRUE(PointingHit(tie, gt));
  Map2D tie2(2, 2);
  tie2.values = {0.9, 0.9, 0.1, 0.1};  // first maximum at index 0 (not GT) although index 1 is GT
  EXPECT_FALSE(PointingHit(tie2, gt));
  // Constant map points at (0,0).
  EXPECT_FALSE(PointingHit(Map2D(2, 2, 0.3), gt));
  Map2D gt0(2, 2);
  gt0.values = {1, 0, 0, 0};
  EXPECT_TRUE(PointingHit(Map2D(2, 2, 0.3), gt0));
}

TEST(PointingTest, AllZeroGtNeverHits) { EXPECT_FALSE(PointingHit(Map2D(3, 3, 1.0), Map2D(3, 3))); }

}  // namespace
}  // namespace avsl::metrics
