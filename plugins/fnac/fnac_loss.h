// FNAC's objective (Sun et al., "Learning Audio-Visual Source Localization via False Negative Aware Contrastive
// Learning", CVPR 2023), re-derived from OpenNLPLab/FNAC_AVL model.py `FNAC.calculate_loss` @0a0ca78: EZ-VSL's
// max-over-locations InfoNCE plus three L1 terms between row-softmaxed B x B similarity matrices:
//   FNS-1  softmax(audio-audio) vs softmax(cross-modal logits)
//   TNS    softmax(audio-audio) vs softmax(foreground image-image), the foreground being the locations whose
//          min-max normalized own map exceeds a threshold
//   FNS-2  softmax(image-image, spatially averaged) vs softmax(cross-modal logits)
// A free function on the embeddings, so the parity test checks it on fixed tensors.
#pragma once

#include <torch/torch.h>

namespace avsl::plugins::fnac {

struct FnacLossOptions {
  double tau = 0.03;
  double fns1_weight = 100;           ///< --fnac_loss1_weight
  double tns_weight = 100;            ///< --fnac_loss2_weight
  double fns2_weight = 100;           ///< --fnac_loss3_weight
  double foreground_threshold = 0.6;  ///< high_conf_thresh
};

struct FnacLossTerms {
  torch::Tensor total;    ///< infonce + weighted terms, differentiable
  torch::Tensor infonce;  ///< CE(logits) + CE(logits^T)
  torch::Tensor fns1, tns, fns2;
  torch::Tensor logits;  ///< [B,B] max over locations of cos / tau (rows: images)
};

/// `image` v [B,D,h,w] and `audio` a [B,D], both L2-normalized along D (TwoTowerLocalizer::Embed). Computed with
/// autocast off, bf16 / fp16 inputs in fp32 (as the SDK's contrastive logits), fp32 / fp64 inputs in their own type.
FnacLossTerms FnacLoss(const torch::Tensor& image, const torch::Tensor& audio, const FnacLossOptions& options);

}  // namespace avsl::plugins::fnac
