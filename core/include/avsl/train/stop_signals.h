// SIGINT and SIGTERM recorded, not acted on, while a scope lives: the trainer finishes its step and saves a
// resumable checkpoint, the local launcher forwards the signal to its ranks. Torch-free.
#pragma once

#include <signal.h>

#include "avsl/core/export.h"

namespace avsl::train {

class AVSL_EXPORT StopSignalScope {
 public:
  /// Forgets any earlier signal and installs handlers that only record it. No SA_RESTART: a blocking call such as
  /// a sleep is cut short, so the owner sees the signal at once.
  StopSignalScope();
  /// Restores the handlers that were there before.
  ~StopSignalScope();
  StopSignalScope(const StopSignalScope&) = delete;
  StopSignalScope& operator=(const StopSignalScope&) = delete;

  /// The last SIGINT/SIGTERM received since the newest scope began; 0 when none.
  static int received();

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

}  // namespace avsl::train
