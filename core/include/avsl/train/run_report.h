// Run-level reports: env.json, the training curve PNG, and the outputs of an evaluation.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "avsl/core/plugin_host.h"
#include "avsl/eval/score.h"
#include "avsl/metrics/evaluator.h"

namespace avsl::train {

/// env.json: avsl/SDK/LibTorch versions, C++11 ABI, device, threads, seed, host, command line and every
/// plugin (name, version, path, SHA-1 of the library).
std::string EnvJson(const PluginHost& host, const std::string& device, int threads, long long seed,
                    const std::string& command_line);

/// Plots metrics.jsonl against epoch into a PNG, in up to two panels sharing the epoch axis:
///  - validation (`{"split":"val"}` records; the seed's Figure 1): LocAcc, AP and max-F1, ×100 on a fixed 0–100
///    axis;
///  - training (`{"split":"train_epoch"}` records): the epoch mean of the loss, and of each name of
///    `train_values` (the method's StepOutput::logs, recipe key `train.curve`; "loss" is always drawn) that some
///    record holds, on one axis fitted to the values drawn.
/// A panel without data is left out; when several records exist for an epoch (a resumed epoch), the last wins.
/// Returns the series drawn, e.g. {"val.loc_acc", "val.ap", "val.max_f1", "train.loss", "train.loss_a2i"};
/// FailedPrecondition when metrics.jsonl holds nothing to draw.
absl::StatusOr<std::vector<std::string>> WriteTrainingCurve(const std::string& metrics_jsonl,
                                                            const std::string& png_path,
                                                            const std::vector<std::string>& train_values = {});

/// Writes <dir>/metrics.json and <dir>/per_sample.csv for an evaluation.
/// `extra`: values of the recipe's `eval.metrics` components, added beside the core metrics; `test_set`: the identity
/// of the evaluated set (eval::MetricsJson; null: from the samples alone).
absl::Status WriteEvaluation(const std::string& dir, const metrics::EvalResult& result,
                             const metrics::EvalProtocol& protocol, const std::string& confidence,
                             const std::map<std::string, double>& extra = {},
                             const eval::TestSetIdentity* test_set = nullptr);

}  // namespace avsl::train
