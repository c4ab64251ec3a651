// Selection instead of sorting: SelectAscending must be std::nth_element's value for every position, and the
// metrics built on it (the top-k threshold, the relative binarization, the top-quarter confidence) must give
// what their sort-based definitions give.
#include "avsl/metrics/select.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "avsl/metrics/binarize.h"
#include "avsl/metrics/confidence.h"
#include "avsl/metrics/normalize.h"

namespace avsl::metrics {
namespace {

double ByNthElement(std::vector<double> v, size_t k) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// Maps like real ones and adversarial ones: smooth values in [0, 1), heavy ties, negatives and both zeros,
// huge and tiny magnitudes, a constant map.
std::vector<std::vector<double>> Cases() {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<std::vector<double>> cases;
  for (size_t n : {1, 2, 3, 63, 64, 65, 1000, 50176}) {
    std::vector<double> smooth(n), ties(n), mixed(n);
    for (size_t i = 0; i < n; ++i) {
      smooth[i] = unit(rng);
      ties[i] = std::floor(unit(rng) * 5) / 4;  // five distinct values
      const double u = unit(rng);
      mixed[i] = u < 0.1 ? -0.0 : u < 0.2 ? 0.0 : u < 0.5 ? -std::exp(40 * (u - 0.5)) : std::exp(600 * (u - 0.75));
    }
    cases.push_back(smooth);
    cases.push_back(ties);
    cases.push_back(mixed);
    cases.push_back(std::vector<double>(n, 0.25));
  }
  return cases;
}

TEST(SelectTest, EveryPositionIsNthElementsValue) {
  for (const std::vector<double>& v : Cases()) {
    const size_t n = v.size();
    std::vector<size_t> positions = {0, n / 4, n / 2, n - 1};
    if (n == 50176) positions.push_back(25088);  // the reference's top-50 % index
    for (size_t k : positions) {
      ASSERT_EQ(SelectAscending(v.data(), n, k), ByNthElement(v, k)) << "n=" << n << " k=" << k;
    }
  }
}

TEST(SelectTest, ZerosOfEitherSignAreOneValue) {
  const std::vector<double> v = {-0.0, 0.0, -0.0, 1.0};
  EXPECT_EQ(SelectAscending(v.data(), v.size(), 1), 0.0);
  EXPECT_FALSE(std::signbit(SelectAscending(v.data(), v.size(), 0)));
}

TEST(SelectTest, RelativeBinarizationWithoutTheNormalizedCopyIsIdentical) {
  for (const std::vector<double>& v : Cases()) {
    Map2D map(1, static_cast<int>(v.size()));
    map.values = v;
    for (double k : {50.0, 25.0, 10.0, 100.0}) {
      ASSERT_EQ(BinarizeTopKOfMinMax(map, k), BinarizeTopK(MinMaxNormalize(map), k)) << "n=" << v.size();
    }
  }
}

TEST(SelectTest, TopFractionMeanIsTheMeanOfTheSortedTopValues) {
  for (const std::vector<double>& v : Cases()) {
    Map2D map(1, static_cast<int>(v.size()));
    map.values = v;
    std::vector<double> sorted = v;
    std::sort(sorted.begin(), sorted.end(), std::greater<double>());
    const size_t count = std::max<size_t>(1, static_cast<size_t>(std::ceil(v.size() * 0.25)));
    double sum = 0;
    for (size_t i = 0; i < count; ++i) sum += sorted[i];
    const double expected = sum / static_cast<double>(count);
    // Summation order differs (map order here, descending there): equal up to rounding.
    EXPECT_NEAR(TopFractionMean(map, 0.25), expected, 1e-12 * std::max(1.0, std::abs(expected))) << v.size();
  }
}

}  // namespace
}  // namespace avsl::metrics
