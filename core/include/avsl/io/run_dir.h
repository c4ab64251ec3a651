// The run directory: everything needed to trust, resume and compare a run.
//   runs/<recipe>/<timestamp>/{recipe.toml, command.txt, env.json, log.txt, metrics.jsonl, train_state.json,
//                              checkpoints/{last.pt, best_<metric>.pt}, curve.png, eval/...}
#pragma once

#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "avsl/core/export.h"
#include "avsl/io/atomic_file.h"

namespace avsl::io {

class AVSL_EXPORT RunDir {
 public:
  /// Creates `<root>/<name>/<YYYYmmdd-HHMMSS>` (with a numeric suffix when that exists already).
  static absl::StatusOr<RunDir> Create(const std::string& root, const std::string& name);
  /// Makes `path` itself the run directory (created with its parents; `avsl train --run-dir`, the cells of `avsl
  /// grid`). A directory that holds a checkpoint (checkpoints/last.pt) is refused (FailedPrecondition: resume it
  /// instead); one left by a run that stopped before its first checkpoint is reused, its metrics.jsonl emptied (log.txt
  /// keeps both attempts).
  static absl::StatusOr<RunDir> CreateAt(const std::string& path);
  /// Opens an existing run directory (for --resume and eval); it must contain recipe.toml.
  static absl::StatusOr<RunDir> Open(const std::string& path);
  /// The run directory as a rank other than 0 of a data-parallel job holds it: it names the files, and writes
  /// nothing (WriteFile, AppendMetrics and the logs do nothing and succeed), so only rank 0 has side effects.
  static RunDir Mute(const std::string& path);

  const std::string& path() const { return path_; }
  std::string File(const std::string& relative) const;
  std::string CheckpointPath(const std::string& name) const;  ///< checkpoints/<name>.pt

  /// Writes `relative` atomically (temporary file + rename).
  absl::Status WriteFile(const std::string& relative, const std::string& contents) const;
  /// Appends one line to log.txt and mirrors it to stderr (unless set_stderr_echo(false)).
  void Log(const std::string& line) const;
  /// false: Log writes log.txt only (a run that a tool drives for its own report, e.g. `avsl bench step`).
  void set_stderr_echo(bool echo) { stderr_echo_ = echo; }
  /// Appends one line to log.txt only: for a line its caller reports on stderr itself (e.g. the error that ends a
  /// run, which `avsl train` prints as "avsl train: error: ...").
  void LogToFile(const std::string& line) const;
  /// Appends one JSON object (already serialized, one line) to metrics.jsonl.
  absl::Status AppendMetrics(const std::string& json_line) const;

  /// For --resume after a run was killed: removes the temporary files (`<file>.tmp-<pid>`, io::TemporaryPathFor) that
  /// a writer which no longer runs left in the run directory and in checkpoints/. Returns their paths.
  std::vector<std::string> RemoveStaleTemporaryFiles() const;
  /// For --resume: rewrites metrics.jsonl without the records of steps after `step` (those of the work the
  /// checkpoint does not hold, which the resumed run writes again) and without a torn last line (a kill during an
  /// append). Returns how many lines were dropped; 0 leaves the file untouched.
  absl::StatusOr<int> DropMetricsAfterStep(long long step) const;

 private:
  explicit RunDir(std::string path, bool writes = true) : path_(std::move(path)), writes_(writes) {}
  std::string path_;
  bool writes_ = true;
  bool stderr_echo_ = true;
};

/// Name of the early-stopped checkpoint (and of its eval/<split>_<name> directory) for a `train.monitor` such as
/// "val.ap" -> "best_ap". The trainer writes it and `avsl report` reads it, so both take it from here.
inline std::string BestCheckpointName(const std::string& monitor) {
  const size_t dot = monitor.find('.');
  return "best_" + (dot == std::string::npos ? monitor : monitor.substr(dot + 1));
}

}  // namespace avsl::io
