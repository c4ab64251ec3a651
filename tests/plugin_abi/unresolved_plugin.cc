#include "test_schedule.h"

// Declared, never defined anywhere: the library links (shared objects may have undefined symbols) but cannot run.
// Opened lazily, it would die at the first call with the dynamic loader's "symbol lookup error".
extern "C" void avsl_test_symbol_nobody_defines();

AVSL_PLUGIN("unresolved", "1.0.0", "calls a function that no library defines") {
  avsl_test_symbol_nobody_defines();
  registrar.Register<avsl::LrSchedule>("Half", avsl::Schema(""), avsl::test_plugins::HalfFactory(), "");
}
