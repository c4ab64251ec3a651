// The contrastive objectives that several localization methods share, as functions on L2-normalized embeddings,
// so a plugin composes them (or a variant of them) instead of writing them again. EZ-VSL's multiple-instance
// InfoNCE, SLAVC's asymmetric two-head objective and their similarity maps; the margin contrastive loss on squared
// distances (DMC, Attention10k, DSOL) is MarginContrastiveLoss in avsl/models/model_ops.h.
// A library of the SDK (may change between minor versions; avsl/core is the stable part).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "avsl/core/export.h"

namespace avsl::models {

/// All-pairs similarity S[n,m,h,w] = <v[n,:,h,w], a[m,:]> / tau (einsum 'nchw,mc->nmhw'), with autocast off: in
/// float32, or in double when both operands are double (the parity tests).
/// `v`: [N,C,h,w] and `a`: [M,C], both already L2-normalized over C.
AVSL_EXPORT torch::Tensor AllPairSimilarity(const torch::Tensor& v, const torch::Tensor& a, double tau);

/// The localization map of each matching pair, S[n,n] = <v[n,:,h,w], a[n,:]> / tau: [N,h,w].
AVSL_EXPORT torch::Tensor PairSimilarity(const torch::Tensor& v, const torch::Tensor& a, double tau);

/// The multiple-instance step: logits[n,m] = max over h,w of S[n,m,h,w] (some location of image n holds the
/// source of sound m). [N,M]; the diagonal holds the positives.
AVSL_EXPORT torch::Tensor MaxMilLogits(const torch::Tensor& v, const torch::Tensor& a, double tau);

/// CE(logits, arange(N)) + CE(logits^T, arange(N)), mean reduction, weights 1 and 1: InfoNCE in both directions
/// with the diagonal as positives. Needs a square [N,N]; a c10::Error names both sizes otherwise.
AVSL_EXPORT torch::Tensor SymmetricInfoNce(const torch::Tensor& logits);

/// SymmetricInfoNce over the rows [offset, offset + n) of a global batch of N spread over data-parallel ranks
/// (`train.global_negatives`, avsl/core/rank_group.h): `image_logits` [n,N] holds this rank's images against every
/// audio, `audio_logits` [n,N] this rank's audios against every image; sample i's positive is column offset + i.
/// Each term is the mean over this rank's n samples, so the average over the ranks is SymmetricInfoNce of the
/// whole [N,N]; with n == N and offset 0 it is SymmetricInfoNce(image_logits) itself.
AVSL_EXPORT torch::Tensor ShardedSymmetricInfoNce(const torch::Tensor& image_logits, const torch::Tensor& audio_logits,
                                                  int64_t offset);

/// EZ-VSL's `max_xmil_loss`: SymmetricInfoNce(MaxMilLogits(v, a, tau)). Needs N == M.
AVSL_EXPORT torch::Tensor MilContrastiveLoss(const torch::Tensor& v, const torch::Tensor& a, double tau);

/// The two numbers that show whether a contrastive localizer separates pairs, from MaxMilLogits' `logits` (cos / tau),
/// ready for StepOutput::logs: {"pos_cos", mean positive cosine} and {"neg_cos", mean over images of the hardest
/// negative's cosine}; "neg_cos" is left out for a batch of one (it has no negative). `logits` [n,N] with the
/// positive of row i in column offset + i (rows of a global batch, ShardedSymmetricInfoNce); square with offset 0
/// in one process.
AVSL_EXPORT std::vector<std::pair<std::string, double>> CosineDiagnostics(const torch::Tensor& logits, double tau,
                                                                          int64_t offset = 0);

/// L2-normalized features of a method with two projection heads per modality (SLAVC), one branch (online or
/// momentum target).
struct TwoHeadFeatures {
  torch::Tensor img1, img2;  ///< [N,D,h,w], head 1 and head 2
  torch::Tensor aud1, aud2;  ///< [M,D]
};

struct AsymmetricLossTerms {
  torch::Tensor i2a;    ///< [N,M] logits: online image vs target audio
  torch::Tensor a2i;    ///< [N,M] logits: target image vs online audio
  int64_t offset = 0;   ///< image n's positive is audio offset + n
  torch::Tensor total;  ///< CE(a2i, arange) + CE(i2a, arange), scalar
};

/// log Σ_k softmax_m(<img_a[n,:,k], aud_a[m]>/τ) · softmax_k(<img_b[n,:,k], aud_b[m]>/τ), computed as
/// logsumexp_k(log_softmax_m + log_softmax_k): SLAVC's log(Σ P1·P2) without the underflow of the product. [N,M].
AVSL_EXPORT torch::Tensor TwoHeadPairLogits(const torch::Tensor& img_a, const torch::Tensor& aud_a,
                                            const torch::Tensor& img_b, const torch::Tensor& aud_b, double tau);

/// SLAVC's asymmetric objective. Both terms classify image n among the audios m (softmax over dim 1); i2a pairs
/// the online images with the target audios, a2i the target images with the online audios. In one process
/// (`rows_offset` < 0) N == M and image n's positive is audio n; with `train.global_negatives` the audios are every
/// rank's (GatherNegatives), the images this rank's, image n's positive is audio rows_offset + n, and the mean over
/// this rank's images averages over the ranks to the loss of the global batch.
AVSL_EXPORT AsymmetricLossTerms AsymmetricContrastiveLoss(const TwoHeadFeatures& online, const TwoHeadFeatures& target,
                                                          double tau, int64_t rows_offset = -1);

/// The two heads' mean map (<img1, aud1> + <img2, aud2>) / (2τ), [N,h,w] in [-1/τ, 1/τ].
AVSL_EXPORT torch::Tensor TwoHeadMap(const TwoHeadFeatures& features, double tau);

}  // namespace avsl::models
