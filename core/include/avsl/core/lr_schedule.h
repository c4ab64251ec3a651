// Learning-rate schedule: a pure function of the step, so a resumed run gets the same rates.
#pragma once

#include "avsl/core/export.h"

namespace avsl {

class AVSL_EXPORT LrSchedule {
 public:
  virtual ~LrSchedule();
  /// Multiplier of the base learning rate at `step` (0-based) of `total_steps`.
  virtual double Factor(long long step, long long total_steps) const = 0;
  /// What the trainer calls: the same, knowing the epoch length (`steps_per_epoch` >= 1), so a schedule can be
  /// written in epochs (core.MultiStep with unit = "epochs"). The default ignores the epoch length; a schedule in
  /// epochs reads an epoch as one step when called through Factor.
  virtual double FactorAt(long long step, long long total_steps, long long steps_per_epoch) const;
};

}  // namespace avsl
