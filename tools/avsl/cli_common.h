// Shared plumbing of the avsl subcommands: exit codes, error printing, plugin loading, recipe loading.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "cli_args.h"

namespace avsl::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

/// A subcommand: `run` receives the whole argv; its own arguments start at argv[first].
struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv, int first);
};

/// Parses; on --help prints usage to stdout and returns kExitOk; on a usage error prints it with the usage
/// to stderr and returns kExitUsage; returns -1 when the command should go on.
int ParseOrExit(Args& args, int argc, char** argv, int first);

/// One clear line on stderr: "avsl <command>: error: <message>", a LibTorch backtrace cut off unless `verbose`.
/// Returns kExitError.
int ReportError(const std::string& command, const absl::Status& status, bool verbose = false);

/// Adds --plugin-path to `args`.
void AddPluginOptions(Args& args);
/// Loads plugins from PluginHost::SearchPath (absolute directories, so the records and a run's env.json name files
/// that can be found from anywhere), warning on stderr about the relative AVSL_PLUGIN_PATH entries it ignores.
std::unique_ptr<PluginHost> LoadPlugins(const Args& args);
/// For a component or plugin that is not loaded (a NotFound "unknown <kind>" or "recipe requires plugin"
/// error), `status` with the directories `host` searched and how to add one (--plugin-path DIR, AVSL_PLUGIN_PATH),
/// and, when plugins failed to load, a pointer to `avsl plugins list`. Other errors come back unchanged.
absl::Status WithPluginHint(const absl::Status& status, const PluginHost& host);

/// Adds --set to `args`.
void AddRecipeOptions(Args& args);
/// Loads `path` (a file, or a shipped recipe by name: @avsl/ezvsl/synthetic.toml) with the --set overrides and
/// validates it against everything `host` registered; errors about plugins that are not loaded carry
/// WithPluginHint's hint.
absl::StatusOr<Recipe> LoadRecipe(const std::string& path, const Args& args, const PluginHost& host);
/// As above with the overrides given explicitly (e.g. the user's --set plus ones the command adds).
absl::StatusOr<Recipe> LoadRecipe(const std::string& path, const std::vector<std::string>& overrides,
                                  const PluginHost& host);

// The subcommands (one file each).
int RunPlugins(int argc, char** argv, int first);
int RunRecipe(int argc, char** argv, int first);
int RunTrain(int argc, char** argv, int first);
int RunEval(int argc, char** argv, int first);
int RunInfer(int argc, char** argv, int first);
int RunData(int argc, char** argv, int first);
int RunScore(int argc, char** argv, int first);
int RunSynth(int argc, char** argv, int first);
int RunInspect(int argc, char** argv, int first);
int RunReport(int argc, char** argv, int first);
int RunGrid(int argc, char** argv, int first);
int RunNewPlugin(int argc, char** argv, int first);
int RunBench(int argc, char** argv, int first);

}  // namespace avsl::cli
