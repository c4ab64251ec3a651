// TOML recipes: loading with `base = [...]` inheritance, `--set` overrides and strict validation against
// the schemas of the core and of every registered component.
//
// Precedence (lowest first): schema defaults < bases (left to right) < the recipe itself < --set.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/core/component_config.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/export.h"
#include "avsl/core/plugin_host.h"

namespace avsl {

/// Bounds on what a recipe may make the loader do, so that a hostile or broken one (a chain of bases thousands deep,
/// a diamond of bases repeated at every level, a megabyte `--set` value) fails at once with a message instead of
/// exhausting the stack, the memory or the user's patience. Real recipes stay far below them (docs/recipes.md).
inline constexpr int kMaxRecipeBaseDepth = 16;             ///< files in one chain of `base` (the recipe included)
inline constexpr int kMaxRecipeFiles = 256;                ///< files read through bases, repeats included
inline constexpr long long kMaxRecipeFileBytes = 1 << 20;  ///< one recipe file, or recipe text
inline constexpr long long kMaxOverrideBytes = 64 << 10;   ///< one `--set KEY=VALUE`
inline constexpr int kMaxOverrideKeyDepth = 16;            ///< dotted parts of a `--set` key

class AVSL_EXPORT Recipe {
 public:
  struct Impl;
  Recipe();
  ~Recipe();
  Recipe(Recipe&&) noexcept;
  Recipe& operator=(Recipe&&) noexcept;

  /// Reads `path` and its bases, then applies `overrides` ("a.b.c=<TOML value>", in order). `path` may name a
  /// shipped recipe, `@avsl/ezvsl/synthetic.toml`, as `base` entries may (RecipeSearchPath()).
  /// Not yet validated: call Validate() before reading components.
  static absl::StatusOr<Recipe> Load(const std::string& path, const std::vector<std::string>& overrides);
  /// Same, from TOML text (`origin` names it in messages; bases resolve relative to `base_dir`).
  static absl::StatusOr<Recipe> Parse(const std::string& toml_text, const std::string& origin,
                                      const std::string& base_dir, const std::vector<std::string>& overrides);

  /// Checks every key against the recipe schema and the schema of each component named by a `type`,
  /// and fills in defaults. `failed_plugins` are mentioned when a `type` is unknown.
  absl::Status Validate(const ComponentRegistry& registry, const std::vector<const PluginRecord*>& failed_plugins = {});
  /// Same, with everything `host` loaded: also checks the recipe's `plugins` list against loaded plugins.
  absl::Status Validate(const PluginHost& host);

  /// The whole recipe as a component table (top-level keys).
  ComponentConfig Root() const;
  /// Resolved TOML: bases merged, overrides applied, defaults filled in (after Validate); re-runnable.
  std::string ToToml() const;
  /// File (or "--set") that supplied a dotted key, "" when it came from a default.
  std::string OriginOf(const std::string& dotted_key) const;
  /// Flattened view, "a.b.c" -> TOML literal, for diffs.
  std::map<std::string, std::string> Flatten() const;
  const std::string& path() const;

 private:
  std::unique_ptr<Impl> impl_;
};

/// Schema of the recipe's top level (data, model, optim, schedule, train, eval, hooks, ...).
AVSL_EXPORT const Schema& RecipeSchema();

/// Where a recipe named `@avsl/<relative path>` (the recipe given to Load, or an entry of `base`) is looked up,
/// first match wins: each entry of $AVSL_RECIPE_PATH (':'-separated), then the recipes installed with
/// libavsl_core.so (<prefix>/share/avsl/recipes); in a build tree, where that directory does not exist, the source
/// tree's recipes/ after it.
AVSL_EXPORT std::vector<std::string> RecipeSearchPath();

/// The registered names closest to `name` (edit distance), best first; empty if none is close.
AVSL_EXPORT std::vector<std::string> ClosestNames(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace avsl
