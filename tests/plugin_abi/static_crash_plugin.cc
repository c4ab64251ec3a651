#include <csignal>

#include "test_schedule.h"

// Dies in a static constructor, i.e. while the dynamic loader opens the file, before any plugin code is called.
namespace {
struct CrashOnLoad {
  CrashOnLoad() { std::raise(SIGSEGV); }
};
CrashOnLoad crash_on_load;
}  // namespace

AVSL_PLUGIN("static_crash", "1.0.0", "dies of SIGSEGV in a static constructor") {
  registrar.Register<avsl::LrSchedule>("Half", avsl::Schema(""), avsl::test_plugins::HalfFactory(), "");
}
