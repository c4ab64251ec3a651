#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "avsl/core/lr_schedule.h"
#include "builtins/core_components.h"

namespace avsl {
namespace {

class ConstantSchedule final : public LrSchedule {
 public:
  double Factor(long long, long long) const override { return 1.0; }
};

// Linear warm-up from 0, then a half cosine down to `final_factor` at the last step.
class CosineWarmupSchedule final : public LrSchedule {
 public:
  CosineWarmupSchedule(long long warmup_steps, double final_factor) : warmup_(warmup_steps), final_(final_factor) {}
  double Factor(long long step, long long total) const override {
    if (step < warmup_) return static_cast<double>(step + 1) / static_cast<double>(warmup_);
    const long long span = std::max<long long>(1, total - warmup_);
    const double progress = std::min(1.0, static_cast<double>(step - warmup_) / static_cast<double>(span));
    return final_ + (1.0 - final_) * 0.5 * (1.0 + std::cos(M_PI * progress));
  }

 private:
  long long warmup_;
  double final_;
};

// Piecewise constant: the base rate until the first milestone, then factors[i] from milestone i on. Milestones in
// epochs are converted with the epoch length the trainer passes, so a two-stage recipe states its stages as the
// release does (20 epochs, then 20 at lr/10) whatever the dataset size.
class MultiStepSchedule final : public LrSchedule {
 public:
  MultiStepSchedule(bool in_epochs, std::vector<long long> milestones, std::vector<double> factors)
      : in_epochs_(in_epochs), milestones_(std::move(milestones)), factors_(std::move(factors)) {}
  double Factor(long long step, long long total) const override { return FactorAt(step, total, 1); }
  double FactorAt(long long step, long long, long long steps_per_epoch) const override {
    const long long scale = in_epochs_ ? std::max<long long>(1, steps_per_epoch) : 1;
    double factor = 1.0;
    for (size_t i = 0; i < milestones_.size(); ++i)
      if (step >= milestones_[i] * scale) factor = factors_[i];
    return factor;
  }

 private:
  bool in_epochs_;
  std::vector<long long> milestones_;
  std::vector<double> factors_;
};

absl::StatusOr<std::shared_ptr<LrSchedule>> MakeMultiStep(const ComponentConfig& c) {
  const std::vector<long long> milestones = c.GetIntArray("milestones");
  std::vector<double> factors = c.GetFloatArray("factors");
  const std::string where = c.path().empty() ? "schedule" : c.path();
  for (size_t i = 0; i < milestones.size(); ++i) {
    if (milestones[i] < 1 || (i > 0 && milestones[i] <= milestones[i - 1])) {
      return absl::InvalidArgumentError(absl::StrCat("recipe key '", where,
                                                     ".milestones': expected increasing values >= 1, found ",
                                                     milestones[i], " at index ", i));
    }
  }
  if (factors.empty()) {
    const double gamma = c.GetFloat("gamma");
    for (size_t i = 0; i < milestones.size(); ++i) factors.push_back(std::pow(gamma, static_cast<double>(i + 1)));
  } else if (factors.size() != milestones.size()) {
    return absl::InvalidArgumentError(absl::StrCat("recipe key '", where,
                                                   ".factors': expected one factor per milestone (", milestones.size(),
                                                   "), found ", factors.size()));
  }
  for (size_t i = 0; i < factors.size(); ++i) {
    if (!(factors[i] >= 0) || !std::isfinite(factors[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "recipe key '", where, ".factors': expected finite values >= 0, found ", factors[i], " at index ", i));
    }
  }
  return std::make_shared<MultiStepSchedule>(c.GetString("unit") == "epochs", milestones, std::move(factors));
}

}  // namespace

void RegisterLrSchedules(Registrar& registrar) {
  registrar.Register<LrSchedule>(
      "Constant", Schema("constant learning rate"),
      [](const ComponentConfig&) -> absl::StatusOr<std::shared_ptr<LrSchedule>> {
        return std::make_shared<ConstantSchedule>();
      },
      "constant learning rate");

  Schema cosine("linear warm-up then cosine decay");
  cosine.Int("warmup_steps", 0, "steps of linear warm-up from 0").Min(0);
  cosine.Float("final_factor", 0.0, "learning-rate multiplier reached at the last step").Range(0, 1);
  registrar.Register<LrSchedule>(
      "CosineWarmup", std::move(cosine),
      [](const ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<LrSchedule>> {
        return std::make_shared<CosineWarmupSchedule>(c.GetInt("warmup_steps"), c.GetFloat("final_factor"));
      },
      "linear warm-up, then cosine decay to final_factor");

  Schema multistep("piecewise-constant learning rate: the base rate, then factors[i] from milestones[i] on");
  multistep.String("unit", "epochs", "unit of the milestones").OneOf({"epochs", "steps"});
  multistep.IntArray("milestones", {}, "increasing epochs (1 = after the first epoch) or steps where the rate changes");
  multistep.FloatArray(
      "factors", {},
      "learning-rate multiplier from each milestone on (one per milestone); empty = gamma^1, gamma^2, ...");
  multistep.Float("gamma", 0.1, "multiplier per milestone when factors is empty (torch MultiStepLR's gamma)").Min(0);
  registrar.Register<LrSchedule>("MultiStep", std::move(multistep), MakeMultiStep,
                                 "step schedule: stages at given epochs or steps (e.g. a two-stage method's lr/10)");
}

}  // namespace avsl
