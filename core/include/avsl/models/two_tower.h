// The two-tower localizer that most contrastive methods share, as an SDK block a plugin uses whole or subclasses:
//   image encoder -> 1x1 conv projection -> L2-normalized map v [B,D,h,w]
//   audio encoder -> pooled vector -> linear projection -> L2-normalized vector a [B,D]
//   map S[n] = <v[n,:,h,w], a[n]> / tau, in [-1/tau, 1/tau]
// trained by default with EZ-VSL's multiple-instance InfoNCE (avsl/models/objectives.h); a variant overrides
// Objective() and nothing else. With the defaults this *is* EZ-VSL (ezvsl.EZVSL registers it), submodule names,
// initialization and random-number order included, so EZ-VSL checkpoints load into any subclass.
// A library of the SDK (may change between minor versions; avsl/core is the stable part).
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/encoder.h"
#include "avsl/core/export.h"
#include "avsl/core/method.h"
#include "avsl/core/options.h"
#include "avsl/core/status_macros.h"

namespace avsl::models {

/// The recipe keys of a two-tower method. A variant's options struct derives from it and adds its own members.
struct TwoTowerOptions {
  int64_t dim = 512;         ///< embedding size of both projections
  double tau = 0.03;         ///< temperature dividing the cosine similarity
  double dropout_img = 0.0;  ///< dropout on the image backbone's map, before the projection (training only)
  double dropout_aud = 0.0;  ///< dropout on the pooled audio vector, before the projection (training only)
};

/// Declares the two-tower keys on `options` (T derives from TwoTowerOptions): image_encoder, audio_encoder
/// (default core.ResNet18Image / core.ResNet18Audio), dim and tau, with EZ-VSL's defaults.
template <typename T>
void AddTwoTowerOptions(Options<T>& options) {
  static_assert(std::is_base_of_v<TwoTowerOptions, T>, "AddTwoTowerOptions: T must derive from TwoTowerOptions");
  options.schema().Component("image_encoder", ComponentKind::kEncoder, "core.ResNet18Image",
                             "image backbone returning a [B,C,h,w] map (reference: ImageNet ResNet18, 7x7 at 224)");
  options.schema().Component("audio_encoder", ComponentKind::kEncoder, "core.ResNet18Audio",
                             "audio backbone returning a pooled [B,C,1,1] vector (reference: ResNet18, max pool)");
  options.Int("dim", static_cast<int64_t T::*>(&TwoTowerOptions::dim), "embedding size of both projections (512)")
      .Range(1, 65536);
  options.Float("tau", static_cast<double T::*>(&TwoTowerOptions::tau), "temperature dividing the cosine (0.03)")
      .Range(1e-4, 10);
}

/// Declares dropout_img and dropout_aud (FNAC's and SLAVC's element-wise dropout on the backbone outputs, before the
/// projections), defaults from T (a variant sets them in its constructor). EZ-VSL has none, so AddTwoTowerOptions
/// leaves them at 0.
template <typename T>
void AddTwoTowerDropoutOptions(Options<T>& options) {
  static_assert(std::is_base_of_v<TwoTowerOptions, T>, "AddTwoTowerDropoutOptions: T must derive from TwoTowerOptions");
  options
      .Float("dropout_img", static_cast<double T::*>(&TwoTowerOptions::dropout_img),
             "dropout probability on the image backbone's map before the projection (training only)")
      .Range(0, 0.999);
  options
      .Float("dropout_aud", static_cast<double T::*>(&TwoTowerOptions::dropout_aud),
             "dropout probability on the pooled audio vector before the projection (training only)")
      .Range(0, 0.999);
}

/// L2-normalized embeddings of one batch.
struct TwoTowerEmbedding {
  torch::Tensor image;  ///< v [B,D,h,w]
  torch::Tensor audio;  ///< a [B,D]
};

class AVSL_EXPORT TwoTowerLocalizer : public Method {
 public:
  /// `type_name` (the registered type, e.g. "ezvsl.EZVSL") prefixes shape errors. Heads are initialized as EZ-VSL's
  /// reference does: conv kaiming_normal(fan_out, relu), linear weight normal(0, 0.01), default biases.
  TwoTowerLocalizer(std::shared_ptr<Encoder> image_encoder, std::shared_ptr<Encoder> audio_encoder,
                    const TwoTowerOptions& options, std::string type_name);

  /// {Objective(...).loss, its logs, the differentiable maps S[n] of this forward}.
  StepOutput TrainStep(const Batch& batch) override;
  /// maps S[n] = cos / tau with the theoretical range [-1/tau, 1/tau] (the evaluator's fixed-range normalization)
  /// and no native confidence.
  Localization Localize(const Batch& batch) override;

  /// Both towers on one batch (with the dropouts while training).
  TwoTowerEmbedding Embed(const Batch& batch);
  double tau() const { return tau_; }
  const std::string& type_name() const { return type_name_; }

 protected:
  /// The training objective on this batch's embeddings; `loss` must be a differentiable scalar, `maps` is ignored.
  /// Default: MilContrastiveLoss, logging pos_cos and neg_cos (CosineDiagnostics).
  virtual StepOutput Objective(const TwoTowerEmbedding& embedding, const Batch& batch);

 private:
  double tau_;
  double dropout_img_, dropout_aud_;
  std::string type_name_;
  std::shared_ptr<Encoder> image_encoder_, audio_encoder_;
  torch::nn::Conv2d img_proj_{nullptr};
  torch::nn::Linear aud_proj_{nullptr};
};

/// The factory body of a two-tower method M constructible as M(image_encoder, audio_encoder, const T&): reads the
/// options, builds both encoders from the recipe and constructs M. Register it as
///   [options](const ComponentConfig& c) { return BuildTwoTower<MyMethod>(options, c); }
template <typename M, typename T>
absl::StatusOr<std::shared_ptr<Method>> BuildTwoTower(const Options<T>& options, const ComponentConfig& config) {
  const T values = options.Read(config);
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> image, BuildSub<Encoder>(config, "image_encoder"));
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> audio, BuildSub<Encoder>(config, "audio_encoder"));
  return std::shared_ptr<Method>(std::make_shared<M>(std::move(image), std::move(audio), values));
}

}  // namespace avsl::models
