#include <torch/cuda.h>
#include <torch/torch.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "avsl/checkpoint/training_checkpoint.h"
#include "avsl/core/dataset.h"
#include "avsl/core/hook.h"
#include "avsl/core/loss.h"
#include "avsl/core/lr_schedule.h"
#include "avsl/core/method.h"
#include "avsl/core/metric.h"
#include "avsl/core/optimizer.h"
#include "avsl/core/rank_group.h"
#include "avsl/core/status_macros.h"
#include "avsl/data/loader.h"
#include "avsl/dist/communicator.h"
#include "avsl/dist/differentiable_collectives.h"
#include "avsl/dist/gradient_sync.h"
#include "avsl/eval/test_set.h"
#include "avsl/io/run_dir.h"
#include "avsl/metrics/detection.h"
#include "avsl/metrics/metric_fields.h"
#include "avsl/train/collate.h"
#include "avsl/train/error_text.h"
#include "avsl/train/evaluate_checkpoint.h"
#include "avsl/train/map_evaluation.h"
#include "avsl/train/memory_allocator.h"
#include "avsl/train/overlay_collector.h"
#include "avsl/train/precision.h"
#include "avsl/train/recipe_builders.h"
#include "avsl/train/run_report.h"
#include "avsl/train/sharded_evaluation.h"
#include "avsl/train/stop_signals.h"
#include "avsl/train/trainer.h"
#include "avsl/train/trainer_hooks.h"

namespace avsl::train {
namespace {

using checkpoint::CheckpointContents;
using checkpoint::TrainState;
using io::RunDir;

}  // namespace

bool IsArchitectureOrDataKey(const std::string& key) {
  for (const char* prefix : {"model", "losses", "data.train", "data.val", "seed", "data.batch_size"}) {
    const std::string p = prefix;
    if (key == p || key.rfind(p + ".", 0) == 0) return true;
  }
  return false;
}

struct Trainer::Impl {
  TrainerOptions options;
  ComponentConfig root;
  std::string recipe_toml;
  const PluginHost* host = nullptr;
  std::unique_ptr<RunDir> run;
  torch::Device device = torch::kCPU;
  int threads = 1;
  uint64_t seed = 0;

  std::shared_ptr<Method> method;
  std::string method_type;              ///< the recipe's model type, e.g. "ezvsl.EZVSL" (named in errors)
  std::vector<std::string> loss_types;  ///< of `losses`
  std::string optim_type, schedule_type;
  std::vector<std::shared_ptr<Loss>> losses;
  std::shared_ptr<OptimizerFactory> optimizer_factory;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::shared_ptr<LrSchedule> schedule;
  std::unique_ptr<data::Loader> train_loader, val_loader, test_loader;
  std::vector<std::shared_ptr<Hook>> recipe_hooks;
  std::vector<std::string> recipe_hook_names;
  std::vector<std::unique_ptr<TrainerHook>> hooks;  ///< sorted by priority
  TrainerContext ctx;
  std::vector<std::shared_ptr<Metric>> extra_metrics;

  long long epochs = 0;
  double grad_clip = 0;
  std::string select, monitor_metric;
  long long select_from_epoch = 1;  ///< train.select_from_epoch
  std::string best_name;            ///< the early-stopped checkpoint, e.g. "best_ap"
  long long val_every = 1, log_every = 20, save_every_steps = 0;
  bool test_at_end = true;
  Amp amp = Amp::kNone;  ///< as resolved from the recipe's `amp` (never kAuto)
  bool channels_last = false;
  std::string precision_description;
  int visualize = 0;
  MapEvaluationOptions eval_options;
  TrainState state;
  // Data parallelism (options.launch.world_size > 1); null/empty in a single process.
  std::unique_ptr<dist::Communicator> comm;
  std::unique_ptr<dist::GradientSync> grad_sync;
  // train.global_negatives / train.sync_bn: the group the method and its BatchNorms gather through in a step.
  bool global_negatives = false, sync_bn = false;
  std::unique_ptr<RankGroup> step_group;
  std::unique_ptr<RankGroup> event_group;     ///< TrainEvent::ranks of a data-parallel run
  std::vector<torch::Tensor> synced_buffers;  ///< the method's buffers, rank 0's before every step (as DDP)
  std::vector<double> rank_step_seconds;      ///< each rank's previous step, from the step's status exchange
  double previous_step_seconds = 0;           ///< this rank's
  // Phase timing for TrainerOptions::on_step_timed (`avsl bench step`).
  StepTimings timings;
  std::chrono::steady_clock::time_point phase_start;
  /// Adds the time since the previous mark to `*phase` (after the device's queued work, on CUDA); nothing when no
  /// one asked for timings.
  void MarkPhase(double* phase) {
    if (!options.on_step_timed) return;
    if (device.is_cuda()) torch::cuda::synchronize();
    const auto now = std::chrono::steady_clock::now();
    *phase += std::chrono::duration<double>(now - phase_start).count();
    phase_start = now;
  }
  long long step_samples = 0;  ///< samples of the last step over all ranks
  int agreed_stop_signal = 0;  ///< a stop signal some rank got, agreed by all at the same step
  bool is_root() const { return comm == nullptr || comm->rank() == 0; }
  int world() const { return comm == nullptr ? 1 : comm->world_size(); }
  /// Rank 0's parameters and buffers of the method and the losses on every rank.
  absl::Status BroadcastWeights(const std::string& why);
  /// The step's status exchange: every rank's loss, sample count, previous step time and stop signal; a non-finite
  /// loss on any rank fails every rank at this step.
  /// `gathers`: the GatherNegatives calls of this rank's step when train.global_negatives applies to it, else -1;
  /// a rank with none fails every rank (the option would change nothing for this method).
  absl::Status ExchangeStepStatus(double local_loss, long long local_samples, int gathers, double* mean_loss);
  /// Every rank's batch size of this step (one collective): step_group's collectives are used only when no
  /// rank's batch is empty (a rank with an empty batch runs no TrainStep, so could not take part in them), and
  /// uneven batches weight each rank's loss by its share.
  absl::StatusOr<std::vector<long long>> ExchangeBatchSizes(long long local_samples);
  /// The end of a non-finite-loss error: what was kept, and what to change.
  std::string NonFiniteLossHint() const {
    return absl::StrCat("Nothing was saved for this step; the last good checkpoint is ", run->CheckpointPath("last"),
                        " (if it exists). Lower optim.lr or set train.grad_clip");
  }

  /// --resume of a run that a hook (or another stop request) finished before the last epoch of the invocation that
  /// saved it: not trained further, since the hooks keep no state (early stopping would start counting again).
  bool resumed_stopped_run = false;

  absl::Status Build(const Recipe& recipe, const std::string& recipe_name);
  absl::Status Save(const std::string& name);
  /// One optimizer step; `logs` receives the method's StepOutput::logs. An exception thrown by a component
  /// becomes an error naming the epoch, batch, step and the component (one line unless options.verbose_errors).
  absl::Status Step(const data::SampleBatch& batch, double* loss_out,
                    std::vector<std::pair<std::string, double>>* logs);
  /// Step without the exception guard; `*phase` says which component is running, for the guard's message.
  absl::Status StepUnguarded(const data::SampleBatch& batch, double* loss_out,
                             std::vector<std::pair<std::string, double>>* logs, std::string* phase);
  absl::Status Validate();
  absl::Status FinalTest();
  /// Calls `fn` on every hook in priority order; the first error ends the run.
  template <typename Fn>
  absl::Status ForEachHook(Fn fn);
  absl::StatusOr<StopReason> Run();
};

template <typename Fn>
absl::Status Trainer::Impl::ForEachHook(Fn fn) {
  for (const std::unique_ptr<TrainerHook>& hook : hooks) {
    absl::Status s = fn(*hook);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Trainer::Impl::Build(const Recipe& recipe, const std::string& recipe_name) {
  root = recipe.Root();
  recipe_toml = recipe.ToToml();
  AVSL_ASSIGN_OR_RETURN(Runtime runtime, ApplyRuntime(root));
  seed = runtime.seed;
  threads = runtime.threads;
  device = runtime.device;
  ComponentConfig train = root.Sub("train");
  const dist::LaunchEnv& launch = options.launch;
  if (launch.distributed()) {
    // First of all: a rank that fails later (a missing file on its node) then shows up in the others' errors as the
    // lost rank, instead of leaving them waiting in the rendezvous.
    const auto timeout = std::chrono::milliseconds(static_cast<long long>(train.GetFloat("dist_timeout_s") * 1000));
    // One GPU per rank (dist::Communicator::cuda_device); its tensors travel over NCCL where the build has it.
    AVSL_ASSIGN_OR_RETURN(comm, dist::Communicator::Connect(launch, timeout, device.is_cuda()));
    if (device.is_cuda()) device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(comm->cuda_device()));
    if (root.GetInt("threads") == 0) {
      // threads = 0 means all cores: shared by the ranks of this machine.
      threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / launch.local_world_size);
      torch::set_num_threads(threads);
    }
  }
  epochs = train.GetInt("epochs");
  global_negatives = train.GetBool("global_negatives");
  sync_bn = train.GetBool("sync_bn");
  if (comm) {
    // The step channel carries the collectives of the methods' events too (TrainEvent::ranks), which every rank
    // sends at the same point, between steps.
    AVSL_RETURN_IF_ERROR(comm->OpenStepChannel());
    event_group = dist::MakeRankGroup(comm.get());
    if (global_negatives || sync_bn) step_group = dist::MakeRankGroup(comm.get());
  }
  grad_clip = train.GetFloat("grad_clip");
  select = train.GetString("select");
  select_from_epoch = train.GetInt("select_from_epoch");
  if (select == "early_stop" && epochs > 0 && select_from_epoch > epochs) {
    return absl::InvalidArgumentError(absl::StrCat("recipe key 'train.select_from_epoch' = ", select_from_epoch,
                                                   ": expected at most train.epochs (", epochs,
                                                   "), or no epoch could be selected"));
  }
  val_every = train.GetInt("val_every");
  log_every = train.GetInt("log_every");
  save_every_steps = train.GetInt("save_every_steps");
  test_at_end = train.GetBool("test_at_end");
  visualize = static_cast<int>(root.Sub("eval").GetInt("visualize"));
  const std::vector<std::string> curve_values = train.GetStringArray("curve");
  const std::vector<std::string>& record_fields = TrainEpochRecordFields();
  for (const std::string& name : curve_values) {
    if (name.empty()) {
      return absl::InvalidArgumentError(
          "recipe key 'train.curve': empty name; list names of the method's logged values, e.g. [\"loss_a2i\"]");
    }
    if (name != "loss" && std::find(record_fields.begin(), record_fields.end(), name) != record_fields.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "recipe key 'train.curve': \"", name, "\" is a field of the train_epoch records (",
          absl::StrJoin(record_fields, ", "),
          "), not a value the method logs; curve.png draws the training loss (always) and the names the method "
          "logs in StepOutput::logs, e.g. [\"loss_a2i\"]"));
    }
  }
  const std::string monitor = train.GetString("monitor");
  monitor_metric = monitor.rfind("val.", 0) == 0 ? monitor.substr(4) : "";
  best_name = io::BestCheckpointName(monitor);
  if (metrics::FindMetricField(monitor_metric) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("recipe key 'train.monitor' = \"", monitor,
                                                   "\": expected val.<metric> with metric one of ",
                                                   metrics::MetricFieldNames()));
  }
  AVSL_ASSIGN_OR_RETURN(eval_options.protocol, EvalProtocolFromRecipe(root));
  method_type = root.Sub("model").type();
  eval_options.method_name = method_type;
  optim_type = root.Sub("optim").type();
  schedule_type = root.Sub("schedule").type();

  AVSL_ASSIGN_OR_RETURN(method, BuildSeededMethod(root, seed, device, host->registry()));
  AVSL_ASSIGN_OR_RETURN(const Precision precision, PrecisionFromRecipe(root, device));
  amp = precision.amp;
  channels_last = precision.channels_last;
  precision_description = precision.description;
  if (channels_last) ToChannelsLast(*method);
  std::vector<torch::Tensor> params = method->parameters();
  for (const ComponentConfig& c : root.SubArray("losses")) {
    AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Loss> loss, host->registry().Build<Loss>(c));
    loss->to(device);
    for (const torch::Tensor& p : loss->parameters()) params.push_back(p);
    losses.push_back(std::move(loss));
    loss_types.push_back(c.type());
  }
  for (const ComponentConfig& c : root.SubArray("hooks")) {
    AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Hook> hook, host->registry().Build<Hook>(c));
    recipe_hooks.push_back(std::move(hook));
    recipe_hook_names.push_back(c.type());
  }
  AVSL_ASSIGN_OR_RETURN(extra_metrics, BuildExtraMetrics(root, host->registry()));
  AVSL_ASSIGN_OR_RETURN(optimizer_factory, host->registry().Build<OptimizerFactory>(root.Sub("optim")));
  AVSL_ASSIGN_OR_RETURN(schedule, host->registry().Build<LrSchedule>(root.Sub("schedule")));
  if (!params.empty()) optimizer = optimizer_factory->Create(params);

  const size_t rank = static_cast<size_t>(launch.rank), world_size = static_cast<size_t>(world());
  AVSL_ASSIGN_OR_RETURN(train_loader, BuildLoader(root, "train", true, seed, host->registry(), rank, world_size));
  AVSL_ASSIGN_OR_RETURN(val_loader, BuildLoader(root, "val", false, seed, host->registry(), rank, world_size));
  const bool trains = method->trainable() && epochs > 0;
  if (trains && !train_loader) return absl::InvalidArgumentError("training needs data.train (a dataset table)");
  if (trains && select == "early_stop" && !val_loader) {
    if (!train.GetBool("select_on_test") || !root.Sub("data").Has("test")) {
      return absl::InvalidArgumentError(
          "train.select = \"early_stop\" needs data.val; add a validation set, set train.select = \"last\", or "
          "set train.select_on_test = true to select on the test split (not a fair protocol)");
    }
    // Selection on the test split, as the reference code did: it is loaded once, as the validation split (sharded
    // like one), and there is no separate final test.
    AVSL_ASSIGN_OR_RETURN(val_loader, BuildLoader(root, "test", false, seed, host->registry(), rank, world_size));
  } else {
    AVSL_ASSIGN_OR_RETURN(test_loader, BuildLoader(root, "test", false, seed, host->registry(), rank, world_size));
  }

  state.monitor = monitor;
  const std::string output_root = root.Has("output_dir") ? root.GetString("output_dir") : options.output_root;
  if (!is_root()) {
    // Rank 0 made or opened the directory; it sends the path, or the reason it could not.
    AVSL_ASSIGN_OR_RETURN(std::string shared, comm->ShareFromRankZero("run_dir", ""));
    if (shared.rfind("ERROR:", 0) == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("rank 0 could not set up the run directory:", shared.substr(6)));
    }
    run = std::make_unique<RunDir>(RunDir::Mute(shared));
  } else {
    absl::Status made = absl::OkStatus();
    if (!options.resume_dir.empty()) {
      absl::StatusOr<RunDir> opened = RunDir::Open(options.resume_dir);
      if (opened.ok()) run = std::make_unique<RunDir>(std::move(*opened));
      made = opened.status();
    } else {
      absl::StatusOr<RunDir> created = options.run_dir.empty() ? RunDir::Create(output_root, recipe_name)
                                                               : RunDir::CreateAt(options.run_dir);
      if (created.ok()) run = std::make_unique<RunDir>(std::move(*created));
      made = created.ok() ? run->WriteFile("recipe.toml", recipe_toml) : created.status();
    }
    if (comm) {
      AVSL_RETURN_IF_ERROR(
          comm->ShareFromRankZero("run_dir", made.ok() ? run->path() : absl::StrCat("ERROR: ", made.message()))
              .status());
    }
    AVSL_RETURN_IF_ERROR(made);
  }
  run->set_stderr_echo(options.log_to_stderr);
  if (is_root()) std::ofstream(run->File("command.txt"), std::ios::app) << options.command_line << "\n";
  AVSL_RETURN_IF_ERROR(run->WriteFile(
      "env.json", EnvJson(*host, device.str(), threads, static_cast<long long>(seed), options.command_line)));
  run->Log("precision: " + precision_description);
  run->Log("allocator: " + DescribeAllocator());
  if (train.GetBool("select_on_test") && val_loader && !root.Sub("data").Has("val")) {
    run->Log("WARNING: model selection uses the TEST split (train.select_on_test = true): the early-stop "
             "numbers are optimistic, as in the reference code");
  }
  if (!options.resume_dir.empty()) {
    CheckpointContents c{method.get(), losses, optimizer.get(), {}, {}};
    AVSL_RETURN_IF_ERROR(checkpoint::LoadCheckpoint(run->CheckpointPath("last"), c));
    state = c.state;
    run->Log(absl::StrCat("resumed ", run->path(), " at epoch ", state.epoch, ", batch ", state.batch_in_epoch,
                          ", step ", state.global_step));
    // A run killed without warning (kill -9, a lost node) left what it wrote after its last checkpoint: records the
    // resumed run writes again, maybe a torn line, temporary files of an interrupted write.
    for (const std::string& stale : run->RemoveStaleTemporaryFiles())
      run->Log("removed " + stale + ", left by an interrupted write");
    AVSL_ASSIGN_OR_RETURN(const int dropped, run->DropMetricsAfterStep(state.global_step));
    if (dropped > 0) {
      run->Log(absl::StrCat("metrics.jsonl: dropped ", dropped, dropped == 1 ? " line" : " lines",
                            " written after the checkpoint's step ", state.global_step,
                            " (the resumed run writes them again) or cut short"));
    }
    if (state.finished) {
      // A finished run that reached the epochs of the invocation that saved it completed (a larger train.epochs
      // extends it); one that finished earlier was stopped. Unknown epochs count as stopped.
      long long saved_epochs = -1;
      absl::StatusOr<Recipe> saved = Recipe::Parse(c.recipe_toml, run->CheckpointPath("last"), run->path(), {});
      if (saved.ok()) {
        const std::map<std::string, std::string> flat = saved->Flatten();
        auto it = flat.find("train.epochs");
        if (it == flat.end() || !absl::SimpleAtoi(it->second, &saved_epochs)) saved_epochs = -1;
      }
      resumed_stopped_run = saved_epochs < 0 || state.epoch < saved_epochs;
    }
  } else if (!options.init_from.empty()) {
    AVSL_RETURN_IF_ERROR(checkpoint::LoadMethodWeights(options.init_from, *method));
    run->Log("initialized weights from " + options.init_from);
  }
  if (comm) {
    // Every rank built and loaded the same weights; the broadcast makes it certain (a plugin that draws from a
    // generator of its own, a checkpoint read on another node).
    AVSL_RETURN_IF_ERROR(BroadcastWeights("the broadcast of rank 0's initial weights"));
    synced_buffers = method->buffers();
    grad_sync = std::make_unique<dist::GradientSync>(params, comm.get());
    run->Log(absl::StrCat("data-parallel: ", world(), " processes (", launch.source, ", ", comm->transport(),
                          ", rendezvous ", launch.master_addr, ":", launch.master_port, "), batch ",
                          root.Sub("data").GetInt("batch_size"),
                          " per process = ", root.Sub("data").GetInt("batch_size") * world(), " global, ", threads,
                          " threads per process, ", grad_sync->bucket_count(), " gradient buckets, shard tail ",
                          root.Sub("data").GetString("shard_tail"), ", ",
                          global_negatives ? "global negatives (every rank's embeddings)" : "local negatives", ", ",
                          sync_bn ? "synchronized BatchNorm statistics" : "per-process BatchNorm statistics"));
  }

  // Every rank runs the hooks that decide (checkpoint selection, the recipe's hooks and the method's events) on the
  // same gathered values; only rank 0 the ones that only write.
  const bool tty = isatty(fileno(stderr));
  if (is_root()) hooks.push_back(MakeLoggerHook(log_every, tty));
  hooks.push_back(MakeCheckpointSelectionHook(monitor_metric, best_name, select_from_epoch));
  hooks.push_back(MakeRecipeHooks(method.get(), method_type, std::move(recipe_hooks), std::move(recipe_hook_names)));
  if (is_root()) hooks.push_back(MakeCurveHook(curve_values));
  if (tty && is_root()) hooks.push_back(MakeProgressHook());
  SortByPriority(hooks);
  ctx.run = run.get();
  ctx.state = &state;
  ctx.ranks = event_group.get();
  ctx.epochs = epochs;
  ctx.validates = val_loader != nullptr;
  ctx.save = [this](const std::string& name) { return Save(name); };
  return absl::OkStatus();
}

absl::Status Trainer::Impl::BroadcastWeights(const std::string& why) {
  std::vector<torch::Tensor> tensors = method->parameters();
  for (const torch::Tensor& b : method->buffers()) tensors.push_back(b);
  for (const std::shared_ptr<Loss>& loss : losses) {
    for (const torch::Tensor& p : loss->parameters()) tensors.push_back(p);
    for (const torch::Tensor& b : loss->buffers()) tensors.push_back(b);
  }
  return comm->Broadcast(tensors, 0, why);
}

absl::Status Trainer::Impl::ExchangeStepStatus(double local_loss, long long local_samples, int gathers,
                                               double* mean_loss) {
  // Five slots per rank, each rank writing only its own; a sum over the ranks is then every rank's values.
  const int w = world(), r = comm->rank();
  const bool finite = std::isfinite(local_loss);
  torch::Tensor status = torch::zeros({5 * w}, torch::kDouble);
  auto* v = status.data_ptr<double>();
  v[r] = finite ? local_loss : 0.0;
  v[w + r] = static_cast<double>(local_samples);
  v[2 * w + r] = previous_step_seconds;
  v[3 * w + r] = (finite ? 0.0 : 1.0) + 2.0 * StopSignalScope::received();
  v[4 * w + r] = gathers;
  AVSL_RETURN_IF_ERROR(comm->AllReduceSum(status, absl::StrCat("the status exchange of step ", state.global_step + 1)));
  v = status.data_ptr<double>();
  std::vector<std::string> nonfinite, gathered_nothing;
  double loss_sum = 0, samples = 0;
  rank_step_seconds.assign(static_cast<size_t>(w), 0.0);
  for (int k = 0; k < w; ++k) {
    const long long flags = static_cast<long long>(v[3 * w + k]);
    if (flags & 1) nonfinite.push_back(absl::StrCat(k));
    if (v[4 * w + k] == 0) gathered_nothing.push_back(absl::StrCat(k));
    if (flags >> 1) agreed_stop_signal = static_cast<int>(flags >> 1);
    loss_sum += v[k] * v[w + k];
    samples += v[w + k];
    rank_step_seconds[static_cast<size_t>(k)] = v[2 * w + k];
  }
  step_samples = static_cast<long long>(samples);
  if (!gathered_nothing.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "recipe key 'train.global_negatives' = true: method '", method_type, "' gathered no embeddings in step ",
        state.global_step + 1, " on rank ", absl::StrJoin(gathered_nothing, ", "),
        ", so the option would change nothing; its loss has no in-batch negatives to share across ranks (its "
        "README's 'Data-parallel training' says). Set it to false"));
  }
  if (!nonfinite.empty()) {
    return absl::InternalError(absl::StrCat("non-finite loss on rank ", absl::StrJoin(nonfinite, ", "), " at epoch ",
                                            state.epoch, ", batch ", state.batch_in_epoch, ", step ", state.global_step,
                                            ": every rank stops at this step. ", NonFiniteLossHint()));
  }
  *mean_loss = samples > 0 ? loss_sum / samples : 0.0;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<long long>> Trainer::Impl::ExchangeBatchSizes(long long local_samples) {
  torch::Tensor sizes = torch::zeros({world()}, torch::kDouble);
  sizes.data_ptr<double>()[comm->rank()] = static_cast<double>(local_samples);
  AVSL_RETURN_IF_ERROR(
      comm->AllReduceSum(sizes, absl::StrCat("the batch-size exchange of step ", state.global_step + 1)));
  std::vector<long long> out;
  for (int r = 0; r < world(); ++r) out.push_back(static_cast<long long>(sizes.data_ptr<double>()[r]));
  return out;
}

absl::Status Trainer::Impl::Save(const std::string& name) {
  if (!is_root()) return absl::OkStatus();  // rank 0 writes the run directory
  state.world_size = world();
  CheckpointContents c{method.get(), losses, optimizer.get(), state, recipe_toml};
  AVSL_RETURN_IF_ERROR(checkpoint::SaveCheckpoint(run->CheckpointPath(name), c));
  return run->WriteFile("train_state.json", state.ToJson() + "\n");
}

absl::Status Trainer::Impl::Step(const data::SampleBatch& sample_batch, double* loss_out,
                                 std::vector<std::pair<std::string, double>>* logs) {
  std::string phase = "the collation of the batch";
  try {
    return StepUnguarded(sample_batch, loss_out, logs, &phase);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("training failed at epoch ", state.epoch, ", batch ", state.batch_in_epoch,
                                            ", step ", state.global_step, " in ", phase, ": ",
                                            DescribeException(e, options.verbose_errors)));
  }
}

absl::Status Trainer::Impl::StepUnguarded(const data::SampleBatch& sample_batch, double* loss_out,
                                          std::vector<std::pair<std::string, double>>* logs, std::string* phase) {
  if (comm) {
    *phase = "the broadcast of rank 0's buffers";
    AVSL_RETURN_IF_ERROR(
        comm->Broadcast(synced_buffers, 0, absl::StrCat("the buffer broadcast of step ", state.global_step + 1)));
  }
  // A data-parallel rank whose batch lost every sample (data.on_error = "skip") still takes part in the step's
  // collectives, with no loss and zero gradients.
  const bool empty = sample_batch.samples.empty();
  bool scoped = false;
  double loss_weight = 1;  ///< this rank's share of the global batch × W: 1 when the ranks' batches are even
  if (step_group) {
    *phase = "the batch-size exchange";
    AVSL_ASSIGN_OR_RETURN(const std::vector<long long> sizes,
                          ExchangeBatchSizes(static_cast<long long>(sample_batch.samples.size())));
    scoped = *std::min_element(sizes.begin(), sizes.end()) > 0;
    // Each rank's loss is a mean over its own samples and the gradients are averaged over the ranks: that is the
    // global batch's mean only when the batches are even. A rank that lost samples (data.on_error = "skip")
    // counts by its share.
    const long long total = std::accumulate(sizes.begin(), sizes.end(), 0LL);
    if (scoped) loss_weight = static_cast<double>(sample_batch.samples.size()) * world() / static_cast<double>(total);
    if (!scoped && is_root()) {
      run->Log(absl::StrCat("step ", state.global_step + 1,
                            ": a rank's batch is empty (data.on_error = \"skip\"); this step uses local negatives and "
                            "per-process BatchNorm statistics"));
    }
  }
  torch::Tensor loss;
  double value = 0;
  int gathers = -1;  ///< counted when train.global_negatives applies to this step
  if (!empty) {
    *phase = "the collation of the batch";
    AVSL_ASSIGN_OR_RETURN(Batch batch, Collate(sample_batch.samples, device));
    if (channels_last) batch.image = batch.image.contiguous(torch::MemoryFormat::ChannelsLast);
    MarkPhase(&timings.collate);
    {
      AutocastScope autocast(amp, device);
      *phase = absl::StrCat("method ", method_type, "'s TrainStep");
      DataParallelStepScope collectives(scoped && global_negatives ? step_group.get() : nullptr,
                                        scoped && sync_bn ? step_group.get() : nullptr);
      StepOutput out = method->TrainStep(batch);
      loss = out.loss.to(torch::kFloat);
      *logs = std::move(out.logs);
      if (!losses.empty()) {
        if (!out.maps.defined()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "recipe key 'losses': method '", method_type,
              "' returns no StepOutput::maps from TrainStep, so extra losses cannot be computed on its maps; "
              "remove [[losses]] or make the method return its differentiable maps"));
        }
        for (size_t i = 0; i < losses.size(); ++i) {
          *phase = absl::StrCat("loss ", loss_types[i], "'s Compute");
          loss = loss + losses[i]->Compute(batch, out.maps).to(torch::kFloat);
        }
      }
      if (scoped && global_negatives) gathers = collectives.negatives_gathered();
    }
    *phase = absl::StrCat("the loss value (method ", method_type, "'s StepOutput::loss must be a scalar)");
    value = loss.item<double>();
    MarkPhase(&timings.forward);
    if (!comm && !std::isfinite(value)) {
      std::vector<std::string> keys(batch.keys.begin(), batch.keys.begin() + std::min<size_t>(batch.keys.size(), 8));
      return absl::InternalError(absl::StrCat("non-finite loss (", value, ") at epoch ", state.epoch, ", batch ",
                                              state.batch_in_epoch, ", step ", state.global_step,
                                              "; batch keys: ", absl::StrJoin(keys, ", "),
                                              batch.keys.size() > 8 ? ", ..." : "", ". ", NonFiniteLossHint()));
    }
  }
  double reported = value;
  if (comm) {
    *phase = "the step's status exchange";
    AVSL_RETURN_IF_ERROR(
        ExchangeStepStatus(value, static_cast<long long>(sample_batch.samples.size()), gathers, &reported));
  }
  *phase = absl::StrCat("the backward pass (method ", method_type, losses.empty() ? "" : " and [[losses]]", ")");
  optimizer->zero_grad();
  if (grad_sync) grad_sync->BeforeBackward();
  if (!empty) (loss_weight == 1 ? loss : loss * loss_weight).backward();
  if (grad_sync) {
    *phase = "the gradient all-reduce";
    AVSL_RETURN_IF_ERROR(grad_sync->Finish());
    // What the overlap with backward left exposed, and the whole step before it: their ratio is the share of the
    // step that waits for communication (docs/distributed.md).
    logs->emplace_back("dist_allreduce_wait_s", grad_sync->last_wait_seconds());
    logs->emplace_back("dist_step_s", previous_step_seconds);
  }
  MarkPhase(&timings.backward);
  *phase = "gradient clipping (train.grad_clip)";
  if (grad_clip > 0) torch::nn::utils::clip_grad_norm_(method->parameters(), grad_clip);
  *phase = absl::StrCat("schedule ", schedule_type);
  const double lr = optimizer_factory->learning_rate() *
                    schedule->FactorAt(state.global_step, ctx.total_steps,
                                       static_cast<long long>(train_loader->batches_per_epoch()));
  *phase = absl::StrCat("optimizer ", optim_type, "'s step");
  for (auto& group : optimizer->param_groups()) group.options().set_lr(lr);
  optimizer->step();
  MarkPhase(&timings.optimizer);
  *phase = absl::StrCat("method ", method_type, "'s AfterOptimizerStep");
  method->AfterOptimizerStep();
  MarkPhase(&timings.hooks);
  ctx.learning_rate = lr;
  *loss_out = reported;
  return absl::OkStatus();
}

absl::Status Trainer::Impl::Validate() {
  absl::StatusOr<MethodEvaluation> evaluated = EvaluateMethod(*method, *val_loader, 0, device, eval_options);
  if (comm) {
    // Each rank scored its shard; all of them score the gathered records (hooks then decide alike on every rank).
    evaluated = GatherMethodEvaluation(evaluated, eval_options.protocol, *comm);
  }
  if (!evaluated.ok()) {
    return absl::Status(evaluated.status().code(), absl::StrCat("validation after epoch ", state.epoch,
                                                                " failed: ", evaluated.status().message()));
  }
  const EvalResult& result = evaluated->result;
  ValidationRecord v;
  v.result = &result;
  for (const metrics::MetricField& f : metrics::MetricFields()) v.values[f.name] = result.all.*f.member;
  for (const auto& [k, value] : ComputeExtraMetrics(extra_metrics, result)) v.values[k] = value;
  // The confidence above which the max-F1 decision says "a visible source sounds": `avsl infer --run` reads it
  // back from metrics.jsonl for the epoch of the checkpoint it loads.
  std::vector<metrics::DetectionSample> detection;
  detection.reserve(result.samples.size());
  for (const SampleRecord& r : result.samples) detection.push_back({r.sounding, r.ciou, r.conf});
  v.values["max_f1_threshold"] =
      metrics::PaperDetectionMetrics(detection, eval_options.protocol.ciou_threshold).max_f1_threshold;
  return ForEachHook([&](TrainerHook& h) { return h.OnValidationEnd(ctx, v); });
}

absl::Status Trainer::Impl::FinalTest() {
  // Every rank scores its shard of the test split and the records are merged (the numbers are those of one process);
  // rank 0 writes eval/ with its per-sample outputs.
  if (!test_loader || !test_at_end) return absl::OkStatus();
  std::vector<std::string> names = {"last"};
  if (is_root() && std::filesystem::exists(run->CheckpointPath(best_name))) names.push_back(best_name);
  if (comm) {
    // Only rank 0 sees the run directory for sure (no shared filesystem needed): it says which checkpoints exist.
    AVSL_ASSIGN_OR_RETURN(const std::string shared,
                          comm->ShareFromRankZero("final_test_checkpoints", absl::StrJoin(names, ",")));
    names = absl::StrSplit(shared, ',');
  }
  for (const std::string& name : names) {
    CheckpointEvaluation what;
    const std::string path = run->CheckpointPath(name);
    if (comm) {
      // Rank 0 reads the checkpoint and sends its weights: the other ranks need no access to the run directory. It
      // says first whether the read worked, so a failed read stops every rank with its cause.
      absl::Status loaded = absl::OkStatus();
      if (is_root() && std::filesystem::exists(path)) loaded = checkpoint::LoadMethodWeights(path, *method);
      AVSL_ASSIGN_OR_RETURN(
          const std::string read,
          comm->ShareFromRankZero("final_test_read_" + name, loaded.ok() ? "ok" : std::string(loaded.message())));
      if (read != "ok") {
        return absl::FailedPreconditionError(
            absl::StrCat("test evaluation of checkpoint '", name, "': rank 0 could not read it: ", read));
      }
      AVSL_RETURN_IF_ERROR(BroadcastWeights(absl::StrCat("the broadcast of checkpoint '", name, "' for the test")));
      what.ranks = comm.get();
    } else if (std::filesystem::exists(path)) {
      what.checkpoint = path;
    }
    what.out_dir = run->File("eval/test_" + name);
    what.overlays = is_root() ? visualize : 0;  // rank 0 draws them
    what.verbose_errors = options.verbose_errors;
    what.test_lists = SplitListFiles(root, "test");
    absl::StatusOr<CheckpointEvaluationResult> evaluated = EvaluateCheckpoint(*method, *test_loader, device,
                                                                              eval_options, extra_metrics, what);
    if (comm) {
      // Rank 0 writes after the merge: the others learn whether that worked before the next checkpoint's broadcast.
      AVSL_ASSIGN_OR_RETURN(const std::string written,
                            comm->ShareFromRankZero("final_test_written_" + name,
                                                    evaluated.ok() ? "ok" : std::string(evaluated.status().message())));
      if (written != "ok" && evaluated.ok()) {
        return absl::AbortedError(
            absl::StrCat("test evaluation of checkpoint '", name, "' failed on rank 0: ", written));
      }
    }
    if (!evaluated.ok()) {
      return absl::Status(evaluated.status().code(), absl::StrCat("test evaluation of checkpoint '", name,
                                                                  "' failed: ", evaluated.status().message()));
    }
    run->Log(absl::StrCat("test (", name, "): ", what.out_dir,
                          "/metrics.json; test set: ", eval::DescribeTestSet(evaluated->test_set), "\n",
                          eval::FormatMetricsTable(evaluated->result)));
  }
  return absl::OkStatus();
}

absl::StatusOr<StopReason> Trainer::Impl::Run() {
  // The step in progress finishes, then the trainer saves a resumable checkpoint and returns.
  StopSignalScope signals;
  const bool trains = method->trainable() && epochs > 0 && optimizer != nullptr;
  if (!trains) run->Log("nothing to train (the method has no parameters or train.epochs = 0): evaluating only");
  ctx.total_steps = trains ? epochs * static_cast<long long>(train_loader->batches_per_epoch()) : 0;
  AVSL_RETURN_IF_ERROR(ForEachHook([&](TrainerHook& h) { return h.OnRunStart(ctx); }));
  long long steps_here = 0;
  const auto start = std::chrono::steady_clock::now();
  if (trains && resumed_stopped_run) {
    // The run end below repeats the curve and the final test.
    run->Log(absl::StrCat("nothing to resume: training was stopped after epoch ", state.epoch,
                          " (train_state.json: finished); to train further, start a new run with --init-from ",
                          run->CheckpointPath("last")));
  }
  const long long batches = trains ? static_cast<long long>(train_loader->batches_per_epoch()) : 0;
  while (trains && !resumed_stopped_run && state.epoch < epochs && !ctx.stop_requested) {
    state.finished = false;  // e.g. a completed run extended by a larger train.epochs, until its new last epoch
    method->train();
    // The resume point is a sample position, so a run saved by W processes resumes under any other number.
    const long long start_sample = state.samples_in_epoch >= 0
                                       ? state.samples_in_epoch
                                       : state.batch_in_epoch *
                                             static_cast<long long>(train_loader->options().batch_size);
    AVSL_RETURN_IF_ERROR(
        train_loader->StartEpochAtSample(static_cast<uint64_t>(state.epoch), static_cast<size_t>(start_sample)));
    AVSL_RETURN_IF_ERROR(ForEachHook([&](TrainerHook& h) { return h.OnEpochStart(ctx); }));
    double loss_sum = 0;
    long long loss_count = 0, samples_seen = 0;
    const auto epoch_start = std::chrono::steady_clock::now();
    while (true) {
      const auto step_start = std::chrono::steady_clock::now();
      timings = StepTimings{};
      phase_start = step_start;
      AVSL_ASSIGN_OR_RETURN(std::optional<data::SampleBatch> batch, train_loader->Next());
      if (!batch) break;
      MarkPhase(&timings.data_wait);
      StepRecord record;
      std::vector<std::pair<std::string, double>> logs;
      AVSL_RETURN_IF_ERROR(Step(*batch, &record.loss, &logs));  // Trainer::Run logs the error
      previous_step_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count();
      ++state.global_step;
      state.batch_in_epoch = static_cast<long long>(batch->batch_index) + 1;
      state.samples_in_epoch = static_cast<long long>(batch->epoch_position);
      ++steps_here;
      loss_sum += record.loss;
      ++loss_count;
      samples_seen += comm ? step_samples : static_cast<long long>(batch->samples.size());
      if (comm) record.rank_step_seconds = &rank_step_seconds;
      const auto now = std::chrono::steady_clock::now();
      record.elapsed_seconds = std::chrono::duration<double>(now - start).count();
      record.samples_per_second = samples_seen /
                                  std::max(1e-9, std::chrono::duration<double>(now - epoch_start).count());
      record.eta_seconds = record.elapsed_seconds / std::max<long long>(1, steps_here) *
                           static_cast<double>(ctx.total_steps - state.global_step);
      record.epoch_mean_loss = loss_sum / loss_count;
      record.logs = &logs;
      AVSL_RETURN_IF_ERROR(ForEachHook([&](TrainerHook& h) { return h.OnStepEnd(ctx, record); }));
      if (options.on_step_timed) {
        MarkPhase(&timings.hooks);
        timings.total = std::chrono::duration<double>(phase_start - step_start).count();
        timings.samples = static_cast<long long>(batch->samples.size());
        options.on_step_timed(timings);
      }
      // The epoch's last batch is saved by the epoch end, after its validation.
      if (save_every_steps > 0 && state.global_step % save_every_steps == 0 && state.batch_in_epoch < batches) {
        AVSL_RETURN_IF_ERROR(Save("last"));
      }
      // Ranks stop at the step where the status exchange first carried a signal, so they save the same state.
      const int signal = comm ? agreed_stop_signal : StopSignalScope::received();
      if (signal != 0 || (options.max_steps >= 0 && steps_here >= options.max_steps)) {
        if (isatty(fileno(stderr))) std::fprintf(stderr, "\n");
        AVSL_RETURN_IF_ERROR(Save("last"));
        const StopReason why = signal == SIGINT    ? StopReason::kSigint
                               : signal == SIGTERM ? StopReason::kSigterm
                                                   : StopReason::kMaxSteps;
        run->Log(absl::StrCat("stopped by ", StopReasonName(why), " after step ", state.global_step,
                              "; resume with: avsl train --resume ", run->path()));
        return why;
      }
    }
    ++state.epoch;
    state.batch_in_epoch = 0;
    state.samples_in_epoch = 0;
    // No step here when the previous invocation stopped on the epoch's last batch: its end (records, validation,
    // last.pt) happens now, with nothing to average (NaN, which the logger leaves out).
    EpochRecord epoch;
    epoch.mean_loss = loss_count ? loss_sum / loss_count : std::nan("");
    epoch.steps = loss_count;
    epoch.batches = batches;
    AVSL_RETURN_IF_ERROR(ForEachHook([&](TrainerHook& h) { return h.OnEpochEnd(ctx, epoch); }));
    const bool last_epoch = state.epoch == epochs || ctx.stop_requested;
    if (val_loader && (state.epoch % val_every == 0 || last_epoch)) AVSL_RETURN_IF_ERROR(Validate());
    // After the validation: a hook may end training there (core.EarlyStopping), and that run is finished too.
    state.finished = state.epoch == epochs || ctx.stop_requested;
    AVSL_RETURN_IF_ERROR(Save("last"));
  }
  if (!trains) {
    state.finished = true;
    AVSL_RETURN_IF_ERROR(Save("last"));
  }
  AVSL_RETURN_IF_ERROR(ForEachHook([&](TrainerHook& h) { return h.OnRunEnd(ctx, trains); }));
  if (trains) {
    run->Log(select == "early_stop" && state.best_epoch >= 0
                 ? absl::StrFormat("selected checkpoint (early_stop): %s (epoch %d)", run->CheckpointPath(best_name),
                                   state.best_epoch)
                 : "selected checkpoint (last): " + run->CheckpointPath("last"));
  }
  AVSL_RETURN_IF_ERROR(FinalTest());
  run->Log("run directory: " + run->path());
  return ctx.stop_requested ? StopReason::kHook : StopReason::kCompleted;
}

Trainer::Trainer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Trainer::~Trainer() = default;

absl::StatusOr<std::unique_ptr<Trainer>> Trainer::Create(const Recipe& recipe, const std::string& recipe_name,
                                                         const PluginHost& host, TrainerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->host = &host;
  absl::Status s;
  try {
    s = impl->Build(recipe, recipe_name);
  } catch (const std::exception& e) {
    s = absl::InternalError(
        absl::StrCat("building the run failed: ", DescribeException(e, impl->options.verbose_errors)));
  }
  if (!s.ok()) {
    // A component's exception quoted by a lower layer (e.g. the registry) loses its backtrace too.
    if (!impl->options.verbose_errors) s = WithoutBacktrace(s);
    // log.txt only: the caller reports the error (the CLI prints "avsl train: error: ..."), so stderr gets it once.
    if (impl->run) impl->run->LogToFile("ERROR: " + std::string(s.message()));
    return s;
  }
  return std::unique_ptr<Trainer>(new Trainer(std::move(impl)));
}

const char* StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kCompleted: return "completed";
    case StopReason::kHook: return "hook";
    case StopReason::kMaxSteps: return "max_steps";
    case StopReason::kSigint: return "SIGINT";
    case StopReason::kSigterm: return "SIGTERM";
  }
  return "unknown";
}

absl::StatusOr<StopReason> Trainer::Run() {
  absl::StatusOr<StopReason> result = absl::UnknownError("the run did not start");
  try {
    result = impl_->Run();
  } catch (const std::exception& e) {
    result = absl::InternalError(absl::StrCat("training failed at epoch ", impl_->state.epoch, ", step ",
                                              impl_->state.global_step, ": ",
                                              DescribeException(e, impl_->options.verbose_errors)));
  }
  if (result.ok()) return result;
  // Every error reaches log.txt once, as the caller gets it: one line unless errors are verbose (a c10 backtrace
  // quoted by a lower layer, e.g. a checkpoint load, is cut off too). Not on stderr: the caller prints it.
  const absl::Status error = impl_->options.verbose_errors ? result.status() : WithoutBacktrace(result.status());
  impl_->run->LogToFile("ERROR: " + std::string(error.message()));  // the caller reports it on stderr
  return error;
}

const std::string& Trainer::run_dir() const { return impl_->run->path(); }
const Method& Trainer::method() const { return *impl_->method; }

}  // namespace avsl::train
