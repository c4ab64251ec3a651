#include <torch/torch.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "avsl/core/dataset.h"
#include "avsl/core/hook.h"
#include "avsl/core/metric.h"
#include "avsl/core/loss.h"
#include "avsl/core/lr_schedule.h"
#include "avsl/core/method.h"
#include "avsl/core/optimizer.h"
#include "avsl/core/status_macros.h"
#include "avsl/data/loader.h"
#include "avsl/train/collate.h"
#include "avsl/train/map_evaluation.h"
#include "avsl/train/overlay_collector.h"
#include "avsl/train/precision.h"
#include "avsl/train/recipe_builders.h"
#include "avsl/train/run_dir.h"
#include "avsl/train/run_report.h"
#include "avsl/train/trainer.h"
#include "avsl/train/training_checkpoint.h"

namespace avsl::train {
namespace {

std::atomic<int> g_stop_signal{0};
extern "C" void OnStopSignal(int signal) { g_stop_signal.store(signal); }

// Installs SIGINT/SIGTERM handlers for the lifetime of a run: the step in progress finishes, then the
// trainer saves a resumable checkpoint and returns.
class SignalScope {
 public:
  SignalScope() {
    g_stop_signal.store(0);
    struct sigaction action {};
    action.sa_handler = OnStopSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~SignalScope() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

const std::vector<std::string> kMonitorable = {"loc_acc", "auc", "mean_ciou", "pointing",
                                               "ap",      "max_f1", "ap_ref",  "max_f1_ref"};

double MetricValue(const metrics::MetricSet& m, const std::string& name) {
  if (name == "loc_acc") return m.loc_acc;
  if (name == "auc") return m.auc;
  if (name == "mean_ciou") return m.mean_ciou;
  if (name == "pointing") return m.pointing;
  if (name == "ap") return m.ap;
  if (name == "max_f1") return m.max_f1;
  if (name == "ap_ref") return m.ap_ref;
  return m.max_f1_ref;
}

nlohmann::json MetricsObject(const metrics::MetricSet& m) {
  nlohmann::json j;
  for (const std::string& name : kMonitorable) {
    const double v = MetricValue(m, name);
    j[name] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  }
  j["n_sounding"] = m.n_sounding;
  j["n_silent"] = m.n_silent;
  return j;
}

std::string FormatDuration(double seconds) {
  const long long s = static_cast<long long>(seconds);
  return s >= 3600 ? absl::StrFormat("%dh%02dm", s / 3600, (s / 60) % 60) : absl::StrFormat("%dm%02ds", s / 60, s % 60);
}

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
  std::vector<std::shared_ptr<Loss>> losses;
  std::shared_ptr<OptimizerFactory> optimizer_factory;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::shared_ptr<LrSchedule> schedule;
  std::unique_ptr<data::Loader> train_loader, val_loader, test_loader;
  std::vector<std::shared_ptr<Hook>> hooks;
  std::vector<std::string> hook_names;
  std::vector<std::shared_ptr<Metric>> extra_metrics;
  bool stop_requested_by_hook = false;
  std::string confidence_name = "generic (top-25% mean)";

  long long epochs = 0;
  double grad_clip = 0;
  std::string select, monitor_metric;
  std::string best_name;  ///< the early-stopped checkpoint, e.g. "best_ap"
  long long val_every = 1, log_every = 20;
  bool test_at_end = true;
  Amp amp = Amp::kNone;
  bool channels_last = false;
  int visualize = 0;
  MapEvaluationOptions eval_options;
  eval::ScoreOptions described;  // how evaluation outputs describe their options
  TrainState state;

  absl::Status Build(const Recipe& recipe, const std::string& recipe_name);
  absl::Status Save(const std::string& name);
  /// `logs`: the method's extra scalars of this step (StepOutput::logs), summed into metrics.jsonl records.
  absl::Status Step(const data::SampleBatch& batch, double* loss_out, std::map<std::string, double>* log_sums);
  absl::StatusOr<metrics::EvalResult> Validate(data::Loader& loader, const std::string& what);
  absl::Status FinalTest();
  absl::Status Notify(TrainEvent event);
  nlohmann::json ResultJson(const metrics::EvalResult& result) const;
  absl::Status Run();
};

absl::Status Trainer::Impl::Notify(TrainEvent event) {
  event.run_dir = run->path();
  for (size_t i = 0; i < hooks.size(); ++i) {
    absl::StatusOr<HookAction> action = hooks[i]->OnEvent(event);
    if (!action.ok()) {
      return absl::Status(action.status().code(),
                          absl::StrCat("hook '", hook_names[i], "' failed: ", action.status().message()));
    }
    if (*action == HookAction::kStopTraining && !stop_requested_by_hook) {
      stop_requested_by_hook = true;
      run->Log(absl::StrCat("hook '", hook_names[i], "' stopped training after epoch ", event.epoch));
    }
  }
  return absl::OkStatus();
}

nlohmann::json Trainer::Impl::ResultJson(const metrics::EvalResult& result) const {
  nlohmann::json j = MetricsObject(result.all);
  for (const auto& [k, v] : ComputeExtraMetrics(extra_metrics, result))
    j[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  return j;
}

absl::Status Trainer::Impl::Build(const Recipe& recipe, const std::string& recipe_name) {
  root = recipe.Root();
  recipe_toml = recipe.ToToml();
  AVSL_ASSIGN_OR_RETURN(Runtime runtime, ApplyRuntime(root));
  seed = runtime.seed;
  threads = runtime.threads;
  device = runtime.device;
  ComponentConfig train = root.Sub("train");
  epochs = train.GetInt("epochs");
  grad_clip = train.GetFloat("grad_clip");
  select = train.GetString("select");
  val_every = train.GetInt("val_every");
  log_every = train.GetInt("log_every");
  test_at_end = train.GetBool("test_at_end");
  visualize = static_cast<int>(root.Sub("eval").GetInt("visualize"));
  const std::string monitor = train.GetString("monitor");
  monitor_metric = monitor.rfind("val.", 0) == 0 ? monitor.substr(4) : "";
  best_name = BestCheckpointName(monitor);
  if (std::find(kMonitorable.begin(), kMonitorable.end(), monitor_metric) == kMonitorable.end()) {
    return absl::InvalidArgumentError(absl::StrCat("recipe key 'train.monitor' = \"", monitor,
                                                   "\": expected val.<metric> with metric one of ",
                                                   absl::StrJoin(kMonitorable, ", ")));
  }
  AVSL_ASSIGN_OR_RETURN(eval_options, BuildEvalOptions(root, &described));
  eval_options.confidence_out = &confidence_name;

  // Same seed, same initial weights.
  torch::manual_seed(seed);
  AVSL_ASSIGN_OR_RETURN(method, host->registry().Build<Method>(root.Sub("model")));
  method->to(device);
  AVSL_ASSIGN_OR_RETURN(amp, ParseAmp(root.GetString("amp")));
  channels_last = root.GetBool("channels_last");
  if (channels_last) ToChannelsLast(*method);
  std::vector<torch::Tensor> params = method->parameters();
  for (const ComponentConfig& c : root.SubArray("losses")) {
    AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Loss> loss, host->registry().Build<Loss>(c));
    loss->to(device);
    for (const torch::Tensor& p : loss->parameters()) params.push_back(p);
    losses.push_back(std::move(loss));
  }
  for (const ComponentConfig& c : root.SubArray("hooks")) {
    AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Hook> hook, host->registry().Build<Hook>(c));
    hooks.push_back(std::move(hook));
    hook_names.push_back(c.type());
  }
  AVSL_ASSIGN_OR_RETURN(extra_metrics, BuildExtraMetrics(root, host->registry()));
  AVSL_ASSIGN_OR_RETURN(optimizer_factory, host->registry().Build<OptimizerFactory>(root.Sub("optim")));
  AVSL_ASSIGN_OR_RETURN(schedule, host->registry().Build<LrSchedule>(root.Sub("schedule")));
  if (!params.empty()) optimizer = optimizer_factory->Create(params);

  AVSL_ASSIGN_OR_RETURN(train_loader, BuildLoader(root, "train", true, seed, host->registry()));
  AVSL_ASSIGN_OR_RETURN(val_loader, BuildLoader(root, "val", false, seed, host->registry()));
  AVSL_ASSIGN_OR_RETURN(test_loader, BuildLoader(root, "test", false, seed, host->registry()));
  const bool trains = method->trainable() && epochs > 0;
  if (trains && !train_loader) return absl::InvalidArgumentError("training needs data.train (a dataset table)");
  if (trains && select == "early_stop" && !val_loader) {
    if (!train.GetBool("select_on_test") || !test_loader) {
      return absl::InvalidArgumentError(
          "train.select = \"early_stop\" needs data.val; add a validation set, set train.select = \"last\", or "
          "set train.select_on_test = true to select on the test split (not a fair protocol)");
    }
    val_loader.swap(test_loader);  // selection on the test split, as the reference code did
    test_loader.reset();
  }

  state.monitor = monitor;
  const std::string output_root =
      root.Has("output_dir") ? root.GetString("output_dir") : options.output_root;
  if (!options.resume_dir.empty()) {
    AVSL_ASSIGN_OR_RETURN(RunDir opened, RunDir::Open(options.resume_dir));
    run = std::make_unique<RunDir>(std::move(opened));
  } else {
    AVSL_ASSIGN_OR_RETURN(RunDir created, RunDir::Create(output_root, recipe_name));
    run = std::make_unique<RunDir>(std::move(created));
    AVSL_RETURN_IF_ERROR(run->WriteFile("recipe.toml", recipe_toml));
  }
  std::ofstream(run->File("command.txt"), std::ios::app) << options.command_line << "\n";
  AVSL_RETURN_IF_ERROR(run->WriteFile("env.json", EnvJson(*host, device.str(), threads,
                                                          static_cast<long long>(seed), options.command_line)));
  if (train.GetBool("select_on_test") && val_loader && !root.Sub("data").Has("val")) {
    run->Log("WARNING: model selection uses the TEST split (train.select_on_test = true): the early-stop "
             "numbers are optimistic, as in the reference code");
  }
  if (!options.resume_dir.empty()) {
    CheckpointContents c{method.get(), losses, optimizer.get(), {}, {}};
    AVSL_RETURN_IF_ERROR(LoadCheckpoint(run->CheckpointPath("last"), c));
    state = c.state;
    run->Log(absl::StrCat("resumed ", run->path(), " at epoch ", state.epoch, ", batch ", state.batch_in_epoch,
                          ", step ", state.global_step));
  } else if (!options.init_from.empty()) {
    AVSL_RETURN_IF_ERROR(LoadMethodWeights(options.init_from, *method));
    run->Log("initialized weights from " + options.init_from);
  }
  return absl::OkStatus();
}

absl::Status Trainer::Impl::Save(const std::string& name) {
  CheckpointContents c{method.get(), losses, optimizer.get(), state, recipe_toml};
  AVSL_RETURN_IF_ERROR(SaveCheckpoint(run->CheckpointPath(name), c));
  return run->WriteFile("train_state.json", state.ToJson() + "\n");
}

absl::Status Trainer::Impl::Step(const data::SampleBatch& sample_batch, double* loss_out,
                                 std::map<std::string, double>* log_sums) {
  AVSL_ASSIGN_OR_RETURN(Batch batch, Collate(sample_batch.samples, device));
  if (channels_last) batch.image = batch.image.contiguous(torch::MemoryFormat::ChannelsLast);
  torch::Tensor loss;
  {
    AutocastScope autocast(amp, device);
    StepOutput out = method->TrainStep(batch);
    loss = out.loss.to(torch::kFloat);
    for (const auto& [name, value] : out.logs) (*log_sums)[name] += value;
    if (!losses.empty()) {
      Localization loc = method->Localize(batch);
      for (const auto& extra : losses) loss = loss + extra->Compute(batch, loc.maps).to(torch::kFloat);
    }
  }
  const double value = loss.item<double>();
  if (!std::isfinite(value)) {
    std::vector<std::string> keys(batch.keys.begin(), batch.keys.begin() + std::min<size_t>(batch.keys.size(), 8));
    return absl::InternalError(absl::StrCat(
        "non-finite loss (", value, ") at epoch ", state.epoch, ", batch ", state.batch_in_epoch, ", step ",
        state.global_step, "; batch keys: ", absl::StrJoin(keys, ", "), batch.keys.size() > 8 ? ", ..." : "",
        ". Nothing was saved for this step; the last good checkpoint is ", run->CheckpointPath("last"),
        " (if it exists). Lower optim.lr or set train.grad_clip"));
  }
  optimizer->zero_grad();
  loss.backward();
  if (grad_clip > 0) torch::nn::utils::clip_grad_norm_(method->parameters(), grad_clip);
  const long long total = epochs * static_cast<long long>(train_loader->batches_per_epoch());
  const double lr = optimizer_factory->learning_rate() * schedule->Factor(state.global_step, total);
  for (auto& group : optimizer->param_groups()) group.options().set_lr(lr);
  optimizer->step();
  method->AfterOptimizerStep();
  *loss_out = value;
  return absl::OkStatus();
}

absl::StatusOr<metrics::EvalResult> Trainer::Impl::Validate(data::Loader& loader, const std::string& what) {
  return EvaluateMethod(*method, loader, 0, device, eval_options);
}

absl::Status Trainer::Impl::FinalTest() {
  if (!test_loader || !test_at_end) return absl::OkStatus();
  std::vector<std::pair<std::string, std::string>> checkpoints = {{"last", run->CheckpointPath("last")}};
  const std::string best = run->CheckpointPath(best_name);
  if (std::filesystem::exists(best)) checkpoints.emplace_back(best_name, best);
  for (const auto& [name, path] : checkpoints) {
    if (std::filesystem::exists(path)) AVSL_RETURN_IF_ERROR(LoadMethodWeights(path, *method));
    viz::OverlayOptions overlay;
    overlay.pred_mode = eval_options.evaluator.pred_mode;
    overlay.top_percent = eval_options.evaluator.top_percent;
    overlay.abs_threshold = eval_options.evaluator.abs_threshold;
    OverlayCollector overlays(visualize, overlay);
    MapEvaluationOptions with_pictures = eval_options;
    with_pictures.on_sample = [&](const Sample& s, const Map2D& map, double conf) {
      overlays.Add(s, map, conf);
      return absl::OkStatus();
    };
    AVSL_ASSIGN_OR_RETURN(metrics::EvalResult result,
                          EvaluateMethod(*method, *test_loader, 0, device, with_pictures));
    AVSL_ASSIGN_OR_RETURN(std::vector<std::string> pictures,
                          overlays.Write(run->File("eval/test_" + name + "/overlays"), result));
    AVSL_RETURN_IF_ERROR(WriteEvaluation(run->File("eval/test_" + name), result, described, confidence_name,
                                         ComputeExtraMetrics(extra_metrics, result)));
    run->Log(absl::StrCat("test (", name, "): ", run->File("eval/test_" + name + "/metrics.json"), "\n",
                          eval::FormatMetricsTable(result)));
  }
  return absl::OkStatus();
}

absl::Status Trainer::Impl::Run() {
  SignalScope signals;
  const bool trains = method->trainable() && epochs > 0 && optimizer != nullptr;
  if (!trains) run->Log("nothing to train (the method has no parameters or train.epochs = 0): evaluating only");
  AVSL_RETURN_IF_ERROR(Notify({TrainEvent::Type::kRunStart, state.epoch, state.global_step, 0, {}, ""}));
  const bool tty = isatty(fileno(stderr));
  long long steps_here = 0;
  const auto start = std::chrono::steady_clock::now();
  const long long total_steps = trains ? epochs * static_cast<long long>(train_loader->batches_per_epoch()) : 0;
  while (trains && state.epoch < epochs && !stop_requested_by_hook) {
    method->train();
    AVSL_RETURN_IF_ERROR(train_loader->StartEpoch(static_cast<uint64_t>(state.epoch),
                                                  static_cast<size_t>(state.batch_in_epoch)));
    double loss_sum = 0;
    long long loss_count = 0, samples_seen = 0;
    // The method's own scalars (StepOutput::logs), averaged over the steps since the last train record.
    std::map<std::string, double> log_sums;
    long long log_steps = 0;
    const auto epoch_start = std::chrono::steady_clock::now();
    while (true) {
      AVSL_ASSIGN_OR_RETURN(std::optional<data::SampleBatch> batch, train_loader->Next());
      if (!batch) break;
      double loss = 0;
      absl::Status step = Step(*batch, &loss, &log_sums);
      if (!step.ok()) {
        run->Log("ERROR: " + std::string(step.message()));
        return step;
      }
      ++state.global_step;
      state.batch_in_epoch = static_cast<long long>(batch->batch_index) + 1;
      ++steps_here;
      loss_sum += loss;
      ++loss_count;
      ++log_steps;
      samples_seen += static_cast<long long>(batch->samples.size());
      AVSL_RETURN_IF_ERROR(Notify({TrainEvent::Type::kStepEnd, state.epoch, state.global_step, loss, {}, ""}));
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double epoch_elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
      const double rate = samples_seen / std::max(1e-9, epoch_elapsed);
      const double eta = elapsed / std::max<long long>(1, steps_here) * (total_steps - state.global_step);
      if (state.global_step % log_every == 0) {
        nlohmann::json j = {{"split", "train"}, {"epoch", state.epoch}, {"step", state.global_step},
                            {"loss", loss_sum / loss_count}, {"samples_per_s", rate},
                            {"lr", optimizer->param_groups()[0].options().get_lr()}, {"wall_time", elapsed}};
        for (const auto& [name, sum] : log_sums) {
          if (!j.contains(name)) j[name] = sum / std::max<long long>(1, log_steps);
        }
        log_sums.clear();
        log_steps = 0;
        AVSL_RETURN_IF_ERROR(run->AppendMetrics(j.dump()));
        if (!tty) {
          run->Log(absl::StrFormat("epoch %d step %d/%d loss %.4f %.1f samples/s eta %s", state.epoch,
                                   state.global_step, total_steps, loss_sum / loss_count, rate, FormatDuration(eta)));
        }
      }
      if (tty) {
        const int width = 30;
        const int filled = static_cast<int>(width * state.global_step / std::max<long long>(1, total_steps));
        std::fprintf(stderr, "\repoch %lld [%s%s] step %lld/%lld loss %.4f %.1f samples/s eta %s   ", state.epoch,
                     std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), state.global_step,
                     total_steps, loss_sum / loss_count, rate, FormatDuration(eta).c_str());
      }
      const int signal = g_stop_signal.load();
      if (signal != 0 || (options.max_steps >= 0 && steps_here >= options.max_steps)) {
        if (tty) std::fprintf(stderr, "\n");
        AVSL_RETURN_IF_ERROR(Save("last"));
        const std::string why = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "max_steps";
        run->Log(absl::StrCat("stopped by ", why, " after step ", state.global_step, "; resume with: avsl train --resume ",
                              run->path()));
        return absl::CancelledError(why);
      }
    }
    if (tty) std::fprintf(stderr, "\n");
    ++state.epoch;
    state.batch_in_epoch = 0;
    AVSL_RETURN_IF_ERROR(Notify({TrainEvent::Type::kEpochEnd, state.epoch, state.global_step,
                                 loss_count ? loss_sum / loss_count : 0.0, {}, ""}));
    const bool last_epoch = state.epoch == epochs || stop_requested_by_hook;
    if (val_loader && (state.epoch % val_every == 0 || last_epoch)) {
      AVSL_ASSIGN_OR_RETURN(metrics::EvalResult result, Validate(*val_loader, "val"));
      nlohmann::json j = ResultJson(result);
      TrainEvent validated{TrainEvent::Type::kValidationEnd, state.epoch, state.global_step, 0, {}, ""};
      for (const auto& [k, v] : j.items())
        if (v.is_number()) validated.metrics["val." + k] = v.get<double>();
      j["split"] = "val";
      j["epoch"] = state.epoch;
      j["step"] = state.global_step;
      AVSL_RETURN_IF_ERROR(run->AppendMetrics(j.dump()));
      const double value = MetricValue(result.all, monitor_metric);
      run->Log(absl::StrFormat("epoch %d: train loss %.4f, val loc_acc %.4f ap %.4f max_f1 %.4f pointing %.4f",
                               state.epoch, loss_count ? loss_sum / loss_count : 0.0, result.all.loc_acc,
                               result.all.ap, result.all.max_f1, result.all.pointing));
      if (std::isfinite(value) && value > state.best_value) {
        state.best_value = value;
        state.best_epoch = state.epoch;
        AVSL_RETURN_IF_ERROR(Save(best_name));
        run->Log(absl::StrFormat("new best val.%s = %.4f: %s", monitor_metric, value,
                                 run->CheckpointPath(best_name)));
      }
      AVSL_RETURN_IF_ERROR(Notify(validated));
    }
    state.finished = last_epoch;
    AVSL_RETURN_IF_ERROR(Save("last"));
  }
  AVSL_RETURN_IF_ERROR(Notify({TrainEvent::Type::kRunEnd, state.epoch, state.global_step, 0, {}, ""}));
  if (!trains) {
    state.finished = true;
    AVSL_RETURN_IF_ERROR(Save("last"));
  }
  if (val_loader && trains) {
    absl::Status curve = WriteTrainingCurve(run->File("metrics.jsonl"), run->File("curve.png"));
    if (curve.ok()) run->Log("training curve: " + run->File("curve.png"));
  }
  if (trains) {
    run->Log(select == "early_stop" && state.best_epoch >= 0
                 ? absl::StrFormat("selected checkpoint (early_stop): %s (epoch %d)",
                                   run->CheckpointPath(best_name), state.best_epoch)
                 : "selected checkpoint (last): " + run->CheckpointPath("last"));
  }
  AVSL_RETURN_IF_ERROR(FinalTest());
  run->Log("run directory: " + run->path());
  return absl::OkStatus();
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
    s = absl::InternalError(absl::StrCat("building the run failed: ", e.what()));
  }
  if (!s.ok()) return s;
  return std::unique_ptr<Trainer>(new Trainer(std::move(impl)));
}

absl::Status Trainer::Run() {
  try {
    return impl_->Run();
  } catch (const std::exception& e) {
    const std::string msg = absl::StrCat("training failed at epoch ", impl_->state.epoch, ", step ",
                                         impl_->state.global_step, ": ", e.what());
    impl_->run->Log("ERROR: " + msg);
    return absl::InternalError(msg);
  }
}

const std::string& Trainer::run_dir() const { return impl_->run->path(); }

}  // namespace avsl::train
