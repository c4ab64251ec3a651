// lvs.HardPos's in-batch hard-positive mining (Senocak et al., ICASSP 2022; paper only, see README.md) as a
// free function on embeddings: it produces the positive maps and the removed negatives that the LVS loss
// (avsl/models/lvs_loss.h) takes through LvsExtra.
#pragma once

#include <torch/types.h>

#include "avsl/models/lvs_loss.h"

namespace avsl::plugins::hardpos {

struct HardPositiveOptions {
  bool audio = true;      ///< mine j_a = the nearest audio neighbour (pair: image i with audio j_a)
  bool visual = true;     ///< mine j_v = the nearest image neighbour (pair: image j_v with audio i)
  int64_t neighbors = 1;  ///< k nearest neighbours per modality (clamped to B - 1)
  /// How S_{i->i} and the mined maps make P_i: kScore averages the soft-masked means of each map (each on its own
  /// image); kMapMean / kMapSum add the maps location by location first.
  enum class Combine { kScore, kMapMean, kMapSum } combine = Combine::kScore;
  bool remove_negatives = true;  ///< drop (image i, audio j) from i's negatives for every mined j
};

struct HardPositives {
  torch::Tensor audio_nn;   ///< [B,k] long, or undefined when audio mining is off
  torch::Tensor visual_nn;  ///< [B,k] long, or undefined
  models::LvsExtra extra;   ///< for LvsLoss
};

/// `a0`: all-pair cosine maps [B,B,h,w] (a0[n,k] = image n vs audio k; gradients flow through the maps).
/// `audio`: [B,C] and `visual`: [B,D] descriptors, compared by cosine with the self-pair excluded; they are
/// detached here (the model's own embeddings, no gradient through the choice). B = 1 mines nothing.
HardPositives MineHardPositives(const torch::Tensor& a0, const torch::Tensor& audio, const torch::Tensor& visual,
                                const HardPositiveOptions& options);

}  // namespace avsl::plugins::hardpos
