#include <stdexcept>

#include "test_schedule.h"

AVSL_PLUGIN("throws", "1.0.0", "throws half-way through registration") {
  registrar.Register<avsl::LrSchedule>("Half", avsl::Schema(""), avsl::test_plugins::HalfFactory(), "");
  throw std::runtime_error("boom during registration");
}
