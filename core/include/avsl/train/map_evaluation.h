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
#include "avsl/metrics/evaluator.h"
#include "avsl/metrics/upsample.h"

namespace avsl::train {

struct MapEvaluationOptions {
  metrics::EvaluatorOptions evaluator;
  metrics::UpsampleMode upsample = metrics::UpsampleMode::kBilinear;
  bool align_corners = false;
  int eval_size = 224;  ///< maps are upsampled to this grid, where GT maps live
  /// Called for each sample with its post-processed eval-grid map (e.g. to save .npy or pictures).
  std::function<absl::Status(const Sample&, const Map2D&, double conf)> on_sample;
  /// Receives the confidence rule in use (the method's native name or the generic one), when not null.
  std::string* confidence_out = nullptr;
};

/// Runs Localize on every batch of `loader` (epoch `epoch`) under NoGradGuard in eval mode, upsamples maps to
/// the eval grid, maps them into [0, 1] over the method's fixed range when it declares one (the space where
/// SLAVC's confidence is defined), and scores them. The method's native confidence is used when it gives one.
absl::StatusOr<metrics::EvalResult> EvaluateMethod(Method& method, data::Loader& loader, uint64_t epoch,
                                                   const torch::Device& device,
                                                   const MapEvaluationOptions& options);

/// The confidence rule shown in outputs: the method's native name, or "generic (top-25% mean)".
std::string ConfidenceName(const Localization& localization);

}  // namespace avsl::train
