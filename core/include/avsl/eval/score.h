// The engine behind `avsl score`: scores localization maps written by any tool (.npy files) against the
// ground truth of a benchmark, streaming one map at a time.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "avsl/core/map2d.h"
#include "avsl/eval/test_set.h"
#include "avsl/io/npy.h"
#include "avsl/metrics/eval_protocol.h"
#include "avsl/metrics/evaluator.h"

namespace avsl::eval {

struct ScoreOptions {
  /// `avsl score` starts from the reference protocol, except that a map off the 224×224 grid is an error until
  /// an upsample mode is given.
  ScoreOptions() { protocol.upsample = std::nullopt; }
  std::string maps_dir;   ///< Holds <key>.npy (float32/float64, H×W; leading singleton dims allowed).
  std::string index_csv;  ///< Header key,video,audio,sounding[,conf] (any column order).
  metrics::EvalProtocol protocol;
  std::string out_json;        ///< "" = do not write.
  std::string per_sample_csv;  ///< "" = do not write.
  /// Scoring threads (0: every hardware thread). The metrics, the per-sample CSV and the first error reported
  /// are the same for any count: samples are scored in parallel and recorded in index order.
  int threads = 0;
};

/// Returns the GT map (224×224) of a sounding sample's `video`, or an error when it has none. Called from several
/// scoring threads at once: it must not modify shared state.
using GtLookup = std::function<absl::StatusOr<Map2D>(const std::string& video)>;

/// One data row of an index CSV.
struct IndexRow {
  int line = 0;  ///< 1-based line in the index file.
  std::string key;
  std::string video;
  bool sounding = false;
  std::optional<double> conf;  ///< From the optional conf column.
};

/// Reads an index CSV (header key,video,audio,sounding[,conf] in any column order, LF or CRLF, fields split
/// at ',' and stripped of spaces) and calls `on_row` for every data row in file order, so that a caller can
/// stream one map at a time. Returns the first error, of the file or of `on_row`. File errors name the file
/// and line: an unknown, missing or repeated column, a wrong field count, an empty row (only a final newline
/// is allowed), a bad sounding (1, 0, true, false) or conf (finite number) value, a key that is not a plain
/// file name, no data rows.
absl::Status ForEachIndexRow(const std::string& index_csv, const std::function<absl::Status(const IndexRow&)>& on_row);

/// Every row of the index, read by ForEachIndexRow.
absl::StatusOr<std::vector<IndexRow>> ReadIndex(const std::string& index_csv);

/// The map of sample `key`, read from `path` as `arr`, on the protocol's evaluation grid: leading singleton
/// dimensions are dropped ([1,1,H,W] from a torch tensor), then metrics::ToEvalMap (resize per the protocol).
/// Errors name the key and path: not 2-D, or another size with no upsample mode.
absl::StatusOr<Map2D> NpyToEvalMap(io::NpyArray arr, const std::string& key, const std::string& path,
                                   const metrics::EvalProtocol& protocol);

/// gt_lookup(video) for sample `key`; the error names the key and video.
absl::StatusOr<Map2D> LookupSampleGt(const GtLookup& gt_lookup, const std::string& key, const std::string& video);

/// Reads the index, scores every row (maps loaded one at a time), writes the outputs named in `options`
/// and returns the result. Errors name the index file and line, or the sample key and map path.
absl::StatusOr<metrics::EvalResult> RunScore(const ScoreOptions& options, const GtLookup& gt_lookup);

/// metrics.json contents: n_sounding, n_silent, loc_acc, auc, mean_ciou, pointing, ap, max_f1, ap_ref,
/// max_f1_ref, "buckets": {small|medium|large|huge: {same keys}}, "options": {...}. NaN is written as null.
/// `confidence` (the rule used, written when not empty) and `extra` (the recipe's extra metrics) join the top level.
/// "test_set": the evaluated set's identity (avsl/eval/test_set.h: n, sha256, the published set it matches or those it
/// differs from, its lists and a description): `test_set`, or when null IdentifyTestSet(result, no lists).
std::string MetricsJson(const metrics::EvalResult& result, const metrics::EvalProtocol& protocol,
                        const std::string& confidence = "", const std::map<std::string, double>& extra = {},
                        const TestSetIdentity* test_set = nullptr);

/// Writes MetricsJson to `path` (via a temporary file and rename).
absl::Status WriteMetricsJson(const std::string& path, const metrics::EvalResult& result,
                              const metrics::EvalProtocol& protocol);

/// Writes key,ciou,conf,sounding,bucket,area,pointing rows (bucket "none" for silent samples).
absl::Status WritePerSampleCsv(const std::string& path, const metrics::EvalResult& result);

/// A fixed-width text table (overall + the four buckets) for stdout. Values are fractions in [0, 1].
std::string FormatMetricsTable(const metrics::EvalResult& result);

}  // namespace avsl::eval
