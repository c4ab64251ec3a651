#include "avsl/train/stop_signals.h"

#include <atomic>

namespace avsl::train {
namespace {

// Lock-free, so the handler may store to it.
std::atomic<int> g_stop_signal{0};
extern "C" void OnStopSignal(int signal) { g_stop_signal.store(signal); }

}  // namespace

StopSignalScope::StopSignalScope() {
  g_stop_signal.store(0);
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &old_int_);
  sigaction(SIGTERM, &action, &old_term_);
}

StopSignalScope::~StopSignalScope() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

int StopSignalScope::received() { return g_stop_signal.load(); }

}  // namespace avsl::train
