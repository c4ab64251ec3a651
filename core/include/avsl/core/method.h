// Method = model + loss. The trainer calls TrainStep in training mode and Localize in eval mode under
// NoGradGuard; every published method (EZ-VSL, SLAVC, LVS, ...) is a plugin implementing this interface.
#pragma once

#include <torch/nn/module.h>

#include "avsl/core/batch.h"
#include "avsl/core/export.h"
#include "avsl/core/train_event.h"

namespace avsl {

class AVSL_EXPORT Method : public torch::nn::Module {
 public:
  ~Method() override;
  /// Loss for one batch (and, for extra losses, its maps); the trainer does backward and the optimizer step.
  virtual StepOutput TrainStep(const Batch& batch) = 0;
  /// Localization maps for a batch; called in eval mode under NoGradGuard (validation, test, `avsl eval`).
  virtual Localization Localize(const Batch& batch) = 0;
  /// Called after each optimizer step (momentum encoders and other non-gradient updates).
  virtual void AfterOptimizerStep() {}
  /// The training loop's events (run start, epoch end, ...), before the hooks see them: epoch-level method
  /// logic (feature banks, stage switches) lives here.
  virtual void OnTrainEvent(const TrainEvent& event) {}
  /// False for reference methods with nothing to learn (center_prior): the trainer then only evaluates.
  virtual bool trainable() const { return true; }
};

}  // namespace avsl
