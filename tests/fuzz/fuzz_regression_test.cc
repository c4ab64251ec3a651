// Replays, in the normal build, every committed input of every fuzz target (fuzz/): the seed corpus
// (tests/fuzz/corpus/<target>/) and each input a campaign found a problem with (tests/fuzz/regressions/<target>/, after
// the fix). The targets' entry points are compiled here as plain functions (AVSL_FUZZ_REGRESSION); an input that
// crashes, hangs or throws fails this test the way it failed the fuzzer.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fuzz_target.h"

namespace avsl::fuzz {

std::map<std::string, TargetFn>& Targets() {
  static std::map<std::string, TargetFn> targets;
  return targets;
}

namespace {

namespace fs = std::filesystem;

const fs::path kFuzzDir = fs::path(AVSL_SOURCE_DIR) / "tests" / "fuzz";

std::vector<fs::path> Inputs(const std::string& target) {
  std::vector<fs::path> files;
  for (const char* kind : {"corpus", "regressions"}) {
    const fs::path dir = kFuzzDir / kind / target;
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.is_regular_file() && e.path().filename() != "README.md") files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(FuzzRegression, EveryTargetHasSeedsAndEverySeedFolderATarget) {
  ASSERT_FALSE(Targets().empty());
  for (const auto& [name, fn] : Targets()) {
    EXPECT_TRUE(fs::is_directory(kFuzzDir / "corpus" / name)) << "no seed corpus tests/fuzz/corpus/" << name;
  }
  for (const char* kind : {"corpus", "regressions"}) {
    for (const auto& e : fs::directory_iterator(kFuzzDir / kind)) {
      if (e.is_directory()) {
        EXPECT_EQ(Targets().count(e.path().filename().string()), 1u)
            << "fuzz/" << kind << "/" << e.path().filename().string() << " names no target";
      }
    }
  }
}

class FuzzRegressionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FuzzRegressionTest, EveryCommittedInputRunsCleanly) {
  const std::vector<fs::path> files = Inputs(GetParam());
  ASSERT_FALSE(files.empty()) << "tests/fuzz/corpus/" << GetParam() << " is empty";
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(file.string());
    EXPECT_EQ(Targets().at(GetParam())(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0);
  }
}

std::vector<std::string> TargetNames() {
  std::vector<std::string> names;
  for (const auto& [name, fn] : Targets()) names.push_back(name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzRegressionTest, ::testing::ValuesIn(TargetNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace avsl::fuzz
