#include <csignal>

#include "test_schedule.h"

// A plugin bug of the worst kind: a segmentation fault half-way through registration. The host probes every plugin
// in a child process first, so this one is reported by name and the host process goes on.
AVSL_PLUGIN("segfault", "1.0.0", "dies of SIGSEGV while registering") {
  registrar.Register<avsl::LrSchedule>("Half", avsl::Schema(""), avsl::test_plugins::HalfFactory(), "");
  std::raise(SIGSEGV);
}
