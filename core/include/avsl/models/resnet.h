// ResNet18-family encoder (BasicBlock) whose parameter and buffer names are torchvision's
// ("conv1.weight", "layer2.0.downsample.1.running_mean", "fc.bias", ...), so a torchvision state_dict
// loads by name. One class covers the published variants (docs/encoders.md, "Variants"):
//   - torchvision / EZ-VSL / SLAVC image encoder: layer4 stride 2, 7x7 map at 224;
//   - LVS / DMC / DSOL family: layer4 stride 1 (no dilation), 14x14 map at 224;
//   - audio encoder: 1-channel stem, global max pool (EZ-VSL/SLAVC model.py: Conv2d(1, 64, 7, 2, 3),
//   AdaptiveMaxPool2d(1)).
// The layer holders live in resnet.cc so this header pulls in no more of LibTorch than encoder.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "avsl/core/encoder.h"
#include "avsl/core/export.h"

namespace avsl::models {

/// What the network does after layer4.
enum class ResNetPool {
  kNone,  ///< return the layer4 map [B,C,h,w]
  kMax,   ///< global max pool -> [B,C,1,1] (reference audio encoder, AdaptiveMaxPool2d(1))
  kAvg,   ///< global average pool -> [B,C,1,1] (torchvision avgpool; C2F's audio net)
};

/// How parameters are initialised at construction.
enum class ResNetInit {
  /// torchvision `ResNet.__init__`: conv kaiming_normal(fan_out, relu); BN weight 1, bias 0;
  /// fc keeps nn.Linear's default (kaiming_uniform(a=sqrt(5)) weight, U(+-1/sqrt(fan_in)) bias).
  kTorchvision,
  /// The EZ-VSL/SLAVC/LVS re-initialisation (EZ-VSL/SLAVC model.py, LVS AVENet.__init__): conv kaiming_normal(fan_out,
  /// relu);
  /// BN weight ~ N(1, 0.02^2), bias 0; Linear weight trunc_normal(0, 0.01) in [-2, 2], bias unchanged.
  kReference,
};

struct ResNetOptions {
  int64_t in_channels = 3;                     ///< 3 for RGB, 1 for a spectrogram
  int64_t width = 64;                          ///< channels of conv1/layer1; layer k has width * 2^(k-1)
  std::vector<int64_t> blocks = {2, 2, 2, 2};  ///< BasicBlocks per stage (ResNet18 = 2,2,2,2)
  int64_t layer4_stride = 2;                   ///< 2: torchvision (7x7 at 224); 1: LVS family (14x14)
  ResNetPool pool = ResNetPool::kNone;
  /// > 0 adds torchvision's avgpool + flatten + fc(classes) head, used only by ForwardLogits().
  int64_t num_classes = 0;
  ResNetInit init = ResNetInit::kTorchvision;
};

/// Checks the options; messages name the option and the accepted values.
AVSL_EXPORT absl::Status ValidateResNetOptions(const ResNetOptions& options);

class AVSL_EXPORT ResNet : public Encoder {
 public:
  /// Options must satisfy ValidateResNetOptions (checked; an invalid set throws std::invalid_argument).
  explicit ResNet(ResNetOptions options);
  ~ResNet() override;

  /// [B,in_channels,H,W] -> layer4 map [B,8*width,h,w], or [B,8*width,1,1] when options().pool pools.
  torch::Tensor Forward(const torch::Tensor& input) override;
  /// The layer4 map (post-ReLU), whatever the pool option.
  torch::Tensor ForwardFeatures(const torch::Tensor& input);
  /// torchvision's full `forward`: avgpool, flatten, fc -> [B,num_classes]. Requires num_classes > 0.
  torch::Tensor ForwardLogits(const torch::Tensor& input);

  int64_t out_channels() const override { return 8 * options_.width; }
  const ResNetOptions& options() const { return options_; }

  /// Re-runs an initialisation scheme on every conv/BN/linear layer (uses the global torch RNG).
  void Initialize(ResNetInit init);

 private:
  struct Layers;  // typed holders of the registered submodules, defined in resnet.cc
  ResNetOptions options_;
  std::unique_ptr<Layers> layers_;
};

/// Spatial size of the layer4 map for an input of `size` pixels along one axis:
/// conv1 (k7 s2 p3), maxpool (k3 s2 p1), then one stride-2 3x3 conv (p1) for each of layer2..layer4
/// (layer4 only when its stride is 2). 224 -> 7 (stride 2) or 14 (stride 1); 257 -> 9; 200 -> 7.
AVSL_EXPORT int64_t ResNetOutputSize(int64_t size, int64_t layer4_stride);

}  // namespace avsl::models
