// The training loop's events, as methods (Method::OnTrainEvent) and hooks (Hook::OnEvent) see them.
#pragma once

#include <map>
#include <string>

namespace avsl {

struct TrainEvent {
  enum class Type { kRunStart, kEpochStart, kStepEnd, kEpochEnd, kValidationEnd, kRunEnd };
  Type type = Type::kRunStart;
  long long epoch = 0;  ///< epochs completed (kEpochStart: the epoch about to run, 0-based)
  long long step = 0;   ///< optimizer steps completed
  double loss = 0;      ///< last step's loss (kStepEnd) or the epoch mean (kEpochEnd; NaN: no step this run)
  std::map<std::string, double> metrics;  ///< "val.ap", ... (kValidationEnd)
  std::string run_dir;
};

}  // namespace avsl
