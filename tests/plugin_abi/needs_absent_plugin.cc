#include "test_schedule.h"

AVSL_PLUGIN_DEPENDS("needs_absent", "1.0.0", "depends on a plugin that does not exist", "absent_plugin") {
  registrar.Register<avsl::LrSchedule>("Half", avsl::Schema(""), avsl::test_plugins::HalfFactory(), "");
}
