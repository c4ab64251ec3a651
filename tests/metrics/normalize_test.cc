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

}  // namespace
}  // namespace avsl::metrics
