// An extra loss term composable with any method by recipe (e.g. the semi-supervised map loss).
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include "avsl/core/export.h"
#include "avsl/core/method.h"

namespace avsl {

class AVSL_EXPORT Loss : public torch::nn::Module {
 public:
  ~Loss() override;
  /// `maps`: the method's differentiable [B,h,w] localization for `batch`.
  virtual torch::Tensor Compute(const Batch& batch, const torch::Tensor& maps) = 0;
};

}  // namespace avsl
