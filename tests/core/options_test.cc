#include "avsl/core/options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "avsl/builtins/core_components.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/lr_schedule.h"
#include "avsl/core/recipe.h"
#include "avsl/core/registrar.h"

namespace avsl {
namespace {

enum class Mode { kOnline, kMomentum };

struct ToyOptions {
  double tau = 0.03;
  int64_t dim = 512;
  int small = 7;
  bool flag = true;
  std::string name = "x";
  Mode mode = Mode::kMomentum;
  std::vector<double> weights = {1.0, 2.0};
  double unbound = 42;  ///< not in the schema: keeps its initializer
};

Options<ToyOptions> ToySchema() {
  Options<ToyOptions> o("toy");
  o.Float("tau", &ToyOptions::tau, "temperature").Range(1e-4, 10);
  o.Int("dim", &ToyOptions::dim, "size").Min(1);
  o.Int("small", &ToyOptions::small, "an int member");
  o.Bool("flag", &ToyOptions::flag, "a flag");
  o.String("name", &ToyOptions::name, "a name");
  o.Choice("mode", &ToyOptions::mode, {{"online", Mode::kOnline}, {"momentum", Mode::kMomentum}}, "encoder");
  o.FloatArray("weights", &ToyOptions::weights, "weights");
  return o;
}

class Fixed final : public LrSchedule {
 public:
  double Factor(long long, long long) const override { return 1; }
};

// The core's built-ins (every recipe's defaults name core.Adam, ...) plus the toy component as p.Toy.
void RegisterToy(const Options<ToyOptions>& o, ComponentRegistry& registry) {
  Registrar core("core");
  CoreComponents().register_components(core);
  ASSERT_TRUE(registry.Commit(core.staged()).ok());
  Registrar r("p");
  r.Register<LrSchedule>(
      "Toy", o.schema(),
      [](const ComponentConfig&) -> absl::StatusOr<std::shared_ptr<LrSchedule>> { return std::make_shared<Fixed>(); },
      "");
  ASSERT_TRUE(r.status().ok()) << r.status();
  ASSERT_TRUE(registry.Commit(r.staged()).ok());
}

// Returns the validated config of `[schedule]` + `body`.
ComponentConfig Validated(const Options<ToyOptions>& o, ComponentRegistry& registry, const std::string& body) {
  RegisterToy(o, registry);
  absl::StatusOr<Recipe> recipe = Recipe::Parse("[schedule]\ntype = \"p.Toy\"\n" + body, "inline.toml", ".", {});
  EXPECT_TRUE(recipe.ok()) << recipe.status();
  absl::Status s = recipe->Validate(registry);
  EXPECT_TRUE(s.ok()) << s;
  return recipe->Root().Sub("schedule");
}

TEST(OptionsTest, SchemaDefaultsComeFromTheStructInitializers) {
  const Options<ToyOptions> o = ToySchema();
  EXPECT_EQ(o.schema().Find("tau")->default_toml, "0.03");
  EXPECT_EQ(o.schema().Find("dim")->default_toml, "512");
  EXPECT_EQ(o.schema().Find("small")->default_toml, "7");
  EXPECT_EQ(o.schema().Find("flag")->default_toml, "true");
  EXPECT_EQ(o.schema().Find("name")->default_toml, "\"x\"");
  EXPECT_EQ(o.schema().Find("mode")->default_toml, "\"momentum\"");
  EXPECT_THAT(o.schema().Find("mode")->choices, ::testing::ElementsAre("online", "momentum"));
  EXPECT_EQ(o.schema().Find("weights")->default_toml, "[1.0, 2.0]");
  EXPECT_EQ(o.schema().Find("unbound"), nullptr);
  EXPECT_EQ(o.schema().Find("tau")->max, 10);
}

TEST(OptionsTest, ReadFillsEveryBoundMemberInOneCall) {
  const Options<ToyOptions> o = ToySchema();
  ComponentRegistry registry;
  const ToyOptions d = o.Read(Validated(o, registry, ""));
  EXPECT_EQ(d.tau, 0.03);
  EXPECT_EQ(d.dim, 512);
  EXPECT_EQ(d.mode, Mode::kMomentum);

  ComponentRegistry registry2;
  const ToyOptions r = o.Read(Validated(o, registry2,
                                        "tau = 0.5\ndim = 3\nsmall = -2\nflag = false\nname = \"y\"\n"
                                        "mode = \"online\"\nweights = [0.25]\n"));
  EXPECT_EQ(r.tau, 0.5);
  EXPECT_EQ(r.dim, 3);
  EXPECT_EQ(r.small, -2);
  EXPECT_FALSE(r.flag);
  EXPECT_EQ(r.name, "y");
  EXPECT_EQ(r.mode, Mode::kOnline);
  EXPECT_THAT(r.weights, ::testing::ElementsAre(0.25));
  EXPECT_EQ(r.unbound, 42);
}

TEST(OptionsTest, BoundRangesAndChoicesAreValidated) {
  const Options<ToyOptions> o = ToySchema();
  ComponentRegistry registry;
  RegisterToy(o, registry);
  // The defaults validate; each bad value is refused naming its key.
  absl::StatusOr<Recipe> good = Recipe::Parse("[schedule]\ntype = \"p.Toy\"\n", "inline.toml", ".", {});
  ASSERT_TRUE(good.ok());
  ASSERT_TRUE(good->Validate(registry).ok()) << good->Validate(registry);
  for (const char* bad : {"tau = 0.0\n", "mode = \"sideways\"\n", "dim = 0\n"}) {
    absl::StatusOr<Recipe> recipe = Recipe::Parse(std::string("[schedule]\ntype = \"p.Toy\"\n") + bad, "inline.toml",
                                                  ".", {});
    ASSERT_TRUE(recipe.ok());
    const absl::Status s = recipe->Validate(registry);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(std::string(s.message()).find(std::string(bad).substr(0, std::string(bad).find(' '))), std::string::npos)
        << s;
  }
}

TEST(OptionsTest, AChoiceDefaultOutsideTheChoicesIsAProgrammingError) {
  Options<ToyOptions> o("toy");
  EXPECT_THROW(o.Choice("mode", &ToyOptions::mode, {{"online", Mode::kOnline}}, "only one"), ConfigError);
}

}  // namespace
}  // namespace avsl
