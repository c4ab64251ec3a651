#include "avsl/core/counter_rng.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace avsl {
namespace synth {
namespace {

TEST(CounterRngTest, MatchesPublishedSplitMix64Outputs) {
  // SplitMix64 seeded with 0 outputs Mix64(1*golden), Mix64(2*golden), ... (Vigna's reference sequence):
  // 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F.
  CounterRng rng(0);
  EXPECT_EQ(rng.NextU64(), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(rng.NextU64(), 0x6E789E6AA1B965F4ULL);
  EXPECT_EQ(rng.NextU64(), 0x06C45D188009454FULL);
  EXPECT_EQ(rng.counter(), 3u);
}

TEST(CounterRngTest, KeysSeparateEveryField) {
  const uint64_t base = CounterRng::KeyFor(1, 2, 3, 4, 5);
  EXPECT_EQ(base, CounterRng::KeyFor(1, 2, 3, 4, 5));
  EXPECT_NE(base, CounterRng::KeyFor(0, 2, 3, 4, 5));
  EXPECT_NE(base, CounterRng::KeyFor(1, 0, 3, 4, 5));
  EXPECT_NE(base, CounterRng::KeyFor(1, 2, 0, 4, 5));
  EXPECT_NE(base, CounterRng::KeyFor(1, 2, 3, 0, 5));
  EXPECT_NE(base, CounterRng::KeyFor(1, 2, 3, 4, 0));
  // Swapping two fields must not collide (the combine is order-sensitive).
  EXPECT_NE(CounterRng::KeyFor(1, 2, 3, 4, 5), CounterRng::KeyFor(1, 2, 4, 3, 5));
}

TEST(CounterRngTest, UniformIsInUnitIntervalWithRightMoments) {
  CounterRng rng(CounterRng::KeyFor(7, 0, 0, 0, 0));
  const int n = 200000;
  double sum = 0.0, sum2 = 0.0;
  for (int i = 0; i < n; ++i) {
    const double u = rng.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum2 += u * u;
  }
  // U(0,1): mean 1/2, variance 1/12 = 0.08333; standard error of the mean sqrt(1/12/2e5) = 6.5e-4.
  EXPECT_NEAR(sum / n, 0.5, 0.004);
  EXPECT_NEAR(sum2 / n - (sum / n) * (sum / n), 1.0 / 12.0, 0.002);
}

TEST(CounterRngTest, UniformIntIsUnbiasedAndInRange) {
  CounterRng rng(CounterRng::KeyFor(3, 1, 4, 1, 5));
  const int k = 7, n = 70000;
  std::vector<int> counts(k, 0);
  for (int i = 0; i < n; ++i) {
    const uint64_t v = rng.UniformInt(k);
    ASSERT_LT(v, static_cast<uint64_t>(k));
    ++counts[v];
  }
  // Chi-square with 6 degrees of freedom; the 99.9 % quantile is 22.46.
  double chi2 = 0.0;
  for (int c : counts) chi2 += (c - 10000.0) * (c - 10000.0) / 10000.0;
  EXPECT_LT(chi2, 22.46);
  EXPECT_EQ(rng.UniformInt(1), 0u);
  EXPECT_EQ(rng.UniformInt(0), 0u);
}

TEST(CounterRngTest, NormalHasZeroMeanUnitVariance) {
  CounterRng rng(CounterRng::KeyFor(11, 0, 0, 0, 0));
  const int n = 100000;
  double sum = 0.0, sum2 = 0.0;
  for (int i = 0; i < n; ++i) {
    const double z = rng.Normal();
    ASSERT_TRUE(std::isfinite(z));
    sum += z;
    sum2 += z * z;
  }
  // Standard errors: mean 1/sqrt(1e5) = 0.0032, variance sqrt(2/1e5) = 0.0045; tolerances are ~5 sigma.
  EXPECT_NEAR(sum / n, 0.0, 0.016);
  EXPECT_NEAR(sum2 / n, 1.0, 0.025);
}

TEST(CounterRngTest, SequenceDependsOnlyOnKey) {
  CounterRng a(42), b(42);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(a.NextU64(), b.NextU64());
  CounterRng c(43);
  EXPECT_NE(CounterRng(42).NextU64(), c.NextU64());
}

}  // namespace
}  // namespace synth
}  // namespace avsl
