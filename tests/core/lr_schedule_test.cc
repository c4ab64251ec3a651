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

}  // namespace
}  // namespace avsl
