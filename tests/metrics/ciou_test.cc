#include "avsl/metrics/ciou.h"

#include "gtest/gtest.h"

namespace avsl::metrics {
namespace {

TEST(CiouTest, SoftGroundTruthHandComputed) {
  // gt   = [1, 0.5, 0.5, 0, 0, 0]; infer = [1, 1, 0, 1, 0, 0]
  // Σ(infer·gt) = 1 + 0.5 = 1.5; Σgt = 2; Σ(infer·[gt==0]) = 1 (the 4th pixel)
  // cIoU = 1.5 / (2 + 1) = 0.5.
  Map2D gt(2, 3);
  gt.values = {1, 0.5, 0.5, 0, 0, 0};
  EXPECT_DOUBLE_EQ(Ciou({1, 1, 0, 1, 0, 0}, gt), 0.5);
}

TEST(CiouTest, PerfectBinaryMatchIsOne) {
  Map2D gt(1, 4);
  gt.values = {0, 1, 1, 0};
  EXPECT_DOUBLE_EQ(Ciou({0, 1, 1, 0}, gt), 1.0);
}

TEST(CiouTest, MissingHalfTheGtIsNotPenalisedBeyondIntersection) {
  // Σ(infer·gt)=1; Σgt=2; no FP pixels -> 1/2.
  Map2D gt(1, 4);
  gt.values = {0, 1, 1, 0};
  EXPECT_DOUBLE_EQ(Ciou({0, 1, 0, 0}, gt), 0.5);
}

TEST(CiouTest, AllZeroGtWithPredictionIsZero) {
  // Reference: 0 / (0 + Σinfer) = 0 (the two all-zero VGG-SS clips; also every silent sample).
  Map2D gt(1, 4);
  EXPECT_DOUBLE_EQ(Ciou({1, 1, 0, 0}, gt), 0.0);
}

TEST(CiouTest, AllZeroGtAndEmptyPredictionIsZeroNotNan) {
  // Reference: 0/0 = NaN (only reachable under an absolute threshold); documented as 0 here.
  Map2D gt(1, 4);
  EXPECT_EQ(Ciou({0, 0, 0, 0}, gt), 0.0);
}

}  // namespace
}  // namespace avsl::metrics
