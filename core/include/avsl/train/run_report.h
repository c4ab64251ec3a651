// Run-level reports: env.json, the training curve PNG, and the outputs of an evaluation.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "avsl/core/plugin_host.h"
#include "avsl/eval/score.h"
#include "avsl/metrics/evaluator.h"

namespace avsl::train {

/// env.json: avsl/SDK/LibTorch versions, C++11 ABI, device, threads, seed, host, command line and every
/// plugin (name, version, path, SHA-1 of the library).
std::string EnvJson(const PluginHost& host, const std::string& device, int threads, long long seed,
                    const std::string& command_line);

/// Plots validation metrics per epoch from metrics.jsonl (the seed's Figure 1): LocAcc and AP against epoch.
absl::Status WriteTrainingCurve(const std::string& metrics_jsonl, const std::string& png_path);

/// Writes <dir>/metrics.json and <dir>/per_sample.csv for an evaluation.
/// `extra`: values of the recipe's `eval.metrics` components, added beside the core metrics.
absl::Status WriteEvaluation(const std::string& dir, const metrics::EvalResult& result,
                             const metrics::EvalProtocol& protocol, const std::string& confidence,
                             const std::map<std::string, double>& extra = {});

}  // namespace avsl::train
