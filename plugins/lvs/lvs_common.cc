#include "lvs_common.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include <torch/torch.h>

namespace avsl::plugins::lvs {

void AddLossOptions(Schema& s, const LvsLossOptions& d, const std::string& source) {
  auto doc = [&](const std::string& text) { return absl::StrCat(text, " (", source, ")"); };
  s.Float("epsilon", d.epsilon, doc("positive threshold of the soft masks, on the cosine (--epsilon)")).Range(-1, 1);
  s.Float("epsilon2", d.epsilon2, doc("tri-map negative threshold (--epsilon2)")).Range(-1, 1);
  s.Float("tau", d.tau, doc("sigmoid sharpness of the masks (self.tau)")).Range(1e-4, 10);
  s.Float("temperature", d.temperature, doc("logit temperature (logits / 0.07)")).Range(1e-4, 10);
  s.Bool("tri_map", d.tri_map, doc("own-image negative mask 1 - sigmoid((A - epsilon2)/tau); false: 1 - Pos"));
  s.Bool("hard_negative", d.hard_negative, doc("append the own-image hard negative logit sim2 (--Neg)"));
  s.String("negatives", d.negatives == NegativeSummary::kMasked ? "masked" : "uniform",
           doc("in-batch negative N_ij: masked = sigmoid((S - epsilon)/tau)-weighted mean (LVS code, Pos_all); "
               "uniform = plain mean over h*w (papers)"))
      .OneOf({"masked", "uniform"});
  s.String("diagonal", d.diagonal == DiagonalMask::kCode ? "code" : "exclude",
           doc("the positive pair among the negatives: code = times (1 - 100 I) (LVS self.mask); exclude = "
               "removed (the papers' sum over j != i)"))
      .OneOf({"code", "exclude"});
  s.String("objective", d.objective == Objective::kCode ? "code" : "paper",
           doc("code = CE over cat(P, N_i., H)/T with target 0; paper = LVS paper's single grouped negative "
               "H + sum_j N_ij (needs diagonal = \"exclude\")"))
      .OneOf({"code", "paper"});
}

absl::StatusOr<LvsLossOptions> ReadLossOptions(const ComponentConfig& c) {
  LvsLossOptions o;
  o.epsilon = c.GetFloat("epsilon");
  o.epsilon2 = c.GetFloat("epsilon2");
  o.tau = c.GetFloat("tau");
  o.temperature = c.GetFloat("temperature");
  o.tri_map = c.GetBool("tri_map");
  o.hard_negative = c.GetBool("hard_negative");
  o.negatives = c.GetString("negatives") == "masked" ? NegativeSummary::kMasked : NegativeSummary::kUniform;
  o.diagonal = c.GetString("diagonal") == "code" ? DiagonalMask::kCode : DiagonalMask::kExclude;
  o.objective = c.GetString("objective") == "code" ? Objective::kCode : Objective::kPaper;
  if (o.hard_negative && o.tri_map && o.epsilon2 >= o.epsilon) {
    return absl::InvalidArgumentError(absl::StrCat("recipe key '", c.path(), ".epsilon2' = ", o.epsilon2,
                                                   ": the tri-map needs epsilon2 < epsilon (", o.epsilon,
                                                   "), or set tri_map = false"));
  }
  if (o.objective == Objective::kPaper && o.diagonal == DiagonalMask::kCode) {
    return absl::InvalidArgumentError(absl::StrCat("recipe key '", c.path(),
                                                   ".diagonal' = \"code\": objective = \"paper\" sums the "
                                                   "negatives, so it needs diagonal = \"exclude\""));
  }
  return o;
}

void AddConfidenceOption(Schema& s) {
  s.String("confidence", "generic",
           "generic = none native: the evaluator's SLAVC confidence, mean of the top 25 % of (A + 1) / 2; "
           "positive = P_i, the sigmoid((A - epsilon)/tau)-weighted mean of A; max = max A (spec §4.3)")
      .OneOf({"generic", "positive", "max"});
}

void SetConfidence(const std::string& which, const LvsLossOptions& o, Localization& out) {
  if (which == "positive") {
    out.confidence = WeightedMean(out.maps, torch::sigmoid((out.maps - o.epsilon) / o.tau));
    out.confidence_name = "lvs_positive";
  } else if (which == "max") {
    out.confidence = std::get<0>(out.maps.flatten(1).max(1));
    out.confidence_name = "max_cos";
  }
}

LvsEmbedding Embed(Encoder& imgnet, Encoder& audnet, const Batch& batch, const char* who) {
  namespace F = torch::nn::functional;
  LvsEmbedding e;
  e.image_map = imgnet.Forward(batch.image);
  TORCH_CHECK(e.image_map.dim() == 4, who, ": the image encoder must return a map [B,C,h,w], got ",
              e.image_map.sizes());
  e.image = F::normalize(e.image_map, F::NormalizeFuncOptions().dim(1));
  torch::Tensor aud = audnet.Forward(batch.audio);
  TORCH_CHECK(aud.dim() == 2 || aud.dim() == 4, who, ": the audio encoder returned ", aud.sizes(),
              "; expected [B,C] or [B,C,h,w]");
  TORCH_CHECK(aud.size(1) == e.image.size(1), who, ": image channels ", e.image.size(1), " != audio channels ",
              aud.size(1), " (no projection heads: give both encoders the same width)");
  // AVENet's `self.avgpool` is an AdaptiveMaxPool2d(1) despite its name.
  if (aud.dim() == 4) aud = std::get<0>(aud.flatten(2).max(2));
  e.audio = F::normalize(aud, F::NormalizeFuncOptions().dim(1));
  return e;
}

}  // namespace avsl::plugins::lvs
