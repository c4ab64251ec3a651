#include <torch/torch.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "avsl/builtins/core_components.h"
#include "avsl/core/encoder.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/train/trainer.h"
#include "encoder_recipe.h"
#include "tiny_components.h"

namespace avsl {
namespace {

#define SKIP_WITHOUT_CUDA()                                 \
  if (!torch::cuda::is_available())                         \
  GTEST_SKIP() << "no CUDA device: LibTorch " TORCH_VERSION \
                  " here is CPU-only (run scripts/gpu_check.sh on a GPU machine)"

TEST(CudaTest, EncoderMatchesCpu) {
  SKIP_WITHOUT_CUDA();
  torch::manual_seed(0);
  absl::StatusOr<std::shared_ptr<Encoder>> built = testing::BuildEncoder("image", "width = 16\n");
  ASSERT_TRUE(built.ok()) << built.status();
  std::shared_ptr<Encoder> encoder = *built;
  encoder->eval();
  torch::Tensor x = torch::randn({2, 3, 64, 64});
  torch::NoGradGuard no_grad;
  torch::Tensor cpu = encoder->Forward(x);
  encoder->to(torch::kCUDA);
  torch::Tensor gpu = encoder->Forward(x.cuda()).cpu();
  EXPECT_LT((cpu - gpu).abs().max().item<double>(), 1e-3);
}

TEST(CudaTest, TrainerRunsOnCudaWithBf16) {
  SKIP_WITHOUT_CUDA();
  PluginHost host;
  AddCoreComponents(host);
  testing::RegisterTinyComponents(host);
  auto recipe = Recipe::Parse(testing::kTinyRecipe, "tiny.toml", ".", {"device=\"cuda\"", "amp=\"bf16\""});
  ASSERT_TRUE(recipe.ok());
  ASSERT_TRUE(recipe->Validate(host).ok());
  train::TrainerOptions options;
  options.output_root = ::testing::TempDir() + "/cuda_runs";
  auto trainer = train::Trainer::Create(*recipe, "tiny_cuda", host, options);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  absl::Status status = (*trainer)->Run().status();
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_TRUE(std::filesystem::exists((*trainer)->run_dir() + "/checkpoints/last.pt"));
  std::filesystem::remove_all(options.output_root);
}

}  // namespace
}  // namespace avsl
