#include <cmath>
#include <memory>

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
}

}  // namespace avsl
