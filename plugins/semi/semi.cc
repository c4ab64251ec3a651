// semi: the semi-supervised localization loss (the seed's Eq. 9; SLAVC's optional supervised_loss,
// off in every released script), a Loss composable with any method through the recipe's [[losses]] array.
#include <torch/torch.h>

#include <memory>
#include <utility>

#include "avsl/core/loss.h"
#include "avsl/core/options.h"
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

/// The component's recipe table: the loss's options plus its weight.
struct MapSupervisionConfig : MapSupervisionOptions {
  double weight = 1.0;
};

Options<MapSupervisionConfig> MakeMapSupervisionOptions() {
  using C = MapSupervisionConfig;
  Options<C> o("weight * mean over annotated samples (Batch.has_gt) of mean_pixels (normalize(upsample(map)) - gt)^2");
  o.Float("weight", &C::weight, "lambda of the term (the reference adds it with weight 1)").Min(0);
  o.String("error", &C::error, "squared: the seed's Eq. 9; bce: SLAVC train.py's supervised_loss")
      .OneOf({"squared", "bce"});
  o.String("normalize", &C::normalize,
           "minmax: per-sample min-max after upsampling (reference normalize_img; invariant to the "
           "method's fixed range); none: use the map as is (it must already be in [0,1])")
      .OneOf({"minmax", "none"});
  o.String("upsample", &C::upsample, "interpolation of the map to the GT grid (reference: bicubic)")
      .OneOf({"bicubic", "bilinear"});
  o.Bool("align_corners", &C::align_corners, "F.interpolate's align_corners (reference train.py: false)");
  return o;
}

}  // namespace
}  // namespace avsl::plugins::semi

AVSL_PLUGIN("semi", "1.0.0", "Semi-supervised localization loss on the annotated subset (any method)") {
  const auto options = avsl::plugins::semi::MakeMapSupervisionOptions();
  registrar.Register<avsl::Loss>(
      "MapSupervision", options.schema(),
      [options](const avsl::ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<avsl::Loss>> {
        const avsl::plugins::semi::MapSupervisionConfig opt = options.Read(c);
        return std::make_shared<avsl::plugins::semi::MapSupervision>(
            opt.weight, static_cast<const avsl::plugins::semi::MapSupervisionOptions&>(opt));
      },
      "squared error between the normalized map and the GT map on annotated samples (Eq. 9)");
}
