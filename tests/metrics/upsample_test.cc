#include "avsl/metrics/upsample.h"

#include <vector>

#include "gtest/gtest.h"

namespace avsl::metrics {
namespace {

// Expected values were generated once with /usr/bin/python3 (torch 1.13, float64):
//   x = torch.tensor([[((i*4+j)*37 % 11)*0.25 - 1.0 for j in range(4)] for i in range(3)], dtype=torch.float64)
//   F.interpolate(x[None,None], size=(5,7), mode=MODE, align_corners=AC)[0,0]
//   z = torch.tensor([[((i*7+j)*13 % 17)/17.0 for j in range(7)] for i in range(7)], dtype=torch.float64)
//   F.interpolate(z[None,None], size=(224,224), ...)[0,0][y,x] at (0,0),(5,17),(100,3),(223,223),(111,200)
Map2D Input3x4() {
  Map2D m(3, 4);
  m.values = {-1.0, 0.0, 1.0, -0.75, 0.25, 1.25, -0.5, 0.5, 1.5, -0.25, 0.75, -1.0};
  return m;
}

Map2D Input7x7() {
  Map2D m(7, 7);
  for (int i = 0; i < 7; ++i)
    for (int j = 0; j < 7; ++j) m.at(i, j) = ((i * 7 + j) * 13 % 17) / 17.0;
  return m;
}

void ExpectMap(const Map2D& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.values[i], want[i], tol) << "index " << i;
}

// Upsamples Input3x4() to 5×7 and compares with torch's output `want` (row-major) within `tol`.
void ExpectInput3x4To5x7(UpsampleMode mode, bool align_corners, const std::vector<double>& want, double tol) {
  auto out = Upsample(Input3x4(), 5, 7, mode, align_corners);
  ASSERT_TRUE(out.ok()) << out.status();
  ExpectMap(*out, want, tol);
}

TEST(UpsampleTest, NearestMatchesTorch) {
  ExpectInput3x4To5x7(
      UpsampleMode::kNearest, false,
      {-1,   -1,   0,   0,    1,    1,    -0.75, -1,   -1,   0,   0,   1,   1,     -0.75, 0.25, 0.25, 1.25, 1.25,
       -0.5, -0.5, 0.5, 0.25, 0.25, 1.25, 1.25,  -0.5, -0.5, 0.5, 1.5, 1.5, -0.25, -0.25, 0.75, 0.75, -1.0},
      0);
}

TEST(UpsampleTest, BilinearAlignCornersMatchesTorch) {
  ExpectInput3x4To5x7(UpsampleMode::kBilinear, true,
                      {-1.0,   -0.5,   0.0,     0.5,   1.0,  0.125, -0.75, -0.375, 0.125, 0.625,  0.4375, 0.25,
                       0.0625, -0.125, 0.25,    0.75,  1.25, 0.375, -0.5,  0.0,    0.5,   0.875,  0.6875, 0.5,
                       0.3125, 0.125,  -0.0625, -0.25, 1.5,  0.625, -0.25, 0.25,   0.75,  -0.125, -1.0},
                      1e-12);
}

TEST(UpsampleTest, BilinearHalfPixelMatchesTorch) {
  ExpectInput3x4To5x7(
      UpsampleMode::kBilinear, false,
      {-1.000000000000, -0.642857142857, -0.071428571429, 0.500000000000,  0.875000000000, -0.125000000000,
       -0.750000000000, -0.500000000000, -0.142857142857, 0.428571428571,  0.450000000000, 0.353571428571,
       -0.017857142857, -0.250000000000, 0.250000000000,  0.607142857143,  1.178571428571, 0.375000000000,
       -0.428571428571, 0.142857142857,  0.500000000000,  1.000000000000,  0.767857142857, 0.396428571429,
       0.300000000000,  0.203571428571,  -0.167857142857, -0.400000000000, 1.500000000000, 0.875000000000,
       -0.125000000000, 0.250000000000,  0.625000000000,  -0.375000000000, -1.000000000000},
      1e-11);
}

TEST(UpsampleTest, BicubicAlignCornersMatchesTorch) {
  ExpectInput3x4To5x7(
      UpsampleMode::kBicubic, true,
      {-1.000000000000, -0.593750000000, 0.000000000000,  0.757812500000,  1.000000000000, 0.218750000000,
       -0.750000000000, -0.492187500000, 0.196044921875,  0.765625000000,  0.578125000000, 0.132812500000,
       0.014892578125,  0.015625000000,  0.250000000000,  0.914062500000,  1.250000000000, 0.375000000000,
       -0.500000000000, -0.164062500000, 0.500000000000,  0.992187500000,  0.864013671875, 0.617187500000,
       0.276611328125,  -0.015625000000, -0.133544921875, -0.132812500000, 1.500000000000, 0.531250000000,
       -0.250000000000, 0.250000000000,  0.750000000000,  -0.031250000000, -1.000000000000},
      1e-11);
}

TEST(UpsampleTest, BicubicHalfPixelMatchesTorchIncludingOvershoot) {
  // Corner −1.2192 < min(input) = −1: bicubic overshoot, which the reference does not clip.
  ExpectInput3x4To5x7(
      UpsampleMode::kBicubic, false,
      {-1.219216472303, -0.856989795918, -0.235602040816, 0.794562500000,  1.087153790087, -0.106009475219,
       -1.069821975219, -0.723861333819, -0.180492438047, 0.536696337464,  0.618281250000, 0.288009566327,
       -0.008036352041, -0.205119989067, 0.150783527697,  0.698364613703,  1.273619715743, 0.375000000000,
       -0.523619715743, 0.051635386297,  0.599216472303,  1.172764850583,  0.888569150875, 0.473319150875,
       0.270937500000,  0.117009566327,  -0.179036352041, -0.376119989067, 1.819821975219, 0.856009475219,
       -0.337153790087, 0.238000000000,  0.813153790087,  -0.380009475219, -1.343821975219},
      1e-11);
}

TEST(UpsampleTest, SevenToTwoTwentyFourSpotChecksMatchTorch) {
  struct Case {
    UpsampleMode mode;
    bool ac;
    std::vector<double> want;
  };
  const int ys[] = {0, 5, 100, 223, 111};
  const int xs[] = {0, 17, 3, 223, 200};
  const std::vector<Case> cases = {
      {UpsampleMode::kBicubic, true, {0.0, 0.339745904511, 0.264282463924, 0.705882352941, 0.882381864878}},
      {UpsampleMode::kBicubic,
       false,
       {-0.117276962228, -0.006476512853, 0.205854937229, 0.717245326323, 0.723770999229}},
      {UpsampleMode::kBilinear, true, {0.0, 0.335723148879, 0.295784327526, 0.705882352941, 0.787918754946}},
      {UpsampleMode::kBilinear, false, {0.0, 0.035845588235, 0.291360294118, 0.705882352941, 0.696691176471}},
      {UpsampleMode::kNearest, false, {0.0, 0.0, 0.058823529412, 0.705882352941, 0.647058823529}},
  };
  for (const Case& c : cases) {
    auto out = Upsample(Input7x7(), 224, 224, c.mode, c.ac);
    ASSERT_TRUE(out.ok());
    for (int k = 0; k < 5; ++k) {
      EXPECT_NEAR(out->at(ys[k], xs[k]), c.want[k], 1e-11)
          << "mode " << static_cast<int>(c.mode) << " ac " << c.ac << " at " << ys[k] << "," << xs[k];
    }
  }
}

TEST(UpsampleTest, SameSizeIsIdentityForLinearModes) {
  Map2D in = Input3x4();
  for (auto mode : {UpsampleMode::kBilinear, UpsampleMode::kBicubic}) {
    for (bool ac : {true, false}) {
      auto out = Upsample(in, 3, 4, mode, ac);
      ASSERT_TRUE(out.ok());
      ExpectMap(*out, in.values, 1e-12);
    }
  }
}

TEST(UpsampleTest, ParsesModesAndRejectsUnknown) {
  EXPECT_EQ(*ParseUpsampleMode("bicubic"), UpsampleMode::kBicubic);
  EXPECT_EQ(*ParseUpsampleMode("bilinear"), UpsampleMode::kBilinear);
  EXPECT_EQ(*ParseUpsampleMode("nearest"), UpsampleMode::kNearest);
  auto bad = ParseUpsampleMode("area");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'area'"), std::string::npos);
}

TEST(UpsampleTest, RejectsEmptyInputAndNearestAlignCorners) {
  EXPECT_FALSE(Upsample(Map2D(), 224, 224, UpsampleMode::kBilinear, true).ok());
  EXPECT_FALSE(Upsample(Input3x4(), 224, 224, UpsampleMode::kNearest, true).ok());
}

}  // namespace
}  // namespace avsl::metrics
