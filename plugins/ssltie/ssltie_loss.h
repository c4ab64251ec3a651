// SSL-TIE's objective (Liu et al., "Exploiting Transformation Invariance and Equivariance for Self-supervised Sound
// Localisation", ACM MM 2022), re-derived from jinxiang-liu/SSL-TIE main.py train_one_epoch @c49e6a9:
//   L = 0.5 · (L_LVS(view 1) + L_LVS(view 2)) + w · MSE(A2, T(A1))
// L_LVS is the LVS loss (avsl/models/lvs_loss.h, the released code's variant) of each view against the same audio;
// A1, A2 are the views' cosine maps [B,1,h,w], and T the geometric transform that made view 2 from view 1
// (geometric_transform.h), applied to A1 without detaching it. A free function on the embeddings, so the parity test
// checks it on fixed tensors.
#pragma once

#include <cstdint>

#include <torch/types.h>

#include "avsl/models/lvs_loss.h"
#include "geometric_transform.h"

namespace avsl::plugins::ssltie {

struct SslTieLossOptions {
  models::LvsLossOptions lvs;        ///< each view's contrastive loss (LVS's released constants)
  double equivariance_weight = 1.0;  ///< --trans_equi_weight
  bool l1 = false;                   ///< --equi_loss_type l1loss (default mse)
  bool detach_target = false;        ///< --heatmap_no_grad: no gradient through T(A1)
};

struct SslTieLossTerms {
  torch::Tensor total;         ///< scalar, differentiable
  torch::Tensor view1, view2;  ///< the two LVS losses
  torch::Tensor equivariance;  ///< MSE (or L1) between A2 and T(A1)
  torch::Tensor positive1;     ///< [B] view 1's positive P_i (cosine units), for the logs
  torch::Tensor map2, target;  ///< A2 and T(A1), [B,1,h2,w2]
};

/// `image1` [B,C,h,w] and `image2` [B,C,h2,w2]: the views' image maps, L2-normalized over C; `audio` [B,C]: the
/// L2-normalized audio (the same for both views). `negatives` (optional, [N,C]): every rank's audios under
/// train.global_negatives, this rank's own at rows_offset + i; undefined: `audio` itself. `transform` made view 2.
SslTieLossTerms SslTieLoss(const torch::Tensor& image1, const torch::Tensor& image2, const torch::Tensor& audio,
                           const GeometricTransform& transform, const SslTieLossOptions& options,
                           const torch::Tensor& negatives = {}, int64_t rows_offset = -1);

}  // namespace avsl::plugins::ssltie
