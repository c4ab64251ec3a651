// Registration of each component of the datasets plugin (one function per component, called by plugin.cc).
#pragma once

#include "avsl/core/registrar.h"

namespace avsl::plugins::datasets {

void RegisterFlickr(Registrar& registrar);
void RegisterVggSound(Registrar& registrar);
void RegisterSyntheticAv(Registrar& registrar);
void RegisterOpenSet(Registrar& registrar);
void RegisterPairs(Registrar& registrar);
void RegisterVideoFrames(Registrar& registrar);
void RegisterIs3(Registrar& registrar);

}  // namespace avsl::plugins::datasets
