// The encoder components of the core (core.ResNet18Image, core.ResNet18Audio). The built-ins
// (avsl/builtins/core_components.h) register them with the rest of the "core" scope.
#pragma once

#include "avsl/core/registrar.h"

namespace avsl {

void RegisterEncoders(Registrar& registrar);

}  // namespace avsl
