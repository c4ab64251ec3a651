// Tests of train/test overlap detection: the published lists (3709 VGG-SS test ids in vggss_144k.txt) and
// small hand-made lists.
#include "avsl/data/overlap.h"

#include <string>

#include "avsl/data/split_lists.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reference_files.h"

namespace avsl::data {
namespace {

using ::testing::ElementsAre;
using testing::Exists;
using testing::MissingReference;
using testing::ReferenceDir;

TEST(OverlapTest, FindAndExcludeKeepTrainOrder) {
  const std::vector<std::string> train = {"d", "a", "x", "b", "y"};
  const std::vector<std::string> test = {"a", "b", "c", "d"};
  const OverlapReport report = FindOverlap(train, test);
  EXPECT_EQ(report.count(), 3u);
  EXPECT_THAT(report.ids, ElementsAre("d", "a", "b"));
  EXPECT_THAT(ExcludeIds(train, report.ids), ElementsAre("x", "y"));
  EXPECT_THAT(ExcludeIds(train, {}), ElementsAre("d", "a", "x", "b", "y"));
  EXPECT_EQ(FindOverlap(train, {}).count(), 0u);
}

TEST(OverlapTest, Describe) {
  const OverlapReport report = FindOverlap({"d", "a", "x", "b"}, {"a", "b", "d"});
  EXPECT_EQ(DescribeOverlap(report, 4, "train.txt", "test.csv", 2),
            "3 of 4 train ids (train.txt) are test ids (test.csv): d, a, ... (+1 more)");
  EXPECT_EQ(DescribeOverlap(report, 4, "t", "s"), "3 of 4 train ids (t) are test ids (s): d, a, b");
  EXPECT_EQ(DescribeOverlap(OverlapReport{}, 4, "t", "s"), "0 of 4 train ids (t) are test ids (s)");
}

TEST(RealOverlapTest, PublishedListsLeakTestIds) {
  const std::string dir = ReferenceDir() + "/SLAVC/metadata/";
  if (!Exists(dir + "vggss_test.csv")) GTEST_SKIP() << MissingReference(dir + "vggss_test.csv");
  auto vggss_test = ReadTestCsv(dir + "vggss_test.csv");
  auto flickr_test = ReadTestCsv(dir + "flickr_test.csv");
  ASSERT_TRUE(vggss_test.ok() && flickr_test.ok());
  const std::vector<std::string> vt = VideoIds(*vggss_test), ft = VideoIds(*flickr_test);
  const std::pair<const char*, size_t> expected[] = {{"vggss_144k.txt", 3709}, {"vggss_10k.txt", 238},
                                                     {"vggss_heard.txt", 0},   {"flickr_144k.txt", 20},
                                                     {"flickr_10k.txt", 1},    {"flickr_sup_train.txt", 0}};
  for (const auto& [name, count] : expected) {
    auto train = ReadIdList(dir + name);
    ASSERT_TRUE(train.ok()) << train.status();
    const bool vgg = std::string(name).rfind("vggss", 0) == 0;
    const OverlapReport report = FindOverlap(*train, vgg ? vt : ft);
    EXPECT_EQ(report.count(), count) << name;
    const std::vector<std::string> clean = ExcludeIds(*train, report.ids);
    EXPECT_EQ(clean.size(), train->size() - count) << name;
    EXPECT_EQ(FindOverlap(clean, vgg ? vt : ft).count(), 0u) << name;
  }
  // The EZ-VSL 249-id Flickr list gives the same 20 / 1 (3908875350 is in no train list).
  auto ez = ReadTestCsv(ReferenceDir() + "/EZ-VSL/metadata/flickr_test.csv");
  auto f144 = ReadIdList(dir + "flickr_144k.txt");
  ASSERT_TRUE(ez.ok() && f144.ok());
  EXPECT_EQ(FindOverlap(*f144, VideoIds(*ez)).count(), 20u);
}

}  // namespace
}  // namespace avsl::data
