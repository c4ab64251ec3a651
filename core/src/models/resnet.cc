#include <torch/torch.h>

#include "avsl/models/batch_norm.h"
#include "avsl/models/model_ops.h"
#include "avsl/models/resnet.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace avsl::models {
namespace {

namespace nn = torch::nn;

nn::Conv2d Conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

// torchvision.models.resnet.BasicBlock, with its submodule names (conv1, bn1, conv2, bn2, downsample).
class BasicBlockImpl : public nn::Module {
 public:
  BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride)
      : conv1_(register_module("conv1", Conv(in_planes, planes, 3, stride, 1))),
        bn1_(register_module("bn1", SyncableBatchNorm2d(planes))),
        conv2_(register_module("conv2", Conv(planes, planes, 3, 1, 1))),
        bn2_(register_module("bn2", SyncableBatchNorm2d(planes))) {
    // Same rule as torchvision's _make_layer; with layer4 stride 1 (LVS) the 1x1 projection keeps
    // stride 1 but still exists because the channel count doubles.
    if (stride != 1 || in_planes != planes) {
      downsample_ = register_module("downsample",
                                    nn::Sequential(Conv(in_planes, planes, 1, stride, 0), SyncableBatchNorm2d(planes)));
    }
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor out = bn1_->forward(conv1_->forward(x)).relu_();
    out = bn2_->forward(conv2_->forward(out));
    out += downsample_ ? downsample_->forward(x) : x;
    return out.relu_();
  }

 private:
  nn::Conv2d conv1_;
  SyncableBatchNorm2d bn1_;
  nn::Conv2d conv2_;
  SyncableBatchNorm2d bn2_;
  nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(BasicBlock);

}  // namespace

struct ResNet::Layers {
  nn::Conv2d conv1{nullptr};
  SyncableBatchNorm2d bn1{nullptr};
  nn::Sequential stages[4] = {nn::Sequential(nullptr), nn::Sequential(nullptr), nn::Sequential(nullptr),
                              nn::Sequential(nullptr)};
  nn::Linear fc{nullptr};
};

absl::Status ValidateResNetOptions(const ResNetOptions& o) {
  if (o.in_channels < 1) {
    return absl::InvalidArgumentError("ResNet option in_channels: expected >= 1, got " + std::to_string(o.in_channels));
  }
  if (o.width < 1) {
    return absl::InvalidArgumentError("ResNet option width: expected >= 1, got " + std::to_string(o.width));
  }
  if (o.blocks.size() != 4) {
    return absl::InvalidArgumentError("ResNet option blocks: expected 4 stage counts (e.g. [2, 2, 2, 2]), got " +
                                      std::to_string(o.blocks.size()));
  }
  for (size_t i = 0; i < o.blocks.size(); ++i) {
    if (o.blocks[i] < 1) {
      return absl::InvalidArgumentError("ResNet option blocks[" + std::to_string(i) +
                                        "]: expected >= 1 block per stage, got " + std::to_string(o.blocks[i]));
    }
  }
  if (o.layer4_stride != 1 && o.layer4_stride != 2) {
    return absl::InvalidArgumentError("ResNet option layer4_stride: expected 1 or 2, got " +
                                      std::to_string(o.layer4_stride));
  }
  if (o.num_classes < 0) {
    return absl::InvalidArgumentError("ResNet option num_classes: expected >= 0, got " + std::to_string(o.num_classes));
  }
  return absl::OkStatus();
}

ResNet::ResNet(ResNetOptions options) : options_(std::move(options)), layers_(std::make_unique<Layers>()) {
  if (absl::Status s = ValidateResNetOptions(options_); !s.ok()) throw std::invalid_argument(s.ToString());
  const int64_t w = options_.width;
  Layers& L = *layers_;
  // Registration order is torchvision's, so named_parameters() lists keys in state_dict order.
  L.conv1 = register_module("conv1", Conv(options_.in_channels, w, 7, 2, 3));
  L.bn1 = register_module("bn1", SyncableBatchNorm2d(w));
  const int64_t strides[4] = {1, 2, 2, options_.layer4_stride};
  int64_t in_planes = w;
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t planes = w << stage;
    nn::Sequential seq;
    for (int64_t b = 0; b < options_.blocks[stage]; ++b) {
      seq->push_back(BasicBlock(in_planes, planes, b == 0 ? strides[stage] : 1));
      in_planes = planes;
    }
    L.stages[stage] = register_module("layer" + std::to_string(stage + 1), seq);
  }
  if (options_.num_classes > 0) L.fc = register_module("fc", nn::Linear(in_planes, options_.num_classes));
  Initialize(options_.init);
}

ResNet::~ResNet() = default;

void ResNet::Initialize(ResNetInit init) {
  torch::NoGradGuard no_grad;
  for (const std::shared_ptr<nn::Module>& m : modules(/*include_self=*/false)) {
    if (auto* conv = m->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = m->as<SyncableBatchNorm2d>()) {
      if (init == ResNetInit::kReference) {
        bn->weight.normal_(1.0, 0.02);
      } else {
        bn->weight.fill_(1.0);
      }
      bn->bias.zero_();
    } else if (auto* fc = m->as<nn::Linear>()) {
      if (init == ResNetInit::kReference) {
        TruncNormal_(fc->weight, 0.0, 0.01, -2.0, 2.0);
      } else {
        fc->reset_parameters();  // nn.Linear's default, which torchvision keeps for fc
      }
    }
  }
}

torch::Tensor ResNet::ForwardFeatures(const torch::Tensor& input) {
  TORCH_CHECK(input.dim() == 4 && input.size(1) == options_.in_channels, "ResNet expects [B,", options_.in_channels,
              ",H,W] input, got ", input.sizes());
  Layers& L = *layers_;
  torch::Tensor x = L.bn1->forward(L.conv1->forward(input)).relu_();
  x = torch::max_pool2d(x, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
  for (nn::Sequential& stage : L.stages) x = stage->forward(x);
  return x;
}

torch::Tensor ResNet::Forward(const torch::Tensor& input) {
  torch::Tensor x = ForwardFeatures(input);
  switch (options_.pool) {
    case ResNetPool::kNone: return x;
    case ResNetPool::kMax: return std::get<0>(torch::adaptive_max_pool2d(x, {1, 1}));
    case ResNetPool::kAvg: return torch::adaptive_avg_pool2d(x, {1, 1});
  }
  return x;
}

torch::Tensor ResNet::ForwardLogits(const torch::Tensor& input) {
  TORCH_CHECK(layers_->fc, "ResNet::ForwardLogits needs num_classes > 0 (no fc layer was built)");
  torch::Tensor x = torch::adaptive_avg_pool2d(ForwardFeatures(input), {1, 1}).flatten(1);
  return layers_->fc->forward(x);
}

int64_t ResNetOutputSize(int64_t size, int64_t layer4_stride) {
  auto down = [](int64_t n) { return (n - 1) / 2 + 1; };  // floor((n + 2p - k) / 2) + 1 for (k,p) = (7,3), (3,1)
  int64_t n = down(down(size));                           // conv1, maxpool
  n = down(down(n));                                      // layer2, layer3
  return layer4_stride == 2 ? down(n) : n;
}

}  // namespace avsl::models
