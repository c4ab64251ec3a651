// Bootstrap intervals: deterministic for a seed, stratified (AP defined in every resample), and of the width the
// normal approximation predicts for a mean of Bernoulli draws.
#include "avsl/metrics/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <random>

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

// The interval definition, written the plain way: each resample's records in draw order through
// ComputeMetricSet, which sorts them by confidence itself; numpy's linear percentile of the finite values.
std::vector<MetricInterval> DefinitionalIntervals(const std::vector<SampleRecord>& samples, const BootstrapSpec& spec) {
  std::vector<const SampleRecord*> sounding, silent;
  for (const SampleRecord& r : samples) (r.sounding ? sounding : silent).push_back(&r);
  std::mt19937_64 rng(spec.seed);
  const std::vector<MetricField>& fields = MetricFields();
  std::vector<std::vector<double>> values(fields.size());
  for (int b = 0; b < spec.resamples; ++b) {
    std::vector<const SampleRecord*> resample;
    for (const std::vector<const SampleRecord*>* stratum : {&sounding, &silent}) {
      for (size_t k = 0; k < stratum->size(); ++k) resample.push_back((*stratum)[rng() % stratum->size()]);
    }
    const MetricSet m = ComputeMetricSet(resample, 0.5);
    for (size_t f = 0; f < fields.size(); ++f) {
      if (std::isfinite(m.*fields[f].member)) values[f].push_back(m.*fields[f].member);
    }
  }
  const double tail = 100.0 * (1.0 - spec.level) / 2.0;  // the (1 - level)/2 percentile, computed as documented
  std::vector<MetricInterval> out;
  for (std::vector<double>& v : values) {
    std::sort(v.begin(), v.end());
    auto at = [&](double q) {
      const double pos = q / 100.0 * static_cast<double>(v.size() - 1);
      const size_t lo = static_cast<size_t>(std::floor(pos)), hi = std::min(lo + 1, v.size() - 1);
      return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
    };
    out.push_back(v.empty() ? MetricInterval{NAN, NAN} : MetricInterval{at(tail), at(100.0 - tail)});
  }
  return out;
}

TEST(BootstrapTest, FastPathEqualsTheDefinitionBitForBitForAnyThreadCount) {
  // Confidences with ties (AP walks tie groups) and cIoUs that vary (mean cIoU is summed in draw order).
  std::vector<SampleRecord> records = Records(150, 70, 90);
  for (size_t i = 0; i < records.size(); ++i) {
    records[i].conf = static_cast<double>((i * 7919) % 23) / 23.0;
    if (records[i].sounding) records[i].ciou = static_cast<double>((i * 31) % 17) / 16.0;
  }
  BootstrapSpec spec;
  spec.resamples = 150;  // more than one block of parallel resamples
  const std::vector<MetricInterval> expected = DefinitionalIntervals(records, spec);
  for (int threads : {1, 2, 5}) {
    spec.threads = threads;
    const std::vector<MetricInterval> got = BootstrapIntervals(records, 0.5, spec);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t f = 0; f < got.size(); ++f) {
      EXPECT_EQ(got[f].lo, expected[f].lo) << MetricFields()[f].name << " threads=" << threads;
      EXPECT_EQ(got[f].hi, expected[f].hi) << MetricFields()[f].name << " threads=" << threads;
    }
  }
}

}  // namespace
}  // namespace avsl::metrics
