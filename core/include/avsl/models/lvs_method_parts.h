// The parts of a method that the LVS family (lvs.LVS, lvs.HardPos, ssltie.SSLTIE) shares besides the loss: the recipe
// options of the objective (declared in one place, each method with its own defaults: its options struct derives
// from LvsLossOptions), the confidence choice and AVENet's embedding step. A library of the SDK.
#pragma once

#include <memory>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "avsl/core/component_config.h"
#include "avsl/core/component_kind.h"
#include "avsl/core/encoder.h"
#include "avsl/core/export.h"
#include "avsl/core/method.h"
#include "avsl/core/options.h"
#include "avsl/models/lvs_loss.h"

namespace avsl::models {

/// Binds epsilon, epsilon2, tau, temperature, tri_map, hard_negative, negatives, diagonal, objective to the
/// LvsLossOptions part of a method's options `T` (its defaults are T's); `source` ends each doc line (e.g.
/// "LVS model.py" or "assumed: LVS's"). The members are LvsLossOptions's, so the numeric and choice bindings name
/// their type (a base member pointer converts to T's only where the type is not deduced).
template <typename T>
void AddLvsLossOptions(Options<T>& o, const std::string& source) {
  static_assert(std::is_base_of_v<LvsLossOptions, T>, "AddLvsLossOptions: T derives from LvsLossOptions");
  auto doc = [&](const std::string& text) { return absl::StrCat(text, " (", source, ")"); };
  o.template Float<double>("epsilon", &T::epsilon,
                           doc("positive threshold of the soft masks, on the cosine (--epsilon)"))
      .Range(-1, 1);
  o.template Float<double>("epsilon2", &T::epsilon2, doc("tri-map negative threshold (--epsilon2)")).Range(-1, 1);
  o.template Float<double>("tau", &T::tau, doc("sigmoid sharpness of the masks (self.tau)")).Range(1e-4, 10);
  o.template Float<double>("temperature", &T::temperature, doc("logit temperature (logits / 0.07)")).Range(1e-4, 10);
  o.Bool("tri_map", &T::tri_map, doc("own-image negative mask 1 - sigmoid((A - epsilon2)/tau); false: 1 - Pos"));
  o.Bool("hard_negative", &T::hard_negative, doc("append the own-image hard negative logit sim2 (--Neg)"));
  o.template Choice<NegativeSummary>(
      "negatives", &T::negatives, {{"masked", NegativeSummary::kMasked}, {"uniform", NegativeSummary::kUniform}},
      doc("in-batch negative N_ij: masked = sigmoid((S - epsilon)/tau)-weighted mean (LVS code, Pos_all); "
          "uniform = plain mean over h*w (papers)"));
  o.template Choice<DiagonalMask>(
      "diagonal", &T::diagonal, {{"code", DiagonalMask::kCode}, {"exclude", DiagonalMask::kExclude}},
      doc("the positive pair among the negatives: code = times (1 - 100 I) (LVS self.mask); exclude = "
          "removed (the papers' sum over j != i)"));
  o.template Choice<LvsObjective>(
      "objective", &T::objective, {{"code", LvsObjective::kCode}, {"paper", LvsObjective::kPaper}},
      doc("code = CE over cat(P, N_i., H)/T with target 0; paper = LVS paper's single grouped negative "
          "H + sum_j N_ij (needs diagonal = \"exclude\")"));
}

/// Checks the combination of the loss options (epsilon2 < epsilon with the tri-map hard negative; the paper
/// objective with diagonal = "exclude"); errors name the recipe key under `config`.
AVSL_EXPORT absl::Status CheckLvsLossOptions(const LvsLossOptions& options, const ComponentConfig& config);

/// Binds `confidence` (T::confidence, a string defaulting to "generic"): generic (none native: the evaluator's
/// SLAVC confidence), positive (P_i), max (max A).
template <typename T>
void AddLvsConfidenceOption(Options<T>& o) {
  o.String("confidence", &T::confidence,
           "generic = none native: the evaluator's SLAVC confidence, mean of the top 25 % of (A + 1) / 2; "
           "positive = P_i, the sigmoid((A - epsilon)/tau)-weighted mean of A; max = max A")
      .OneOf({"generic", "positive", "max"});
}

/// Declares AVENet's two encoders (image_encoder: core.ResNet18Image by default, returning a map; audio_encoder:
/// core.ResNet18Audio, max-pooled), the loss keys (AddLvsLossOptions with `source`) and the `confidence` key, the
/// schema every method of the LVS family starts with.
template <typename T>
void AddAvenetOptions(Options<T>& o, const std::string& source) {
  o.schema().Component("image_encoder", ComponentKind::kEncoder, "core.ResNet18Image",
                       "image backbone returning [B,C,h,w] (the LVS family's: ResNet18, layer4_stride = 1 -> 14x14 at "
                       "224)");
  o.schema().Component("audio_encoder", ComponentKind::kEncoder, "core.ResNet18Audio",
                       "audio backbone; its output is max-pooled to [B,C] (the LVS family's: ResNet18, layer4_stride = "
                       "1)");
  AddLvsLossOptions(o, source);
  AddLvsConfidenceOption(o);
}

struct AvenetEncoders {
  std::shared_ptr<Encoder> image, audio;
};

/// The factory step of a method of the LVS family: checks the loss options (CheckLvsLossOptions) and builds the two
/// encoders declared by AddAvenetOptions; errors name the recipe key under `config`.
AVSL_EXPORT absl::StatusOr<AvenetEncoders> BuildAvenetEncoders(const LvsLossOptions& options,
                                                               const ComponentConfig& config);

struct LvsEmbedding {
  torch::Tensor image_map;  ///< [B,C,h,w] the image encoder's output
  torch::Tensor image;      ///< [B,C,h,w] L2-normalized over C
  torch::Tensor audio;      ///< [B,C] max-pooled, L2-normalized
};

/// AVENet.forward's features: normalize(imgnet(image)), normalize(maxpool(audnet(audio))). The max pool is
/// the reference's AdaptiveMaxPool2d (a no-op for an encoder that already pooled). `who` prefixes errors.
AVSL_EXPORT LvsEmbedding LvsEmbed(Encoder& imgnet, Encoder& audnet, const Batch& batch, const char* who);

/// The LVS family's Localize: the cosine map S_{i->i} of LvsEmbed's features, [B,h,w] on the range [-1, 1] (LVS's
/// test.py heatmap A), and the confidence `which` (the `confidence` key) names: "positive" (P_i, the
/// sigmoid((A - epsilon)/tau)-weighted mean of A), "max" (max A), or "generic" (none native: the evaluator's).
AVSL_EXPORT Localization LvsLocalize(Encoder& imgnet, Encoder& audnet, const Batch& batch, const char* who,
                                     const std::string& which, const LvsLossOptions& options);

}  // namespace avsl::models
