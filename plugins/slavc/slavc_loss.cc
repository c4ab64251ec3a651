#include "slavc_loss.h"

#include <torch/torch.h>

#include <stdexcept>
#include <string>

namespace avsl::plugins::slavc {
namespace {

// Cross-entropy against arange(N), mean reduction: F.cross_entropy(logits, arange(N)).
torch::Tensor DiagonalCrossEntropy(const torch::Tensor& logits) {
  return -torch::log_softmax(logits, 1).diagonal().mean();
}

}  // namespace

torch::Tensor SlavcPairLogits(const torch::Tensor& img_a, const torch::Tensor& aud_a, const torch::Tensor& img_b,
                              const torch::Tensor& aud_b, double tau) {
  // s[n,m,k] = <img[n,:,k], aud[m]> / τ with k the flattened h×w location.
  const torch::Tensor s1 = torch::einsum("nchw,mc->nmhw", {img_a, aud_a}).flatten(2) / tau;
  const torch::Tensor s2 = torch::einsum("nchw,mc->nmhw", {img_b, aud_b}).flatten(2) / tau;
  // P1: over audios (dim 1); P2: over locations (dim 2). log Σ_k P1·P2 = logsumexp_k(log P1 + log P2), which
  // stays finite where the reference's product of probabilities underflows.
  return torch::logsumexp(torch::log_softmax(s1, 1) + torch::log_softmax(s2, 2), 2);
}

SlavcLossTerms SlavcLoss(const SlavcFeatures& online, const SlavcFeatures& target, double tau) {
  if (online.img1.size(0) != online.aud1.size(0)) {
    throw std::invalid_argument("SlavcLoss: " + std::to_string(online.img1.size(0)) + " images vs " +
                                std::to_string(online.aud1.size(0)) + " audios; the positives are the diagonal");
  }
  SlavcLossTerms t;
  t.i2a = SlavcPairLogits(online.img1, target.aud1, online.img2, target.aud2, tau);
  t.a2i = SlavcPairLogits(target.img1, online.aud1, target.img2, online.aud2, tau);
  t.total = DiagonalCrossEntropy(t.a2i) + DiagonalCrossEntropy(t.i2a);
  return t;
}

torch::Tensor SlavcMap(const SlavcFeatures& f, double tau) {
  const torch::Tensor s1 = torch::einsum("nchw,nc->nhw", {f.img1, f.aud1}) / tau;
  const torch::Tensor s2 = torch::einsum("nchw,nc->nhw", {f.img2, f.aud2}) / tau;
  return (s1 + s2) / 2;
}

torch::Tensor SlavcConfidence(const torch::Tensor& maps, double tau, int64_t size) {
  namespace F = torch::nn::functional;
  torch::Tensor up =
      F::interpolate(
          maps.unsqueeze(1),
          F::InterpolateFuncOptions().size(std::vector<int64_t>{size, size}).mode(torch::kBicubic).align_corners(true))
          .flatten(1);
  const torch::Tensor scores = (up + 1.0 / tau) / (2.0 / tau);
  const int64_t n = scores.size(1);
  const int64_t k = (n + 3) / 4;  // -(-n // 4): numpy's sort(x)[-n//4:] keeps ceil(n/4) values
  return std::get<0>(scores.topk(k, 1)).mean(1);
}

}  // namespace avsl::plugins::slavc
