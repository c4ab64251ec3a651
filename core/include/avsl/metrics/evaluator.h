// Streaming localization evaluator: feed one (map, GT) pair at a time, keep a few numbers per sample, and
// compute every summary metric at the end. Memory is bounded by one map plus O(samples) scalars.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "avsl/core/map2d.h"
#include "avsl/metrics/size_bucket.h"

namespace avsl::metrics {

/// How a continuous map becomes the binary prediction.
enum class PredMode {
  kRelative,  ///< pred = min-max(map); positive = pred >= element floor(n·(1 − k/100)) of its ascending sort.
  kAbsolute,  ///< positive = map >= abs_threshold (SLAVC test.py without --relative_prediction).
};

struct EvaluatorOptions {
  double gamma = 0.5;          ///< cIoU success threshold for LocAcc and for a TP in AP/F1.
  double top_percent = 50.0;   ///< k of the relative rule; 50 is the reference.
  PredMode pred_mode = PredMode::kRelative;
  double abs_threshold = 0.5;  ///< threshold of the absolute rule (SLAVC --pred_thr).
};

/// One set of summary numbers (overall or for one size bucket). Undefined values are NaN.
struct MetricSet {
  int64_t n_sounding = 0;
  int64_t n_silent = 0;
  double loc_acc = 0;     ///< mean(ciou >= γ) over sounding samples.
  double auc = 0;         ///< 21-point trapezoid of LocAcc(γ) over γ = 0, 0.05, …, 1 (sounding samples).
  double mean_ciou = 0;   ///< mean cIoU over sounding samples.
  double pointing = 0;    ///< fraction of sounding samples whose map maximum lies in gt > 0.
  double ap = 0;          ///< paper-exact AP (all distinct confidences, no interpolation).
  double max_f1 = 0;      ///< paper-exact max-F1 over all distinct confidences.
  double ap_ref = 0;      ///< SLAVC calc_ap exactly.
  double max_f1_ref = 0;  ///< SLAVC finalize_stats decile F1, maximum.
};

/// What is kept per sample (also the rows of the per-sample CSV).
struct SampleRecord {
  std::string key;
  double ciou = 0;
  double conf = 0;
  bool sounding = false;
  std::optional<SizeBucket> bucket;  ///< Empty for silent samples.
  bool pointing_hit = false;
  double area = 0;  ///< Σgt.
};

struct EvalResult {
  MetricSet all;  ///< AP/F1 over sounding and silent samples; localization numbers over sounding ones.
  /// Per size bucket, sounding samples only (SLAVC's filter_subset keeps bb > 0 for size subsets), so
  /// n_silent is 0 there and AP/F1 measure confidence-vs-localization among visible sources.
  std::array<MetricSet, kNumSizeBuckets> buckets;
  std::vector<SampleRecord> samples;  ///< In insertion order.
};

class Evaluator {
 public:
  explicit Evaluator(EvaluatorOptions options = {});

  /// Scores one sample. `map` is the post-processed 224×224 (or any H×W matching `gt`) map in the space
  /// where confidence is defined (SLAVC: the fixed-range map `scores`); the relative rule min-max
  /// normalizes it internally as the reference does. `gt` may be empty (0×0) for a silent sample, meaning
  /// all zeros. `conf` overrides the default confidence (mean of the top 25 % of `map`).
  /// Errors (naming `key`): empty map, size mismatch, NaN/Inf in map or GT, non-finite conf, duplicate key.
  absl::Status Add(const std::string& key, const Map2D& map, const Map2D& gt, std::optional<double> conf,
                   bool sounding);

  /// Computes all metrics from the stored records. Can be called more than once.
  EvalResult Finalize() const;

  const EvaluatorOptions& options() const { return options_; }

 private:
  EvaluatorOptions options_;
  std::vector<SampleRecord> records_;
  std::unordered_set<std::string> keys_;
};

/// Metrics of an arbitrary subset of records (exposed so tests and reports can slice differently).
MetricSet ComputeMetricSet(const std::vector<const SampleRecord*>& records, double gamma);

}  // namespace avsl::metrics
