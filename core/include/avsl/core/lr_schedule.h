// Learning-rate schedule: a pure function of the step, so a resumed run gets the same rates.
#pragma once

#include "avsl/core/export.h"

namespace avsl {

class AVSL_EXPORT LrSchedule {
 public:
  virtual ~LrSchedule();
  /// Multiplier of the base learning rate at `step` (0-based) of `total_steps`.
  virtual double Factor(long long step, long long total_steps) const = 0;
};

}  // namespace avsl
