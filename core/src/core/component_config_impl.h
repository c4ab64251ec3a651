// Private: the toml++ representation behind ComponentConfig (kept out of SDK headers).
#pragma once

#include <memory>

#include <toml++/toml.h>

#include "avsl/core/component_config.h"

namespace avsl {

struct ComponentConfig::Impl {
  std::shared_ptr<const toml::table> root;  ///< keeps the whole recipe alive
  const toml::table* table = nullptr;       ///< this component's table inside `root`
};

/// Wraps a table that lives inside `root`.
ComponentConfig MakeComponentConfig(std::shared_ptr<const toml::table> root, const toml::table* table,
                                    std::string path);

/// TOML text of a single value (strings quoted, arrays and inline tables on one line).
std::string TomlLiteral(const toml::node& node);

}  // namespace avsl
