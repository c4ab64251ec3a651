#include "avsl/core/component_config.h"

#include <sstream>

#include "absl/strings/str_cat.h"
#include "component_config_impl.h"

namespace avsl {
namespace {

[[noreturn]] void Fail(const std::string& path, const std::string& key, const std::string& what) {
  throw ConfigError(absl::StrCat("recipe key '", path.empty() ? key : path + "." + key, "': ", what));
}

}  // namespace

ComponentConfig MakeComponentConfig(std::shared_ptr<const toml::table> root, const toml::table* table,
                                    std::string path) {
  auto impl = std::make_shared<ComponentConfig::Impl>();
  impl->root = std::move(root);
  impl->table = table;
  return ComponentConfig(std::move(impl), std::move(path));
}

std::string TomlLiteral(const toml::node& node) {
  std::ostringstream os;
  if (const auto* t = node.as_table()) {
    os << toml::toml_formatter(*t, toml::format_flags::relaxed_float_precision);
    std::string s = os.str();
    return "{ " + s + " }";
  }
  node.visit([&](const auto& n) { os << toml::toml_formatter(n, toml::format_flags::relaxed_float_precision); });
  return os.str();
}

ComponentConfig::ComponentConfig() = default;
ComponentConfig::ComponentConfig(std::shared_ptr<const Impl> impl, std::string path)
    : impl_(std::move(impl)), path_(std::move(path)) {}

std::string ComponentConfig::type() const {
  if (!impl_) return "";
  return impl_->table->get("type") ? impl_->table->get("type")->value_or(std::string()) : "";
}

bool ComponentConfig::Has(const std::string& key) const { return impl_ && impl_->table->contains(key); }

namespace {
const toml::node& Need(const ComponentConfig::Impl* impl, const std::string& path, const std::string& key) {
  const toml::node* n = impl ? impl->table->get(key) : nullptr;
  if (n == nullptr) Fail(path, key, "missing (the component's schema declares no default for it)");
  return *n;
}
}  // namespace

bool ComponentConfig::GetBool(const std::string& key) const {
  const toml::node& n = Need(impl_.get(), path_, key);
  if (!n.is_boolean()) Fail(path_, key, "expected bool");
  return n.as_boolean()->get();
}

long long ComponentConfig::GetInt(const std::string& key) const {
  const toml::node& n = Need(impl_.get(), path_, key);
  if (!n.is_integer()) Fail(path_, key, "expected int");
  return n.as_integer()->get();
}

double ComponentConfig::GetFloat(const std::string& key) const {
  const toml::node& n = Need(impl_.get(), path_, key);
  if (n.is_integer()) return static_cast<double>(n.as_integer()->get());
  if (!n.is_floating_point()) Fail(path_, key, "expected float");
  return n.as_floating_point()->get();
}

std::string ComponentConfig::GetString(const std::string& key) const {
  const toml::node& n = Need(impl_.get(), path_, key);
  if (!n.is_string()) Fail(path_, key, "expected string");
  return n.as_string()->get();
}

std::vector<long long> ComponentConfig::GetIntArray(const std::string& key) const {
  const toml::node& n = Need(impl_.get(), path_, key);
  if (!n.is_array()) Fail(path_, key, "expected array of int");
  std::vector<long long> out;
  for (const auto& e : *n.as_array()) {
    if (!e.is_integer()) Fail(path_, key, "expected array of int");
    out.push_back(e.as_integer()->get());
  }
  return out;
}

std::vector<double> ComponentConfig::GetFloatArray(const std::string& key) const {
  const toml::node& n = Need(impl_.get(), path_, key);
  if (!n.is_array()) Fail(path_, key, "expected array of float");
  std::vector<double> out;
  for (const auto& e : *n.as_array()) {
    if (e.is_integer()) out.push_back(static_cast<double>(e.as_integer()->get()));
    else if (e.is_floating_point()) out.push_back(e.as_floating_point()->get());
    else Fail(path_, key, "expected array of float");
  }
  return out;
}

std::vector<std::string> ComponentConfig::GetStringArray(const std::string& key) const {
  const toml::node& n = Need(impl_.get(), path_, key);
  if (!n.is_array()) Fail(path_, key, "expected array of string");
  std::vector<std::string> out;
  for (const auto& e : *n.as_array()) {
    if (!e.is_string()) Fail(path_, key, "expected array of string");
    out.push_back(e.as_string()->get());
  }
  return out;
}

ComponentConfig ComponentConfig::WithRegistry(const ComponentRegistry* registry) const {
  ComponentConfig copy = *this;
  copy.registry_ = registry;
  return copy;
}

ComponentConfig ComponentConfig::Sub(const std::string& key) const {
  const toml::node& n = Need(impl_.get(), path_, key);
  if (!n.is_table()) Fail(path_, key, "expected table");
  return MakeComponentConfig(impl_->root, n.as_table(), path_.empty() ? key : path_ + "." + key)
      .WithRegistry(registry_);
}

std::vector<ComponentConfig> ComponentConfig::SubArray(const std::string& key) const {
  const toml::node& n = Need(impl_.get(), path_, key);
  if (!n.is_array()) Fail(path_, key, "expected array of tables");
  std::vector<ComponentConfig> out;
  size_t i = 0;
  for (const auto& e : *n.as_array()) {
    if (!e.is_table()) Fail(path_, key, "expected array of tables");
    out.push_back(
        MakeComponentConfig(impl_->root, e.as_table(), absl::StrCat(path_.empty() ? key : path_ + "." + key, ".", i++))
            .WithRegistry(registry_));
  }
  return out;
}

std::string ComponentConfig::ToToml() const {
  if (!impl_) return "";
  std::ostringstream os;
  os << toml::toml_formatter(*impl_->table);
  return os.str();
}

}  // namespace avsl
