// Percentile-bootstrap confidence intervals of the summary metrics over the test samples, so that the difference
// between two rows of a results table can be judged (two methods whose intervals overlap widely are not told apart
// by that test set).
#pragma once

#include <cstdint>
#include <vector>

#include "avsl/core/eval_result.h"

namespace avsl::metrics {

struct BootstrapSpec {
  int resamples = 1000;  ///< 0: no intervals
  uint64_t seed = 0;     ///< fixed, so the same records always give the same intervals
  double level = 0.95;   ///< central interval: the (1 - level)/2 and (1 + level)/2 percentiles
  int threads = 0;       ///< resamples scored in parallel (0: every hardware thread); same intervals for any count
};

struct MetricInterval {
  double lo;  ///< NaN when the metric is undefined in every resample (LocAcc without sounding samples)
  double hi;
};

/// One interval per entry of MetricFields() (same order), for the overall MetricSet of `samples` (what
/// ComputeMetricSet gives for all of them). Each resample draws, with replacement, as many sounding samples from the
/// sounding ones and as many silent from the silent ones (stratified: every resample has the test set's mix, which
/// AP and max-F1 depend on). Indices come from std::mt19937_64(seed) modulo the stratum size, so the intervals are
/// the same on every platform. A percentile is numpy's default ("linear") over the resamples where the metric is
/// defined. Cost: `resamples` × ComputeMetricSet without its sort (the resamples are laid out in confidence order),
/// spread over `threads`.
std::vector<MetricInterval> BootstrapIntervals(const std::vector<SampleRecord>& samples, double ciou_threshold,
                                               const BootstrapSpec& spec);

}  // namespace avsl::metrics
