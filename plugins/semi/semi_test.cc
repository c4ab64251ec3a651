// semi plugin: the map loss on hand-computed tensors, its masking and gradients, the component built from a
// recipe's [[losses]] array, and learning a map under it.
#include <cmath>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "avsl/checkpoint/training_checkpoint.h"
#include "avsl/core/loss.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/models/model_ops.h"
#include "avsl/testing/method_test_kit.h"
#include "map_supervision_loss.h"

namespace avsl {
namespace {

using models::MinMaxPerSample;
using plugins::semi::MapSupervisionLoss;
using plugins::semi::MapSupervisionOptions;

torch::Tensor T(std::vector<float> v, std::vector<int64_t> shape) { return torch::tensor(v).view(shape); }

TEST(MapSupervisionLossTest, SquaredErrorOnAnnotatedSamplesOnly) {
  // Three samples with 1x2 maps and 1x2 GT (same grid: no interpolation).
  //   0: map [0, 2] -> min-max [0, 1]; gt [0, 1]: errors 0, 0 -> 0.
  //   1: map [3, 1] -> min-max [1, 0]; gt [1, 1]: errors 0, 1 -> mean 0.5.
  //   2: not annotated (map [5, -5], gt 0) -> excluded.
  // Loss = (0 + 0.5) / 2 annotated = 0.25.
  torch::Tensor maps = T({0, 2, 3, 1, 5, -5}, {3, 1, 2});
  torch::Tensor gt = T({0, 1, 1, 1, 0, 0}, {3, 1, 2});
  torch::Tensor has_gt = torch::tensor({true, true, false});
  EXPECT_NEAR(MapSupervisionLoss(maps, gt, has_gt).item<double>(), 0.25, 1e-6);
  // Annotating sample 2 with gt [1, 1]: min-max [1, 0], error mean 0.5 -> (0 + 0.5 + 0.5) / 3 = 1/3.
  gt[2] = T({1, 1}, {1, 2});
  EXPECT_NEAR(MapSupervisionLoss(maps, gt, torch::tensor({true, true, true})).item<double>(), 1.0 / 3, 1e-6);
}

TEST(MapSupervisionLossTest, FlatMapIsLeftUnchangedAsTheReference) {
  // normalize_img leaves a map with max == min as is: pred [4, 4], gt [1, 0] -> ((4-1)^2 + 4^2)/2 = 12.5.
  torch::Tensor maps = T({4, 4}, {1, 1, 2});
  EXPECT_TRUE(torch::equal(MinMaxPerSample(maps), maps));
  EXPECT_NEAR(MapSupervisionLoss(maps, T({1, 0}, {1, 1, 2}), torch::tensor({true})).item<double>(), 12.5, 1e-6);
}

TEST(MapSupervisionLossTest, UpsamplesToTheGtGrid) {
  // Map [[0, 1]] (1x2) to a 1x3 GT grid, bilinear with align_corners = true: [0, 0.5, 1] (already min-max).
  // gt [0, 0, 1]: errors 0, 0.25, 0 -> mean 0.25/3 = 0.083333.
  MapSupervisionOptions o;
  o.upsample = "bilinear";
  o.align_corners = true;
  EXPECT_NEAR(
      MapSupervisionLoss(T({0, 1}, {1, 1, 2}), T({0, 0, 1}, {1, 1, 3}), torch::tensor({true}), o).item<double>(),
      0.25 / 3, 1e-6);
  // Default bicubic, align_corners = false, 2x2 -> 4x4 of a constant map stays constant: flat -> unchanged (7),
  // gt all ones -> (7 - 1)^2 = 36.
  EXPECT_NEAR(
      MapSupervisionLoss(torch::full({1, 2, 2}, 7.0f), torch::ones({1, 4, 4}), torch::tensor({true})).item<double>(),
      36.0, 1e-4);
}

TEST(MapSupervisionLossTest, BinaryCrossEntropyVariant) {
  // normalize = none, error = bce: pred [0.5, 0.25], gt [1, 0]: (-ln 0.5 - ln 0.75)/2 = (0.693147 + 0.287682)/2
  // = 0.490415.
  MapSupervisionOptions o;
  o.normalize = "none";
  o.error = "bce";
  EXPECT_NEAR(
      MapSupervisionLoss(T({0.5, 0.25}, {1, 1, 2}), T({1, 0}, {1, 1, 2}), torch::tensor({true}), o).item<double>(),
      (-std::log(0.5) - std::log(0.75)) / 2, 1e-6);
}

TEST(MapSupervisionLossTest, NoAnnotationGivesZeroAndGradientsOnlyReachAnnotatedMaps) {
  torch::Tensor maps = torch::randn({3, 2, 2}, torch::requires_grad());
  torch::Tensor gt = torch::rand({3, 4, 4});
  EXPECT_EQ(MapSupervisionLoss(maps, gt, torch::tensor({false, false, false})).item<double>(), 0.0);
  torch::Tensor loss = MapSupervisionLoss(maps, gt, torch::tensor({false, true, false}));
  loss.backward();
  EXPECT_EQ(maps.grad()[0].abs().sum().item<double>(), 0.0);
  EXPECT_EQ(maps.grad()[2].abs().sum().item<double>(), 0.0);
  EXPECT_GT(maps.grad()[1].abs().sum().item<double>(), 0.0);
}

// A method whose map is one learnable 4x4 table, to train under the loss alone.
class LearnableMap final : public Method {
 public:
  LearnableMap() { table_ = register_parameter("table", torch::zeros({1, 4, 4}).normal_(0, 0.1)); }
  StepOutput TrainStep(const Batch& batch) override { return {torch::zeros({}), {}, {}}; }
  Localization Localize(const Batch& batch) override {
    Localization out;
    out.maps = table_.expand({batch.image.size(0), 4, 4});
    return out;
  }
  torch::Tensor table_;
};

class SemiPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = testkit::LoadPlugins(host_, AVSL_BINARY_DIR, {"semi"});
    ASSERT_TRUE(s.ok()) << s;
  }
  absl::StatusOr<std::shared_ptr<Loss>> BuildLoss(const std::string& options) {
    auto recipe = testkit::ParseRecipe(host_.registry(), "[[losses]]\ntype = \"semi.MapSupervision\"\n" + options);
    if (!recipe.ok()) return recipe.status();
    return host_.registry().Build<Loss>(recipe->Root().SubArray("losses").at(0));
  }
  PluginHost host_;
};

TEST_F(SemiPluginTest, BuiltFromTheLossesArrayAndWeighted) {
  auto loss = BuildLoss("weight = 0.5\n");
  ASSERT_TRUE(loss.ok()) << loss.status();
  EXPECT_EQ((*loss)->parameters().size(), 0u);  // nothing to learn, nothing for the optimizer
  torch::manual_seed(0);
  Batch b;
  b.image = torch::zeros({3, 3, 8, 8});
  b.gt_map = torch::rand({3, 16, 16});
  b.has_gt = torch::tensor({true, false, true});
  torch::Tensor maps = torch::randn({3, 4, 4});
  EXPECT_NEAR((*loss)->Compute(b, maps).item<double>(),
              0.5 * MapSupervisionLoss(maps, b.gt_map, b.has_gt).item<double>(), 1e-7);
}

TEST_F(SemiPluginTest, SchemaRejectsUnknownErrorAndNegativeWeight) {
  EXPECT_EQ(testkit::ErrorMentions(BuildLoss("error = \"l1\"\n"), "losses"), absl::OkStatus());
  EXPECT_EQ(testkit::ErrorMentions(BuildLoss("weight = -1\n"), "weight"), absl::OkStatus());
}

TEST_F(SemiPluginTest, AMapLearnsTheAnnotatedBoxAndCheckpointsWithTheLoss) {
  auto loss = BuildLoss("weight = 1.0\n");
  ASSERT_TRUE(loss.ok()) << loss.status();
  torch::manual_seed(0);
  auto method = std::make_shared<LearnableMap>();
  Batch b;
  b.image = torch::zeros({2, 3, 8, 8});
  b.gt_map = torch::zeros({2, 8, 8});
  b.gt_map.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, 4), torch::indexing::Slice(4, 8)}, 1.0);
  b.has_gt = torch::tensor({true, true});
  torch::optim::Adam adam(method->parameters(), torch::optim::AdamOptions(0.05));
  std::vector<double> values;
  for (int step = 0; step < 20; ++step) {
    torch::Tensor l = (*loss)->Compute(b, method->Localize(b).maps);
    values.push_back(l.item<double>());
    ASSERT_TRUE(std::isfinite(values.back()));
    adam.zero_grad();
    l.backward();
    adam.step();
  }
  EXPECT_LT(values.back(), 0.5 * values.front()) << values.front() << " -> " << values.back();
  // The table's top-right quadrant (the box, after bicubic upsampling 4 -> 8) ends above the rest.
  torch::Tensor t = method->table_.detach()[0];
  EXPECT_GT(t.index({torch::indexing::Slice(0, 2), torch::indexing::Slice(2, 4)}).min().item<double>(),
            t.index({torch::indexing::Slice(2, 4), torch::indexing::Slice()}).max().item<double>());

  const std::string path = testkit::TempFilePath(::testing::TempDir(), "semi_ckpt");
  checkpoint::CheckpointContents save;
  save.method = method.get();
  save.losses = {*loss};
  ASSERT_TRUE(checkpoint::SaveCheckpoint(path, save).ok());
  auto other = std::make_shared<LearnableMap>();
  checkpoint::CheckpointContents load;
  load.method = other.get();
  load.losses = {*loss};
  absl::Status s = checkpoint::LoadCheckpoint(path, load);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(torch::equal(other->table_, method->table_));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace avsl
