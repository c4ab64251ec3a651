// DMC's differentiable soft k-means (Cluster_layer), centre distances and contrastive loss as free functions on
// tensors, testable without a model (Simplified_DMC / DSOL `compared model/dmc_model.py`).
#pragma once

#include <torch/types.h>

namespace avsl::plugins::dmc {

/// Result of SoftKMeans.
struct Clusters {
  torch::Tensor centres;     ///< [B,K,D]
  torch::Tensor assignment;  ///< [B,K,N] soft assignment of the last iteration (softmax over K)
};

/// Cluster_layer.forward: centres start at u[:, k * floor(N/K)] (k = 0..K-1); then `iters` times
///   d[k,n] = sqrt(max(|o_k|^2 - 2 o_k.u_n + |u_n|^2, 1e-10)),  c = softmax_k(-beta * d),
///   o_k = sum_n c[k,n] u_n / sum_n c[k,n].
/// `u` [B,N,D]; needs 1 <= K <= N and iters >= 1. `beta` > 0 here (the code multiplies by beta = -30).
Clusters SoftKMeans(const torch::Tensor& u, int64_t k, int64_t iters, double beta);

/// D[b,k,l] = sqrt(max(|o_v_k|^2 - 2 o_v_k.o_a_l + |o_a_l|^2, 1e-10)) for centres [B,Kv,D] and [B,Ka,D].
torch::Tensor CentreDistances(const torch::Tensor& visual, const torch::Tensor& audio);

/// DSOL's ContrastiveLoss: with d2 = sum over the audio clusters of (min_k D)^2 per pair ([N]) and labels y [N]
/// (1 matching, 0 negative): mean(0.5 * (y * d2 + (1 - y) * relu(margin - sqrt(d2 + 1e-9))^2))
/// (avsl::models::MarginContrastiveLoss).
torch::Tensor ContrastiveLoss(const torch::Tensor& d2, const torch::Tensor& y, double margin);

/// The sounding map: the assignment row of the visual centre of distance rank `rank` to the audio centres
/// (ranked by min_l D[b,k,l], ascending). rank 0 = the nearest, k* = argmin_k (the paper's reading); rank 1 = the
/// second nearest, the released code's unused idx = sort(D)[:,1]. `assignment` [B,Kv,N], `distances`
/// [B,Kv,Ka] -> [B,N]; needs rank < Kv.
torch::Tensor SoundingAssignment(const torch::Tensor& assignment, const torch::Tensor& distances, int64_t rank = 0);

}  // namespace avsl::plugins::dmc
