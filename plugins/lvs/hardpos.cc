// lvs.HardPos: "Learning Sound Localization Better from Semantically Similar Samples" (Senocak et al., ICASSP
// 2022). No code was released (README.md summarizes the paper): this is LVS (lvs.cc; the loss, options and
// embedding of the SDK's avsl/models/lvs_loss.h and lvs_method_parts.h) plus in-batch hard positives mined from the
// model's own audio and visual nearest neighbours, scored as extra positives and removed from the negatives. Every
// guess about the paper is a recipe option; README.md (section lvs.HardPos) lists them.
#include "hardpos.h"

#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/encoder.h"
#include "avsl/core/method.h"
#include "avsl/core/options.h"
#include "avsl/core/status_macros.h"
#include "avsl/models/lvs_loss.h"
#include "avsl/models/lvs_method_parts.h"
#include "avsl/models/objectives.h"
#include "hard_positives.h"

namespace avsl::plugins::hardpos {
namespace {

// Which nearest neighbours are mined (the `mining` key).
enum class Mining { kBoth, kAudio, kVisual, kNone };

// The loss options (LvsLossOptions, with the paper's defaults set below) and the mining options.
struct HardPosOptions : models::LvsLossOptions {
  HardPosOptions() {
    // The paper's baseline is LVS without the tri-map hard negative, one logit per in-batch negative j != i (the
    // paper's Σ_{j≠i} exp(N_ij/τ)); ε, τ and 0.07 are LVS's (assumed). N_ij is LVS code's σ-weighted mean, as in the
    // authors' own LVS-derived code: the paper's plain mean against a σ-masked P has a shortcut (README.md,
    // measured).
    hard_negative = false;
    negatives = models::NegativeSummary::kMasked;
    diagonal = models::DiagonalMask::kExclude;
  }
  Mining mining = Mining::kBoth;
  int64_t neighbors = 1;
  HardPositiveOptions::Combine positive_combine = HardPositiveOptions::Combine::kScore;
  bool remove_from_negatives = true;
  int64_t mining_start_step = 0;
  bool visual_normalized = true;  ///< visual descriptor = avgpool of the L2-normalized map (false: of the raw map)
  std::string confidence = "generic";
};

// What MineHardPositives takes, from the recipe's mining options.
HardPositiveOptions MiningOptions(const HardPosOptions& o) {
  HardPositiveOptions m;
  m.audio = o.mining == Mining::kBoth || o.mining == Mining::kAudio;
  m.visual = o.mining == Mining::kBoth || o.mining == Mining::kVisual;
  m.neighbors = o.neighbors;
  m.combine = o.positive_combine;
  m.remove_negatives = o.remove_from_negatives;
  return m;
}

class HardPos final : public Method {
 public:
  HardPos(std::shared_ptr<Encoder> image_encoder, std::shared_ptr<Encoder> audio_encoder, HardPosOptions options)
      : c_(std::move(options)), mining_(MiningOptions(c_)) {
    imgnet_ = register_module("imgnet", std::move(image_encoder));
    audnet_ = register_module("audnet", std::move(audio_encoder));
    // A buffer, so a resumed run continues the mining schedule where the checkpoint left it.
    steps_ = register_buffer("steps", torch::zeros({}, torch::kLong));
  }

  StepOutput TrainStep(const Batch& batch) override {
    models::LvsEmbedding e = models::LvsEmbed(*imgnet_, *audnet_, batch, "lvs.HardPos");
    const torch::Tensor a0 = models::AllPairSimilarity(e.image, e.audio, 1.0);
    HardPositives hp;
    if (steps_.item<int64_t>() >= c_.mining_start_step) {
      const torch::Tensor visual = (c_.visual_normalized ? e.image : e.image_map).mean({2, 3});
      hp = MineHardPositives(a0, e.audio, visual, mining_);
    }
    models::LvsLossTerms t = models::LvsLoss(a0, c_, hp.extra);
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
    return {t.loss, std::move(logs), {}};
  }

  Localization Localize(const Batch& batch) override {  // the test-time map is LVS's: S_{i->i}
    return models::LvsLocalize(*imgnet_, *audnet_, batch, "lvs.HardPos", c_.confidence, c_);
  }

 private:
  HardPosOptions c_;
  HardPositiveOptions mining_;
  std::shared_ptr<Encoder> imgnet_, audnet_;
  torch::Tensor steps_;
};

Options<HardPosOptions> HardPosSchema() {
  Options<HardPosOptions> o("HardPos (Senocak et al., ICASSP 2022; no released code): LVS with the audio/visual "
                            "nearest neighbours of each sample as extra positives; map = cosine map");
  models::AddAvenetOptions(o, "HardPos paper, see plugins/lvs/README.md; assumed where LVS's");
  o.Choice("mining", &HardPosOptions::mining,
           {{"both", Mining::kBoth}, {"audio", Mining::kAudio}, {"visual", Mining::kVisual}, {"none", Mining::kNone}},
           "hard positives from the audio nearest neighbour j_a (pair image i / audio j_a), the visual one j_v "
           "(pair image j_v / audio i), both, or none (= the LVS-style baseline)");
  o.Int("neighbors", &HardPosOptions::neighbors,
        "nearest neighbours mined per modality and sample (assumed 1; clamped to B - 1)")
      .Range(1, 1024);
  o.Choice("positive_combine", &HardPosOptions::positive_combine,
           {{"score", HardPositiveOptions::Combine::kScore},
            {"mean", HardPositiveOptions::Combine::kMapMean},
            {"sum", HardPositiveOptions::Combine::kMapSum}},
           "P_i from S_{i->i} and the mined maps: score = mean of each map's own soft-masked mean (the cross-image "
           "maps are not aligned; measured: mean collapses to the borders); mean / sum = add the maps per location");
  o.Bool("remove_from_negatives", &HardPosOptions::remove_from_negatives,
         "drop (image i, audio j) from i's negatives for every mined j (paper)");
  o.Int("mining_start_step", &HardPosOptions::mining_start_step,
        "optimizer steps of plain LVS-style training before mining starts (assumed 0)")
      .Range(0, 1LL << 40);
  o.Choice("visual_descriptor", &HardPosOptions::visual_normalized, {{"normalized", true}, {"raw", false}},
           "visual neighbour descriptor: average pool of the L2-normalized map (normalized) or of the raw "
           "encoder map (raw)");
  return o;
}

absl::StatusOr<std::shared_ptr<Method>> MakeHardPos(const Options<HardPosOptions>& options, const ComponentConfig& c) {
  const HardPosOptions opt = options.Read(c);
  if (opt.positive_combine == HardPositiveOptions::Combine::kMapSum && opt.epsilon <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "recipe key '", c.path(), ".positive_combine' = \"sum\" with epsilon = ", opt.epsilon,
        ": the summed positive map is thresholded at epsilon, expected epsilon > 0 (or positive_combine = \"mean\")"));
  }
  AVSL_ASSIGN_OR_RETURN(models::AvenetEncoders encoders, models::BuildAvenetEncoders(opt, c));
  return std::make_shared<HardPos>(std::move(encoders.image), std::move(encoders.audio), opt);
}

}  // namespace

void RegisterHardPos(Registrar& registrar) {
  const auto options = HardPosSchema();
  registrar.Register<Method>(
      "HardPos", options.schema(), [options](const ComponentConfig& c) { return MakeHardPos(options, c); },
      "HardPos: LVS + in-batch audio/visual nearest-neighbour hard positives");
}

}  // namespace avsl::plugins::hardpos
