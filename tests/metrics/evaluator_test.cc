#include "avsl/metrics/evaluator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <random>

#include "avsl/metrics/ciou.h"
#include "avsl/metrics/confidence.h"
#include "avsl/metrics/pointing.h"
#include "avsl/metrics/size_bucket.h"
#include "gtest/gtest.h"

namespace avsl::metrics {
namespace {

bool Contains(const absl::Status& s, const std::string& needle) {
  return std::string(s.message()).find(needle) != std::string::npos;
}

// 4×4 map whose values are the row-major index 0..15.
Map2D Ramp4() {
  Map2D m(4, 4);
  for (int i = 0; i < 16; ++i) m.values[i] = i;
  return m;
}

TEST(EvaluatorTest, HandComputedSingleSoundingSample) {
  // Ramp 0..15; top-50 % threshold = sorted[floor(16·0.5)=8] = 8 -> bottom two rows (values 8..15) positive.
  // GT = rows 2..3, columns 0..1 (4 pixels, value 1) -> Σ(infer·gt) = 4, Σgt = 4, FP pixels = 8 − 4 = 4.
  // cIoU = 4/(4+4) = 0.5 -> LocAcc(0.5) = 1. Argmax = pixel 15 at (3,3), not in GT -> pointing 0.
  // conf = mean of top ceil(16/4)=4 values of the map = (12+13+14+15)/4 = 13.5. Area 4 -> small.
  Evaluator ev;
  Map2D gt(4, 4);
  for (int y = 2; y < 4; ++y)
    for (int x = 0; x < 2; ++x) gt.at(y, x) = 1;
  ASSERT_TRUE(ev.Add("a", Ramp4(), gt, std::nullopt, true).ok());
  EvalResult r = ev.Finalize();
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_DOUBLE_EQ(r.samples[0].ciou, 0.5);
  EXPECT_DOUBLE_EQ(r.samples[0].conf, 13.5);
  EXPECT_DOUBLE_EQ(r.samples[0].area, 4);
  EXPECT_EQ(r.samples[0].bucket, SizeBucket::kSmall);
  EXPECT_FALSE(r.samples[0].pointing_hit);
  EXPECT_EQ(r.all.n_sounding, 1);
  EXPECT_EQ(r.all.n_silent, 0);
  EXPECT_DOUBLE_EQ(r.all.loc_acc, 1.0);
  EXPECT_DOUBLE_EQ(r.all.mean_ciou, 0.5);
  EXPECT_DOUBLE_EQ(r.all.pointing, 0.0);
  // Single sample: paper AP = P·R = 1; ref AP has no thresholds -> 0; decile F1 at the only conf -> 1.
  EXPECT_DOUBLE_EQ(r.all.ap, 1.0);
  EXPECT_DOUBLE_EQ(r.all.ap_ref, 0.0);
  EXPECT_DOUBLE_EQ(r.all.max_f1_ref, 1.0);
  // AUC for one cIoU of 0.5: y_i = 1 for i = 0..10 (0.05·10 = 0.5), 0 after: 10·0.05 + 0.05·(1+0)/2 = 0.525.
  EXPECT_NEAR(r.all.auc, 0.525, 1e-15);
  EXPECT_EQ(r.buckets[0].n_sounding, 1);
  EXPECT_EQ(r.buckets[1].n_sounding, 0);
  EXPECT_TRUE(std::isnan(r.buckets[1].loc_acc));
}

TEST(EvaluatorTest, TopKAndAbsoluteModes) {
  Map2D gt(4, 4);
  for (int x = 0; x < 4; ++x) gt.at(3, x) = 1;  // bottom row, values 12..15
  // Top 25 %: threshold = sorted[floor(16·0.75)=12] = 12 -> exactly the bottom row -> cIoU 1.
  EvalProtocol o;
  o.topk_percent = 25;
  Evaluator top(o);
  ASSERT_TRUE(top.Add("k", Ramp4(), gt, std::nullopt, true).ok());
  EXPECT_DOUBLE_EQ(top.Finalize().samples[0].ciou, 1.0);
  // Absolute 14: pixels 14, 15 -> Σ(infer·gt) = 2, Σgt = 4, FP 0 -> 0.5. Pointing hits (15 in GT).
  o = {};
  o.pred_mode = PredMode::kAbsolute;
  o.pred_threshold = 14;
  Evaluator abs(o);
  ASSERT_TRUE(abs.Add("k", Ramp4(), gt, std::nullopt, true).ok());
  EXPECT_DOUBLE_EQ(abs.Finalize().samples[0].ciou, 0.5);
  EXPECT_TRUE(abs.Finalize().samples[0].pointing_hit);
}

TEST(EvaluatorTest, ConstantMapPredictsEverything) {
  // Constant map: min-max leaves it unchanged, threshold = the constant, all 16 pixels positive.
  // GT 4 pixels -> cIoU = 4/(4+12) = 0.25. Pointing picks (0,0), which is in the GT here.
  Map2D gt(4, 4);
  gt.at(0, 0) = gt.at(0, 1) = gt.at(1, 0) = gt.at(1, 1) = 1;
  Evaluator ev;
  ASSERT_TRUE(ev.Add("c", Map2D(4, 4, 0.7), gt, std::nullopt, true).ok());
  auto r = ev.Finalize();
  EXPECT_DOUBLE_EQ(r.samples[0].ciou, 0.25);
  EXPECT_DOUBLE_EQ(r.samples[0].conf, 0.7);
  EXPECT_TRUE(r.samples[0].pointing_hit);
}

TEST(EvaluatorTest, AllZeroGtSoundingSampleCountsAsSmallPositiveWithZeroCiou) {
  Evaluator ev;
  ASSERT_TRUE(ev.Add("z", Ramp4(), Map2D(4, 4), 0.9, true).ok());
  auto r = ev.Finalize();
  EXPECT_EQ(r.samples[0].ciou, 0.0);
  EXPECT_EQ(r.samples[0].bucket, SizeBucket::kSmall);
  EXPECT_EQ(r.all.n_sounding, 1);
  // Confident but mislocalized -> FP; TP = FN = 0 -> R = 1, P = 0 -> paper AP 0.
  EXPECT_DOUBLE_EQ(r.all.ap, 0.0);
}

TEST(EvaluatorTest, SilentSamplesBelongToNoBucketAndCountOnlyInOverallAp) {
  // Sounding hit (conf .6, cIoU 1 with top-25 %), silent with conf .9 (above it) given as an empty GT.
  EvalProtocol o;
  o.topk_percent = 25;
  Evaluator ev(o);
  Map2D gt(4, 4);
  for (int x = 0; x < 4; ++x) gt.at(3, x) = 1;
  ASSERT_TRUE(ev.Add("snd", Ramp4(), gt, 0.6, true).ok());
  ASSERT_TRUE(ev.Add("sil", Ramp4(), Map2D(), 0.9, false).ok());
  auto r = ev.Finalize();
  EXPECT_FALSE(r.samples[1].bucket.has_value());
  EXPECT_EQ(r.all.n_silent, 1);
  // Overall paper AP: δ=.9 -> (P 0, R 0); δ=.6 -> TP 1, FP 1 -> (1/2, 1): AP = 1/2.
  EXPECT_DOUBLE_EQ(r.all.ap, 0.5);
  // Small bucket (area 4) holds only the sounding sample: AP 1, and the silent one is not there.
  EXPECT_EQ(r.buckets[0].n_sounding, 1);
  EXPECT_EQ(r.buckets[0].n_silent, 0);
  EXPECT_DOUBLE_EQ(r.buckets[0].ap, 1.0);
  // Localization numbers ignore the silent sample.
  EXPECT_DOUBLE_EQ(r.all.loc_acc, 1.0);
  EXPECT_DOUBLE_EQ(r.all.mean_ciou, 1.0);
}

TEST(EvaluatorTest, NoSoundingSamples) {
  Evaluator ev;
  ASSERT_TRUE(ev.Add("s1", Ramp4(), Map2D(), 0.3, false).ok());
  ASSERT_TRUE(ev.Add("s2", Ramp4(), Map2D(4, 4), 0.1, false).ok());
  auto r = ev.Finalize();
  EXPECT_EQ(r.all.n_sounding, 0);
  EXPECT_EQ(r.all.n_silent, 2);
  EXPECT_TRUE(std::isnan(r.all.loc_acc));
  EXPECT_TRUE(std::isnan(r.all.auc));
  EXPECT_TRUE(std::isnan(r.all.mean_ciou));
  EXPECT_TRUE(std::isnan(r.all.pointing));
  EXPECT_DOUBLE_EQ(r.all.ap, 0.0);
  EXPECT_DOUBLE_EQ(r.all.ap_ref, 0.0);
  for (const auto& b : r.buckets) EXPECT_EQ(b.n_sounding + b.n_silent, 0);
}

TEST(EvaluatorTest, ErrorsNameTheKey) {
  Evaluator ev;
  absl::Status s = ev.Add("clip_7", Ramp4(), Map2D(3, 5), std::nullopt, true);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s, "clip_7") && Contains(s, "4x4") && Contains(s, "3x5")) << s;

  Map2D nan_map = Ramp4();
  nan_map.at(1, 2) = std::numeric_limits<double>::quiet_NaN();
  s = ev.Add("clip_nan", nan_map, Map2D(4, 4), std::nullopt, true);
  EXPECT_TRUE(Contains(s, "clip_nan") && Contains(s, "y=1, x=2")) << s;

  Map2D inf_map = Ramp4();
  inf_map.at(0, 0) = std::numeric_limits<double>::infinity();
  s = ev.Add("clip_inf", inf_map, Map2D(4, 4), std::nullopt, true);
  EXPECT_TRUE(Contains(s, "clip_inf")) << s;

  s = ev.Add("clip_conf", Ramp4(), Map2D(4, 4), std::numeric_limits<double>::infinity(), true);
  EXPECT_TRUE(Contains(s, "clip_conf")) << s;

  s = ev.Add("empty", Map2D(), Map2D(), std::nullopt, false);
  EXPECT_TRUE(Contains(s, "empty")) << s;

  // A sounding sample must have a real GT (an empty GT only stands for zeros on silent samples).
  s = ev.Add("snd_nogt", Ramp4(), Map2D(), std::nullopt, true);
  EXPECT_TRUE(Contains(s, "snd_nogt")) << s;

  ASSERT_TRUE(ev.Add("dup", Ramp4(), Map2D(4, 4), std::nullopt, true).ok());
  s = ev.Add("dup", Ramp4(), Map2D(4, 4), std::nullopt, true);
  EXPECT_TRUE(Contains(s, "dup") && Contains(s, "duplicate")) << s;
  EXPECT_EQ(ev.Finalize().samples.size(), 1u);  // failed adds leave no record
}

TEST(EvaluatorTest, RandomizedPerSampleValuesMatchSortBasedReimplementation) {
  std::mt19937 rng(99);
  std::uniform_real_distribution<double> u(0, 1);
  Evaluator ev;
  std::vector<double> want_ciou, want_conf;
  for (int k = 0; k < 30; ++k) {
    Map2D m(12, 10), gt(12, 10);
    for (double& v : m.values) v = std::floor(u(rng) * 20) / 20;  // coarse: ties at the threshold
    int y0 = rng() % 12, x0 = rng() % 10, y1 = y0 + rng() % (12 - y0) + 1, x1 = x0 + rng() % (10 - x0) + 1;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) gt.at(y, x) = (k % 2) ? 0.5 : 1.0;
    ASSERT_TRUE(ev.Add("k" + std::to_string(k), m, gt, std::nullopt, true).ok());
    // Independent: full sort of min-max values, index 60 = floor(120·0.5); numpy-style expression.
    std::vector<double> v = m.values;
    double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
    std::vector<double> pred(v.size());
    for (size_t i = 0; i < v.size(); ++i) pred[i] = hi > lo ? (v[i] - lo) / (hi - lo) : v[i];
    std::vector<double> sorted = pred;
    std::sort(sorted.begin(), sorted.end());
    double thr = sorted[60];
    double inter = 0, gsum = 0, fp = 0;
    for (size_t i = 0; i < pred.size(); ++i) {
      double infer = pred[i] >= thr ? 1 : 0;
      inter += infer * gt.values[i];
      gsum += gt.values[i];
      fp += infer * (gt.values[i] == 0);
    }
    want_ciou.push_back(inter / (gsum + fp));
    std::vector<double> desc = v;
    std::sort(desc.rbegin(), desc.rend());
    double top = 0;
    for (int i = 0; i < 30; ++i) top += desc[i];  // 120/4 = 30
    want_conf.push_back(top / 30);
  }
  auto r = ev.Finalize();
  for (int k = 0; k < 30; ++k) {
    EXPECT_NEAR(r.samples[k].ciou, want_ciou[k], 1e-12) << k;
    EXPECT_NEAR(r.samples[k].conf, want_conf[k], 1e-12) << k;
  }
}

// ScoreSample computes everything in a few fused passes; the definitions compute each number on its own. They
// must agree bit for bit on maps of every kind: smooth, tied, negative, flat, soft GT, both binarization rules,
// with and without a given confidence, silent samples with no GT.
TEST(EvaluatorTest, FusedScoringEqualsTheDefinitionsBitForBit) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int c = 0; c < 48; ++c) {
    const int h = c % 3 == 0 ? 224 : 17 + c, w = c % 3 == 0 ? 224 : 9 + 2 * c;
    Map2D map(h, w), gt(h, w);
    for (size_t i = 0; i < map.values.size(); ++i) {
      const double u = unit(rng);
      switch (c % 4) {
        case 0: map.values[i] = 0.4 + 0.5 * std::sin(0.001 * static_cast<double>(i) * (c + 1)) + 0.01 * u; break;
        case 1: map.values[i] = std::floor(u * 6) / 5; break;  // heavy ties
        case 2: map.values[i] = u < 0.1 ? -0.0 : (u - 0.6) * 1e3; break;
        default: map.values[i] = c % 8 == 3 ? 0.7 : u; break;  // flat every other time
      }
      gt.values[i] = (i / static_cast<size_t>(w)) % 5 < 2 ? (u < 0.3 ? 0.5 : 1.0) : 0.0;
    }
    EvalProtocol protocol;
    if (c % 5 == 4) {
      protocol.pred_mode = PredMode::kAbsolute;
      protocol.pred_threshold = 0.45;
    }
    if (c % 7 == 6) protocol.topk_percent = 30;
    const std::optional<double> conf = c % 6 == 5 ? std::optional<double>(0.25) : std::nullopt;
    const bool sounding = c % 9 != 8;
    const absl::StatusOr<SampleRecord> fused = ScoreSample("k", map, sounding ? gt : Map2D(), conf, sounding, protocol);
    ASSERT_TRUE(fused.ok()) << fused.status();
    const double expected_conf = conf.has_value() ? *conf : TopFractionMean(map, 0.25);
    EXPECT_EQ(fused->conf, expected_conf) << "case " << c;
    if (sounding) {
      EXPECT_EQ(fused->ciou, Ciou(BinaryPrediction(map, protocol), gt)) << "case " << c;
      EXPECT_EQ(fused->area, GtArea(gt)) << "case " << c;
      EXPECT_EQ(fused->pointing_hit, PointingHit(map, gt)) << "case " << c;
    } else {
      EXPECT_EQ(fused->ciou, Ciou(BinaryPrediction(map, protocol), Map2D(h, w))) << "case " << c;
      EXPECT_EQ(fused->area, 0.0);
      EXPECT_FALSE(fused->pointing_hit);
    }
  }
}

}  // namespace
}  // namespace avsl::metrics
