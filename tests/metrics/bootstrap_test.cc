// Bootstrap intervals: deterministic for a seed, stratified (AP defined in every resample), and of the width the
// normal approximation predicts for a mean of Bernoulli draws.
#include "avsl/metrics/bootstrap.h"

#include <cmath>

#include <gtest/gtest.h>

#include "avsl/metrics/evaluator.h"
#include "avsl/metrics/metric_fields.h"

namespace avsl::metrics {
namespace {

size_t FieldIndex(const char* name) {
  const std::vector<MetricField>& fields = MetricFields();
  for (size_t i = 0; i < fields.size(); ++i)
    if (std::string(fields[i].name) == name) return i;
  ADD_FAILURE() << name;
  return 0;
}

// n sounding samples, the first `hits` with cIoU 1 (a LocAcc success) and the rest 0; `silent` silent ones.
std::vector<SampleRecord> Records(int n, int hits, int silent) {
  std::vector<SampleRecord> out;
  for (int i = 0; i < n; ++i) {
    SampleRecord r;
    r.key = "s" + std::to_string(i);
    r.sounding = true;
    r.ciou = i < hits ? 1.0 : 0.0;
    r.conf = 0.5 + 0.4 * r.ciou + 0.001 * (i % 7);
    r.pointing_hit = i < hits;
    r.bucket = SizeBucket::kHuge;
    out.push_back(r);
  }
  for (int i = 0; i < silent; ++i) {
    SampleRecord r;
    r.key = "q" + std::to_string(i);
    r.conf = 0.3 + 0.5 * ((i * 37) % 100) / 100.0;
    out.push_back(r);
  }
  return out;
}

TEST(BootstrapTest, LocAccIntervalHasTheWidthOfABernoulliMean) {
  // 400 samples, p = 0.5: the 95 % interval of the mean is about ±1.96·sqrt(p(1-p)/n) = ±0.049.
  const std::vector<SampleRecord> records = Records(400, 200, 100);
  const std::vector<MetricInterval> ci = BootstrapIntervals(records, 0.5, {});
  const MetricInterval& loc = ci[FieldIndex("loc_acc")];
  EXPECT_NEAR(loc.lo, 0.5 - 0.049, 0.012);
  EXPECT_NEAR(loc.hi, 0.5 + 0.049, 0.012);
  // Pointing hits are the same samples here: the same draws give the same interval.
  EXPECT_DOUBLE_EQ(ci[FieldIndex("pointing")].lo, loc.lo);
  EXPECT_DOUBLE_EQ(ci[FieldIndex("pointing")].hi, loc.hi);
  // Stratified: every resample keeps 100 silent samples, so AP is defined and its interval brackets the estimate.
  std::vector<const SampleRecord*> all;
  for (const SampleRecord& r : records) all.push_back(&r);
  const double ap = ComputeMetricSet(all, 0.5).ap;
  EXPECT_LT(ci[FieldIndex("ap")].lo, ap);
  EXPECT_GT(ci[FieldIndex("ap")].hi, ap);
}

TEST(BootstrapTest, TheSameSeedGivesTheSameIntervalsAnotherSeedOthers) {
  const std::vector<SampleRecord> records = Records(60, 25, 20);
  BootstrapSpec spec;
  spec.resamples = 200;
  const std::vector<MetricInterval> a = BootstrapIntervals(records, 0.5, spec);
  const std::vector<MetricInterval> b = BootstrapIntervals(records, 0.5, spec);
  spec.seed = 1;
  const std::vector<MetricInterval> c = BootstrapIntervals(records, 0.5, spec);
  const size_t loc = FieldIndex("mean_ciou");
  EXPECT_EQ(a[loc].lo, b[loc].lo);
  EXPECT_EQ(a[loc].hi, b[loc].hi);
  EXPECT_TRUE(a[loc].lo != c[loc].lo || a[loc].hi != c[loc].hi);
}

TEST(BootstrapTest, UndefinedMetricsHaveNoIntervalAndConstantOnesADegenerateOne) {
  // All sounding, all successes: LocAcc is 1 in every resample. All silent: the localization numbers are undefined
  // (docs/evaluation.md §3.4), so they have no interval, while AP is 0 in every resample.
  const std::vector<MetricInterval> ci = BootstrapIntervals(Records(30, 30, 0), 0.5, {});
  EXPECT_EQ(ci[FieldIndex("loc_acc")].lo, 1.0);
  EXPECT_EQ(ci[FieldIndex("loc_acc")].hi, 1.0);
  const std::vector<MetricInterval> silent = BootstrapIntervals(Records(0, 0, 30), 0.5, {});
  EXPECT_TRUE(std::isnan(silent[FieldIndex("loc_acc")].lo));
  EXPECT_TRUE(std::isnan(silent[FieldIndex("loc_acc")].hi));
  EXPECT_EQ(silent[FieldIndex("ap")].lo, 0.0);
  EXPECT_EQ(silent[FieldIndex("ap")].hi, 0.0);
  BootstrapSpec none;
  none.resamples = 0;
  EXPECT_TRUE(std::isnan(BootstrapIntervals(Records(30, 10, 5), 0.5, none)[FieldIndex("loc_acc")].lo));
  EXPECT_TRUE(std::isnan(BootstrapIntervals({}, 0.5, {})[FieldIndex("loc_acc")].lo));
}

}  // namespace
}  // namespace avsl::metrics
