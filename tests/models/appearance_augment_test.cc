// The SDK's MoCo-v2 appearance augmentation (avsl/models/appearance_augment.h, used by ssltie and sslalign): shape
// and pixel range kept, each part switchable, grayscale and the HSV round trip of the hue jitter, the recipe check.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "avsl/models/appearance_augment.h"

namespace avsl {
namespace {

using models::AppearanceOptions;
using models::AugmentAppearance;

double MaxDiff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

TEST(AppearanceAugmentTest, KeepsShapeAndRangeAndCanBeOff) {
  torch::manual_seed(6);
  const torch::Tensor mean = torch::tensor({0.485, 0.456, 0.406}).view({1, 3, 1, 1});
  const torch::Tensor sd = torch::tensor({0.229, 0.224, 0.225}).view({1, 3, 1, 1});
  const torch::Tensor frames = (torch::rand({6, 3, 20, 24}) - mean) / sd;
  const torch::Tensor out = AugmentAppearance(frames, AppearanceOptions());
  ASSERT_EQ(out.sizes(), frames.sizes());
  const torch::Tensor pixels = out * sd + mean;  // back in [0, 1]
  EXPECT_GE(pixels.min().item<double>(), -1e-5);
  EXPECT_LE(pixels.max().item<double>(), 1 + 1e-5);
  EXPECT_GT(MaxDiff(out, frames), 0.05);
  // Switched off: the same tensor.
  AppearanceOptions none;
  none.appearance = false;
  EXPECT_TRUE(AugmentAppearance(frames, none).is_same(frames));
  // Every part off: the frames come back unchanged (up to the float round trip of the normalization).
  AppearanceOptions off;
  off.crop_scale_min = 1;
  off.jitter_probability = off.grayscale_probability = off.blur_probability = 0;
  EXPECT_LT(MaxDiff(AugmentAppearance(frames, off), frames), 1e-5);
  // Grayscale always: the three channels are equal in pixel space.
  off.grayscale_probability = 1;
  const torch::Tensor gray = AugmentAppearance(frames, off) * sd + mean;
  EXPECT_LT(MaxDiff(gray.select(1, 0), gray.select(1, 2)), 1e-5);
  // A hue shift of a whole turn's zero keeps the colours (the HSV round trip).
  off.grayscale_probability = 0;
  off.jitter_probability = 1;
  off.brightness = off.contrast = off.saturation = 0;
  off.hue = 1e-9;
  EXPECT_LT(MaxDiff(AugmentAppearance(frames, off), frames), 1e-4);
}

}  // namespace
}  // namespace avsl
