// A second library that claims the same plugin name as good_plugin.cc.
#include "test_schedule.h"

AVSL_PLUGIN("good", "9.9.9", "a copy of 'good' found later in the search path") {
  registrar.Register<avsl::LrSchedule>("Half", avsl::Schema(""), avsl::test_plugins::HalfFactory(), "");
}
