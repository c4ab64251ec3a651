#include "run_plugins.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "avsl/io/file_sha1.h"

namespace avsl::cli {
namespace fs = std::filesystem;

absl::StatusOr<std::vector<RecordedPlugin>> ReadRecordedPlugins(const std::string& env_json) {
  std::ifstream in(env_json, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", env_json));
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(env_json, ": expected a JSON object, found ",
                                                   j.is_discarded() ? "malformed JSON" : j.type_name()));
  }
  const auto plugins = j.find("plugins");
  if (plugins == j.end() || !plugins->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(env_json, ": expected a 'plugins' array, found ",
                                                   plugins == j.end() ? "none" : plugins->type_name()));
  }
  std::vector<RecordedPlugin> recorded;
  for (size_t i = 0; i < plugins->size(); ++i) {
    const nlohmann::json& p = (*plugins)[i];
    auto text = [&p](const char* key) -> std::string {
      const auto it = p.find(key);
      return it != p.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (!p.is_object() || text("name").empty() || text("path").empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          env_json, ": plugins[", i, "]: expected an object with 'name' and 'path' strings, found ", p.dump()));
    }
    if (text("status") != "loaded" || text("name") == "core") continue;  // failures, and libavsl_core's built-ins
    recorded.push_back({text("name"), text("version"), text("path"), text("sha1")});
  }
  return recorded;
}

std::vector<std::string> LoadRecordedPlugins(const std::string& run_dir, PluginHost& host) {
  const std::string env_json = (fs::path(run_dir) / "env.json").string();
  std::error_code ec;
  if (!fs::exists(env_json, ec)) return {};
  absl::StatusOr<std::vector<RecordedPlugin>> recorded = ReadRecordedPlugins(env_json);
  if (!recorded.ok()) {
    return {absl::StrCat("warning: cannot tell which plugins the run loaded: ", recorded.status().message())};
  }
  auto loaded_record = [&host](const std::string& name) -> const PluginRecord* {
    for (const PluginRecord& r : host.records())
      if (r.name == name && r.status == PluginStatus::kLoaded) return &r;
    return nullptr;
  };
  std::vector<std::string> lines;
  // env.json lists plugins in the order the host registered them, so a dependency comes before its users.
  for (const RecordedPlugin& p : *recorded) {
    if (const PluginRecord* r = loaded_record(p.name)) {
      // The search path (--plugin-path, AVSL_PLUGIN_PATH, default) provided it: say so when it is not the build
      // the run used, since the scores or the resumed steps would then not be the run's.
      const std::string sha1 = io::FileSha1(r->path);
      if (!p.sha1.empty() && sha1 != p.sha1) {
        lines.push_back(absl::StrCat("warning: plugin '", p.name, "' from the search path (", r->path, ", SHA-1 ", sha1,
                                     ") is not the build the run used (", p.path, ", SHA-1 ", p.sha1, " in ", env_json,
                                     ")"));
      }
      continue;
    }
    // A run directory is data someone may have been sent: only an absolute path whose bytes still match the
    // recorded SHA-1 is opened without being asked for. Anything else needs an explicit --plugin-path.
    const std::string how = absl::StrCat("; pass --plugin-path DIR to load '", p.name, "' from DIR");
    if (!fs::path(p.path).is_absolute()) {
      lines.push_back(absl::StrCat("warning: plugin '", p.name, "' recorded in ", env_json, " has a relative path (",
                                   p.path, "); not loaded", how));
      continue;
    }
    if (!fs::is_regular_file(p.path, ec)) {
      lines.push_back(absl::StrCat("warning: plugin '", p.name, "' recorded in ", env_json, " is gone: ", p.path,
                                   " does not exist", how));
      continue;
    }
    const std::string sha1 = io::FileSha1(p.path);
    if (p.sha1.empty() || sha1 != p.sha1) {
      lines.push_back(absl::StrCat("warning: plugin '", p.name, "' at ", p.path,
                                   " changed since the run: its SHA-1 is ", sha1, " but ", env_json, " recorded ",
                                   p.sha1.empty() ? "none" : p.sha1, "; not loaded", how));
      continue;
    }
    const PluginRecord& r = host.LoadFile(p.path);
    if (r.status == PluginStatus::kLoaded) {
      lines.push_back(
          absl::StrCat("loaded plugin ", r.name, " ", r.version, " from ", r.path, " (recorded in ", env_json, ")"));
    } else {
      lines.push_back(absl::StrCat("warning: plugin '", p.name, "' recorded in ", env_json, " failed to load (",
                                   PluginStatusCode(r.status), "): ", r.message));
    }
  }
  return lines;
}

}  // namespace avsl::cli
