// What lvs.LVS and hardpos.HardPos share besides the loss: the recipe options of the objective (declared and
// read in one place, each plugin with its own defaults), the confidence choice and AVENet's embedding step.
// hardpos compiles this file and lvs_loss.cc from plugins/lvs/.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "avsl/core/component_config.h"
#include "avsl/core/encoder.h"
#include "avsl/core/method.h"
#include "avsl/core/schema.h"
#include "lvs_loss.h"

namespace avsl::plugins::lvs {

/// Adds epsilon, epsilon2, tau, temperature, tri_map, hard_negative, negatives, diagonal, objective with
/// `defaults`; `source` ends each doc line (e.g. "LVS model.py" or "assumed: LVS's").
void AddLossOptions(Schema& schema, const LvsLossOptions& defaults, const std::string& source);

/// Reads the keys AddLossOptions declared and checks their combination (epsilon2 < epsilon with the tri-map
/// hard negative; the paper objective with diagonal = "exclude"); errors name the recipe key.
absl::StatusOr<LvsLossOptions> ReadLossOptions(const ComponentConfig& config);

/// Adds `confidence`: generic (none native: the evaluator's SLAVC confidence), positive (P_i), max (max A).
void AddConfidenceOption(Schema& schema);

/// Fills out.confidence / confidence_name from the cosine map out.maps as `which` (the `confidence` key) says;
/// "generic" leaves it undefined so the evaluator computes the SLAVC confidence on the declared [-1, 1] range.
void SetConfidence(const std::string& which, const LvsLossOptions& options, Localization& out);

struct LvsEmbedding {
  torch::Tensor image_map;  ///< [B,C,h,w] the image encoder's output
  torch::Tensor image;      ///< [B,C,h,w] L2-normalized over C
  torch::Tensor audio;      ///< [B,C] max-pooled, L2-normalized
};

/// AVENet.forward's features: normalize(imgnet(image)), normalize(maxpool(audnet(audio))). The max pool is
/// the reference's AdaptiveMaxPool2d (a no-op for an encoder that already pooled). `who` prefixes errors.
LvsEmbedding Embed(Encoder& imgnet, Encoder& audnet, const Batch& batch, const char* who);

}  // namespace avsl::plugins::lvs
