#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "avsl/core/hook.h"
#include "avsl/metrics/metric_fields.h"
#include "builtins/core_components.h"

namespace avsl {
namespace {

// Stops training when the monitored validation metric has not improved by more than min_delta for
// `patience` consecutive validations. Only a rise above the best so far by more than max(min_delta,
// metrics::kMetricTieTolerance) resets the counter, so a flat metric still stops: a tie (within the tolerance that
// train::MakeCheckpointSelectionHook uses to move checkpoints/best_<metric>.pt to the later epoch) is no
// improvement. A non-finite value counts as no improvement. Its counter restarts when a run is resumed.
class EarlyStopping final : public Hook {
 public:
  EarlyStopping(std::string monitor, long long patience, double min_delta)
      : monitor_(std::move(monitor)), patience_(patience), min_delta_(min_delta) {}

  absl::StatusOr<HookAction> OnEvent(const TrainEvent& event) override {
    if (event.type != TrainEvent::Type::kValidationEnd) return HookAction::kContinue;
    auto it = event.metrics.find(monitor_);
    if (it == event.metrics.end()) {
      return absl::InvalidArgumentError(absl::StrCat("core.EarlyStopping: validation produced no '", monitor_, "'"));
    }
    const double value = it->second;
    constexpr double kTie = metrics::kMetricTieTolerance;
    if (std::isfinite(value)) {
      if (value > best_ + std::max(min_delta_, kTie)) {
        best_ = value;
        stale_ = 0;
        return HookAction::kContinue;
      }
      // A tie raises the best as the checkpoint selection's does (so with min_delta = 0 both compare with the highest
      // value so far and agree on every tie); a rise within min_delta leaves it, as in Keras and Lightning.
      if (value > best_ && value <= best_ + kTie) best_ = value;
    }
    return ++stale_ >= patience_ ? HookAction::kStopTraining : HookAction::kContinue;
  }

 private:
  std::string monitor_;
  long long patience_;
  double min_delta_;
  double best_ = -INFINITY;
  long long stale_ = 0;
};

}  // namespace

void RegisterHooks(Registrar& registrar) {
  Schema s("stop when a validation metric stops improving");
  s.String("monitor", "val.ap", "metric to watch (val.<metric>)");
  s.Int("patience", 5, "validations in a row without improvement before stopping (a tie is no improvement)").Min(1);
  s.Float("min_delta", 0.0,
          "an improvement is a value above the best so far by more than this (and than the 1e-12 tie tolerance); "
          "ties and smaller rises are not")
      .Min(0);
  registrar.Register<Hook>(
      "EarlyStopping", std::move(s),
      [](const ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<Hook>> {
        return std::make_shared<EarlyStopping>(c.GetString("monitor"), c.GetInt("patience"), c.GetFloat("min_delta"));
      },
      "stop training when val.<metric> has not improved for `patience` validations");
}

}  // namespace avsl
