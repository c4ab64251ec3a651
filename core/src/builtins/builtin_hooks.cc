#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "avsl/core/hook.h"
#include "builtins/core_components.h"

namespace avsl {
namespace {

// Stops training when the monitored validation metric has not improved by more than min_delta for
// `patience` consecutive validations. Only a strict improvement (value > best + min_delta) resets the counter, so
// a flat metric still stops; a tie does not, even though it moves checkpoints/best_<metric>.pt to the later epoch
// (train::MakeCheckpointSelectionHook). A non-finite value counts as no improvement. Its counter restarts when a
// run is resumed.
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
    if (std::isfinite(it->second) && it->second > best_ + min_delta_) {
      best_ = it->second;
      stale_ = 0;
      return HookAction::kContinue;
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
          "an improvement is a value above the best so far by more than this; ties and smaller rises are not")
      .Min(0);
  registrar.Register<Hook>(
      "EarlyStopping", std::move(s),
      [](const ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<Hook>> {
        return std::make_shared<EarlyStopping>(c.GetString("monitor"), c.GetInt("patience"), c.GetFloat("min_delta"));
      },
      "stop training when val.<metric> has not improved for `patience` validations");
}

}  // namespace avsl
