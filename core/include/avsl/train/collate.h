// Turns loader samples (torch-free) into the tensors of a Batch on a device.
#pragma once

#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "avsl/core/dataset.h"
#include "avsl/core/method.h"

namespace avsl::train {

/// Stacks images [B,3,H,W], spectrograms [B,1,F,T], GT maps [B,Gh,Gw] (zeros where a sample has none),
/// has_gt, sounding and class ids. Samples must agree on shapes; the error names the first that does not.
absl::StatusOr<Batch> Collate(const std::vector<Sample>& samples, const torch::Device& device);

}  // namespace avsl::train
