#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "avsl/checkpoint/load_into_module.h"
#include "avsl/checkpoint/state_dict.h"
#include "avsl/core/encoder.h"
#include "avsl/core/status_macros.h"
#include "avsl/models/encoder_components.h"
#include "avsl/models/resnet.h"

namespace avsl {
namespace {

using models::ResNet;
using models::ResNetInit;
using models::ResNetOptions;
using models::ResNetPool;

void AddBackboneFields(Schema& s, const std::string& default_init) {
  s.Int("width", 64, "channels of conv1/layer1 (layer k has width*2^(k-1)); 64 = ResNet18, 16 for fast CPU runs")
      .Range(1, 4096);
  s.IntArray("blocks", {2, 2, 2, 2}, "BasicBlocks per stage; [2, 2, 2, 2] = ResNet18").Range(1, 64);
  s.String("init", default_init,
           "torchvision: BN weight 1; reference: BN weight ~ N(1, 0.02^2) (EZ-VSL/SLAVC audio net, LVS). "
           "Both: conv kaiming_normal(fan_out, relu), BN bias 0")
      .OneOf({"torchvision", "reference"});
}

absl::StatusOr<ResNetOptions> ReadOptions(const ComponentConfig& c) {
  ResNetOptions o;
  o.width = c.GetInt("width");
  o.blocks.clear();
  for (long long b : c.GetIntArray("blocks")) o.blocks.push_back(b);
  if (o.blocks.size() != 4) {
    return absl::InvalidArgumentError("recipe key '" + c.path() + ".blocks': expected 4 stage counts, found " +
                                      std::to_string(o.blocks.size()));
  }
  o.layer4_stride = c.GetInt("layer4_stride");
  o.init = c.GetString("init") == "reference" ? ResNetInit::kReference : ResNetInit::kTorchvision;
  return o;
}

// torchvision weights are loaded after the chosen init, as LVS-derived trainers do (AVENet re-initializes, then loads),
// strictly: every parameter and buffer must be present with its shape, so a width/blocks mismatch fails instead of
// leaving part of the network random. torchvision's classifier head (fc.*) is skipped: the encoder has none.
absl::Status LoadPretrained(const ComponentConfig& c, ResNet& net) {
  const std::string path = c.GetString("pretrained_weights");
  if (path.empty()) return absl::OkStatus();
  const std::string where = "recipe key '" + c.path() + ".pretrained_weights' = '" + path + "': ";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(where + "file does not exist or is not a regular file");
  }
  absl::StatusOr<checkpoint::StateDict> sd = checkpoint::LoadStateDict(path);
  if (!sd.ok()) return absl::Status(sd.status().code(), where + std::string(sd.status().message()));
  checkpoint::LoadOptions options;
  options.strict = true;
  options.ignore_checkpoint_prefixes = {"fc."};
  options.source = path;
  absl::StatusOr<checkpoint::LoadReport> report = checkpoint::LoadIntoModule(net, *sd, options);
  if (!report.ok()) return absl::Status(report.status().code(), where + std::string(report.status().message()));
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Encoder>> MakeImageEncoder(const ComponentConfig& c) {
  AVSL_ASSIGN_OR_RETURN(ResNetOptions o, ReadOptions(c));
  o.in_channels = 3;
  o.pool = ResNetPool::kNone;
  auto net = std::make_shared<ResNet>(std::move(o));
  AVSL_RETURN_IF_ERROR(LoadPretrained(c, *net));
  return net;
}

absl::StatusOr<std::shared_ptr<Encoder>> MakeAudioEncoder(const ComponentConfig& c) {
  AVSL_ASSIGN_OR_RETURN(ResNetOptions o, ReadOptions(c));
  o.in_channels = c.GetInt("in_channels");
  const std::string pool = c.GetString("pool");
  o.pool = pool == "max" ? ResNetPool::kMax : pool == "avg" ? ResNetPool::kAvg : ResNetPool::kNone;
  return std::make_shared<ResNet>(std::move(o));
}

}  // namespace

void RegisterEncoders(Registrar& registrar) {
  Schema image("ResNet18 image encoder with torchvision parameter names; returns the layer4 map [B,8*width,h,w]");
  image.Int("layer4_stride", 2, "2: torchvision/EZ-VSL/SLAVC (7x7 at 224); 1: LVS/DMC family (14x14 at 224)")
      .Range(1, 2);
  AddBackboneFields(image, "torchvision");
  image.String("pretrained_weights", "",
               "torch.save file (zip format) with a torchvision ResNet18 state_dict, loaded by "
               "name after init, strictly (fc.* skipped); empty = random init");
  registrar.Register<Encoder>("ResNet18Image", std::move(image), MakeImageEncoder,
                              "ResNet18 image encoder (7x7 or 14x14 layer4 map)");

  Schema audio("ResNet18 audio encoder (EZ-VSL/SLAVC/LVS): 1-channel stem, global pool -> [B,8*width,1,1]");
  audio.Int("in_channels", 1, "input channels (1 for a [B,1,freq,time] spectrogram)").Range(1, 64);
  audio.Int("layer4_stride", 2, "2: EZ-VSL/SLAVC; 1: LVS family (changes what the global pool sees)").Range(1, 2);
  AddBackboneFields(audio, "reference");
  audio.String("pool", "max", "max: AdaptiveMaxPool2d(1) as the reference; avg: C2F; none: the layer4 map")
      .OneOf({"max", "avg", "none"});
  registrar.Register<Encoder>("ResNet18Audio", std::move(audio), MakeAudioEncoder,
                              "ResNet18 audio encoder (global max pool)");
}

}  // namespace avsl
