// Evaluating one checkpoint on one split: the trainer's final test and `avsl eval` both call this, so both write
// the same files (metrics.json, per_sample.csv, overlays/, optionally every map as .npy) the same way.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "avsl/core/component_config.h"
#include "avsl/core/method.h"
#include "avsl/core/metric.h"
#include "avsl/data/loader.h"
#include "avsl/eval/score.h"
#include "avsl/train/map_evaluation.h"

namespace avsl::dist {
class Communicator;
}

namespace avsl::train {

struct CheckpointEvaluation {
  std::string checkpoint;  ///< weights loaded into the method first; "" = evaluate the method as it is
  std::string out_dir;     ///< metrics.json, per_sample.csv and overlays/ go here
  int overlays = 0;        ///< heatmap overlays written (eval.visualize)
  std::string maps_dir;    ///< "" = none; else every eval-grid map as <key>.npy (float32)
  /// The files the split was read from (SplitListFiles): metrics.json names the published test set they match.
  std::vector<std::string> test_lists;
  /// false: an exception thrown by the method (a TORCH_CHECK in Localize, ...) comes back as a one-line status
  /// (avsl/train/error_text.h); true: with its full text and C++ backtrace (`avsl eval --verbose`).
  bool verbose_errors = false;
  /// A data-parallel evaluation (the trainer's final test): `loader` holds this rank's shard, the shards' records
  /// are merged (avsl/train/sharded_evaluation.h) so every number is the single-process one, and rank 0 alone writes
  /// out_dir. Overlays show the first samples of rank 0's shard. Null: one process.
  dist::Communicator* ranks = nullptr;
};

struct CheckpointEvaluationResult {
  EvalResult result;
  std::string confidence;  ///< the confidence rule that was used
  metrics::AudioDependenceResult audio_dependence;
  metrics::NegativeAudioResult negative_audio;  ///< the negative-audio samples' scores (no kinds: none in the split)
  metrics::InteractiveResult interactive;       ///< adaptive cIoU, IIoU (metrics::InteractiveEvaluator)
  eval::TestSetIdentity test_set;     ///< which items were scored (metrics.json "test_set"), computed once here
  std::vector<std::string> overlays;  ///< files written
};

/// Loads `what.checkpoint`, runs EvaluateMethod over `loader`, computes `extra_metrics` and writes the outputs
/// (metrics.json records options.protocol, the extra metrics and the audio-dependence rate). Never throws: an exception
/// from the method becomes an error status (one line unless what.verbose_errors; options.method_name names the method
/// in it).
absl::StatusOr<CheckpointEvaluationResult> EvaluateCheckpoint(Method& method, data::Loader& loader,
                                                              const torch::Device& device,
                                                              const MapEvaluationOptions& options,
                                                              const std::vector<std::shared_ptr<Metric>>& extra_metrics,
                                                              const CheckpointEvaluation& what);

/// The list files a recipe's data.<split> reads (its `list` and `extended_list`, when set).
std::vector<std::string> SplitListFiles(const ComponentConfig& root, const std::string& split);

/// The checkpoint a run selected: with train.select = "early_stop", best_<metric of train.monitor> when
/// `run_dir`/checkpoints holds it; otherwise "last".
std::string SelectedCheckpointName(const std::string& run_dir, const std::string& select, const std::string& monitor);

}  // namespace avsl::train
