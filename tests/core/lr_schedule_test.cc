#include <gtest/gtest.h>

#include "avsl/builtins/core_components.h"
#include "avsl/core/lr_schedule.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"

namespace avsl {
namespace {

std::shared_ptr<LrSchedule> Build(const std::string& table) {
  ComponentRegistry registry;
  Registrar core("core");
  CoreComponents().register_components(core);
  EXPECT_TRUE(registry.Commit(core.staged()).ok());
  absl::StatusOr<Recipe> recipe = Recipe::Parse("[schedule]\n" + table, "inline.toml", ".", {});
  EXPECT_TRUE(recipe.ok() && recipe->Validate(registry).ok());
  auto built = registry.Build<LrSchedule>(recipe->Root().Sub("schedule"));
  EXPECT_TRUE(built.ok()) << built.status();
  return *built;
}

TEST(LrScheduleTest, ConstantIsOne) {
  auto s = Build("type = \"core.Constant\"\n");
  EXPECT_DOUBLE_EQ(s->Factor(0, 100), 1.0);
  EXPECT_DOUBLE_EQ(s->Factor(99, 100), 1.0);
}

TEST(LrScheduleTest, CosineWarmupByHand) {
  // warmup 4 of 24 steps, final 0.1: warm-up factors (s+1)/4; then progress p = (s-4)/20 and
  // factor = 0.1 + 0.9 * 0.5 * (1 + cos(pi p)).
  auto s = Build("type = \"core.CosineWarmup\"\nwarmup_steps = 4\nfinal_factor = 0.1\n");
  EXPECT_DOUBLE_EQ(s->Factor(0, 24), 0.25);
  EXPECT_DOUBLE_EQ(s->Factor(3, 24), 1.0);
  EXPECT_DOUBLE_EQ(s->Factor(4, 24), 1.0);                 // p = 0
  EXPECT_NEAR(s->Factor(14, 24), 0.1 + 0.9 * 0.5, 1e-12);  // p = 0.5, cos = 0
  EXPECT_NEAR(s->Factor(24, 24), 0.1, 1e-12);              // p = 1
  EXPECT_NEAR(s->Factor(9, 24), 0.1 + 0.45 * (1 + std::cos(M_PI * 0.25)), 1e-12);
}

TEST(LrScheduleTest, MultiStepInEpochsUsesTheEpochLength) {
  // C2F's two stages: 20 epochs at the base rate, then 20 at a tenth of it; 15 steps per epoch.
  auto s = Build("type = \"core.MultiStep\"\nmilestones = [20]\nfactors = [0.1]\n");
  EXPECT_DOUBLE_EQ(s->FactorAt(0, 600, 15), 1.0);
  EXPECT_DOUBLE_EQ(s->FactorAt(299, 600, 15), 1.0);  // the last step of epoch 20
  EXPECT_DOUBLE_EQ(s->FactorAt(300, 600, 15), 0.1);  // the first step of epoch 21
  EXPECT_DOUBLE_EQ(s->FactorAt(599, 600, 15), 0.1);
  // Another epoch length moves the boundary with it.
  EXPECT_DOUBLE_EQ(s->FactorAt(300, 1200, 30), 1.0);
  EXPECT_DOUBLE_EQ(s->FactorAt(600, 1200, 30), 0.1);
}

TEST(LrScheduleTest, MultiStepInStepsWithGamma) {
  auto s = Build("type = \"core.MultiStep\"\nunit = \"steps\"\nmilestones = [10, 30]\ngamma = 0.5\n");
  EXPECT_DOUBLE_EQ(s->FactorAt(9, 100, 15), 1.0);
  EXPECT_DOUBLE_EQ(s->FactorAt(10, 100, 15), 0.5);
  EXPECT_DOUBLE_EQ(s->FactorAt(29, 100, 15), 0.5);
  EXPECT_DOUBLE_EQ(s->FactorAt(30, 100, 15), 0.25);
  EXPECT_DOUBLE_EQ(s->Factor(30, 100), 0.25);  // steps need no epoch length
}

TEST(LrScheduleTest, TheDefaultFactorAtIgnoresTheEpochLength) {
  auto s = Build("type = \"core.CosineWarmup\"\nwarmup_steps = 4\nfinal_factor = 0.1\n");
  for (long long step : {0LL, 3LL, 9LL, 24LL}) EXPECT_DOUBLE_EQ(s->FactorAt(step, 24, 7), s->Factor(step, 24));
}

absl::Status BuildStatus(const std::string& table) {
  ComponentRegistry registry;
  Registrar core("core");
  CoreComponents().register_components(core);
  EXPECT_TRUE(registry.Commit(core.staged()).ok());
  absl::StatusOr<Recipe> recipe = Recipe::Parse("[schedule]\n" + table, "inline.toml", ".", {});
  if (!recipe.ok()) return recipe.status();
  if (absl::Status v = recipe->Validate(registry); !v.ok()) return v;
  return registry.Build<LrSchedule>(recipe->Root().Sub("schedule")).status();
}

TEST(LrScheduleTest, MultiStepRejectsBadMilestonesAndFactors) {
  absl::Status unordered = BuildStatus("type = \"core.MultiStep\"\nmilestones = [20, 10]\nfactors = [0.1, 0.01]\n");
  EXPECT_FALSE(unordered.ok());
  EXPECT_NE(unordered.message().find("schedule.milestones"), std::string::npos) << unordered;
  EXPECT_NE(unordered.message().find("increasing"), std::string::npos) << unordered;
  absl::Status count = BuildStatus("type = \"core.MultiStep\"\nmilestones = [20, 30]\nfactors = [0.1]\n");
  EXPECT_FALSE(count.ok());
  EXPECT_NE(count.message().find("schedule.factors"), std::string::npos) << count;
  EXPECT_NE(count.message().find("one factor per milestone (2), found 1"), std::string::npos) << count;
  absl::Status unit = BuildStatus("type = \"core.MultiStep\"\nunit = \"hours\"\nmilestones = [2]\n");
  EXPECT_FALSE(unit.ok());
  EXPECT_NE(unit.message().find("unit"), std::string::npos) << unit;
}

}  // namespace
}  // namespace avsl
