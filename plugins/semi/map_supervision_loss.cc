#include "map_supervision_loss.h"

#include <torch/torch.h>

#include "avsl/models/model_ops.h"

namespace avsl::plugins::semi {

namespace F = torch::nn::functional;

torch::Tensor MapSupervisionLoss(const torch::Tensor& maps, const torch::Tensor& gt, const torch::Tensor& has_gt,
                                 const MapSupervisionOptions& options) {
  TORCH_CHECK(maps.dim() == 3, "semi.MapSupervision: maps must be [B,h,w], got ", maps.sizes());
  if (!gt.defined() || !has_gt.defined() || !has_gt.any().item<bool>()) {
    return torch::zeros({}, maps.options());
  }
  TORCH_CHECK(gt.dim() == 3 && gt.size(0) == maps.size(0) && has_gt.numel() == maps.size(0),
              "semi.MapSupervision: expected gt_map [B,H,W] and has_gt [B] with B = ", maps.size(0), ", got ",
              gt.sizes(), " and ", has_gt.sizes());
  const torch::Tensor index = has_gt.to(torch::kBool).nonzero().flatten();
  torch::Tensor pred = maps.index_select(0, index).unsqueeze(1);  // [K,1,h,w]
  const torch::Tensor target = gt.index_select(0, index).to(maps.dtype());
  if (pred.size(2) != target.size(1) || pred.size(3) != target.size(2)) {
    auto o = F::InterpolateFuncOptions().size(std::vector<int64_t>{target.size(1), target.size(2)});
    if (options.upsample == "bilinear") {
      o.mode(torch::kBilinear).align_corners(options.align_corners);
    } else {
      TORCH_CHECK(options.upsample == "bicubic", "semi.MapSupervision: unknown upsample '", options.upsample, "'");
      o.mode(torch::kBicubic).align_corners(options.align_corners);
    }
    pred = F::interpolate(pred, o);
  }
  pred = pred.squeeze(1);
  if (options.normalize == "minmax") pred = models::MinMaxPerSample(pred);
  torch::Tensor per_pixel;
  if (options.error == "bce") {
    // Bicubic overshoot is gone after min-max; with normalize = "none" the clamp keeps BCE defined.
    per_pixel = F::binary_cross_entropy(pred.clamp(0, 1), target,
                                        F::BinaryCrossEntropyFuncOptions().reduction(torch::kNone));
  } else {
    per_pixel = (pred - target).pow(2);
  }
  return per_pixel.flatten(1).mean(1).mean();  // per-sample pixel mean, then the mean over annotated samples
}

}  // namespace avsl::plugins::semi
