// Runs remember their plugins: a run directory's env.json lists every plugin the run loaded, with its path and
// SHA-1 (written by core/src/train/run_report.cc). `avsl eval` and `avsl train --resume` load, after the normal
// search path, the recorded plugins that path did not provide, so a run trained with --plugin-path evaluates
// without it.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/core/plugin_host.h"

namespace avsl::cli {

/// One plugin as env.json records it.
struct RecordedPlugin {
  std::string name;
  std::string version;
  std::string path;
  std::string sha1;  ///< 40 hex digits; "" when the file could not be read at training time
};

/// The plugins `env_json` (a run's env.json) lists with status "loaded", in the recorded order (dependencies
/// before the plugins that need them), without the core's built-ins ("core"). An error names the file and what
/// was expected.
absl::StatusOr<std::vector<RecordedPlugin>> ReadRecordedPlugins(const std::string& env_json);

/// Loads into `host`, with PluginHost::LoadFile in the recorded order, every plugin `run_dir`/env.json records
/// that `host` has not loaded by name (the search path wins). Only an absolute path whose SHA-1 equals the recorded
/// one is opened. Returns one line per plugin for stderr: "loaded plugin NAME VERSION from PATH (recorded in
/// RUN/env.json)", or a line starting "warning: " when the recorded path is relative, the file is gone, its SHA-1
/// differs from the recorded one (not loaded; each suggests --plugin-path), it failed to load, or the search path's
/// plugin of that name is another build than the run's. A run directory without env.json gives no lines.
std::vector<std::string> LoadRecordedPlugins(const std::string& run_dir, PluginHost& host);

}  // namespace avsl::cli
