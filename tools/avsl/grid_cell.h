// The state of one grid cell on disk, shared by `avsl grid` (which runs cells) and `avsl grid --status` (which only
// reads): a lock file held while a process works on the cell, and a record of how its last attempt ended.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace avsl::cli {

enum class CellState {
  kPending,    ///< nothing trained yet
  kResumable,  ///< a checkpoint from an interrupted attempt: the next run resumes it
  kRunning,    ///< another process holds the cell's lock
  kDone,       ///< trained and every evaluation written
  kFailed,     ///< the last attempt failed (the next run tries again, resuming when it saved a checkpoint)
};
/// "pending", "resumable", "running", "done", "failed".
const char* CellStateName(CellState state);

struct CellStatus {
  CellState state = CellState::kPending;
  std::string detail;  ///< e.g. "pid 4242", "stopped after epoch 3 of 20", "exit 1: <the error line>"
};

/// Reads the state of the cell whose run directory is `dir` (which need not exist). `check_lock` = false for the
/// process that holds the cell's lock itself (flock would report its own lock as another's).
CellStatus ReadCellStatus(const std::string& dir, bool check_lock = true);

/// <dir>/grid.lock, held with flock(2) for as long as any process that inherited it lives: `avsl grid` takes it, and
/// the `avsl train` it starts inherits it, so a cell stays locked while its training runs even when the grid that
/// started it was killed. The kernel drops the lock with the last holder, so no stale lock survives a crash.
class CellLock {
 public:
  /// Takes the lock without waiting. Unavailable (naming the holder's pid) when another process holds it.
  static absl::StatusOr<CellLock> TryAcquire(const std::string& dir);
  CellLock(CellLock&& other) noexcept;
  CellLock& operator=(CellLock&&) = delete;
  CellLock(const CellLock&) = delete;
  ~CellLock();

 private:
  explicit CellLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

/// How an attempt ended, written to <dir>/grid_cell.json (atomically). `state` is kDone or kFailed.
struct CellRecord {
  CellState state = CellState::kDone;
  int exit_code = 0;
  std::string reason;  ///< why it failed: the error line of the command that failed
  double seconds = 0;  ///< wall time of this attempt
};
absl::Status WriteCellRecord(const std::string& dir, const CellRecord& record);
/// Removes the record (an attempt starts, or one was interrupted and is resumable, not failed).
void ClearCellRecord(const std::string& dir);

}  // namespace avsl::cli
