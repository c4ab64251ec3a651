// lvs.HardPos (the lvs plugin's second method): the mining and the loss on hand-computed tensors, equivalence
// with lvs.LVS when mining is off, shapes, registered submodules, learning on a fixed batch, checkpoint round trip,
// option errors, the recipes.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/models/lvs_loss.h"
#include "avsl/testing/method_test_kit.h"
#include "hard_positives.h"

namespace avsl {
namespace {

using models::DiagonalMask;
using models::LvsLoss;
using models::LvsLossOptions;
using models::NegativeSummary;
using plugins::hardpos::HardPositiveOptions;
using plugins::hardpos::HardPositives;
using plugins::hardpos::MineHardPositives;

// Width-8 encoders, layer4 stride 1: a 2x2 image map at 32x32.
std::string Encoders() {
  return "\n[model.image_encoder]\ntype = \"core.ResNet18Image\"\nwidth = 8\nlayer4_stride = 1\ninit = \"reference\"\n"
         "[model.audio_encoder]\ntype = \"core.ResNet18Audio\"\nwidth = 8\nlayer4_stride = 1\n";
}
std::string TinyModel(const std::string& options = "") {
  return "[model]\ntype = \"lvs.HardPos\"\n" + options + Encoders();
}

class HardPosTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto host = testkit::MakePluginHost(AVSL_BINARY_DIR, {"lvs", "datasets"});
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = host->release();
  }
  static absl::StatusOr<std::shared_ptr<Method>> TryBuild(const std::string& toml, uint64_t seed = 0) {
    return testkit::BuildMethod(host_->registry(), toml, seed);
  }
  static std::shared_ptr<Method> Build(const std::string& toml, uint64_t seed = 0) {
    auto method = TryBuild(toml, seed);
    EXPECT_TRUE(method.ok()) << method.status();
    return method.ok() ? *method : nullptr;
  }
  static PluginHost* host_;
};
PluginHost* HardPosTest::host_ = nullptr;

// Four samples whose neighbours are unambiguous.
// audio: a0 = [1,0,0], a1 = [0.9,0.1,0], a2 = [0,1,0], a3 = [0,0.2,1]. Cosines: (0,1) 0.994, (1,2) 0.110,
//   (1,3) 0.022, (2,3) 0.196, the rest 0 -> j_a = [1, 0, 3, 2].
// visual: v0 = [0,1,0], v1 = [1,0,0], v2 = [0.1,1,0], v3 = [1,0,0.3]. Cosines: (0,2) 0.995, (1,3) 0.958,
//   (1,2) 0.0995, (2,3) 0.095, the rest 0 -> j_v = [2, 3, 0, 1].
// Constant maps a0[n,k] = c[n][k]:
//   c = [[0.9, 0.3, 0.2, 0.1], [0.4, 0.8, 0.1, 0.3], [0.5, 0.6, 0.7, 0.2], [0.2, 0.1, 0.4, 0.6]].
// Positive map of i = mean(c[i][i], c[i][j_a], c[j_v][i]):
//   i0: (0.9 + 0.3 + 0.5)/3 = 1.7/3; i1: (0.8 + 0.4 + 0.1)/3 = 1.3/3; i2: (0.7 + 0.2 + 0.2)/3 = 1.1/3;
//   i3: (0.6 + 0.4 + 0.3)/3 = 1.3/3.
// Removed negatives {j_a, j_v}: row 0 {1,2}, row 1 {0,3}, row 2 {3,0}, row 3 {2,1}; the one left:
//   N_03 = 0.1, N_12 = 0.1, N_21 = 0.6, N_30 = 0.2.
// HardPos defaults (no hard negative), T = 0.1: loss_i = ln(1 + e^{(N - P)/T}) with (N - P)/T =
//   (0.3 - 1.7)/0.3 = -14/3, (0.3 - 1.3)/0.3 = -10/3, (1.8 - 1.1)/0.3 = 7/3, (0.6 - 1.3)/0.3 = -7/3.
TEST_F(HardPosTest, MiningAndLossByHand) {
  const torch::Tensor audio =
      torch::tensor({1.0, 0.0, 0.0, 0.9, 0.1, 0.0, 0.0, 1.0, 0.0, 0.0, 0.2, 1.0}, torch::kDouble).view({4, 3});
  const torch::Tensor visual =
      torch::tensor({0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.1, 1.0, 0.0, 1.0, 0.0, 0.3}, torch::kDouble).view({4, 3});
  const torch::Tensor c = torch::tensor(
      {0.9, 0.3, 0.2, 0.1, 0.4, 0.8, 0.1, 0.3, 0.5, 0.6, 0.7, 0.2, 0.2, 0.1, 0.4, 0.6}, torch::kDouble);
  const torch::Tensor a0 = c.view({4, 4, 1, 1}).expand({4, 4, 1, 2});
  HardPositiveOptions map_mean;
  map_mean.combine = HardPositiveOptions::Combine::kMapMean;
  HardPositives hp = MineHardPositives(a0, audio, visual, map_mean);
  EXPECT_TRUE(torch::equal(hp.audio_nn.flatten(), torch::tensor({1, 0, 3, 2}, torch::kLong)));
  EXPECT_TRUE(torch::equal(hp.visual_nn.flatten(), torch::tensor({2, 3, 0, 1}, torch::kLong)));
  const torch::Tensor want_pos = torch::tensor({1.7, 1.3, 1.1, 1.3}, torch::kDouble) / 3;
  ASSERT_EQ(hp.extra.positive_map.sizes(), (std::vector<int64_t>{4, 1, 2}));
  EXPECT_TRUE(torch::allclose(hp.extra.positive_map.select(2, 1).flatten(), want_pos));
  const torch::Tensor want_removed =
      torch::tensor({0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0}, torch::kBool).view({4, 4});
  EXPECT_TRUE(torch::equal(hp.extra.remove_negative, want_removed));

  LvsLossOptions o;
  o.hard_negative = false;
  o.negatives = NegativeSummary::kUniform;
  o.diagonal = DiagonalMask::kExclude;
  o.temperature = 0.1;
  auto l = [](double x) { return std::log(1 + std::exp(x)); };
  const double want = (l(-14.0 / 3) + l(-10.0 / 3) + l(7.0 / 3) + l(-7.0 / 3)) / 4;
  EXPECT_NEAR(LvsLoss(a0, o, hp.extra).loss.item<double>(), want, 1e-9);
  // The default, score-level combination: P_i = mean of each map's own soft-masked mean; on constant maps that is
  // the same mean of constants, so the same loss. The two mined maps travel as more_positive_maps [B,2,h,w].
  HardPositives score = MineHardPositives(a0, audio, visual, HardPositiveOptions());
  EXPECT_FALSE(score.extra.positive_map.defined());
  ASSERT_EQ(score.extra.more_positive_maps.sizes(), (std::vector<int64_t>{4, 2, 1, 2}));
  EXPECT_NEAR(score.extra.more_positive_maps[0][0][0][0].item<double>(), 0.3, 1e-12);  // c[0][j_a = 1]
  EXPECT_NEAR(score.extra.more_positive_maps[0][1][0][0].item<double>(), 0.5, 1e-12);  // c[j_v = 2][0]
  EXPECT_NEAR(LvsLoss(a0, o, score.extra).loss.item<double>(), want, 1e-9);

  // Sum instead of mean: i0's positive map is 1.7.
  HardPositiveOptions sum;
  sum.combine = HardPositiveOptions::Combine::kMapSum;
  EXPECT_NEAR(MineHardPositives(a0, audio, visual, sum).extra.positive_map[0][0][0].item<double>(), 1.7, 1e-12);
  // Audio only: i0's map is (0.9 + 0.3)/2, and only j_a leaves the negatives.
  HardPositiveOptions audio_only = map_mean;
  audio_only.visual = false;
  HardPositives a = MineHardPositives(a0, audio, visual, audio_only);
  EXPECT_FALSE(a.visual_nn.defined());
  EXPECT_NEAR(a.extra.positive_map[0][0][0].item<double>(), 0.6, 1e-12);
  EXPECT_EQ(a.extra.remove_negative.sum().item<int64_t>(), 4);
  // An asymmetric visual neighbourhood: v = [1,0], [0.9,0.1], [0.8,0.3] gives j_v = [1, 0, 1] (cos(2,1) = 0.969 >
  // cos(2,0) = 0.936). The mined pair of anchor 2 is (image 1, audio 2): it must leave row 1's negatives too, so
  // the mask holds (0,1), (1,0), (2,1) and (1,2).
  {
    const torch::Tensor v3 = torch::tensor({1.0, 0.0, 0.9, 0.1, 0.8, 0.3}, torch::kDouble).view({3, 2});
    const torch::Tensor a3 = torch::eye(3, torch::kDouble);
    HardPositiveOptions visual_only = map_mean;
    visual_only.audio = false;
    HardPositives v = MineHardPositives(c.view({4, 4, 1, 1}).narrow(0, 0, 3).narrow(1, 0, 3), a3, v3, visual_only);
    EXPECT_TRUE(torch::equal(v.visual_nn.flatten(), torch::tensor({1, 0, 1}, torch::kLong)));
    const torch::Tensor want = torch::tensor({0, 1, 0, 1, 0, 1, 0, 1, 0}, torch::kBool).view({3, 3});
    EXPECT_TRUE(torch::equal(v.extra.remove_negative, want)) << v.extra.remove_negative;
  }
  // Kept negatives: no removal mask at all.
  HardPositiveOptions keep;
  keep.remove_negatives = false;
  EXPECT_FALSE(MineHardPositives(a0, audio, visual, keep).extra.remove_negative.defined());
  // Two neighbours per modality (the second ones tie at cosine 0 for some rows, so only the shape is checked).
  HardPositiveOptions two;
  two.neighbors = 2;
  EXPECT_EQ(MineHardPositives(a0, audio, visual, two).audio_nn.size(1), 2);
  // B = 1: nothing to mine.
  EXPECT_FALSE(MineHardPositives(a0.slice(0, 0, 1).slice(1, 0, 1), audio.slice(0, 0, 1), visual.slice(0, 0, 1),
                                 HardPositiveOptions())
                   .extra.positive_map.defined());
}

TEST_F(HardPosTest, GradientsReachTheHardPositiveMapsButNotTheChoice) {
  torch::manual_seed(5);
  torch::Tensor a0 = (0.3 + 0.6 * torch::rand({4, 4, 2, 2}, torch::kDouble)).requires_grad_();
  torch::Tensor audio = torch::randn({4, 8}, torch::kDouble).requires_grad_();
  torch::Tensor visual = torch::randn({4, 8}, torch::kDouble).requires_grad_();
  HardPositives hp = MineHardPositives(a0, audio, visual, HardPositiveOptions());
  LvsLossOptions o;
  o.hard_negative = false;
  o.diagonal = DiagonalMask::kExclude;
  torch::Tensor loss = LvsLoss(a0, o, hp.extra).loss;
  loss.backward();
  EXPECT_FALSE(audio.grad().defined()) << "mining uses detached embeddings";
  EXPECT_FALSE(visual.grad().defined());
  const int64_t ja = hp.audio_nn[0][0].item<int64_t>();
  EXPECT_GT(a0.grad()[0][ja].abs().sum().item<double>(), 0) << "S_{0->j_a} is part of the positive";
}

TEST_F(HardPosTest, MiningOffWithLvsOptionsIsExactlyLvs) {
  // Both methods come from the same plugin, libavsl_lvs.so.
  auto lvs = TryBuild("[model]\ntype = \"lvs.LVS\"\n" + Encoders(), 9);
  ASSERT_TRUE(lvs.ok()) << lvs.status();
  auto hardpos = Build(TinyModel("mining = \"none\"\nhard_negative = true\nnegatives = \"masked\"\n"
                                 "diagonal = \"code\"\n"),
                       9);
  ASSERT_NE(hardpos, nullptr);
  const Batch batch = testkit::RandomBatch(5);
  EXPECT_EQ((*lvs)->TrainStep(batch).loss.item<float>(), hardpos->TrainStep(batch).loss.item<float>());
  (*lvs)->eval();
  hardpos->eval();
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal((*lvs)->Localize(batch).maps, hardpos->Localize(batch).maps));
}

TEST_F(HardPosTest, ShapesSubmodulesAndLogs) {
  auto method = Build(TinyModel());
  ASSERT_NE(method, nullptr);
  Batch batch = testkit::RandomBatch(4);
  batch.class_id = torch::tensor({0, 0, 1, 1}, torch::kLong);
  method->train();
  StepOutput out = method->TrainStep(batch);
  EXPECT_EQ(out.loss.dim(), 0);
  EXPECT_TRUE(std::isfinite(out.loss.item<double>()));
  std::vector<std::string> names;
  for (const auto& [name, value] : out.logs) {
    names.push_back(name);
    EXPECT_TRUE(std::isfinite(value)) << name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"positive_cos", "hp_audio_same_class", "hp_visual_same_class"}));
  method->eval();
  torch::NoGradGuard no_grad;
  Localization loc = method->Localize(batch);
  ASSERT_EQ(loc.maps.sizes(), (std::vector<int64_t>{4, 2, 2}));
  EXPECT_FALSE(loc.confidence.defined());
  EXPECT_EQ(loc.range_min, -1.0);
  EXPECT_EQ(loc.range_max, 1.0);
  EXPECT_EQ(testkit::ChildNames(*method), (std::vector<std::string>{"imgnet", "audnet"}));
  // As lvs_test: width-8 ResNet18s, image 176712 + audio 175928 = 352640; no heads (mining adds no parameters).
  EXPECT_EQ(testkit::CountParameters(*method), 352640);
  EXPECT_EQ(method->named_buffers()["steps"].item<int64_t>(), 1);
}

TEST_F(HardPosTest, MiningStartsAtTheConfiguredStep) {
  auto late = Build(TinyModel("mining_start_step = 1\n"), 4);
  auto none = Build(TinyModel("mining = \"none\"\n"), 4);
  ASSERT_NE(late, nullptr);
  ASSERT_NE(none, nullptr);
  const Batch batch = testkit::RandomBatch(6);
  // Train-mode forwards use batch statistics, so repeated steps without an optimizer see the same features.
  EXPECT_EQ(late->TrainStep(batch).loss.item<float>(), none->TrainStep(batch).loss.item<float>());
  EXPECT_NE(late->TrainStep(batch).loss.item<float>(), none->TrainStep(batch).loss.item<float>());
}

TEST_F(HardPosTest, LossDecreasesOnAFixedBatch) {
  auto method = Build(TinyModel(), 3);
  ASSERT_NE(method, nullptr);
  auto losses = testkit::TrainLosses(*method, testkit::RandomBatch(8), 20, 1e-3);
  ASSERT_TRUE(losses.ok()) << losses.status();
  for (double l : *losses) ASSERT_TRUE(std::isfinite(l));
  EXPECT_LT(losses->back(), 0.5 * losses->front()) << losses->front() << " -> " << losses->back();
}

TEST_F(HardPosTest, CheckpointRoundTripKeepsTheStepCounter) {
  auto a = Build(TinyModel(), 1);
  auto b = Build(TinyModel(), 2);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const Batch batch = testkit::RandomBatch(3);
  a->TrainStep(batch);
  a->TrainStep(batch);
  const std::string path = testkit::TempFilePath(::testing::TempDir(), "hardpos_roundtrip");
  absl::Status s = testkit::CheckWeightsRoundTrip(*a, *b, batch, path, TinyModel());
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(b->named_buffers()["steps"].item<int64_t>(), 2);
}

TEST_F(HardPosTest, BadOptionsAreRefusedNamingTheKey) {
  EXPECT_EQ(testkit::ErrorMentions(TryBuild(TinyModel("positive_combine = \"sum\"\nepsilon = -0.2\n")),
                                   "'model.positive_combine' = \"sum\" with epsilon = -0.2"),
            absl::OkStatus());
  EXPECT_EQ(
      testkit::ErrorMentions(TryBuild(TinyModel("hard_negative = true\nepsilon2 = 0.7\n")), "'model.epsilon2' = 0.7"),
      absl::OkStatus());
  EXPECT_EQ(testkit::ErrorMentions(TryBuild(TinyModel("neighbors = 0\n")),
                                   "recipe key 'model.neighbors' = 0 is out of range"),
            absl::OkStatus());
  EXPECT_FALSE(TryBuild(TinyModel("mining = \"text\"\n")).ok());
}

TEST_F(HardPosTest, ShippedRecipesValidateAndTheSyntheticModelBuilds) {
  const std::string root = std::string(AVSL_SOURCE_DIR) + "/recipes/lvs/";
  for (const char* name : {"hardpos_synthetic.toml", "hardpos_flickr_10k.toml", "hardpos_vggsound_144k.toml",
                           "hardpos_vggss_heard110.toml"}) {
    auto recipe = testkit::LoadRecipe(root + name, *host_);
    EXPECT_TRUE(recipe.ok()) << name << ": " << recipe.status();
  }
  auto recipe = testkit::LoadRecipe(root + "hardpos_synthetic.toml", *host_);
  ASSERT_TRUE(recipe.ok());
  auto method = host_->registry().Build<Method>(recipe->Root().Sub("model"));
  ASSERT_TRUE(method.ok()) << method.status();
}

}  // namespace
}  // namespace avsl
