#include "avsl/core/recipe.h"

#include <cstdlib>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_components.h"

namespace avsl {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

const std::string kDir = std::string(AVSL_SOURCE_DIR) + "/tests/data/recipes/";

class RecipeTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::RegisterTestComponents(registry_); }

  absl::StatusOr<Recipe> Load(const std::string& file, const std::vector<std::string>& sets = {}) {
    absl::StatusOr<Recipe> r = Recipe::Load(kDir + file, sets);
    if (!r.ok()) return r.status();
    absl::Status s = r->Validate(registry_);
    if (!s.ok()) return s;
    return r;
  }
  std::string Error(const std::string& file, const std::vector<std::string>& sets = {}) {
    absl::StatusOr<Recipe> r = Load(file, sets);
    EXPECT_FALSE(r.ok()) << file << " unexpectedly loaded";
    return r.ok() ? "" : std::string(r.status().message());
  }

  ComponentRegistry registry_;
};

TEST_F(RecipeTest, BasesMergeTablesAndChildReplacesScalarsAndArrays) {
  absl::StatusOr<Recipe> r = Load("child.toml");
  ASSERT_TRUE(r.ok()) << r.status();
  ComponentConfig root = r->Root();
  EXPECT_EQ(root.GetInt("seed"), 7);
  EXPECT_EQ(root.Sub("data").GetInt("batch_size"), 16);                                   // child wins
  EXPECT_EQ(root.Sub("data").GetInt("workers"), 1);                                       // kept from base_data.toml
  EXPECT_EQ(root.Sub("optim").GetFloat("lr"), 1e-3);                                      // kept from base_optim.toml
  EXPECT_EQ(root.Sub("optim").GetFloatArray("betas"), (std::vector<double>{0.8, 0.99}));  // replaced whole
  EXPECT_EQ(r->OriginOf("data.workers"), kDir + "base_data.toml");
  EXPECT_EQ(r->OriginOf("data.batch_size"), kDir + "child.toml");
}

TEST_F(RecipeTest, DefaultsAreFilledFromSchemasIncludingNestedComponents) {
  absl::StatusOr<Recipe> r = Load("child.toml");
  ASSERT_TRUE(r.ok()) << r.status();
  ComponentConfig model = r->Root().Sub("model");
  EXPECT_DOUBLE_EQ(model.GetFloat("tau"), 0.07);
  EXPECT_EQ(model.GetInt("dim"), 512);
  EXPECT_EQ(model.Sub("encoder").type(), "test.Enc");  // default component type
  EXPECT_EQ(model.Sub("encoder").GetInt("width"), 64);
  EXPECT_EQ(model.Sub("encoder").path(), "model.encoder");
  EXPECT_EQ(r->Root().Sub("schedule").type(), "core.Constant");
  EXPECT_EQ(r->Root().Sub("train").GetString("select"), "early_stop");
}

TEST_F(RecipeTest, GrandchildInheritsTransitively) {
  absl::StatusOr<Recipe> r = Load("grandchild.toml");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->Root().Sub("model").GetString("mode"), "fast");
  EXPECT_DOUBLE_EQ(r->Root().Sub("model").GetFloat("tau"), 0.07);
  EXPECT_EQ(r->Root().Sub("data").GetInt("workers"), 1);
}

TEST_F(RecipeTest, ReplaceMarkerReplacesWholeTable) {
  absl::StatusOr<Recipe> r = Load("replace.toml");
  ASSERT_TRUE(r.ok()) << r.status();
  ComponentConfig optim = r->Root().Sub("optim");
  EXPECT_EQ(optim.type(), "core.SGD");
  EXPECT_DOUBLE_EQ(optim.GetFloat("lr"), 0.01);  // SGD's default, not base_optim's 1e-3
  EXPECT_FALSE(optim.Has("betas"));
  EXPECT_FALSE(optim.Has("__replace__"));
}

TEST_F(RecipeTest, SetParsesValuesAsToml) {
  absl::StatusOr<Recipe> r = Load("child.toml", {"model.tau=0.5", "model.mode=\"fast\"", "optim.betas=[0.1, 0.2]",
                                                 "train.select_on_test=true", "model.encoder.width=8"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_DOUBLE_EQ(r->Root().Sub("model").GetFloat("tau"), 0.5);
  EXPECT_EQ(r->Root().Sub("model").GetString("mode"), "fast");
  EXPECT_EQ(r->Root().Sub("optim").GetFloatArray("betas"), (std::vector<double>{0.1, 0.2}));
  EXPECT_TRUE(r->Root().Sub("train").GetBool("select_on_test"));
  EXPECT_EQ(r->Root().Sub("model").Sub("encoder").GetInt("width"), 8);
  EXPECT_EQ(r->OriginOf("model.tau"), "--set");
}

TEST_F(RecipeTest, SetOfUndeclaredKeyIsAnError) {
  EXPECT_THAT(Error("child.toml", {"model.temperature=0.1"}),
              AllOf(HasSubstr("unknown recipe key 'model.temperature'"), HasSubstr("[--set]")));
}

TEST_F(RecipeTest, SetWithUnquotedStringExplainsQuoting) {
  absl::StatusOr<Recipe> r = Recipe::Load(kDir + "child.toml", {"model.mode=fast"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              AllOf(HasSubstr("--set model.mode: 'fast' is not a TOML value"), HasSubstr("strings need quotes")));
}

TEST_F(RecipeTest, SetWithoutEqualsIsAnError) {
  absl::StatusOr<Recipe> r = Recipe::Load(kDir + "child.toml", {"model.tau"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("expected KEY=VALUE"));
}

TEST_F(RecipeTest, UnknownKeyNamesPathFileAndSuggestion) {
  EXPECT_THAT(Error("bad_unknown_key.toml"), AllOf(HasSubstr("unknown recipe key 'model.taau'"),
                                                   HasSubstr("bad_unknown_key.toml"), HasSubstr("did you mean 'tau'?"),
                                                   HasSubstr("Valid keys of 'test.Model': tau, dim, mode, encoder")));
}

TEST_F(RecipeTest, UnknownTopLevelSection) {
  EXPECT_THAT(Error("bad_top_level.toml"),
              AllOf(HasSubstr("unknown recipe key 'trian'"), HasSubstr("did you mean 'train'?")));
}

TEST_F(RecipeTest, UnknownKeyInNestedComponent) {
  EXPECT_THAT(Error("bad_nested_unknown.toml"), AllOf(HasSubstr("unknown recipe key 'model.encoder.depth'"),
                                                      HasSubstr("Valid keys of 'test.Enc': width")));
}

TEST_F(RecipeTest, WrongTypeNamesExpectedAndFound) {
  EXPECT_THAT(Error("bad_wrong_type.toml"),
              AllOf(HasSubstr("recipe key 'model.dim': expected int, found string"), HasSubstr("bad_wrong_type.toml")));
}

TEST_F(RecipeTest, OutOfRangeNamesTheRange) {
  EXPECT_THAT(Error("bad_range.toml"), HasSubstr("recipe key 'model.tau' = 5 is out of range [0.0001, 1]"));
}

TEST_F(RecipeTest, StringOutsideChoices) {
  EXPECT_THAT(Error("bad_choice.toml"), HasSubstr("recipe key 'model.mode' = \"turbo\": expected one of slow, fast"));
}

TEST_F(RecipeTest, MalformedTomlReportsFileLineColumn) {
  EXPECT_THAT(Error("bad_toml.toml"), AllOf(HasSubstr("bad_toml.toml:4:"), HasSubstr("malformed TOML")));
}

TEST_F(RecipeTest, UnknownTypeListsRegisteredNamesAndSuggests) {
  EXPECT_THAT(Error("bad_unknown_type.toml"),
              AllOf(HasSubstr("recipe key 'model.type': unknown method 'test.Modle'"),
                    HasSubstr("did you mean 'test.Model'?"), HasSubstr("Registered methods: test.Model")));
}

TEST_F(RecipeTest, UnknownTypeMentionsFailedPlugins) {
  PluginRecord failed;
  failed.name = "ezvsl";
  failed.path = "/plugins/libavsl_ezvsl.so";
  failed.status = PluginStatus::kIncompatibleAbi;
  absl::StatusOr<Recipe> r = Recipe::Load(kDir + "bad_unknown_type.toml", {});
  ASSERT_TRUE(r.ok());
  absl::Status s = r->Validate(registry_, {&failed});
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("Plugins that failed to load: ezvsl (incompatible_abi: /plugins/libavsl_ezvsl.so)"));
}

TEST_F(RecipeTest, TypeOfAnotherKindIsExplained) {
  EXPECT_THAT(Error("bad_kind.toml"), HasSubstr("'core.Adam' is an optimizer, not a method"));
}

TEST_F(RecipeTest, BaseCycleIsReportedWithTheChain) {
  EXPECT_THAT(Error("bad_cycle_a.toml"), AllOf(HasSubstr("recipe base cycle: "), HasSubstr("bad_cycle_a.toml -> "),
                                               HasSubstr("bad_cycle_b.toml -> "), HasSubstr("bad_cycle_a.toml")));
}

TEST_F(RecipeTest, DuplicateKeyInSiblingBasesNamesBothFiles) {
  EXPECT_THAT(Error("bad_duplicate_sibling.toml"), AllOf(HasSubstr("recipe key 'optim.lr' is set by two sibling bases"),
                                                         HasSubstr("dup_a.toml"), HasSubstr("dup_b.toml")));
}

TEST_F(RecipeTest, MissingBaseNamesTheResolvedPath) {
  EXPECT_THAT(Error("bad_missing_base.toml"),
              AllOf(HasSubstr("base 'does_not_exist.toml' not found"), HasSubstr("bad_missing_base.toml")));
}

TEST_F(RecipeTest, MissingFile) {
  EXPECT_THAT(Error("nope.toml"), HasSubstr("recipe file not found: " + kDir + "nope.toml"));
}

TEST_F(RecipeTest, DumpIsReRunnableAndStable) {
  absl::StatusOr<Recipe> r = Load("child.toml", {"model.tau=0.25"});
  ASSERT_TRUE(r.ok()) << r.status();
  const std::string dumped = r->ToToml();
  absl::StatusOr<Recipe> again = Recipe::Parse(dumped, "dumped.toml", kDir, {});
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE(again->Validate(registry_).ok());
  EXPECT_EQ(again->ToToml(), dumped);
  EXPECT_EQ(again->Flatten(), r->Flatten());
}

TEST_F(RecipeTest, FlattenShowsWhatDiffers) {
  absl::StatusOr<Recipe> a = Load("child.toml");
  absl::StatusOr<Recipe> b = Load("child.toml", {"model.tau=0.5"});
  ASSERT_TRUE(a.ok() && b.ok());
  auto fa = a->Flatten(), fb = b->Flatten();
  EXPECT_EQ(fa.at("model.tau"), "0.07");
  EXPECT_EQ(fb.at("model.tau"), "0.5");
  fa.erase("model.tau");
  fb.erase("model.tau");
  EXPECT_EQ(fa, fb);
}

TEST_F(RecipeTest, RequiredPluginThatIsNotLoaded) {
  absl::StatusOr<Recipe> r = Recipe::Parse("plugins = [\"ezvsl\"]\n", "inline.toml", kDir, {});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(std::string(r->Validate(registry_).message()),
              HasSubstr("recipe requires plugin 'ezvsl' but it was not found in the plugin search path"));
}

TEST_F(RecipeTest, DiamondInheritanceIsNotAConflict) {
  absl::StatusOr<Recipe> r = Load("diamond.toml");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->Root().Sub("data").GetInt("batch_size"), 8);
  EXPECT_EQ(r->Root().Sub("optim").type(), "core.Adam");
}

TEST_F(RecipeTest, SetAddressesArraysOfTablesByIndex) {
  absl::StatusOr<Recipe> r = Load("hooks.toml", {"hooks.0.patience=7"});
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<ComponentConfig> hooks = r->Root().SubArray("hooks");
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0].GetInt("patience"), 7);
  EXPECT_EQ(hooks[0].path(), "hooks.0");
  EXPECT_EQ(r->OriginOf("hooks.0.patience"), "--set");
}

TEST_F(RecipeTest, SetIntoAnArrayNeedsAnExistingElement) {
  absl::StatusOr<Recipe> r = Recipe::Load(kDir + "hooks.toml", {"hooks.3.patience=7"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("'hooks' is an array of 1 elements"));
  absl::StatusOr<Recipe> missing = Recipe::Load(kDir + "child.toml", {"hooks.0.patience=7"});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("'hooks' is not set, so it has no element 0"));
}

TEST_F(RecipeTest, TableReplacedByValueNamesBothFiles) {
  EXPECT_THAT(Error("bad_table_vs_value.toml"),
              AllOf(HasSubstr("recipe key 'data' is a table in"), HasSubstr("base_data.toml"),
                    HasSubstr("but an integer in"), HasSubstr("bad_table_vs_value.toml")));
}

TEST_F(RecipeTest, ReplaceMarkerMustBeBoolean) {
  EXPECT_THAT(Error("bad_replace_marker.toml"), HasSubstr("'optim.__replace__' must be true or false, found string"));
}

TEST_F(RecipeTest, BaseMustListPaths) {
  EXPECT_THAT(Error("bad_base_type.toml"), HasSubstr("'base' must be an array of file paths (strings), found [ 1 ]"));
}

TEST_F(RecipeTest, UnknownKeyWithoutSuggestionStillReadsWell) {
  absl::StatusOr<Recipe> r = Recipe::Parse("[model]\ntype = \"test.Model\"\nzzzzzz = 1\n", "inline.toml", kDir, {});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(std::string(r->Validate(registry_).message()),
              HasSubstr("unknown recipe key 'model.zzzzzz' [inline.toml]. Valid keys of 'test.Model'"));
}

TEST_F(RecipeTest, AComponentArrayElementWithoutATypeIsNamed) {
  // Found by fuzzing (tests/fuzz/regressions/recipe): an element of a component array has no default type, and its
  // missing `type` dereferenced a null default.
  absl::StatusOr<Recipe> r = Recipe::Parse("[model]\ntype = \"test.Model\"\n[[hooks]]\ntypo = \"core.EarlyStopping\"\n",
                                           "inline.toml", kDir, {});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(std::string(r->Validate(registry_).message()),
              HasSubstr("recipe key 'hooks.0.type' is missing: name a hook"));
}

// `@avsl/<path>` names a shipped recipe: looked up in $AVSL_RECIPE_PATH, then next to the installed (or, in a build
// tree, the source) recipes. These tests point AVSL_RECIPE_PATH at a scratch tree.
class RecipeByNameTest : public RecipeTest {
 protected:
  void SetUp() override {
    RecipeTest::SetUp();
    // One tree per test process: ctest runs these tests side by side, and a shared tree was removed under a peer.
    root_ = (std::filesystem::path(::testing::TempDir()) /
             ("avsl_recipe_path_" + std::to_string(getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ + "/shipped/_base_");
    std::ofstream(root_ + "/shipped/_base_/data.toml") << "[data]\nbatch_size = 5\nworkers = 1\n";
    // A relative base inside a recipe found by name resolves next to that recipe.
    std::ofstream(root_ + "/shipped/model.toml") << "base = [\"_base_/data.toml\"]\nseed = 11\n";
    setenv("AVSL_RECIPE_PATH", ("/nonexistent/avsl_recipes:" + root_ + "/shipped").c_str(), 1);
  }
  void TearDown() override {
    unsetenv("AVSL_RECIPE_PATH");
    std::filesystem::remove_all(root_);
  }

  std::string root_;
};

TEST_F(RecipeByNameTest, BaseByNameResolvesThroughTheRecipePath) {
  absl::StatusOr<Recipe> r = Recipe::Parse("base = [\"@avsl/model.toml\"]\n[data]\nbatch_size = 6\n", "inline.toml",
                                           kDir, {});
  ASSERT_TRUE(r.ok()) << r.status();
  const std::map<std::string, std::string> flat = r->Flatten();
  EXPECT_EQ(flat.at("seed"), "11");
  EXPECT_EQ(flat.at("data.batch_size"), "6");  // the recipe wins over its bases
  EXPECT_EQ(flat.at("data.workers"), "1");     // from the shipped recipe's own relative base
  EXPECT_EQ(r->OriginOf("data.workers"), root_ + "/shipped/_base_/data.toml");
  EXPECT_EQ(r->OriginOf("seed"), root_ + "/shipped/model.toml");
}

TEST_F(RecipeByNameTest, TheRecipeItselfMayBeGivenByName) {
  absl::StatusOr<Recipe> r = Recipe::Load("@avsl/model.toml", {"seed=3"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->Flatten().at("seed"), "3");
  EXPECT_EQ(r->Flatten().at("data.batch_size"), "5");
}

TEST_F(RecipeByNameTest, SearchPathIsTheEnvironmentFirst) {
  const std::vector<std::string> dirs = RecipeSearchPath();
  ASSERT_GE(dirs.size(), 3u);  // the two entries of AVSL_RECIPE_PATH, then the installed (or source) recipes
  EXPECT_EQ(dirs[0], "/nonexistent/avsl_recipes");
  EXPECT_EQ(dirs[1], root_ + "/shipped");
  EXPECT_THAT(dirs[2], HasSubstr("share/avsl/recipes"));
}

TEST_F(RecipeByNameTest, UnresolvableNameNamesFileKeyNameAndDirectories) {
  absl::StatusOr<Recipe> r = Recipe::Parse("base = [\"@avsl/nope/none.toml\"]\n", "inline.toml", kDir, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()),
              AllOf(HasSubstr("inline.toml: base '@avsl/nope/none.toml' not found in the recipe search path"),
                    HasSubstr("looked for nope/none.toml in /nonexistent/avsl_recipes, " + root_ + "/shipped, "),
                    HasSubstr("set AVSL_RECIPE_PATH")));
  absl::StatusOr<Recipe> top = Recipe::Load("@avsl/nope/none.toml", {});
  ASSERT_FALSE(top.ok());
  EXPECT_THAT(std::string(top.status().message()),
              HasSubstr("recipe '@avsl/nope/none.toml' not found in the recipe search path"));
  absl::StatusOr<Recipe> empty = Recipe::Parse("base = [\"@avsl/\"]\n", "inline.toml", kDir, {});
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(std::string(empty.status().message()),
              HasSubstr("inline.toml: base '@avsl/': expected @avsl/<path relative to the recipe search path>"));
  // A name may not climb out of the search directories.
  absl::StatusOr<Recipe> up = Recipe::Parse("base = [\"@avsl/ezvsl/../../x.toml\"]\n", "inline.toml", kDir, {});
  ASSERT_FALSE(up.ok());
  EXPECT_THAT(std::string(up.status().message()),
              HasSubstr("inline.toml: base '@avsl/ezvsl/../../x.toml': expected @avsl/<path relative to"));
}

TEST(RecipeSearchPathTest, WithoutTheEnvironmentTheShippedRecipesAreFound) {
  unsetenv("AVSL_RECIPE_PATH");
  // In the build tree the source tree's recipes/ stand in for the installed ones.
  absl::StatusOr<Recipe> r = Recipe::Load("@avsl/_base_/runtime.toml", {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->Flatten().at("train.monitor"), HasSubstr("val.ap"));
  EXPECT_THAT(r->OriginOf("train.monitor"), HasSubstr("_base_/runtime.toml"));
}

TEST(ClosestNamesTest, SuggestsNearNamesOnly) {
  EXPECT_EQ(ClosestNames("tua", {"tau", "dim", "mode"}), (std::vector<std::string>{"tau"}));
  EXPECT_EQ(ClosestNames("EZVSL", {"ezvsl.EZVSL", "slavc.SLAVC"}).front(), "ezvsl.EZVSL");
  EXPECT_TRUE(ClosestNames("completely_different", {"tau", "dim"}).empty());
}

// Hostile recipes fail at once with the limit named (avsl::kMaxRecipe*): written into a scratch folder per test.
class RecipeLimitsTest : public RecipeTest {
 protected:
  void SetUp() override {
    RecipeTest::SetUp();
    dir_ = (std::filesystem::path(::testing::TempDir()) /
            ("avsl_recipe_limits_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(RecipeLimitsTest, ABaseChainDeeperThanTheLimitNamesItsEnds) {
  // f0 <- f1 <- ... : f(k) bases on f(k+1); a chain of exactly kMaxRecipeBaseDepth files loads.
  const int files = kMaxRecipeBaseDepth + 1;
  for (int k = 0; k < files; ++k) {
    Write("f" + std::to_string(k) + ".toml",
          k + 1 < files ? "base = [\"f" + std::to_string(k + 1) + ".toml\"]\n" : "seed = 3\n");
  }
  absl::StatusOr<Recipe> deep = Recipe::Load(dir_ + "/f0.toml", {});
  ASSERT_FALSE(deep.ok());
  EXPECT_THAT(deep.status().message(),
              AllOf(HasSubstr("recipe bases nest deeper than 16 files (avsl::kMaxRecipeBaseDepth)"),
                    HasSubstr("f0.toml -> ... -> "), HasSubstr("f16.toml")));
  absl::StatusOr<Recipe> at_limit = Recipe::Load(dir_ + "/f1.toml", {});
  ASSERT_TRUE(at_limit.ok()) << at_limit.status();
  EXPECT_EQ(at_limit->Root().GetInt("seed"), 3);
}

TEST_F(RecipeLimitsTest, ADiamondOfBasesRepeatedAtEveryLevelIsRefusedBeforeItExplodes) {
  // Each level lists the next twice: 2^12 reads without the bound, each a legal diamond.
  for (int k = 0; k < 12; ++k) {
    const std::string next = "d" + std::to_string(k + 1) + ".toml";
    Write("d" + std::to_string(k) + ".toml", "base = [\"" + next + "\", \"" + next + "\"]\n");
  }
  Write("d12.toml", "seed = 4\n");
  absl::StatusOr<Recipe> r = Recipe::Load(dir_ + "/d0.toml", {});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              AllOf(HasSubstr("d0.toml reads more than 256 files through its bases (avsl::kMaxRecipeFiles"),
                    HasSubstr("the last ")));
}

TEST_F(RecipeLimitsTest, AnOversizedRecipeFileOrTextIsRefusedBeforeParsing) {
  const std::string big = "seed = 1\n" + std::string(kMaxRecipeFileBytes, '#') + "\n";
  const std::string path = Write("big.toml", big);
  absl::StatusOr<Recipe> r = Recipe::Load(path, {});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), AllOf(HasSubstr("big.toml: " + std::to_string(big.size()) + " bytes"),
                                          HasSubstr("at most 1048576 (avsl::kMaxRecipeFileBytes)")));
  absl::StatusOr<Recipe> text = Recipe::Parse(big, "inline.toml", dir_, {});
  ASSERT_FALSE(text.ok());
  EXPECT_THAT(text.status().message(), HasSubstr("inline.toml: " + std::to_string(big.size()) + " bytes"));
}

TEST_F(RecipeLimitsTest, ABaseNameTheFileSystemRefusesIsAMissingBase) {
  // Found by fuzzing (tests/fuzz/regressions/recipe): std::filesystem::exists threw on ENAMETOOLONG.
  const std::string name(5000, 'x');
  absl::StatusOr<Recipe> r = Recipe::Parse("base = [\"" + name + ".toml\"]\n", "long.toml", dir_, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), AllOf(HasSubstr("long.toml: base 'xxxx"), HasSubstr("File name too long")));
}

TEST_F(RecipeLimitsTest, AHugeOrDeepSetIsRefused) {
  const std::string path = Write("ok.toml", "seed = 1\n");
  std::string array = "model.huge=[0";
  while (static_cast<long long>(array.size()) <= kMaxOverrideBytes) array += ",0";
  array += "]";
  absl::StatusOr<Recipe> huge = Recipe::Load(path, {array});
  ASSERT_FALSE(huge.ok());
  EXPECT_THAT(huge.status().message(),
              AllOf(HasSubstr("--set model.huge: "), HasSubstr("at most 65536 (avsl::kMaxOverrideBytes)")));
  std::string key = "a";
  for (int k = 1; k <= kMaxOverrideKeyDepth; ++k) key += ".a";
  absl::StatusOr<Recipe> deep = Recipe::Load(path, {key + "=1"});
  ASSERT_FALSE(deep.ok());
  EXPECT_THAT(deep.status().message(), HasSubstr("17 dotted parts; a key may have at most 16"));
}

}  // namespace
}  // namespace avsl
