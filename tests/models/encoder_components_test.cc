// core.ResNet18Image / core.ResNet18Audio built from recipe tables through the registry.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "avsl/core/encoder.h"
#include "avsl/models/resnet.h"
#include "encoder_recipe.h"

namespace avsl {
namespace {

absl::StatusOr<std::shared_ptr<Encoder>> Build(const std::string& which, const std::string& table) {
  return testing::BuildEncoder(which, table);
}

TEST(EncoderComponentsTest, ImageDefaultsAreTorchvisionResNet18) {
  auto enc = Build("image", "type = \"core.ResNet18Image\"\n");
  ASSERT_TRUE(enc.ok()) << enc.status();
  EXPECT_EQ((*enc)->out_channels(), 512);
  auto* net = dynamic_cast<models::ResNet*>(enc->get());
  ASSERT_NE(net, nullptr);
  EXPECT_EQ(net->options().layer4_stride, 2);
  EXPECT_EQ(net->options().in_channels, 3);
  EXPECT_EQ(net->options().init, models::ResNetInit::kTorchvision);
  EXPECT_EQ(net->named_parameters().size(), 60u);  // no fc
}

TEST(EncoderComponentsTest, ImageStrideOneSmallWidth) {
  auto enc = Build("image", "type = \"core.ResNet18Image\"\nlayer4_stride = 1\nwidth = 16\nblocks = [1, 1, 1, 1]\n");
  ASSERT_TRUE(enc.ok()) << enc.status();
  torch::NoGradGuard no_grad;
  (*enc)->eval();
  // 224 -> 14x14 with layer4 stride 1; channels 8 * 16 = 128.
  EXPECT_EQ((*enc)->Forward(torch::randn({1, 3, 224, 224})).sizes(), torch::IntArrayRef({1, 128, 14, 14}));
  EXPECT_EQ((*enc)->out_channels(), 128);
  // One block per stage: no layerK.1 keys.
  EXPECT_EQ((*enc)->named_parameters().find("layer1.1.conv1.weight"), nullptr);
}

TEST(EncoderComponentsTest, AudioDefaultsPoolAndReferenceInit) {
  auto enc = Build("audio", "type = \"core.ResNet18Audio\"\nwidth = 16\n");
  ASSERT_TRUE(enc.ok()) << enc.status();
  torch::NoGradGuard no_grad;
  (*enc)->eval();
  EXPECT_EQ((*enc)->Forward(torch::randn({2, 1, 257, 200})).sizes(), torch::IntArrayRef({2, 128, 1, 1}));
  // Reference init: BN weights are drawn around 1, so not all exactly 1.
  torch::Tensor bn = (*enc)->named_parameters()["bn1.weight"];
  EXPECT_FALSE(torch::equal(bn, torch::ones_like(bn)));
  EXPECT_EQ((*enc)->named_parameters()["conv1.weight"].size(1), 1);
}

TEST(EncoderComponentsTest, AudioPoolNoneReturnsTheMap) {
  auto enc = Build("audio", "type = \"core.ResNet18Audio\"\nwidth = 8\npool = \"none\"\n");
  ASSERT_TRUE(enc.ok()) << enc.status();
  torch::NoGradGuard no_grad;
  EXPECT_EQ((*enc)->Forward(torch::randn({1, 1, 257, 200})).sizes(), torch::IntArrayRef({1, 64, 9, 7}));
}

TEST(EncoderComponentsTest, WrongBlockCountNamesTheKey) {
  auto enc = Build("image", "type = \"core.ResNet18Image\"\nblocks = [2, 2, 2]\n");
  ASSERT_FALSE(enc.ok());
  EXPECT_NE(enc.status().message().find("model.image.blocks"), std::string::npos) << enc.status();
  EXPECT_NE(enc.status().message().find("found 3"), std::string::npos) << enc.status();
}

TEST(EncoderComponentsTest, StrideOutOfRangeIsRejectedByTheSchema) {
  auto enc = Build("image", "type = \"core.ResNet18Image\"\nlayer4_stride = 3\n");
  ASSERT_FALSE(enc.ok());
  EXPECT_NE(enc.status().message().find("layer4_stride"), std::string::npos) << enc.status();
}

TEST(EncoderComponentsTest, UnknownPoolIsRejectedByTheSchema) {
  auto enc = Build("audio", "type = \"core.ResNet18Audio\"\npool = \"mean\"\n");
  ASSERT_FALSE(enc.ok());
  EXPECT_NE(enc.status().message().find("pool"), std::string::npos) << enc.status();
}

TEST(EncoderComponentsTest, MissingPretrainedFileNamesKeyAndPath) {
  const std::string path = ::testing::TempDir() + "no_such_resnet18.pth";
  auto enc = Build("image", "type = \"core.ResNet18Image\"\nwidth = 8\npretrained_weights = \"" + path + "\"\n");
  ASSERT_FALSE(enc.ok());
  EXPECT_EQ(enc.status().code(), absl::StatusCode::kNotFound) << enc.status();
  EXPECT_NE(enc.status().message().find("model.image.pretrained_weights"), std::string::npos) << enc.status();
  EXPECT_NE(enc.status().message().find(path), std::string::npos) << enc.status();
}

TEST(EncoderComponentsTest, UnreadablePretrainedFileNamesKeyAndPath) {
  const std::string path = ::testing::TempDir() + "not_a_checkpoint.pth";
  std::ofstream(path) << "this is not a torch.save zip archive\n";
  auto enc = Build("image", "type = \"core.ResNet18Image\"\nwidth = 8\npretrained_weights = \"" + path + "\"\n");
  std::remove(path.c_str());
  ASSERT_FALSE(enc.ok());
  EXPECT_NE(enc.status().message().find("model.image.pretrained_weights"), std::string::npos) << enc.status();
  EXPECT_NE(enc.status().message().find(path), std::string::npos) << enc.status();
}

}  // namespace
}  // namespace avsl
