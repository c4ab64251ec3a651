#include "avsl/models/lvs_loss.h"

#include <algorithm>
#include <limits>

#include <torch/torch.h>

namespace avsl::models {

torch::Tensor WeightedMean(const torch::Tensor& map, const torch::Tensor& weight) {
  return (weight * map).sum({-2, -1}) / weight.sum({-2, -1});
}

LvsLossTerms LvsLoss(const torch::Tensor& a0, const LvsLossOptions& o, const LvsExtra& extra, int64_t rows_offset) {
  // One process (rows_offset < 0): the square all-pair maps. A rank's rows of a global batch: its images against
  // every rank's audios, without HardPos's extra sets (made for the local batch).
  const int64_t offset = std::max<int64_t>(rows_offset, 0);
  const bool extras = extra.positive_map.defined() || extra.more_positive_maps.defined() ||
                      extra.remove_negative.defined();
  TORCH_CHECK(
      a0.dim() == 4 && (rows_offset < 0 ? a0.size(0) == a0.size(1) : offset + a0.size(0) <= a0.size(1) && !extras),
      "LvsLoss: expected all-pair maps [B,B,h,w] (or this rank's rows [n,N,h,w] at an offset, without "
      "extra sets), got ",
      a0.sizes(), " at rows offset ", rows_offset);
  const int64_t b = a0.size(0);
  const torch::Tensor idx = torch::arange(b, a0.options().dtype(torch::kLong));
  const torch::Tensor a = a0.index({idx, idx + offset});  // [B,h,w] = S_{i->i}
  const torch::Tensor pos_map = extra.positive_map.defined() ? extra.positive_map : a;
  TORCH_CHECK(pos_map.sizes() == a.sizes(), "LvsLoss: positive_map must be ", a.sizes(), ", got ", pos_map.sizes());

  // sim1: the soft-thresholded mean of the positive map (Pos is not detached in the reference).
  torch::Tensor positive = WeightedMean(pos_map, torch::sigmoid((pos_map - o.epsilon) / o.tau));
  if (extra.more_positive_maps.defined()) {
    const torch::Tensor& m = extra.more_positive_maps;
    TORCH_CHECK(m.dim() == 4 && m.size(0) == b && m.size(2) == a.size(1) && m.size(3) == a.size(2),
                "LvsLoss: more_positive_maps must be [B,K,h,w] with B,h,w = ", a.sizes(), ", got ", m.sizes());
    const torch::Tensor more = WeightedMean(m, torch::sigmoid((m - o.epsilon) / o.tau));  // [B,K]
    positive = (positive + more.sum(1)) / static_cast<double>(m.size(1) + 1);
  }
  // sim: one summary per (image i, audio j).
  torch::Tensor negatives = o.negatives == NegativeSummary::kMasked
                                ? WeightedMean(a0, torch::sigmoid((a0 - o.epsilon) / o.tau))
                                : a0.mean({-2, -1});
  // sim2: the image's own low-similarity region (the tri-map keeps the band ε'..ε out of both masks).
  const torch::Tensor neg_mask = 1 - torch::sigmoid((a - (o.tri_map ? o.epsilon2 : o.epsilon)) / o.tau);
  const torch::Tensor hard = WeightedMean(a, neg_mask);

  const double inf = std::numeric_limits<double>::infinity();
  // Each row's own pair: the diagonal in one process, column offset + i of row i across ranks.
  torch::Tensor eye = torch::zeros({b, a0.size(1)}, a0.options().dtype(torch::kBool));
  eye.diagonal(offset).fill_(true);
  torch::Tensor removed = eye;
  if (extra.remove_negative.defined()) {
    TORCH_CHECK(extra.remove_negative.sizes() == eye.sizes(), "LvsLoss: remove_negative must be [B,B] = ", eye.sizes(),
                ", got ", extra.remove_negative.sizes());
    removed = removed | extra.remove_negative.to(torch::kBool);
  }
  torch::Tensor logits;
  if (o.objective == LvsObjective::kCode) {
    if (o.diagonal == DiagonalMask::kCode) {
      negatives = negatives * (1 - 100 * eye.to(a0.scalar_type()));  // self.mask, sized by this batch's B
      if (extra.remove_negative.defined()) negatives = negatives.masked_fill(removed & ~eye, -inf);
    } else {
      negatives = negatives.masked_fill(removed, -inf);
    }
    std::vector<torch::Tensor> parts = {positive.unsqueeze(1), negatives};
    if (o.hard_negative) parts.push_back(hard.unsqueeze(1));
    logits = torch::cat(parts, 1) / o.temperature;
  } else {
    // The paper groups every negative into one term: N_i = <1-m_in, S_ii>/|1-m_in| + Σ_{j≠i} N_ij.
    torch::Tensor n = negatives.masked_fill(removed, 0).sum(1);
    if (o.hard_negative) n = n + hard;
    logits = torch::stack({positive, n}, 1) / o.temperature;
  }
  const torch::Tensor target = torch::zeros({b}, a0.options().dtype(torch::kLong));
  return {torch::nn::functional::cross_entropy(logits, target), logits, positive};
}

}  // namespace avsl::models
