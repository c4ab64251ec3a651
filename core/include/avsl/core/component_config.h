// The validated recipe table of one component, defaults filled in. Factories read their options here.
// Reading a key the component's schema does not declare is a programming error in the component and
// throws ConfigError (converted to absl::Status by the registry when the component is built).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "avsl/core/export.h"

namespace avsl {

class ComponentRegistry;

class AVSL_EXPORT ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  ~ConfigError() override;
};

class AVSL_EXPORT ComponentConfig {
 public:
  struct Impl;
  ComponentConfig();
  ComponentConfig(std::shared_ptr<const Impl> impl, std::string path);

  /// Dotted path of this table in the recipe ("model.image_encoder"), used in messages.
  const std::string& path() const { return path_; }
  /// The registered component name in `type` ("" for plain tables).
  std::string type() const;

  bool Has(const std::string& key) const;
  bool GetBool(const std::string& key) const;
  long long GetInt(const std::string& key) const;
  double GetFloat(const std::string& key) const;  ///< accepts integers too
  std::string GetString(const std::string& key) const;
  std::vector<long long> GetIntArray(const std::string& key) const;
  std::vector<double> GetFloatArray(const std::string& key) const;
  std::vector<std::string> GetStringArray(const std::string& key) const;
  ComponentConfig Sub(const std::string& key) const;  ///< nested table or component
  std::vector<ComponentConfig> SubArray(const std::string& key) const;

  /// The table rendered as TOML (for checkpoints and logs).
  std::string ToToml() const;
  const Impl* impl() const { return impl_.get(); }

  /// The registry that is building this component (set by ComponentRegistry::Build, inherited by Sub), so a
  /// factory can build its nested components with BuildSub<T>(config, "image_encoder").
  const ComponentRegistry* registry() const { return registry_; }
  ComponentConfig WithRegistry(const ComponentRegistry* registry) const;

 private:
  std::shared_ptr<const Impl> impl_;
  std::string path_;
  const ComponentRegistry* registry_ = nullptr;
};

}  // namespace avsl
