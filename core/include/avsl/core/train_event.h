// The training loop's events, as methods (Method::OnTrainEvent) and hooks (Hook::OnEvent) see them.
#pragma once

#include <map>
#include <string>

namespace avsl {

class RankGroup;  // avsl/core/rank_group.h

struct TrainEvent {
  enum class Type { kRunStart, kEpochStart, kStepEnd, kEpochEnd, kValidationEnd, kRunEnd };
  Type type = Type::kRunStart;
  long long epoch = 0;  ///< epochs completed (kEpochStart: the epoch about to run, 0-based)
  long long step = 0;   ///< optimizer steps completed
  double loss = 0;      ///< last step's loss (kStepEnd) or the epoch mean (kEpochEnd; NaN: no step this run)
  std::map<std::string, double> metrics;  ///< "val.ap", ... (kValidationEnd)
  std::string run_dir;
  /// A data-parallel run's ranks (null in one process). Every rank receives each event at the same point of the
  /// run, so a method may call collectives here: state a method builds from the samples it saw over an epoch (DSOL's
  /// feature bank) is gathered from every rank at kEpochEnd. Added in SDK 1.6 (plugin ABI 7).
  RankGroup* ranks = nullptr;
};

}  // namespace avsl
