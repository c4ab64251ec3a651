// CUDA checks of the core: an encoder on CUDA equals itself on CPU, the trainer runs on CUDA under bf16 autocast
// (the tiny test method and a shipped plugin recipe), and `device = "auto"` resolves to CUDA exactly when LibTorch
// sees a device (that test runs everywhere). The per-method CPU/CUDA parity table is method_parity_test.cc.
#include <unistd.h>

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "avsl/builtins/core_components.h"
#include "avsl/core/encoder.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/testing/method_test_kit.h"
#include "avsl/train/recipe_builders.h"
#include "avsl/train/trainer.h"
#include "cuda_skip.h"
#include "encoder_recipe.h"
#include "tiny_components.h"

namespace avsl {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The runtime the trainer would apply for the tiny recipe with `overrides`.
absl::StatusOr<train::Runtime> TinyRuntime(const std::vector<std::string>& overrides) {
  PluginHost host;
  testing::RegisterTinyComponents(host);
  absl::StatusOr<Recipe> recipe = Recipe::Parse(testing::kTinyRecipe, "tiny.toml", ".", overrides);
  if (!recipe.ok()) return recipe.status();
  absl::Status valid = recipe->Validate(host);
  if (!valid.ok()) return valid;
  return train::ApplyRuntime(recipe->Root());
}

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

// Runs with and without a GPU: the recipe default (`device = "auto"`, core/src/core/recipe_schema.cc) and an
// explicit "auto" resolve to CUDA exactly when LibTorch sees a CUDA device; "cpu" is always the CPU; "cuda" without
// a device is refused naming the key.
TEST(CudaTest, AutoDevicePicksCudaWhenPresent) {
  const bool cuda = torch::cuda::is_available();
  for (const std::vector<std::string>& overrides :
       {std::vector<std::string>{}, std::vector<std::string>{"device=\"auto\""}}) {
    absl::StatusOr<train::Runtime> runtime = TinyRuntime(overrides);
    ASSERT_TRUE(runtime.ok()) << runtime.status();
    EXPECT_EQ(runtime->device.is_cuda(), cuda)
        << "device = \"auto\" resolved to " << runtime->device << " with torch::cuda::is_available() = " << cuda;
    EXPECT_EQ(runtime->device.is_cpu(), !cuda) << runtime->device;
  }
  absl::StatusOr<train::Runtime> cpu = TinyRuntime({"device=\"cpu\""});
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_TRUE(cpu->device.is_cpu()) << cpu->device;
  absl::StatusOr<train::Runtime> forced = TinyRuntime({"device=\"cuda\""});
  if (cuda) {
    ASSERT_TRUE(forced.ok()) << forced.status();
    EXPECT_TRUE(forced->device.is_cuda()) << forced->device;
  } else {
    EXPECT_EQ(testkit::ErrorMentions(forced.status(), "'device'"), absl::OkStatus());
  }
}

// The same through the trainer: a run with the default device records the device it chose in env.json and takes
// its steps there (2 steps, no final test; on CPU too).
TEST(CudaTest, TrainerWithAutoDeviceUsesCudaWhenPresent) {
  const bool cuda = torch::cuda::is_available();
  PluginHost host;
  testing::RegisterTinyComponents(host);
  auto recipe = Recipe::Parse(testing::kTinyRecipe, "tiny.toml", ".", {});
  ASSERT_TRUE(recipe.ok()) << recipe.status();
  ASSERT_TRUE(recipe->Validate(host).ok());
  train::TrainerOptions options;
  options.output_root = ::testing::TempDir() + "/auto_device_runs_" + std::to_string(::getpid());
  options.max_steps = 2;
  options.final_test = false;
  auto trainer = train::Trainer::Create(*recipe, "tiny_auto", host, options);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  const std::string env = ReadFile((*trainer)->run_dir() + "/env.json");
  EXPECT_NE(env.find(cuda ? "\"device\": \"cuda" : "\"device\": \"cpu\""), std::string::npos) << env;
  absl::StatusOr<train::StopReason> stop = (*trainer)->Run();
  ASSERT_TRUE(stop.ok()) << stop.status();
  EXPECT_EQ(*stop, train::StopReason::kMaxSteps);
  std::filesystem::remove_all(options.output_root);
}

// A shipped plugin recipe (EZ-VSL on the procedural synthetic benchmark: ResNet convolutions, BatchNorm and the
// contrastive loss under autocast, the datasets plugin's loader) trains one shrunken epoch on CUDA in bf16 and
// validates. The run fails on a non-finite loss, so OK means every step's loss was finite.
TEST(CudaTest, ShippedEzvslRecipeTrainsOnCudaWithBf16) {
  SKIP_WITHOUT_CUDA();
  PluginHost host;
  const absl::Status loaded = testkit::LoadPlugins(host, AVSL_BINARY_DIR, {"ezvsl", "datasets"});
  ASSERT_TRUE(loaded.ok()) << loaded;
  auto recipe = Recipe::Load(
      std::string(AVSL_SOURCE_DIR) + "/recipes/ezvsl/synthetic.toml",
      {"device=\"cuda\"", "amp=\"bf16\"", "threads=2", "data.batch_size=8", "data.eval_batch_size=8", "data.workers=2",
       "data.train.size=16", "data.val.size=8", "data.test.size=8", "train.epochs=1", "train.log_every=1"});
  ASSERT_TRUE(recipe.ok()) << recipe.status();
  const absl::Status valid = recipe->Validate(host);
  ASSERT_TRUE(valid.ok()) << valid;
  train::TrainerOptions options;
  options.output_root = ::testing::TempDir() + "/cuda_ezvsl_runs_" + std::to_string(::getpid());
  options.final_test = false;
  auto trainer = train::Trainer::Create(*recipe, "ezvsl_cuda_bf16", host, options);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  absl::StatusOr<train::StopReason> stop = (*trainer)->Run();
  ASSERT_TRUE(stop.ok()) << stop.status();
  EXPECT_EQ(*stop, train::StopReason::kCompleted);
  EXPECT_NE(ReadFile((*trainer)->run_dir() + "/env.json").find("\"device\": \"cuda"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists((*trainer)->run_dir() + "/checkpoints/last.pt"));
  const std::string metrics = ReadFile((*trainer)->run_dir() + "/metrics.jsonl");
  EXPECT_NE(metrics.find("\"split\":\"train\""), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\"split\":\"val\""), std::string::npos) << metrics;
  std::filesystem::remove_all(options.output_root);
}

}  // namespace
}  // namespace avsl
