// Summary statistics over the cIoUs of sounding samples: LocAcc(γ), the 21-point AUC and mean cIoU
// (EZ-VSL utils.Evaluator, SLAVC EvaluatorFull). Callers pass sounding samples only; silent samples have no
// object to localize.
#pragma once

#include <cstddef>
#include <vector>

namespace avsl::metrics {

/// mean(ciou_i >= γ). NaN for an empty list (as numpy's mean of nothing, and SLAVC's empty subset).
double LocAcc(const std::vector<double>& cious, double gamma = 0.5);

/// sklearn.metrics.auc(x, y) with x_i = 0.05·i and y_i = mean(ciou >= 0.05·i), i = 0..20: the trapezoid
/// Σ (x_{i+1} − x_i)(y_{i+1} + y_i)/2, summed in numpy's pairwise order so that the result matches the
/// reference bit for bit. NaN for an empty list.
double Auc21(const std::vector<double>& cious);

/// numpy.percentile(sorted, q) with its default linear interpolation; `sorted` ascending and not empty.
double Percentile(const std::vector<double>& sorted, double q);

/// Arithmetic mean. NaN for an empty list.
double Mean(const std::vector<double>& values);

/// numpy's pairwise summation (add.reduce on a contiguous float64 array), exposed for tests.
double NumpyPairwiseSum(const double* a, size_t n);

}  // namespace avsl::metrics
