#include "avsl/metrics/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "avsl/core/parallel_for.h"
#include "avsl/metrics/detection.h"
#include "avsl/metrics/evaluator.h"
#include "avsl/metrics/localization.h"
#include "avsl/metrics/metric_fields.h"

namespace avsl::metrics {
std::vector<MetricInterval> BootstrapIntervals(const std::vector<SampleRecord>& samples, double ciou_threshold,
                                               const BootstrapSpec& spec) {
  const std::vector<MetricField>& fields = MetricFields();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<MetricInterval> out(fields.size(), MetricInterval{nan, nan});
  if (spec.resamples <= 0 || samples.empty()) return out;
  std::vector<uint32_t> sounding, silent;  // indices into samples
  for (uint32_t i = 0; i < samples.size(); ++i) (samples[i].sounding ? sounding : silent).push_back(i);
  // Each sample's place in the ascending order of confidence: a resample's detection samples are laid out in that
  // order from its draw counts, so its three detection metrics need no sort.
  std::vector<uint32_t> by_conf(samples.size());
  std::iota(by_conf.begin(), by_conf.end(), 0);
  std::stable_sort(by_conf.begin(), by_conf.end(),
                   [&](uint32_t a, uint32_t b) { return samples[a].conf < samples[b].conf; });
  std::vector<uint32_t> rank(samples.size());
  for (uint32_t r = 0; r < by_conf.size(); ++r) rank[by_conf[r]] = r;

  const size_t n = samples.size();
  const size_t resamples = static_cast<size_t>(spec.resamples);
  std::vector<std::vector<double>> per_resample(fields.size(), std::vector<double>(resamples, nan));
  // The draws come from one generator in a fixed order (resample by resample, sounding stratum then silent), as
  // the interval definition says; they are made sequentially in blocks and the blocks' resamples scored in
  // parallel, so the intervals do not depend on the thread count.
  std::mt19937_64 rng(spec.seed);
  constexpr size_t kBlock = 64;
  std::vector<uint32_t> draws;
  for (size_t block = 0; block < resamples; block += kBlock) {
    const size_t count = std::min(kBlock, resamples - block);
    draws.resize(count * n);
    size_t d = 0;
    for (size_t b = 0; b < count; ++b) {
      for (const std::vector<uint32_t>* stratum : {&sounding, &silent}) {
        for (size_t k = 0; k < stratum->size(); ++k) draws[d++] = (*stratum)[rng() % stratum->size()];
      }
    }
    ParallelFor(count, spec.threads, [&](size_t b) {
      const uint32_t* drawn = draws.data() + b * n;
      std::vector<const SampleRecord*> resample(n);
      std::vector<uint32_t> copies(n, 0);  // per rank
      for (size_t i = 0; i < n; ++i) {
        resample[i] = &samples[drawn[i]];
        ++copies[rank[drawn[i]]];
      }
      std::vector<DetectionSample> detection;
      detection.reserve(n);
      for (size_t r = 0; r < n; ++r) {
        const SampleRecord& s = samples[by_conf[r]];
        for (uint32_t c = 0; c < copies[r]; ++c) detection.push_back({s.sounding, s.ciou, s.conf});
      }
      const MetricSet m = ComputeMetricSet(resample, detection, ciou_threshold);
      for (size_t f = 0; f < fields.size(); ++f) per_resample[f][block + b] = m.*fields[f].member;
    });
  }
  const double tail = 100.0 * (1.0 - spec.level) / 2.0;
  for (size_t f = 0; f < fields.size(); ++f) {
    std::vector<double> values;
    for (double v : per_resample[f]) {
      if (std::isfinite(v)) values.push_back(v);
    }
    if (values.empty()) continue;
    std::sort(values.begin(), values.end());
    out[f] = {Percentile(values, tail), Percentile(values, 100.0 - tail)};
  }
  return out;
}

}  // namespace avsl::metrics
