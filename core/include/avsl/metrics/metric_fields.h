// The one table of summary-metric fields. The trainer's monitor (`train.monitor = "val.<name>"`), metrics.jsonl,
// metrics.json, the `avsl score` / `avsl eval` text table and `avsl report` columns all read it, so a new
// metric is added here (and in MetricSet) and nowhere else.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "avsl/core/eval_result.h"

namespace avsl::metrics {

struct MetricField {
  const char* name;           ///< "loc_acc": the JSON key and the name in `train.monitor = "val.loc_acc"`
  double MetricSet::*member;  ///< where the value lives
  const char* title;          ///< "LocAcc": the column of `avsl report` tables
  const char* short_title;    ///< "LocAcc": the column of the fixed-width text table (at most 6 characters)
};

/// Every field, in the order of metrics.json and of the text table.
const std::vector<MetricField>& MetricFields();
/// The field called `name`, or nullptr.
const MetricField* FindMetricField(std::string_view name);
/// "loc_acc, auc, ..." for error messages.
std::string MetricFieldNames();

/// Two values of a metric within this absolute difference are a tie. The trainer's checkpoint selection
/// (train::MakeCheckpointSelectionHook: a tie moves best_<metric>.pt to the later epoch) and core.EarlyStopping (a
/// tie is no improvement) share it, so what the log calls a tie never resets the early-stopping patience.
inline constexpr double kMetricTieTolerance = 1e-12;

}  // namespace avsl::metrics
