#include "recipe_loader.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/dll/runtime_symbol_info.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "avsl/core/recipe.h"
#include "avsl/core/status_macros.h"
#include "text_util.h"

// Where the recipes are installed, relative to the directory of libavsl_core.so (the top-level CMakeLists.txt
// passes the value of this install; the default is the usual lib/ and share/ side by side).
#ifndef AVSL_LIB_TO_RECIPES
#define AVSL_LIB_TO_RECIPES "../share/avsl/recipes"
#endif

namespace avsl {
namespace fs = std::filesystem;
namespace {

constexpr const char* kReplaceMarker = "__replace__";
constexpr const char* kRecipeNamePrefix = "@avsl/";

bool IsRecipeName(const std::string& s) { return s.rfind(kRecipeNamePrefix, 0) == 0; }

// `@avsl/<rel>` -> the first <dir>/<rel> that exists, over RecipeSearchPath(). `what` starts the messages
// ("recipe", or "<file>: base").
absl::StatusOr<fs::path> ResolveRecipeName(const std::string& name, const std::string& what) {
  const std::string rel = name.substr(std::strlen(kRecipeNamePrefix));
  bool escapes = false;  // "..": a name may not leave the search directories
  for (const fs::path& part : fs::path(rel)) escapes = escapes || part == "..";
  if (rel.empty() || fs::path(rel).is_absolute() || escapes) {
    return absl::InvalidArgumentError(absl::StrCat(what, " '", name, "': expected ", kRecipeNamePrefix,
                                                   "<path relative to the recipe search path>, e.g. ",
                                                   kRecipeNamePrefix, "ezvsl/synthetic.toml"));
  }
  const std::vector<std::string> dirs = RecipeSearchPath();
  for (const std::string& dir : dirs) {
    const fs::path candidate = fs::path(dir) / rel;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate;
  }
  return absl::NotFoundError(absl::StrCat(what, " '", name, "' not found in the recipe search path (looked for ", rel,
                                          " in ", absl::StrJoin(dirs, ", "),
                                          "); set AVSL_RECIPE_PATH to a directory that holds it"));
}

std::string Join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

std::string NodeTypeName(const toml::node& n) {
  std::ostringstream os;
  os << n.type();
  return os.str();
}

std::string TomlLiteralOf(const toml::node& n) {
  std::ostringstream os;
  n.visit([&](const auto& concrete) { os << toml::toml_formatter(concrete, toml::format_flags::none); });
  return os.str();
}

void RecordOrigins(const toml::node& node, const std::string& prefix, const std::string& file,
                   std::map<std::string, std::string>& origin) {
  if (!prefix.empty()) origin[prefix] = file;
  if (const toml::table* t = node.as_table()) {
    for (auto&& [k, v] : *t) RecordOrigins(v, Join(prefix, std::string(k.str())), file, origin);
  } else if (const toml::array* a = node.as_array()) {
    for (size_t i = 0; i < a->size(); ++i)
      if ((*a)[i].is_table()) RecordOrigins((*a)[i], Join(prefix, std::to_string(i)), file, origin);
  }
}

void EraseOrigins(const std::string& prefix, std::map<std::string, std::string>& origin) {
  for (auto it = origin.lower_bound(prefix); it != origin.end();) {
    if (it->first == prefix || it->first.rfind(prefix + ".", 0) == 0) it = origin.erase(it);
    else if (it->first.compare(0, prefix.size(), prefix) > 0) break;
    else ++it;
  }
}

void CopyOrigins(const std::string& prefix, const std::map<std::string, std::string>& from,
                 std::map<std::string, std::string>& to) {
  for (const auto& [k, v] : from)
    if (k == prefix || k.rfind(prefix + ".", 0) == 0) to[k] = v;
}

void Assign(toml::table& t, const std::string& key, const toml::node& value) {
  value.visit([&](const auto& concrete) { t.insert_or_assign(key, concrete); });
}

absl::StatusOr<toml::table> ParseToml(const std::string& text, const std::string& origin) {
  try {
    return toml::parse(std::string_view(text), std::string_view(origin));
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ":", e.source().begin.line, ":", e.source().begin.column,
                                                   ": malformed TOML: ", std::string(e.description())));
  }
}

// Sibling bases may not both set the same key: which one should win would be an accident of order.
absl::Status MergeSibling(const toml::table& src, const std::string& prefix, LoadedToml& dst_loaded, toml::table& dst,
                          const std::map<std::string, std::string>& src_origin) {
  for (auto&& [k, v] : src) {
    const std::string key(k.str());
    const std::string path = Join(prefix, key);
    toml::node* existing = dst.get(key);
    if (existing == nullptr) {
      Assign(dst, key, v);
      CopyOrigins(path, src_origin, dst_loaded.origin);
    } else if (existing->is_table() && v.is_table()) {
      AVSL_RETURN_IF_ERROR(MergeSibling(*v.as_table(), path, dst_loaded, *existing->as_table(), src_origin));
    } else if (FindOrigin(dst_loaded.origin, path) == FindOrigin(src_origin, path) &&
               TomlLiteralOf(*existing) == TomlLiteralOf(v)) {
      // A diamond: both siblings inherit this key from the same base file.
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "recipe key '", path, "' is set by two sibling bases: ", FindOrigin(dst_loaded.origin, path), " and ",
          FindOrigin(src_origin, path), " (set it in only one, or in the recipe that lists both)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> TakeReplaceMarker(toml::table& t, const std::string& path, const std::string& file) {
  toml::node* marker = t.get(kReplaceMarker);
  if (marker == nullptr) return false;
  if (!marker->is_boolean()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": '", Join(path, kReplaceMarker),
                                                   "' must be true or false, found ", NodeTypeName(*marker)));
  }
  bool replace = marker->as_boolean()->get();
  t.erase(kReplaceMarker);
  return replace;
}

// The child wins: tables merge key by key, scalars and arrays replace, `__replace__ = true` replaces a
// whole table.
absl::Status MergeOverride(toml::table& src, const std::string& prefix, LoadedToml& dst_loaded, toml::table& dst,
                           const std::map<std::string, std::string>& src_origin) {
  for (auto&& [k, v] : src) {
    const std::string key(k.str());
    const std::string path = Join(prefix, key);
    toml::node* existing = dst.get(key);
    bool replace = false;
    if (toml::table* vt = v.as_table()) {
      AVSL_ASSIGN_OR_RETURN(replace, TakeReplaceMarker(*vt, path, FindOrigin(src_origin, path)));
    }
    if (existing != nullptr && existing->is_table() != v.is_table()) {
      return absl::InvalidArgumentError(
          absl::StrCat("recipe key '", path, "' is ", WithArticle(NodeTypeName(*existing)), " in ",
                       FindOrigin(dst_loaded.origin, path), " but ", WithArticle(NodeTypeName(v)), " in ",
                       FindOrigin(src_origin, path)));
    }
    if (existing != nullptr && existing->is_table() && !replace) {
      AVSL_RETURN_IF_ERROR(MergeOverride(*v.as_table(), path, dst_loaded, *existing->as_table(), src_origin));
    } else {
      Assign(dst, key, v);
      EraseOrigins(path, dst_loaded.origin);
      CopyOrigins(path, src_origin, dst_loaded.origin);
    }
  }
  return absl::OkStatus();
}

absl::Status StripMarkers(toml::table& t, const std::string& prefix, const LoadedToml& loaded) {
  for (auto&& [k, v] : t) {
    if (toml::table* sub = v.as_table()) {
      const std::string path = Join(prefix, std::string(k.str()));
      AVSL_RETURN_IF_ERROR(TakeReplaceMarker(*sub, path, FindOrigin(loaded.origin, path)).status());
      AVSL_RETURN_IF_ERROR(StripMarkers(*sub, path, loaded));
    }
  }
  return absl::OkStatus();
}

// The files being read, from the recipe down to the current base, and how many were read in all.
struct BaseChain {
  std::vector<std::string> files;
  int files_read = 0;
};

absl::Status CheckTextSize(long long bytes, const std::string& origin) {
  if (bytes <= kMaxRecipeFileBytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(origin, ": ", bytes, " bytes; a recipe may have at most ",
                                                 kMaxRecipeFileBytes, " (avsl::kMaxRecipeFileBytes)"));
}

absl::StatusOr<LoadedToml> LoadWithBases(toml::table table, const std::string& origin, const fs::path& base_dir,
                                         BaseChain& chain);

absl::StatusOr<LoadedToml> LoadFileRec(const fs::path& path, BaseChain& chain) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(path, ec);
  const std::string key = ec ? path.string() : canonical.string();
  for (const std::string& s : chain.files) {
    if (s == key) {
      std::vector<std::string> files(chain.files.begin(), chain.files.end());
      files.push_back(key);
      return absl::InvalidArgumentError("recipe base cycle: " + absl::StrJoin(files, " -> "));
    }
  }
  if (static_cast<int>(chain.files.size()) >= kMaxRecipeBaseDepth) {
    return absl::InvalidArgumentError(absl::StrCat("recipe bases nest deeper than ", kMaxRecipeBaseDepth,
                                                   " files (avsl::kMaxRecipeBaseDepth): ", chain.files.front(),
                                                   " -> ... -> ", chain.files.back(), " -> ", key));
  }
  if (++chain.files_read > kMaxRecipeFiles) {
    return absl::InvalidArgumentError(absl::StrCat(
        "recipe ", chain.files.front(), " reads more than ", kMaxRecipeFiles,
        " files through its bases (avsl::kMaxRecipeFiles; a base listed twice at every level doubles them), the last ",
        key));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("recipe file not found: ", path.string()));
  const uintmax_t size = fs::file_size(path, ec);
  if (!ec) AVSL_RETURN_IF_ERROR(CheckTextSize(static_cast<long long>(size), path.string()));
  std::stringstream buffer;
  buffer << in.rdbuf();
  AVSL_ASSIGN_OR_RETURN(toml::table table, ParseToml(buffer.str(), path.string()));
  chain.files.push_back(key);
  auto loaded = LoadWithBases(std::move(table), path.string(), path.parent_path(), chain);
  chain.files.pop_back();
  return loaded;
}

absl::StatusOr<LoadedToml> LoadWithBases(toml::table table, const std::string& origin, const fs::path& base_dir,
                                         BaseChain& chain) {
  std::vector<std::string> bases;
  if (toml::node* base = table.get("base")) {
    const toml::array* arr = base->as_array();
    bool ok = arr != nullptr;
    if (ok) {
      for (const auto& e : *arr) {
        ok = ok && e.is_string();
        if (ok) bases.push_back(e.as_string()->get());
      }
    } else if (base->is_string()) {
      ok = true;
      bases.push_back(base->as_string()->get());
    }
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ": 'base' must be an array of file paths (strings), found ", TomlLiteralOf(*base)));
    }
    table.erase("base");
  }
  LoadedToml merged;
  for (const std::string& b : bases) {
    fs::path p;
    if (IsRecipeName(b)) {
      // A shipped recipe by name; its own relative bases then resolve next to it, as for any file.
      AVSL_ASSIGN_OR_RETURN(p, ResolveRecipeName(b, absl::StrCat(origin, ": base")));
    } else {
      p = fs::path(b).is_absolute() ? fs::path(b) : base_dir / b;
      // The error_code form: a name the file system refuses (too long, say) is a missing base, not an exception.
      std::error_code ec;
      if (!fs::exists(p, ec)) {
        return absl::NotFoundError(absl::StrCat(origin, ": base '", b, "' not found (looked for ", p.string(),
                                                ec ? ": " + ec.message() : std::string(), ")"));
      }
    }
    AVSL_ASSIGN_OR_RETURN(LoadedToml sibling, LoadFileRec(p, chain));
    AVSL_RETURN_IF_ERROR(MergeSibling(sibling.table, "", merged, merged.table, sibling.origin));
  }
  std::map<std::string, std::string> own_origin;
  RecordOrigins(table, "", origin, own_origin);
  AVSL_RETURN_IF_ERROR(MergeOverride(table, "", merged, merged.table, own_origin));
  AVSL_RETURN_IF_ERROR(StripMarkers(merged.table, "", merged));
  return merged;
}

}  // namespace

std::string FindOrigin(const std::map<std::string, std::string>& origin, const std::string& dotted) {
  std::string key = dotted;
  while (true) {
    auto it = origin.find(key);
    if (it != origin.end()) return it->second;
    size_t dot = key.rfind('.');
    if (dot == std::string::npos) return "";
    key.resize(dot);
  }
}

std::vector<std::string> RecipeSearchPath() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("AVSL_RECIPE_PATH")) {
    for (absl::string_view part : absl::StrSplit(env, ':', absl::SkipEmpty())) dirs.emplace_back(part);
  }
  const fs::path core_dir = fs::weakly_canonical(boost::dll::this_line_location()).parent_path();
  const fs::path installed = (core_dir / AVSL_LIB_TO_RECIPES).lexically_normal();
  dirs.push_back(installed.string());
#if defined(AVSL_SOURCE_RECIPES_DIR) && defined(AVSL_BUILD_LIB_DIR)
  // A build tree has no share/ next to lib/: there the source tree's recipes/ stand in for the installed ones. Only
  // there: an installed library never reaches back into the checkout it was built from.
  std::error_code ec;
  if (core_dir == fs::weakly_canonical(AVSL_BUILD_LIB_DIR, ec)) dirs.emplace_back(AVSL_SOURCE_RECIPES_DIR);
#endif
  return dirs;
}

absl::StatusOr<LoadedToml> LoadRecipeFile(const std::string& path) {
  BaseChain chain;
  if (IsRecipeName(path)) {
    AVSL_ASSIGN_OR_RETURN(fs::path resolved, ResolveRecipeName(path, "recipe"));
    return LoadFileRec(resolved, chain);
  }
  return LoadFileRec(path, chain);
}

absl::StatusOr<LoadedToml> LoadRecipeText(const std::string& text, const std::string& origin,
                                          const std::string& base_dir) {
  AVSL_RETURN_IF_ERROR(CheckTextSize(static_cast<long long>(text.size()), origin));
  AVSL_ASSIGN_OR_RETURN(toml::table table, ParseToml(text, origin));
  BaseChain chain;
  chain.files.push_back(origin);
  return LoadWithBases(std::move(table), origin, base_dir, chain);
}

absl::Status ApplyOverride(const std::string& assignment, LoadedToml& recipe) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--set '", assignment, "': expected KEY=VALUE, e.g. train.epochs=5"));
  }
  const std::string key = assignment.substr(0, eq);
  const std::string value_text = assignment.substr(eq + 1);
  if (static_cast<long long>(assignment.size()) > kMaxOverrideBytes) {
    return absl::InvalidArgumentError(absl::StrCat("--set ", key.substr(0, 80), ": ", assignment.size(),
                                                   " bytes; one --set may have at most ", kMaxOverrideBytes,
                                                   " (avsl::kMaxOverrideBytes): put large values in a recipe file"));
  }
  toml::table parsed;
  try {
    parsed = toml::parse(std::string_view("v = " + value_text), std::string_view("--set"));
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat("--set ", key, ": '", value_text, "' is not a TOML value (",
                                                   std::string(e.description()), "); strings need quotes, e.g. ", key,
                                                   "='\"text\"'"));
  }
  const toml::node& value = *parsed.get("v");
  std::vector<std::string> parts = absl::StrSplit(key, '.');
  if (static_cast<int>(parts.size()) > kMaxOverrideKeyDepth) {
    return absl::InvalidArgumentError(absl::StrCat("--set ", key.substr(0, 80), "...: ", parts.size(),
                                                   " dotted parts; a key may have at most ", kMaxOverrideKeyDepth,
                                                   " (avsl::kMaxOverrideKeyDepth)"));
  }
  toml::node* cur = nullptr;
  toml::table* table = &recipe.table;
  std::string path;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    path = Join(path, parts[i]);
    cur = table->get(parts[i]);
    size_t ignored_index = 0;
    if (cur == nullptr && absl::SimpleAtoi(parts[i + 1], &ignored_index)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--set ", key, ": '", path, "' is not set, so it has no element ", parts[i + 1]));
    }
    if (cur == nullptr) {
      table->insert(parts[i], toml::table{});
      cur = table->get(parts[i]);
    }
    if (toml::array* arr = cur->as_array()) {
      size_t index = 0;
      if (!absl::SimpleAtoi(parts[i + 1], &index) || index >= arr->size() || !(*arr)[index].is_table()) {
        return absl::InvalidArgumentError(absl::StrCat("--set ", key, ": '", path, "' is an array of ", arr->size(),
                                                       " elements; address a table element by "
                                                       "index, e.g. ",
                                                       path, ".0.<key>"));
      }
      ++i;
      path = Join(path, parts[i]);
      cur = &(*arr)[index];
      if (i + 1 >= parts.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--set ", key, ": cannot replace a whole array element; set its keys"));
      }
    }
    table = cur->as_table();
    if (table == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--set ", key, ": '", path, "' is ", WithArticle(NodeTypeName(*cur)), ", not a table"));
    }
  }
  path = Join(path, parts.back());
  Assign(*table, parts.back(), value);
  EraseOrigins(path, recipe.origin);
  RecordOrigins(*table->get(parts.back()), path, "--set", recipe.origin);
  recipe.origin[path] = "--set";
  return absl::OkStatus();
}

}  // namespace avsl
