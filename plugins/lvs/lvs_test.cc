// lvs plugin: the loss on hand-computed and scalar-transcribed tensors, shapes, registered submodules, learning on
// a fixed batch, checkpoint round trip, option errors and the shipped recipes.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/models/lvs_loss.h"
#include "avsl/testing/method_test_kit.h"
#include "avsl/testing/released_weights_parity.h"

namespace avsl {
namespace {

using models::DiagonalMask;
using models::LvsExtra;
using models::LvsLoss;
using models::LvsLossOptions;
using models::LvsObjective;
using models::NegativeSummary;

// Width-8 encoders, layer4 stride 1 in both (the LVS ResNet): a 2x2 image map at 32x32
// (32 -> 16 conv1 -> 8 maxpool -> 8 -> 4 layer2 -> 2 layer3 -> 2 layer4).
std::string TinyModel(const std::string& options = "", const std::string& audio_extra = "") {
  return "[model]\ntype = \"lvs.LVS\"\n" + options +
         "\n[model.image_encoder]\ntype = \"core.ResNet18Image\"\nwidth = 8\nlayer4_stride = 1\ninit = \"reference\"\n"
         "[model.audio_encoder]\ntype = \"core.ResNet18Audio\"\nwidth = 8\nlayer4_stride = 1\n" +
         audio_extra;
}

class LvsTest : public ::testing::Test {
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
PluginHost* LvsTest::host_ = nullptr;

// Constant maps: a0[n,k,:,:] = c[n][k], so every (soft-masked) mean is c[n][k] whatever the masks are.
// c = [[0.8, 0.2], [0.1, 0.6]], temperature 0.1.
// code objective, diagonal code (x(1 - 100 I)), hard negative on:
//   row 0: [P, N00*(-99), N01, H]/T = [0.8, -79.2, 0.2, 0.8]/0.1 = [8, -792, 2, 8] -> CE = ln(2 + e^-6 + e^-800)
//   row 1: [0.6, 0.1, -59.4, 0.6]/0.1 = [6, 1, -594, 6]                           -> CE = ln(2 + e^-5 + e^-600)
// diagonal exclude: the same (e^-792 and e^-594 are 0 in float: the code mask only works because c_ii > 0).
// hard_negative off: row 0 [8, -792, 2] -> ln(1 + e^-6); row 1 [6, 1, -594] -> ln(1 + e^-5).
// paper objective: N_0 = H_0 + c01 = 1.0, logits [8, 10] -> ln(1 + e^2); N_1 = 0.6 + 0.1 = 0.7, [6, 7] -> ln(1 + e).
TEST_F(LvsTest, LossOnConstantMapsByHand) {
  const torch::Tensor a0 = torch::tensor({0.8f, 0.2f, 0.1f, 0.6f}).view({2, 2, 1, 1}).expand({2, 2, 2, 3});
  LvsLossOptions o;
  o.temperature = 0.1;
  auto ln = [](double x) { return std::log(x); };
  EXPECT_NEAR(LvsLoss(a0, o).loss.item<double>(), (ln(2 + std::exp(-6)) + ln(2 + std::exp(-5))) / 2, 1e-5);
  const torch::Tensor logits = LvsLoss(a0, o).logits;
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{2, 4}));
  EXPECT_NEAR(logits[0][1].item<double>(), -792, 1e-3);
  EXPECT_NEAR(logits[1][2].item<double>(), -594, 1e-3);
  o.diagonal = DiagonalMask::kExclude;
  EXPECT_TRUE(std::isinf(LvsLoss(a0, o).logits[0][1].item<double>()));
  EXPECT_NEAR(LvsLoss(a0, o).loss.item<double>(), (ln(2 + std::exp(-6)) + ln(2 + std::exp(-5))) / 2, 1e-5);
  o.hard_negative = false;
  EXPECT_EQ(LvsLoss(a0, o).logits.size(1), 3);
  EXPECT_NEAR(LvsLoss(a0, o).loss.item<double>(), (ln(1 + std::exp(-6)) + ln(1 + std::exp(-5))) / 2, 1e-5);
  o.hard_negative = true;
  o.objective = LvsObjective::kPaper;
  EXPECT_NEAR(LvsLoss(a0, o).loss.item<double>(), (ln(1 + std::exp(2)) + ln(1 + std::exp(1))) / 2, 1e-5);
}

// model.py AVENet.forward transcribed with scalar loops in double (sim1, sim * mask, sim2, CE target 0), for
// non-constant maps where the sigmoid masks matter.
double ScalarLvsLoss(const torch::Tensor& a0f, const LvsLossOptions& o, const torch::Tensor& pos_map = {},
                     const torch::Tensor& removed = {}) {
  const torch::Tensor a0 = a0f.to(torch::kDouble).contiguous();
  const int64_t b = a0.size(0), hw = a0.size(2) * a0.size(3);
  auto at = [&](int64_t n, int64_t k, int64_t p) { return a0[n][k].flatten()[p].item<double>(); };
  auto sig = [](double x) { return 1 / (1 + std::exp(-x)); };
  double total = 0;
  for (int64_t i = 0; i < b; ++i) {
    double pw = 0, ps = 0, nw = 0, ns = 0;
    for (int64_t p = 0; p < hw; ++p) {
      const double s = pos_map.defined() ? pos_map[i].flatten()[p].item<double>() : at(i, i, p);
      pw += sig((s - o.epsilon) / o.tau);
      ps += sig((s - o.epsilon) / o.tau) * s;
      const double a = at(i, i, p);
      const double neg = 1 - sig((a - (o.tri_map ? o.epsilon2 : o.epsilon)) / o.tau);
      nw += neg;
      ns += neg * a;
    }
    std::vector<double> logits = {ps / pw};
    double grouped = 0;
    for (int64_t j = 0; j < b; ++j) {
      double w = 0, ws = 0;
      for (int64_t p = 0; p < hw; ++p) {
        const double m = o.negatives == NegativeSummary::kMasked ? sig((at(i, j, p) - o.epsilon) / o.tau) : 1.0;
        w += m;
        ws += m * at(i, j, p);
      }
      const bool gone = removed.defined() && removed[i][j].item<bool>();
      if (o.objective == LvsObjective::kPaper) {
        if (j != i && !gone) grouped += ws / w;
      } else if (j == i && o.diagonal == DiagonalMask::kCode) {
        logits.push_back(ws / w * -99.0);
      } else if (j != i && !gone) {
        logits.push_back(ws / w);
      }
    }
    if (o.objective == LvsObjective::kPaper) logits.push_back(grouped + (o.hard_negative ? ns / nw : 0.0));
    else if (o.hard_negative) logits.push_back(ns / nw);
    double z = 0;
    for (double l : logits) z += std::exp((l - logits[0]) / o.temperature);
    total += std::log(z);  // -log softmax_0
  }
  return total / static_cast<double>(b);
}

TEST_F(LvsTest, LossMatchesAScalarTranscriptionOfTheReference) {
  torch::manual_seed(3);
  // Cosines spread over [0.3, 0.9] so the 0.65 / 0.4 sigmoids are neither all 0 nor all 1.
  const torch::Tensor a0 = 0.3 + 0.6 * torch::rand({3, 3, 2, 3}, torch::kDouble);
  int checked = 0;
  for (bool masked : {true, false})
    for (bool tri : {true, false})
      for (bool hard : {true, false})
        for (bool paper : {false, true})
          for (bool exclude : {false, true}) {
            if (paper && !exclude) continue;  // refused by the recipe (tested below)
            LvsLossOptions o;
            o.negatives = masked ? NegativeSummary::kMasked : NegativeSummary::kUniform;
            o.tri_map = tri;
            o.hard_negative = hard;
            o.objective = paper ? LvsObjective::kPaper : LvsObjective::kCode;
            o.diagonal = exclude ? DiagonalMask::kExclude : DiagonalMask::kCode;
            const double want = ScalarLvsLoss(a0, o);
            EXPECT_NEAR(LvsLoss(a0, o).loss.item<double>(), want, 1e-9) << masked << tri << hard << paper << exclude;
            ++checked;
          }
  EXPECT_EQ(checked, 24);
  // The masked and uniform negatives differ on these maps (so the loop above can tell them apart).
  LvsLossOptions m, u;
  u.negatives = NegativeSummary::kUniform;
  EXPECT_GT(std::abs(LvsLoss(a0, m).loss.item<double>() - LvsLoss(a0, u).loss.item<double>()), 1e-3);
  // The HardPos hooks: a replacement positive map and removed negatives.
  LvsExtra extra;
  extra.positive_map = 0.3 + 0.6 * torch::rand({3, 2, 3}, torch::kDouble);
  extra.remove_negative = torch::tensor({0, 1, 0, 0, 0, 0, 1, 0, 0}, torch::kBool).view({3, 3});
  // more_positive_maps: P_i = mean of the soft-masked means of S_ii and each extra map (each on its own map).
  // With K = 2 copies of S_ii the mean equals P_i itself: the same loss as without them.
  {
    LvsExtra copies;
    const torch::Tensor idx = torch::arange(3);
    const torch::Tensor diag = a0.index({idx, idx});
    copies.more_positive_maps = torch::stack({diag, diag}, 1);
    EXPECT_NEAR(LvsLoss(a0, LvsLossOptions(), copies).loss.item<double>(),
                LvsLoss(a0, LvsLossOptions()).loss.item<double>(), 1e-12);
    // One extra map that is constant 0.9 (soft-masked mean 0.9): P_i = (P_i + 0.9) / 2, checked on the logits.
    LvsExtra one;
    one.more_positive_maps = torch::full({3, 1, 2, 3}, 0.9, torch::kDouble);
    const torch::Tensor p0 = LvsLoss(a0, LvsLossOptions()).positive;
    EXPECT_TRUE(torch::allclose(LvsLoss(a0, LvsLossOptions(), one).positive, (p0 + 0.9) / 2));
  }
  for (bool exclude : {false, true}) {
    LvsLossOptions o;
    o.diagonal = exclude ? DiagonalMask::kExclude : DiagonalMask::kCode;
    EXPECT_NEAR(LvsLoss(a0, o, extra).loss.item<double>(),
                ScalarLvsLoss(a0, o, extra.positive_map, extra.remove_negative), 1e-9);
  }
}

TEST_F(LvsTest, GradientsFlowAndRemovedNegativesGetNone) {
  torch::manual_seed(4);
  torch::Tensor a0 = (0.3 + 0.6 * torch::rand({3, 3, 2, 2}, torch::kDouble)).requires_grad_();
  LvsExtra extra;
  extra.remove_negative = torch::zeros({3, 3}, torch::kBool);
  extra.remove_negative[0][2] = true;
  LvsLossOptions o;
  o.diagonal = DiagonalMask::kExclude;
  o.hard_negative = false;  // then the diagonal enters only through P
  torch::Tensor loss = LvsLoss(a0, o, extra).loss;
  loss.backward();
  ASSERT_TRUE(std::isfinite(loss.item<double>()));
  EXPECT_TRUE(a0.grad().isfinite().all().item<bool>());
  EXPECT_EQ(a0.grad()[0][2].abs().sum().item<double>(), 0.0);
  EXPECT_GT(a0.grad()[0][1].abs().sum().item<double>(), 0.0);
  EXPECT_GT(a0.grad()[1][1].abs().sum().item<double>(), 0.0);
}

TEST_F(LvsTest, ShapesRangeConfidenceAndSubmodules) {
  auto method = Build(TinyModel());
  ASSERT_NE(method, nullptr);
  method->eval();
  torch::NoGradGuard no_grad;
  const Batch batch = testkit::RandomBatch(3);
  Localization loc = method->Localize(batch);
  ASSERT_EQ(loc.maps.sizes(), (std::vector<int64_t>{3, 2, 2}));
  EXPECT_LE(loc.maps.abs().max().item<double>(), 1.0 + 1e-5);  // a cosine
  EXPECT_FALSE(loc.confidence.defined()) << "LVS has no native confidence: the evaluator's generic one";
  EXPECT_EQ(loc.range_min, -1.0);
  EXPECT_EQ(loc.range_max, 1.0);
  EXPECT_EQ(testkit::ChildNames(*method), (std::vector<std::string>{"imgnet", "audnet"}));
  // ResNet18 of width w (docs/encoders.md): conv1 + 2724 w^2 + 150 w. w = 8: 174336 + 1200 = 175536;
  // image conv1 3*8*49 = 1176 -> 176712; audio conv1 1*8*49 = 392 -> 175928. No heads: 352640.
  EXPECT_EQ(testkit::CountParameters(*method), 352640);
  // The optional confidences, computed on the same map.
  auto pos = Build(TinyModel("confidence = \"positive\"\n"));
  auto mx = Build(TinyModel("confidence = \"max\"\n"));
  pos->eval();
  mx->eval();
  Localization lp = pos->Localize(batch), lm = mx->Localize(batch);
  EXPECT_EQ(lp.confidence_name, "lvs_positive");
  EXPECT_EQ(lm.confidence_name, "max_cos");
  EXPECT_TRUE(torch::allclose(lm.confidence, std::get<0>(loc.maps.flatten(1).max(1))));
  const torch::Tensor w = torch::sigmoid((loc.maps - 0.65) / 0.03);
  EXPECT_TRUE(torch::allclose(lp.confidence, (w * loc.maps).sum({1, 2}) / w.sum({1, 2})));
  // TrainStep: a scalar loss over B + 2 logits.
  method->train();
  StepOutput out = method->TrainStep(batch);
  EXPECT_EQ(out.loss.dim(), 0);
  EXPECT_TRUE(std::isfinite(out.loss.item<double>()));
}

TEST_F(LvsTest, PoolingInTheMethodEqualsAPooledEncoder) {
  // AVENet max-pools the audio map itself; an encoder with pool = "none" must give the same maps.
  auto pooled = Build(TinyModel(), 5);
  auto unpooled = Build(TinyModel("", "pool = \"none\"\n"), 5);
  ASSERT_NE(pooled, nullptr);
  ASSERT_NE(unpooled, nullptr);
  pooled->eval();
  unpooled->eval();
  torch::NoGradGuard no_grad;
  Batch batch = testkit::RandomBatch(2);
  batch.audio = torch::randn({2, 1, 64, 64});  // a 4x4 audio map with layer4 stride 1
  EXPECT_TRUE(torch::allclose(pooled->Localize(batch).maps, unpooled->Localize(batch).maps));
}

TEST_F(LvsTest, RowBlocksAtTheirOffsetsAverageToTheWholeBatchLoss) {
  // train.global_negatives: each rank scores its images against every audio; the mean over the ranks' rows is
  // the single-process loss, in every objective variant.
  torch::manual_seed(4);
  const torch::Tensor a0 = 0.3 + 0.6 * torch::rand({4, 4, 2, 3}, torch::kDouble);
  for (bool paper : {false, true})
    for (bool exclude : {false, true}) {
      if (paper && !exclude) continue;
      LvsLossOptions o;
      o.objective = paper ? LvsObjective::kPaper : LvsObjective::kCode;
      o.diagonal = exclude ? DiagonalMask::kExclude : DiagonalMask::kCode;
      const double halves =
          (LvsLoss(a0.narrow(0, 0, 2), o, {}, 0).loss + LvsLoss(a0.narrow(0, 2, 2), o, {}, 2).loss).item<double>();
      EXPECT_NEAR(halves / 2, LvsLoss(a0, o).loss.item<double>(), 1e-12) << paper << exclude;
    }
  EXPECT_THROW(LvsLoss(a0.narrow(0, 0, 2), LvsLossOptions(), {}, 3), c10::Error);
}

TEST_F(LvsTest, GlobalNegativesGatherTheAudiosAndKeepTheLoss) {
  auto method = Build(TinyModel(), 3);
  ASSERT_NE(method, nullptr);
  method->train();
  const testkit::GlobalNegativesCheck check = testkit::CheckGlobalNegatives(*method, testkit::RandomBatch(4));
  EXPECT_EQ(check.gathers, 1);
  EXPECT_NEAR(check.gathered_loss, check.local_loss, 1e-6 * std::abs(check.local_loss));
}

TEST_F(LvsTest, LossDecreasesOnAFixedBatch) {
  auto method = Build(TinyModel(), 3);
  ASSERT_NE(method, nullptr);
  auto losses = testkit::TrainLosses(*method, testkit::RandomBatch(8), 20, 1e-3);
  ASSERT_TRUE(losses.ok()) << losses.status();
  for (double l : *losses) ASSERT_TRUE(std::isfinite(l));
  EXPECT_LT(losses->back(), 0.5 * losses->front()) << losses->front() << " -> " << losses->back();
}

TEST_F(LvsTest, CheckpointRoundTrip) {
  auto a = Build(TinyModel(), 1);
  auto b = Build(TinyModel(), 2);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const std::string path = testkit::TempFilePath(::testing::TempDir(), "lvs_roundtrip");
  absl::Status s = testkit::CheckWeightsRoundTrip(*a, *b, testkit::RandomBatch(2), path, TinyModel());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(LvsTest, BadOptionsAreRefusedNamingTheKey) {
  // epsilon2 0.4 >= epsilon with the tri-map.
  EXPECT_EQ(testkit::ErrorMentions(TryBuild(TinyModel("epsilon = 0.3\n")),
                                   "'model.epsilon2' = 0.4: the tri-map needs epsilon2 < epsilon (0.3)"),
            absl::OkStatus());
  EXPECT_TRUE(TryBuild(TinyModel("epsilon = 0.3\ntri_map = false\n")).ok());
  EXPECT_EQ(testkit::ErrorMentions(TryBuild(TinyModel("objective = \"paper\"\n")), "needs diagonal = \"exclude\""),
            absl::OkStatus());
  EXPECT_EQ(testkit::ErrorMentions(TryBuild(TinyModel("tau = 0\n")), "recipe key 'model.tau' = 0 is out of range"),
            absl::OkStatus());
  auto choice = TryBuild(TinyModel("negatives = \"median\"\n"));
  EXPECT_FALSE(choice.ok());
}

TEST_F(LvsTest, ShippedRecipesValidateAndTheSyntheticModelBuilds) {
  const std::string root = std::string(AVSL_SOURCE_DIR) + "/recipes/lvs/";
  for (const char* name : {"synthetic.toml", "flickr_10k.toml", "vggsound_144k.toml", "vggss_heard110.toml"}) {
    auto recipe = testkit::LoadRecipe(root + name, *host_);
    EXPECT_TRUE(recipe.ok()) << name << ": " << recipe.status();
  }
  auto recipe = testkit::LoadRecipe(root + "synthetic.toml", *host_);
  ASSERT_TRUE(recipe.ok());
  auto method = host_->registry().Build<Method>(recipe->Root().Sub("model"));
  ASSERT_TRUE(method.ok()) << method.status();
}

// A checkpoint in the layout of LVS's released weights ({'model_state_dict': DataParallel keys}, the legacy
// pre-1.6 torch.save format, three stems and an unused fc per ResNet), written by make_lvs_release.py from the
// re-derived official AVENet, loads through recipes/lvs/_released_weights.toml and gives test.py's maps
// (cv2 INTER_LINEAR = bilinear without align_corners, min-max) to 1e-4.
TEST(LvsReleasedTest, ReleasedCheckpointParity) {
  auto host = testkit::MakePluginHost(AVSL_BINARY_DIR, {"lvs", "datasets"});
  ASSERT_TRUE(host.ok()) << host.status();
  const std::string src = AVSL_SOURCE_DIR;
  for (const char* recipe : {"released_flickr.toml", "released_vggss.toml"}) {
    auto parity = testkit::CheckReleasedWeightsParity(**host, src + "/plugins/lvs/make_lvs_release.py",
                                                      src + "/recipes/lvs/" + recipe, "lvs_flickr.pth.tar");
    ASSERT_TRUE(parity.ok()) << recipe << ": " << parity.status();
    if (!parity->skip_reason.empty()) GTEST_SKIP() << parity->skip_reason;
    EXPECT_EQ(parity->samples, 2);
    EXPECT_LT(parity->max_map_diff, 1e-4) << recipe;
    EXPECT_NE(parity->load.find("240 tensors loaded from entry 'model_state_dict', 248 keys stripped, 1 renamed, "
                                "8 ignored"),
              std::string::npos)
        << parity->load;
    std::printf("%s: %s; max |map diff| %.3g\n", recipe, parity->load.c_str(), parity->max_map_diff);
  }
}

}  // namespace
}  // namespace avsl
