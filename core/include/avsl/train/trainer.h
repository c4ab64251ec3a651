// The training loop: recipe -> datasets, method, losses, optimizer, schedule -> epochs of steps with
// validation, checkpoints (`last`, `best_<metric>`), metrics.jsonl, a training curve and a final test
// evaluation of both checkpoints (so one run fills the "Early Stop" and "No Early Stop" columns).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/dist/launch_env.h"

namespace avsl::train {

/// Where one training step's wall time went, in seconds (`avsl bench step`). On CUDA each phase ends with a device
/// synchronization, so kernels are charged to the phase that launched them (timing slows a GPU step a little).
struct StepTimings {
  double data_wait = 0;   ///< waiting for the loader's next batch
  double collate = 0;     ///< samples into batch tensors on the device (and channels_last)
  double forward = 0;     ///< the method's TrainStep, [[losses]] and reading the loss value
  double backward = 0;    ///< zero_grad, backward and, with several processes, the gradient all-reduce's wait
  double optimizer = 0;   ///< gradient clipping, the schedule and the optimizer's step
  double hooks = 0;       ///< the method's AfterOptimizerStep (e.g. a momentum encoder) and the trainer's step hooks
  double total = 0;       ///< the whole step, data wait included; total − the phases = collectives and bookkeeping
  long long samples = 0;  ///< in this process's batch
};

struct TrainerOptions {
  std::string output_root = "runs";  ///< parent of run directories (recipe `output_dir` overrides)
  std::string resume_dir;            ///< continue this run from checkpoints/last.pt
  /// Non-empty: the new run goes exactly here (io::RunDir::CreateAt) instead of <output_root>/<name>/<timestamp>.
  std::string run_dir;
  std::string init_from;     ///< start from these weights (weights only)
  long long max_steps = -1;  ///< stop (resumably) after this many optimizer steps in this invocation
  std::string command_line;  ///< recorded in command.txt
  bool final_test = true;    ///< evaluate last and best on data.test at the end
  /// false: an exception inside a component (a TORCH_CHECK in a method, ...) is reported in one line naming the
  /// component (avsl/train/error_text.h); true: with its full text and C++ backtrace (`avsl train --verbose`).
  /// Either way the message is the returned status's and the run's log.txt gets it as an ERROR line (not stderr:
  /// the caller reports the status).
  bool verbose_errors = false;
  /// This process's place in a data-parallel job (dist::ReadLaunchEnv); a world size of 1 is the single-process
  /// trainer. Rank 0 writes the run directory; every rank trains its shard, with gradients averaged over the ranks.
  dist::LaunchEnv launch;
  /// false: the run's log lines go to log.txt only, not also to stderr.
  bool log_to_stderr = true;
  /// Called after every optimizer step with that step's timings; unset: no timing (and no CUDA synchronization).
  std::function<void(const StepTimings&)> on_step_timed;
};

/// Why Run returned without an error. Every stop but kCompleted and kHook leaves a resumable checkpoints/last.pt.
enum class StopReason {
  kCompleted,  ///< all epochs, then the final test
  kHook,       ///< a recipe hook (e.g. early stopping) ended training; the final test ran
  kMaxSteps,   ///< TrainerOptions::max_steps steps in this invocation
  kSigint,     ///< SIGINT after the step in progress
  kSigterm,    ///< SIGTERM after the step in progress
};
/// "completed", "hook", "max_steps", "SIGINT", "SIGTERM".
const char* StopReasonName(StopReason reason);

class AVSL_EXPORT Trainer {
 public:
  /// `recipe` must be validated against `host`'s registry. For --resume, pass the run's stored recipe with the
  /// user's overrides applied; Create compares it with the stored one (architecture/data changes refused).
  static absl::StatusOr<std::unique_ptr<Trainer>> Create(const Recipe& recipe, const std::string& recipe_name,
                                                         const PluginHost& host, TrainerOptions options);
  ~Trainer();
  absl::StatusOr<StopReason> Run();
  const std::string& run_dir() const;
  /// The method being trained (its weights after Run: what this rank holds; tests compare ranks with it).
  const Method& method() const;

 private:
  struct Impl;
  explicit Trainer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Keys of a resolved recipe whose change makes a checkpoint meaningless (model, data, extra losses, seed).
bool IsArchitectureOrDataKey(const std::string& dotted_key);

}  // namespace avsl::train
