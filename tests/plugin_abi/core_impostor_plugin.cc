// Claims the reserved name "core", which the host itself always holds.
#include "test_schedule.h"

AVSL_PLUGIN("core", "1.0.0", "impostor") {
  registrar.Register<avsl::LrSchedule>("Adam", avsl::Schema(""), avsl::test_plugins::HalfFactory(), "");
}
