#include "attention10k_loss.h"

#include <torch/torch.h>

#include "avsl/models/model_ops.h"

namespace avsl::plugins::attention10k {

namespace F = torch::nn::functional;

torch::Tensor AttentionLogits(const torch::Tensor& v, const torch::Tensor& a) {
  TORCH_CHECK(v.dim() == 3 && a.dim() == 2 && v.size(0) == a.size(0) && v.size(2) == a.size(1),
              "attention10k: expected v [B,P,C] and a [B,C], got ", v.sizes(), " and ", a.sizes());
  return torch::bmm(v, a.unsqueeze(2)).squeeze(2);
}

torch::Tensor AttendedVector(const torch::Tensor& alpha, const torch::Tensor& v) {
  return (alpha.unsqueeze(2) * v).sum(1);
}

RatioDistances RatioLossDistances(const torch::Tensor& f_v, const torch::Tensor& pos, const torch::Tensor& neg) {
  TORCH_CHECK(f_v.dim() == 2 && f_v.sizes() == pos.sizes() && f_v.sizes() == neg.sizes(),
              "attention10k RatioLoss: expected three [B,C] tensors, got ", f_v.sizes(), ", ", pos.sizes(), ", ",
              neg.sizes());
  RatioDistances d;
  d.d_pos = F::pairwise_distance(f_v, pos);  // p = 2, eps = 1e-6, as PyTorch's default
  d.d_neg = F::pairwise_distance(f_v, neg);
  return d;
}

torch::Tensor RatioLossOfDistances(const torch::Tensor& d_pos, const torch::Tensor& d_neg) {
  TORCH_CHECK(d_pos.dim() == 1 && d_pos.sizes() == d_neg.sizes(),
              "attention10k RatioLoss: expected two [B] distance tensors, got ", d_pos.sizes(), " and ", d_neg.sizes());
  const torch::Tensor p = torch::softmax(torch::stack({d_pos, d_neg}, 1), 1);
  // Target [0, 1]: the positive distance should be the small one.
  const torch::Tensor target = torch::stack({torch::zeros_like(d_pos), torch::ones_like(d_pos)}, 1);
  return (p - target).pow(2).mean();
}

torch::Tensor RatioLoss(const torch::Tensor& f_v, const torch::Tensor& pos, const torch::Tensor& neg) {
  const RatioDistances d = RatioLossDistances(f_v, pos, neg);
  return RatioLossOfDistances(d.d_pos, d.d_neg);
}

torch::Tensor ContrastiveLoss(const torch::Tensor& d2, const torch::Tensor& y, double margin) {
  return models::MarginContrastiveLoss(d2, y, margin, "attention10k ContrastiveLoss");
}

torch::Tensor SupervisionGrid(const torch::Tensor& gt, int64_t h, int64_t w, SupervisionTarget target) {
  TORCH_CHECK(gt.dim() == 3, "attention10k: gt_map must be [B,H,W], got ", gt.sizes());
  torch::Tensor c = gt.size(1) == h && gt.size(2) == w
                        ? gt
                        : F::adaptive_avg_pool2d(gt.unsqueeze(1), F::AdaptiveAvgPool2dFuncOptions({h, w})).squeeze(1);
  switch (target) {
    case SupervisionTarget::kBinary: return (c >= 0.5).to(gt.dtype());
    case SupervisionTarget::kSoft: return c;
    case SupervisionTarget::kDistribution: {
      const torch::Tensor sum = c.flatten(1).sum(1).view({-1, 1, 1});
      return torch::where(sum > 0, c / sum.clamp_min(1e-12), torch::zeros_like(c));
    }
  }
  return c;
}

torch::Tensor SupervisedAttentionLoss(const torch::Tensor& logits, const torch::Tensor& gt, const torch::Tensor& has_gt,
                                      SupervisionTarget target) {
  TORCH_CHECK(logits.dim() == 3, "attention10k: attention logits must be [B,h,w], got ", logits.sizes());
  if (!gt.defined() || !has_gt.defined() || !has_gt.any().item<bool>()) return torch::zeros({}, logits.options());
  TORCH_CHECK(gt.dim() == 3 && gt.size(0) == logits.size(0) && has_gt.numel() == logits.size(0),
              "attention10k: expected gt_map [B,H,W] and has_gt [B] with B = ", logits.size(0), ", got ", gt.sizes(),
              " and ", has_gt.sizes());
  const torch::Tensor g =
      SupervisionGrid(gt.to(logits.dtype()), logits.size(1), logits.size(2), target).flatten(1);  // [B,h*w]
  const torch::Tensor log_alpha = torch::log_softmax(logits.flatten(1), 1);
  const torch::Tensor weight = has_gt.to(logits.dtype()).flatten();
  // Samples without GT contribute 0 but still count in the mean (the reference multiplies by weights[:,0]).
  return (weight * -(g * log_alpha).sum(1)).mean();
}

}  // namespace avsl::plugins::attention10k
