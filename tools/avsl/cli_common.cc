#include "cli_common.h"
#include "avsl/builtins/core_components.h"

#include <iostream>

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

int ReportError(const std::string& command, const absl::Status& status) {
  std::cerr << "avsl " << command << ": error: " << status.message() << "\n";
  return kExitError;
}

void AddPluginOptions(Args& args) {
  args.Option("plugin-path", "DIR", "search DIR for plugins first (':'-separated list allowed)", true);
}

std::unique_ptr<PluginHost> LoadPlugins(const Args& args) {
  auto host = std::make_unique<PluginHost>();
  AddCoreComponents(*host);
  host->LoadDirectories(PluginHost::SearchPath(args.GetAll("plugin-path")));
  return host;
}

void AddRecipeOptions(Args& args) {
  args.Option("set", "KEY=VALUE", "override a recipe key; VALUE is TOML (5, 1e-4, \"text\", [224, 224], true)", true);
}

absl::StatusOr<Recipe> LoadRecipe(const std::string& path, const Args& args, const PluginHost& host) {
  absl::StatusOr<Recipe> recipe = Recipe::Load(path, args.GetAll("set"));
  if (!recipe.ok()) return recipe.status();
  absl::Status status = recipe->Validate(host);
  if (!status.ok()) return status;
  return recipe;
}

}  // namespace avsl::cli
