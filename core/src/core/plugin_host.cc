#include "avsl/core/plugin_host.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <set>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "avsl/core/plugin_abi.h"
#include "plugin_probe.h"

namespace avsl {
namespace fs = std::filesystem;

const char* PluginStatusCode(PluginStatus status) {
  switch (status) {
    case PluginStatus::kLoaded: return "loaded";
    case PluginStatus::kOpenFailed: return "open_failed";
    case PluginStatus::kMissingEntryPoint: return "missing_entry_point";
    case PluginStatus::kIncompatibleAbi: return "incompatible_abi";
    case PluginStatus::kIncompatibleSdk: return "incompatible_sdk";
    case PluginStatus::kIncompatibleTorch: return "incompatible_torch";
    case PluginStatus::kInvalidInfo: return "invalid_info";
    case PluginStatus::kDuplicatePlugin: return "duplicate_plugin";
    case PluginStatus::kMissingDependency: return "missing_dependency";
    case PluginStatus::kRegistrationFailed: return "registration_failed";
  }
  return "?";
}

// A plugin whose handshake passed, waiting to register (its library, if any, is already kept in libraries_).
struct PluginHost::Candidate {
  const PluginInfo* info = nullptr;
};

namespace {

constexpr const char* kHostTorchVersion = TORCH_VERSION;
#ifdef AVSL_WITH_CUDA_BUILD
constexpr int kHostCuda = 1;
#else
constexpr int kHostCuda = 0;
#endif

bool ValidPluginName(const char* name) {
  if (name == nullptr || *name == '\0') return false;
  for (const char* c = name; *c; ++c)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) return false;
  return true;
}

int Major(const std::string& version) { return std::atoi(version.c_str()); }

std::string BuildDescription(const char* torch, int cxx11, int cuda) {
  return absl::StrCat("LibTorch ", torch ? torch : "?", ", _GLIBCXX_USE_CXX11_ABI=", cxx11, ", ",
                      cuda ? "CUDA" : "CPU-only");
}

void AppendSplit(const std::string& list, std::vector<std::string>& out) {
  for (absl::string_view part : absl::StrSplit(list, ':', absl::SkipEmpty())) out.emplace_back(part);
}

// The entries of $AVSL_PLUGIN_PATH, absolute ones into `absolute` and relative ones into `relative`. A relative entry
// would load whatever plugins the directory avsl runs in happens to hold, so SearchPath leaves it out.
void SplitEnvironmentSearchPath(std::vector<std::string>& absolute, std::vector<std::string>& relative) {
  std::vector<std::string> entries;
  if (const char* env = std::getenv("AVSL_PLUGIN_PATH")) AppendSplit(env, entries);
  for (std::string& d : entries) (fs::path(d).is_absolute() ? absolute : relative).push_back(std::move(d));
}

// A plugin that takes longer than this to open and register is stuck (CUDA plugins open in a few seconds).
constexpr int kProbeTimeoutSeconds = 120;

// AVSL_PLUGIN_PROBE=0 loads plugins without the child-process probe (e.g. to debug one in gdb).
bool ProbeEnabled() {
  const char* env = std::getenv("AVSL_PLUGIN_PROBE");
  return env == nullptr || std::string(env) != "0";
}

}  // namespace

PluginHost::PluginHost() = default;

PluginHost::~PluginHost() {
  // Deliberately leak the libraries: objects created by plugins may still be alive at static destruction.
  for (auto& lib : libraries_) new std::shared_ptr<void>(lib);
}

std::vector<std::string> PluginHost::SearchPath(const std::vector<std::string>& cli_paths) {
  std::vector<std::string> dirs;
  // Typed on this command line, so meant from this directory: made absolute once, here.
  std::vector<std::string> given;
  for (const std::string& p : cli_paths) AppendSplit(p, given);
  for (const std::string& d : given) dirs.push_back(fs::absolute(d).lexically_normal().string());
  std::vector<std::string> ignored;
  SplitEnvironmentSearchPath(dirs, ignored);
  fs::path core_dir = fs::weakly_canonical(boost::dll::this_line_location()).parent_path();
  dirs.push_back((core_dir / "avsl" / "plugins").string());
  return dirs;
}

std::vector<std::string> PluginHost::IgnoredSearchPathEntries() {
  std::vector<std::string> searched, ignored;
  SplitEnvironmentSearchPath(searched, ignored);
  return ignored;
}

std::vector<const PluginRecord*> PluginHost::Failed() const {
  std::vector<const PluginRecord*> failed;
  for (const PluginRecord& r : records_)
    if (r.status != PluginStatus::kLoaded) failed.push_back(&r);
  return failed;
}

std::unique_ptr<PluginHost::Candidate> PluginHost::Handshake(const std::string& path, PluginRecord& record) {
  record.path = path;
  record.name = fs::path(path).stem().string();
  auto fail = [&](PluginStatus status, std::string message) -> std::unique_ptr<Candidate> {
    record.status = status;
    record.message = std::move(message);
    return nullptr;
  };
  if (ProbeEnabled()) {
    const PluginProbeResult probe = ProbePluginFile(
        path,
        [&](const PluginInfo& info) {
          PluginRecord scratch;
          return CheckInfo(&info, path, scratch) != nullptr;
        },
        kProbeTimeoutSeconds);
    if (!probe.ok) {
      return fail(probe.registering ? PluginStatus::kRegistrationFailed : PluginStatus::kOpenFailed, probe.message);
    }
  }
  std::error_code ec;
  auto library = std::make_shared<boost::dll::shared_library>();
  dlerror();  // clear, so the message below is this load's
  library->load(path, boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local, ec);
  if (ec) {
    const char* why = dlerror();
    return fail(PluginStatus::kOpenFailed, absl::StrCat("cannot open ", path, ": ", why ? why : ec.message()));
  }
  libraries_.push_back(library);
  if (!library->has(AVSL_PLUGIN_ENTRY_POINT)) {
    return fail(PluginStatus::kMissingEntryPoint,
                absl::StrCat(path, " has no '", AVSL_PLUGIN_ENTRY_POINT,
                             "' entry point: not an avsl plugin (define one with AVSL_PLUGIN)"));
  }
  const PluginInfo* info = library->get<PluginEntryPoint>(AVSL_PLUGIN_ENTRY_POINT)();
  if (info == nullptr) return fail(PluginStatus::kInvalidInfo, absl::StrCat(path, ": entry point returned null"));
  return CheckInfo(info, path, record);
}

std::unique_ptr<PluginHost::Candidate> PluginHost::CheckInfo(const PluginInfo* info, const std::string& path,
                                                             PluginRecord& record) {
  auto fail = [&](PluginStatus status, std::string message) -> std::unique_ptr<Candidate> {
    record.status = status;
    record.message = std::move(message);
    return nullptr;
  };
  // Only the first two fields may be read before these checks pass.
  if (info->abi_version != AVSL_PLUGIN_ABI_VERSION || info->struct_size != sizeof(PluginInfo)) {
    return fail(PluginStatus::kIncompatibleAbi,
                absl::StrCat(path, " was built for plugin ABI ", info->abi_version, " (info struct of ",
                             info->struct_size, " bytes); this host expects ABI ", AVSL_PLUGIN_ABI_VERSION, " (",
                             sizeof(PluginInfo), " bytes). Rebuild the plugin against this SDK"));
  }
  if (!ValidPluginName(info->name)) {
    return fail(PluginStatus::kInvalidInfo, absl::StrCat(path, ": plugin name '", info->name ? info->name : "(null)",
                                                         "' is invalid (expected [a-z0-9_]+)"));
  }
  record.name = info->name;
  record.version = info->version ? info->version : "";
  record.description = info->description ? info->description : "";
  for (const char* const* d = info->dependencies; d && *d; ++d) record.dependencies.emplace_back(*d);
  const std::string sdk = info->sdk_version ? info->sdk_version : "";
  if (Major(sdk) != AVSL_SDK_VERSION_MAJOR) {
    return fail(PluginStatus::kIncompatibleSdk,
                absl::StrCat("plugin '", record.name, "' (", path, ") was built against avsl SDK ", sdk,
                             "; this host is SDK ", AVSL_SDK_VERSION, ". Rebuild the plugin against this SDK"));
  }
  const bool torch_ok = info->torch_version && std::string(info->torch_version) == kHostTorchVersion;
  if (!torch_ok || info->cxx11_abi != _GLIBCXX_USE_CXX11_ABI || info->cuda != kHostCuda) {
    return fail(PluginStatus::kIncompatibleTorch,
                absl::StrCat("plugin '", record.name, "' (", path, ") was built against ",
                             BuildDescription(info->torch_version, info->cxx11_abi, info->cuda), "; this host uses ",
                             BuildDescription(kHostTorchVersion, _GLIBCXX_USE_CXX11_ABI, kHostCuda),
                             ". Rebuild the plugin against this host's LibTorch"));
  }
  if (info->register_components == nullptr) {
    return fail(PluginStatus::kInvalidInfo,
                absl::StrCat("plugin '", record.name, "' (", path, ") has no registration callback"));
  }
  auto candidate = std::make_unique<Candidate>();
  candidate->info = info;
  return candidate;
}

void PluginHost::Register(Candidate& candidate, PluginRecord& record) {
  Registrar registrar(record.name);
  absl::Status status;
  try {
    candidate.info->register_components(registrar);
    status = registrar.status();
  } catch (const std::exception& e) {
    status = absl::InternalError(absl::StrCat("registration threw: ", e.what()));
  } catch (...) {
    status = absl::InternalError("registration threw a non-standard exception");
  }
  if (status.ok()) status = registry_.Commit(registrar.staged());
  if (!status.ok()) {
    record.status = PluginStatus::kRegistrationFailed;
    record.message = absl::StrCat("plugin '", record.name, "' (", record.path, "): ", status.message(),
                                  "; none of its components were registered");
    return;
  }
  record.status = PluginStatus::kLoaded;
  for (const ComponentEntry& e : registrar.staged()) record.components.push_back(e.info.name);
}

const PluginRecord& PluginHost::LoadFile(const std::string& path) {
  PluginRecord record;
  std::unique_ptr<Candidate> candidate = Handshake(path, record);  // fills `record`, so it runs before the move
  return Admit(std::move(candidate), std::move(record));
}

const PluginRecord& PluginHost::LoadLinked(const PluginInfo& info, const std::string& origin) {
  PluginRecord record;
  record.path = origin;
  record.name = info.name ? info.name : origin;
  std::unique_ptr<Candidate> candidate = CheckInfo(&info, origin, record);
  return Admit(std::move(candidate), std::move(record));
}

const PluginRecord& PluginHost::Admit(std::unique_ptr<Candidate> candidate, PluginRecord record) {
  const std::string path = record.path;
  if (candidate) {
    for (const PluginRecord& r : records_) {
      if (r.name == record.name && r.status == PluginStatus::kLoaded) {
        record.status = PluginStatus::kDuplicatePlugin;
        record.message = absl::StrCat("plugin '", record.name, "' at ", path, " ignored: already loaded from ", r.path);
        candidate.reset();
        break;
      }
    }
  }
  if (candidate) {
    for (const std::string& dep : record.dependencies) {
      bool loaded = false;
      for (const PluginRecord& r : records_) loaded = loaded || (r.name == dep && r.status == PluginStatus::kLoaded);
      if (!loaded && candidate) {
        record.status = PluginStatus::kMissingDependency;
        record.message = absl::StrCat("plugin '", record.name, "' (", path, ") depends on '", dep,
                                      "', which is not loaded");
        candidate.reset();
      }
    }
  }
  if (candidate) Register(*candidate, record);
  records_.push_back(std::move(record));
  return records_.back();
}

void PluginHost::LoadDirectories(const std::vector<std::string>& dirs) {
  std::vector<std::pair<std::unique_ptr<Candidate>, PluginRecord>> pending;
  std::set<std::string> names;
  for (const PluginRecord& r : records_) names.insert(r.name);
  for (const std::string& dir : dirs) {
    if (std::find(searched_directories_.begin(), searched_directories_.end(), dir) == searched_directories_.end())
      searched_directories_.push_back(dir);
  }
  for (const std::string& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string file = entry.path().filename().string();
      if (file.rfind("libavsl_", 0) == 0 && entry.path().extension() == ".so") files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    for (const std::string& path : files) {
      PluginRecord record;
      std::unique_ptr<Candidate> candidate = Handshake(path, record);
      if (candidate && names.count(record.name)) {
        std::string first;
        for (const auto& [c, r] : pending)
          if (r.name == record.name) first = r.path;
        for (const PluginRecord& r : records_)
          if (r.name == record.name) first = r.path;
        record.status = PluginStatus::kDuplicatePlugin;
        record.message = absl::StrCat("plugin '", record.name, "' at ", path,
                                      " ignored: the same plugin was found first at ", first);
        candidate.reset();
      }
      if (!candidate) {
        records_.push_back(std::move(record));
        continue;
      }
      names.insert(record.name);
      pending.emplace_back(std::move(candidate), std::move(record));
    }
  }
  // Register in dependency order; whatever cannot be ordered has a missing or failed dependency.
  auto loaded = [&](const std::string& name) {
    for (const PluginRecord& r : records_)
      if (r.name == name && r.status == PluginStatus::kLoaded) return true;
    return false;
  };
  bool progress = true;
  while (progress && !pending.empty()) {
    progress = false;
    for (size_t i = 0; i < pending.size(); ++i) {
      auto& [candidate, record] = pending[i];
      if (!std::all_of(record.dependencies.begin(), record.dependencies.end(), loaded)) continue;
      Register(*candidate, record);
      records_.push_back(std::move(record));
      pending.erase(pending.begin() + static_cast<long>(i));
      progress = true;
      break;
    }
  }
  for (auto& [candidate, record] : pending) {
    std::vector<std::string> why;
    for (const std::string& dep : record.dependencies) {
      if (loaded(dep)) continue;
      std::string reason = "not found in the plugin search path (" + absl::StrJoin(dirs, ":") + ")";
      for (const PluginRecord& r : records_)
        if (r.name == dep) reason = absl::StrCat("failed to load (", PluginStatusCode(r.status), ")");
      for (const auto& [c, other] : pending)
        if (other.name == dep) reason = "part of a dependency cycle or waiting on a missing plugin";
      why.push_back(absl::StrCat("'", dep, "' ", reason));
    }
    record.status = PluginStatus::kMissingDependency;
    record.message = absl::StrCat("plugin '", record.name, "' (", record.path, ") depends on ",
                                  absl::StrJoin(why, ", "));
    records_.push_back(std::move(record));
  }
}

}  // namespace avsl
