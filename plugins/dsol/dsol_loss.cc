#include "dsol_loss.h"

#include <torch/torch.h>

#include <limits>

namespace avsl::plugins::dsol {

namespace F = torch::nn::functional;

torch::Tensor DsolAvMap(const torch::Tensor& v, const torch::Tensor& a, const torch::Tensor& conv_av_weight) {
  TORCH_CHECK(v.dim() == 4 && a.dim() == 2 && v.size(0) == a.size(0) && v.size(1) == a.size(1),
              "dsol: image map [B,D,h,w] and audio vector [B,D] expected, got ", v.sizes(), " and ", a.sizes());
  const torch::Tensor vn = F::normalize(v, F::NormalizeFuncOptions().dim(1));
  const torch::Tensor an = F::normalize(a, F::NormalizeFuncOptions().dim(1));
  const torch::Tensor cos = (vn * an.unsqueeze(-1).unsqueeze(-1)).sum(1);  // [B,h,w]
  return torch::sigmoid(cos * conv_av_weight.reshape({}));
}

torch::Tensor DsolLocalizationLoss(const torch::Tensor& pos_max, const torch::Tensor& neg_max) {
  // batch_organize interleaves (pos, neg) per sample; BCELoss is a mean, so the order does not matter.
  const torch::Tensor p = torch::cat({pos_max.reshape({-1}), neg_max.reshape({-1})});
  const torch::Tensor y = torch::cat(
      {torch::ones_like(pos_max.reshape({-1})), torch::zeros_like(neg_max.reshape({-1}))});
  return torch::binary_cross_entropy(p, y);
}

torch::Tensor Dilate4(const torch::Tensor& mask) {
  TORCH_CHECK(mask.dim() == 3, "dsol: Dilate4 expects [B,h,w], got ", mask.sizes());
  const torch::Tensor m = mask.to(torch::kFloat);
  const int64_t h = m.size(1), w = m.size(2);
  torch::Tensor out = m.clone();
  if (h < 3 || w < 3) return out;  // no interior pixel
  // Interior set pixels spread to their 4 neighbours.
  const torch::Tensor inner = m.index(
      {torch::indexing::Slice(), torch::indexing::Slice(1, h - 1), torch::indexing::Slice(1, w - 1)});
  using torch::indexing::Slice;
  auto spread = [&](int64_t dy, int64_t dx) {
    torch::Tensor dst = out.index({Slice(), Slice(1 + dy, h - 1 + dy), Slice(1 + dx, w - 1 + dx)});
    dst.copy_(torch::maximum(dst, inner));
  };
  spread(1, 0);
  spread(-1, 0);
  spread(0, 1);
  spread(0, -1);
  return out;
}

torch::Tensor ObjectFeatures(const torch::Tensor& v_fea, const torch::Tensor& av_map, double threshold) {
  TORCH_CHECK(v_fea.dim() == 4 && av_map.dim() == 3 && v_fea.size(0) == av_map.size(0) &&
                  v_fea.size(2) == av_map.size(1) && v_fea.size(3) == av_map.size(2),
              "dsol: ObjectFeatures needs v_fea [B,C,h,w] and av_map [B,h,w], got ", v_fea.sizes(), " and ",
              av_map.sizes());
  const torch::Tensor mask = Dilate4(av_map > threshold).to(v_fea.dtype());
  return (v_fea * mask.unsqueeze(1)).mean({2, 3});
}

torch::Tensor NearestCentroid(const torch::Tensor& x, const torch::Tensor& centroids) {
  return torch::cdist(x.to(torch::kFloat), centroids.to(torch::kFloat)).argmin(1);
}

namespace {

// Squared distances [N,K] without cdist's sqrt (exact for the comparisons and the inertia).
// |x|^2 - 2 x.c + |c|^2 through one matmul: O(N*K) memory instead of the O(N*K*D) of broadcasting, which on a
// VGG-Sound bank (N ~ 140k, K = 309, D = 512) would need ~177 GB. Clamped at 0 against cancellation.
torch::Tensor SquaredDistances(const torch::Tensor& x, const torch::Tensor& c) {
  return (x.pow(2).sum(1, /*keepdim=*/true) - 2.0 * x.matmul(c.t()) + c.pow(2).sum(1).unsqueeze(0)).clamp_min(0);
}

// k-means++ (sklearn's greedy variant: 2 + log K candidates per centre, the one lowering the potential most).
torch::Tensor PlusPlusSeeds(const torch::Tensor& x, int64_t k) {
  const int64_t n = x.size(0);
  const int64_t trials = 2 + static_cast<int64_t>(std::log(static_cast<double>(k)));
  std::vector<int64_t> chosen{torch::randint(n, {1}, torch::kLong).item<int64_t>()};
  torch::Tensor closest = SquaredDistances(x, x.index({chosen[0]}).unsqueeze(0)).squeeze(1);  // [N]
  for (int64_t c = 1; c < k; ++c) {
    const double potential = closest.sum().item<double>();
    torch::Tensor candidates;
    if (potential <= 0) {
      candidates = torch::randint(n, {trials}, torch::kLong);
    } else {
      candidates = torch::multinomial(closest / potential, trials, /*replacement=*/true);
    }
    const torch::Tensor cand_d = SquaredDistances(x, x.index({candidates}));  // [N,trials]
    const torch::Tensor new_closest = torch::minimum(closest.unsqueeze(1), cand_d);
    const int64_t best = new_closest.sum(0).argmin().item<int64_t>();
    chosen.push_back(candidates[best].item<int64_t>());
    closest = new_closest.select(1, best);
  }
  return x.index({torch::tensor(chosen, torch::kLong)}).clone();
}

}  // namespace

KMeansResult KMeans(const torch::Tensor& data, int64_t k, int64_t max_iter, int64_t restarts, double tol) {
  TORCH_CHECK(data.dim() == 2 && data.size(0) >= k && k >= 1, "dsol: k-means needs at least K = ", k,
              " feature rows, got ", data.sizes());
  torch::NoGradGuard no_grad;
  const torch::Tensor x = data.to(torch::kDouble);
  const double tol_abs = tol * x.var(0, /*unbiased=*/false).mean().item<double>();
  KMeansResult best;
  best.inertia = std::numeric_limits<double>::infinity();
  for (int64_t run = 0; run < restarts; ++run) {
    torch::Tensor c = PlusPlusSeeds(x, k);
    torch::Tensor labels;
    int64_t it = 0;
    for (; it < max_iter; ++it) {
      labels = SquaredDistances(x, c).argmin(1);
      torch::Tensor sums = torch::zeros_like(c).index_add_(0, labels, x);
      torch::Tensor counts = torch::bincount(labels, {}, k).to(torch::kDouble);
      torch::Tensor next = sums / counts.clamp_min(1).unsqueeze(1);
      const torch::Tensor empty = counts == 0;
      if (empty.any().item<bool>()) {
        // Re-seed an empty cluster with the point farthest from its current centre.
        const torch::Tensor far = SquaredDistances(x, c).gather(1, labels.unsqueeze(1)).squeeze(1);
        const torch::Tensor order = far.argsort(0, /*descending=*/true);
        int64_t used = 0;
        for (int64_t j = 0; j < k; ++j) {
          if (empty[j].item<bool>()) next[j].copy_(x[order[used++].item<int64_t>()]);
        }
      }
      const double shift = (next - c).pow(2).sum().item<double>();
      c = next;
      if (shift <= tol_abs) {
        ++it;
        break;
      }
    }
    labels = SquaredDistances(x, c).argmin(1);
    const double inertia = SquaredDistances(x, c).gather(1, labels.unsqueeze(1)).sum().item<double>();
    if (inertia < best.inertia) {
      best.inertia = inertia;
      best.centroids = c.to(data.dtype());
      best.labels = labels;
      best.iterations = it;
    }
  }
  return best;
}

}  // namespace avsl::plugins::dsol
