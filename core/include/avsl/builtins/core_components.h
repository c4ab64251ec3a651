// The components built into libavsl_core ("core.*": optimizers, LR schedules, hooks, metrics, transforms,
// encoders), packaged as a plugin that is linked in rather than opened. The plugin host registers nothing
// by itself; the program's composition root (the CLI, a test, a benchmark) hands these in:
//   PluginHost host;
//   host.LoadLinked(avsl::CoreComponents(), "libavsl_core");   // or AddCoreComponents(host)
#pragma once

#include "avsl/core/export.h"
#include "avsl/core/plugin_abi.h"
#include "avsl/core/plugin_host.h"

namespace avsl {

/// The info struct of the built-ins, scope "core".
AVSL_EXPORT const PluginInfo& CoreComponents();

/// host.LoadLinked(CoreComponents(), <path of libavsl_core>); returns the record (status kLoaded unless a
/// built-in failed to register, which is a bug).
AVSL_EXPORT const PluginRecord& AddCoreComponents(PluginHost& host);

}  // namespace avsl
