// The semi-supervised map loss as a free function on tensors (testable without a trainer): the predicted map
// is upsampled to the GT grid, normalized per sample, and compared with the GT map on the annotated samples.
#pragma once

#include <string>

#include <torch/types.h>

namespace avsl::plugins::semi {

struct MapSupervisionOptions {
  std::string upsample = "bicubic";  ///< "bicubic" | "bilinear" (F.interpolate modes)
  bool align_corners = false;        ///< SLAVC train.py's supervised_loss: bicubic, align_corners=False
  std::string normalize = "minmax";  ///< "minmax" (reference normalize_img) | "none" (maps already in [0,1])
  std::string error = "squared";     ///< "squared" (the seed's Eq. 9) | "bce" (SLAVC's supervised_loss)
};

/// Mean over annotated samples of the per-pixel mean error between normalize(upsample(maps)) and `gt`
/// ("minmax": avsl::models::MinMaxPerSample, the reference utils.normalize_img).
/// `maps` [B,h,w] (differentiable), `gt` [B,H,W] in [0,1], `has_gt` [B] bool. Returns a 0-dim tensor; zero
/// (with no graph) when no sample is annotated.
torch::Tensor MapSupervisionLoss(const torch::Tensor& maps, const torch::Tensor& gt, const torch::Tensor& has_gt,
                                 const MapSupervisionOptions& options = {});

}  // namespace avsl::plugins::semi
