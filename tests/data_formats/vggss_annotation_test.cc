// Tests of the vggss.json reader: the real published file (exact counts, the 18 degenerate boxes and the two
// clips whose GT map is all zero) and hand-made fixtures for the rounding, the union and the errors.
#include "avsl/data/vggss_annotation.h"

#include <map>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reference_files.h"

namespace avsl::data {
namespace {

using testing::Exists;
using ::testing::HasSubstr;
using testing::MakeTempDir;
using testing::MissingReference;
using testing::ReferenceDir;
using testing::WriteFile;

int CountOnes(const Map2D& map) {
  int n = 0;
  for (double v : map.values) n += (v == 1.0);
  return n;
}

TEST(VggssPixelTest, ClipThenTruncate) {
  EXPECT_EQ(VggssPixel(0.403125), 90);  // 0.403125*224 = 90.3
  EXPECT_EQ(VggssPixel(0.75), 168);     // exact
  EXPECT_EQ(VggssPixel(1.0), 224);
  EXPECT_EQ(VggssPixel(1.7), 224);  // clipped to 1
  EXPECT_EQ(VggssPixel(-2.8823037615171176e+16), 0);
  EXPECT_EQ(VggssPixel(0.9812500000000001), 219);  // 219.8
  EXPECT_EQ(VggssPixel(0.5, 100), 50);
}

TEST(VggssIndexTest, HandMadeFixture) {
  // clip 1: A (0.25,0.25,0.5,0.5) -> (56,56,112,112); B (0.375,0.375,0.75,0.75) -> (84,84,168,168).
  // Union = 56*56 + 84*84 - overlap [84,112)^2 = 3136 + 7056 - 784 = 9408 px, all 1 (binary, not summed).
  // clip 2: one box with a -2.88e16 x2 (clipped to 0: empty) and one with y1 = y2 = 1.0 (224:224, empty), and an
  // integer literal 0 which must read as 0.0.
  const std::string json = R"([{"file": "aaaaaaaaaaa_000001", "class": "dog barking",)"
                           R"( "bbox": [[0.25, 0.25, 0.5, 0.5], [0.375, 0.375, 0.75, 0.75]]},)"
                           R"( {"file": "bbbbbbbbbbb_000002", "class": "cat purring",)"
                           R"( "bbox": [[0.1, 0.2, -2.8823037615171176e+16, 0.9], [0, 1.0, 0.5, 1.0]]},)"
                           R"( {"file": "ccccccccccc_000003", "class": "dog barking", "bbox": []}])";
  auto index = VggssIndex::Parse(json, "fixture.json");
  ASSERT_TRUE(index.ok()) << index.status();
  ASSERT_EQ(index->size(), 3u);
  EXPECT_EQ(index->ClassNames(), (std::vector<std::string>{"cat purring", "dog barking"}));
  const VggssEntry* a = index->Find("aaaaaaaaaaa_000001");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->class_name, "dog barking");
  EXPECT_EQ(a->boxes[1].x1, 84);
  EXPECT_EQ(a->boxes[1].y2, 168);
  const Map2D gt = index->GtMap(*a);
  EXPECT_EQ(CountOnes(gt), 9408);
  EXPECT_EQ(gt.at(100, 100), 1.0);  // in both: still 1
  EXPECT_EQ(gt.at(56, 56), 1.0);
  EXPECT_EQ(gt.at(112, 56), 0.0);  // below A, left of B
  EXPECT_EQ(gt.at(167, 167), 1.0);
  EXPECT_EQ(gt.at(168, 167), 0.0);

  const VggssEntry* b = index->Find("bbbbbbbbbbb_000002");
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->boxes[0].empty());
  EXPECT_EQ(b->boxes[0].x2, 0);
  EXPECT_EQ(b->boxes[1].normalized[0], 0.0);
  EXPECT_EQ(b->boxes[1].y1, 224);
  EXPECT_TRUE(b->boxes[1].empty());
  EXPECT_EQ(CountOnes(index->GtMap(*b)), 0);
  EXPECT_EQ(CountOnes(index->GtMap(*index->Find("ccccccccccc_000003"))), 0);
  EXPECT_EQ(index->Find("zzzzzzzzzzz_000000"), nullptr);
}

TEST(VggssIndexTest, ErrorsNameFileAndEntry) {
  const std::string dir = MakeTempDir("vggss");
  const std::string ok_entry = R"({"file": "a_000001", "class": "c", "bbox": [[0, 0, 1, 1]]})";
  struct Case {
    std::string name, json, expected;
  } cases[] = {
      {"malformed.json", "[" + ok_entry + ", {\"file\": ", "malformed JSON at byte"},
      {"object.json", R"({"file": "x"})", "expected a JSON array of entries, found object"},
      {"nobbox.json", "[" + ok_entry + R"(, {"file": "b_000002", "class": "c"}])", "entry 1: missing field \"bbox\""},
      {"noclass.json", R"([{"file": "b_000002", "bbox": []}])", "entry 0: missing field \"class\""},
      {"filetype.json", "[" + ok_entry + R"(, {"file": 7, "class": "c", "bbox": []}])",
       "entry 1: \"file\" must be a non-empty string"},
      {"three.json", "[" + ok_entry + R"(, {"file": "b_000002", "class": "c", "bbox": [[0.1, 0.2, 0.3]]}])",
       "entry 1: (file b_000002) bbox 0 is [0.1,0.2,0.3], expected [x1, y1, x2, y2]"},
      {"string.json", R"([{"file": "b_000002", "class": "c", "bbox": [[0.1, 0.2, 0.3, 0.4], [0, "1", 0, 0]]}])",
       "entry 0: (file b_000002) bbox 1 value 1 is \"1\", expected a number"},
      {"dup.json", "[" + ok_entry + ", " + ok_entry + "]", "entry 1: duplicate file a_000001 (first seen in entry 0)"},
      {"notobject.json", "[" + ok_entry + ", 3]", "entry 1: expected an object"},
      // Found by fuzzing (tests/fuzz/regressions/vggss_json): a number beyond a double threw out of the parser.
      {"overflow.json", "[" + ok_entry + ", 1e999]", "malformed JSON: "},
  };
  for (const Case& c : cases) {
    const std::string path = dir + "/" + c.name;
    WriteFile(path, c.json);
    auto index = VggssIndex::Read(path);
    ASSERT_FALSE(index.ok()) << c.name;
    EXPECT_EQ(index.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(index.status().message()), HasSubstr("vggss annotations " + path)) << c.name;
    EXPECT_THAT(std::string(index.status().message()), HasSubstr(c.expected)) << index.status();
  }
  auto missing = VggssIndex::Read(dir + "/vggss.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(dir + "/vggss.json"));
}

class RealVggssTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ReferenceDir() + "/SLAVC/metadata/vggss.json";
    if (!Exists(path_)) GTEST_SKIP() << MissingReference(path_);
  }
  std::string path_;
};

TEST_F(RealVggssTest, CountsMatchThePublishedFile) {
  auto index = VggssIndex::Read(path_);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(index->size(), 5158u);
  EXPECT_EQ(index->ClassNames().size(), 221u);
  std::map<size_t, int> per_clip;
  size_t boxes = 0;
  for (const VggssEntry& e : index->entries()) {
    ++per_clip[e.boxes.size()];
    boxes += e.boxes.size();
  }
  EXPECT_EQ(boxes, 5941u);
  EXPECT_EQ(per_clip, (std::map<size_t, int>{{1, 4619}, {2, 385}, {3, 94}, {4, 37}, {5, 18}, {6, 3}, {7, 2}}));
  // File order is kept; it is also the order of vggss_test.csv.
  EXPECT_EQ(index->entries().front().file, "zpWuikVorYg_000032");
  EXPECT_EQ(index->entries().back().file, "GWTZtu3NOCc_000030");
}

TEST_F(RealVggssTest, DegenerateBoxesAndEmptyMapsAsInTheReference) {
  auto index = VggssIndex::Read(path_);
  ASSERT_TRUE(index.ok()) << index.status();
  std::set<std::string> degenerate_files;
  int degenerate = 0, out_of_range = 0;
  std::set<std::string> all_zero;
  for (const VggssEntry& e : index->entries()) {
    for (const VggssBox& b : e.boxes) {
      if (b.empty()) {
        ++degenerate;
        degenerate_files.insert(e.file);
      }
      for (double v : b.normalized) {
        if (v < 0.0 || v > 1.0) {
          ++out_of_range;
          break;
        }
      }
    }
    if (CountOnes(index->GtMap(e)) == 0) all_zero.insert(e.file);
  }
  EXPECT_EQ(degenerate, 18);
  EXPECT_EQ(out_of_range, 12);  // boxes with a -2.88e16 coordinate
  const std::set<std::string> expected_degenerate = {
      "UyCw7pCgYg8_000055", "M1P1xla8rg0_000000", "Db6Hjt0x28k_000056", "5VCZHHd4UKI_000098", "Fot4v0DdGyE_000020",
      "YBd5lEnpT_8_000000", "sYIymaJi6tc_000090", "UMidlzROhC0_000082", "qLVjaU5V9f0_000150", "7Soo7mXCnq0_000063",
      "pbVP6Z1c4_k_000420", "8_rFjamYo1Y_000022", "-ANxUxvGASw_000010", "2xBIHi3oqy4_000030", "P-NCCepeHdI_000125",
      "c-8SLUH5pp4_000030", "MKC9LvRivTM_000030", "REDLY6m3Muw_000042"};
  EXPECT_EQ(degenerate_files, expected_degenerate);
  EXPECT_EQ(all_zero, (std::set<std::string>{"MKC9LvRivTM_000030", "M1P1xla8rg0_000000"}));

  // MKC9LvRivTM_000030: its only box [0.396875, 0.6625, -2.88e16, 0.984375] -> (88, 148, 0, 220).
  const VggssEntry* mkc = index->Find("MKC9LvRivTM_000030");
  ASSERT_NE(mkc, nullptr);
  ASSERT_EQ(mkc->boxes.size(), 1u);
  EXPECT_EQ(mkc->boxes[0].x1, 88);
  EXPECT_EQ(mkc->boxes[0].y1, 148);
  EXPECT_EQ(mkc->boxes[0].x2, 0);
  EXPECT_EQ(mkc->boxes[0].y2, 220);
  // M1P1xla8rg0_000000: [0.26875, 1.0, 0.753125, 1.0] -> (60, 224, 168, 224): zero height.
  const VggssEntry* m1 = index->Find("M1P1xla8rg0_000000");
  ASSERT_NE(m1, nullptr);
  EXPECT_EQ(m1->boxes[0].y1, 224);
  EXPECT_EQ(m1->boxes[0].y2, 224);
  // c-8SLUH5pp4_000030: [1.0, 0.0, 1.0, 1.0] -> (224, 0, 224, 224): zero width, but the clip has other boxes.
  const VggssEntry* c8 = index->Find("c-8SLUH5pp4_000030");
  ASSERT_NE(c8, nullptr);
  EXPECT_EQ(c8->boxes[0].x1, 224);
  EXPECT_GT(CountOnes(index->GtMap(*c8)), 0);
  // Db6Hjt0x28k_000056: box 0 (86,192,156,0) is empty; box 1 [11,79,168,219] covers 157*140 = 21980 px.
  const VggssEntry* db6 = index->Find("Db6Hjt0x28k_000056");
  ASSERT_NE(db6, nullptr);
  EXPECT_TRUE(db6->boxes[0].empty());
  EXPECT_EQ(CountOnes(index->GtMap(*db6)), 21980);
  // zpWuikVorYg_000032: [0.403125, 0.253125, 0.6, 0.75] -> (90, 56, 134, 168): 44*112 = 4928 px.
  EXPECT_EQ(CountOnes(index->GtMap(*index->Find("zpWuikVorYg_000032"))), 4928);
}

TEST_F(RealVggssTest, CopiesInAllRepositoriesParseTheSame) {
  auto slavc = VggssIndex::Read(path_);
  ASSERT_TRUE(slavc.ok()) << slavc.status();
  for (const char* repo :
       {"EZ-VSL/metadata", "Localizing-Visual-Sounds-the-Hard-Way/metadata", "SSLalignment/metadata"}) {
    const std::string other_path = ReferenceDir() + "/" + repo + "/vggss.json";
    if (!Exists(other_path)) continue;
    auto other = VggssIndex::Read(other_path);
    ASSERT_TRUE(other.ok()) << other.status();
    ASSERT_EQ(other->size(), slavc->size()) << other_path;
    for (size_t i = 0; i < slavc->size(); ++i) {
      ASSERT_EQ(other->entries()[i].file, slavc->entries()[i].file) << other_path;
      ASSERT_EQ(other->entries()[i].boxes.size(), slavc->entries()[i].boxes.size()) << other_path;
    }
  }
}

}  // namespace
}  // namespace avsl::data
