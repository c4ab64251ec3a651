#include "avsl/io/npy.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace avsl::io {
namespace {

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/avsl_npy_test_" + name; }

bool Contains(const absl::Status& s, const std::string& needle) {
  return std::string(s.message()).find(needle) != std::string::npos;
}

// Writes a v1.0 .npy by hand: magic, version, little-endian header length, header padded to 64, payload.
void WriteRaw(const std::string& path, const std::string& dict, const std::string& payload, char major = 1) {
  std::string header = dict;
  const size_t pre = major == 1 ? 10 : 12;
  while ((pre + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  f.write("\x93NUMPY", 6);
  f.put(major);
  f.put(0);
  const uint32_t len = header.size();
  f.put(static_cast<char>(len & 0xff));
  f.put(static_cast<char>((len >> 8) & 0xff));
  if (major != 1) {
    f.put(0);
    f.put(0);
  }
  f << header << payload;
}

TEST(NpyTest, Float32RoundTrip) {
  const std::string p = TempPath("f4.npy");
  const float data[6] = {0.5f, -1.25f, 3.0f, 1e-8f, 7.0f, -0.0f};
  ASSERT_TRUE(WriteNpy(p, data, {2, 3}).ok());
  auto a = ReadNpy(p);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->dtype, "<f4");
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(a->data[i], static_cast<double>(data[i]));
  // Header: 10-byte preamble + 60-char dict + '\n' = 71, padded to the next multiple of 64 = 128;
  // payload 6·4 = 24 bytes -> 152, the same size numpy's np.save gives for zeros((2,3), float32).
  std::ifstream f(p, std::ios::binary | std::ios::ate);
  EXPECT_EQ(static_cast<int>(f.tellg()), 128 + 24);
}

TEST(NpyTest, Float64RoundTripOneAndThreeDims) {
  const double d1[3] = {1.0 / 3, 2.0, -5.5};
  ASSERT_TRUE(WriteNpy(TempPath("f8_1d.npy"), d1, {3}).ok());
  auto a = ReadNpy(TempPath("f8_1d.npy"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->dtype, "<f8");
  EXPECT_EQ(a->shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(a->data, (std::vector<double>{1.0 / 3, 2.0, -5.5}));
  std::vector<double> d3(2 * 3 * 4);
  for (size_t i = 0; i < d3.size(); ++i) d3[i] = i * 0.5;
  ASSERT_TRUE(WriteNpy(TempPath("f8_3d.npy"), d3.data(), {2, 3, 4}).ok());
  auto b = ReadNpy(TempPath("f8_3d.npy"));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->shape, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(b->data, d3);
}

TEST(NpyTest, ReadsIntegerBoolAndVersion2ByHand) {
  const std::string p = TempPath("i4.npy");
  const int32_t ints[2] = {-7, 42};
  WriteRaw(p, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }",
           std::string(reinterpret_cast<const char*>(ints), 8));
  auto a = ReadNpy(p);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->data, (std::vector<double>{-7, 42}));
  WriteRaw(p, "{'descr': '|b1', 'fortran_order': False, 'shape': (1, 3), }", std::string("\x01\x00\x01", 3), 2);
  a = ReadNpy(p);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->data, (std::vector<double>{1, 0, 1}));
  EXPECT_EQ(a->shape, (std::vector<int64_t>{1, 3}));
}

TEST(NpyTest, ErrorsNameTheFile) {
  const std::string p = TempPath("bad.npy");
  WriteRaw(p, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }", std::string(4, '\0'));
  auto a = ReadNpy(p);
  ASSERT_FALSE(a.ok());
  EXPECT_TRUE(Contains(a.status(), p) && Contains(a.status(), "fortran_order")) << a.status();

  WriteRaw(p, "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", std::string(8, '\0'));
  a = ReadNpy(p);
  EXPECT_TRUE(Contains(a.status(), p) && Contains(a.status(), "big-endian")) << a.status();

  WriteRaw(p, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", std::string(8, '\0'));
  a = ReadNpy(p);
  EXPECT_TRUE(Contains(a.status(), p) && Contains(a.status(), "<c8")) << a.status();

  WriteRaw(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", std::string(12, '\0'));
  a = ReadNpy(p);
  EXPECT_TRUE(Contains(a.status(), p) && Contains(a.status(), "expected 16")) << a.status();

  // A header claiming far more data than the file holds (here 1e15 elements, 4e15 bytes; and a shape whose byte
  // count overflows 64 bits) is refused before anything is allocated.
  WriteRaw(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }", std::string(16, '\0'));
  a = ReadNpy(p);
  EXPECT_TRUE(Contains(a.status(), p) && Contains(a.status(), "payload has 16 bytes, expected 4000000000000000"))
      << a.status();
  WriteRaw(p, "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }",
           std::string(16, '\0'));
  a = ReadNpy(p);
  EXPECT_TRUE(Contains(a.status(), p) && Contains(a.status(), "payload has 16 bytes, expected more than 2^64"))
      << a.status();

  {
    std::ofstream f(p, std::ios::binary);
    f << "not numpy at all";
  }
  a = ReadNpy(p);
  EXPECT_TRUE(Contains(a.status(), p) && Contains(a.status(), "magic")) << a.status();

  a = ReadNpy(TempPath("does_not_exist.npy"));
  EXPECT_TRUE(absl::IsNotFound(a.status()));
  EXPECT_TRUE(Contains(a.status(), "does_not_exist.npy"));
}

TEST(NpyTest, ReadsFilesWrittenByNumpy) {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 with numpy not available";
  }
  const std::string dir = ::testing::TempDir();
  const std::string cmd = "/usr/bin/python3 -c \"import numpy as np; d='" + dir +
                          "'; a=np.arange(12, dtype=np.float32).reshape(3,4)/8; np.save(d+'/avsl_np_f4.npy', a); "
                          "np.save(d+'/avsl_np_f8.npy', a.astype(np.float64)[None,None]*3); "
                          "np.save(d+'/avsl_np_u1.npy', np.array([[0,255],[7,8]], dtype=np.uint8)); "
                          "np.save(d+'/avsl_np_i8.npy', np.array([-3, 5], dtype=np.int64)); "
                          "np.save(d+'/avsl_np_fortran.npy', np.asfortranarray(a)); "
                          "np.lib.format.write_array(open(d+'/avsl_np_v2.npy','wb'), a, version=(2,0))\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto f4 = ReadNpy(dir + "/avsl_np_f4.npy");
  ASSERT_TRUE(f4.ok()) << f4.status();
  EXPECT_EQ(f4->shape, (std::vector<int64_t>{3, 4}));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(f4->data[i], i / 8.0);  // exact in binary
  auto f8 = ReadNpy(dir + "/avsl_np_f8.npy");
  ASSERT_TRUE(f8.ok());
  EXPECT_EQ(f8->shape, (std::vector<int64_t>{1, 1, 3, 4}));
  EXPECT_EQ(f8->data[11], 11 / 8.0 * 3);
  auto u1 = ReadNpy(dir + "/avsl_np_u1.npy");
  ASSERT_TRUE(u1.ok()) << u1.status();
  EXPECT_EQ(u1->data, (std::vector<double>{0, 255, 7, 8}));
  auto i8 = ReadNpy(dir + "/avsl_np_i8.npy");
  ASSERT_TRUE(i8.ok());
  EXPECT_EQ(i8->data, (std::vector<double>{-3, 5}));
  auto v2 = ReadNpy(dir + "/avsl_np_v2.npy");
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->data, f4->data);
  auto fo = ReadNpy(dir + "/avsl_np_fortran.npy");
  EXPECT_FALSE(fo.ok());
  EXPECT_TRUE(Contains(fo.status(), "avsl_np_fortran.npy"));
}

TEST(NpyTest, NumpyReadsOurFiles) {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 with numpy not available";
  }
  const std::string p = TempPath("for_numpy.npy");
  const float data[4] = {1.5f, -2.0f, 0.25f, 8.0f};
  ASSERT_TRUE(WriteNpy(p, data, {2, 2}).ok());
  const std::string cmd = "/usr/bin/python3 -c \"import numpy as np, sys; a=np.load('" + p +
                          "'); sys.exit(0 if a.dtype==np.float32 and a.shape==(2,2) and "
                          "a.tolist()==[[1.5,-2.0],[0.25,8.0]] else 1)\"";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

}  // namespace
}  // namespace avsl::io
