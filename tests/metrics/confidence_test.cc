#include "avsl/metrics/confidence.h"

#include "gtest/gtest.h"

namespace avsl::metrics {
namespace {

TEST(ConfidenceTest, MeanOfTopQuarterHandComputed) {
  // 8 values; n//4 = 2 largest are 0.9 and 0.7 -> (0.9+0.7)/2 = 0.8.
  Map2D m(2, 4);
  m.values = {0.1, 0.9, 0.3, 0.2, 0.7, 0.0, 0.5, 0.4};
  EXPECT_DOUBLE_EQ(SlavcConfidence(m), 0.8);
}

TEST(ConfidenceTest, CountIsCeilLikePythonNegativeFloorDivision) {
  // n = 5: Python −5//4 = −2, so the top 2 values (5 and 4) are averaged: 4.5.
  Map2D m(1, 5);
  m.values = {1, 5, 2, 4, 3};
  EXPECT_DOUBLE_EQ(TopFractionMean(m, 0.25), 4.5);
}

TEST(ConfidenceTest, FullSizeMapUsesTwelveThousandFiveHundredFortyFourPixels) {
  // 224×224 with values = pixel index: the top 12544 are 37632..50175, mean (37632+50175)/2 = 43903.5.
  Map2D m(224, 224);
  for (int i = 0; i < 224 * 224; ++i) m.values[i] = i;
  EXPECT_DOUBLE_EQ(SlavcConfidence(m), 43903.5);
}

TEST(ConfidenceTest, TiesAndConstantMap) {
  Map2D c(4, 4, 0.3);
  EXPECT_DOUBLE_EQ(SlavcConfidence(c), 0.3);
  Map2D t(1, 4);
  t.values = {1, 1, 1, 0};  // top 1 of 4: 1
  EXPECT_DOUBLE_EQ(SlavcConfidence(t), 1.0);
  EXPECT_EQ(TopFractionMean(Map2D(), 0.25), 0.0);
}

}  // namespace
}  // namespace avsl::metrics
