// Key functions of the SDK interfaces: their vtables and typeinfo live once, in libavsl_core.so.
#include "avsl/core/encoder.h"
#include "avsl/core/loss.h"
#include "avsl/core/lr_schedule.h"
#include "avsl/core/method.h"
#include "avsl/core/optimizer.h"

namespace avsl {

Method::~Method() = default;
Encoder::~Encoder() = default;
Loss::~Loss() = default;
OptimizerFactory::~OptimizerFactory() = default;
LrSchedule::~LrSchedule() = default;

}  // namespace avsl
