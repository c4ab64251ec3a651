#include "avsl/core/component_registry.h"

#include <cctype>
#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "avsl/core/recipe.h"
#include "avsl/core/registrar.h"
#include "text_util.h"

namespace avsl {

ConfigError::~ConfigError() = default;

absl::Status ComponentRegistry::Commit(const std::vector<ComponentEntry>& entries) {
  for (const ComponentEntry& e : entries) {
    if (const ComponentInfo* other = FindAnyKind(e.info.name)) {
      return absl::AlreadyExistsError(absl::StrCat("component '", e.info.name, "' from plugin '", e.info.plugin,
                                                   "' is already registered by plugin '", other->plugin, "' (as ",
                                                   WithArticle(ComponentKindName(other->kind)), ")"));
    }
  }
  for (const ComponentEntry& e : entries) entries_[static_cast<int>(e.info.kind)].emplace(e.info.name, e);
  return absl::OkStatus();
}

const ComponentEntry* ComponentRegistry::Find(ComponentKind kind, const std::string& name) const {
  const auto& map = entries_[static_cast<int>(kind)];
  auto it = map.find(name);
  return it == map.end() ? nullptr : &it->second;
}

const ComponentInfo* ComponentRegistry::FindAnyKind(const std::string& name) const {
  for (const auto& map : entries_) {
    auto it = map.find(name);
    if (it != map.end()) return &it->second.info;
  }
  return nullptr;
}

std::vector<std::string> ComponentRegistry::Names(ComponentKind kind) const {
  std::vector<std::string> names;
  for (const auto& [name, entry] : entries_[static_cast<int>(kind)]) names.push_back(name);
  return names;
}

std::vector<const ComponentInfo*> ComponentRegistry::All() const {
  std::vector<const ComponentInfo*> all;
  for (const auto& map : entries_)
    for (const auto& [name, entry] : map) all.push_back(&entry.info);
  return all;
}

absl::Status ComponentRegistry::UnknownType(ComponentKind kind, const ComponentConfig& config) const {
  std::vector<std::string> names = Names(kind);
  std::string msg = absl::StrCat("'", config.path(), ".type': unknown ", ComponentKindName(kind), " '", config.type(),
                                 "'");
  std::vector<std::string> close = ClosestNames(config.type(), names);
  if (!close.empty()) absl::StrAppend(&msg, "; did you mean '", close.front(), "'?");
  absl::StrAppend(&msg, " Registered ", ComponentKindName(kind),
                  "s: ", names.empty() ? "(none)" : absl::StrJoin(names, ", "));
  return absl::NotFoundError(msg);
}

absl::Status ComponentRegistry::Invoke(const ComponentConfig& config, const std::function<void()>& call) {
  try {
    call();
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("building '", config.type(), "' at '", config.path(), "' failed: ", e.what()));
  } catch (...) {
    return absl::InternalError(
        absl::StrCat("building '", config.type(), "' at '", config.path(), "' failed with a non-standard exception"));
  }
  return absl::OkStatus();
}

void Registrar::Stage(const std::string& short_name, ComponentEntry entry) {
  absl::Status status;
  bool valid = !short_name.empty() && short_name.find('.') == std::string::npos;
  for (char c : short_name) valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!valid) {
    status = absl::InvalidArgumentError(absl::StrCat("plugin '", plugin_, "' registered an invalid component name '",
                                                     short_name,
                                                     "' (expected letters, digits and '_', without the scope)"));
  }
  for (const ComponentEntry& e : staged_) {
    if (status.ok() && e.info.name == entry.info.name) {
      status = absl::AlreadyExistsError(
          absl::StrCat("plugin '", plugin_, "' registered component '", entry.info.name, "' twice"));
    }
  }
  if (status.ok()) {
    staged_.push_back(std::move(entry));
  } else if (status_.ok()) {
    status_ = status;
  }
}

}  // namespace avsl
