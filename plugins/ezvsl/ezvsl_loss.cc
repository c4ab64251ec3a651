#include "ezvsl_loss.h"

#include <torch/torch.h>

namespace avsl::plugins::ezvsl {

torch::Tensor AllPairSimilarity(const torch::Tensor& v, const torch::Tensor& a, double tau) {
  return torch::einsum("nchw,mc->nmhw", {v, a}) / tau;
}

torch::Tensor PairSimilarity(const torch::Tensor& v, const torch::Tensor& a, double tau) {
  return torch::einsum("nchw,nc->nhw", {v, a}) / tau;
}

torch::Tensor MilContrastiveLoss(const torch::Tensor& v, const torch::Tensor& a, double tau) {
  TORCH_CHECK(v.dim() == 4 && a.dim() == 2 && v.size(0) == a.size(0) && v.size(1) == a.size(1),
              "MilContrastiveLoss: expected v [N,C,h,w] and a [N,C], got ", v.sizes(), " and ", a.sizes());
  // Max over the h*w locations: the multiple-instance step (some location of image n holds audio m's source).
  torch::Tensor logits = std::get<0>(AllPairSimilarity(v, a, tau).flatten(2).max(2));  // [N, M]
  torch::Tensor labels = torch::arange(logits.size(0), logits.options().dtype(torch::kLong));
  namespace F = torch::nn::functional;
  return F::cross_entropy(logits, labels) + F::cross_entropy(logits.t(), labels);
}

}  // namespace avsl::plugins::ezvsl
