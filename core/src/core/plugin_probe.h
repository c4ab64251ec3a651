// Opens a plugin file in a throwaway child process first, so that a plugin that crashes (in a static constructor or
// in its registration callback), hangs, or has an unresolved symbol is reported by name instead of taking the host
// process, and `avsl plugins list` with it, down.
#pragma once

#include <functional>
#include <string>

#include "avsl/core/plugin_abi.h"

namespace avsl {

struct PluginProbeResult {
  bool ok = true;
  bool registering = false;  ///< the failure came from the registration callback, not from opening the file
  std::string message;       ///< why: the dynamic loader's message, the signal, the exit status or the time-out
};

/// Forks; the child opens `path` with every symbol bound now (RTLD_NOW: an undefined symbol is found here, not at its
/// first call), runs the registration callback into a scratch Registrar when `safe_to_register` accepts the info
/// struct (the handshake's own checks), and exits without running a destructor. Exceptions and registration errors
/// are no failure here: the real load in this process reports them with the component named. Where no child can be
/// made (fork or pipe fails), the result is ok and the real load goes ahead unprobed.
PluginProbeResult ProbePluginFile(const std::string& path,
                                  const std::function<bool(const PluginInfo&)>& safe_to_register, int timeout_seconds);

}  // namespace avsl
