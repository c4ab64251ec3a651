// EZ-VSL's similarity maps and multiple-instance contrastive loss as free functions on embeddings, so the
// arithmetic is testable on fixed tensors without building a model (reference_spec.md §1.2, §2.1).
#pragma once

#include <torch/types.h>

namespace avsl::plugins::ezvsl {

/// All-pairs similarity S[n,m,h,w] = <v[n,:,h,w], a[m,:]> / tau (einsum 'nchw,mc->nmhw').
/// `v`: [N,C,h,w] and `a`: [M,C], both already L2-normalized over C.
torch::Tensor AllPairSimilarity(const torch::Tensor& v, const torch::Tensor& a, double tau);

/// The localization map of each matching pair, S[n,n] = <v[n,:,h,w], a[n,:]> / tau: [N,h,w].
torch::Tensor PairSimilarity(const torch::Tensor& v, const torch::Tensor& a, double tau);

/// The reference `max_xmil_loss`: logits[n,m] = max_{h,w} S[n,m,h,w], then
/// CE(logits, arange(N)) + CE(logits^T, arange(N)) with mean reduction (weights 1 and 1). Needs N == M.
torch::Tensor MilContrastiveLoss(const torch::Tensor& v, const torch::Tensor& a, double tau);

}  // namespace avsl::plugins::ezvsl
