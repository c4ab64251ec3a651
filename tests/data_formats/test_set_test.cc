#include "avsl/eval/test_set.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "avsl/data/split_lists.h"
#include "avsl/io/sha256.h"
#include "reference_files.h"

namespace avsl::eval {
namespace {
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(Sha256Test, MatchesTheFips180Vectors) {
  EXPECT_EQ(io::Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(io::Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 56 bytes: the length no longer fits the first padding block.
  EXPECT_EQ(io::Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(io::Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(TestSetTest, TheFingerprintIgnoresOrderAndIsTheSortedKeysOneALine) {
  EXPECT_EQ(TestSetSha256({"b", "a"}), TestSetSha256({"a", "b"}));
  EXPECT_EQ(TestSetSha256({"b", "a"}), io::Sha256Hex("a\nb\n"));
  EXPECT_NE(TestSetSha256({"a", "a"}), TestSetSha256({"a"}));
}

TEST(TestSetTest, ASetNamedLikeNoPublishedListIsItsSize) {
  const TestSetIdentity id = IdentifyTestSet({"test_000000", "test_000001"}, {});
  EXPECT_EQ(id.n, 2);
  EXPECT_THAT(id.manifest, IsEmpty());
  EXPECT_THAT(id.differs_from, IsEmpty());
  EXPECT_EQ(DescribeTestSet(id), "N=2");
}

TEST(TestSetTest, AFlickrListMissingItemsIsFlaggedAgainstThePublishedSetsOfThatName) {
  const TestSetIdentity id = IdentifyTestSet({"1", "2"}, {"/data/metadata/flickr_test.csv"});
  EXPECT_THAT(id.differs_from, ElementsAre("flickr_test_250", "flickr_test_249"));
  EXPECT_EQ(DescribeTestSet(id), "N=2, not flickr_test_250 (250) or flickr_test_249 (249)");
  // An extended evaluation was meant to be the extended set, not its positives alone.
  const TestSetIdentity ext = IdentifyTestSet({"1"},
                                              {"metadata/flickr_test.csv", "metadata/flickr_test_plus_silent.csv"});
  EXPECT_THAT(ext.differs_from, ElementsAre("flickr_test_plus_silent_500"));
}

// Every published row recomputed from the files, with the datasets' key rule (video id; "<video>__<audio>" for a
// non-sounding pair), so the pinned table and the code that checks evaluations against it cannot drift apart.
TEST(TestSetTest, ThePublishedTableMatchesTheReferenceFiles) {
  const std::string dir = data::testing::ReferenceDir();
  if (!data::testing::Exists(dir + "/SLAVC/metadata/flickr_test.csv"))
    GTEST_SKIP() << data::testing::MissingReference(dir);
  auto keys = [](const std::vector<data::TestEntry>& entries) {
    std::vector<std::string> out;
    for (const data::TestEntry& e : entries) {
      out.push_back(e.video_id == e.audio_id ? e.video_id : e.video_id + "__" + e.audio_id);
    }
    return out;
  };
  auto plain = [&](const std::string& path) {
    absl::StatusOr<std::vector<data::TestEntry>> entries = data::ReadTestCsv(dir + "/" + path);
    EXPECT_TRUE(entries.ok()) << entries.status();
    return entries.ok() ? keys(*entries) : std::vector<std::string>{};
  };
  auto extended = [&](const std::string& positives, const std::string& negatives) {
    absl::StatusOr<std::vector<data::TestEntry>> pos = data::ReadTestCsv(dir + "/" + positives);
    absl::StatusOr<std::vector<data::TestEntry>> neg = data::ReadExtendedTestCsv(dir + "/" + negatives);
    EXPECT_TRUE(pos.ok() && neg.ok());
    return pos.ok() && neg.ok() ? keys(data::CombineExtendedTestSet(*pos, *neg)) : std::vector<std::string>{};
  };
  const std::vector<std::pair<std::string, std::vector<std::string>>> computed = {
      {"flickr_test_250", plain("SLAVC/metadata/flickr_test.csv")},
      {"flickr_test_249", plain("EZ-VSL/metadata/flickr_test.csv")},
      {"flickr_test_plus_silent_500",
       extended("SLAVC/metadata/flickr_test.csv", "SLAVC/metadata/flickr_test_plus_silent.csv")},
      {"vggss_test_5158", plain("SLAVC/metadata/vggss_test.csv")},
      {"vggss_test_plus_silent_10316",
       extended("SLAVC/metadata/vggss_test.csv", "SLAVC/metadata/vggss_test_plus_silent.csv")},
      {"vggss_heard_test_2564", plain("SLAVC/metadata/vggss_heard_test.csv")},
      {"vggss_unheard_test_2575", plain("SLAVC/metadata/vggss_unheard_test.csv")},
  };
  ASSERT_EQ(computed.size(), PublishedTestSets().size());
  for (const auto& [name, k] : computed) {
    const TestSetIdentity id = IdentifyTestSet(k, {});
    EXPECT_EQ(id.manifest, name) << name << ": N=" << id.n << " sha256 " << id.sha256;
  }
  // The same sets as the other repositories publish them.
  EXPECT_EQ(IdentifyTestSet(plain("Localizing-Visual-Sounds-the-Hard-Way/metadata/flickr_test.csv"), {}).manifest,
            "flickr_test_249");
  EXPECT_EQ(IdentifyTestSet(plain("SSLalignment/metadata/flickr_test.csv"), {}).manifest, "flickr_test_250");
  EXPECT_EQ(IdentifyTestSet(plain("EZ-VSL/metadata/vggss_unheard_test.csv"), {}).manifest, "vggss_unheard_test_2575");
}

}  // namespace
}  // namespace avsl::eval
