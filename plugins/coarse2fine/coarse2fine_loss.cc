#include "coarse2fine_loss.h"

#include <torch/torch.h>

namespace avsl::plugins::coarse2fine {

namespace F = torch::nn::functional;

torch::Tensor AvcLoss(const torch::Tensor& avc) {
  TORCH_CHECK(avc.dim() == 3 && avc.size(0) == avc.size(1) && avc.size(2) == 2 && avc.size(0) >= 2,
              "coarse2fine: avc logits must be [N,N,2] with N >= 2, got ", avc.sizes());
  const int64_t n = avc.size(0);
  const torch::Tensor eye = torch::eye(n, torch::TensorOptions().dtype(torch::kLong).device(avc.device()));
  const torch::Tensor ce = F::cross_entropy(avc.reshape({-1, 2}), eye.reshape({-1}),
                                            F::CrossEntropyFuncOptions().reduction(torch::kNone))
                               .view({n, n});
  const torch::Tensor diag = eye.to(torch::kBool);
  return ce.masked_select(diag).mean() / 2 + ce.masked_select(~diag).mean() / 2;
}

torch::Tensor ClassLoss(const torch::Tensor& logits, const torch::Tensor& target, const torch::Tensor& valid) {
  TORCH_CHECK(logits.sizes() == target.sizes() && valid.dim() == 1 && valid.size(0) == logits.size(0),
              "coarse2fine: class logits ", logits.sizes(), ", targets ", target.sizes(), ", valid ", valid.sizes());
  if (!valid.any().item<bool>()) return logits.sum() * 0;
  const torch::Tensor rows = valid.nonzero().squeeze(1);
  return torch::binary_cross_entropy(torch::sigmoid(logits.index_select(0, rows)), target.index_select(0, rows));
}

torch::Tensor ClassFeatures(const torch::Tensor& feat, const torch::Tensor& cam) {
  TORCH_CHECK(feat.dim() == 4 && cam.dim() == 4 && feat.size(0) == cam.size(0) && feat.size(2) == cam.size(2) &&
                  feat.size(3) == cam.size(3),
              "coarse2fine: features [N,D,h,w] and CAMs [N,C,h,w] expected, got ", feat.sizes(), " and ", cam.sizes());
  const torch::Tensor f = feat.flatten(2), c = cam.flatten(2);  // [N,D,hw], [N,C,hw]
  const double hw = static_cast<double>(f.size(2));
  const torch::Tensor mean = torch::bmm(f, c.transpose(1, 2)) / hw;  // mean_hw(feat·cam_c): [N,D,C]
  const torch::Tensor weight = c.sum(2);                             // [N,C]
  return mean / (weight.unsqueeze(1) + 1e-10);
}

torch::Tensor AlignLoss(const torch::Tensor& fine_a, const torch::Tensor& fine_v, const torch::Tensor& cls_a,
                        const torch::Tensor& cls_v, double threshold, double margin) {
  TORCH_CHECK(fine_a.sizes() == fine_v.sizes() && fine_a.dim() == 3 && cls_a.sizes() == cls_v.sizes(),
              "coarse2fine: fine features ", fine_a.sizes(), " / ", fine_v.sizes(), ", logits ", cls_a.sizes(), " / ",
              cls_v.sizes());
  const int64_t d = fine_a.size(1);
  // contrastive(): permute(0,2,1).view(-1, D): row i·C + c.
  const torch::Tensor fa = fine_a.permute({0, 2, 1}).reshape({-1, d});
  const torch::Tensor fv = fine_v.permute({0, 2, 1}).reshape({-1, d});
  const torch::Tensor dist = 2 - 2 * torch::mm(fa, fv.t());
  // filter_prob: hard 0/1 gates, no gradient through them.
  const torch::Tensor eff = ((torch::sigmoid(cls_a).reshape({-1, 1}) > threshold) &
                             (torch::sigmoid(cls_v).reshape({1, -1}) > threshold))
                                .to(dist.dtype());
  const torch::Tensor pos = torch::eye(dist.size(0), dist.options());
  const torch::Tensor neg = 1 - pos;
  const torch::Tensor pos_dis = (dist * eff * pos).sum() / (pos * eff + 1e-10).sum();
  const torch::Tensor hinge = torch::relu(margin - dist.clamp_min(1e-12).sqrt()).pow(2);
  const torch::Tensor neg_dis = (hinge * eff * neg).sum() / (neg * eff + 1e-10).sum();
  return pos_dis + neg_dis;
}

torch::Tensor ClassAwareMap(const torch::Tensor& fine_a, const torch::Tensor& fine_v, const torch::Tensor& p,
                            double threshold, bool relu) {
  TORCH_CHECK(fine_a.dim() == 3 && fine_v.dim() == 3 && fine_a.size(0) == fine_v.size(0) &&
                  fine_a.size(1) == fine_v.size(1) && p.dim() == 2 && p.size(1) == fine_a.size(2),
              "coarse2fine: fine_a [N,D,C], fine_v [N,D,hw], p [N,C] expected, got ", fine_a.sizes(), ", ",
              fine_v.sizes(), ", ", p.sizes());
  torch::Tensor sim = torch::einsum("bij,bik->bjk", {fine_a, fine_v});  // [N,C,hw]
  if (relu) sim = torch::relu(sim);
  torch::Tensor eff = (p > threshold).to(p.dtype());
  eff.scatter_(1, p.argmax(1, /*keepdim=*/true), 1.0);
  const torch::Tensor w = eff * p;                                                       // [N,C]
  const torch::Tensor map = (sim * w.unsqueeze(2)).sum(1) / w.sum(1, /*keepdim=*/true);  // [N,hw]
  // With the ReLU the map is >= 0 and max |map| = max(map): the released division by the maximum. Without it,
  // dividing by max |map| (a positive number) keeps the order of the cells and bounds the map to [-1, 1].
  const torch::Tensor top = (relu ? map : map.abs()).amax(1, /*keepdim=*/true);
  return torch::where(top > 0, map / top.clamp_min(1e-30), map);
}

}  // namespace avsl::plugins::coarse2fine
