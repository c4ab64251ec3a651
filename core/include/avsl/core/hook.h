// Hook component: observes the training loop and may end it early (`[[hooks]]` in a recipe).
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "avsl/core/export.h"

namespace avsl {

struct TrainEvent {
  enum class Type { kRunStart, kStepEnd, kEpochEnd, kValidationEnd, kRunEnd };
  Type type = Type::kRunStart;
  long long epoch = 0;  ///< epochs completed
  long long step = 0;   ///< optimizer steps completed
  double loss = 0;      ///< last step's loss (kStepEnd) or the epoch mean (kEpochEnd)
  std::map<std::string, double> metrics;  ///< "val.ap", ... (kValidationEnd)
  std::string run_dir;
};

enum class HookAction { kContinue, kStopTraining };

class AVSL_EXPORT Hook {
 public:
  virtual ~Hook();
  /// An error stops the run and is reported naming the hook.
  virtual absl::StatusOr<HookAction> OnEvent(const TrainEvent& event) = 0;
};

}  // namespace avsl
