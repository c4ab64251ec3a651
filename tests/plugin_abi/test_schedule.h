// A torch-free component the test plugins register.
#pragma once

#include <memory>

#include "avsl/core/lr_schedule.h"
#include "avsl/core/plugin_abi.h"

namespace avsl::test_plugins {

class Half final : public LrSchedule {
 public:
  double Factor(long long, long long) const override { return 0.5; }
};

inline Factory<LrSchedule> HalfFactory() {
  return [](const ComponentConfig&) -> absl::StatusOr<std::shared_ptr<LrSchedule>> { return std::make_shared<Half>(); };
}

}  // namespace avsl::test_plugins
