// The augmented audio view of sslalign's augmentation positives: one time span and one frequency band of each
// spectrogram masked (SpecAugment; the paper names hand-crafted audio augmentations without a list, so this is a
// choice, README.md). Widths are drawn per sample, uniformly up to a fraction of the axis; the masked cells take the
// sample's minimum (the log spectrogram's floor).
#pragma once

#include <torch/types.h>

namespace avsl::plugins::sslalign {

/// `audio` [B,1,F,T]; `time_fraction` / `freq_fraction` in [0, 1] bound the widths (0: no mask on that axis).
/// Draws from torch's default generator; not differentiable.
torch::Tensor MaskSpectrogram(const torch::Tensor& audio, double time_fraction, double freq_fraction);

}  // namespace avsl::plugins::sslalign
