// Finds, checks and loads plugins. Libraries are opened RTLD_LOCAL and never unloaded (GCC emits
// STB_GNU_UNIQUE symbols, so dlclose is a no-op anyway, and objects created by a plugin may outlive it).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/export.h"
#include "avsl/core/plugin_abi.h"
#include "avsl/core/registrar.h"

namespace avsl {

/// Why a plugin was or was not loaded; printed as the reason code by `avsl plugins list`.
enum class PluginStatus {
  kLoaded,
  kOpenFailed,          ///< dlopen failed (missing library, unresolved symbol, not a shared object)
  kMissingEntryPoint,   ///< no `avsl_plugin_info` symbol
  kIncompatibleAbi,     ///< abi_version or struct_size differ from the host's
  kIncompatibleSdk,     ///< SDK major version differs
  kIncompatibleTorch,   ///< LibTorch version, C++11 ABI flag or CUDA flag differ
  kInvalidInfo,         ///< the info struct is malformed (bad name, null callback)
  kDuplicatePlugin,     ///< a plugin of the same name was found earlier in the search path
  kMissingDependency,   ///< a dependency is absent or failed to load
  kRegistrationFailed,  ///< the callback threw or registered an invalid/duplicate component
};

const char* PluginStatusCode(PluginStatus status);  ///< "loaded", "missing_entry_point", ...

struct PluginRecord {
  std::string name;  ///< from the info struct; the file stem when the struct could not be read
  std::string version;
  std::string description;
  std::string path;
  PluginStatus status = PluginStatus::kOpenFailed;
  std::string message;  ///< why, naming the file, what was expected and what was found
  std::vector<std::string> dependencies;
  std::vector<std::string> components;  ///< scoped names registered by this plugin
};

class AVSL_EXPORT PluginHost {
 public:
  PluginHost();
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  /// Directories searched, in order: `cli_paths` (each may hold ':'-separated entries; relative ones are made
  /// absolute against the current directory), then the absolute entries of $AVSL_PLUGIN_PATH, then the plugin
  /// directory next to libavsl_core.so (build tree or install prefix). Nothing else: never the current directory.
  static std::vector<std::string> SearchPath(const std::vector<std::string>& cli_paths);
  /// The relative entries of $AVSL_PLUGIN_PATH, which SearchPath leaves out (they would make the plugins loaded
  /// depend on the directory avsl runs in); callers warn about them.
  static std::vector<std::string> IgnoredSearchPathEntries();

  /// Loads every `libavsl_*.so` in `dirs` (first name wins), resolving dependencies between them. Each file is first
  /// opened and registered in a child process (AVSL_PLUGIN_PROBE=0 skips this), so that one that crashes, hangs or
  /// has an unresolved symbol fails with its reason (open_failed, registration_failed) and the host goes on.
  void LoadDirectories(const std::vector<std::string>& dirs);
  /// Every directory LoadDirectories was given, in order and once each (whether or not it exists), e.g. for
  /// "plugin not found" messages.
  const std::vector<std::string>& searched_directories() const { return searched_directories_; }
  /// Loads one library file (probed as above). Its dependencies must already be loaded.
  const PluginRecord& LoadFile(const std::string& path);
  /// Registers components linked into this process, with the same checks as a library minus opening it: the
  /// core's built-ins (avsl/builtins/core_components.h) or a plugin linked statically through its
  /// `avsl_plugin_info_<name>` entry point (plugin tests). `origin` names it in records and messages.
  /// The host registers nothing by itself: whoever composes the program hands in the built-ins.
  const PluginRecord& LoadLinked(const PluginInfo& info, const std::string& origin);

  const std::vector<PluginRecord>& records() const { return records_; }
  std::vector<const PluginRecord*> Failed() const;
  const ComponentRegistry& registry() const { return registry_; }
  /// Tests only: plugins register through their Registrar callback, never through this.
  ComponentRegistry& mutable_registry_for_testing() { return registry_; }

 private:
  struct Candidate;
  std::unique_ptr<Candidate> Handshake(const std::string& path, PluginRecord& record);
  std::unique_ptr<Candidate> CheckInfo(const PluginInfo* info, const std::string& path, PluginRecord& record);
  const PluginRecord& Admit(std::unique_ptr<Candidate> candidate, PluginRecord record);
  void Register(Candidate& candidate, PluginRecord& record);

  ComponentRegistry registry_;
  std::vector<PluginRecord> records_;
  std::vector<std::shared_ptr<void>> libraries_;  ///< kept for the process lifetime
  std::vector<std::string> searched_directories_;
};

}  // namespace avsl
