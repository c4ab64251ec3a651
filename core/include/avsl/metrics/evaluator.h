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
#include "avsl/metrics/detection.h"
#include "avsl/metrics/eval_protocol.h"
#include "avsl/metrics/size_bucket.h"

namespace avsl::metrics {

// The result types are SDK value types (avsl/core/eval_result.h); metrics:: names them too.
using ::avsl::EvalResult;
using ::avsl::MetricSet;
using ::avsl::SampleRecord;

class Evaluator {
 public:
  /// Uses the protocol's binarization (pred_mode, topk_percent, pred_threshold) and ciou_threshold; the grid
  /// settings (eval_size, upsample) are the caller's business (ToEvalMap).
  explicit Evaluator(EvalProtocol protocol = {});

  /// Scores one sample. `map` is the post-processed 224×224 (or any H×W matching `gt`) map in the space
  /// where confidence is defined (SLAVC: the fixed-range map `scores`); the relative rule min-max
  /// normalizes it internally as the reference does. `gt` may be empty (0×0) for a silent sample, meaning
  /// all zeros. `conf` overrides the default confidence (mean of the top 25 % of `map`).
  /// Errors (naming `key`): empty map, size mismatch, NaN/Inf in map or GT, non-finite conf, duplicate key.
  absl::Status Add(const std::string& key, const Map2D& map, const Map2D& gt, std::optional<double> conf,
                   bool sounding);

  /// Adds a record scored elsewhere (another rank of a data-parallel validation), as Add would have stored it.
  /// InvalidArgument for a duplicate key.
  absl::Status AddRecord(SampleRecord record);

  /// Computes all metrics from the stored records. Can be called more than once.
  EvalResult Finalize() const;

  const EvalProtocol& protocol() const { return protocol_; }
  /// The records so far, in insertion order (Finalize's `samples` without computing any metric).
  const std::vector<SampleRecord>& records() const { return records_; }

 private:
  EvalProtocol protocol_;
  std::vector<SampleRecord> records_;
  std::unordered_set<std::string> keys_;
};

/// Scores one sample exactly as Evaluator::Add does, without storing it: a pure function, so scoring threads call
/// it in parallel and add the records in order (Evaluator::AddRecord). Add's errors except the duplicate key.
absl::StatusOr<SampleRecord> ScoreSample(const std::string& key, const Map2D& map, const Map2D& gt,
                                         std::optional<double> conf, bool sounding, const EvalProtocol& protocol);

/// Metrics of an arbitrary subset of records (exposed so tests and reports can slice differently).
MetricSet ComputeMetricSet(const std::vector<const SampleRecord*>& records, double gamma);

/// The same with the detection samples of `records` given by the caller, in any order (the detection metrics
/// depend on their multiset only); in ascending order of confidence they are not sorted again, which is what makes
/// a thousand bootstrap resamples cheap. The localization metrics come from `records`, in their order.
MetricSet ComputeMetricSet(const std::vector<const SampleRecord*>& records,
                           const std::vector<DetectionSample>& detection, double gamma);

}  // namespace avsl::metrics
