#include "avsl/metrics/localization.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace avsl::metrics {
namespace {

TEST(LocalizationTest, LocAccInclusiveThreshold) {
  // cIoUs {0.2, 0.5, 0.7, 0.49}: >= 0.5 are 0.5 and 0.7 -> 2/4.
  EXPECT_DOUBLE_EQ(LocAcc({0.2, 0.5, 0.7, 0.49}, 0.5), 0.5);
  // γ = 0.3: 0.5, 0.7 and 0.49 pass -> 3/4.
  EXPECT_DOUBLE_EQ(LocAcc({0.2, 0.5, 0.7, 0.49}, 0.3), 0.75);
  EXPECT_TRUE(std::isnan(LocAcc({}, 0.5)));
}

TEST(LocalizationTest, AucHandComputedTwoSamples) {
  // cIoUs {0, 1}: y_0 = 1 (both >= 0), y_i = 0.5 for i = 1..20 (only 1.0 >= 0.05i; 1.0 >= 0.05*20 = 1.0).
  // Trapezoid: first interval 0.05·(1+0.5)/2 = 0.0375, then 19 intervals of 0.05·0.5 = 0.025 -> 0.475;
  // total 0.5125.
  EXPECT_NEAR(Auc21({0.0, 1.0}), 0.5125, 1e-15);
}

TEST(LocalizationTest, AucOfPerfectAndZero) {
  // All cIoU = 1: y = 1 everywhere -> area 1. All cIoU = 0: y_0 = 1, rest 0 -> 0.05·1/2 = 0.025.
  EXPECT_NEAR(Auc21({1.0, 1.0}), 1.0, 1e-15);
  EXPECT_NEAR(Auc21({0.0}), 0.025, 1e-15);
}

TEST(LocalizationTest, AucFloatingGridMatchesPython) {
  // 0.05*3 = 0.15000000000000002 in double, so a cIoU of exactly 0.15 does NOT pass step 3 (as in Python):
  // y = [1,1,1,0,...]: area = 0.05·(1+1)/2·2 + 0.05·(1+0)/2 = 0.1 + 0.025 = 0.125.
  EXPECT_NEAR(Auc21({0.15}), 0.125, 1e-15);
}

TEST(LocalizationTest, AucMatchesIndependentTrapezoidRandomized) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  for (int rep = 0; rep < 20; ++rep) {
    std::vector<double> c(1 + rep * 13);
    for (double& v : c) v = u(rng);
    // Independent: integrate the step curve y(γ) by the trapezoid rule written out directly.
    double area = 0;
    double prev = 1.0;  // y at γ = 0 is always 1
    for (int i = 1; i <= 20; ++i) {
      int hits = 0;
      for (double v : c) hits += v >= i * 0.05;
      double y = static_cast<double>(hits) / c.size();
      area += 0.05 * (prev + y) / 2;
      prev = y;
    }
    EXPECT_NEAR(Auc21(c), area, 1e-12);
  }
}

TEST(LocalizationTest, PairwiseSumMatchesPlainSumClosely) {
  std::vector<double> v(1000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 1.0 / (i + 1);
  double plain = 0;
  for (double x : v) plain += x;
  EXPECT_NEAR(NumpyPairwiseSum(v.data(), v.size()), plain, 1e-12);
  EXPECT_DOUBLE_EQ(Mean({1, 2, 3, 4}), 2.5);
  EXPECT_TRUE(std::isnan(Mean({})));
}

}  // namespace
}  // namespace avsl::metrics
