// Small tensor operations that several methods share, so a plugin calls them instead of writing them again.
// A library of the SDK (may change between minor versions; avsl/core is the stable part).
#pragma once

#include <string>

#include <torch/types.h>

#include "avsl/core/export.h"

namespace avsl::models {

/// An audio encoder's pooled output as [B,C]: accepts [B,C] or [B,C,1,1]; anything else (an unpooled map) throws
/// a c10::Error naming `who` and the shape: "<who>: the audio encoder returned a [..] map; it must return a pooled
/// vector [B,C] or [B,C,1,1] (set audio_encoder.pool = \"max\", the reference)".
AVSL_EXPORT torch::Tensor PooledAudioVector(const torch::Tensor& audio, const std::string& who);

/// torch.nn.init.trunc_normal_(t, mean, std, a, b) with PyTorch's inverse-CDF steps (LibTorch 1.13 lacks it),
/// in place and without recording gradients.
AVSL_EXPORT void TruncNormal_(torch::Tensor& t, double mean, double std, double a, double b);

/// Per-sample min-max of maps [B,h,w] into [0,1]; a flat sample (max == min) is returned unchanged.
AVSL_EXPORT torch::Tensor MinMaxPerSample(const torch::Tensor& maps);

/// The margin contrastive loss on squared distances `d2` [N] with labels `y` [N] (1: matching pair):
/// mean(0.5 · (y · d2 + (1 − y) · relu(margin − sqrt(d2 + 1e-9))²)) (DSOL's ContrastiveLoss). `who` names the caller
/// in shape errors.
AVSL_EXPORT torch::Tensor MarginContrastiveLoss(const torch::Tensor& d2, const torch::Tensor& y, double margin,
                                                const std::string& who);

}  // namespace avsl::models
