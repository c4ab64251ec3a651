#include "fnac_loss.h"

#include "avsl/models/autocast_off.h"
#include "avsl/models/objectives.h"

namespace avsl::plugins::fnac {

namespace F = torch::nn::functional;

namespace {

// bf16 / fp16 embeddings (made under autocast) to fp32; fp32 and fp64 stay as they are.
torch::Tensor AtLeastFloat(const torch::Tensor& t) {
  return t.scalar_type() == torch::kBFloat16 || t.scalar_type() == torch::kHalf ? t.to(torch::kFloat) : t;
}

}  // namespace

FnacLossTerms FnacLoss(const torch::Tensor& image, const torch::Tensor& audio, const FnacLossOptions& o) {
  TORCH_CHECK(image.dim() == 4 && audio.dim() == 2 && image.size(0) == audio.size(0) && image.size(1) == audio.size(1),
              "fnac.FNAC: expected image [B,D,h,w] and audio [B,D] with equal B and D, got ", image.sizes(), " and ",
              audio.sizes());
  // Every term is a softmax of cosines / tau: the SDK's rule for contrastive logits applies (they stay out of bf16
  // under amp, avsl/models/autocast_off.h), as in models::AllPairSimilarity.
  models::AutocastOff fp32;
  const torch::Tensor img = AtLeastFloat(image), aud = AtLeastFloat(audio);
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
  FnacLossTerms t;
  t.logits = logits;
  t.infonce = models::SymmetricInfoNce(logits);
  const torch::Tensor p_logits = torch::softmax(logits, 1);
  const torch::Tensor p_aud = torch::softmax(aud_attn, 1);
  t.fns1 = F::l1_loss(p_aud, p_logits);
  t.tns = F::l1_loss(p_aud, torch::softmax(frg_attn, 1));
  t.fns2 = F::l1_loss(torch::softmax(img_attn, 1), p_logits);
  t.total = t.infonce + o.fns1_weight * t.fns1 + o.tns_weight * t.tns + o.fns2_weight * t.fns2;
  return t;
}

}  // namespace avsl::plugins::fnac
