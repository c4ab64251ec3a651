// lvs: LVS, "Localizing Visual Sounds the Hard Way" (Chen et al., CVPR 2021), as AVENet in
// hche11/Localizing-Visual-Sounds-the-Hard-Way model.py (README.md, 'Reference behaviour'): no projection heads, the
// L2-normalized image map against the max-pooled, L2-normalized audio vector; soft tri-map masks, in-batch
// negatives and the image's own hard negative, cross-entropy with the positive first. Map = the cosine map.
// The plugin's second method, lvs.HardPos (hardpos.cc), is registered from this file's AVSL_PLUGIN block.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/encoder.h"
#include "avsl/core/method.h"
#include "avsl/core/options.h"
#include "avsl/core/plugin_abi.h"
#include "avsl/core/rank_group.h"
#include "avsl/core/status_macros.h"
#include "avsl/models/lvs_loss.h"
#include "avsl/models/lvs_method_parts.h"
#include "avsl/models/objectives.h"
#include "hardpos.h"

namespace avsl::plugins::lvs {
namespace {

using models::LvsEmbedding;
using models::LvsLossOptions;
using models::LvsLossTerms;

// The loss options with LVS's defaults (LvsLossOptions's: the released code's) and the confidence choice.
struct LvsOptions : LvsLossOptions {
  std::string confidence = "generic";
};

class Lvs final : public Method {
 public:
  Lvs(std::shared_ptr<Encoder> image_encoder, std::shared_ptr<Encoder> audio_encoder, LvsOptions options)
      : options_(std::move(options)) {
    // The reference's attribute names, so a released checkpoint maps by prefix (README: departures).
    imgnet_ = register_module("imgnet", std::move(image_encoder));
    audnet_ = register_module("audnet", std::move(audio_encoder));
  }

  StepOutput TrainStep(const Batch& batch) override {
    LvsEmbedding e = models::LvsEmbed(*imgnet_, *audnet_, batch, "lvs.LVS");
    // train.global_negatives: this rank's images against every rank's audios (the loss is per image row).
    const GatheredRows audio = GatherNegatives(e.audio);
    LvsLossTerms t = models::LvsLoss(models::AllPairSimilarity(e.image, audio.all, 1.0), options_, {},
                                     audio.gathered ? audio.offset : -1);
    return {t.loss, {{"positive_cos", t.positive.detach().mean().item<double>()}}, {}};
  }

  Localization Localize(const Batch& batch) override {  // test.py's heatmap A
    return models::LvsLocalize(*imgnet_, *audnet_, batch, "lvs.LVS", options_.confidence, options_);
  }

 private:
  LvsOptions options_;
  std::shared_ptr<Encoder> imgnet_, audnet_;
};

Options<LvsOptions> LvsSchema() {
  Options<LvsOptions> o("LVS (hche11/Localizing-Visual-Sounds-the-Hard-Way model.py AVENet); map = cosine map");
  models::AddAvenetOptions(o, "LVS model.py / test.py");
  return o;
}

absl::StatusOr<std::shared_ptr<Method>> MakeLvs(const Options<LvsOptions>& options, const ComponentConfig& c) {
  const LvsOptions opt = options.Read(c);
  AVSL_ASSIGN_OR_RETURN(models::AvenetEncoders encoders, models::BuildAvenetEncoders(opt, c));
  return std::make_shared<Lvs>(std::move(encoders.image), std::move(encoders.audio), opt);
}

}  // namespace
}  // namespace avsl::plugins::lvs

AVSL_PLUGIN("lvs", "1.0.0", "LVS (CVPR 2021, tri-map hard negatives) and HardPos (ICASSP 2022, + hard positives)") {
  const auto options = avsl::plugins::lvs::LvsSchema();
  registrar.Register<avsl::Method>(
      "LVS", options.schema(),
      [options](const avsl::ComponentConfig& c) { return avsl::plugins::lvs::MakeLvs(options, c); },
      "LVS: soft tri-map positives/negatives, in-batch + own-image negatives");
  avsl::plugins::hardpos::RegisterHardPos(registrar);
}
