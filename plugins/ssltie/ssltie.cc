// ssltie: SSL-TIE (Liu et al., ACM MM 2022) as an avsl method, following jinxiang-liu/SSL-TIE @c49e6a9 (README.md
// lists what is the reference's and what departs). The network is LVS's AVENet (the SDK's LVS parts: no projection
// heads, the L2-normalized image map against the max-pooled, L2-normalized audio vector); a step augments the batch's
// appearance once (the SDK's appearance_augment.h), makes view 2 = T(view 1) with a random rotation, scale and flip
// (geometric_transform.h), and trains on both views' LVS losses plus the equivariance of the map (ssltie_loss.h).
// Localization is view 1's cosine map, as the reference's test.
#include <torch/torch.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/encoder.h"
#include "avsl/core/method.h"
#include "avsl/core/options.h"
#include "avsl/core/plugin_abi.h"
#include "avsl/core/rank_group.h"
#include "avsl/core/status_macros.h"
#include "avsl/models/appearance_augment.h"
#include "avsl/models/lvs_loss.h"
#include "avsl/models/lvs_method_parts.h"
#include "geometric_transform.h"
#include "ssltie_loss.h"

namespace avsl::plugins::ssltie {
namespace {

// The loss options (LVS's, the released constants), the view transform and the appearance augmentation (the SDK's
// MoCo-v2 operation, SSL-TIE's --img_aug moco_v2 defaults).
struct SslTieOptions : models::LvsLossOptions, models::AppearanceOptions {
  std::string confidence = "generic";
  double equivariance_weight = 1.0;
  bool l1 = false;
  bool detach_target = false;
  std::vector<double> scales = {1.0, 0.5};
  int64_t max_angle = 30;
  double flip_probability = 0.5;
};

class SslTie final : public Method {
 public:
  SslTie(std::shared_ptr<Encoder> image_encoder, std::shared_ptr<Encoder> audio_encoder, SslTieOptions options,
         std::string path)
      : options_(std::move(options)), path_(std::move(path)) {
    // AVENet's attribute names (the reference model is LVS's), as lvs.LVS: an LVS checkpoint loads into SSL-TIE.
    imgnet_ = register_module("imgnet", std::move(image_encoder));
    audnet_ = register_module("audnet", std::move(audio_encoder));
    loss_.lvs = options_;
    loss_.equivariance_weight = options_.equivariance_weight;
    loss_.l1 = options_.l1;
    loss_.detach_target = options_.detach_target;
    geometry_.scales = options_.scales;
    geometry_.max_angle = options_.max_angle;
    geometry_.flip_probability = options_.flip_probability;
  }

  StepOutput TrainStep(const Batch& batch) override {
    namespace F = torch::nn::functional;
    Batch view1 = batch;
    // The reference's loader augments once; view 2 is made from the augmented frame.
    view1.image = models::AugmentAppearance(batch.image, options_);
    const models::LvsEmbedding e = models::LvsEmbed(*imgnet_, *audnet_, view1, "ssltie.SSLTIE");
    const GeometricTransform t = SampleGeometricTransform(view1.image.size(0), view1.image.size(2), view1.image.size(3),
                                                          geometry_);
    // int(size * scale) must leave view 2 and its map at least one cell (a map of h x w at scale s is int(h s)).
    TORCH_CHECK(static_cast<int64_t>(static_cast<double>(std::min(e.image.size(2), e.image.size(3))) * t.scale) >= 1,
                "recipe key '", path_, ".scales': scale ", t.scale, " shrinks the ", e.image.size(2), "x",
                e.image.size(3), " map of a ", view1.image.size(2), "x", view1.image.size(3),
                " frame to nothing; use scales >= 1/", std::min(e.image.size(2), e.image.size(3)));
    // The reference passes the audio through audnet again for view 2: the same input, so the same features.
    const torch::Tensor image2 = F::normalize(imgnet_->Forward(WarpLikeSslTie(view1.image, t)),
                                              F::NormalizeFuncOptions().dim(1));
    const GatheredRows audio = GatherNegatives(e.audio);  // train.global_negatives: every rank's audios
    const SslTieLossTerms l = SslTieLoss(e.image, image2, e.audio, t, loss_,
                                         audio.gathered ? audio.all : torch::Tensor(), audio.offset);
    return {l.total,
            {{"loss_view1", l.view1.item<double>()},
             {"loss_view2", l.view2.item<double>()},
             {"loss_equivariance", l.equivariance.item<double>()},
             {"positive_cos", l.positive1.detach().mean().item<double>()},
             {"view2_scale", t.scale}},
            {}};
  }

  Localization Localize(const Batch& batch) override {  // view 1's cosine map, the reference's heatmap A
    return models::LvsLocalize(*imgnet_, *audnet_, batch, "ssltie.SSLTIE", options_.confidence, options_);
  }

 private:
  SslTieOptions options_;
  std::string path_;  // the recipe path of this method (errors name its keys)
  SslTieLossOptions loss_;
  GeometricTransformOptions geometry_;
  std::shared_ptr<Encoder> imgnet_, audnet_;
};

Options<SslTieOptions> SslTieSchema() {
  Options<SslTieOptions> o(
      "SSL-TIE (jinxiang-liu/SSL-TIE @c49e6a9): LVS's AVENet and loss on two views, view 2 = T(view 1), plus the "
      "equivariance of the map; map = view 1's cosine map");
  models::AddAvenetOptions(o, "SSL-TIE models/model.py, LVS's");
  o.Float("equivariance_weight", &SslTieOptions::equivariance_weight,
          "weight of the equivariance term MSE(A2, T(A1)) (--trans_equi_weight)")
      .Range(0, 1e6);
  o.Choice("equivariance_loss", &SslTieOptions::l1, {{"mse", false}, {"l1", true}},
           "distance between A2 and T(A1) (--equi_loss_type mse | l1loss)");
  o.Bool("detach_target", &SslTieOptions::detach_target,
         "no gradient through T(A1) (--heatmap_no_grad; the reference's default is false)");
  o.FloatArray("scales", &SslTieOptions::scales,
               "view 2's scale, one drawn per batch uniformly from this list (tf_equivariance_loss.py: 1.0 or 0.5)");
  o.Int("max_angle", &SslTieOptions::max_angle,
        "view 2's rotation, an integer number of degrees per sample in [-max_angle, max_angle] "
        "(--max_rotation_angle 30 in the train scripts)")
      .Range(0, 180);
  o.Float("flip_probability", &SslTieOptions::flip_probability, "view 2 is mirrored, per batch, with this probability")
      .Range(0, 1);
  models::AddAppearanceOptions(o, "SSL-TIE --img_aug moco_v2, applied once for both views");
  return o;
}

absl::StatusOr<std::shared_ptr<Method>> MakeSslTie(const Options<SslTieOptions>& options, const ComponentConfig& c) {
  const SslTieOptions opt = options.Read(c);
  if (opt.scales.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("recipe key '", c.path(), ".scales': expected at least one scale"));
  }
  for (double s : opt.scales) {
    if (!(s > 0 && s <= 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("recipe key '", c.path(), ".scales': expected scales in (0, 1], got ", s));
    }
  }
  AVSL_RETURN_IF_ERROR(models::CheckAppearanceOptions(opt, c));
  AVSL_ASSIGN_OR_RETURN(models::AvenetEncoders encoders, models::BuildAvenetEncoders(opt, c));
  return std::make_shared<SslTie>(std::move(encoders.image), std::move(encoders.audio), opt, c.path());
}

}  // namespace
}  // namespace avsl::plugins::ssltie

AVSL_PLUGIN("ssltie", "1.0.0",
            "SSL-TIE: transformation invariance and equivariance for sound localization (ACM MM 2022)") {
  const auto options = avsl::plugins::ssltie::SslTieSchema();
  registrar.Register<avsl::Method>(
      "SSLTIE", options.schema(),
      [options](const avsl::ComponentConfig& c) { return avsl::plugins::ssltie::MakeSslTie(options, c); },
      "SSL-TIE: LVS's loss on two views (view 2 = rotated, scaled, flipped view 1) plus map equivariance");
}
