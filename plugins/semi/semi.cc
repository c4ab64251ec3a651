// semi: the semi-supervised localization loss (the seed's Eq. 9; SLAVC's optional supervised_loss,
// reference_spec.md §2.3), a Loss composable with any method through the recipe's [[losses]] array.
#include <torch/torch.h>

#include <memory>

#include "avsl/core/loss.h"
#include "avsl/core/plugin_abi.h"
#include "map_supervision_loss.h"

namespace avsl::plugins::semi {
namespace {

class MapSupervision final : public Loss {
 public:
  MapSupervision(double weight, MapSupervisionOptions options) : weight_(weight), options_(std::move(options)) {}

  torch::Tensor Compute(const Batch& batch, const torch::Tensor& maps) override {
    return weight_ * MapSupervisionLoss(maps, batch.gt_map, batch.has_gt, options_);
  }

 private:
  double weight_;
  MapSupervisionOptions options_;
};

}  // namespace
}  // namespace avsl::plugins::semi

AVSL_PLUGIN("semi", "1.0.0", "Semi-supervised localization loss on the annotated subset (any method)") {
  avsl::Schema schema(
      "weight * mean over annotated samples (Batch.has_gt) of mean_pixels (normalize(upsample(map)) - gt)^2");
  schema.Float("weight", 1.0, "lambda of the term (the reference adds it with weight 1)").Min(0);
  schema.String("error", "squared", "squared: the seed's Eq. 9; bce: SLAVC train.py's supervised_loss")
      .OneOf({"squared", "bce"});
  schema.String("normalize", "minmax",
                "minmax: per-sample min-max after upsampling (reference normalize_img; invariant to the "
                "method's fixed range); none: use the map as is (it must already be in [0,1])")
      .OneOf({"minmax", "none"});
  schema.String("upsample", "bicubic", "interpolation of the map to the GT grid (reference: bicubic)")
      .OneOf({"bicubic", "bilinear"});
  schema.Bool("align_corners", false, "F.interpolate's align_corners (reference train.py: false)");
  registrar.Register<avsl::Loss>(
      "MapSupervision", std::move(schema),
      [](const avsl::ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<avsl::Loss>> {
        avsl::plugins::semi::MapSupervisionOptions o;
        o.error = c.GetString("error");
        o.normalize = c.GetString("normalize");
        o.upsample = c.GetString("upsample");
        o.align_corners = c.GetBool("align_corners");
        return std::make_shared<avsl::plugins::semi::MapSupervision>(c.GetFloat("weight"), std::move(o));
      },
      "squared error between the normalized map and the GT map on annotated samples (Eq. 9)");
}
