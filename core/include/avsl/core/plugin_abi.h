// The plugin ABI: the single entry point every plugin exports and the versioned struct it returns.
//
// Layout rule: `abi_version` and `struct_size` are the first two fields forever, so any host can read
// them from any plugin. AVSL_PLUGIN_ABI_VERSION is bumped on every change to PluginInfo, Registrar, or the
// vtable of any SDK interface (C++ classes cross the boundary, so their layout is part of the ABI).
#pragma once

#include <cstdint>

#include <boost/config.hpp>
#include <torch/csrc/api/include/torch/version.h>

#include "avsl/core/registrar.h"
#include "avsl/core/version.h"

// ABI 2: StepOutput::maps, Method::OnTrainEvent, TrainEvent::kEpochStart, SDK value types in avsl/core.
// ABI 3: PluginHost remembers the directories it searched (its layout grew).
// ABI 4: LrSchedule::FactorAt (schedules in epochs, core.MultiStep).
// ABI 5: the two-tower localizer's dropout options (FNAC).
// ABI 6: Sample::negative_audio (the negative-audio evaluation).
// ABI 7: TrainEvent::ranks (collectives in a method's events: DSOL's bank in data-parallel runs).
#define AVSL_PLUGIN_ABI_VERSION 7u
#define AVSL_PLUGIN_ENTRY_POINT "avsl_plugin_info"

// What the plugin was compiled against; the host refuses a plugin whose values differ from its own.
#ifndef AVSL_PLUGIN_TORCH_VERSION
#define AVSL_PLUGIN_TORCH_VERSION TORCH_VERSION
#endif
#ifndef AVSL_PLUGIN_CXX11_ABI
#define AVSL_PLUGIN_CXX11_ABI _GLIBCXX_USE_CXX11_ABI
#endif
#ifndef AVSL_PLUGIN_CUDA
#ifdef AVSL_WITH_CUDA_BUILD
#define AVSL_PLUGIN_CUDA 1
#else
#define AVSL_PLUGIN_CUDA 0
#endif
#endif

namespace avsl {

/// Returned by a plugin's entry point. Plain data: the host reads it before running any other plugin code.
struct PluginInfo {
  std::uint32_t abi_version;        ///< AVSL_PLUGIN_ABI_VERSION the plugin was built with
  std::uint32_t struct_size;        ///< sizeof(PluginInfo) in the plugin
  const char* name;                 ///< [a-z0-9_]+, also the scope of its components
  const char* version;              ///< the plugin's own semver
  const char* sdk_version;          ///< AVSL_SDK_VERSION the plugin was built with
  const char* torch_version;        ///< TORCH_VERSION the plugin was built with
  std::int32_t cxx11_abi;           ///< _GLIBCXX_USE_CXX11_ABI
  std::int32_t cuda;                ///< built against a CUDA-enabled LibTorch
  const char* const* dependencies;  ///< names of plugins that must register first; nullptr-terminated
  const char* description;
  void (*register_components)(Registrar& registrar);  ///< the only place a plugin registers components
};

using PluginEntryPoint = const PluginInfo*();

}  // namespace avsl

// The statically linkable form (LLVM's): when the build defines AVSL_PLUGIN_ID (avsl_add_plugin() sets it to the
// plugin's name), the entry point is also exported as `avsl_plugin_info_<ID>`, so a test or a tool can link the
// plugin's objects and hand them to PluginHost::LoadLinked without dlopen. The plain `avsl_plugin_info` is weak
// so that several plugins' objects can share one binary.
#define AVSL_PLUGIN_CAT2_(a, b) a##b
#define AVSL_PLUGIN_CAT_(a, b) AVSL_PLUGIN_CAT2_(a, b)
#ifdef AVSL_PLUGIN_ID
#define AVSL_PLUGIN_LINKED_ENTRY_                                                                                  \
  extern "C" BOOST_SYMBOL_EXPORT const ::avsl::PluginInfo* AVSL_PLUGIN_CAT_(avsl_plugin_info_, AVSL_PLUGIN_ID)() { \
    return AvslPluginInfo_();                                                                                      \
  }
#else
#define AVSL_PLUGIN_LINKED_ENTRY_
#endif

#define AVSL_PLUGIN_IMPL_(NAME, VERSION, DESCRIPTION, ...)                                            \
  static void AvslRegisterComponents_(::avsl::Registrar& registrar);                                  \
  static const char* const kAvslPluginDependencies_[] = {__VA_ARGS__};                                \
  static const ::avsl::PluginInfo* AvslPluginInfo_() {                                                \
    static const ::avsl::PluginInfo info = {AVSL_PLUGIN_ABI_VERSION,                                  \
                                            sizeof(::avsl::PluginInfo),                               \
                                            NAME,                                                     \
                                            VERSION,                                                  \
                                            AVSL_SDK_VERSION,                                         \
                                            AVSL_PLUGIN_TORCH_VERSION,                                \
                                            AVSL_PLUGIN_CXX11_ABI,                                    \
                                            AVSL_PLUGIN_CUDA,                                         \
                                            kAvslPluginDependencies_,                                 \
                                            DESCRIPTION,                                              \
                                            &AvslRegisterComponents_};                                \
    return &info;                                                                                     \
  }                                                                                                   \
  extern "C" BOOST_SYMBOL_EXPORT __attribute__((weak)) const ::avsl::PluginInfo* avsl_plugin_info() { \
    return AvslPluginInfo_();                                                                         \
  }                                                                                                   \
  AVSL_PLUGIN_LINKED_ENTRY_                                                                           \
  static void AvslRegisterComponents_(::avsl::Registrar& registrar)

/// Defines a plugin; the braces that follow are its registration callback, with `registrar` in scope:
///   AVSL_PLUGIN("center_prior", "1.0.0", "Centred Gaussian map") {
///     registrar.Register<avsl::Method>("CenterPrior", schema, factory, "doc");
///   }
#define AVSL_PLUGIN(NAME, VERSION, DESCRIPTION) AVSL_PLUGIN_IMPL_(NAME, VERSION, DESCRIPTION, nullptr)

/// Same, for a plugin whose factories build another plugin's components by name and must find them registered
/// first: AVSL_PLUGIN_DEPENDS("my_variant", "1.0.0", "...", "other_plugin"). The host loads "other_plugin" before
/// it and refuses it (missing_dependency) when "other_plugin" is absent. Reusing SDK blocks needs no dependency.
#define AVSL_PLUGIN_DEPENDS(NAME, VERSION, DESCRIPTION, ...) \
  AVSL_PLUGIN_IMPL_(NAME, VERSION, DESCRIPTION, __VA_ARGS__, nullptr)
