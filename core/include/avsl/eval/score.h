// The engine behind `avsl score`: scores localization maps written by any tool (.npy files) against the
// ground truth of a benchmark, streaming one map at a time.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "avsl/core/map2d.h"
#include "avsl/metrics/evaluator.h"

namespace avsl::eval {

/// The evaluation grid of every reference benchmark.
inline constexpr int kEvalSize = 224;

struct ScoreOptions {
  std::string maps_dir;   ///< Holds <key>.npy (float32/float64, H×W; leading singleton dims allowed).
  std::string index_csv;  ///< Header key,video,audio,sounding[,conf] (any column order).
  /// "" = none (a map that is not 224×224 is an error), else nearest|bilinear|bicubic.
  std::string upsample;
  /// F.interpolate's align_corners for bilinear/bicubic. Both reference test scripts use true.
  bool align_corners = true;
  metrics::PredMode pred_mode = metrics::PredMode::kRelative;
  double abs_threshold = 0.5;
  double gamma = 0.5;
  double top_percent = 50.0;
  std::string out_json;        ///< "" = do not write.
  std::string per_sample_csv;  ///< "" = do not write.
};

/// Returns the GT map (224×224) of a sounding sample's `video`, or an error when it has none.
using GtLookup = std::function<absl::StatusOr<Map2D>(const std::string& video)>;

/// Reads the index, scores every row (maps loaded one at a time), writes the outputs named in `options`
/// and returns the result. Errors name the index file and line, or the sample key and map path.
absl::StatusOr<metrics::EvalResult> RunScore(const ScoreOptions& options, const GtLookup& gt_lookup);

/// metrics.json contents: n_sounding, n_silent, loc_acc, auc, mean_ciou, pointing, ap, max_f1, ap_ref,
/// max_f1_ref, "buckets": {small|medium|large|huge: {same keys}}, "options": {...}. NaN is written as null.
std::string MetricsJson(const metrics::EvalResult& result, const ScoreOptions& options);

/// Writes MetricsJson to `path` (via a temporary file and rename).
absl::Status WriteMetricsJson(const std::string& path, const metrics::EvalResult& result,
                              const ScoreOptions& options);

/// Writes key,ciou,conf,sounding,bucket,area,pointing rows (bucket "none" for silent samples).
absl::Status WritePerSampleCsv(const std::string& path, const metrics::EvalResult& result);

/// A fixed-width text table (overall + the four buckets) for stdout. Values are fractions in [0, 1].
std::string FormatMetricsTable(const metrics::EvalResult& result);

}  // namespace avsl::eval
