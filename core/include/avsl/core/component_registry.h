// Typed registries of components. Plugins add entries only through a Registrar inside their registration
// callback; the host commits a plugin's entries all at once, so a plugin that fails half-way leaves nothing.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "avsl/core/component_config.h"
#include "avsl/core/component_kind.h"
#include "avsl/core/export.h"
#include "avsl/core/schema.h"

namespace avsl {

template <class T>
using Factory = std::function<absl::StatusOr<std::shared_ptr<T>>(const ComponentConfig&)>;

/// What `avsl plugins list` and `avsl recipe describe` show about a component.
struct ComponentInfo {
  std::string name;  ///< scoped: "<plugin>.<Component>"
  ComponentKind kind;
  std::string plugin;  ///< plugin that registered it ("core" for built-ins)
  std::string doc;
  std::shared_ptr<const Schema> schema;
};

struct ComponentEntry {
  ComponentInfo info;
  std::shared_ptr<const void> factory;  ///< points to a Factory<T> for T with KindOf<T> == info.kind
};

class AVSL_EXPORT ComponentRegistry {
 public:
  /// Adds all entries or none. Fails (naming both owners) if a name is already taken.
  absl::Status Commit(const std::vector<ComponentEntry>& entries);

  const ComponentEntry* Find(ComponentKind kind, const std::string& name) const;
  const ComponentInfo* FindAnyKind(const std::string& name) const;
  std::vector<std::string> Names(ComponentKind kind) const;
  std::vector<const ComponentInfo*> All() const;

  /// Builds the component named by `config.type()`; exceptions from the factory become a Status.
  template <class T>
  absl::StatusOr<std::shared_ptr<T>> Build(const ComponentConfig& config) const {
    const ComponentEntry* entry = Find(KindOf<T>::value, config.type());
    if (entry == nullptr) return UnknownType(KindOf<T>::value, config);
    const auto& factory = *static_cast<const Factory<T>*>(entry->factory.get());
    absl::StatusOr<std::shared_ptr<T>> result = absl::InternalError("factory did not run");
    const ComponentConfig with_registry = config.WithRegistry(this);
    absl::Status thrown = Invoke(config, [&] { result = factory(with_registry); });
    if (!thrown.ok()) return thrown;
    if (result.ok() && *result == nullptr)
      return absl::InternalError("component '" + config.type() + "' at '" + config.path() + "': factory returned null");
    return result;
  }

 private:
  absl::Status UnknownType(ComponentKind kind, const ComponentConfig& config) const;
  static absl::Status Invoke(const ComponentConfig& config, const std::function<void()>& call);
  std::map<std::string, ComponentEntry> entries_[kAllComponentKinds.size()];
};

/// Builds the nested component at `parent.<key>` (e.g. a method's `image_encoder`) with the registry that is
/// building `parent`. Inside a factory: `AVSL_ASSIGN_OR_RETURN(auto enc, BuildSub<Encoder>(config, "image_encoder"));`
template <class T>
absl::StatusOr<std::shared_ptr<T>> BuildSub(const ComponentConfig& parent, const std::string& key) {
  if (parent.registry() == nullptr) {
    return absl::FailedPreconditionError("'" + parent.path() + "." + key +
                                         "': no registry (build the parent through ComponentRegistry::Build)");
  }
  if (!parent.Has(key)) {
    return absl::NotFoundError("recipe key '" + parent.path() + "." + key + "' is not set");
  }
  return parent.registry()->Build<T>(parent.Sub(key));
}

}  // namespace avsl
