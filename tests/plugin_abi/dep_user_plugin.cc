// Sorts before libavsl_good_for_deps.so but depends on it: the host must register 'good' first.
#include "test_schedule.h"

AVSL_PLUGIN_DEPENDS("dep_user", "1.0.0", "depends on 'good'", "good") {
  registrar.Register<avsl::LrSchedule>("AlsoHalf", avsl::Schema(""), avsl::test_plugins::HalfFactory(), "");
}
