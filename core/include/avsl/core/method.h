// Method = model + loss. The trainer calls TrainStep in training mode and Localize in eval mode; every
// published method (EZ-VSL, SLAVC, LVS, ...) is a plugin implementing this interface.
#pragma once

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "avsl/core/export.h"

namespace avsl {

/// One collated batch as the loader produces it.
struct Batch {
  torch::Tensor image;     ///< [B,3,H,W] float, normalized
  torch::Tensor audio;     ///< [B,1,F,T] log spectrogram (or another front-end)
  torch::Tensor gt_map;    ///< [B,H,W] in [0,1]; zeros where there is no annotation
  torch::Tensor has_gt;    ///< [B] bool: the sample carries a GT map usable for supervision
  torch::Tensor sounding;  ///< [B] bool: false for extended-test negatives
  torch::Tensor class_id;  ///< [B] int64, -1 when unknown
  std::vector<std::string> keys;
};

struct StepOutput {
  torch::Tensor loss;                                 ///< scalar, differentiable
  std::vector<std::pair<std::string, double>> logs;  ///< extra scalars for metrics.jsonl
};

struct Localization {
  torch::Tensor maps;        ///< [B,h,w] raw scores at the method's native resolution
  torch::Tensor confidence;  ///< [B] native confidence; undefined -> the evaluator's generic confidence
  std::string confidence_name = "generic";
  /// Range the raw scores live in (e.g. [-1/tau, 1/tau]) for fixed-range normalization; NaN if unbounded.
  double range_min = std::numeric_limits<double>::quiet_NaN();
  double range_max = std::numeric_limits<double>::quiet_NaN();
};

class AVSL_EXPORT Method : public torch::nn::Module {
 public:
  ~Method() override;
  /// Loss for one batch; the trainer does backward and the optimizer step.
  virtual StepOutput TrainStep(const Batch& batch) = 0;
  /// Localization maps for a batch; called under NoGradGuard in eval mode.
  virtual Localization Localize(const Batch& batch) = 0;
  /// Called after each optimizer step (momentum encoders and other non-gradient updates).
  virtual void AfterOptimizerStep() {}
  /// False for reference methods with nothing to learn (center_prior): the trainer then only evaluates.
  virtual bool trainable() const { return true; }
};

}  // namespace avsl
