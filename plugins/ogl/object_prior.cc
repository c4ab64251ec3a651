#include "object_prior.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <system_error>

#include "avsl/checkpoint/load_into_module.h"
#include "avsl/checkpoint/state_dict.h"
#include "avsl/models/model_ops.h"

namespace avsl::plugins::ogl {

namespace F = torch::nn::functional;

double DefaultAlpha(Convention convention) { return convention == Convention::kEzvsl ? 0.4 : 0.9; }

torch::Tensor Objectness(const torch::Tensor& layer4) { return layer4.abs().mean(1); }

torch::Tensor UpsampleMaps(const torch::Tensor& maps, int64_t size, Convention convention) {
  if (maps.size(1) == size && maps.size(2) == size) return maps;
  auto o = F::InterpolateFuncOptions().size(std::vector<int64_t>{size, size}).align_corners(true);
  if (convention == Convention::kEzvsl) {
    o.mode(torch::kBilinear);
  } else {
    o.mode(torch::kBicubic);
  }
  return F::interpolate(maps.unsqueeze(1), o).squeeze(1);
}

torch::Tensor CombineEzvsl(const torch::Tensor& av, const torch::Tensor& obj, double alpha) {
  using models::MinMaxPerSample;
  return MinMaxPerSample(alpha * MinMaxPerSample(av) + (1.0 - alpha) * MinMaxPerSample(obj));
}

torch::Tensor CombineSlavc(const torch::Tensor& av, const torch::Tensor& obj, double alpha, double av_min,
                           double av_max, double obj_max) {
  return alpha * (av - av_min) / (av_max - av_min) + (1.0 - alpha) * obj / obj_max;
}

torch::Tensor TopFractionMean(const torch::Tensor& maps, double fraction) {
  const torch::Tensor flat = maps.flatten(1);
  const int64_t n = flat.size(1);
  const int64_t k = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(n * fraction)), 1, n);
  return std::get<0>(flat.topk(k, 1)).mean(1);
}

std::string MissingWeightsMessage(const std::string& recipe_key) {
  return "recipe key '" + recipe_key +
         "' is not set: OGL needs the ImageNet-pretrained torchvision ResNet18 weights (IMAGENET1K_V1, the "
         "reference's resnet18-5c106cde.pth) as a torch.save'd state_dict file, e.g. resnet18_imagenet1k_v1.pth. "
         "Make it once with /usr/bin/python3 -c \"import torch, torchvision; "
         "m = torchvision.models.resnet18(weights=torchvision.models.ResNet18_Weights.IMAGENET1K_V1); "
         "torch.save(dict(m.state_dict()), 'resnet18_imagenet1k_v1.pth')\" (older torchvision: "
         "resnet18(pretrained=True)) and pass --set " +
         recipe_key + "='\"/path/resnet18_imagenet1k_v1.pth\"'";
}

absl::StatusOr<std::shared_ptr<PriorNetwork>> PriorNetwork::Load(const std::string& weights,
                                                                 const std::string& recipe_key, int64_t input_size) {
  if (weights.empty()) return absl::FailedPreconditionError(MissingWeightsMessage(recipe_key));
  const std::string where = "recipe key '" + recipe_key + "' = '" + weights + "': ";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(weights, ec)) {
    return absl::NotFoundError(where + "file does not exist or is not a regular file. " +
                               MissingWeightsMessage(recipe_key));
  }
  absl::StatusOr<checkpoint::StateDict> sd = checkpoint::LoadStateDict(weights);
  if (!sd.ok()) return absl::Status(sd.status().code(), where + std::string(sd.status().message()));

  auto prior = std::make_shared<PriorNetwork>();
  prior->input_size_ = input_size;
  {
    // The random init is overwritten by the weights; restoring the generator keeps OGL(base) seeded as base.
    // (No lock held across the construction: the init's own draws take the generator's mutex.)
    auto gen = at::detail::getDefaultCPUGenerator();
    torch::Tensor state;
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      state = gen.get_state();
    }
    models::ResNetOptions o;  // torchvision ResNet18: 3 channels, width 64, [2,2,2,2], layer4 stride 2
    prior->net_ = std::make_shared<models::ResNet>(o);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state);
  }
  checkpoint::LoadOptions options;
  options.strict = true;
  options.ignore_checkpoint_prefixes = {"fc."};
  options.source = weights;
  absl::StatusOr<checkpoint::LoadReport> report = checkpoint::LoadIntoModule(*prior->net_, *sd, options);
  if (!report.ok()) return absl::Status(report.status().code(), where + std::string(report.status().message()));
  prior->net_->eval();
  for (torch::Tensor& p : prior->net_->parameters()) p.requires_grad_(false);
  return prior;
}

torch::Tensor PriorNetwork::Maps(const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  if (net_->parameters().front().device() != images.device()) net_->to(images.device());
  net_->eval();  // frozen: BN always uses the ImageNet running statistics
  torch::Tensor x = images;
  if (input_size_ > 0 && (x.size(2) != input_size_ || x.size(3) != input_size_)) {
    x = F::interpolate(x, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{input_size_, input_size_})
                              .mode(torch::kBilinear)
                              .align_corners(false));
  }
  return Objectness(net_->Forward(x));
}

}  // namespace avsl::plugins::ogl
