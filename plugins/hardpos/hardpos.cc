// hardpos: "Learning Sound Localization Better from Semantically Similar Samples" (Senocak et al., ICASSP 2022),
// baselines_spec.md §5. No code was released ([paper only]): this is LVS (plugins/lvs, whose loss, options and
// embedding this plugin compiles from ../lvs/) plus in-batch hard positives mined from the model's own audio and
// visual nearest neighbours, scored as extra positives and removed from the negatives. Every guess
// about the paper is a recipe option; README.md lists them.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../lvs/lvs_common.h"
#include "../lvs/lvs_loss.h"
#include "absl/strings/str_cat.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/encoder.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_abi.h"
#include "avsl/core/status_macros.h"
#include "hard_positives.h"

namespace avsl::plugins::hardpos {
namespace {

struct HardPosConfig {
  lvs::LvsLossOptions loss;
  HardPositiveOptions mining;
  int64_t mining_start_step = 0;
  bool visual_normalized = true;  ///< visual descriptor = avgpool of the L2-normalized map (false: of the raw map)
  std::string confidence = "generic";
};

class HardPos final : public Method {
 public:
  HardPos(std::shared_ptr<Encoder> image_encoder, std::shared_ptr<Encoder> audio_encoder, HardPosConfig config)
      : c_(std::move(config)) {
    imgnet_ = register_module("imgnet", std::move(image_encoder));
    audnet_ = register_module("audnet", std::move(audio_encoder));
    // A buffer, so a resumed run continues the mining schedule where the checkpoint left it.
    steps_ = register_buffer("steps", torch::zeros({}, torch::kLong));
  }

  StepOutput TrainStep(const Batch& batch) override {
    lvs::LvsEmbedding e = lvs::Embed(*imgnet_, *audnet_, batch, "hardpos.HardPos");
    const torch::Tensor a0 = lvs::AllPairCosine(e.image, e.audio);
    HardPositives hp;
    if (steps_.item<int64_t>() >= c_.mining_start_step) {
      const torch::Tensor visual = (c_.visual_normalized ? e.image : e.image_map).mean({2, 3});
      hp = MineHardPositives(a0, e.audio, visual, c_.mining);
    }
    lvs::LvsLossTerms t = lvs::LvsLoss(a0, c_.loss, hp.extra);
    {
      torch::NoGradGuard no_grad;
      steps_.add_(1);
    }
    std::vector<std::pair<std::string, double>> logs = {{"positive_cos", t.positive.detach().mean().item<double>()}};
    // Diagnostic where classes are known (synthetic data): how often a mined neighbour shares the class.
    if (batch.class_id.defined() && batch.class_id.numel() == a0.size(0) && (batch.class_id >= 0).all().item<bool>()) {
      const torch::Tensor cls = batch.class_id.to(torch::kLong);
      for (const auto& [name, nn] : {std::pair<const char*, torch::Tensor>{"hp_audio_same_class", hp.audio_nn},
                                     std::pair<const char*, torch::Tensor>{"hp_visual_same_class", hp.visual_nn}}) {
        if (!nn.defined()) continue;
        logs.emplace_back(name, (cls.index({nn}) == cls.unsqueeze(1)).to(torch::kDouble).mean().item<double>());
      }
    }
    return {t.loss, std::move(logs)};
  }

  Localization Localize(const Batch& batch) override {
    lvs::LvsEmbedding e = lvs::Embed(*imgnet_, *audnet_, batch, "hardpos.HardPos");
    Localization out;
    out.maps = lvs::PairCosine(e.image, e.audio);  // the test-time map is LVS's: S_{i->i}
    out.range_min = -1.0;
    out.range_max = 1.0;
    lvs::SetConfidence(c_.confidence, c_.loss, out);
    return out;
  }

 private:
  HardPosConfig c_;
  std::shared_ptr<Encoder> imgnet_, audnet_;
  torch::Tensor steps_;
};

absl::StatusOr<std::shared_ptr<Method>> MakeHardPos(const ComponentConfig& c) {
  HardPosConfig h;
  AVSL_ASSIGN_OR_RETURN(h.loss, lvs::ReadLossOptions(c));
  const std::string mining = c.GetString("mining");
  h.mining.audio = mining == "both" || mining == "audio";
  h.mining.visual = mining == "both" || mining == "visual";
  h.mining.neighbors = c.GetInt("neighbors");
  const std::string combine = c.GetString("positive_combine");
  h.mining.combine = combine == "score"  ? HardPositiveOptions::Combine::kScore
                     : combine == "mean" ? HardPositiveOptions::Combine::kMapMean
                                         : HardPositiveOptions::Combine::kMapSum;
  h.mining.remove_negatives = c.GetBool("remove_from_negatives");
  h.mining_start_step = c.GetInt("mining_start_step");
  h.visual_normalized = c.GetString("visual_descriptor") == "normalized";
  h.confidence = c.GetString("confidence");
  if (h.mining.combine == HardPositiveOptions::Combine::kMapSum && h.loss.epsilon <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "recipe key '", c.path(), ".positive_combine' = \"sum\" with epsilon = ", h.loss.epsilon,
        ": the summed positive map is thresholded at epsilon, expected epsilon > 0 (or positive_combine = \"mean\")"));
  }
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> image, BuildSub<Encoder>(c, "image_encoder"));
  AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Encoder> audio, BuildSub<Encoder>(c, "audio_encoder"));
  return std::make_shared<HardPos>(std::move(image), std::move(audio), std::move(h));
}

lvs::LvsLossOptions PaperDefaults() {
  // §5: the baseline is LVS without the tri-map hard negative, one logit per in-batch negative j != i (the paper's
  // Σ_{j≠i} exp(N_ij/τ)); ε, τ and 0.07 are LVS's (assumed). N_ij is LVS code's σ-weighted mean, as in the
  // authors' own LVS-derived code: the paper's plain mean against a σ-masked P has a shortcut (README.md, measured).
  lvs::LvsLossOptions o;
  o.hard_negative = false;
  o.negatives = lvs::NegativeSummary::kMasked;
  o.diagonal = lvs::DiagonalMask::kExclude;
  return o;
}

}  // namespace
}  // namespace avsl::plugins::hardpos

AVSL_PLUGIN("hardpos", "1.0.0", "HardPos: LVS + in-batch hard positives (ICASSP 2022, paper only)") {
  namespace hp = avsl::plugins::hardpos;
  avsl::Schema s("HardPos (Senocak et al., ICASSP 2022; no released code): LVS with the audio/visual nearest "
                 "neighbours of each sample as extra positives; map = cosine map");
  s.Component("image_encoder", avsl::ComponentKind::kEncoder, "core.ResNet18Image",
              "image backbone returning [B,C,h,w] (paper: ResNet18; LVS family: layer4_stride = 1, 14x14 at 224)");
  s.Component("audio_encoder", avsl::ComponentKind::kEncoder, "core.ResNet18Audio",
              "audio backbone; its output is max-pooled to [B,C] (as LVS)");
  avsl::plugins::lvs::AddLossOptions(s, hp::PaperDefaults(), "HardPos paper as in spec §5; assumed where LVS's");
  s.String("mining", "both",
           "hard positives from the audio nearest neighbour j_a (pair image i / audio j_a), the visual one j_v "
           "(pair image j_v / audio i), both, or none (= the LVS-style baseline)")
      .OneOf({"both", "audio", "visual", "none"});
  s.Int("neighbors", 1, "nearest neighbours mined per modality and sample (assumed 1; clamped to B - 1)")
      .Range(1, 1024);
  s.String("positive_combine", "score",
           "P_i from S_{i->i} and the mined maps: score = mean of each map's own soft-masked mean (the cross-image "
           "maps are not aligned; measured: mean collapses to the borders); mean / sum = add the maps per location")
      .OneOf({"score", "mean", "sum"});
  s.Bool("remove_from_negatives", true, "drop (image i, audio j) from i's negatives for every mined j (paper)");
  s.Int("mining_start_step", 0, "optimizer steps of plain LVS-style training before mining starts (assumed 0)")
      .Range(0, 1LL << 40);
  s.String("visual_descriptor", "normalized",
           "visual neighbour descriptor: average pool of the L2-normalized map (normalized) or of the raw "
           "encoder map (raw)")
      .OneOf({"normalized", "raw"});
  avsl::plugins::lvs::AddConfidenceOption(s);
  registrar.Register<avsl::Method>("HardPos", std::move(s), hp::MakeHardPos,
                                   "HardPos: LVS + in-batch audio/visual nearest-neighbour hard positives");
}
