// Image or audio encoder producing a feature map. Parameter names follow torchvision so that
// state_dicts load by name.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include "avsl/core/export.h"

namespace avsl {

class AVSL_EXPORT Encoder : public torch::nn::Module {
 public:
  ~Encoder() override;
  /// [B,C,H,W] input -> [B,out_channels,h,w] features (audio encoders may pool to h = w = 1).
  virtual torch::Tensor Forward(const torch::Tensor& input) = 0;
  virtual int64_t out_channels() const = 0;
};

}  // namespace avsl
