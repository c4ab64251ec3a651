#include "train/core_components.h"

#include "avsl/core/plugin_host.h"

namespace avsl {

void RegisterCoreComponents(Registrar& registrar) {
  RegisterOptimizers(registrar);
  RegisterLrSchedules(registrar);
  RegisterHooks(registrar);
  RegisterMetrics(registrar);
  RegisterTransforms(registrar);
  RegisterEncoders(registrar);
}

}  // namespace avsl
