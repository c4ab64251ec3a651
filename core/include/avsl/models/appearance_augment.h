// The MoCo-v2 appearance augmentation as a batch operation on ImageNet-normalized frames: RandomResizedCrop(scale
// (crop_scale_min, 1), ratio (3/4, 4/3)), ColorJitter(brightness, contrast, saturation, hue) with a probability,
// RandomGrayscale, Gaussian blur (sigma ~ U[min, max]) with a probability, each frame drawn independently, as
// torchvision's transforms do in a loader. Methods that need a second, differently augmented view of a frame inside
// their step (ssltie: SSL-TIE's --img_aug moco_v2, sslalign: the augmentation positives) use it; it undoes the
// normalization, augments in [0, 1] and normalizes again. A library of the SDK.
#pragma once

#include <string>
#include <type_traits>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "avsl/core/component_config.h"
#include "avsl/core/export.h"
#include "avsl/core/options.h"

namespace avsl::models {

struct AppearanceOptions {
  bool appearance = true;       ///< false: the frames are left as they are
  double crop_scale_min = 0.3;  ///< RandomResizedCrop area fraction lower bound (1: no crop)
  double jitter_probability = 0.8;
  double brightness = 0.4, contrast = 0.4, saturation = 0.4, hue = 0.1;  ///< ColorJitter ranges
  double grayscale_probability = 0.2;
  double blur_probability = 0.5;
  double blur_sigma_min = 0.1, blur_sigma_max = 2.0;
};

/// Augments every frame of `image` [B,3,H,W] (ImageNet-normalized) independently, drawing from torch's default
/// generator; returns `image` itself when options.appearance is false. Not differentiable (an input augmentation).
AVSL_EXPORT torch::Tensor AugmentAppearance(const torch::Tensor& image, const AppearanceOptions& options);

/// Binds the AppearanceOptions part of a method's options `T` as recipe keys (appearance, crop_scale_min,
/// jitter_probability, brightness, contrast, saturation, hue, grayscale_probability, blur_probability,
/// blur_sigma_min, blur_sigma_max); `source` ends the switch's doc line. T's defaults are the schema's.
template <typename T>
void AddAppearanceOptions(Options<T>& o, const std::string& source) {
  static_assert(std::is_base_of_v<AppearanceOptions, T>, "AddAppearanceOptions: T derives from AppearanceOptions");
  o.Bool("appearance", &T::appearance,
         absl::StrCat("augment the frames' appearance (MoCo-v2: the keys crop_scale_min ... blur_sigma_max) (", source,
                      ")"));
  o.template Float<double>("crop_scale_min", &T::crop_scale_min,
                           "RandomResizedCrop's smallest area fraction, aspect ratio in (3/4, 4/3); 1 = no crop")
      .Range(0.01, 1);
  o.template Float<double>("jitter_probability", &T::jitter_probability, "ColorJitter is applied with this probability")
      .Range(0, 1);
  o.template Float<double>("brightness", &T::brightness, "ColorJitter brightness, a factor in [1 - b, 1 + b]")
      .Range(0, 1);
  o.template Float<double>("contrast", &T::contrast, "ColorJitter contrast").Range(0, 1);
  o.template Float<double>("saturation", &T::saturation, "ColorJitter saturation").Range(0, 1);
  o.template Float<double>("hue", &T::hue, "ColorJitter hue shift in [-h, h] of a turn").Range(0, 0.5);
  o.template Float<double>("grayscale_probability", &T::grayscale_probability, "RandomGrayscale probability")
      .Range(0, 1);
  o.template Float<double>("blur_probability", &T::blur_probability, "Gaussian blur probability").Range(0, 1);
  o.template Float<double>("blur_sigma_min", &T::blur_sigma_min, "Gaussian blur sigma lower bound, pixels")
      .Range(1e-3, 100);
  o.template Float<double>("blur_sigma_max", &T::blur_sigma_max, "Gaussian blur sigma upper bound, pixels")
      .Range(1e-3, 100);
}

/// blur_sigma_min <= blur_sigma_max; the error names the recipe keys under `config`.
AVSL_EXPORT absl::Status CheckAppearanceOptions(const AppearanceOptions& options, const ComponentConfig& config);

}  // namespace avsl::models
