#include "avsl/core/plugin_host.h"
#include "avsl/builtins/core_components.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "avsl/core/lr_schedule.h"
#include "avsl/core/plugin_abi.h"
#include "avsl/core/recipe.h"

namespace avsl {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kRoot = AVSL_TEST_PLUGIN_ROOT;
std::string Lib(const std::string& dir, const std::string& name) {
  return kRoot + "/" + dir + "/libavsl_" + name + ".so";
}

const PluginRecord* Find(const PluginHost& host, const std::string& path) {
  for (const PluginRecord& r : host.records())
    if (r.path == path) return &r;
  return nullptr;
}

double BuildAndRun(const PluginHost& host, const std::string& type) {
  absl::StatusOr<Recipe> recipe = Recipe::Parse("[schedule]\ntype = \"" + type + "\"\n", "inline.toml", ".", {});
  EXPECT_TRUE(recipe.ok());
  absl::Status s = recipe->Validate(host.registry());
  EXPECT_TRUE(s.ok()) << s;
  auto schedule = host.registry().Build<LrSchedule>(recipe->Root().Sub("schedule"));
  EXPECT_TRUE(schedule.ok()) << schedule.status();
  return schedule.ok() ? (*schedule)->Factor(0, 1) : -1;
}

TEST(PluginHostTest, LoadsAWellFormedPluginAndItsComponents) {
  PluginHost host;
  AddCoreComponents(host);
  const PluginRecord& r = host.LoadFile(Lib("good", "good"));
  EXPECT_EQ(r.status, PluginStatus::kLoaded) << r.message;
  EXPECT_EQ(r.name, "good");
  EXPECT_EQ(r.version, "1.2.3");
  EXPECT_THAT(r.components, ElementsAre("good.Half"));
  EXPECT_DOUBLE_EQ(BuildAndRun(host, "good.Half"), 0.5);
}

TEST(PluginHostTest, CoreComponentsAreRegisteredUnderTheCoreScope) {
  PluginHost host;
  AddCoreComponents(host);
  ASSERT_FALSE(host.records().empty());
  EXPECT_EQ(host.records()[0].name, "core");
  EXPECT_EQ(host.records()[0].status, PluginStatus::kLoaded);
  EXPECT_NE(host.registry().Find(ComponentKind::kOptimizer, "core.Adam"), nullptr);
  EXPECT_NE(host.registry().Find(ComponentKind::kScheduler, "core.CosineWarmup"), nullptr);
}

TEST(PluginHostTest, MissingEntryPoint) {
  PluginHost host;
  AddCoreComponents(host);
  const std::string path = Lib("broken", "missing_entry");
  const PluginRecord& r = host.LoadFile(path);
  EXPECT_EQ(r.status, PluginStatus::kMissingEntryPoint);
  EXPECT_EQ(r.message,
            path + " has no 'avsl_plugin_info' entry point: not an avsl plugin (define one with AVSL_PLUGIN)");
  EXPECT_STREQ(PluginStatusCode(r.status), "missing_entry_point");
}

TEST(PluginHostTest, WrongAbiIsRefusedBeforeAnyPluginCodeRuns) {
  PluginHost host;
  AddCoreComponents(host);
  const std::string path = Lib("broken", "wrong_abi");
  const PluginRecord& r = host.LoadFile(path);  // its callback throws a C string if it ever runs
  EXPECT_EQ(r.status, PluginStatus::kIncompatibleAbi);
  EXPECT_THAT(r.message, AllOf(HasSubstr(path + " was built for plugin ABI 999"),
                               HasSubstr("this host expects ABI " + std::to_string(AVSL_PLUGIN_ABI_VERSION)),
                               HasSubstr("Rebuild the plugin against this SDK")));
}

TEST(PluginHostTest, WrongTorchVersionIsRefused) {
  PluginHost host;
  AddCoreComponents(host);
  const PluginRecord& r = host.LoadFile(Lib("broken", "wrong_torch"));
  EXPECT_EQ(r.status, PluginStatus::kIncompatibleTorch);
  EXPECT_THAT(r.message, AllOf(HasSubstr("plugin 'wrong_torch'"), HasSubstr("was built against LibTorch 0.0.1"),
                               HasSubstr(std::string("this host uses LibTorch ") + TORCH_VERSION)));
}

TEST(PluginHostTest, DuplicateComponentNameRefusesTheWholePlugin) {
  PluginHost host;
  AddCoreComponents(host);
  const PluginRecord& r = host.LoadFile(Lib("broken", "duplicate_component"));
  EXPECT_EQ(r.status, PluginStatus::kRegistrationFailed);
  EXPECT_THAT(r.message, AllOf(HasSubstr("registered component 'duplicate_component.Half' twice"),
                               HasSubstr("none of its components were registered")));
  EXPECT_EQ(host.registry().FindAnyKind("duplicate_component.Half"), nullptr);
}

TEST(PluginHostTest, ExceptionDuringRegistrationLeavesNothingBehind) {
  PluginHost host;
  AddCoreComponents(host);
  const PluginRecord& r = host.LoadFile(Lib("broken", "throws"));
  EXPECT_EQ(r.status, PluginStatus::kRegistrationFailed);
  EXPECT_THAT(r.message, HasSubstr("registration threw: boom during registration"));
  EXPECT_EQ(host.registry().FindAnyKind("throws.Half"), nullptr);
}

TEST(PluginHostTest, AbsentDependencyIsNamed) {
  PluginHost host;
  AddCoreComponents(host);
  host.LoadDirectories({kRoot + "/broken"});
  const PluginRecord* r = Find(host, Lib("broken", "needs_absent"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->status, PluginStatus::kMissingDependency);
  EXPECT_THAT(r->message, HasSubstr("depends on 'absent_plugin' not found in the plugin search path"));
  EXPECT_EQ(host.registry().FindAnyKind("needs_absent.Half"), nullptr);
}

TEST(PluginHostTest, ReservedCoreNameIsADuplicatePlugin) {
  PluginHost host;
  AddCoreComponents(host);
  const PluginRecord& r = host.LoadFile(Lib("broken", "core_impostor"));
  EXPECT_EQ(r.status, PluginStatus::kDuplicatePlugin);
  EXPECT_THAT(r.message, HasSubstr("plugin 'core'"));
}

TEST(PluginHostTest, ProcessStaysHealthyAfterEveryFailure) {
  PluginHost host;
  AddCoreComponents(host);
  host.LoadDirectories({kRoot + "/broken"});
  for (const PluginRecord& r : host.records()) {
    if (r.name == "core") continue;
    EXPECT_NE(r.status, PluginStatus::kLoaded) << r.path;
  }
  const PluginRecord& good = host.LoadFile(Lib("good", "good"));
  EXPECT_EQ(good.status, PluginStatus::kLoaded) << good.message;
  EXPECT_DOUBLE_EQ(BuildAndRun(host, "good.Half"), 0.5);
  EXPECT_DOUBLE_EQ(BuildAndRun(host, "core.Constant"), 1.0);
}

TEST(PluginHostTest, DependenciesRegisterFirstWhateverTheFileOrder) {
  PluginHost host;
  AddCoreComponents(host);
  host.LoadDirectories({kRoot + "/deps"});
  const PluginRecord* user = Find(host, Lib("deps", "dep_user"));
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->status, PluginStatus::kLoaded) << user->message;
  EXPECT_THAT(user->dependencies, ElementsAre("good"));
  std::vector<std::string> order;
  for (const PluginRecord& r : host.records()) order.push_back(r.name);
  EXPECT_THAT(order, ElementsAre("core", "good", "dep_user"));
}

TEST(PluginHostTest, FirstPluginOfANameWinsAndTheDuplicateIsReported) {
  PluginHost host;
  AddCoreComponents(host);
  host.LoadDirectories({kRoot + "/good", kRoot + "/copy"});
  const PluginRecord* copy = Find(host, Lib("copy", "good_copy"));
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->status, PluginStatus::kDuplicatePlugin);
  EXPECT_THAT(copy->message, HasSubstr("the same plugin was found first at " + Lib("good", "good")));
  EXPECT_EQ(Find(host, Lib("good", "good"))->version, "1.2.3");
}

TEST(PluginHostTest, UnreadableLibraryIsAnOpenFailure) {
  const std::string dir = ::testing::TempDir() + "/avsl_garbage_plugins";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/libavsl_garbage.so") << "this is not an ELF file";
  PluginHost host;
  AddCoreComponents(host);
  host.LoadDirectories({dir});
  const PluginRecord* r = Find(host, dir + "/libavsl_garbage.so");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->status, PluginStatus::kOpenFailed);
  EXPECT_THAT(r->message, HasSubstr("cannot open " + dir + "/libavsl_garbage.so"));
}

TEST(PluginHostTest, SearchedDirectoriesAreRememberedInOrderOnceEach) {
  PluginHost host;
  AddCoreComponents(host);
  EXPECT_TRUE(host.searched_directories().empty());
  host.LoadDirectories({kRoot + "/good", "/nonexistent/avsl_plugins"});
  host.LoadDirectories({kRoot + "/good", kRoot + "/deps"});
  EXPECT_THAT(host.searched_directories(), ElementsAre(kRoot + "/good", "/nonexistent/avsl_plugins", kRoot + "/deps"));
}

// Under AddressSanitizer the crash is its report and exit status 1 rather than death by the signal: either way the
// message names the file and the step.
TEST(PluginHostTest, APluginThatCrashesWhileRegisteringIsNamedAndTheHostGoesOn) {
  PluginHost host;
  AddCoreComponents(host);
  const std::string path = Lib("broken", "segfault");
  const PluginRecord& r = host.LoadFile(path);
  EXPECT_EQ(r.status, PluginStatus::kRegistrationFailed);
  EXPECT_THAT(r.message, AllOf(HasSubstr("plugin file " + path), HasSubstr("while registering its components"),
                               HasSubstr("not loaded")));
  EXPECT_EQ(host.registry().FindAnyKind("segfault.Half"), nullptr);
  const PluginRecord& good = host.LoadFile(Lib("good", "good"));
  EXPECT_EQ(good.status, PluginStatus::kLoaded) << good.message;
  EXPECT_DOUBLE_EQ(BuildAndRun(host, "good.Half"), 0.5);
}

TEST(PluginHostTest, APluginThatCrashesInAStaticConstructorIsAnOpenFailure) {
  PluginHost host;
  const std::string path = Lib("broken", "static_crash");
  const PluginRecord& r = host.LoadFile(path);
  EXPECT_EQ(r.status, PluginStatus::kOpenFailed);
  EXPECT_THAT(r.message, AllOf(HasSubstr("plugin file " + path), HasSubstr("while being opened")));
}

TEST(PluginHostTest, AnUnresolvedSymbolIsFoundWhenTheFileIsOpenedNotWhenItIsCalled) {
  PluginHost host;
  const std::string path = Lib("broken", "unresolved");
  const PluginRecord& r = host.LoadFile(path);
  EXPECT_EQ(r.status, PluginStatus::kOpenFailed);
  EXPECT_THAT(r.message,
              AllOf(HasSubstr("cannot open " + path), HasSubstr("undefined symbol: avsl_test_symbol_nobody_defines")));
}

TEST(PluginHostTest, SearchPathOrderIsFlagThenEnvironmentThenDefault) {
  setenv("AVSL_PLUGIN_PATH", "/env/a:/env/b", 1);
  std::vector<std::string> dirs = PluginHost::SearchPath({"/cli/x:/cli/y", "/cli/z"});
  unsetenv("AVSL_PLUGIN_PATH");
  ASSERT_EQ(dirs.size(), 6u);
  EXPECT_THAT(std::vector<std::string>(dirs.begin(), dirs.begin() + 5),
              ElementsAre("/cli/x", "/cli/y", "/cli/z", "/env/a", "/env/b"));
  EXPECT_THAT(dirs.back(), HasSubstr("avsl/plugins"));
}

// Plugins load from the directories the user named and the installed one, never from wherever avsl happens to run:
// a relative --plugin-path is resolved once against the current directory, a relative AVSL_PLUGIN_PATH entry (which
// would follow the user from directory to directory) is left out and reported.
TEST(PluginHostTest, TheSearchPathHasNoRelativeEntries) {
  setenv("AVSL_PLUGIN_PATH", "rel/env:/env/abs::.", 1);
  std::vector<std::string> dirs = PluginHost::SearchPath({"here/plugins"});
  std::vector<std::string> ignored = PluginHost::IgnoredSearchPathEntries();
  unsetenv("AVSL_PLUGIN_PATH");
  ASSERT_EQ(dirs.size(), 3u);
  EXPECT_EQ(dirs[0], (std::filesystem::current_path() / "here/plugins").string());
  EXPECT_EQ(dirs[1], "/env/abs");
  for (const std::string& d : dirs) EXPECT_TRUE(std::filesystem::path(d).is_absolute()) << d;
  EXPECT_THAT(ignored, ElementsAre("rel/env", "."));
  EXPECT_TRUE(PluginHost::IgnoredSearchPathEntries().empty());
}

}  // namespace
}  // namespace avsl
