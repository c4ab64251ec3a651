#include "avsl/core/recipe.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "avsl/core/status_macros.h"
#include "component_config_impl.h"
#include "recipe_loader.h"
#include "text_util.h"

namespace avsl {

struct Recipe::Impl {
  std::string path;
  LoadedToml loaded;
  std::shared_ptr<const toml::table> resolved;  ///< set by Validate
};

namespace {

std::string Join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

std::string TypeOf(const toml::node& n) {
  std::ostringstream os;
  os << n.type();
  return os.str();
}

class Validator {
 public:
  Validator(const ComponentRegistry& registry, const std::vector<const PluginRecord*>& failed,
            const std::map<std::string, std::string>& origin)
      : registry_(registry), failed_(failed), origin_(origin) {}

  absl::Status Table(toml::table& t, const Schema& schema, const std::string& path, const std::string& owner) {
    for (auto&& [k, v] : t) {
      const std::string key(k.str());
      if (!owner.empty() && key == "type") continue;
      const Field* field = schema.Find(key);
      if (field == nullptr) return UnknownKey(Join(path, key), key, schema, owner);
      AVSL_RETURN_IF_ERROR(Value(v, *field, Join(path, key)));
    }
    for (const Field& f : schema.fields()) {
      if (t.contains(f.name)) continue;
      const std::string fpath = Join(path, f.name);
      if (f.required) {
        return absl::InvalidArgumentError(absl::StrCat("missing required recipe key '", fpath, "' (",
                                                       FieldTypeName(f.type), ": ", f.doc, ")", Where(path)));
      }
      if (f.type == FieldType::kTable) {
        t.insert(f.name, toml::table{});
      } else if (f.type == FieldType::kComponent) {
        if (f.default_toml.empty()) continue;
        toml::table component = toml::parse(std::string_view("type = " + f.default_toml));
        t.insert(f.name, std::move(component));
      } else {
        if (f.default_toml.empty()) continue;
        toml::table parsed = toml::parse(std::string_view("v = " + f.default_toml));
        parsed.get("v")->visit([&](const auto& n) { t.insert(f.name, n); });
      }
      AVSL_RETURN_IF_ERROR(Value(*t.get(f.name), f, fpath));
    }
    return absl::OkStatus();
  }

 private:
  std::string Where(const std::string& path) const {
    std::string file = FindOrigin(origin_, path);
    return file.empty() ? "" : absl::StrCat(" [", file, "]");
  }

  absl::Status TypeError(const std::string& path, const Field& f, const toml::node& n) const {
    return absl::InvalidArgumentError(
        absl::StrCat("recipe key '", path, "': expected ", FieldTypeName(f.type), ", found ", TypeOf(n), Where(path)));
  }

  absl::Status UnknownKey(const std::string& path, const std::string& key, const Schema& schema,
                          const std::string& owner) const {
    std::string msg = absl::StrCat("unknown recipe key '", path, "'", Where(path));
    std::vector<std::string> close = ClosestNames(key, schema.FieldNames());
    if (!close.empty()) absl::StrAppend(&msg, "; did you mean '", close.front(), "'?");
    absl::StrAppend(&msg, close.empty() ? "." : "", " Valid keys", owner.empty() ? "" : " of '" + owner + "'", ": ",
                    schema.fields().empty() ? "(none)" : absl::StrJoin(schema.FieldNames(), ", "));
    return absl::InvalidArgumentError(msg);
  }

  absl::Status Number(double v, const Field& f, const std::string& path) const {
    if (!std::isfinite(v) || (f.min && v < *f.min) || (f.max && v > *f.max)) {
      return absl::OutOfRangeError(absl::StrCat("recipe key '", path, "' = ", v, " is out of range [",
                                                f.min ? absl::StrCat(*f.min) : "-inf", ", ",
                                                f.max ? absl::StrCat(*f.max) : "inf", "]", Where(path)));
    }
    return absl::OkStatus();
  }

  absl::Status Scalar(const toml::node& n, FieldType type, const Field& f, const std::string& path) const {
    switch (type) {
      case FieldType::kBool:
        if (!n.is_boolean()) return TypeError(path, f, n);
        return absl::OkStatus();
      case FieldType::kInt:
        if (!n.is_integer()) return TypeError(path, f, n);
        return Number(static_cast<double>(n.as_integer()->get()), f, path);
      case FieldType::kFloat:
        if (!n.is_number()) return TypeError(path, f, n);
        return Number(n.is_integer() ? static_cast<double>(n.as_integer()->get()) : n.as_floating_point()->get(), f,
                      path);
      case FieldType::kString: {
        if (!n.is_string()) return TypeError(path, f, n);
        const std::string& s = n.as_string()->get();
        if (!f.choices.empty() && std::find(f.choices.begin(), f.choices.end(), s) == f.choices.end()) {
          return absl::InvalidArgumentError(absl::StrCat("recipe key '", path, "' = \"", s, "\": expected one of ",
                                                         absl::StrJoin(f.choices, ", "), Where(path)));
        }
        return absl::OkStatus();
      }
      default: return absl::InternalError("not a scalar field type");
    }
  }

  absl::Status Value(toml::node& n, const Field& f, const std::string& path) {
    switch (f.type) {
      case FieldType::kBool:
      case FieldType::kInt:
      case FieldType::kFloat:
      case FieldType::kString: return Scalar(n, f.type, f, path);
      case FieldType::kIntArray:
      case FieldType::kFloatArray:
      case FieldType::kStringArray: {
        if (!n.is_array()) return TypeError(path, f, n);
        FieldType elem = f.type == FieldType::kIntArray     ? FieldType::kInt
                         : f.type == FieldType::kFloatArray ? FieldType::kFloat
                                                            : FieldType::kString;
        size_t i = 0;
        for (auto& e : *n.as_array()) {
          absl::Status s = Scalar(e, elem, f, absl::StrCat(path, "[", i++, "]"));
          if (!s.ok()) {
            return absl::InvalidArgumentError(
                absl::StrCat(s.message(), " (", path, " is an ", FieldTypeName(f.type), ")"));
          }
        }
        return absl::OkStatus();
      }
      case FieldType::kTable:
        if (!n.is_table()) return TypeError(path, f, n);
        return Table(*n.as_table(), *f.table, path, "");
      case FieldType::kComponent:
        if (!n.is_table()) return TypeError(path, f, n);
        return Component(*n.as_table(), f, path);
      case FieldType::kComponentArray: {
        if (!n.is_array()) return TypeError(path, f, n);
        size_t i = 0;
        for (auto& e : *n.as_array()) {
          const std::string epath = absl::StrCat(path, ".", i++);
          if (!e.is_table()) return TypeError(epath, f, e);
          AVSL_RETURN_IF_ERROR(Component(*e.as_table(), f, epath));
        }
        return absl::OkStatus();
      }
    }
    return absl::OkStatus();
  }

  absl::Status Component(toml::table& t, const Field& f, const std::string& path) {
    const char* kind = ComponentKindName(f.component_kind);
    std::vector<std::string> names = registry_.Names(f.component_kind);
    const std::string registered = names.empty() ? "(none)" : absl::StrJoin(names, ", ");
    toml::node* type_node = t.get("type");
    if (type_node == nullptr) {
      // The field's default type, when it has one: an element of a component array (`[[losses]]`) has none (its
      // field's default is the empty array), so its table must name a type.
      toml::table parsed;
      if (!f.default_toml.empty()) parsed = toml::parse(std::string_view("type = " + f.default_toml));
      const toml::value<std::string>* default_type = parsed.empty() ? nullptr : parsed.get("type")->as_string();
      if (default_type == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("recipe key '", path, ".type' is missing: name a ", kind,
                                                       ". Registered ", kind, "s: ", registered, Where(path)));
      }
      t.insert("type", *default_type);
      type_node = t.get("type");
    }
    if (!type_node->is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("recipe key '", path, ".type': expected string, found ", TypeOf(*type_node), Where(path)));
    }
    const std::string type = type_node->as_string()->get();
    const ComponentEntry* entry = registry_.Find(f.component_kind, type);
    if (entry == nullptr) return UnknownType(path, type, f.component_kind, names);
    return Table(t, *entry->info.schema, path, type);
  }

  absl::Status UnknownType(const std::string& path, const std::string& type, ComponentKind kind,
                           const std::vector<std::string>& names) const {
    const char* kind_name = ComponentKindName(kind);
    std::string msg = absl::StrCat("recipe key '", path, ".type': unknown ", kind_name, " '", type, "'",
                                   Where(path + ".type"));
    if (const ComponentInfo* other = registry_.FindAnyKind(type)) {
      absl::StrAppend(&msg, "; '", type, "' is ", WithArticle(ComponentKindName(other->kind)), ", not ",
                      WithArticle(kind_name));
    } else {
      std::vector<std::string> close = ClosestNames(type, names);
      if (!close.empty()) absl::StrAppend(&msg, "; did you mean '", close.front(), "'?");
    }
    auto close_suffix = [](const std::string& m) { return m.back() == '?' ? "" : "."; };
    absl::StrAppend(&msg, close_suffix(msg), " Registered ", kind_name,
                    "s: ", names.empty() ? "(none)" : absl::StrJoin(names, ", "));
    if (!failed_.empty()) {
      std::vector<std::string> failures;
      for (const PluginRecord* r : failed_)
        failures.push_back(absl::StrCat(r->name, " (", PluginStatusCode(r->status), ": ", r->path, ")"));
      absl::StrAppend(&msg, ". Plugins that failed to load: ", absl::StrJoin(failures, "; "),
                      " -- see `avsl plugins list`");
    }
    return absl::NotFoundError(msg);
  }

  const ComponentRegistry& registry_;
  const std::vector<const PluginRecord*>& failed_;
  const std::map<std::string, std::string>& origin_;
};

void FlattenInto(const toml::node& node, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (const toml::table* t = node.as_table()) {
    for (auto&& [k, v] : *t) FlattenInto(v, Join(prefix, std::string(k.str())), out);
    return;
  }
  if (const toml::array* a = node.as_array(); a && !a->empty() && (*a)[0].is_table()) {
    for (size_t i = 0; i < a->size(); ++i) FlattenInto((*a)[i], Join(prefix, std::to_string(i)), out);
    return;
  }
  out[prefix] = TomlLiteral(node);
}

}  // namespace

Recipe::Recipe() : impl_(std::make_unique<Impl>()) {}
Recipe::~Recipe() = default;
Recipe::Recipe(Recipe&&) noexcept = default;
Recipe& Recipe::operator=(Recipe&&) noexcept = default;

absl::StatusOr<Recipe> Recipe::Load(const std::string& path, const std::vector<std::string>& overrides) {
  Recipe r;
  r.impl_->path = path;
  AVSL_ASSIGN_OR_RETURN(r.impl_->loaded, LoadRecipeFile(path));
  for (const std::string& o : overrides) AVSL_RETURN_IF_ERROR(ApplyOverride(o, r.impl_->loaded));
  return r;
}

absl::StatusOr<Recipe> Recipe::Parse(const std::string& toml_text, const std::string& origin,
                                     const std::string& base_dir, const std::vector<std::string>& overrides) {
  Recipe r;
  r.impl_->path = origin;
  AVSL_ASSIGN_OR_RETURN(r.impl_->loaded, LoadRecipeText(toml_text, origin, base_dir));
  for (const std::string& o : overrides) AVSL_RETURN_IF_ERROR(ApplyOverride(o, r.impl_->loaded));
  return r;
}

namespace {

// `plugins = [...]` is checked before anything else: a missing plugin explains every unknown type after it.
absl::Status CheckRequiredPlugins(const toml::table& table, const std::vector<std::string>& loaded,
                                  const std::vector<const PluginRecord*>& failed,
                                  const std::map<std::string, std::string>& origin) {
  const toml::node* node = table.get("plugins");
  const toml::array* required = node ? node->as_array() : nullptr;
  if (required == nullptr) return absl::OkStatus();
  for (const auto& p : *required) {
    if (!p.is_string()) continue;  // the schema reports the type error
    const std::string name = p.as_string()->get();
    if (std::find(loaded.begin(), loaded.end(), name) != loaded.end()) continue;
    std::string why = "it was not found in the plugin search path (see `avsl plugins list`)";
    for (const PluginRecord* r : failed)
      if (r->name == name) why = absl::StrCat("it failed to load (", PluginStatusCode(r->status), "): ", r->message);
    return absl::NotFoundError(
        absl::StrCat("recipe requires plugin '", name, "' but ", why, " [", FindOrigin(origin, "plugins"), "]"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Recipe::Validate(const PluginHost& host) {
  std::vector<std::string> loaded;
  for (const PluginRecord& r : host.records())
    if (r.status == PluginStatus::kLoaded) loaded.push_back(r.name);
  AVSL_RETURN_IF_ERROR(CheckRequiredPlugins(impl_->loaded.table, loaded, host.Failed(), impl_->loaded.origin));
  return Validate(host.registry(), host.Failed());
}

absl::Status Recipe::Validate(const ComponentRegistry& registry,
                              const std::vector<const PluginRecord*>& failed_plugins) {
  // Without the host, a plugin counts as loaded when it registered at least one component.
  std::vector<std::string> loaded;
  for (const ComponentInfo* info : registry.All()) loaded.push_back(info->plugin);
  AVSL_RETURN_IF_ERROR(CheckRequiredPlugins(impl_->loaded.table, loaded, failed_plugins, impl_->loaded.origin));
  auto resolved = std::make_shared<toml::table>(impl_->loaded.table);
  Validator validator(registry, failed_plugins, impl_->loaded.origin);
  AVSL_RETURN_IF_ERROR(validator.Table(*resolved, RecipeSchema(), "", ""));
  impl_->resolved = std::move(resolved);
  return absl::OkStatus();
}

ComponentConfig Recipe::Root() const {
  std::shared_ptr<const toml::table> t = impl_->resolved ? impl_->resolved
                                                         : std::make_shared<const toml::table>(impl_->loaded.table);
  return MakeComponentConfig(t, t.get(), "");
}

std::string Recipe::ToToml() const {
  std::ostringstream os;
  os << toml::toml_formatter(impl_->resolved ? *impl_->resolved : impl_->loaded.table,
                             toml::toml_formatter::default_flags | toml::format_flags::relaxed_float_precision)
     << "\n";
  return os.str();
}

std::string Recipe::OriginOf(const std::string& dotted_key) const {
  auto it = impl_->loaded.origin.find(dotted_key);
  return it == impl_->loaded.origin.end() ? "" : it->second;
}

std::map<std::string, std::string> Recipe::Flatten() const {
  std::map<std::string, std::string> out;
  FlattenInto(impl_->resolved ? *impl_->resolved : impl_->loaded.table, "", out);
  return out;
}

const std::string& Recipe::path() const { return impl_->path; }

}  // namespace avsl
