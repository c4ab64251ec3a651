#include "avsl/models/lvs_method_parts.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/status_macros.h"
#include "avsl/models/objectives.h"

#include <torch/torch.h>

namespace avsl::models {

absl::Status CheckLvsLossOptions(const LvsLossOptions& o, const ComponentConfig& c) {
  if (o.hard_negative && o.tri_map && o.epsilon2 >= o.epsilon) {
    return absl::InvalidArgumentError(absl::StrCat("recipe key '", c.path(), ".epsilon2' = ", o.epsilon2,
                                                   ": the tri-map needs epsilon2 < epsilon (", o.epsilon,
                                                   "), or set tri_map = false"));
  }
  if (o.objective == LvsObjective::kPaper && o.diagonal == DiagonalMask::kCode) {
    return absl::InvalidArgumentError(absl::StrCat("recipe key '", c.path(),
                                                   ".diagonal' = \"code\": objective = \"paper\" sums the "
                                                   "negatives, so it needs diagonal = \"exclude\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<AvenetEncoders> BuildAvenetEncoders(const LvsLossOptions& options, const ComponentConfig& c) {
  AVSL_RETURN_IF_ERROR(CheckLvsLossOptions(options, c));
  AvenetEncoders e;
  AVSL_ASSIGN_OR_RETURN(e.image, BuildSub<Encoder>(c, "image_encoder"));
  AVSL_ASSIGN_OR_RETURN(e.audio, BuildSub<Encoder>(c, "audio_encoder"));
  return e;
}

LvsEmbedding LvsEmbed(Encoder& imgnet, Encoder& audnet, const Batch& batch, const char* who) {
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

Localization LvsLocalize(Encoder& imgnet, Encoder& audnet, const Batch& batch, const char* who,
                         const std::string& which, const LvsLossOptions& o) {
  const LvsEmbedding e = LvsEmbed(imgnet, audnet, batch, who);
  Localization out;
  out.maps = PairSimilarity(e.image, e.audio, 1.0);
  out.range_min = -1.0;  // generic confidence = mean of the top 25 % of (A + 1) / 2 (SLAVC's)
  out.range_max = 1.0;
  if (which == "positive") {
    out.confidence = WeightedMean(out.maps, torch::sigmoid((out.maps - o.epsilon) / o.tau));
    out.confidence_name = "lvs_positive";
  } else if (which == "max") {
    out.confidence = std::get<0>(out.maps.flatten(1).max(1));
    out.confidence_name = "max_cos";
  }
  return out;
}

}  // namespace avsl::models
