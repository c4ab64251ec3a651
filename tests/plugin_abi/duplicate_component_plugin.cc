#include "test_schedule.h"

AVSL_PLUGIN("duplicate_component", "1.0.0", "registers the same name twice") {
  registrar.Register<avsl::LrSchedule>("Half", avsl::Schema(""), avsl::test_plugins::HalfFactory(), "");
  registrar.Register<avsl::LrSchedule>("Half", avsl::Schema(""), avsl::test_plugins::HalfFactory(), "");
}
