// slavc plugin: built through the plugin host and a recipe, as the trainer builds it.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "avsl/checkpoint/load_into_module.h"
#include "avsl/checkpoint/state_dict.h"
#include "avsl/checkpoint/training_checkpoint.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/models/objectives.h"
#include "avsl/testing/method_test_kit.h"
#include "slavc_confidence.h"

namespace avsl {
namespace {

using plugins::slavc::SlavcConfidence;
// SLAVC's objective and map are the SDK's two-head ones.
using models::AsymmetricContrastiveLoss;
using models::AsymmetricLossTerms;
using models::TwoHeadFeatures;
using models::TwoHeadMap;

const PluginHost& Host() {
  static PluginHost* host = nullptr;
  if (host == nullptr) {
    host = new PluginHost;
    absl::Status s = testkit::LoadPlugins(*host, AVSL_BINARY_DIR, {"slavc", "datasets", "center_prior"});
    EXPECT_TRUE(s.ok()) << s;
  }
  return *host;
}

// `options` go into [model]; the encoders are width-8 ResNets (layer4 stride 1: a 2x2 map at 32x32).
std::string TinyRecipe(const std::string& options, int width = 8, const std::string& image_extra = "",
                       const std::string& audio_extra = "") {
  return "[model]\ntype = \"slavc.SLAVC\"\ndim = 16\n" + options +
         "\n[model.image_encoder]\ntype = \"core.ResNet18Image\"\nlayer4_stride = 1\nwidth = " + std::to_string(width) +
         "\n" + image_extra +
         "\n[model.audio_encoder]\ntype = \"core.ResNet18Audio\"\nwidth = " + std::to_string(width) + "\n" +
         audio_extra + "\n";
}

std::shared_ptr<Method> Build(const std::string& recipe_text, uint64_t seed = 0) {
  auto method = testkit::BuildMethod(Host().registry(), recipe_text, seed);
  EXPECT_TRUE(method.ok()) << method.status();
  return method.ok() ? *method : nullptr;
}

Batch MakeBatch(int64_t n, uint64_t seed = 7) { return testkit::RandomBatch(n, {}, seed); }

bool StartsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

TEST(SlavcTest, ShapesRangeAndNativeConfidence) {
  auto method = Build(TinyRecipe(""));
  ASSERT_NE(method, nullptr);
  method->eval();
  torch::NoGradGuard no_grad;
  Localization loc = method->Localize(MakeBatch(3));
  // 32 -> conv1 16 -> maxpool 8 -> layer2 4 -> layer3 2 -> layer4 (stride 1) 2.
  ASSERT_EQ(loc.maps.sizes(), (std::vector<int64_t>{3, 2, 2}));
  EXPECT_EQ(loc.confidence.sizes(), (std::vector<int64_t>{3}));
  EXPECT_EQ(loc.confidence_name, "slavc");
  EXPECT_DOUBLE_EQ(loc.range_min, -1.0 / 0.03);
  EXPECT_DOUBLE_EQ(loc.range_max, 1.0 / 0.03);
  // Mean of two cosines over tau.
  EXPECT_LE(loc.maps.abs().max().item<double>(), 1.0 / 0.03 + 1e-3);
  EXPECT_TRUE(torch::allclose(loc.confidence, SlavcConfidence(loc.maps, 0.03, 224)));
  const StepOutput out = method->TrainStep(MakeBatch(3));
  EXPECT_EQ(out.loss.dim(), 0);
  ASSERT_EQ(out.logs.size(), 2u);
  EXPECT_EQ(out.logs[0].first, "loss_a2i");
  EXPECT_NEAR(out.logs[0].second + out.logs[1].second, out.loss.item<double>(), 1e-5);
}

TEST(SlavcTest, SubmodulesAndParameterCount) {
  auto method = Build(TinyRecipe(""));
  ASSERT_NE(method, nullptr);
  // The reference's attribute names and order (model.py), so its state_dict maps by name.
  EXPECT_EQ(
      testkit::ChildNames(*method),
      (std::vector<std::string>{"imgnet", "img_dropout", "img_proj1", "img_proj2", "audnet", "aud_proj1", "aud_proj2",
                                "aud_dropout", "momentum_imgnet", "momentum_img_proj1", "momentum_img_proj2",
                                "momentum_audnet", "momentum_aud_proj1", "momentum_aud_proj2"}));
  // ResNet18 of width w (docs/encoders.md): conv1 + 2724 w^2 + 150 w, where 2724 w^2 = stage convs
  // (36 + 128 + 512 + 2048) w^2 and 150 w = BN affine (2 + 8 + 20 + 40 + 80) w.
  // w = 8: 2724*64 + 150*8 = 174336 + 1200 = 175536; image conv1 3*8*49 = 1176 -> 176712;
  // audio conv1 1*8*49 = 392 -> 175928. Heads, dim 16 from 64 channels: (64*16 + 16) = 1040 each, 4 heads = 4160.
  // Online = 176712 + 175928 + 4160 = 356800; the momentum copy doubles it: 713600.
  int64_t total = 0, trainable = 0, momentum = 0;
  for (const auto& p : method->named_parameters()) {
    total += p.value().numel();
    if (p.value().requires_grad()) trainable += p.value().numel();
    if (StartsWith(p.key(), "momentum_")) {
      momentum += p.value().numel();
      EXPECT_FALSE(p.value().requires_grad()) << p.key();
    }
  }
  EXPECT_EQ(total, 713600);
  EXPECT_EQ(trainable, 356800);
  EXPECT_EQ(momentum, 356800);
  // Momentum copies start equal to the online networks.
  auto params = method->named_parameters();
  for (const auto& p : params) {
    if (!StartsWith(p.key(), "momentum_")) {
      EXPECT_TRUE(torch::equal(p.value(), params["momentum_" + p.key()])) << p.key();
    }
  }
}

// Golden value, tau = 1/ln 2 so that exp(<v,a>/tau) = 2^<v,a>; C = 2, features are the unit vectors e1, e2;
// N = M = 2 and K = 2 locations (h = 1, w = 2).
//   online: v1 = {img0: [e1, e1], img1: [e1, e2]}, v2 = {img0: [e2, e1], img1: [e1, e2]}, a1 = a2 = [e2, e1]
//   target: v1t = {[e1, e1], [e1, e1]}, v2t = {[e2, e2], [e2, e2]}, a1t = [e1, e2], a2t = [e1, e1]
// i2a: P1 = softmax_m of 2^<v1[n,k], a1t[m]>: n0 k0,k1 -> (2/3, 1/3); n1 k0 -> (2/3, 1/3), k1 -> (1/3, 2/3).
//      P2 = softmax_k of 2^<v2[n,k], a2t[m]>: n0 (any m) -> (1/3, 2/3); n1 -> (2/3, 1/3).
//      p = Σ_k P1·P2: p00 = 2/9 + 4/9 = 2/3, p01 = 1/9 + 2/9 = 1/3, p10 = 4/9 + 1/9 = 5/9, p11 = 2/9 + 2/9 = 4/9.
//      CE rows: -ln((2/3)/1) = ln 1.5, -ln((4/9)/1) = ln 2.25; mean = ln(3.375)/2 = 0.608197662.
// a2i: P1 = softmax_m of 2^<e1, a1[m]> = (1/3, 2/3) everywhere; P2 = softmax_k of 2^<e2, a2[m]> = (1/2, 1/2).
//      p[n,0] = 1/3, p[n,1] = 2/3; CE rows -ln(1/3), -ln(2/3); mean = ln(4.5)/2 = 0.752038698.
// Total = ln(3.375 * 4.5)/2 = ln(15.1875)/2 = 1.360236361.
// Swapping the softmax dimensions or the heads gives 1.44519, using the online audio in i2a 1.64792, and the
// transposed cross-entropy 1.27602 (checked in Python), so each of those mistakes fails this test.
TEST(SlavcLossTest, GoldenValue) {
  const torch::Tensor e1 = torch::tensor({1.0f, 0.0f}), e2 = torch::tensor({0.0f, 1.0f});
  // [N,C,1,K] from per-image lists of location vectors.
  auto img = [](std::vector<std::vector<torch::Tensor>> locs) {
    std::vector<torch::Tensor> per_image;
    for (auto& l : locs) per_image.push_back(torch::stack(l, 1).unsqueeze(1));  // [C,1,K]
    return torch::stack(per_image);
  };
  TwoHeadFeatures online, target;
  online.img1 = img({{e1, e1}, {e1, e2}});
  online.img2 = img({{e2, e1}, {e1, e2}});
  online.aud1 = torch::stack({e2, e1});
  online.aud2 = torch::stack({e2, e1});
  target.img1 = img({{e1, e1}, {e1, e1}});
  target.img2 = img({{e2, e2}, {e2, e2}});
  target.aud1 = torch::stack({e1, e2});
  target.aud2 = torch::stack({e1, e1});
  const double tau = 1.0 / std::log(2.0);
  AsymmetricLossTerms t = AsymmetricContrastiveLoss(online, target, tau);
  ASSERT_EQ(t.i2a.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_NEAR(t.i2a[0][0].item<double>(), std::log(2.0 / 3), 1e-6);
  EXPECT_NEAR(t.i2a[1][0].item<double>(), std::log(5.0 / 9), 1e-6);
  EXPECT_NEAR(t.a2i[0][1].item<double>(), std::log(2.0 / 3), 1e-6);
  EXPECT_NEAR(t.total.item<double>(), std::log(15.1875) / 2, 1e-6);
  EXPECT_NEAR(t.total.item<double>(), 1.360236361, 1e-6);
  // Stable where the reference's log(Σ P1·P2) underflows: with tau = 1e-3 (and head 2 of the online images
  // negated) the probabilities are exp(-1000) = 0 in float, the reference expression gives a2i[0][0] = log 0 = -inf
  // and an infinite loss (checked in Python); the log-space form stays finite.
  TwoHeadFeatures far = online;
  far.img2 = -online.img2;
  EXPECT_TRUE(std::isfinite(AsymmetricContrastiveLoss(far, target, 1e-3).total.item<double>()));
}

TEST(SlavcLossTest, MapAndConfidenceByHand) {
  // Map: (<img1, aud1> + <img2, aud2>) / (2 tau); one image, one location: cosines 1 and 0 -> 0.5 / tau.
  TwoHeadFeatures f;
  f.img1 = torch::tensor({1.0f, 0.0f}).view({1, 2, 1, 1});
  f.img2 = torch::tensor({0.0f, 1.0f}).view({1, 2, 1, 1});
  f.aud1 = f.aud2 = torch::tensor({1.0f, 0.0f}).view({1, 2});
  EXPECT_NEAR(TwoHeadMap(f, 0.5).item<double>(), 1.0, 1e-7);
  // tau = 0.5: range [-2, 2]. A 4x4 map S_i = -2 + 4 i / 15 normalizes to i / 15. confidence_size 4 makes the
  // align_corners bicubic resize the identity; the top ceil(16/4) = 4 values are 12..15 -> mean 13.5/15 = 0.9.
  torch::Tensor ramp = (-2.0 + 4.0 * torch::arange(16, torch::kFloat) / 15).view({1, 4, 4});
  EXPECT_NEAR(SlavcConfidence(ramp, 0.5, 4).item<double>(), 0.9, 1e-6);
  // 3x3: numpy's sort(x)[-9//4:] keeps the top 3 (not 2): values 6,7,8 of i/8 -> 7/8.
  torch::Tensor ramp9 = (-2.0 + 4.0 * torch::arange(9, torch::kFloat) / 8).view({1, 3, 3});
  EXPECT_NEAR(SlavcConfidence(ramp9, 0.5, 3).item<double>(), 7.0 / 8, 1e-6);
  // A constant map stays constant through bicubic upsampling: S = 0 -> 0.5 at the reference's 224.
  EXPECT_NEAR(SlavcConfidence(torch::zeros({2, 7, 7}), 0.03, 224)[1].item<double>(), 0.5, 1e-6);
}

// Adam 1e-3 on a fixed batch of 8; returns the loss of each of `steps` steps.
std::vector<double> TrainLosses(const std::string& options, int steps) {
  auto method = Build(TinyRecipe(options), 3);
  if (method == nullptr) return {};
  auto losses = testkit::TrainLosses(*method, MakeBatch(8), steps, 1e-3);
  EXPECT_TRUE(losses.ok()) << losses.status();
  return losses.ok() ? *losses : std::vector<double>{};
}

TEST(SlavcTest, LossFiniteAndDecreasingOnAFixedBatch) {
  // With tau = 0.03 the untrained logits are sharp, so the first losses sit well above chance (2 ln 8 = 4.16).
  // No dropout, reference momentum 0.999: the online nets fit the (slowly moving) targets; measured 13.1 -> 0.09.
  std::vector<double> plain = TrainLosses("dropout_img = 0.0\n", 20);
  ASSERT_EQ(plain.size(), 20u);
  for (double l : plain) ASSERT_TRUE(std::isfinite(l));
  EXPECT_LT(plain.back(), 0.1 * plain.front()) << plain.front() << " -> " << plain.back();
  EXPECT_LT(testkit::TailMean(plain, 5), testkit::HeadMean(plain, 5));
  // Image dropout 0.5 in both branches, momentum 0.99: noisy steps, so 5-step means (measured 9.4 -> 3.9).
  // With the reference's 0.9 on this 64-channel 2x2 map the loss does not fall within 30 steps (measured).
  std::vector<double> dropped = TrainLosses("dropout_img = 0.5\nmomentum_img = 0.99\nmomentum_aud = 0.99\n", 20);
  ASSERT_EQ(dropped.size(), 20u);
  for (double l : dropped) ASSERT_TRUE(std::isfinite(l));
  EXPECT_LT(testkit::TailMean(dropped, 5), testkit::HeadMean(dropped, 5) - 2.0)
      << "first 5 mean " << testkit::HeadMean(dropped, 5) << ", last 5 mean " << testkit::TailMean(dropped, 5);
}

TEST(SlavcTest, GlobalNegativesGatherTheFourAudioEmbeddingsInOneCallAndKeepTheLoss) {
  // train.global_negatives on one rank: online and target audios of both heads gathered together and split back
  // in order (a swapped head or branch would change the loss); the same dropout draws both ways.
  auto method = Build(TinyRecipe("dropout_img = 0.3\n"));
  ASSERT_NE(method, nullptr);
  method->train();
  const testkit::GlobalNegativesCheck check = testkit::CheckGlobalNegatives(*method, MakeBatch(4));
  EXPECT_EQ(check.gathers, 1);
  EXPECT_NEAR(check.gathered_loss, check.local_loss, 1e-6 * std::abs(check.local_loss));
}

TEST(SlavcTest, EmaUpdateIsExactAndParametersOnly) {
  auto method = Build(TinyRecipe("momentum_img = 0.9\nmomentum_aud = 0.75\n"));
  ASSERT_NE(method, nullptr);
  method->train();
  // Move the online networks (as an optimizer step would) and the momentum BN statistics (a train forward).
  {
    torch::NoGradGuard no_grad;
    for (auto& p : method->named_parameters())
      if (!StartsWith(p.key(), "momentum_")) p.value().add_(torch::randn_like(p.value()) * 0.1);
  }
  method->TrainStep(MakeBatch(4));
  const auto before = testkit::Snapshot(*method);
  method->AfterOptimizerStep();
  const auto after = testkit::Snapshot(*method);
  int checked = 0;
  for (const auto& p : method->named_parameters()) {
    const std::string& k = p.key();
    if (!StartsWith(k, "momentum_")) {
      EXPECT_TRUE(torch::equal(after.at(k), before.at(k))) << k << " (online must not move)";
      continue;
    }
    const std::string online = k.substr(std::string("momentum_").size());
    const double m = StartsWith(online, "img") ? 0.9 : 0.75;
    // model.py: param_m = param_m * m + param_b * (1 - m), elementwise in float32.
    const torch::Tensor expected = before.at(k) * m + before.at(online) * (1.0 - m);
    EXPECT_TRUE(torch::equal(after.at(k), expected)) << k;
    // ... and the same within float rounding when done in double.
    const torch::Tensor exact = before.at(k).to(torch::kDouble) * m + before.at(online).to(torch::kDouble) * (1 - m);
    EXPECT_LT((after.at(k).to(torch::kDouble) - exact).abs().max().item<double>(), 1e-6) << k;
    EXPECT_FALSE(torch::equal(after.at(k), before.at(k))) << k << " did not move";
    ++checked;
  }
  // Each ResNet18 has 60 parameter tensors (20 conv weights, 20 BN weight/bias pairs; docs/encoders.md), each of
  // the 4 heads a weight and a bias: 60 + 60 + 8.
  EXPECT_EQ(checked, 128);
  // Buffers (BN running statistics) are not averaged: AfterOptimizerStep leaves every buffer as it was.
  for (const auto& b : method->named_buffers()) {
    EXPECT_TRUE(torch::equal(after.at(b.key()), before.at(b.key()))) << b.key();
  }
}

TEST(SlavcTest, StopGradientOnTargets) {
  auto method = Build(TinyRecipe(""));
  ASSERT_NE(method, nullptr);
  method->train();
  StepOutput out = method->TrainStep(MakeBatch(4));
  out.loss.backward();
  int online_with_grad = 0, online = 0;
  for (const auto& p : method->named_parameters()) {
    if (StartsWith(p.key(), "momentum_")) {
      EXPECT_FALSE(p.value().grad().defined()) << p.key() << " received a gradient";
    } else {
      ++online;
      if (p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0) ++online_with_grad;
    }
  }
  EXPECT_EQ(online_with_grad, online) << "every online parameter is trained by one of the two terms";
}

TEST(SlavcTest, EvalEncoderSelectsOnlineOrMomentum) {
  const Batch batch = MakeBatch(2);
  for (const std::string which : {"online", "momentum"}) {
    auto method = Build(TinyRecipe("eval_encoder = \"" + which + "\"\n"));
    ASSERT_NE(method, nullptr);
    method->eval();
    torch::NoGradGuard no_grad;
    const torch::Tensor before = method->Localize(batch).maps;
    for (auto& p : method->named_parameters())
      if (!StartsWith(p.key(), "momentum_")) p.value().add_(torch::randn_like(p.value()));
    const torch::Tensor after = method->Localize(batch).maps;
    if (which == "online") {
      EXPECT_FALSE(torch::allclose(before, after)) << "the online map ignores the online networks";
    } else {
      EXPECT_TRUE(torch::equal(before, after)) << "the momentum map depends on the online networks";
    }
  }
}

TEST(SlavcTest, TrainStepReturnsTheOnlineMapOfItsForward) {
  auto method = Build(TinyRecipe(""));
  ASSERT_NE(method, nullptr);
  method->train();
  const Batch batch = MakeBatch(3);
  StepOutput out = method->TrainStep(batch);
  ASSERT_TRUE(out.maps.defined()) << "extra losses (semi) train on the step's maps";
  EXPECT_TRUE(out.maps.requires_grad()) << "extra losses (semi) need a differentiable map";
  EXPECT_EQ(out.maps.sizes(), (std::vector<int64_t>{3, 2, 2}));
}

TEST(SlavcTest, UnpooledAudioEncoderIsRefusedWithTheReason) {
  auto method = Build(TinyRecipe("", 8, "", "pool = \"none\"\n"));
  ASSERT_NE(method, nullptr);
  method->eval();
  Batch batch = MakeBatch(2);
  batch.audio = torch::randn({2, 1, 64, 64});  // layer4 map 2x2 (a 32x16 input would give 1x1)
  ASSERT_EQ(testkit::ThrowsMentioning([&] { method->Localize(batch); }, "must return a pooled vector"),
            absl::OkStatus());
}

TEST(SlavcTest, CheckpointRoundTripResumesBitExactly) {
  const std::string recipe = TinyRecipe("momentum_img = 0.9\nmomentum_aud = 0.9\n");
  const Batch batch = MakeBatch(4);
  auto a = Build(recipe, 1);
  ASSERT_NE(a, nullptr);
  a->train();
  torch::optim::Adam opt_a(a->parameters(), torch::optim::AdamOptions(1e-3));
  auto step = [&](Method& m, torch::optim::Optimizer& opt) {
    return testkit::OptimizerStep(m, opt, batch).loss.item<float>();
  };
  for (int i = 0; i < 2; ++i) step(*a, opt_a);
  const std::string path = testkit::TempFilePath(::testing::TempDir(), "slavc_ckpt");
  checkpoint::CheckpointContents saved;
  saved.method = a.get();
  saved.optimizer = &opt_a;
  saved.recipe_toml = "recipe";
  saved.state.global_step = 2;
  ASSERT_TRUE(checkpoint::SaveCheckpoint(path, saved).ok());
  const auto at_save = testkit::Snapshot(*a);
  std::vector<float> losses_a;
  for (int i = 0; i < 2; ++i) losses_a.push_back(step(*a, opt_a));  // dropout draws from the saved RNG state on

  auto b = Build(recipe, 2);  // different initial weights
  ASSERT_NE(b, nullptr);
  b->train();
  torch::optim::Adam opt_b(b->parameters(), torch::optim::AdamOptions(1e-3));
  checkpoint::CheckpointContents loaded;
  loaded.method = b.get();
  loaded.optimizer = &opt_b;
  absl::Status s = checkpoint::LoadCheckpoint(path, loaded);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(loaded.state.global_step, 2);
  for (const auto& [k, v] : testkit::Snapshot(*b)) EXPECT_TRUE(torch::equal(v, at_save.at(k))) << k;
  for (int i = 0; i < 2; ++i) EXPECT_EQ(step(*b, opt_b), losses_a[static_cast<size_t>(i)]) << "resumed step " << i;
  const auto end_a = testkit::Snapshot(*a);
  for (const auto& [k, v] : testkit::Snapshot(*b)) EXPECT_TRUE(torch::equal(v, end_a.at(k))) << k;

  // Weights only (eval / --init-from): the same maps as the saved model.
  auto c = Build(recipe, 3);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(checkpoint::LoadMethodWeights(path, *c).ok());
  for (const auto& [k, v] : testkit::Snapshot(*c)) EXPECT_TRUE(torch::equal(v, at_save.at(k))) << k;
  std::filesystem::remove(path);
}

// The shipped recipes stay valid against the schemas, and the synthetic model builds.
TEST(SlavcRecipesTest, ShippedRecipesValidate) {
  const std::string root = std::string(AVSL_SOURCE_DIR) + "/recipes/";
  for (const char* name : {"quickstart.toml", "slavc/synthetic.toml", "slavc/flickr_10k.toml",
                           "slavc/vggsound_144k.toml", "slavc/vggss_heard110.toml", "center_prior/synthetic.toml"}) {
    auto recipe = testkit::LoadRecipe(root + name, Host());
    EXPECT_TRUE(recipe.ok()) << name << ": " << recipe.status();
  }
  auto quickstart = testkit::LoadRecipe(root + "quickstart.toml", Host());
  ASSERT_TRUE(quickstart.ok());
  auto method = Host().registry().Build<Method>(quickstart->Root().Sub("model"));
  ASSERT_TRUE(method.ok()) << method.status();
  // Quickstart and center_prior score the same test split.
  auto prior = testkit::LoadRecipe(root + "center_prior/synthetic.toml", Host());
  ASSERT_TRUE(prior.ok());
  EXPECT_EQ(quickstart->Root().Sub("data").Sub("test").ToToml(), prior->Root().Sub("data").Sub("test").ToToml());
}

}  // namespace
}  // namespace avsl
