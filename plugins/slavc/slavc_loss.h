// SLAVC's loss, localization map and confidence as free functions (reference_spec.md §1.3, §1.5, §2.2), so the
// plugin and its golden-value / parity tests share one implementation.
#pragma once

#include <torch/types.h>

namespace avsl::plugins::slavc {

/// L2-normalized features of one branch (online or momentum target).
struct SlavcFeatures {
  torch::Tensor img1, img2;  ///< [N,D,h,w], head 1 and head 2
  torch::Tensor aud1, aud2;  ///< [M,D]
};

struct SlavcLossTerms {
  torch::Tensor i2a;    ///< [N,M] logits: online image vs target audio
  torch::Tensor a2i;    ///< [N,M] logits: target image vs online audio
  torch::Tensor total;  ///< CE(a2i, arange) + CE(i2a, arange), scalar
};

/// log Σ_k softmax_m(<img_a[n,:,k], aud_a[m]>/τ) · softmax_k(<img_b[n,:,k], aud_b[m]>/τ), as
/// logsumexp_k(log_softmax_m + log_softmax_k): the reference's log(Σ P1·P2) without underflow. [N,M].
torch::Tensor SlavcPairLogits(const torch::Tensor& img_a, const torch::Tensor& aud_a, const torch::Tensor& img_b,
                              const torch::Tensor& aud_b, double tau);

/// The asymmetric SLAVC loss. Both terms classify image n among the audios m (softmax over dim 1); i2a takes the
/// online images and the target audios, a2i the target images and the online audios. Requires N == M.
SlavcLossTerms SlavcLoss(const SlavcFeatures& online, const SlavcFeatures& target, double tau);

/// Savl = (<img1[n,:,h,w], aud1[n]> + <img2[n,:,h,w], aud2[n]>) / (2τ), shape [N,h,w], in [-1/τ, 1/τ].
torch::Tensor SlavcMap(const SlavcFeatures& features, double tau);

/// SLAVC's confidence (test.py): maps upsampled bicubically (align_corners = true) to size×size, mapped from
/// [-1/τ, 1/τ] to [0,1], then the mean of the top ceil(n/4) pixels (numpy's sort(x)[-n//4:]). [N].
torch::Tensor SlavcConfidence(const torch::Tensor& maps, double tau, int64_t size);

}  // namespace avsl::plugins::slavc
