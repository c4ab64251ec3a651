// OGL, object-guided localization (EZ-VSL's and SLAVC's test.py): a frozen ImageNet ResNet18's layer4 activation
// magnitude as an object prior, and the two published ways of mixing it with an audio-visual map. Free
// functions so the arithmetic is testable on tensors; the plugin's components are thin wrappers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "avsl/models/resnet.h"

namespace avsl::plugins::ogl {

/// EZ-VSL test.py: per-sample min-max, alpha 0.4, re-normalized after mixing; bilinear, align_corners=True.
/// SLAVC test.py: fixed ranges ([-1/tau, 1/tau] for AV, [0, 2.5] for the prior), alpha 0.9, no re-normalization;
/// bicubic, align_corners=True.
enum class Convention { kEzvsl, kSlavc };

/// The reference alpha of a convention: 0.4 (EZ-VSL) or 0.9 (SLAVC README and scripts).
double DefaultAlpha(Convention convention);

/// NormReducer: mean |activation| over channels. [B,C,h,w] -> [B,h,w].
torch::Tensor Objectness(const torch::Tensor& layer4);

/// [B,h,w] -> [B,size,size] with the convention's interpolation (see Convention).
torch::Tensor UpsampleMaps(const torch::Tensor& maps, int64_t size, Convention convention);

/// EZ-VSL: minmax(alpha * minmax(av) + (1 - alpha) * minmax(obj)), with avsl::models::MinMaxPerSample (a flat
/// sample is left unchanged, as utils.normalize_img does).
torch::Tensor CombineEzvsl(const torch::Tensor& av, const torch::Tensor& obj, double alpha);

/// SLAVC: alpha * (av - av_min) / (av_max - av_min) + (1 - alpha) * obj / obj_max.
torch::Tensor CombineSlavc(const torch::Tensor& av, const torch::Tensor& obj, double alpha, double av_min,
                           double av_max, double obj_max);

/// Mean of the top ceil(n * fraction) values of each sample's map: [B,H,W] -> [B] (SLAVC's confidence at 0.25).
torch::Tensor TopFractionMean(const torch::Tensor& maps, double fraction);

/// The frozen prior network: torchvision ResNet18 (width 64) loaded from a state_dict file, always in eval mode,
/// never trained. `input_size` > 0 resizes images (bilinear) to input_size x input_size before the network.
class PriorNetwork {
 public:
  /// Loads `weights` strictly (fc.* skipped). `recipe_key` names the option in messages ("model.weights").
  /// Building does not consume the global torch RNG, so wrapping a method in OGL leaves its initialization as is.
  static absl::StatusOr<std::shared_ptr<PriorNetwork>> Load(const std::string& weights, const std::string& recipe_key,
                                                            int64_t input_size);
  /// [B,3,H,W] ImageNet-normalized images -> [B,h,w] objectness (no gradient), on the images' device.
  torch::Tensor Maps(const torch::Tensor& images);

 private:
  std::shared_ptr<models::ResNet> net_;
  int64_t input_size_ = 0;
};

/// The message for a missing weights file: what it must hold and the one-line Python that makes it.
std::string MissingWeightsMessage(const std::string& recipe_key);

}  // namespace avsl::plugins::ogl
