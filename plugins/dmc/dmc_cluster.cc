#include "dmc_cluster.h"

#include <torch/torch.h>

#include <limits>
#include <vector>

#include "avsl/models/model_ops.h"

namespace avsl::plugins::dmc {

namespace {

// sqrt(max(|x|^2 - 2 x.y + |y|^2, 1e-10)) for x [B,K,D], y [B,N,D] -> [B,K,N]: the reference's expansion (not
// (x - y).norm()), so the values and the gradient floor at 1e-5 match it.
torch::Tensor ExpandedDistance(const torch::Tensor& x, const torch::Tensor& y) {
  const torch::Tensor nx = x.pow(2).sum(2, true);                  // [B,K,1]
  const torch::Tensor ny = y.pow(2).sum(2, true).transpose(1, 2);  // [B,1,N]
  const torch::Tensor qq = nx - 2 * torch::bmm(x, y.transpose(1, 2)) + ny;
  return torch::sqrt(torch::clamp_min(qq, 1e-10));
}

}  // namespace

Clusters SoftKMeans(const torch::Tensor& u, int64_t k, int64_t iters, double beta) {
  TORCH_CHECK(u.dim() == 3, "dmc SoftKMeans: expected u [B,N,D], got ", u.sizes());
  const int64_t n = u.size(1);
  TORCH_CHECK(k >= 1 && k <= n, "dmc SoftKMeans: ", k, " clusters need at least as many positions, got ", n);
  TORCH_CHECK(iters >= 1, "dmc SoftKMeans: iters must be >= 1, got ", iters);
  const int64_t interval = n / k;  // int(input_num / num_cluster)
  std::vector<int64_t> start(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) start[static_cast<size_t>(i)] = i * interval;
  torch::Tensor o = u.index_select(1, torch::tensor(start, torch::TensorOptions().dtype(torch::kLong)).to(u.device()));
  torch::Tensor c, d;
  for (int64_t it = 0; it < iters; ++it) {
    d = ExpandedDistance(o, u);        // kept for the map's logit (AssignmentLogit); same ops as before
    c = torch::softmax(-beta * d, 1);  // over the K clusters
    o = torch::bmm(c, u) / c.sum(2, true);
  }
  return {o, c, d};
}

torch::Tensor CentreDistances(const torch::Tensor& visual, const torch::Tensor& audio) {
  TORCH_CHECK(
      visual.dim() == 3 && audio.dim() == 3 && visual.size(0) == audio.size(0) && visual.size(2) == audio.size(2),
      "dmc CentreDistances: expected [B,Kv,D] and [B,Ka,D], got ", visual.sizes(), " and ", audio.sizes());
  return ExpandedDistance(visual, audio);
}

torch::Tensor ContrastiveLoss(const torch::Tensor& d2, const torch::Tensor& y, double margin) {
  return models::MarginContrastiveLoss(d2, y, margin, "dmc ContrastiveLoss");
}

torch::Tensor SoundingCluster(const torch::Tensor& distances, int64_t rank) {
  TORCH_CHECK(distances.dim() == 3, "dmc SoundingCluster: expected distances [B,Kv,Ka], got ", distances.sizes());
  TORCH_CHECK(rank >= 0 && rank < distances.size(1), "dmc: sounding_cluster needs at least ", rank + 1,
              " visual clusters, got visual_clusters = ", distances.size(1));
  const torch::Tensor per_cluster = std::get<0>(distances.min(2));                              // [B,Kv]
  return rank == 0 ? per_cluster.argmin(1) : std::get<1>(per_cluster.sort(1)).select(1, rank);  // [B]
}

torch::Tensor AssignmentLogit(const torch::Tensor& point_distances, const torch::Tensor& cluster, double beta) {
  TORCH_CHECK(point_distances.dim() == 3 && cluster.dim() == 1 && cluster.size(0) == point_distances.size(0),
              "dmc AssignmentLogit: expected point distances [B,K,N] and clusters [B], got ", point_distances.sizes(),
              " and ", cluster.sizes());
  const int64_t b = point_distances.size(0), k = point_distances.size(1), n = point_distances.size(2);
  if (k == 1) return torch::zeros({b, n}, point_distances.options());
  const torch::Tensor index = cluster.to(point_distances.device(), torch::kLong).view({-1, 1, 1});  // [B,1,1]
  const torch::Tensor chosen = point_distances.gather(1, index.expand({-1, 1, n}));                 // [B,1,N]
  const torch::Tensor is_chosen = torch::arange(k, index.options()).view({1, k, 1}).eq(index).expand({b, k, n});
  // -beta (d_k - d_k*): 0 on the chosen row, which is masked out; logsumexp over the other K - 1 rows.
  const torch::Tensor z =
      (-beta * (point_distances - chosen)).masked_fill(is_chosen, -std::numeric_limits<double>::infinity());
  return -torch::logsumexp(z, {1}, /*keepdim=*/false);
}

}  // namespace avsl::plugins::dmc
