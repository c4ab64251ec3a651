#include "cli_common.h"
#include "avsl/builtins/core_components.h"
#include "avsl/train/error_text.h"

#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace avsl::cli {

int ParseOrExit(Args& args, int argc, char** argv, int first) {
  absl::Status status = args.Parse(argc, argv, first);
  if (!status.ok()) {
    std::cerr << "avsl: " << status.message() << "\n\n" << args.Usage();
    return kExitUsage;
  }
  if (args.help()) {
    std::cout << args.Usage();
    return kExitOk;
  }
  return -1;
}

int ReportError(const std::string& command, const absl::Status& status, bool verbose) {
  const absl::Status shown = verbose ? status : train::WithoutBacktrace(status);
  std::cerr << "avsl " << command << ": error: " << shown.message() << "\n";
  return kExitError;
}

void AddPluginOptions(Args& args) {
  args.Option("plugin-path", "DIR", "search DIR for plugins first (':'-separated list allowed)", true);
}

std::unique_ptr<PluginHost> LoadPlugins(const Args& args) {
  auto host = std::make_unique<PluginHost>();
  AddCoreComponents(*host);
  for (const std::string& entry : PluginHost::IgnoredSearchPathEntries()) {
    std::cerr << "warning: AVSL_PLUGIN_PATH entry '" << entry
              << "' ignored: it is relative, so the plugins loaded would depend on the directory avsl runs in; give "
                 "an absolute path\n";
  }
  host->LoadDirectories(PluginHost::SearchPath(args.GetAll("plugin-path")));
  return host;
}

absl::Status WithPluginHint(const absl::Status& status, const PluginHost& host) {
  if (status.code() != absl::StatusCode::kNotFound) return status;
  const std::string message(status.message());
  // The texts of recipe.cc's and component_registry.cc's unknown-type errors and of recipe.cc's plugins check.
  if (!absl::StrContains(message, ".type': unknown ") && !absl::StrContains(message, "recipe requires plugin '")) {
    return status;
  }
  std::string hint;
  if (!host.searched_directories().empty()) {
    absl::StrAppend(&hint, "; plugins were searched for in ", absl::StrJoin(host.searched_directories(), ", "));
  }
  absl::StrAppend(&hint, hint.empty() ? "; " : " -- ",
                  "to search another directory, pass --plugin-path DIR or set AVSL_PLUGIN_PATH");
  int failed = 0;
  for (const PluginRecord* r : host.Failed())
    if (r->status != PluginStatus::kDuplicatePlugin) ++failed;
  if (failed > 0 && !absl::StrContains(message, "avsl plugins list")) {
    absl::StrAppend(&hint, "; ", failed, failed == 1 ? " plugin" : " plugins",
                    " failed to load: `avsl plugins list` shows why");
  }
  return absl::Status(status.code(), message + hint);
}

void AddRecipeOptions(Args& args) {
  args.Option("set", "KEY=VALUE", "override a recipe key; VALUE is TOML (5, 1e-4, \"text\", [224, 224], true)", true);
}

absl::StatusOr<Recipe> LoadRecipe(const std::string& path, const Args& args, const PluginHost& host) {
  return LoadRecipe(path, args.GetAll("set"), host);
}

absl::StatusOr<Recipe> LoadRecipe(const std::string& path, const std::vector<std::string>& overrides,
                                  const PluginHost& host) {
  absl::StatusOr<Recipe> recipe = Recipe::Load(path, overrides);
  if (!recipe.ok()) return recipe.status();
  absl::Status status = recipe->Validate(host);
  if (!status.ok()) return WithPluginHint(status, host);
  return recipe;
}

}  // namespace avsl::cli
