// Key functions of the SDK interfaces that hold LibTorch types: their vtables and typeinfo live once, in
// libavsl_core.so (the torch-free ones are in interface_vtables.cc).
#include "avsl/core/encoder.h"
#include "avsl/core/loss.h"
#include "avsl/core/method.h"
#include "avsl/core/optimizer.h"

namespace avsl {

Method::~Method() = default;
Encoder::~Encoder() = default;
Loss::~Loss() = default;
OptimizerFactory::~OptimizerFactory() = default;

}  // namespace avsl
