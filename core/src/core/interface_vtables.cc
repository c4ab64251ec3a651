// Key functions of the SDK interfaces: their vtables and typeinfo live once, in libavsl_core.so.
#include "avsl/core/dataset.h"
#include "avsl/core/encoder.h"
#include "avsl/core/hook.h"
#include "avsl/core/loss.h"
#include "avsl/core/lr_schedule.h"
#include "avsl/core/method.h"
#include "avsl/core/metric.h"
#include "avsl/core/optimizer.h"
#include "avsl/core/split.h"
#include "avsl/core/transform.h"

namespace avsl {

Method::~Method() = default;
Encoder::~Encoder() = default;
Loss::~Loss() = default;
OptimizerFactory::~OptimizerFactory() = default;
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
