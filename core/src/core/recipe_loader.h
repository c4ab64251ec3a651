// Private: reading recipe files with base inheritance and --set overrides (no schema knowledge here).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "absl/status/statusor.h"

namespace avsl {

/// A merged TOML table plus, for every dotted key, the file (or "--set") that supplied it.
struct LoadedToml {
  toml::table table;
  std::map<std::string, std::string> origin;
};

absl::StatusOr<LoadedToml> LoadRecipeFile(const std::string& path);
absl::StatusOr<LoadedToml> LoadRecipeText(const std::string& text, const std::string& origin,
                                          const std::string& base_dir);
/// Applies one "a.b.c=<TOML value>" override.
absl::Status ApplyOverride(const std::string& assignment, LoadedToml& recipe);

/// The file that supplied `dotted` (or its closest enclosing table); "" if unknown.
std::string FindOrigin(const std::map<std::string, std::string>& origin, const std::string& dotted);

}  // namespace avsl
