// Open-set detection metrics of SLAVC (utils.py::EvaluatorFull): does the model claim a visible source
// (confidence >= δ) exactly when there is one, and localize it (cIoU >= γ)?
//
// Counting rules at a confidence threshold δ (SLAVC `calc_precision_recall`, also the paper's eqs. 2–4):
//   silent sample,   conf >= δ             -> FP
//   sounding sample, conf >= δ, cIoU >= γ  -> TP
//   sounding sample, conf >= δ, cIoU <  γ  -> FP   (mislocalized; not also an FN)
//   sounding sample, conf <  δ             -> FN
//   precision = TP/(TP+FP), 1 when TP+FP = 0;  recall = TP/(TP+FN), 1 when TP+FN = 0.
// Two variants of AP and max-F1 are provided; see docs/evaluation.md for where they differ.
#pragma once

#include <cstdint>
#include <vector>

namespace avsl::metrics {

/// What the detection metrics need from one sample.
struct DetectionSample {
  bool sounding = false;
  double ciou = 0.0;
  double conf = 0.0;
};

struct PrecisionRecall {
  double precision = 1.0;
  double recall = 1.0;
};

/// The counting rules above at one threshold, by a direct pass over the samples.
PrecisionRecall PrecisionRecallAt(const std::vector<DetectionSample>& samples, double conf_threshold, double gamma);

/// 2PR/(P+R), 0 when P+R = 0.
double F1(const PrecisionRecall& pr);

/// Paper-exact AP and max-F1: every distinct confidence is a threshold δ_1 > δ_2 > … > δ_m.
struct PaperDetection {
  double ap = 0.0;      ///< Σ_k (R_k − R_{k−1})·P_k with R_0 = 0 (non-interpolated, sklearn-style step sum).
  double max_f1 = 0.0;  ///< max_k F1(P_k, R_k).
  /// δ_k of the first (highest) threshold reaching max_f1: "conf >= max_f1_threshold" is the decision with the best
  /// F1 on these samples (avsl infer's `sounding`).
  double max_f1_threshold = 0.0;
};

/// O(N log N). NaN for all three when `samples` is empty.
PaperDetection PaperDetectionMetrics(const std::vector<DetectionSample>& samples, double gamma);

/// SLAVC `calc_ap` exactly: skip = max(1, N//200); thresholds = sort(conf)[:-1][::-skip] (descending,
/// starting at the second-largest confidence); P/R at each; precision envelope pmax_i = max_{j>=i} p_j;
/// AP = Σ_{i=0}^{K−2} pmax_i·(r_{i+1} − r_i), no recall-0 anchor. 0 when N <= 2. NaN when empty.
double ApRef(const std::vector<DetectionSample>& samples, double gamma);

/// SLAVC `finalize_stats` F1 list: thresholds sorted(conf)[::max(1, N//10)], F1 at each; returns the
/// maximum (the README's "max-F1"). NaN when empty.
double MaxF1Ref(const std::vector<DetectionSample>& samples, double gamma);

}  // namespace avsl::metrics
