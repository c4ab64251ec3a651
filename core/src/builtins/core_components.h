// Private: registration of the components built into the core ("core.*").
#pragma once

#include "avsl/core/registrar.h"

namespace avsl {

void RegisterOptimizers(Registrar& registrar);
void RegisterLrSchedules(Registrar& registrar);
void RegisterHooks(Registrar& registrar);
void RegisterMetrics(Registrar& registrar);
void RegisterTransforms(Registrar& registrar);

}  // namespace avsl
