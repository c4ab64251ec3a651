// SLAVC's native confidence as a free function, so the plugin and its golden-value tests share one implementation.
// The loss and the map are the SDK's two-head objective (avsl/models/objectives.h).
#pragma once

#include <torch/types.h>

namespace avsl::plugins::slavc {

/// SLAVC's confidence (test.py): maps upsampled bicubically (align_corners = true) to size×size, mapped from
/// [-1/τ, 1/τ] to [0,1], then the mean of the top ceil(n/4) pixels (numpy's sort(x)[-n//4:]). [N].
torch::Tensor SlavcConfidence(const torch::Tensor& maps, double tau, int64_t size);

}  // namespace avsl::plugins::slavc
