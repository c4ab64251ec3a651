// lvs.HardPos, the lvs plugin's second method (Senocak et al., ICASSP 2022; paper only, no released code):
// LVS plus in-batch hard positives. lvs.cc's AVSL_PLUGIN block calls RegisterHardPos next to its own LVS entry.
#pragma once

#include "avsl/core/registrar.h"

namespace avsl::plugins::hardpos {

/// Registers "HardPos" (under the plugin's scope: lvs.HardPos) with its schema and factory.
void RegisterHardPos(Registrar& registrar);

}  // namespace avsl::plugins::hardpos
