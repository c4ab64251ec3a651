#include "avsl/train/trainer_hooks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "avsl/core/method.h"
#include "avsl/metrics/metric_fields.h"
#include "avsl/train/run_report.h"

namespace avsl::train {
namespace {

std::string FormatDuration(double seconds) {
  const long long s = static_cast<long long>(seconds);
  return s >= 3600 ? absl::StrFormat("%dh%02dm", s / 3600, (s / 60) % 60) : absl::StrFormat("%dm%02ds", s / 60, s % 60);
}

// Sums of the method's logged values and how many steps logged each (a method may log a name on some steps only).
class LogAccumulator {
 public:
  void Add(const std::vector<std::pair<std::string, double>>& logs) {
    for (const auto& [name, value] : logs) {
      Entry& e = entries_[name];
      e.sum += value;
      ++e.count;
    }
  }
  /// Mean of each name over the steps that logged it, sorted by name.
  std::map<std::string, double> Means() const {
    std::map<std::string, double> out;
    for (const auto& [name, e] : entries_) out[name] = e.sum / static_cast<double>(std::max<long long>(1, e.count));
    return out;
  }
  void Clear() { entries_.clear(); }

 private:
  struct Entry {
    double sum = 0;
    long long count = 0;
  };
  std::map<std::string, Entry> entries_;
};

nlohmann::json JsonNumber(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

// " (a 0.6123, b 0.05)" for the epoch line; "" when the method logged nothing.
std::string FormatLoggedMeans(const std::map<std::string, double>& means) {
  if (means.empty()) return "";
  std::vector<std::string> parts;
  for (const auto& [name, value] : means) parts.push_back(absl::StrFormat("%s %.4g", name, value));
  return absl::StrCat(" (", absl::StrJoin(parts, ", "), ")");
}

class LoggerHook final : public TrainerHook {
 public:
  LoggerHook(long long log_every, bool tty) : log_every_(log_every), tty_(tty) {}
  int priority() const override { return 10; }
  std::string name() const override { return "logger"; }

  absl::Status OnEpochStart(TrainerContext& ctx) override {
    FlushEpochLine(ctx);
    window_.Clear();
    epoch_.Clear();
    return absl::OkStatus();
  }

  absl::Status OnStepEnd(TrainerContext& ctx, const StepRecord& step) override {
    // The method's own scalars (StepOutput::logs): averaged over the steps since the last train record, and over
    // the epoch for the epoch record and the epoch line.
    if (step.logs != nullptr) {
      window_.Add(*step.logs);
      epoch_.Add(*step.logs);
    }
    samples_per_second_ = step.samples_per_second;
    elapsed_seconds_ = step.elapsed_seconds;
    const checkpoint::TrainState& s = *ctx.state;
    if (s.global_step % log_every_ != 0) return absl::OkStatus();
    nlohmann::json j = {{"split", "train"},
                        {"epoch", s.epoch},
                        {"step", s.global_step},
                        {"loss", step.epoch_mean_loss},
                        {"samples_per_s", step.samples_per_second},
                        {"lr", ctx.learning_rate},
                        {"wall_time", step.elapsed_seconds}};
    if (step.rank_step_seconds != nullptr && !step.rank_step_seconds->empty()) {
      const std::vector<double>& times = *step.rank_step_seconds;
      j["rank_step_s"] = times;
      j["slowest_rank"] = std::max_element(times.begin(), times.end()) - times.begin();
    }
    for (const auto& [name, mean] : window_.Means())
      if (!j.contains(name)) j[name] = JsonNumber(mean);
    window_.Clear();
    absl::Status appended = ctx.run->AppendMetrics(j.dump());
    if (!appended.ok()) return appended;
    if (!tty_) {
      ctx.run->Log(absl::StrFormat("epoch %d step %d/%d loss %.4f %.1f samples/s eta %s", s.epoch, s.global_step,
                                   ctx.total_steps, step.epoch_mean_loss, step.samples_per_second,
                                   FormatDuration(step.eta_seconds)));
    }
    return absl::OkStatus();
  }

  absl::Status OnEpochEnd(TrainerContext& ctx, const EpochRecord& epoch) override {
    // An epoch without steps here (the previous invocation stopped on its last batch) has nothing to average: no
    // record and no train part in its line (a validation of it still writes "epoch N: val ...").
    if (epoch.steps == 0) return absl::OkStatus();
    const checkpoint::TrainState& s = *ctx.state;
    const std::map<std::string, double> means = epoch_.Means();
    nlohmann::json j = {{"split", "train_epoch"},
                        {"epoch", s.epoch},
                        {"step", s.global_step},
                        {"steps", epoch.steps},
                        {"loss", JsonNumber(epoch.mean_loss)},
                        {"samples_per_s", samples_per_second_},
                        {"wall_time", elapsed_seconds_}};
    if (epoch.partial()) j["partial"] = true;
    const std::vector<std::string>& fields = TrainEpochRecordFields();
    for (const auto& [name, mean] : means)
      if (std::find(fields.begin(), fields.end(), name) == fields.end()) j[name] = JsonNumber(mean);
    absl::Status appended = ctx.run->AppendMetrics(j.dump());
    if (!appended.ok()) return appended;
    // The line waits for the validation of this epoch, if any, to be completed with its values (a recipe hook may
    // still end training now, which validates this epoch); otherwise it is written alone at the next epoch start or
    // the run end. A run without validation writes it now, unless the progress bar (priority 90) has yet to end
    // its line on the terminal.
    pending_epoch_line_ = absl::StrFormat("epoch %d: train loss %.4f%s", s.epoch, epoch.mean_loss,
                                          FormatLoggedMeans(means));
    if (epoch.partial()) {
      absl::StrAppend(&pending_epoch_line_,
                      absl::StrFormat(" (partial epoch: %d of %d steps)", epoch.steps, epoch.batches));
    }
    if (!ctx.validates && !tty_) FlushEpochLine(ctx);
    return absl::OkStatus();
  }

  absl::Status OnValidationEnd(TrainerContext& ctx, const ValidationRecord& v) override {
    nlohmann::json j;
    for (const auto& [k, value] : v.values) j[k] = JsonNumber(value);
    j["n_sounding"] = v.result->all.n_sounding;
    j["n_silent"] = v.result->all.n_silent;
    j["split"] = "val";
    j["epoch"] = ctx.state->epoch;
    j["step"] = ctx.state->global_step;
    absl::Status appended = ctx.run->AppendMetrics(j.dump());
    if (!appended.ok()) return appended;
    const MetricSet& m = v.result->all;
    // No pending line: the epoch had no steps in this invocation (OnEpochEnd), so the line has no train part.
    const std::string head = pending_epoch_line_.empty() ? absl::StrFormat("epoch %d:", ctx.state->epoch)
                                                         : pending_epoch_line_ + ",";
    pending_epoch_line_.clear();
    ctx.run->Log(absl::StrFormat("%s val loc_acc %.4f ap %.4f max_f1 %.4f pointing %.4f", head, m.loc_acc, m.ap,
                                 m.max_f1, m.pointing));
    return absl::OkStatus();
  }

  absl::Status OnRunEnd(TrainerContext& ctx, bool) override {
    FlushEpochLine(ctx);
    return absl::OkStatus();
  }

 private:
  // Writes the epoch line of an epoch that was not validated (if not written yet).
  void FlushEpochLine(TrainerContext& ctx) {
    if (pending_epoch_line_.empty()) return;
    ctx.run->Log(pending_epoch_line_);
    pending_epoch_line_.clear();
  }

  long long log_every_;
  bool tty_;
  LogAccumulator window_;  ///< since the last train record
  LogAccumulator epoch_;   ///< since the epoch started (or this invocation resumed it)
  double samples_per_second_ = 0, elapsed_seconds_ = 0;
  std::string pending_epoch_line_;
};

class CheckpointSelectionHook final : public TrainerHook {
 public:
  CheckpointSelectionHook(std::string metric, std::string best_name, long long from_epoch)
      : metric_(std::move(metric)), best_name_(std::move(best_name)), from_epoch_(from_epoch) {}
  int priority() const override { return 20; }
  std::string name() const override { return "checkpoint_selection"; }

  absl::Status OnValidationEnd(TrainerContext& ctx, const ValidationRecord& v) override {
    auto it = v.values.find(metric_);
    const double value = it == v.values.end() ? std::nan("") : it->second;
    checkpoint::TrainState& s = *ctx.state;
    if (s.epoch < from_epoch_) return absl::OkStatus();  // e.g. stage one of a two-stage method: its map is not final
    if (s.best_epoch >= 0 && s.best_epoch < from_epoch_) {
      // A best from before the window (a run resumed or extended with a larger train.select_from_epoch): forget it,
      // or a stage-one score could keep every stage-two epoch from being selected.
      ctx.run->Log(
          absl::StrFormat("train.select_from_epoch = %d: the best so far (epoch %d) is before it and no longer "
                          "counts",
                          from_epoch_, s.best_epoch));
      s.best_value = checkpoint::TrainState().best_value;
      s.best_epoch = -1;
    }
    constexpr double kTie = metrics::kMetricTieTolerance;  // core.EarlyStopping's too
    if (!std::isfinite(value) || value < s.best_value - kTie) return absl::OkStatus();
    // A tie replaces the checkpoint too: the later epoch wins (more training at an equal score). best_value never
    // decreases, so ties within the tolerance cannot drift it downwards.
    const bool tie = value <= s.best_value + kTie && s.best_epoch >= 0;
    const long long tied_epoch = s.best_epoch;
    s.best_value = std::max(s.best_value, value);
    s.best_epoch = s.epoch;
    absl::Status saved = ctx.save(best_name_);
    if (!saved.ok()) return saved;
    if (tie) {
      ctx.run->Log(absl::StrFormat("val.%s = %.4f ties the best (epoch %d); the later epoch wins ties: %s", metric_,
                                   value, tied_epoch, ctx.run->CheckpointPath(best_name_)));
    } else {
      ctx.run->Log(absl::StrFormat("new best val.%s = %.4f: %s", metric_, value, ctx.run->CheckpointPath(best_name_)));
    }
    return absl::OkStatus();
  }

 private:
  std::string metric_, best_name_;
  long long from_epoch_;
};

class CurveHook final : public TrainerHook {
 public:
  explicit CurveHook(std::vector<std::string> train_values) : train_values_(std::move(train_values)) {}
  int priority() const override { return 80; }
  std::string name() const override { return "curve"; }

  absl::Status OnStepEnd(TrainerContext& ctx, const StepRecord& step) override {
    if (!checked_ && step.logs != nullptr)
      for (const auto& [name, value] : *step.logs) logged_.insert(name);
    return absl::OkStatus();
  }

  absl::Status OnEpochEnd(TrainerContext& ctx, const EpochRecord& epoch) override {
    // An epoch without steps here logged nothing: the check waits for one that had steps.
    if (checked_ || epoch.steps == 0) return absl::OkStatus();
    checked_ = true;
    std::set<std::string> seen;
    std::vector<std::string> missing;  // quoted, in the recipe's order
    for (const std::string& name : train_values_) {
      if (name == "loss" || logged_.count(name) > 0 || !seen.insert(name).second) continue;
      missing.push_back("\"" + name + "\"");
    }
    if (!missing.empty()) {
      ctx.run->Log(absl::StrCat(
          "WARNING: recipe key 'train.curve' names ", absl::StrJoin(missing, ", "),
          ", which the method did not log in epoch ", ctx.state->epoch, " (",
          logged_.empty() ? std::string("it logged no values") : "it logged: " + absl::StrJoin(logged_, ", "),
          "); curve.png leaves ", missing.size() == 1 ? "it" : "them", " out"));
    }
    logged_.clear();
    return absl::OkStatus();
  }

  absl::Status OnRunEnd(TrainerContext& ctx, bool trained) override {
    if (!trained) return absl::OkStatus();
    // A curve that cannot be drawn (e.g. no epoch finished in this run directory) is not a failed run.
    absl::StatusOr<std::vector<std::string>> drawn = WriteTrainingCurve(ctx.run->File("metrics.jsonl"),
                                                                        ctx.run->File("curve.png"), train_values_);
    if (drawn.ok()) {
      ctx.run->Log("training curve: " + ctx.run->File("curve.png"));
    } else {
      ctx.run->Log(absl::StrCat("WARNING: no training curve: ", drawn.status().message()));
    }
    return absl::OkStatus();
  }

 private:
  std::vector<std::string> train_values_;
  std::set<std::string> logged_;  ///< names the method logged in the first epoch of this invocation with steps
  bool checked_ = false;
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
  absl::Status OnEpochEnd(TrainerContext& ctx, const EpochRecord& epoch) override {
    if (epoch.steps > 0) std::fprintf(stderr, "\n");  // ends the bar's line (an epoch without steps drew none)
    return absl::OkStatus();
  }
};

class RecipeHooks final : public TrainerHook {
 public:
  RecipeHooks(Method* method, std::string method_name, std::vector<std::shared_ptr<Hook>> hooks,
              std::vector<std::string> names)
      : method_(method), method_name_(std::move(method_name)), hooks_(std::move(hooks)), names_(std::move(names)) {}
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
  absl::Status OnEpochEnd(TrainerContext& ctx, const EpochRecord& epoch) override {
    TrainEvent e = Event(ctx, TrainEvent::Type::kEpochEnd);
    e.loss = epoch.mean_loss;  // NaN for an epoch without steps in this invocation
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
    e.ranks = ctx.ranks;
    return e;
  }

  // An exception keeps its full text here (e.what(), with a c10 backtrace); the trainer folds it onto one line
  // unless errors are verbose (avsl/train/error_text.h).
  absl::Status Send(TrainerContext& ctx, const TrainEvent& event) {
    if (method_ != nullptr) {
      try {
        method_->OnTrainEvent(event);
      } catch (const std::exception& e) {
        return absl::InternalError(absl::StrCat("method ", method_name_, " threw in OnTrainEvent: ", e.what()));
      }
    }
    for (size_t i = 0; i < hooks_.size(); ++i) {
      absl::StatusOr<HookAction> action = absl::InternalError("not called");
      try {
        action = hooks_[i]->OnEvent(event);
      } catch (const std::exception& e) {
        return absl::InternalError(absl::StrCat("hook '", names_[i], "' threw: ", e.what()));
      }
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
  std::string method_name_;
  std::vector<std::shared_ptr<Hook>> hooks_;
  std::vector<std::string> names_;
};

}  // namespace

TrainerHook::~TrainerHook() = default;

const std::vector<std::string>& TrainEpochRecordFields() {
  static const std::vector<std::string> fields = {"split",   "epoch", "step",          "steps",
                                                  "partial", "loss",  "samples_per_s", "wall_time"};
  return fields;
}

std::unique_ptr<TrainerHook> MakeLoggerHook(long long log_every, bool tty) {
  return std::make_unique<LoggerHook>(log_every, tty);
}
std::unique_ptr<TrainerHook> MakeCheckpointSelectionHook(std::string monitor_metric, std::string best_name,
                                                         long long from_epoch) {
  return std::make_unique<CheckpointSelectionHook>(std::move(monitor_metric), std::move(best_name), from_epoch);
}
std::unique_ptr<TrainerHook> MakeCurveHook(std::vector<std::string> train_values) {
  return std::make_unique<CurveHook>(std::move(train_values));
}
std::unique_ptr<TrainerHook> MakeProgressHook() { return std::make_unique<ProgressHook>(); }
std::unique_ptr<TrainerHook> MakeRecipeHooks(Method* method, std::string method_name,
                                             std::vector<std::shared_ptr<Hook>> hooks, std::vector<std::string> names) {
  return std::make_unique<RecipeHooks>(method, std::move(method_name), std::move(hooks), std::move(names));
}

void SortByPriority(std::vector<std::unique_ptr<TrainerHook>>& hooks) {
  std::stable_sort(hooks.begin(), hooks.end(),
                   [](const auto& a, const auto& b) { return a->priority() < b->priority(); });
}

}  // namespace avsl::train
