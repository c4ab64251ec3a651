// The trainer's hooks: everything the training loop does besides stepping (logging, the progress display,
// selecting the early-stopped checkpoint, the training curve, the recipe's `[[hooks]]`) is a TrainerHook with a
// priority, as in mmengine. The loop calls every hook at each point in ascending priority order, so new
// behaviour (distributed logging, TensorBoard, profiling) is a new hook, not an edit of the loop.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "avsl/checkpoint/training_checkpoint.h"
#include "avsl/core/eval_result.h"
#include "avsl/core/hook.h"
#include "avsl/io/run_dir.h"

namespace avsl::train {

/// What a hook may read of the run, and the two things it may ask for.
struct TrainerContext {
  const io::RunDir* run = nullptr;
  checkpoint::TrainState* state = nullptr;  ///< epoch/step counters and the best value so far
  long long epochs = 0;                     ///< train.epochs
  long long total_steps = 0;                ///< epochs × batches per epoch
  double learning_rate = 0;                 ///< of the last step
  bool validates = false;                   ///< the run has a validation split
  /// Saves checkpoints/<name>.pt (and train_state.json) with the full training state.
  std::function<absl::Status(const std::string& name)> save;
  /// Set by a hook to end training after the current epoch; the name of the hook that asked is logged.
  bool stop_requested = false;
  /// A data-parallel run's ranks, passed on in every TrainEvent (null in one process).
  RankGroup* ranks = nullptr;
};

/// One optimizer step, as the hooks see it.
struct StepRecord {
  double loss = 0;                                                    ///< this step's loss
  double epoch_mean_loss = 0;                                         ///< mean over the epoch so far
  double samples_per_second = 0;                                      ///< this epoch so far
  double elapsed_seconds = 0;                                         ///< since this invocation started
  double eta_seconds = 0;                                             ///< to the last step, at this invocation's rate
  const std::vector<std::pair<std::string, double>>* logs = nullptr;  ///< the method's StepOutput::logs
  /// Data-parallel runs: each rank's wall time of its previous step (data wait to optimizer step), by rank.
  const std::vector<double>* rank_step_seconds = nullptr;
};

/// One finished epoch, as the hooks see it. Its means cover the steps this invocation ran: after a resume in the
/// middle of the epoch, fewer than its batches; after an invocation that stopped (--max-steps, a signal) on the
/// epoch's last batch, none (the epoch ends at the start of the next invocation, with no step to average).
struct EpochRecord {
  double mean_loss = 0;   ///< over `steps`; NaN when steps == 0
  long long steps = 0;    ///< optimizer steps of this epoch in this invocation (the count behind the means)
  long long batches = 0;  ///< the epoch's batches (the loader's batches per epoch)
  /// The means cover fewer steps than the epoch has (a resume in the middle of the epoch, or skipped batches).
  bool partial() const { return steps < batches; }
};

/// One validation pass.
struct ValidationRecord {
  const EvalResult* result = nullptr;
  std::map<std::string, double> values;  ///< "ap", "loc_acc", ... and the recipe's extra metrics (NaN allowed)
};

class TrainerHook {
 public:
  virtual ~TrainerHook();
  /// Lower runs first; the built-ins use 10 (logging), 20 (checkpoint selection), 50 (the recipe's hooks),
  /// 80 (curve), 90 (progress display).
  virtual int priority() const = 0;
  virtual std::string name() const = 0;
  virtual absl::Status OnRunStart(TrainerContext& ctx) { return absl::OkStatus(); }
  virtual absl::Status OnEpochStart(TrainerContext& ctx) { return absl::OkStatus(); }
  virtual absl::Status OnStepEnd(TrainerContext& ctx, const StepRecord& step) { return absl::OkStatus(); }
  /// After the epoch's last step, before validation; state->epoch already counts the finished epoch.
  virtual absl::Status OnEpochEnd(TrainerContext& ctx, const EpochRecord& epoch) { return absl::OkStatus(); }
  virtual absl::Status OnValidationEnd(TrainerContext& ctx, const ValidationRecord& v) { return absl::OkStatus(); }
  /// `trained`: false when the run only evaluated (nothing to learn or train.epochs = 0).
  virtual absl::Status OnRunEnd(TrainerContext& ctx, bool trained) { return absl::OkStatus(); }
};

/// metrics.jsonl: `{"split":"train"}` records every `log_every` steps (epoch-to-date mean loss, samples/s, lr, wall
/// time and the method's StepOutput::logs averaged over the steps since the previous record; in a data-parallel run
/// also "rank_step_s", every rank's time of its previous step, and "slowest_rank"), one
/// `{"split":"train_epoch"}` record per epoch that had steps in this invocation (the TrainEpochRecordFields: "epoch"
/// counts finished epochs, as in the validation records; "steps" the steps averaged; "partial": true when they are
/// fewer than the epoch's batches; then the epoch mean of every logged value, each over the steps that logged it)
/// and the `{"split":"val"}` records. log.txt: the progress line when stderr is not a terminal and one line per
/// epoch, "epoch N: train loss L (name mean, ...)" (logged names sorted, means to 4 significant digits), then
/// " (partial epoch: S of B steps)" for a partial epoch, followed by ", val loc_acc ..." when the epoch was
/// validated. An epoch without steps (an earlier invocation stopped on its last batch) has no train_epoch record
/// and no train part: "epoch N: val loc_acc ...", or no line when it was not validated.
std::unique_ptr<TrainerHook> MakeLoggerHook(long long log_every, bool tty);

/// The fields of every train_epoch record besides the method's logged values: "split", "epoch", "step", "steps",
/// "partial", "loss", "samples_per_s", "wall_time". A logged value of one of these names is left out of the record,
/// and `train.curve` may not name them (but "loss", the training loss, which is always drawn).
const std::vector<std::string>& TrainEpochRecordFields();

/// Keeps checkpoints/best_<metric>.pt for the monitored validation metric (`train.monitor`). A value above the
/// best so far, or tied with it (within metrics::kMetricTieTolerance), replaces the checkpoint: the later epoch wins
/// ties
/// (more training at an equal score), so a metric that never rises does not leave epoch 1 selected.
/// TrainState::best_value never decreases; best_epoch is the epoch of the checkpoint. Validations of epochs before
/// `from_epoch` (train.select_from_epoch, epochs numbered from 1) are not eligible.
std::unique_ptr<TrainerHook> MakeCheckpointSelectionHook(std::string monitor_metric, std::string best_name,
                                                         long long from_epoch = 1);
/// curve.png from metrics.jsonl at the end of a run that trained (WriteTrainingCurve): the validation metrics and
/// the epoch mean of the training loss and of `train_values` (`train.curve`: names from the method's
/// StepOutput::logs; the trainer refuses TrainEpochRecordFields but "loss"). After the first epoch of the invocation
/// that had steps, a name the method did not log is a warning in log.txt naming the key and the values that were
/// logged.
std::unique_ptr<TrainerHook> MakeCurveHook(std::vector<std::string> train_values = {});
/// The one-line progress bar on a terminal.
std::unique_ptr<TrainerHook> MakeProgressHook();
/// The recipe's `[[hooks]]` components (and the method's OnTrainEvent, first), fed TrainEvents. `method_name`
/// (the recipe's model type) names the method when its OnTrainEvent throws; a hook that throws is named by its
/// entry of `names`.
std::unique_ptr<TrainerHook> MakeRecipeHooks(Method* method, std::string method_name,
                                             std::vector<std::shared_ptr<Hook>> hooks, std::vector<std::string> names);

/// Sorts by priority (stable, so equal priorities keep their order of insertion).
void SortByPriority(std::vector<std::unique_ptr<TrainerHook>>& hooks);

}  // namespace avsl::train
