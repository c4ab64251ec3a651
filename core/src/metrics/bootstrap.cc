#include "avsl/metrics/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "avsl/metrics/evaluator.h"
#include "avsl/metrics/metric_fields.h"

namespace avsl::metrics {
namespace {

// numpy.percentile(values, q) with its default linear interpolation; `values` sorted ascending, not empty.
double Percentile(const std::vector<double>& values, double q) {
  const double position = q / 100.0 * static_cast<double>(values.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, values.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return values[below] + (values[above] - values[below]) * fraction;
}

}  // namespace

std::vector<MetricInterval> BootstrapIntervals(const std::vector<SampleRecord>& samples, double ciou_threshold,
                                               const BootstrapSpec& spec) {
  const std::vector<MetricField>& fields = MetricFields();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<MetricInterval> out(fields.size(), MetricInterval{nan, nan});
  if (spec.resamples <= 0 || samples.empty()) return out;
  std::vector<const SampleRecord*> sounding, silent;
  for (const SampleRecord& r : samples) (r.sounding ? sounding : silent).push_back(&r);
  std::mt19937_64 rng(spec.seed);
  std::vector<std::vector<double>> values(fields.size());
  std::vector<const SampleRecord*> resample(samples.size());
  for (int b = 0; b < spec.resamples; ++b) {
    size_t i = 0;
    for (const std::vector<const SampleRecord*>* stratum : {&sounding, &silent}) {
      for (size_t k = 0; k < stratum->size(); ++k) resample[i++] = (*stratum)[rng() % stratum->size()];
    }
    const MetricSet m = ComputeMetricSet(resample, ciou_threshold);
    for (size_t f = 0; f < fields.size(); ++f) {
      const double v = m.*fields[f].member;
      if (std::isfinite(v)) values[f].push_back(v);
    }
  }
  const double tail = 100.0 * (1.0 - spec.level) / 2.0;
  for (size_t f = 0; f < fields.size(); ++f) {
    if (values[f].empty()) continue;
    std::sort(values[f].begin(), values[f].end());
    out[f] = {Percentile(values[f], tail), Percentile(values[f], 100.0 - tail)};
  }
  return out;
}

}  // namespace avsl::metrics
