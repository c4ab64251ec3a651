// Tests of the heard/unheard open-set split: the published SLAVC/EZ-VSL lists (2564 / 2575 test ids) and the
// same split recomputed from the vggss.json classes, plus hand-made class lists and error cases.
#include "avsl/data/open_set_split.h"

#include <set>
#include <string>

#include "absl/status/status.h"
#include "avsl/data/split_lists.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reference_files.h"

namespace avsl::data {
namespace {

using ::testing::ElementsAre;
using testing::Exists;
using ::testing::HasSubstr;
using testing::MakeTempDir;
using testing::MissingReference;
using testing::ReferenceDir;
using testing::WriteFile;

const std::vector<LabeledId> kItems = {{"a1", "dog"}, {"b1", "cat"}, {"a2", "dog"}, {"c1", "cow"}, {"b2", "cat"}};

TEST(ComputeOpenSetSplitTest, HeardOnlyMakesEverythingElseUnheard) {
  auto split = ComputeOpenSetSplit(kItems, {"dog"});
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_THAT(split->heard_test_ids, ElementsAre("a1", "a2"));
  EXPECT_THAT(split->unheard_test_ids, ElementsAre("b1", "c1", "b2"));  // source order
  EXPECT_THAT(split->unheard_classes, ElementsAre("cat", "cow"));
  EXPECT_TRUE(split->excluded_classes.empty());
}

TEST(ComputeOpenSetSplitTest, ExplicitUnheardExcludesTheRest) {
  auto split = ComputeOpenSetSplit(kItems, {"dog"}, std::vector<std::string>{"cat"});
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_THAT(split->unheard_test_ids, ElementsAre("b1", "b2"));
  EXPECT_THAT(split->excluded_classes, ElementsAre("cow"));
  EXPECT_THAT(split->excluded_test_ids, ElementsAre("c1"));
}

TEST(ComputeOpenSetSplitTest, Errors) {
  auto typo = ComputeOpenSetSplit(kItems, {"dgo"});
  ASSERT_FALSE(typo.ok());
  EXPECT_THAT(std::string(typo.status().message()), HasSubstr("heard class \"dgo\" has no test ids"));
  auto both = ComputeOpenSetSplit(kItems, {"dog"}, std::vector<std::string>{"cat", "dog"});
  ASSERT_FALSE(both.ok());
  EXPECT_THAT(std::string(both.status().message()), HasSubstr("class \"dog\" is both heard and unheard"));
  auto unknown = ComputeOpenSetSplit(kItems, {"dog"}, std::vector<std::string>{"owl"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("unheard class \"owl\""));
}

TEST(ReadPublishedOpenSetSplitTest, FixtureAndErrors) {
  const std::string json =
      R"([{"file": "a1", "class": "dog", "bbox": []}, {"file": "b1", "class": "cat", "bbox": []},)"
      R"( {"file": "a2", "class": "dog", "bbox": []}, {"file": "c1", "class": "cow", "bbox": []}])";
  auto index = VggssIndex::Parse(json, "fixture.json");
  ASSERT_TRUE(index.ok()) << index.status();
  const std::string dir = MakeTempDir("openset");
  const std::string heard = WriteFile(dir + "/heard.csv", "a2\r\na1\r\n");
  const std::string unheard = WriteFile(dir + "/unheard.csv", "b1");
  auto split = ReadPublishedOpenSetSplit(*index, heard, unheard);
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_THAT(split->heard_test_ids, ElementsAre("a2", "a1"));
  EXPECT_THAT(split->heard_classes, ElementsAre("dog"));
  EXPECT_THAT(split->unheard_classes, ElementsAre("cat"));
  EXPECT_THAT(split->excluded_classes, ElementsAre("cow"));
  EXPECT_THAT(split->excluded_test_ids, ElementsAre("c1"));

  auto unknown = ReadPublishedOpenSetSplit(*index, heard, WriteFile(dir + "/u2.csv", "b1\nzz"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(unknown.status().message()),
              HasSubstr(dir + "/u2.csv: id zz is not in the vggss annotations"));
  auto overlap = ReadPublishedOpenSetSplit(*index, heard, WriteFile(dir + "/u3.csv", "b1\na1"));
  ASSERT_FALSE(overlap.ok());
  EXPECT_THAT(std::string(overlap.status().message()), HasSubstr(dir + "/u3.csv: id a1 is also in " + heard));
  auto mixed = ReadPublishedOpenSetSplit(*index, WriteFile(dir + "/h4.csv", "a1"), WriteFile(dir + "/u4.csv", "a2"));
  ASSERT_FALSE(mixed.ok());
  EXPECT_THAT(std::string(mixed.status().message()), HasSubstr("class \"dog\" (id a2) is also in " + dir + "/h4.csv"));
  auto missing = ReadPublishedOpenSetSplit(*index, dir + "/none.csv", unheard);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(dir + "/none.csv"));
}

class RealOpenSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ReferenceDir() + "/SLAVC/metadata/";
    if (!Exists(dir_ + "vggss.json")) GTEST_SKIP() << MissingReference(dir_ + "vggss.json");
    auto index = VggssIndex::Read(dir_ + "vggss.json");
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = std::move(*index);
  }
  std::string dir_;
  VggssIndex index_;
};

TEST_F(RealOpenSetTest, PublishedLists) {
  auto split = ReadPublishedOpenSetSplit(index_, dir_ + "vggss_heard_test.csv", dir_ + "vggss_unheard_test.csv");
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_EQ(split->heard_test_ids.size(), 2564u);
  EXPECT_EQ(split->unheard_test_ids.size(), 2575u);
  EXPECT_EQ(split->heard_classes.size(), 110u);
  EXPECT_EQ(split->unheard_classes.size(), 110u);
  // 221 classes in vggss.json; 'singing choir' (19 clips) is in neither list: 2564 + 2575 + 19 = 5158.
  EXPECT_THAT(split->excluded_classes, ElementsAre("singing choir"));
  EXPECT_EQ(split->excluded_test_ids.size(), 19u);
  // The heard training list shares no id with the test set.
  auto heard_train = ReadIdList(dir_ + "vggss_heard.txt");
  ASSERT_TRUE(heard_train.ok()) << heard_train.status();
  for (const std::string& id : *heard_train) ASSERT_EQ(index_.Find(id), nullptr) << id;
}

TEST_F(RealOpenSetTest, RecomputedFromClassesEqualsPublished) {
  auto published = ReadPublishedOpenSetSplit(index_, dir_ + "vggss_heard_test.csv", dir_ + "vggss_unheard_test.csv");
  ASSERT_TRUE(published.ok()) << published.status();
  auto computed = ComputeOpenSetSplit(index_, published->heard_classes, published->unheard_classes);
  ASSERT_TRUE(computed.ok()) << computed.status();
  // Same ids in the same order: the published lists follow vggss.json order.
  EXPECT_EQ(computed->heard_test_ids, published->heard_test_ids);
  EXPECT_EQ(computed->unheard_test_ids, published->unheard_test_ids);
  EXPECT_THAT(computed->excluded_classes, ElementsAre("singing choir"));
  // Heard classes only: everything else (incl. singing choir) is unheard, 2575 + 19 = 2594.
  auto heard_only = ComputeOpenSetSplit(index_, published->heard_classes);
  ASSERT_TRUE(heard_only.ok()) << heard_only.status();
  EXPECT_EQ(heard_only->heard_test_ids.size(), 2564u);
  EXPECT_EQ(heard_only->unheard_test_ids.size(), 2594u);
  EXPECT_EQ(heard_only->unheard_classes.size(), 111u);
}

}  // namespace
}  // namespace avsl::data
