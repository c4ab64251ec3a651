#include "hard_positives.h"

#include <algorithm>
#include <limits>
#include <vector>

#include <torch/torch.h>

namespace avsl::plugins::hardpos {
namespace {

// Indices [B,k] of the k most cosine-similar other rows of `x` [B,D].
torch::Tensor NearestOthers(const torch::Tensor& x, int64_t k) {
  namespace F = torch::nn::functional;
  const torch::Tensor u = F::normalize(x.detach().flatten(1), F::NormalizeFuncOptions().dim(1));
  const torch::Tensor eye = torch::eye(u.size(0), u.options().dtype(torch::kBool));
  const torch::Tensor sim = u.matmul(u.t()).masked_fill(eye, -std::numeric_limits<double>::infinity());
  return std::get<1>(sim.topk(k, 1));
}

}  // namespace

HardPositives MineHardPositives(const torch::Tensor& a0, const torch::Tensor& audio, const torch::Tensor& visual,
                                const HardPositiveOptions& o) {
  TORCH_CHECK(a0.dim() == 4 && a0.size(0) == a0.size(1), "MineHardPositives: expected a0 [B,B,h,w], got ", a0.sizes());
  const int64_t b = a0.size(0);
  const int64_t k = std::min<int64_t>(o.neighbors, b - 1);
  HardPositives out;
  if (k <= 0 || (!o.audio && !o.visual)) return out;
  const torch::Tensor idx = torch::arange(b, a0.options().dtype(torch::kLong));
  std::vector<torch::Tensor> maps = {a0.index({idx, idx})};  // S_{i->i}
  torch::Tensor removed = torch::zeros({b, b}, a0.options().dtype(torch::kBool));
  {
    torch::NoGradGuard no_grad;
    if (o.audio) out.audio_nn = NearestOthers(audio, k);
    if (o.visual) out.visual_nn = NearestOthers(visual, k);
  }
  for (int64_t j = 0; j < k; ++j) {
    if (o.audio) {
      const torch::Tensor ja = out.audio_nn.select(1, j);
      maps.push_back(a0.index({idx, ja}));  // S_{i->j_a}: image i, the similar sample's audio
      removed.scatter_(1, ja.unsqueeze(1), true);
    }
    if (o.visual) {
      const torch::Tensor jv = out.visual_nn.select(1, j);
      maps.push_back(a0.index({jv, idx}));  // S_{j_v->i}: the similar sample's image, audio i
      // The mined pair itself (image j_v, audio i) leaves anchor j_v's negatives (the paper removes the mined
      // pairs from the negative set); (image i, audio j_v) leaving row i is this plugin's extra assumption.
      removed.index_put_({jv, idx}, true);
      removed.scatter_(1, jv.unsqueeze(1), true);
    }
  }
  if (o.combine == HardPositiveOptions::Combine::kScore) {
    out.extra.more_positive_maps = torch::stack(std::vector<torch::Tensor>(maps.begin() + 1, maps.end()), 1);
  } else {
    torch::Tensor positive = torch::stack(maps).sum(0);
    if (o.combine == HardPositiveOptions::Combine::kMapMean) positive = positive / static_cast<double>(maps.size());
    out.extra.positive_map = positive;
  }
  if (o.remove_negatives) out.extra.remove_negative = removed;
  return out;
}

}  // namespace avsl::plugins::hardpos
