#include "ssltie_loss.h"

#include <vector>

#include <torch/torch.h>

#include "avsl/models/objectives.h"

namespace avsl::plugins::ssltie {

SslTieLossTerms SslTieLoss(const torch::Tensor& image1, const torch::Tensor& image2, const torch::Tensor& audio,
                           const GeometricTransform& transform, const SslTieLossOptions& o,
                           const torch::Tensor& negatives, int64_t rows_offset) {
  namespace F = torch::nn::functional;
  TORCH_CHECK(image1.dim() == 4 && image2.dim() == 4 && audio.dim() == 2 && image1.size(0) == audio.size(0) &&
                  image2.size(0) == audio.size(0) && image1.size(1) == audio.size(1) && image2.size(1) == audio.size(1),
              "SslTieLoss: expected views [B,C,h,w] and audio [B,C], got ", image1.sizes(), ", ", image2.sizes(),
              " and ", audio.sizes());
  const torch::Tensor& all = negatives.defined() ? negatives : audio;
  SslTieLossTerms t;
  const models::LvsLossTerms l1 = models::LvsLoss(models::AllPairSimilarity(image1, all, 1.0), o.lvs, {},
                                                  negatives.defined() ? rows_offset : -1);
  const models::LvsLossTerms l2 = models::LvsLoss(models::AllPairSimilarity(image2, all, 1.0), o.lvs, {},
                                                  negatives.defined() ? rows_offset : -1);
  t.view1 = l1.loss;
  t.view2 = l2.loss;
  t.positive1 = l1.positive;
  const torch::Tensor a1 = models::PairSimilarity(image1, audio, 1.0).unsqueeze(1);  // [B,1,h,w]
  t.map2 = models::PairSimilarity(image2, audio, 1.0).unsqueeze(1);
  t.target = WarpLikeSslTie(o.detach_target ? a1.detach() : a1, transform);
  if (t.target.sizes() != t.map2.sizes()) {
    // The reference's forward resizes when the two maps differ (never at 224 px; possible for odd frame sizes).
    t.target = F::interpolate(t.target, F::InterpolateFuncOptions()
                                            .size(std::vector<int64_t>{t.map2.size(2), t.map2.size(3)})
                                            .mode(torch::kBilinear)
                                            .align_corners(false));
  }
  const torch::Tensor diff = t.map2.to(t.target.scalar_type()) - t.target;
  t.equivariance = o.l1 ? diff.abs().mean() : diff.pow(2).mean();
  t.total = 0.5 * (t.view1 + t.view2) + o.equivariance_weight * t.equivariance;
  return t;
}

}  // namespace avsl::plugins::ssltie
