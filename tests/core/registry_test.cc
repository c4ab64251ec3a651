#include "avsl/core/component_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "avsl/builtins/core_components.h"
#include "avsl/core/lr_schedule.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/core/registrar.h"

namespace avsl {
namespace {

using ::testing::HasSubstr;

class Fixed final : public LrSchedule {
 public:
  explicit Fixed(double f) : f_(f) {}
  double Factor(long long, long long) const override { return f_; }

 private:
  double f_;
};

Factory<LrSchedule> FixedFactory() {
  return [](const ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<LrSchedule>> {
    return std::make_shared<Fixed>(c.GetFloat("factor"));
  };
}

Schema FixedSchema() {
  Schema s("fixed factor");
  s.Float("factor", 0.5, "the factor");
  return s;
}

ComponentConfig ConfigFor(const std::string& toml_text, ComponentRegistry& registry) {
  absl::StatusOr<Recipe> recipe = Recipe::Parse(toml_text, "inline.toml", ".", {});
  EXPECT_TRUE(recipe.ok()) << recipe.status();
  absl::Status s = recipe->Validate(registry);
  EXPECT_TRUE(s.ok()) << s;
  return recipe->Root().Sub("schedule");
}

TEST(RegistrarTest, ScopesNamesWithThePluginName) {
  Registrar r("myplugin");
  r.Register<LrSchedule>("Fixed", FixedSchema(), FixedFactory(), "doc");
  ASSERT_TRUE(r.status().ok());
  ASSERT_EQ(r.staged().size(), 1u);
  EXPECT_EQ(r.staged()[0].info.name, "myplugin.Fixed");
  EXPECT_EQ(r.staged()[0].info.kind, ComponentKind::kScheduler);
  EXPECT_EQ(r.staged()[0].info.plugin, "myplugin");
}

TEST(RegistrarTest, RejectsDuplicateAndInvalidNamesAndRemembersTheFirstError) {
  Registrar r("p");
  r.Register<LrSchedule>("Fixed", FixedSchema(), FixedFactory(), "");
  ASSERT_TRUE(r.status().ok());
  r.Register<LrSchedule>("Fixed", FixedSchema(), FixedFactory(), "");
  EXPECT_EQ(r.status().message(), "plugin 'p' registered component 'p.Fixed' twice");
  r.Register<LrSchedule>("other.Name", FixedSchema(), FixedFactory(), "");
  EXPECT_EQ(r.status().message(), "plugin 'p' registered component 'p.Fixed' twice");  // the first error is kept
  Registrar fresh("p");
  fresh.Register<LrSchedule>("other.Name", FixedSchema(), FixedFactory(), "");
  EXPECT_THAT(std::string(fresh.status().message()), HasSubstr("invalid component name 'other.Name'"));
  EXPECT_EQ(r.staged().size(), 1u);
}

TEST(ComponentRegistryTest, CommitIsAllOrNothing) {
  ComponentRegistry registry;
  Registrar first("a");
  first.Register<LrSchedule>("Fixed", FixedSchema(), FixedFactory(), "");
  ASSERT_TRUE(registry.Commit(first.staged()).ok());
  // Same plugin scope registered again (e.g. two copies of one plugin): the whole batch is refused.
  Registrar second("a");
  second.Register<LrSchedule>("Other", FixedSchema(), FixedFactory(), "");
  second.Register<LrSchedule>("Fixed", FixedSchema(), FixedFactory(), "");
  absl::Status s = registry.Commit(second.staged());
  EXPECT_EQ(s.message(), "component 'a.Fixed' from plugin 'a' is already registered by plugin 'a' (as a scheduler)");
  EXPECT_EQ(registry.Find(ComponentKind::kScheduler, "a.Other"), nullptr);
}

// A registry holding the core's built-ins, which every recipe's defaults (core.Adam, ...) name.
ComponentRegistry RegistryWithCore() {
  ComponentRegistry registry;
  Registrar core("core");
  CoreComponents().register_components(core);
  EXPECT_TRUE(registry.Commit(core.staged()).ok());
  return registry;
}

TEST(ComponentRegistryTest, BuildsWithValidatedOptions) {
  ComponentRegistry registry = RegistryWithCore();
  Registrar r("t");
  r.Register<LrSchedule>("Fixed", FixedSchema(), FixedFactory(), "");
  ASSERT_TRUE(registry.Commit(r.staged()).ok());
  ComponentConfig c = ConfigFor("[schedule]\ntype = \"t.Fixed\"\nfactor = 0.25\n", registry);
  absl::StatusOr<std::shared_ptr<LrSchedule>> built = registry.Build<LrSchedule>(c);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_DOUBLE_EQ((*built)->Factor(3, 10), 0.25);
}

TEST(ComponentRegistryTest, FactoryExceptionsBecomeStatusNamingThePath) {
  ComponentRegistry registry = RegistryWithCore();
  Registrar r("t");
  r.Register<LrSchedule>(
      "Throws", FixedSchema(),
      [](const ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<LrSchedule>> {
        c.GetString("not_declared");  // a component bug: throws ConfigError
        return nullptr;
      },
      "");
  ASSERT_TRUE(registry.Commit(r.staged()).ok());
  ComponentConfig c = ConfigFor("[schedule]\ntype = \"t.Throws\"\n", registry);
  absl::StatusOr<std::shared_ptr<LrSchedule>> built = registry.Build<LrSchedule>(c);
  ASSERT_FALSE(built.ok());
  EXPECT_THAT(std::string(built.status().message()),
              HasSubstr("building 't.Throws' at 'schedule' failed: recipe key 'schedule.not_declared': missing"));
}

}  // namespace
}  // namespace avsl
