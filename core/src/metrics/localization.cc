#include "avsl/metrics/localization.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace avsl::metrics {

double NumpyPairwiseSum(const double* a, size_t n) {
  // Mirrors numpy/core/src/umath/loops_utils.h.src pairwise_sum (block size 128, 8 accumulators).
  if (n < 8) {
    double res = 0.0;  // numpy starts from -0.0 here; identical for any non-empty sum that matters to us.
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return NumpyPairwiseSum(a, n2) + NumpyPairwiseSum(a + n2, n - n2);
}

double LocAcc(const std::vector<double>& cious, double gamma) {
  if (cious.empty()) return std::numeric_limits<double>::quiet_NaN();
  size_t hits = 0;
  for (double c : cious) hits += c >= gamma ? 1 : 0;
  return static_cast<double>(hits) / static_cast<double>(cious.size());
}

double Auc21(const std::vector<double>& cious) {
  if (cious.empty()) return std::numeric_limits<double>::quiet_NaN();
  double x[21], y[21];
  for (int i = 0; i < 21; ++i) {
    x[i] = 0.05 * i;  // the Python list [0.05*i for i in range(21)], same doubles
    size_t hits = 0;
    for (double c : cious) hits += c >= x[i] ? 1 : 0;
    // np.sum(bool array) / len(list): integer count divided by length.
    y[i] = static_cast<double>(hits) / static_cast<double>(cious.size());
  }
  double terms[20];
  for (int i = 0; i < 20; ++i) terms[i] = (x[i + 1] - x[i]) * (y[i + 1] + y[i]) / 2.0;
  return NumpyPairwiseSum(terms, 20);
}

double Percentile(const std::vector<double>& sorted, double q) {
  const double position = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return sorted[below] + (sorted[above] - sorted[below]) * fraction;
}

double Mean(const std::vector<double>& values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  return NumpyPairwiseSum(values.data(), values.size()) / static_cast<double>(values.size());
}

}  // namespace avsl::metrics
