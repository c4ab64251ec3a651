// Built with AVSL_PLUGIN_TORCH_VERSION="0.0.1" (see CMakeLists.txt): a plugin compiled against another LibTorch.
#include "test_schedule.h"

AVSL_PLUGIN("wrong_torch", "1.0.0", "pretends to be built against LibTorch 0.0.1") {
  throw std::runtime_error("must not run");
}
