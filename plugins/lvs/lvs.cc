// lvs: LVS, "Localizing Visual Sounds the Hard Way" (Chen et al., CVPR 2021), as AVENet in
// hche11/Localizing-Visual-Sounds-the-Hard-Way model.py (baselines_spec.md §4): no projection heads, the
// L2-normalized image map against the max-pooled, L2-normalized audio vector; soft tri-map masks, in-batch
// negatives and the image's own hard negative, cross-entropy with the positive first. Map = the cosine map.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/encoder.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_abi.h"
#include "avsl/core/status_macros.h"
#include "lvs_loss.h"
#include "lvs_common.h"

namespace avsl::plugins::lvs {
namespace {

class Lvs final : public Method {
 public:
  Lvs(std::shared_ptr<Encoder> image_encoder, std::shared_ptr<Encoder> audio_encoder, LvsLossOptions options,
      std::string confidence)
      : options_(options), confidence_(std::move(confidence)) {
    // The reference's attribute names, so a released checkpoint maps by prefix (README: departures).
    imgnet_ = register_module("imgnet", std::move(image_encoder));
    audnet_ = register_module("audnet", std::move(audio_encoder));
  }

  StepOutput TrainStep(const Batch& batch) override {
    LvsEmbedding e = Embed(*imgnet_, *audnet_, batch, "lvs.LVS");
    LvsLossTerms t = LvsLoss(AllPairCosine(e.image, e.audio), options_);
    return {t.loss, {{"positive_cos", t.positive.detach().mean().item<double>()}}};
  }

  Localization Localize(const Batch& batch) override {
    LvsEmbedding e = Embed(*imgnet_, *audnet_, batch, "lvs.LVS");
    Localization out;
    out.maps = PairCosine(e.image, e.audio);  // [B,h,w] cosine: test.py's heatmap A
    out.range_min = -1.0;  // generic confidence = mean of the top 25 % of (A + 1) / 2 (§7.4)
    out.range_max = 1.0;
    SetConfidence(confidence_, options_, out);
    return out;
  }

 private:
  LvsLossOptions options_;
  std::string confidence_;
  std::shared_ptr<Encoder> imgnet_, audnet_;
};

absl::StatusOr<std::shared_ptr<Method>> MakeLvs(const ComponentConfig& c) {
  AVSL_ASSIGN_OR_RETURN(LvsLossOptions o, ReadLossOptions(c));
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> image, BuildSub<Encoder>(c, "image_encoder"));
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> audio, BuildSub<Encoder>(c, "audio_encoder"));
  return std::make_shared<Lvs>(std::move(image), std::move(audio), o, c.GetString("confidence"));
}

}  // namespace
}  // namespace avsl::plugins::lvs

AVSL_PLUGIN("lvs", "1.0.0", "LVS: Localizing Visual Sounds the Hard Way (CVPR 2021), tri-map hard negatives") {
  avsl::Schema s("LVS (hche11/Localizing-Visual-Sounds-the-Hard-Way model.py AVENet); map = cosine map");
  s.Component("image_encoder", avsl::ComponentKind::kEncoder, "core.ResNet18Image",
              "image backbone returning [B,C,h,w] (reference: LVS ResNet18, layer4_stride = 1 -> 14x14 at 224)");
  s.Component("audio_encoder", avsl::ComponentKind::kEncoder, "core.ResNet18Audio",
              "audio backbone; its output is max-pooled to [B,C] (reference: LVS ResNet18, layer4_stride = 1)");
  avsl::plugins::lvs::AddLossOptions(s, avsl::plugins::lvs::LvsLossOptions(), "LVS model.py / test.py");
  avsl::plugins::lvs::AddConfidenceOption(s);
  registrar.Register<avsl::Method>("LVS", std::move(s), avsl::plugins::lvs::MakeLvs,
                                   "LVS: soft tri-map positives/negatives, in-batch + own-image negatives");
}
