// Tests of the Flickr-SoundNet XML reader and the consensus GT map, on hand-made annotation files. The real
// `Annotations/` folder is not published in any repository, so no real-file test is possible here.
#include "avsl/data/flickr_annotation.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reference_files.h"

namespace avsl::data {
namespace {

using ::testing::HasSubstr;
using testing::MakeTempDir;
using testing::WriteFile;

std::string Box(const std::string& first, const std::string& xmin, const std::string& ymin, const std::string& xmax,
                const std::string& ymax) {
  return "<bbox><label>" + first + "</label><xmin>" + xmin + "</xmin><ymin>" + ymin + "</ymin><xmax>" + xmax +
         "</xmax><ymax>" + ymax + "</ymax></bbox>";
}

// Counts pixels equal to `value`.
int Count(const Map2D& map, double value) {
  int n = 0;
  for (double v : map.values) n += (v == value);
  return n;
}

TEST(FlickrAnnotationTest, PositionalRuleAndScaling) {
  // The first field is skipped whatever its tag or text; the next four are read by position, not by name.
  const std::string xml = "<annotation><filename>123.jpg</filename><object>" + Box("x", "255", "37", "1", "256") +
                          "</object><object><bbox><a>9</a><d> 64 </d><c>+64</c><b>192</b><e>192</e></bbox>"
                          "</object></annotation>";
  auto a = ParseFlickrAnnotationXml(xml, "/data/Annotations/123.xml");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->id, "123");
  ASSERT_EQ(a->boxes.size(), 2u);
  const FlickrBox& b0 = a->boxes[0];
  EXPECT_EQ(b0.raw, (std::array<int, 4>{255, 37, 1, 256}));
  // int(224*255/256) = int(223.125) = 223; int(224*37/256) = int(32.375) = 32; int(224/256) = 0; 224*256/256 = 224.
  EXPECT_EQ(b0.xmin, 223);
  EXPECT_EQ(b0.ymin, 32);
  EXPECT_EQ(b0.xmax, 0);
  EXPECT_EQ(b0.ymax, 224);
  // 224*64/256 = 56, 224*192/256 = 168 (whitespace and a '+' sign are accepted, as by Python's int()).
  EXPECT_EQ(a->boxes[1].xmin, 56);
  EXPECT_EQ(a->boxes[1].ymin, 56);
  EXPECT_EQ(a->boxes[1].xmax, 168);
  EXPECT_EQ(a->boxes[1].ymax, 168);
}

TEST(FlickrAnnotationTest, TwoOverlappingBoxesGiveHalfAndOne) {
  // Box A raw (0,0,128,128) -> (0,0,112,112): 112*112 = 12544 px. Box B raw (64,64,192,192) -> (56,56,168,168):
  // 112*112 = 12544 px. Overlap [56,112)^2 = 56*56 = 3136 px at 1; each box alone 12544-3136 = 9408 px at 0.5,
  // so 18816 px at 0.5 and 224*224 - 3136 - 18816 = 28224 px at 0.
  const std::string xml = "<annotation><object>" + Box("1", "0", "0", "128", "128") +
                          Box("2", "64", "64", "192", "192") + "</object></annotation>";
  auto a = ParseFlickrAnnotationXml(xml, "ann.xml");
  ASSERT_TRUE(a.ok()) << a.status();
  const Map2D gt = FlickrGtMap(a->boxes);
  ASSERT_EQ(gt.height, 224);
  ASSERT_EQ(gt.width, 224);
  EXPECT_EQ(Count(gt, 1.0), 3136);
  EXPECT_EQ(Count(gt, 0.5), 18816);
  EXPECT_EQ(Count(gt, 0.0), 28224);
  EXPECT_EQ(gt.at(56, 56), 1.0);    // first overlap pixel
  EXPECT_EQ(gt.at(111, 111), 1.0);  // last overlap pixel
  EXPECT_EQ(gt.at(112, 111), 0.5);  // only B (rows end-exclusive at 112 for A)
  EXPECT_EQ(gt.at(55, 0), 0.5);     // only A
  EXPECT_EQ(gt.at(168, 168), 0.0);  // B ends before 168
}

TEST(FlickrAnnotationTest, ThreeAnnotatorsSaturateAtOne) {
  // Three identical boxes (8,8)-(16,16) in 224 px: sum 3 -> min(3/2, 1) = 1 on 8*8 = 64 px.
  std::vector<FlickrBox> boxes(3);
  for (FlickrBox& b : boxes) {
    b.xmin = b.ymin = 8;
    b.xmax = b.ymax = 16;
  }
  const Map2D gt = FlickrGtMap(boxes);
  EXPECT_EQ(Count(gt, 1.0), 64);
  EXPECT_EQ(Count(gt, 0.5), 0);
}

TEST(FlickrAnnotationTest, NumpySliceSemanticsForOddCoordinates) {
  EXPECT_EQ(PySliceRange(-28, 224, 224), (std::array<int, 2>{196, 224}));
  EXPECT_EQ(PySliceRange(10, 300, 224), (std::array<int, 2>{10, 224}));
  EXPECT_EQ(PySliceRange(-500, 5, 224), (std::array<int, 2>{0, 5}));
  // raw xmin -32 -> int(224*-32/256) = -28, which numpy reads as column 196: the box covers columns [196, 224)
  // on all 224 rows = 28*224 = 6272 px at 0.5 (checked with numpy: t[0:224, -28:224] = 1; t.sum() == 6272).
  auto a = ParseFlickrAnnotationXml("<r><o>" + Box("0", "-32", "0", "256", "256") + "</o></r>", "neg.xml");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->boxes[0].xmin, -28);
  const Map2D gt = FlickrGtMap(a->boxes);
  EXPECT_EQ(Count(gt, 0.5), 6272);
  EXPECT_EQ(gt.at(0, 196), 0.5);
  EXPECT_EQ(gt.at(0, 195), 0.0);
  // A reversed box is empty.
  FlickrBox reversed;
  reversed.xmin = 100;
  reversed.xmax = 50;
  reversed.ymin = 0;
  reversed.ymax = 224;
  EXPECT_EQ(Count(FlickrGtMap({reversed}), 0.0), 224 * 224);
}

TEST(FlickrAnnotationTest, NoBoxesGivesEmptyMap) {
  auto a = ParseFlickrAnnotationXml("<annotation><filename>1.jpg</filename></annotation>", "1.xml");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->boxes.empty());
  EXPECT_EQ(Count(FlickrGtMap(a->boxes), 0.0), 224 * 224);
}

TEST(FlickrAnnotationTest, NonBboxGrandchildIsAnErrorUnlessSkipped) {
  const std::string xml = "<annotation><object><name>dog</name>" + Box("1", "0", "0", "8", "8") +
                          "</object></annotation>";
  auto strict = ParseFlickrAnnotationXml(xml, "/d/Annotations/7.xml");
  ASSERT_FALSE(strict.ok());
  EXPECT_THAT(std::string(strict.status().message()), HasSubstr("/d/Annotations/7.xml"));
  EXPECT_THAT(std::string(strict.status().message()), HasSubstr("<name>"));
  FlickrAnnotationOptions options;
  options.skip_non_bbox_grandchildren = true;
  auto lenient = ParseFlickrAnnotationXml(xml, "/d/Annotations/7.xml", options);
  ASSERT_TRUE(lenient.ok()) << lenient.status();
  EXPECT_EQ(lenient->boxes.size(), 1u);
}

TEST(FlickrAnnotationTest, OtherGeometry) {
  // annotation_size 100, map_size 50: int(50*99/100) = int(49.5) = 49.
  FlickrAnnotationOptions options;
  options.annotation_size = 100;
  options.map_size = 50;
  auto a = ParseFlickrAnnotationXml("<r><o>" + Box("0", "99", "0", "100", "10") + "</o></r>", "g.xml", options);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->boxes[0].xmin, 49);
  EXPECT_EQ(a->boxes[0].xmax, 50);
  EXPECT_EQ(a->boxes[0].ymax, 5);
  EXPECT_EQ(FlickrGtMap(a->boxes, 50).size(), 2500u);
}

TEST(FlickrAnnotationErrorsTest, EachNamesTheFileAndTheProblem) {
  const std::string dir = MakeTempDir("flickr");
  struct Case {
    std::string name, xml, expected;
  } cases[] = {
      {"malformed.xml", "<annotation><object><bbox></object></annotation>", "malformed XML"},
      {"short.xml", "<annotation><object><bbox><l>1</l><x>1</x><y>2</y><X>3</X></bbox></object></annotation>",
       "<bbox> #0 has 4 fields, expected 5"},
      {"long.xml",
       "<a><o>" + Box("1", "1", "1", "2", "2") +
           "<bbox><l>1</l><x>1</x><y>1</y><X>2</X><Y>2</Y><z>3</z>"
           "</bbox></o></a>",
       "<bbox> #1 has 6 fields, expected 5"},
      {"float.xml", "<a><o>" + Box("1", "1", "12.5", "20", "20") + "</o></a>",
       "field 2 <ymin> is \"12.5\", expected an integer"},
      {"emptytext.xml", "<a><o>" + Box("1", "1", "2", "", "20") + "</o></a>",
       "field 3 <xmax> is \"\", expected an integer"},
      {"noroot.xml", "", "No document element found"},
  };
  for (const Case& c : cases) {
    const std::string path = dir + "/" + c.name;
    WriteFile(path, c.xml);
    auto a = ReadFlickrAnnotation(path);
    ASSERT_FALSE(a.ok()) << c.name;
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(std::string(a.status().message()), HasSubstr("flickr annotation " + path)) << c.name;
    EXPECT_THAT(std::string(a.status().message()), HasSubstr(c.expected)) << a.status();
  }
  auto missing = ReadFlickrAnnotation(dir + "/404.xml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(dir + "/404.xml"));
}

TEST(FlickrAnnotationDirTest, ReadsXmlFilesKeyedById) {
  const std::string dir = MakeTempDir("flickr");
  WriteFile(dir + "/111.xml", "<a><o>" + Box("1", "0", "0", "256", "256") + "</o></a>");
  WriteFile(dir + "/222.xml", "<a><o>" + Box("1", "0", "0", "8", "8") + Box("2", "0", "0", "8", "8") + "</o></a>");
  WriteFile(dir + "/notes.txt", "not xml");
  auto all = ReadFlickrAnnotationDir(dir);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(all->at("111").boxes.size(), 1u);
  EXPECT_EQ(all->at("222").boxes.size(), 2u);

  WriteFile(dir + "/111.copy.xml", "<a/>");  // the reference keys by split('.')[0]: also "111"
  auto dup = ReadFlickrAnnotationDir(dir);
  ASSERT_FALSE(dup.ok());
  EXPECT_THAT(std::string(dup.status().message()), HasSubstr("both have id 111"));

  auto none = ReadFlickrAnnotationDir(dir + "/absent");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(none.status().message()), HasSubstr(dir + "/absent"));
}

}  // namespace
}  // namespace avsl::data
