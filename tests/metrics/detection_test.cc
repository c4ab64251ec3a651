#include "avsl/metrics/detection.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "gtest/gtest.h"

namespace avsl::metrics {
namespace {

DetectionSample Silent(double conf) { return {false, 0.0, conf}; }
DetectionSample Hit(double conf) { return {true, 0.8, conf}; }   // sounding, localized (cIoU >= 0.5)
DetectionSample Miss(double conf) { return {true, 0.2, conf}; }  // sounding, mislocalized

// ---- Independent brute-force implementations (direct loops, no sorting tricks) ----

// Paper AP: for every distinct confidence δ (descending), count TP/FP/FN from scratch.
double BruteApPaper(const std::vector<DetectionSample>& s, double gamma, double* max_f1) {
  std::set<double, std::greater<double>> thresholds;
  for (const auto& x : s) thresholds.insert(x.conf);
  double ap = 0, prev_r = 0, best = 0;
  for (double d : thresholds) {
    int tp = 0, fp = 0, fn = 0;
    for (const auto& x : s) {
      bool confident = x.conf >= d;
      if (!x.sounding) fp += confident;
      else if (!confident) fn += 1;
      else if (x.ciou >= gamma) tp += 1;
      else fp += 1;
    }
    double p = tp + fp ? double(tp) / (tp + fp) : 1.0;
    double r = tp + fn ? double(tp) / (tp + fn) : 1.0;
    ap += p * (r - prev_r);
    prev_r = r;
    best = std::max(best, p + r > 0 ? 2 * p * r / (p + r) : 0.0);
  }
  *max_f1 = best;
  return ap;
}

// Line-by-line transcription of SLAVC calc_ap / finalize_stats F1.
double BruteApRef(const std::vector<DetectionSample>& s, double gamma) {
  std::vector<double> conf;
  for (const auto& x : s) conf.push_back(x.conf);
  std::sort(conf.begin(), conf.end());
  conf.pop_back();                         // [:-1]
  std::reverse(conf.begin(), conf.end());  // [::-1] ...
  size_t skip = std::max<size_t>(1, s.size() / 200);
  std::vector<double> P, R;
  for (size_t i = 0; i < conf.size(); i += skip) {  // ... [::-skip]
    auto pr = PrecisionRecallAt(s, conf[i], gamma);
    P.push_back(pr.precision);
    R.push_back(pr.recall);
  }
  double ap = 0;
  for (size_t i = 0; i + 1 < P.size(); ++i) {
    double pm = *std::max_element(P.begin() + i, P.end());
    ap += pm * (R[i + 1] - R[i]);
  }
  return ap;
}

double BruteMaxF1Ref(const std::vector<DetectionSample>& s, double gamma) {
  std::vector<double> conf;
  for (const auto& x : s) conf.push_back(x.conf);
  std::sort(conf.begin(), conf.end());
  double best = 0;
  for (size_t i = 0; i < conf.size(); i += std::max<size_t>(1, conf.size() / 10)) {
    best = std::max(best, F1(PrecisionRecallAt(s, conf[i], gamma)));
  }
  return best;
}

// ---- Hand-computed cases ----

TEST(DetectionTest, CountingRules) {
  // At δ = 0.5: silent .9 -> FP; Hit .8 -> TP; Miss .7 -> FP (not FN); Hit .3 -> FN; silent .1 -> nothing.
  // P = 1/(1+2) = 1/3, R = 1/(1+1) = 1/2.
  auto pr = PrecisionRecallAt({Silent(.9), Hit(.8), Miss(.7), Hit(.3), Silent(.1)}, 0.5, 0.5);
  EXPECT_DOUBLE_EQ(pr.precision, 1.0 / 3);
  EXPECT_DOUBLE_EQ(pr.recall, 0.5);
  // Above every confidence: TP = FP = 0 -> P = 1; TP+FN = 2 -> R = 0.
  pr = PrecisionRecallAt({Hit(.8), Hit(.3)}, 0.95, 0.5);
  EXPECT_EQ(pr.precision, 1.0);
  EXPECT_EQ(pr.recall, 0.0);
  // All sounding samples confident but mislocalized: TP = FN = 0 -> R = 1 by convention, P = 0.
  pr = PrecisionRecallAt({Miss(.8), Miss(.3)}, 0.1, 0.5);
  EXPECT_EQ(pr.precision, 0.0);
  EXPECT_EQ(pr.recall, 1.0);
}

TEST(DetectionTest, RefAndPaperDifferBecauseOfInterpolation) {
  // Confidences: silent .9, silent .8, Hit .7, Hit .6 (N = 4, skip = 1).
  // Paper, δ ∈ {.9,.8,.7,.6}: (P,R) = (0,0), (0,0), (1/3,1/2), (2/4,1):
  //   AP = 0 + 0 + 1/3·(1/2 − 0) + 1/2·(1 − 1/2) = 1/6 + 1/4 = 5/12.
  // Ref, thresholds sort(conf)[:-1][::-1] = [.8,.7,.6]: P = [0, 1/3, 1/2], R = [0, 1/2, 1];
  //   envelope pmax = [1/2, 1/2, 1/2]; AP = 1/2·(1/2 − 0) + 1/2·(1 − 1/2) = 1/2.
  // They differ because the envelope credits the (0, 1/2] recall step with the later precision 1/2.
  std::vector<DetectionSample> s = {Silent(.9), Silent(.8), Hit(.7), Hit(.6)};
  EXPECT_NEAR(PaperDetectionMetrics(s, 0.5).ap, 5.0 / 12, 1e-15);
  EXPECT_NEAR(ApRef(s, 0.5), 0.5, 1e-15);
  // F1: at .7: 2·(1/3)(1/2)/(5/6) = 0.4; at .6: 2·(1/2)·1/(3/2) = 2/3. N < 20 -> decile step 1 -> same max.
  EXPECT_NEAR(PaperDetectionMetrics(s, 0.5).max_f1, 2.0 / 3, 1e-15);
  EXPECT_NEAR(MaxF1Ref(s, 0.5), 2.0 / 3, 1e-15);
  EXPECT_EQ(PaperDetectionMetrics(s, 0.5).max_f1_threshold, .6);  // the δ of the maximum
}

TEST(DetectionTest, RefAndPaperCoincideWhenOnlyTheLowestThresholdGainsRecall) {
  // silent .9, silent .8, Hit .7 (N = 3).
  // Paper: (0,0), (0,0), (1/3, 1) -> AP = 1/3·1 = 1/3.
  // Ref: thresholds [.8, .7]: P = [0, 1/3], R = [0, 1]; pmax = [1/3, 1/3]; AP = 1/3·(1 − 0) = 1/3.
  // Equal: the ref's missing recall-0 anchor loses nothing (R at the 2nd-largest conf is 0), and the only
  // recall step happens at the lowest threshold, where the envelope equals the raw precision.
  std::vector<DetectionSample> s = {Silent(.9), Silent(.8), Hit(.7)};
  EXPECT_NEAR(PaperDetectionMetrics(s, 0.5).ap, 1.0 / 3, 1e-15);
  EXPECT_NEAR(ApRef(s, 0.5), 1.0 / 3, 1e-15);
}

TEST(DetectionTest, RefDropsTheTopConfidence) {
  // Three perfect hits .9 .8 .7: paper AP = 1/3·1 + 1/3·1 + 1/3·1 = 1.
  // Ref starts at the 2nd-largest (.8, R = 2/3): AP = 1·(1 − 2/3) = 1/3.
  std::vector<DetectionSample> s = {Hit(.9), Hit(.8), Hit(.7)};
  EXPECT_NEAR(PaperDetectionMetrics(s, 0.5).ap, 1.0, 1e-15);
  EXPECT_NEAR(ApRef(s, 0.5), 1.0 / 3, 1e-15);
}

TEST(DetectionTest, MaxF1DiffersWhenBestThresholdIsNotADecile) {
  // N = 20, decile step 20//10 = 2: ref thresholds are sorted indices 0,2,…,18.
  // Index 0 (lowest conf) is silent, indices 1..19 are hits.
  // δ = conf[1]: TP 19, FP 0, FN 0 -> F1 = 1 (paper max).
  // δ = conf[0]: TP 19, FP 1 -> P = 0.95, R = 1 -> F1 = 1.9/1.95 = 38/39 (ref max; index 2 gives 36/37).
  std::vector<DetectionSample> s = {Silent(0.0)};
  for (int i = 1; i < 20; ++i) s.push_back(Hit(i / 20.0));
  EXPECT_NEAR(PaperDetectionMetrics(s, 0.5).max_f1, 1.0, 1e-15);
  EXPECT_NEAR(MaxF1Ref(s, 0.5), 38.0 / 39, 1e-15);
  EXPECT_EQ(PaperDetectionMetrics(s, 0.5).max_f1_threshold, 1 / 20.0);  // conf[1]: every hit, no silent
}

TEST(DetectionTest, MaxF1ThresholdIsTheDeltaOfTheMaximum) {
  // Hit .9, Silent .8, Hit .7: δ = .9 -> P 1, R 1/2, F1 2/3; δ = .8 -> P 1/2, R 1/2, F1 1/2; δ = .7 -> P 2/3, R 1,
  // F1 4/5. All-silent samples: F1 0 at every δ, so the first (highest) one; no samples: NaN.
  const PaperDetection d = PaperDetectionMetrics({Hit(.9), Silent(.8), Hit(.7)}, 0.5);
  EXPECT_NEAR(d.max_f1, 0.8, 1e-15);
  EXPECT_EQ(d.max_f1_threshold, .7);
  EXPECT_EQ(PaperDetectionMetrics({Silent(.4), Silent(.3)}, 0.5).max_f1_threshold, .4);
  EXPECT_TRUE(std::isnan(PaperDetectionMetrics({}, 0.5).max_f1_threshold));
}

TEST(DetectionTest, TiesFormOneThreshold) {
  // Hit .5, Silent .5, Hit .2: δ = .5 -> TP 1, FP 1, FN 1 -> P 1/2, R 1/2; δ = .2 -> P 2/3, R 1.
  // Paper AP = 1/2·1/2 + 2/3·1/2 = 7/12 (the tie is not split into two thresholds).
  std::vector<DetectionSample> s = {Hit(.5), Silent(.5), Hit(.2)};
  EXPECT_NEAR(PaperDetectionMetrics(s, 0.5).ap, 7.0 / 12, 1e-15);
}

TEST(DetectionTest, SmallAndDegenerateSets) {
  // Single sample: paper AP = P·R = 1·1 for a hit; ref has no thresholds ([:-1] is empty) -> 0.
  EXPECT_DOUBLE_EQ(PaperDetectionMetrics({Hit(.4)}, 0.5).ap, 1.0);
  EXPECT_DOUBLE_EQ(ApRef({Hit(.4)}, 0.5), 0.0);
  EXPECT_DOUBLE_EQ(MaxF1Ref({Hit(.4)}, 0.5), 1.0);
  // No sounding samples: R = 1 by convention everywhere, P = 0 -> AP 0, F1 0 (both variants).
  std::vector<DetectionSample> silent = {Silent(.9), Silent(.5), Silent(.1)};
  EXPECT_DOUBLE_EQ(PaperDetectionMetrics(silent, 0.5).ap, 0.0);
  EXPECT_DOUBLE_EQ(ApRef(silent, 0.5), 0.0);
  EXPECT_DOUBLE_EQ(MaxF1Ref(silent, 0.5), 0.0);
  // No silent samples, all hits: paper AP 1 and max-F1 1.
  EXPECT_DOUBLE_EQ(PaperDetectionMetrics({Hit(.3), Hit(.6)}, 0.5).ap, 1.0);
  // Empty: NaN.
  EXPECT_TRUE(std::isnan(PaperDetectionMetrics({}, 0.5).ap));
  EXPECT_TRUE(std::isnan(ApRef({}, 0.5)));
  EXPECT_TRUE(std::isnan(MaxF1Ref({}, 0.5)));
}

TEST(DetectionTest, MatchesSlavcPythonOnDeterministicSet) {
  // Generated once by running SLAVC's calc_precision_recall/calc_ap/finalize_stats F1 code (copied verbatim)
  // with /usr/bin/python3 numpy on: N = 450, conf_i = ((i·7919) % 1000)/1000, bb_i = 0 if i % 3 == 0 else 1,
  // ciou_i = ((i·104729) % 997)/997. Output: 0.34354734179448898 0.4974958263772955.
  std::vector<DetectionSample> s;
  for (int i = 0; i < 450; ++i) {
    s.push_back({i % 3 != 0, ((i * 104729LL) % 997) / 997.0, ((i * 7919LL) % 1000) / 1000.0});
  }
  EXPECT_NEAR(ApRef(s, 0.5), 0.34354734179448898, 1e-14);
  EXPECT_NEAR(MaxF1Ref(s, 0.5), 0.4974958263772955, 1e-14);
}

TEST(DetectionTest, RandomizedAgainstBruteForce) {
  std::mt19937 rng(12345);
  for (int rep = 0; rep < 60; ++rep) {
    const int n = 1 + static_cast<int>(rng() % (rep < 40 ? 60 : 700));  // > 400 exercises skip >= 2
    const bool coarse = rep % 2 == 0;                                   // coarse confidences create many ties
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<DetectionSample> s(n);
    for (auto& x : s) {
      x.sounding = u(rng) < 0.6;
      x.ciou = x.sounding ? u(rng) : 0.0;
      x.conf = coarse ? std::floor(u(rng) * 8) / 8 : u(rng);
    }
    for (double gamma : {0.3, 0.5}) {
      double brute_f1 = 0;
      double brute_ap = BruteApPaper(s, gamma, &brute_f1);
      PaperDetection got = PaperDetectionMetrics(s, gamma);
      EXPECT_NEAR(got.ap, brute_ap, 1e-12) << "rep " << rep << " n " << n;
      EXPECT_NEAR(got.max_f1, brute_f1, 1e-12) << "rep " << rep;
      EXPECT_NEAR(ApRef(s, gamma), BruteApRef(s, gamma), 1e-12) << "rep " << rep << " n " << n;
      EXPECT_NEAR(MaxF1Ref(s, gamma), BruteMaxF1Ref(s, gamma), 1e-12) << "rep " << rep;
    }
  }
}

}  // namespace
}  // namespace avsl::metrics
