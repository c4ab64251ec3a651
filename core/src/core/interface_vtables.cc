// Key functions of the torch-free SDK interfaces: their vtables and typeinfo live once, in libavsl_core.so (those of
// the interfaces that hold LibTorch types are in model_interface_vtables.cc, so the torch-free build has these).
#include "avsl/core/dataset.h"
#include "avsl/core/hook.h"
#include "avsl/core/lr_schedule.h"
#include "avsl/core/metric.h"
#include "avsl/core/split.h"
#include "avsl/core/transform.h"

namespace avsl {

LrSchedule::~LrSchedule() = default;
double LrSchedule::FactorAt(long long step, long long total_steps, long long) const {
  return Factor(step, total_steps);
}
Dataset::~Dataset() = default;
Split::~Split() = default;
Hook::~Hook() = default;
Metric::~Metric() = default;
Transform::~Transform() = default;

}  // namespace avsl
