// The files `avsl new-plugin` writes: a buildable out-of-tree method plugin (CMake project, source, gtest,
// README, synthetic recipe) rendered from templates with the plugin's names substituted.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace avsl::cli {

struct PluginTemplateParams {
  std::string name;       ///< plugin name: [a-z][a-z0-9_]*, the library is libavsl_<name>.so
  std::string component;  ///< registered method name, e.g. MarginNce -> <name>.MarginNce
  std::string from;       ///< "" (a method written from scratch) or "ezvsl" (a subclass of the two-tower block)
  std::string sdk_version;
};

/// The starting points `--from` accepts, each with a one-line description.
std::vector<std::pair<std::string, std::string>> PluginTemplateBases();

/// CamelCase of a snake_case plugin name: "margin_nce" -> "MarginNce".
std::string ComponentNameFor(const std::string& plugin_name);

/// Checks the names (plugin name, component identifier, known `from`); errors name the flag and the rule.
absl::Status ValidatePluginTemplateParams(const PluginTemplateParams& params);

/// {relative file name, contents} of every file of the plugin folder.
std::vector<std::pair<std::string, std::string>> RenderPluginTemplate(const PluginTemplateParams& params);

}  // namespace avsl::cli
