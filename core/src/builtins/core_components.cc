#include "avsl/builtins/core_components.h"

#include <filesystem>

#include <boost/dll/runtime_symbol_info.hpp>

#include "avsl/core/version.h"
#include "avsl/models/encoder_components.h"
#include "builtins/core_components.h"

namespace avsl {
namespace {

void RegisterCoreComponents(Registrar& registrar) {
  RegisterOptimizers(registrar);
  RegisterLrSchedules(registrar);
  RegisterHooks(registrar);
  RegisterMetrics(registrar);
  RegisterTransforms(registrar);
  RegisterEncoders(registrar);
}

const char* const kNoDependencies[] = {nullptr};

}  // namespace

const PluginInfo& CoreComponents() {
  static const PluginInfo info = {AVSL_PLUGIN_ABI_VERSION,
                                  sizeof(PluginInfo),
                                  "core",
                                  AVSL_VERSION,
                                  AVSL_SDK_VERSION,
                                  AVSL_PLUGIN_TORCH_VERSION,
                                  AVSL_PLUGIN_CXX11_ABI,
                                  AVSL_PLUGIN_CUDA,
                                  kNoDependencies,
                                  "built-in components of libavsl_core",
                                  &RegisterCoreComponents};
  return info;
}

const PluginRecord& AddCoreComponents(PluginHost& host) {
  const std::string self = std::filesystem::weakly_canonical(boost::dll::this_line_location()).string();
  return host.LoadLinked(CoreComponents(), self);
}

}  // namespace avsl
