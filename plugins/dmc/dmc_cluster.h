// DMC's differentiable soft k-means (Cluster_layer), centre distances and contrastive loss as free functions on
// tensors, testable without a model (Simplified_DMC / DSOL `compared model/dmc_model.py`), and the map readout.
#pragma once

#include <torch/types.h>

namespace avsl::plugins::dmc {

/// Result of SoftKMeans.
struct Clusters {
  torch::Tensor centres;     ///< [B,K,D]
  torch::Tensor assignment;  ///< [B,K,N] soft assignment of the last iteration (softmax over K)
  /// [B,K,N] the last iteration's point-to-centre distances d: assignment = softmax_k(-beta * point_distances).
  torch::Tensor point_distances;
};

/// Cluster_layer.forward: centres start at u[:, k * floor(N/K)] (k = 0..K-1); then `iters` times
///   d[k,n] = sqrt(max(|o_k|^2 - 2 o_k.u_n + |u_n|^2, 1e-10)),  c = softmax_k(-beta * d),
///   o_k = sum_n c[k,n] u_n / sum_n c[k,n].
/// `u` [B,N,D]; needs 1 <= K <= N and iters >= 1. `beta` > 0 here (the code multiplies by beta = -30).
/// Returns the final centres and the last iteration's c and d (the d whose softmax is c).
Clusters SoftKMeans(const torch::Tensor& u, int64_t k, int64_t iters, double beta);

/// D[b,k,l] = sqrt(max(|o_v_k|^2 - 2 o_v_k.o_a_l + |o_a_l|^2, 1e-10)) for centres [B,Kv,D] and [B,Ka,D].
torch::Tensor CentreDistances(const torch::Tensor& visual, const torch::Tensor& audio);

/// DSOL's ContrastiveLoss: with d2 = sum over the audio clusters of (min_k D)^2 per pair ([N]) and labels y [N]
/// (1 matching, 0 negative): mean(0.5 * (y * d2 + (1 - y) * relu(margin - sqrt(d2 + 1e-9))^2))
/// (avsl::models::MarginContrastiveLoss).
torch::Tensor ContrastiveLoss(const torch::Tensor& d2, const torch::Tensor& y, double margin);

/// The sounding visual cluster k* [B] (int64): the visual centre of distance rank `rank` to the audio centres
/// (ranked by min_l D[b,k,l], ascending). rank 0 = the nearest, k* = argmin_k (the only cluster the loss ties to
/// the audio); rank 1 = the second nearest (with Kv = 2 the other cluster). `distances` [B,Kv,Ka]; needs
/// rank < Kv. The released code defines no readout: it dumps all Kv assignment rows, and its
/// `idx = sort(av_dists)[:,1]` (rank 1) is computed and never used.
torch::Tensor SoundingCluster(const torch::Tensor& distances, int64_t rank = 0);

/// The map: the assignment logit of cluster k* ([B] int64) from the last iteration's point distances d
/// [B,K,N] of SoftKMeans with the same `beta` -> [B,N]:
///   map_n = -beta d[k*,n] - logsumexp_{k != k*}(-beta d[k,n]) = log c[k*,n] - log(1 - c[k*,n]),
/// computed as -logsumexp_{k != k*}(-beta (d[k,n] - d[k*,n])); for K = 2 it is beta (d[other,n] - d[k*,n]).
/// It is strictly increasing in c[k*,n], so it ranks the positions as the assignment row does, but it does not
/// saturate: in float32 the softmax row is exactly 1.0 wherever the logit exceeds ln 2^24 ~ 16.6. Unbounded.
/// K = 1: c = 1 everywhere and the logit is +inf; the map is then all zeros (constant, as the row of ones).
torch::Tensor AssignmentLogit(const torch::Tensor& point_distances, const torch::Tensor& cluster, double beta);

}  // namespace avsl::plugins::dmc
