#include "avsl/metrics/normalize.h"

#include "gtest/gtest.h"

namespace avsl::metrics {
namespace {

TEST(NormalizeTest, MinMaxMapsToUnitRange) {
  Map2D m(1, 4);
  m.values = {2.0, 4.0, 3.0, 6.0};
  // min 2, max 6, range 4: (2−2)/4=0, (4−2)/4=0.5, (3−2)/4=0.25, (6−2)/4=1.
  Map2D n = MinMaxNormalize(m);
  EXPECT_EQ(n.values, (std::vector<double>{0.0, 0.5, 0.25, 1.0}));
  EXPECT_EQ(n.height, 1);
  EXPECT_EQ(n.width, 4);
}

TEST(NormalizeTest, MinMaxLeavesConstantMapUnchanged) {
  // normalize_img returns the input when max == min (no division by zero, no 0-fill).
  Map2D m(2, 2, 7.5);
  EXPECT_EQ(MinMaxNormalize(m).values, m.values);
}

TEST(NormalizeTest, FixedRangeWithTauPointZeroThree) {
  // τ = 0.03: 1/τ = 33.333…; scores = (S + 33.33…)/66.66…; S = 0 -> 0.5, S = 1/τ -> 1, S = −1/τ -> 0,
  // S = 10 -> (10 + 33.333…)/66.666… = 0.65.
  Map2D m(1, 4);
  m.values = {0.0, 1.0 / 0.03, -1.0 / 0.03, 10.0};
  Map2D n = FixedRangeNormalize(m, 0.03);
  EXPECT_DOUBLE_EQ(n.values[0], 0.5);
  EXPECT_DOUBLE_EQ(n.values[1], 1.0);
  EXPECT_DOUBLE_EQ(n.values[2], 0.0);
  EXPECT_NEAR(n.values[3], 0.65, 1e-15);
}

TEST(NormalizeTest, FixedRangeDoesNotClipOvershoot) {
  Map2D m(1, 1, 40.0);  // above 1/τ = 33.3: (40 + 33.33)/66.67 = 1.1
  EXPECT_NEAR(FixedRangeNormalize(m, 0.03).values[0], 1.1, 1e-12);
}

}  // namespace
}  // namespace avsl::metrics
