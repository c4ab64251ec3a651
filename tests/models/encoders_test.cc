#include <torch/torch.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "avsl/core/encoder.h"
#include "avsl/models/batch_norm.h"
#include "avsl/models/resnet.h"

namespace avsl::models {
namespace {

// Keys in torch's state_dict order: for each module (pre-order), its own parameters then its own buffers.
std::vector<std::string> StateDictKeys(const torch::nn::Module& m) {
  std::vector<std::string> keys;
  for (const auto& item : m.named_modules()) {
    const std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto& p : item.value()->named_parameters(/*recurse=*/false)) keys.push_back(prefix + p.key());
    for (const auto& b : item.value()->named_buffers(/*recurse=*/false)) keys.push_back(prefix + b.key());
  }
  return keys;
}

int64_t CountParameters(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

ResNetOptions Image(int64_t width, int64_t layer4_stride) {
  ResNetOptions o;
  o.width = width;
  o.layer4_stride = layer4_stride;
  return o;
}

ResNetOptions Audio(int64_t width) {
  ResNetOptions o;
  o.in_channels = 1;
  o.width = width;
  o.pool = ResNetPool::kMax;
  o.init = ResNetInit::kReference;
  return o;
}

TEST(ResNetTest, OutputSizeByHand) {
  // n -> floor((n-1)/2)+1 per stride-2 op: 224 -> 112 -> 56 -> (layer2) 28 -> (layer3) 14 -> (layer4) 7.
  EXPECT_EQ(ResNetOutputSize(224, 2), 7);
  EXPECT_EQ(ResNetOutputSize(224, 1), 14);
  EXPECT_EQ(ResNetOutputSize(256, 1), 16);
  // Audio (the reference's 257x200 spectrogram): H 257->129->65->33->17->9, W 200->100->50->25->13->7.
  EXPECT_EQ(ResNetOutputSize(257, 2), 9);
  EXPECT_EQ(ResNetOutputSize(200, 2), 7);
  EXPECT_EQ(ResNetOutputSize(64, 2), 2);  // 64->32->16->8->4->2
}

TEST(ResNetTest, ImageShapesBothVariants) {
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::randn({2, 3, 224, 224});
  ResNet seven(Image(64, 2));
  seven.eval();
  EXPECT_EQ(seven.Forward(x).sizes(), torch::IntArrayRef({2, 512, 7, 7}));
  EXPECT_EQ(seven.out_channels(), 512);
  ResNet fourteen(Image(64, 1));
  fourteen.eval();
  EXPECT_EQ(fourteen.Forward(x).sizes(), torch::IntArrayRef({2, 512, 14, 14}));
  // Width 16: channels 16*8 = 128 at layer4; 64x64 input -> 2x2 map.
  ResNet small(Image(16, 2));
  EXPECT_EQ(small.Forward(torch::randn({3, 3, 64, 64})).sizes(), torch::IntArrayRef({3, 128, 2, 2}));
  EXPECT_EQ(small.out_channels(), 128);
}

TEST(ResNetTest, AudioShapesAndMaxPool) {
  torch::NoGradGuard no_grad;
  ResNet audio(Audio(64));
  audio.eval();
  torch::Tensor spec = torch::randn({1, 1, 257, 200});
  torch::Tensor map = audio.ForwardFeatures(spec);
  EXPECT_EQ(map.sizes(), torch::IntArrayRef({1, 512, 9, 7}));
  torch::Tensor pooled = audio.Forward(spec);
  EXPECT_EQ(pooled.sizes(), torch::IntArrayRef({1, 512, 1, 1}));
  // Global max pool: each channel's value is the max over the 9x7 map.
  EXPECT_TRUE(torch::equal(pooled.flatten(), std::get<0>(map.flatten(2).max(2)).flatten()));

  ResNetOptions avg = Audio(16);
  avg.pool = ResNetPool::kAvg;
  ResNet avg_net(avg);
  avg_net.eval();
  torch::Tensor m16 = avg_net.ForwardFeatures(spec);
  EXPECT_TRUE(torch::allclose(avg_net.Forward(spec).flatten(), m16.mean({2, 3}).flatten(), 1e-6, 1e-6));
}

TEST(ResNetTest, RejectsWrongInputChannels) {
  ResNet audio(Audio(16));
  EXPECT_THROW(audio.Forward(torch::randn({1, 3, 64, 64})), c10::Error);
}

TEST(ResNetTest, InvalidOptionsNameTheOption) {
  ResNetOptions o;
  o.blocks = {2, 2, 2};
  absl::Status s = ValidateResNetOptions(o);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("blocks"), std::string::npos) << s;
  o = ResNetOptions();
  o.layer4_stride = 4;
  s = ValidateResNetOptions(o);
  EXPECT_NE(s.message().find("layer4_stride"), std::string::npos) << s;
  EXPECT_NE(s.message().find("got 4"), std::string::npos) << s;
  o = ResNetOptions();
  o.blocks = {2, 0, 2, 2};
  EXPECT_NE(ValidateResNetOptions(o).message().find("blocks[1]"), std::string::npos);
  EXPECT_THROW(ResNet{o}, std::invalid_argument);
}

TEST(ResNetTest, ParameterCounts) {
  // ResNet18, torchvision layout, 1000-class fc (torchvision prints 11,689,512):
  //   conv1 64*3*49 = 9,408; bn1 128
  //   layer1: 4 convs 64*64*9 = 36,864 each -> 147,456; 4 BN*128 = 512                       -> 147,968
  //   layer2: 128*64*9 + 3*128*128*9 = 73,728 + 442,368; ds 128*64 = 8,192; 5 BN*256 = 1,280 -> 525,568
  //   layer3: 256*128*9 + 3*256*256*9 = 294,912 + 1,769,472; ds 32,768; 5 BN*512 = 2,560     -> 2,099,712
  //   layer4: 512*256*9 + 3*512*512*9 = 1,179,648 + 7,077,888; ds 131,072; 5 BN*1024 = 5,120 -> 8,393,728
  //   fc 512*1000 + 1000 = 513,000
  //   total 9,408 + 128 + 147,968 + 525,568 + 2,099,712 + 8,393,728 + 513,000 = 11,689,512
  ResNetOptions with_fc = Image(64, 2);
  with_fc.num_classes = 1000;
  EXPECT_EQ(CountParameters(ResNet(with_fc)), 11689512);
  EXPECT_EQ(CountParameters(ResNet(Image(64, 2))), 11689512 - 513000);  // 11,176,512: the encoder, no fc
  // Stride does not change parameter shapes (LVS keeps the 1x1 downsample, at stride 1).
  EXPECT_EQ(CountParameters(ResNet(Image(64, 1))), 11176512);
  // Audio: conv1 is 64*1*49 = 3,136 instead of 9,408 -> 11,176,512 - 6,272.
  EXPECT_EQ(CountParameters(ResNet(Audio(64))), 11170240);
}

TEST(ResNetTest, StateDictNamesFollowTorchvision) {
  // 20 convs (1 + 16 in blocks + 3 downsample), 20 BNs, fc: 20 + 2*20 + 2 = 62 parameters and 3*20 = 60
  // buffers (running_mean, running_var, num_batches_tracked) -> 122 keys.
  ResNetOptions o = Image(64, 2);
  o.num_classes = 1000;
  // named_modules() with the root included needs the module to live in a shared_ptr.
  std::vector<std::string> keys = StateDictKeys(*std::make_shared<ResNet>(o));
  ASSERT_EQ(keys.size(), 122u);
  EXPECT_EQ(keys.front(), "conv1.weight");
  EXPECT_EQ(keys[1], "bn1.weight");
  EXPECT_EQ(keys[5], "bn1.num_batches_tracked");
  EXPECT_EQ(keys[6], "layer1.0.conv1.weight");
  EXPECT_EQ(keys.back(), "fc.bias");
  auto has = [&](const std::string& k) { return std::find(keys.begin(), keys.end(), k) != keys.end(); };
  EXPECT_TRUE(has("layer2.0.downsample.0.weight"));
  EXPECT_TRUE(has("layer4.1.bn2.running_var"));
  EXPECT_FALSE(has("conv1.bias"));                                 // bias=False convs have no bias entry
  EXPECT_FALSE(has("layer1.0.downsample.0.weight"));               // layer1 keeps 64 channels at stride 1
  EXPECT_EQ(ResNet(Image(64, 2)).named_parameters().size(), 60u);  // no fc
}

TEST(ResNetTest, TorchvisionInitStatistics) {
  torch::manual_seed(0);
  ResNetOptions o = Image(64, 2);
  o.num_classes = 1000;
  ResNet net(o);
  auto params = net.named_parameters();
  // kaiming_normal(fan_out, relu): std = sqrt(2 / fan_out), fan_out = out_channels * k * k.
  // layer4.0.conv2: 512*3*3 = 4608 -> 0.020833; n = 2,359,296 samples, so the sample std is within ~0.05%.
  torch::Tensor w = params["layer4.0.conv2.weight"];
  EXPECT_NEAR(w.std().item<double>(), std::sqrt(2.0 / 4608.0), 0.01 * std::sqrt(2.0 / 4608.0));
  EXPECT_NEAR(w.mean().item<double>(), 0.0, 1e-4);
  // conv1: 64*7*7 = 3136 -> 0.025254; n = 9408, sample std within ~0.7% (1 sigma); allow 4%.
  EXPECT_NEAR(params["conv1.weight"].std().item<double>(), std::sqrt(2.0 / 3136.0), 0.04 * std::sqrt(2.0 / 3136.0));
  // downsample: 1x1, 128 out -> fan_out 128 -> 0.125.
  EXPECT_NEAR(params["layer2.0.downsample.0.weight"].std().item<double>(), 0.125, 0.125 * 0.05);
  EXPECT_TRUE(torch::equal(params["bn1.weight"], torch::ones({64})));
  EXPECT_TRUE(torch::equal(params["layer3.1.bn2.bias"], torch::zeros({256})));
  // fc keeps nn.Linear's default, kaiming_uniform(a = sqrt(5)): gain = sqrt(2 / (1 + 5)) = sqrt(1/3),
  // bound = sqrt(3) * gain / sqrt(fan_in) = 1/sqrt(512) = 0.0441942; uniform std = bound/sqrt(3) = 0.0255155.
  torch::Tensor fc = params["fc.weight"];
  EXPECT_LE(fc.abs().max().item<double>(), 1.0 / std::sqrt(512.0) + 1e-7);
  EXPECT_NEAR(fc.std().item<double>(), 1.0 / std::sqrt(512.0) / std::sqrt(3.0), 0.01 * 0.0255155);
  // Buffers start at BN defaults.
  auto buffers = net.named_buffers();
  EXPECT_TRUE(torch::equal(buffers["layer1.0.bn1.running_var"], torch::ones({64})));
  EXPECT_EQ(buffers["bn1.num_batches_tracked"].item<int64_t>(), 0);
}

TEST(ResNetTest, ReferenceInitStatistics) {
  torch::manual_seed(0);
  ResNetOptions o = Audio(64);
  o.num_classes = 1000;  // only to check the Linear rule
  ResNet net(o);
  // BN weight ~ N(1, 0.02^2) over all 4800 BN channels (64 + 4*64 + 5*128 + 5*256 + 5*512), bias 0.
  std::vector<torch::Tensor> bn_w, bn_b;
  for (const auto& m : net.modules(/*include_self=*/false)) {
    if (auto* bn = m->as<models::SyncableBatchNorm2d>()) {
      bn_w.push_back(bn->weight.flatten());
      bn_b.push_back(bn->bias.flatten());
    }
  }
  torch::Tensor all_w = torch::cat(bn_w), all_b = torch::cat(bn_b);
  ASSERT_EQ(all_w.numel(), 4800);
  // Mean: 3 sigma = 3 * 0.02 / sqrt(4800) = 0.00087. Std: sampling error ~ 1%, allow 5%.
  EXPECT_NEAR(all_w.mean().item<double>(), 1.0, 0.00087);
  EXPECT_NEAR(all_w.std().item<double>(), 0.02, 0.001);
  EXPECT_EQ(all_b.abs().max().item<double>(), 0.0);
  // Audio stem 1->64, 7x7: fan_out = 64*49 = 3136, like the image stem.
  EXPECT_NEAR(net.named_parameters()["conv1.weight"].std().item<double>(), std::sqrt(2.0 / 3136.0),
              0.04 * std::sqrt(2.0 / 3136.0));
  // Linear: trunc_normal(0, 0.01) cut at +-2 (200 sigma: effectively untruncated).
  EXPECT_NEAR(net.named_parameters()["fc.weight"].std().item<double>(), 0.01, 0.0002);
}

TEST(ResNetTest, SameSeedSameWeights) {
  torch::manual_seed(7);
  ResNet a(Audio(16));
  torch::manual_seed(7);
  ResNet b(Audio(16));
  torch::manual_seed(8);
  ResNet c(Audio(16));
  auto pa = a.named_parameters(), pb = b.named_parameters(), pc = c.named_parameters();
  EXPECT_TRUE(torch::equal(pa["layer3.0.conv1.weight"], pb["layer3.0.conv1.weight"]));
  EXPECT_FALSE(torch::equal(pa["layer3.0.conv1.weight"], pc["layer3.0.conv1.weight"]));
}

TEST(ResNetTest, TrainStepChangesWeightsAndBatchStats) {
  torch::manual_seed(3);
  ResNet net(Image(8, 2));
  net.train();
  torch::optim::Adam opt(net.parameters(), torch::optim::AdamOptions(1e-3));
  torch::Tensor before = net.named_parameters()["layer1.0.conv1.weight"].clone();
  torch::Tensor loss = net.Forward(torch::randn({4, 3, 64, 64})).pow(2).mean();
  opt.zero_grad();
  loss.backward();
  opt.step();
  EXPECT_FALSE(torch::equal(before, net.named_parameters()["layer1.0.conv1.weight"]));
  EXPECT_EQ(net.named_buffers()["bn1.num_batches_tracked"].item<int64_t>(), 1);
}

}  // namespace
}  // namespace avsl::models
