// Hook component: observes the training loop and may end it early (`[[hooks]]` in a recipe).
#pragma once

#include "absl/status/statusor.h"
#include "avsl/core/export.h"
#include "avsl/core/train_event.h"

namespace avsl {

enum class HookAction { kContinue, kStopTraining };

class AVSL_EXPORT Hook {
 public:
  virtual ~Hook();
  /// An error stops the run and is reported naming the hook.
  virtual absl::StatusOr<HookAction> OnEvent(const TrainEvent& event) = 0;
};

}  // namespace avsl
