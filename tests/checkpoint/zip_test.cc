#include <dirent.h>

#include <cstdint>
#include <string>
#include <vector>

#include "avsl/checkpoint/zip_reader.h"
#include "avsl/checkpoint/zip_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace avsl::checkpoint {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MakeTempDir;
using testing::ReadFile;
using testing::WriteFile;

// Bit-by-bit CRC-32, independent of the table-driven one under test.
uint32_t SlowCrc(const std::string& s) {
  uint32_t c = 0xFFFFFFFF;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
  }
  return ~c;
}

void Le(std::string& s, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  return names;
}

std::string WriteSample(const std::string& path) {
  ZipWriter w(path);
  EXPECT_TRUE(w.Add("a/data.pkl", "12345").ok());
  EXPECT_TRUE(w.Add("a/data/0", std::string(100, '\x07')).ok());
  EXPECT_TRUE(w.Add("a/empty", "").ok());
  EXPECT_TRUE(w.Add("a/check", "123456789").ok());
  EXPECT_TRUE(w.Finish().ok());
  return path;
}

TEST(ZipTest, CrcOfTheStandardCheckString) {
  // CRC-32 of "123456789" is the catalogued check value 0xCBF43926.
  EXPECT_EQ(SlowCrc("123456789"), 0xCBF43926u);
}

TEST(ZipTest, WriterOutputReadsBackAligned) {
  const std::string dir = MakeTempDir();
  const std::string path = WriteSample(dir + "/x.zip");
  auto r = ZipReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->names(), ElementsAre("a/data.pkl", "a/data/0", "a/empty", "a/check"));
  EXPECT_EQ(*r->Read("a/data.pkl"), "12345");
  EXPECT_EQ(*r->Read("a/data/0"), std::string(100, '\x07'));
  EXPECT_EQ(*r->Read("a/empty"), "");
  EXPECT_EQ(r->Find("a/check")->crc32, 0xCBF43926u);
  for (const std::string& n : r->names()) EXPECT_EQ(r->Find(n)->data_offset % 64, 0u) << n;
  // Only the final file remains: the temporary was renamed.
  EXPECT_THAT(ListDir(dir), ElementsAre("x.zip"));
}

TEST(ZipTest, PythonZipfileAcceptsWriterOutput) {
  const std::string dir = MakeTempDir();
  const std::string path = WriteSample(dir + "/x.zip");
  std::string out;
  const int rc = testing::RunPython(
      "-c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; "
      "print(\",\".join(i.filename + \"=\" + str(i.file_size) for i in z.infolist()))' " +
          path,
      &out);
  if (rc != 0 && out.find("No such file") != std::string::npos) GTEST_SKIP() << "no /usr/bin/python3: " << out;
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "a/data.pkl=5,a/data/0=100,a/empty=0,a/check=9\n");
}

TEST(ZipTest, UnfinishedWriterLeavesNothing) {
  const std::string dir = MakeTempDir();
  {
    ZipWriter w(dir + "/x.zip");
    ASSERT_TRUE(w.Add("a/b", "data").ok());
  }
  EXPECT_TRUE(ListDir(dir).empty());
}

TEST(ZipTest, WriterRejectsDuplicatesAndBadDirectory) {
  const std::string dir = MakeTempDir();
  ZipWriter w(dir + "/x.zip");
  ASSERT_TRUE(w.Add("a/b", "1").ok());
  auto s = w.Add("a/b", "2");
  EXPECT_THAT(s.message(), HasSubstr("duplicate entry 'a/b'"));
  EXPECT_THAT(s.message(), HasSubstr(dir + "/x.zip"));

  ZipWriter bad(dir + "/no/such/dir/y.zip");
  EXPECT_THAT(bad.Add("a", "1").message(), HasSubstr("no/such/dir/y.zip"));
}

TEST(ZipTest, MissingFileNamesThePath) {
  auto r = ZipReader::Open("/nonexistent/avsl/w.pt");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("/nonexistent/avsl/w.pt"));
}

TEST(ZipTest, NotAZip) {
  auto r = ZipReader::FromBytes("hello world, not a zip", "/tmp/notes.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("/tmp/notes.txt"));
  EXPECT_THAT(r.status().message(), HasSubstr("not a zip archive"));
  EXPECT_THAT(r.status().message(), HasSubstr("[68 65 6c 6c]"));  // "hell"
}

TEST(ZipTest, LegacyTorchSaveIsExplained) {
  // Legacy torch.save streams start with PROTO 2 then LONG1 of the magic number.
  auto r = ZipReader::FromBytes(std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15), "old.pt");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("legacy"));
  EXPECT_THAT(r.status().message(), HasSubstr("old.pt"));
}

TEST(ZipTest, TruncatedArchive) {
  const std::string dir = MakeTempDir();
  const std::string whole = ReadFile(WriteSample(dir + "/x.zip"));
  for (size_t keep : {whole.size() / 2, whole.size() - 1, size_t{40}}) {
    auto r = ZipReader::FromBytes(whole.substr(0, keep), "cut.pt");
    ASSERT_FALSE(r.ok()) << keep;
    EXPECT_THAT(r.status().message(), HasSubstr("cut.pt"));
    EXPECT_THAT(r.status().message(), HasSubstr("truncated"));
  }
}

TEST(ZipTest, CorruptDataFailsTheCrcCheck) {
  const std::string dir = MakeTempDir();
  std::string bytes = ReadFile(WriteSample(dir + "/x.zip"));
  auto clean = ZipReader::FromBytes(bytes, "x.zip");
  ASSERT_TRUE(clean.ok());
  bytes[clean->Find("a/data/0")->data_offset + 10] ^= 0x40;
  auto r = ZipReader::FromBytes(bytes, "flipped.pt");
  ASSERT_TRUE(r.ok()) << r.status();
  auto data = r->Read("a/data/0");
  EXPECT_THAT(data.status().message(), HasSubstr("CRC-32"));
  EXPECT_THAT(data.status().message(), HasSubstr("flipped.pt"));
  EXPECT_TRUE(r->Read("a/data/0", /*verify_crc=*/false).ok());
  EXPECT_THAT(r->Read("a/nope").status().message(), HasSubstr("no entry 'a/nope'"));
}

// The fields a local and a central header share, from the compression method to the name length. Both
// sizes are 0xFFFFFFFF: the real ones are in the zip64 extra field.
void SharedHeaderFields(std::string& z, uint16_t method, const std::string& name, const std::string& data) {
  Le(z, method, 2);
  Le(z, 0, 4);  // time, date
  Le(z, SlowCrc(data), 4);
  Le(z, 0xFFFFFFFF, 4);
  Le(z, 0xFFFFFFFF, 4);
  Le(z, name.size(), 2);
}

// The zip64 extended-information extra field (id 1): uncompressed and compressed size, then in a central
// header the local header offset.
void Zip64ExtraField(std::string& z, uint64_t size, bool with_offset) {
  Le(z, 1, 2);
  Le(z, with_offset ? 24 : 16, 2);
  Le(z, size, 8);
  Le(z, size, 8);
  if (with_offset) Le(z, 0, 8);  // local header offset
}

// A one-entry archive whose sizes and offset live only in zip64 fields, as writers emit for >4 GiB files.
std::string Zip64Archive(const std::string& name, const std::string& data, uint16_t method) {
  std::string z;
  Le(z, 0x04034b50, 4);
  Le(z, 45, 2);  // version needed
  Le(z, 0, 2);   // flags
  SharedHeaderFields(z, method, name, data);
  Le(z, 20, 2);  // extra field length
  z += name;
  Zip64ExtraField(z, data.size(), /*with_offset=*/false);
  z += data;
  const uint64_t cd = z.size();
  Le(z, 0x02014b50, 4);
  Le(z, 45, 2);  // version made by
  Le(z, 45, 2);  // version needed
  Le(z, 0, 2);   // flags
  SharedHeaderFields(z, method, name, data);
  Le(z, 28, 2);          // extra field length
  Le(z, 0, 2);           // comment length
  Le(z, 0, 2);           // disk
  Le(z, 0, 2);           // internal attributes
  Le(z, 0, 4);           // external attributes
  Le(z, 0xFFFFFFFF, 4);  // local header offset, in the zip64 field
  z += name;
  Zip64ExtraField(z, data.size(), /*with_offset=*/true);
  const uint64_t cd_size = z.size() - cd;
  const uint64_t z64 = z.size();
  Le(z, 0x06064b50, 4);
  Le(z, 44, 8);
  Le(z, 45, 2);
  Le(z, 45, 2);
  Le(z, 0, 4);
  Le(z, 0, 4);
  Le(z, 1, 8);
  Le(z, 1, 8);
  Le(z, cd_size, 8);
  Le(z, cd, 8);
  Le(z, 0x07064b50, 4);
  Le(z, 0, 4);
  Le(z, z64, 8);
  Le(z, 1, 4);
  Le(z, 0x06054b50, 4);
  Le(z, 0, 4);
  Le(z, 0xFFFF, 2);
  Le(z, 0xFFFF, 2);
  Le(z, 0xFFFFFFFF, 4);
  Le(z, 0xFFFFFFFF, 4);
  Le(z, 0, 2);
  return z;
}

TEST(ZipTest, Zip64FieldsAreRead) {
  auto r = ZipReader::FromBytes(Zip64Archive("big/data/0", "zip64 payload", 0), "z64.pt");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->names(), ElementsAre("big/data/0"));
  EXPECT_EQ(*r->Read("big/data/0"), "zip64 payload");
  // 30-byte local header + 10-byte name + 20-byte zip64 extra field.
  EXPECT_EQ(r->Find("big/data/0")->data_offset, 60u);
}

TEST(ZipTest, CompressedEntryIsRefusedByName) {
  auto r = ZipReader::FromBytes(Zip64Archive("a/data.pkl", "xx", 8), "deflated.pt");
  ASSERT_TRUE(r.ok()) << r.status();
  auto data = r->Read("a/data.pkl");
  EXPECT_EQ(data.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(data.status().message(), HasSubstr("'a/data.pkl' is compressed (method 8)"));
  EXPECT_THAT(data.status().message(), HasSubstr("deflated.pt"));
}

}  // namespace
}  // namespace avsl::checkpoint
