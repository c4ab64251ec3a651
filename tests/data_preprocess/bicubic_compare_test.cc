// Measures OpenCV INTER_CUBIC against PIL's bicubic resize (the reference's torchvision Resize on PIL images)
// and OpenCV's JPEG decode against PIL's. Needs the images written by
// fixtures/make_bicubic_comparison.py in $AVSL_BICUBIC_DIR; skipped otherwise. Numbers go to
// docs/preprocessing.md.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "avsl/data/image_transform.h"
#include "gtest/gtest.h"

namespace avsl::data {
namespace {

struct Diff {
  int max = 0;
  double mean = 0;
};

Diff Compare(const RgbImage& a, const RgbImage& b) {
  Diff d;
  EXPECT_EQ(a.pixels.size(), b.pixels.size());
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size() && i < b.pixels.size(); ++i) {
    const int e = std::abs(int{a.pixels[i]} - int{b.pixels[i]});
    d.max = std::max(d.max, e);
    sum += e;
  }
  d.mean = sum / std::max<size_t>(1, a.pixels.size());
  return d;
}

TEST(BicubicCompareTest, OpenCvVersusPil) {
  const char* dir = std::getenv("AVSL_BICUBIC_DIR");
  if (dir == nullptr) GTEST_SKIP() << "set AVSL_BICUBIC_DIR (see fixtures/make_bicubic_comparison.py)";
  std::ifstream manifest(std::string(dir) + "/manifest.txt");
  ASSERT_TRUE(manifest.good());
  std::string line;
  while (std::getline(manifest, line)) {
    std::istringstream ss(line);
    std::string src_path, pil_path;
    int w = 0, h = 0;
    if (!(ss >> src_path >> pil_path >> w >> h)) continue;
    auto src = DecodeImageFile(src_path);
    auto pil = DecodeImageFile(pil_path);
    ASSERT_TRUE(src.ok() && pil.ok());
    ImageGeometry g;
    g.source_width = src->width;
    g.source_height = src->height;
    g.resized_width = g.crop_width = w;
    g.resized_height = g.crop_height = h;
    auto ours = ApplyGeometryRgb(*src, g);
    ASSERT_TRUE(ours.ok());
    const Diff d = Compare(*ours, *pil);
    std::printf("%-40s %4dx%-4d -> %4dx%-4d (%s)  max |diff| %3d  mean |diff| %.3f\n",
                src_path.substr(src_path.rfind('/') + 1).c_str(), src->width, src->height, w, h,
                (w < src->width ? "down" : "up"), d.max, d.mean);
  }
  auto jpg = DecodeImageFile(std::string(dir) + "/flickr_q90.jpg");
  auto pil_jpg = DecodeImageFile(std::string(dir) + "/flickr_q90_pil_decode.png");
  ASSERT_TRUE(jpg.ok() && pil_jpg.ok());
  const Diff d = Compare(*jpg, *pil_jpg);
  std::printf("JPEG decode OpenCV vs PIL (640x427, q90): max |diff| %d  mean |diff| %.4f\n", d.max, d.mean);
}

}  // namespace
}  // namespace avsl::data
