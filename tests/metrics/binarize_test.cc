#include "avsl/metrics/binarize.h"

#include <numeric>

#include "gtest/gtest.h"

namespace avsl::metrics {
namespace {

TEST(BinarizeTest, ReferenceIndexFor224) {
  // int(224*224*0.5) = int(50176*0.5) = 25088.
  EXPECT_EQ(TopKIndex(224 * 224, 50.0), 25088);
  // Top 25 %: floor(50176*0.75) = 37632; top 100 %: 0; top 0 %: clamped to n−1.
  EXPECT_EQ(TopKIndex(224 * 224, 25.0), 37632);
  EXPECT_EQ(TopKIndex(224 * 224, 100.0), 0);
  EXPECT_EQ(TopKIndex(224 * 224, 0.0), 224 * 224 - 1);
  // Odd n: floor(5*0.5) = 2, the upper median of 5 values.
  EXPECT_EQ(TopKIndex(5, 50.0), 2);
}

TEST(BinarizeTest, TopHalfOfDistinctValuesIsExactlyHalf) {
  // 224×224 map with values 0..50175 (a permutation by a stride walk, so order is not sorted).
  Map2D m(224, 224);
  for (int i = 0; i < 224 * 224; ++i) m.values[(static_cast<int64_t>(i) * 7919) % (224 * 224)] = i;
  // Sorted ascending, element 25088 is 25088, so values 25088..50175 (25088 pixels) are positive.
  EXPECT_EQ(TopKThreshold(m, 50.0), 25088.0);
  auto infer = BinarizeTopK(m, 50.0);
  EXPECT_EQ(std::accumulate(infer.begin(), infer.end(), 0), 25088);
}

TEST(BinarizeTest, TiesAtThresholdAreAllPositive) {
  // Values {1,2,2,2,3,4}: sorted index floor(6*0.5)=3 is 2; pred >= 2 keeps 5 of 6 (more than half).
  Map2D m(2, 3);
  m.values = {2, 4, 1, 2, 3, 2};
  EXPECT_EQ(TopKThreshold(m, 50.0), 2.0);
  EXPECT_EQ(BinarizeTopK(m, 50.0), (std::vector<uint8_t>{1, 1, 0, 1, 1, 1}));
}

TEST(BinarizeTest, ConstantMapIsAllPositive) {
  Map2D m(3, 3, 0.25);
  auto infer = BinarizeTopK(m, 50.0);
  EXPECT_EQ(std::accumulate(infer.begin(), infer.end(), 0), 9);
}

TEST(BinarizeTest, AbsoluteThresholdIsInclusive) {
  Map2D m(1, 4);
  m.values = {0.49, 0.5, 0.51, 0.0};
  EXPECT_EQ(BinarizeAtLeast(m, 0.5), (std::vector<uint8_t>{0, 1, 1, 0}));
  EXPECT_EQ(BinarizeAtLeast(m, 0.6), (std::vector<uint8_t>{0, 0, 0, 0}));
}

TEST(BinarizeTest, TopQuarter) {
  // 8 values 0..7: index floor(8*0.75) = 6 -> threshold 6 -> values 6,7 positive.
  Map2D m(2, 4);
  m.values = {7, 0, 6, 1, 5, 2, 4, 3};
  EXPECT_EQ(BinarizeTopK(m, 25.0), (std::vector<uint8_t>{1, 0, 1, 0, 0, 0, 0, 0}));
}

}  // namespace
}  // namespace avsl::metrics
