#include "test_schedule.h"

AVSL_PLUGIN("good", "1.2.3", "a well-formed test plugin") {
  registrar.Register<avsl::LrSchedule>("Half", avsl::Schema("halves the rate"), avsl::test_plugins::HalfFactory(),
                                       "factor 0.5");
}
