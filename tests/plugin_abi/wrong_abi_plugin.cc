// Claims a future ABI version; the host must refuse it before calling anything else.
#include "test_schedule.h"

static void NeverCalled(avsl::Registrar&) { throw "must not run"; }

extern "C" BOOST_SYMBOL_EXPORT const avsl::PluginInfo* avsl_plugin_info() {
  static const avsl::PluginInfo info = {999u,          sizeof(avsl::PluginInfo), "wrong_abi", "1.0.0", AVSL_SDK_VERSION,
                                        TORCH_VERSION, _GLIBCXX_USE_CXX11_ABI,   0,           nullptr, "",
                                        &NeverCalled};
  return &info;
}
