// DSOL stage one (Hu et al., NeurIPS 2020; see README.md) as free functions: the sigmoid-of-scaled-cosine
// map, the BCE on its maximum, the object mask (threshold + the released 4-neighbour dilation), the masked object
// features and the k-means that turns them into pseudo labels. The plugin and its tests share them.
#pragma once

#include <cstdint>

#include <torch/types.h>

namespace avsl::plugins::dsol {

/// av_map = σ(w · Σ_c normalize(v)_c · normalize(a)_c): v [B,D,h,w] projected image map, a [B,D] projected audio
/// vector of the same pair, w the 1x1 conv_av weight (a [1,1,1,1] tensor; the released init is 5). [B,h,w].
torch::Tensor DsolAvMap(const torch::Tensor& v, const torch::Tensor& a, const torch::Tensor& conv_av_weight);

/// nn.BCELoss over the 2B pairs: av_output = max_hw(av_map) is 1 for (audio, own image) and 0 for (audio, other
/// image). Mean of −log p_pos and −log(1 − p_neg), logs clamped at −100 as PyTorch's BCELoss does.
torch::Tensor DsolLocalizationLoss(const torch::Tensor& pos_max, const torch::Tensor& neg_max);

/// training_stage_one.py::location_dilation: every set pixel stays set; an *interior* set pixel (not on the border)
/// also sets its 4 neighbours. Reads only the undilated input (no cascade). mask [B,h,w] (bool or 0/1) -> float.
torch::Tensor Dilate4(const torch::Tensor& mask);

/// extract_feature: obj = mean over all h·w positions of v_fea · dilate4(av_map > threshold) (the mean divides by
/// h·w, not by the mask area). v_fea [B,C,h,w], av_map [B,h,w] -> [B,C].
torch::Tensor ObjectFeatures(const torch::Tensor& v_fea, const torch::Tensor& av_map, double threshold);

struct KMeansResult {
  torch::Tensor centroids;  ///< [K,D]
  torch::Tensor labels;     ///< [N] int64
  double inertia = 0;       ///< Σ squared distance to the assigned centroid
  int64_t iterations = 0;   ///< Lloyd iterations of the kept restart
};

/// Lloyd k-means (sklearn KMeans(algorithm='full') semantics: k-means++ seeding, `restarts` runs, the lowest
/// inertia kept, stop when the centroids move less than tol·mean variance of the data, in squared norm). Seeding
/// draws from torch's global generator, so it follows the recipe seed and the checkpointed RNG. data [N,D], N ≥ K.
/// An empty cluster is re-seeded with the point farthest from its centroid.
KMeansResult KMeans(const torch::Tensor& data, int64_t k, int64_t max_iter, int64_t restarts, double tol);

/// Index of the nearest centroid (squared Euclidean) for each row of x [B,D]; centroids [K,D] -> [B] int64.
torch::Tensor NearestCentroid(const torch::Tensor& x, const torch::Tensor& centroids);

}  // namespace avsl::plugins::dsol
