// MarginNCE: EZ-VSL with an additive cosine margin on the positive logit (as in CosFace/AM-softmax): the matching
// pair must beat every negative by `margin` in cosine before its loss vanishes. Everything but the objective is the
// SDK's two-tower localizer, so at margin = 0 this is EZ-VSL exactly (same weights, same steps, same maps).
#include <torch/torch.h>

#include "avsl/core/plugin_abi.h"
#include "avsl/models/objectives.h"
#include "avsl/models/two_tower.h"

namespace {

using namespace avsl;

struct MarginOptions : models::TwoTowerOptions {
  double margin = 0.1;
};

class MarginNce final : public models::TwoTowerLocalizer {
 public:
  MarginNce(std::shared_ptr<Encoder> image, std::shared_ptr<Encoder> audio, const MarginOptions& o)
      : TwoTowerLocalizer(std::move(image), std::move(audio), o, "margin_nce.MarginNCE"), margin_(o.margin) {}

 protected:
  StepOutput Objective(const models::TwoTowerEmbedding& e, const Batch& /*batch*/) override {
    const torch::Tensor logits = models::MaxMilLogits(e.image, e.audio, tau());
    // Logits are cos / tau, so a cosine margin m lowers each positive by m / tau.
    const torch::Tensor with_margin = margin_ == 0
                                          ? logits
                                          : logits - torch::eye(logits.size(0), logits.options()) * (margin_ / tau());
    return {models::SymmetricInfoNce(with_margin), models::CosineDiagnostics(logits, tau()), {}};
  }

 private:
  double margin_;
};

}  // namespace

AVSL_PLUGIN("margin_nce", "0.1.0", "EZ-VSL with a cosine margin on the positive logit") {
  Options<MarginOptions> options("EZ-VSL's two towers and max-MIL InfoNCE, positives lowered by margin / tau");
  models::AddTwoTowerOptions(options);
  options.Float("margin", &MarginOptions::margin, "cosine margin subtracted from each positive (0: EZ-VSL)")
      .Range(0, 2);
  registrar.Register<Method>(
      "MarginNCE", options.schema(),
      [options](const ComponentConfig& c) { return models::BuildTwoTower<MarginNce>(options, c); },
      "EZ-VSL with a cosine margin on the positive logit");
}
