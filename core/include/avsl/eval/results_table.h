// Results tables from run directories (`avsl report RUN_DIR...`): the seed paper's Table 1/2 layout, one row per
// method, the test metrics of the early-stopped checkpoint beside those of the last one.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace avsl::eval {

/// The test evaluations of one run directory, as `avsl train` / `avsl eval` wrote them.
struct RunResult {
  std::string dir;
  std::string label;        ///< the recipe's `name` unless the caller gave one
  std::string method_type;  ///< model.type of the recipe
  long long epochs_trained = 0;
  /// eval/<split>_last/metrics.json: the No Early Stop column.
  std::optional<std::map<std::string, double>> last;
  /// eval/<split>_best_<monitor>/metrics.json: the Early Stop column.
  std::optional<std::map<std::string, double>> early_stop;
  std::string early_stop_checkpoint;  ///< e.g. "best_ap"
  /// eval/<split>_untrained/metrics.json (`avsl eval RUN_DIR --untrained`): the same recipe at step 0, the control
  /// that shows what a row owes to the architecture or to colour saliency rather than to training.
  std::optional<std::map<std::string, double>> untrained;
  long long best_epoch = -1;
  std::string confidence;  ///< which confidence scored AP/max-F1 ("slavc", a method's native one, ...)
  /// metrics.json "test_set" description of the last (else the early-stop) evaluation: "flickr_test_250 (N=250)",
  /// "N=500", "N=247, not flickr_test_250 (250) or ..."; "" when the evaluation predates it.
  std::string test_set;
};

/// Reads `run_dir` (recipe.toml, train_state.json, eval/<split>_*/metrics.json). A directory without any
/// evaluation of `split` is an error that says how to produce one.
absl::StatusOr<RunResult> ReadRunResult(const std::string& run_dir, const std::string& split = "test");

struct ResultsTableOptions {
  /// metrics.json keys, shown for Early Stop then No Early Stop; the seed's tables use AP, max-F1, LocAcc.
  std::vector<std::string> columns = {"ap", "max_f1", "loc_acc"};
  std::string split = "test";
  /// Adds an "Untrained" column group (the same keys) when at least one run has an untrained evaluation.
  bool untrained_columns = true;
  /// A row of one run shows its bootstrap 95 % interval after the value, "31.0 [28.1, 34.0]", when its metrics.json
  /// has one ("ci95"); rows of several runs keep mean ± standard deviation over the runs.
  bool intervals = false;
};

/// Keys a results table may show, with their column titles.
const std::map<std::string, std::string>& ResultsTableColumns();

/// Markdown: rows in first-appearance order of their label; runs sharing a label (seeds) are averaged and shown
/// as mean ± sample standard deviation with their count. Values are percentages with one decimal, as the paper's.
/// A run trained for 0 epochs (a reference method such as center_prior) has one model, so its Early Stop
/// columns repeat its last evaluation; a trained run without an early-stop evaluation shows "–". The Untrained
/// group, when shown, holds each row's step-0 evaluation (an untrained reference method: its only one).
absl::StatusOr<std::string> RenderResultsTable(const std::vector<RunResult>& runs, const ResultsTableOptions& options);

}  // namespace avsl::eval
