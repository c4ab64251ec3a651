// The objective of cross-modal alignment with multiple positives (Senocak et al., "Sound Source Localization is All
// about Cross-Modal Alignment", ICCV 2023): a localization loss and an instance-level alignment loss, each over
// several positive pairs. No training code was released (kaistmm/SSLalignment @e7ae3c5 is inference only), so the
// form below is this plugin's reading of the paper (README.md says what is the paper's and what was chosen):
//   localization = mean over pairs (p, q) of the LVS loss of image view p's maps against audio view q
//                  (avsl/models/lvs_loss.h; the released inference model is LVS's AVENet and computes its logits)
//   alignment    = mean over pairs (p, q) of ½ · symmetric InfoNCE(g_p · a_qᵀ / tau_a), g_p the L2-normalized
//                  global average of image view p's feature map
//   total        = localization + alignment_weight · alignment
// Augmentation positives: every (image view, audio view) pair. Nearest-neighbour positives (from the feature bank):
// image 1 against its neighbour's audio (a localization and an alignment pair), and the neighbour's image against
// the audio (an alignment pair). A free function on embeddings, so the parity test checks it on fixed tensors.
#pragma once

#include <vector>

#include <torch/types.h>

#include "avsl/models/lvs_loss.h"

namespace avsl::plugins::sslalign {

struct AlignmentLossOptions {
  models::LvsLossOptions lvs;           ///< the localization pairs' LVS loss (the released constants)
  double alignment_weight = 1.0;        ///< lambda of the alignment term
  double alignment_temperature = 0.07;  ///< tau_a of the alignment InfoNCE
};

struct AlignmentInputs {
  std::vector<torch::Tensor> image_maps;  ///< per image view: [B,C,h,w], L2-normalized over C
  std::vector<torch::Tensor> images;      ///< per image view: [B,C] global embedding g, L2-normalized
  std::vector<torch::Tensor> audios;      ///< per audio view: [B,C], L2-normalized
  /// Nearest-neighbour positives (undefined: none): the feature bank's image and audio embeddings [B,C] of each
  /// row's drawn neighbour (detached). Their in-batch negatives are the other rows' neighbours.
  torch::Tensor neighbour_image, neighbour_audio;
};

struct AlignmentLossTerms {
  torch::Tensor total;         ///< scalar, differentiable
  torch::Tensor localization;  ///< mean over the localization pairs
  torch::Tensor alignment;     ///< mean over the alignment pairs
  int64_t localization_pairs = 0, alignment_pairs = 0;
  torch::Tensor positive;  ///< [B] image view 0 vs audio view 0: P_i of the LVS loss (cosine units), for the logs
};

AlignmentLossTerms AlignmentLoss(const AlignmentInputs& inputs, const AlignmentLossOptions& options);

}  // namespace avsl::plugins::sslalign
