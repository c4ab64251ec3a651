// LVS's response maps and its contrastive objective (hche11/Localizing-Visual-Sounds-the-Hard-Way model.py,
// AVENet.forward; see plugins/lvs/README.md) as free functions on embeddings, so the arithmetic is testable on fixed
// tensors. In the SDK because three methods of two plugins build on it: lvs.LVS; lvs.HardPos, which passes its own
// positive maps and the pairs it removes from the negatives through the optional `extra` argument; and
// ssltie.SSLTIE, which applies it to each of two views. A library of the SDK (may change between minor versions).
#pragma once

#include <torch/types.h>

#include "avsl/core/export.h"

namespace avsl::models {

/// How the in-batch negative N_ij summarizes the map S_{i->j}.
enum class NegativeSummary {
  kMasked,   ///< released code: Σ σ((S-ε)/τ)·S / Σ σ((S-ε)/τ) (`Pos_all`)
  kUniform,  ///< paper: the plain mean of S over the h·w locations
};

/// How the positive pair is kept out of the negatives.
enum class DiagonalMask {
  kCode,     ///< released code: N ·= (1 - 100·I), i.e. the diagonal becomes -99·N_ii, still a logit
  kExclude,  ///< the paper's Σ_{j≠i}: the diagonal logit is removed (-inf)
};

/// How the terms become one loss.
enum class LvsObjective {
  kCode,   ///< released code: logits = cat(P, N_i·, H)/T, cross-entropy with target 0
  kPaper,  ///< paper: one negative N_i = H_i + Σ_j N_ij, loss = -log(e^{P/T} / (e^{P/T} + e^{N/T}))
};

struct LvsLossOptions {
  double epsilon = 0.65;      ///< positive threshold ε (args.epsilon)
  double epsilon2 = 0.4;      ///< tri-map negative threshold ε' (args.epsilon2)
  double tau = 0.03;          ///< sharpness of the sigmoid masks (self.tau)
  double temperature = 0.07;  ///< logit temperature (the literal 0.07)
  bool tri_map = true;        ///< Neg = 1 - σ((S-ε')/τ); false: Neg = 1 - σ((S-ε)/τ) (args.tri_map)
  bool hard_negative = true;  ///< append the own-image negative H_i (args.Neg)
  NegativeSummary negatives = NegativeSummary::kMasked;
  DiagonalMask diagonal = DiagonalMask::kCode;
  LvsObjective objective = LvsObjective::kCode;
};

/// Optional changes to the positive and negative sets (used by lvs.HardPos).
struct LvsExtra {
  /// [B,h,w]: the map P_i is computed on instead of S_{i->i} (undefined: S_{i->i}).
  torch::Tensor positive_map;
  /// [B,K,h,w]: K more positive maps of sample i; P_i becomes the mean of the K + 1 soft-masked means, each on
  /// its own map (undefined: none).
  torch::Tensor more_positive_maps;
  /// [B,B] bool: true where the pair (image i, audio j) is removed from i's negatives (undefined: none).
  torch::Tensor remove_negative;
};

struct LvsLossTerms {
  torch::Tensor loss;      ///< scalar
  torch::Tensor logits;    ///< [B, 1 + B (+1 with hard_negative)] (code) or [B,2] (paper), already / T
  torch::Tensor positive;  ///< [B] P_i (cosine units, before / T)
};

// The all-pair cosine A0[n,k,h,w] and the map S_{i->i} are the SDK's models::AllPairSimilarity and
// models::PairSimilarity at tau = 1 (avsl/models/objectives.h).

/// Σ_hw w·S / Σ_hw w over the last two dimensions.
AVSL_EXPORT torch::Tensor WeightedMean(const torch::Tensor& map, const torch::Tensor& weight);

/// The LVS objective from the all-pair cosine maps `a0` [B,B,h,w] (A0 of the reference; A is its diagonal).
/// With `train.global_negatives`, `a0` is [n,N,h,w]: this rank's n images against every rank's N audios, image i's
/// own audio at column rows_offset + i (rows_offset < 0: one process, square maps); the loss is the mean over this
/// rank's rows, so the average over the ranks is the loss of the global batch (`extra` is then unsupported: lvs.HardPos
/// does not gather).
AVSL_EXPORT LvsLossTerms LvsLoss(const torch::Tensor& a0, const LvsLossOptions& options, const LvsExtra& extra = {},
                                 int64_t rows_offset = -1);

}  // namespace avsl::models
