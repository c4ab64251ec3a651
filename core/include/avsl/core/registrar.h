// The only object through which a plugin registers components: it is handed to the plugin's registration
// callback and stages entries under the plugin's scope ("EZVSL" registered by plugin "ezvsl" becomes
// "ezvsl.EZVSL"). The host commits the staged entries only if the whole callback succeeds.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/export.h"
#include "avsl/core/schema.h"

namespace avsl {

class AVSL_EXPORT Registrar {
 public:
  explicit Registrar(std::string plugin_name) : plugin_(std::move(plugin_name)) {}
  Registrar(const Registrar&) = delete;
  Registrar& operator=(const Registrar&) = delete;

  /// Registers `<plugin>.<name>`. Names are CamelCase identifiers; a name registered twice is an error.
  /// Errors are recorded, not returned: the host refuses the whole plugin if any occurred.
  template <class T>
  void Register(const std::string& name, Schema schema, Factory<T> factory, const std::string& doc) {
    ComponentEntry entry;
    entry.info = ComponentInfo{plugin_ + "." + name, KindOf<T>::value, plugin_, doc,
                               std::make_shared<const Schema>(std::move(schema))};
    entry.factory = std::make_shared<const Factory<T>>(std::move(factory));
    Stage(name, std::move(entry));
  }

  const std::string& plugin() const { return plugin_; }
  const std::vector<ComponentEntry>& staged() const { return staged_; }
  /// First error recorded during registration (OK if none).
  const absl::Status& status() const { return status_; }

 private:
  void Stage(const std::string& short_name, ComponentEntry entry);
  std::string plugin_;
  std::vector<ComponentEntry> staged_;
  absl::Status status_;
};

}  // namespace avsl
