#include "avsl/train/trainer_hooks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "avsl/core/method.h"
#include "avsl/train/run_report.h"

namespace avsl::train {
namespace {

std::string FormatDuration(double seconds) {
  const long long s = static_cast<long long>(seconds);
  return s >= 3600 ? absl::StrFormat("%dh%02dm", s / 3600, (s / 60) % 60) : absl::StrFormat("%dm%02ds", s / 60, s % 60);
}

class LoggerHook final : public TrainerHook {
 public:
  LoggerHook(long long log_every, bool tty) : log_every_(log_every), tty_(tty) {}
  int priority() const override { return 10; }
  std::string name() const override { return "logger"; }

  absl::Status OnEpochStart(TrainerContext& ctx) override {
    log_sums_.clear();
    log_steps_ = 0;
    return absl::OkStatus();
  }

  absl::Status OnStepEnd(TrainerContext& ctx, const StepRecord& step) override {
    // The method's own scalars (StepOutput::logs), averaged over the steps since the last train record.
    if (step.logs != nullptr)
      for (const auto& [name, value] : *step.logs) log_sums_[name] += value;
    ++log_steps_;
    const checkpoint::TrainState& s = *ctx.state;
    if (s.global_step % log_every_ != 0) return absl::OkStatus();
    nlohmann::json j = {{"split", "train"},
                        {"epoch", s.epoch},
                        {"step", s.global_step},
                        {"loss", step.epoch_mean_loss},
                        {"samples_per_s", step.samples_per_second},
                        {"lr", ctx.learning_rate},
                        {"wall_time", step.elapsed_seconds}};
    for (const auto& [name, sum] : log_sums_)
      if (!j.contains(name)) j[name] = sum / std::max<long long>(1, log_steps_);
    log_sums_.clear();
    log_steps_ = 0;
    absl::Status appended = ctx.run->AppendMetrics(j.dump());
    if (!appended.ok()) return appended;
    if (!tty_) {
      ctx.run->Log(absl::StrFormat("epoch %d step %d/%d loss %.4f %.1f samples/s eta %s", s.epoch, s.global_step,
                                   ctx.total_steps, step.epoch_mean_loss, step.samples_per_second,
                                   FormatDuration(step.eta_seconds)));
    }
    return absl::OkStatus();
  }

  absl::Status OnValidationEnd(TrainerContext& ctx, const ValidationRecord& v) override {
    nlohmann::json j;
    for (const auto& [k, value] : v.values)
      j[k] = std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
    j["n_sounding"] = v.result->all.n_sounding;
    j["n_silent"] = v.result->all.n_silent;
    j["split"] = "val";
    j["epoch"] = ctx.state->epoch;
    j["step"] = ctx.state->global_step;
    absl::Status appended = ctx.run->AppendMetrics(j.dump());
    if (!appended.ok()) return appended;
    const MetricSet& m = v.result->all;
    ctx.run->Log(absl::StrFormat("epoch %d: train loss %.4f, val loc_acc %.4f ap %.4f max_f1 %.4f pointing %.4f",
                                 ctx.state->epoch, v.epoch_mean_loss, m.loc_acc, m.ap, m.max_f1, m.pointing));
    return absl::OkStatus();
  }

 private:
  long long log_every_;
  bool tty_;
  std::map<std::string, double> log_sums_;
  long long log_steps_ = 0;
};

class CheckpointSelectionHook final : public TrainerHook {
 public:
  CheckpointSelectionHook(std::string metric, std::string best_name)
      : metric_(std::move(metric)), best_name_(std::move(best_name)) {}
  int priority() const override { return 20; }
  std::string name() const override { return "checkpoint_selection"; }

  absl::Status OnValidationEnd(TrainerContext& ctx, const ValidationRecord& v) override {
    auto it = v.values.find(metric_);
    const double value = it == v.values.end() ? std::nan("") : it->second;
    checkpoint::TrainState& s = *ctx.state;
    if (!std::isfinite(value) || value <= s.best_value) return absl::OkStatus();
    s.best_value = value;
    s.best_epoch = s.epoch;
    absl::Status saved = ctx.save(best_name_);
    if (!saved.ok()) return saved;
    ctx.run->Log(absl::StrFormat("new best val.%s = %.4f: %s", metric_, value, ctx.run->CheckpointPath(best_name_)));
    return absl::OkStatus();
  }

 private:
  std::string metric_, best_name_;
};

class CurveHook final : public TrainerHook {
 public:
  int priority() const override { return 80; }
  std::string name() const override { return "curve"; }
  absl::Status OnRunEnd(TrainerContext& ctx, bool trained) override {
    if (!ctx.validates || !trained) return absl::OkStatus();
    // A curve that cannot be drawn (e.g. no validation record yet) is not a failed run.
    if (WriteTrainingCurve(ctx.run->File("metrics.jsonl"), ctx.run->File("curve.png")).ok())
      ctx.run->Log("training curve: " + ctx.run->File("curve.png"));
    return absl::OkStatus();
  }
};

class ProgressHook final : public TrainerHook {
 public:
  int priority() const override { return 90; }
  std::string name() const override { return "progress"; }
  absl::Status OnStepEnd(TrainerContext& ctx, const StepRecord& step) override {
    const checkpoint::TrainState& s = *ctx.state;
    const int width = 30;
    const int filled = static_cast<int>(width * s.global_step / std::max<long long>(1, ctx.total_steps));
    std::fprintf(stderr, "\repoch %lld [%s%s] step %lld/%lld loss %.4f %.1f samples/s eta %s   ", s.epoch,
                 std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), s.global_step,
                 ctx.total_steps, step.epoch_mean_loss, step.samples_per_second,
                 FormatDuration(step.eta_seconds).c_str());
    return absl::OkStatus();
  }
  absl::Status OnEpochEnd(TrainerContext& ctx, double) override {
    std::fprintf(stderr, "\n");
    return absl::OkStatus();
  }
};

class RecipeHooks final : public TrainerHook {
 public:
  RecipeHooks(Method* method, std::vector<std::shared_ptr<Hook>> hooks, std::vector<std::string> names)
      : method_(method), hooks_(std::move(hooks)), names_(std::move(names)) {}
  int priority() const override { return 50; }
  std::string name() const override { return "recipe_hooks"; }

  absl::Status OnRunStart(TrainerContext& ctx) override { return Send(ctx, Event(ctx, TrainEvent::Type::kRunStart)); }
  absl::Status OnEpochStart(TrainerContext& ctx) override {
    return Send(ctx, Event(ctx, TrainEvent::Type::kEpochStart));
  }
  absl::Status OnStepEnd(TrainerContext& ctx, const StepRecord& step) override {
    TrainEvent e = Event(ctx, TrainEvent::Type::kStepEnd);
    e.loss = step.loss;
    return Send(ctx, e);
  }
  absl::Status OnEpochEnd(TrainerContext& ctx, double epoch_mean_loss) override {
    TrainEvent e = Event(ctx, TrainEvent::Type::kEpochEnd);
    e.loss = epoch_mean_loss;
    return Send(ctx, e);
  }
  absl::Status OnValidationEnd(TrainerContext& ctx, const ValidationRecord& v) override {
    TrainEvent e = Event(ctx, TrainEvent::Type::kValidationEnd);
    for (const auto& [k, value] : v.values)
      if (std::isfinite(value)) e.metrics["val." + k] = value;
    e.metrics["val.n_sounding"] = static_cast<double>(v.result->all.n_sounding);
    e.metrics["val.n_silent"] = static_cast<double>(v.result->all.n_silent);
    return Send(ctx, e);
  }
  absl::Status OnRunEnd(TrainerContext& ctx, bool) override { return Send(ctx, Event(ctx, TrainEvent::Type::kRunEnd)); }

 private:
  static TrainEvent Event(const TrainerContext& ctx, TrainEvent::Type type) {
    TrainEvent e;
    e.type = type;
    e.epoch = ctx.state->epoch;
    e.step = ctx.state->global_step;
    e.run_dir = ctx.run->path();
    return e;
  }

  absl::Status Send(TrainerContext& ctx, const TrainEvent& event) {
    if (method_ != nullptr) method_->OnTrainEvent(event);
    for (size_t i = 0; i < hooks_.size(); ++i) {
      absl::StatusOr<HookAction> action = hooks_[i]->OnEvent(event);
      if (!action.ok()) {
        return absl::Status(action.status().code(),
                            absl::StrCat("hook '", names_[i], "' failed: ", action.status().message()));
      }
      if (*action == HookAction::kStopTraining && !ctx.stop_requested) {
        ctx.stop_requested = true;
        ctx.run->Log(absl::StrCat("hook '", names_[i], "' stopped training after epoch ", event.epoch));
      }
    }
    return absl::OkStatus();
  }

  Method* method_;
  std::vector<std::shared_ptr<Hook>> hooks_;
  std::vector<std::string> names_;
};

}  // namespace

TrainerHook::~TrainerHook() = default;

std::unique_ptr<TrainerHook> MakeLoggerHook(long long log_every, bool tty) {
  return std::make_unique<LoggerHook>(log_every, tty);
}
std::unique_ptr<TrainerHook> MakeCheckpointSelectionHook(std::string monitor_metric, std::string best_name) {
  return std::make_unique<CheckpointSelectionHook>(std::move(monitor_metric), std::move(best_name));
}
std::unique_ptr<TrainerHook> MakeCurveHook() { return std::make_unique<CurveHook>(); }
std::unique_ptr<TrainerHook> MakeProgressHook() { return std::make_unique<ProgressHook>(); }
std::unique_ptr<TrainerHook> MakeRecipeHooks(Method* method, std::vector<std::shared_ptr<Hook>> hooks,
                                             std::vector<std::string> names) {
  return std::make_unique<RecipeHooks>(method, std::move(hooks), std::move(names));
}

void SortByPriority(std::vector<std::unique_ptr<TrainerHook>>& hooks) {
  std::stable_sort(hooks.begin(), hooks.end(),
                   [](const auto& a, const auto& b) { return a->priority() < b->priority(); });
}

}  // namespace avsl::train
