// The BatchNorm2d of the SDK's encoders: torch::nn::BatchNorm2d's (same parameters, buffers and names, so
// torchvision weights and checkpoints load unchanged) that, in a data-parallel step with `train.sync_bn = true`,
// normalizes with the statistics of the global batch, as torch.nn.SyncBatchNorm does: each rank's per-channel count,
// mean and biased variance go through one all-reduce and are combined with Chan's parallel formula (stable where
// E[x^2] - E[x]^2 cancels); the backward all-reduces each rank's per-channel sums of dy and dy·(x - mean), so the
// gradient is that of the whole batch's normalization. The running statistics take the global mean and the
// unbiased global variance. Anywhere else (one process, eval mode, sync_bn off) it is torch::nn::BatchNorm2d's own
// forward, bit for bit.
// A library of the SDK (may change between minor versions; avsl/core is the stable part).
#pragma once

#include <ostream>

#include <torch/nn/cloneable.h>
#include <torch/nn/options/batchnorm.h>
#include <torch/nn/pimpl.h>

#include "avsl/core/export.h"

namespace avsl::models {

// Its own module rather than a subclass of torch::nn::BatchNorm2dImpl: LibTorch does not export that template
// base's members, so a subclass outside libtorch does not link.
class AVSL_EXPORT SyncableBatchNorm2dImpl : public torch::nn::Cloneable<SyncableBatchNorm2dImpl> {
 public:
  explicit SyncableBatchNorm2dImpl(int64_t num_features)
      : SyncableBatchNorm2dImpl(torch::nn::BatchNormOptions(num_features)) {}
  explicit SyncableBatchNorm2dImpl(torch::nn::BatchNormOptions options);

  /// torch::nn::BatchNorm2d's forward, or the global batch's statistics in a `train.sync_bn` step.
  torch::Tensor forward(const torch::Tensor& input);
  /// Registers the parameters and buffers as torch's BatchNorm does (same names, same order, same values).
  void reset() override;
  void reset_running_stats();
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;

  torch::nn::BatchNormOptions options;
  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  torch::Tensor SynchronizedForward(const torch::Tensor& input);
};
TORCH_MODULE(SyncableBatchNorm2d);

}  // namespace avsl::models
