// Evaluates a method's localization maps over a loader with the core metrics.
#pragma once

#include <functional>
#include <string>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "avsl/core/dataset.h"
#include "avsl/core/map2d.h"
#include "avsl/core/method.h"
#include "avsl/data/loader.h"
#include "avsl/metrics/audio_dependence.h"
#include "avsl/metrics/eval_protocol.h"
#include "avsl/metrics/evaluator.h"
#include "avsl/metrics/interactive.h"
#include "avsl/metrics/negative_audio.h"

namespace avsl::train {

struct MapEvaluationOptions {
  metrics::EvalProtocol protocol;
  /// Called for each sample with its post-processed eval-grid map (e.g. to save .npy or pictures).
  std::function<absl::Status(const Sample&, const Map2D&, double conf)> on_sample;
  /// The method's type (e.g. "ezvsl.EZVSL"), named in the errors; "" = "the method".
  std::string method_name;
  /// Also score every sounding sample for MethodEvaluation::interactive (two selections per map); set by the
  /// evaluations that write metrics.json (EvaluateCheckpoint), not by the per-epoch validation.
  bool interactive_scores = false;
};

/// What a split sample contributes to the audio-dependence and interactive scores, kept so that a data-parallel
/// evaluation can merge the ranks' shards exactly (avsl/train/sharded_evaluation.h).
struct SampleContribution {
  std::string frame;         ///< Sample::video_id, or the key when it has none
  int64_t peak = -1;         ///< first maximum of the eval-grid map, row-major (AudioDependence)
  bool interactive = false;  ///< scored by the interactive evaluator (a sounding sample, interactive_scores on)
  metrics::InteractiveQueryScores scores;
};

/// A negative-audio sample as metrics::NegativeAudio keeps it, with its dataset index.
struct NegativeContribution {
  size_t index = 0;
  std::string kind, frame, key;
  double conf = 0;
  int64_t peak = -1;
};

struct MethodEvaluation {
  EvalResult result;
  std::string confidence;  ///< the confidence rule that was used (ConfidenceName)
  /// Frames the split pairs with a sounding and a silent clip (Sample::video_id), and how many of their eval-grid
  /// map peaks move between the two (metrics.json: audio_dependence, audio_dependence_pairs).
  metrics::AudioDependenceResult audio_dependence;
  /// The samples with Sample::negative_audio set, scored against the split's sounding ones (empty kinds when the
  /// split has none). They are not in `result`.
  metrics::NegativeAudioResult negative_audio;
  /// The split's sounding samples scored as SSLalignment scores IS3: adaptive cIoU, and IIoU over the frames the
  /// split queries more than once (the interactive split).
  metrics::InteractiveResult interactive;
  /// The dataset index of each of result.samples (a data-parallel evaluation merges the ranks' shards by it).
  std::vector<size_t> indices;
  /// Each of result.samples' contribution to audio_dependence and interactive, in the same order.
  std::vector<SampleContribution> contributions;
  /// The negative-audio samples, in evaluation order.
  std::vector<NegativeContribution> negatives;
};

/// Runs Localize on every batch of `loader` (epoch `epoch`) under NoGradGuard in eval mode, brings each map to
/// the protocol's grid with metrics::ToEvalMap (upsampling, then [0, 1] over the method's fixed range when it
/// declares one: the space where SLAVC's confidence is defined), and scores them. The method's native
/// confidence is used when it gives one; it must hold one value per sample (else an Internal status naming the
/// method and both lengths). An exception thrown while a batch is evaluated (by Localize, the conversion of its
/// outputs, ToEvalMap, the evaluator or `on_sample`) becomes an Internal status naming the method, the batch's first
/// keys and the part that threw, with the exception's full what() (callers fold it with train::WithoutBacktrace).
/// The method's training mode is restored however the evaluation ends.
absl::StatusOr<MethodEvaluation> EvaluateMethod(Method& method, data::Loader& loader, uint64_t epoch,
                                                const torch::Device& device, const MapEvaluationOptions& options);

/// The confidence rule shown in outputs: the method's native name, or "generic (top-25% mean)".
std::string ConfidenceName(const Localization& localization);

}  // namespace avsl::train
