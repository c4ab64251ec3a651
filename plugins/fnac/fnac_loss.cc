#include "fnac_loss.h"

namespace avsl::plugins::fnac {

namespace F = torch::nn::functional;

FnacLossTerms FnacLoss(const torch::Tensor& img, const torch::Tensor& aud, const FnacLossOptions& o) {
  TORCH_CHECK(img.dim() == 4 && aud.dim() == 2 && img.size(0) == aud.size(0) && img.size(1) == aud.size(1),
              "fnac.FNAC: expected image [B,D,h,w] and audio [B,D] with equal B and D, got ", img.sizes(), " and ",
              aud.sizes());
  const int64_t b = img.size(0);
  const double tau = o.tau;
  const torch::Tensor aud_attn = aud.matmul(aud.t()) / tau;
  const torch::Tensor img_avg = img.mean({2, 3});  // AdaptiveAvgPool2d(1)
  const torch::Tensor img_attn = img_avg.matmul(img_avg.t()) / tau;

  const torch::Tensor slogits = torch::einsum("nchw,mc->nmhw", {img, aud}) / tau;  // [B,B,h,w]
  const torch::Tensor own = slogits.diagonal(0, 0, 1).permute({2, 0, 1});          // [B,h,w]: S[n,n]
  const torch::Tensor lo = own.amin({1, 2}, /*keepdim=*/true);
  const torch::Tensor hi = own.amax({1, 2}, /*keepdim=*/true);
  const torch::Tensor loc_map = (own - lo) / (hi - lo + 1e-5);
  // The mask is a comparison: no gradient flows through the map that chose the foreground, only through img.
  const torch::Tensor foreground = (img * (loc_map > o.foreground_threshold).unsqueeze(1)).flatten(2).mean(-1);
  const torch::Tensor frg_attn = foreground.matmul(foreground.t()) / tau;

  const torch::Tensor logits = std::get<0>(slogits.flatten(2).max(-1));  // [B,B]
  const torch::Tensor labels = torch::arange(b, torch::TensorOptions().dtype(torch::kLong).device(img.device()));
  FnacLossTerms t;
  t.logits = logits;
  t.infonce = F::cross_entropy(logits, labels) + F::cross_entropy(logits.t(), labels);
  const torch::Tensor p_logits = torch::softmax(logits, 1);
  const torch::Tensor p_aud = torch::softmax(aud_attn, 1);
  t.fns1 = F::l1_loss(p_aud, p_logits);
  t.tns = F::l1_loss(p_aud, torch::softmax(frg_attn, 1));
  t.fns2 = F::l1_loss(torch::softmax(img_attn, 1), p_logits);
  t.total = t.infonce + o.fns1_weight * t.fns1 + o.tns_weight * t.tns + o.fns2_weight * t.fns2;
  return t;
}

}  // namespace avsl::plugins::fnac
