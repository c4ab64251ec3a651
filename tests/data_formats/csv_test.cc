// Tests of the strict CSV/text reader shared by the dataset format readers.
#include "avsl/data/csv.h"

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reference_files.h"

namespace avsl::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ParseCsvTest, CrlfWithoutFinalNewline) {
  // The shape of SLAVC flickr_test.csv: CRLF endings and no line ending after the last record.
  auto rows = ParseCsv("10000130166,202\r\n10007936344,0", "t.csv");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_THAT((*rows)[0].fields, ElementsAre("10000130166", "202"));
  EXPECT_THAT((*rows)[1].fields, ElementsAre("10007936344", "0"));
  EXPECT_EQ((*rows)[1].line, 2);
}

TEST(ParseCsvTest, FinalNewlineDoesNotAddARecord) {
  auto lf = ParseCsv("a\nb\n", "t.csv");
  auto crlf = ParseCsv("a\r\nb\r\n", "t.csv");
  ASSERT_TRUE(lf.ok() && crlf.ok());
  EXPECT_EQ(lf->size(), 2u);
  EXPECT_EQ(crlf->size(), 2u);
  EXPECT_THAT((*crlf)[1].fields, ElementsAre("b"));
}

TEST(ParseCsvTest, QuotedFields) {
  // Record 1 spans lines 1-2 (a quoted line break), so record 2 starts on line 3.
  auto rows = ParseCsv("\"a,b\",\"say \"\"hi\"\"\",\"x\ny\"\r\nlast,\"\"", "q.csv");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_THAT((*rows)[0].fields, ElementsAre("a,b", "say \"hi\"", "x\ny"));
  EXPECT_EQ((*rows)[1].line, 3);
  EXPECT_THAT((*rows)[1].fields, ElementsAre("last", ""));
}

TEST(ParseCsvTest, EmptyTrailingFieldAndBom) {
  auto rows = ParseCsv("\xEF\xBB\xBFid,\nx,y", "b.csv");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT((*rows)[0].fields, ElementsAre("id", ""));
  EXPECT_THAT((*rows)[1].fields, ElementsAre("x", "y"));
}

TEST(ParseCsvTest, EmptyInputHasNoRecords) {
  auto rows = ParseCsv("", "e.csv");
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
}

TEST(ParseCsvTest, ErrorsNameSourceAndLine) {
  struct Case {
    std::string text, expected;
  } cases[] = {
      {"a\n\"open\nstill open", "bad.csv:2: unterminated quoted field"},
      {"a\nb\rc\n", "bad.csv:2: bare carriage return"},
      {"a\nb\"c\n", "bad.csv:2: '\"' inside an unquoted field"},
      {"\"a\"b\n", "bad.csv:1: unexpected character 'b' after a closing quote"},
      {"a\n\nb\n", "bad.csv:2: empty line"},
      {"a\r\n\r\n", "bad.csv:2: empty line"},
  };
  for (const Case& c : cases) {
    auto rows = ParseCsv(c.text, "bad.csv");
    ASSERT_FALSE(rows.ok()) << c.text;
    EXPECT_EQ(rows.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(rows.status().message()), HasSubstr(c.expected)) << c.text;
  }
}

TEST(ReadTextFileTest, MissingFileIsNotFoundAndNamesPath) {
  const std::string path = ::testing::TempDir() + "/avsl_csv_test_no_such_file.csv";
  auto text = ReadTextFile(path);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(text.status().message()), HasSubstr(path));
  auto rows = ReadCsvFile(path);
  EXPECT_THAT(std::string(rows.status().message()), HasSubstr(path));
}

TEST(ReadTextFileTest, ReadsBytesExactly) {
  const std::string path = ::testing::TempDir() + "/avsl_csv_test_bytes.csv";
  const std::string bytes("x,\"y\"\r\n\0z", 9);
  testing::WriteFile(path, bytes);
  auto text = ReadTextFile(path);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, bytes);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace avsl::data
