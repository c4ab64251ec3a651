// ssltie plugin: the view transform and the loss against a PyTorch re-derivation on fixed tensors
// (make_ssltie_parity.py: values and gradients; skipped when /usr/bin/python3 lacks torch), hand-checked limits (the
// identity transform; without the second view's changes and the equivariance weight SSL-TIE is LVS), the network
// (LVS's layout: an LVS checkpoint localizes the same), learning on a fixed batch, logs, global negatives, checkpoint
// round trip and recipe errors. The appearance augmentation is the SDK's (tests/models/appearance_augment_test.cc).
#include <cmath>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/testing/method_test_kit.h"
#include "avsl/testing/python_fixture.h"
#include "geometric_transform.h"
#include "ssltie_loss.h"

namespace avsl {
namespace {

using plugins::ssltie::GeometricTransform;
using plugins::ssltie::SslTieLoss;
using plugins::ssltie::SslTieLossOptions;
using plugins::ssltie::SslTieLossTerms;
using plugins::ssltie::WarpLikeSslTie;

// Width-8 encoders, layer4 stride 1 in both (the LVS ResNet, lvs_test's TinyModel): a 2x2 map at 32x32, 1x1 for the
// 16x16 second view at scale 0.5.
std::string TinyModel(const std::string& type, const std::string& options = "") {
  return "[model]\ntype = \"" + type + "\"\n" + options +
         "\n[model.image_encoder]\ntype = \"core.ResNet18Image\"\nwidth = 8\nlayer4_stride = 1\ninit = \"reference\"\n"
         "[model.audio_encoder]\ntype = \"core.ResNet18Audio\"\nwidth = 8\nlayer4_stride = 1\n";
}
// View 2 = view 1 and no appearance change: SSL-TIE's step is then LVS's.
const char kNoTransforms[] = "appearance = false\nscales = [1.0]\nmax_angle = 0\nflip_probability = 0.0\n";

std::shared_ptr<Method> Build(const std::string& toml, uint64_t seed = 0) {
  auto method = testkit::BuildMethodWithPlugins(AVSL_BINARY_DIR, {"ssltie", "lvs", "datasets"}, toml, seed);
  EXPECT_TRUE(method.ok()) << method.status();
  return method.ok() ? *method : nullptr;
}
absl::Status BuildError(const std::string& toml) {
  return testkit::BuildMethodWithPlugins(AVSL_BINARY_DIR, {"ssltie", "lvs", "datasets"}, toml).status();
}

double MaxDiff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

GeometricTransform Transform(torch::Tensor angles, double scale, bool flip, int64_t canvas) {
  GeometricTransform t;
  t.angles = std::move(angles);
  t.scale = scale;
  t.flip = flip;
  t.canvas_height = t.canvas_width = canvas;
  return t;
}

TEST(SslTieTransformTest, IdentityFlipAndShapes) {
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({3, 2, 12, 12}, torch::kDouble);
  // No rotation, scale 1: align_corners = true samples every pixel centre exactly.
  EXPECT_LT(MaxDiff(WarpLikeSslTie(x, Transform(torch::zeros({3}, torch::kDouble), 1.0, false, 12)), x), 1e-12);
  EXPECT_LT(MaxDiff(WarpLikeSslTie(x, Transform(torch::zeros({3}, torch::kDouble), 1.0, true, 12)), x.flip({3})),
            1e-12);
  // A 3x3 map on a 12-pixel canvas at scale 0.5: upsampled to the canvas, warped, resized to int(3 * 0.5) = 1.
  const torch::Tensor map = torch::rand({3, 1, 3, 3});
  EXPECT_EQ(WarpLikeSslTie(map, Transform(torch::full({3}, 10.0, torch::kDouble), 0.5, false, 12)).sizes(),
            torch::IntArrayRef({3, 1, 1, 1}));
  // Content shrinks towards the centre and the border is zero-padded: a constant frame keeps its value only inside.
  const torch::Tensor ones = torch::ones({1, 1, 12, 12}, torch::kDouble);
  const torch::Tensor half = WarpLikeSslTie(ones, Transform(torch::zeros({1}, torch::kDouble), 0.5, false, 12));
  EXPECT_EQ(half.sizes(), torch::IntArrayRef({1, 1, 6, 6}));
  EXPECT_NEAR(half[0][0][3][3].item<double>(), 1.0, 1e-9);
  EXPECT_NEAR(half[0][0][0][0].item<double>(), 0.0, 1e-9);
  // 90 degrees counter-clockwise on screen: the top row's content moves to the left column (up to the reference's
  // half-pixel centre offset, which the zero padding reveals on one edge only).
  torch::Tensor bar = torch::zeros({1, 1, 12, 12}, torch::kDouble);
  bar.index_put_({0, 0, 1, torch::indexing::Slice(2, 10)}, 1.0);
  const torch::Tensor r = WarpLikeSslTie(bar, Transform(torch::full({1}, 90.0, torch::kDouble), 1.0, false, 12));
  EXPECT_GT(r[0][0].select(1, 1).sum().item<double>() + r[0][0].select(1, 2).sum().item<double>(), 7.0);
  EXPECT_NEAR(r[0][0].select(0, 1).slice(0, 4, 12).sum().item<double>(), 0.0, 1e-9);
}

TEST(SslTieTransformTest, SampledDrawsFollowTheOptions) {
  torch::manual_seed(2);
  plugins::ssltie::GeometricTransformOptions o;
  int halves = 0, flips = 0;
  for (int i = 0; i < 200; ++i) {
    const GeometricTransform t = plugins::ssltie::SampleGeometricTransform(16, 32, 32, o);
    ASSERT_TRUE(t.scale == 1.0 || t.scale == 0.5);
    halves += t.scale == 0.5;
    flips += t.flip;
    EXPECT_LE(t.angles.abs().max().item<double>(), 30.0);
    EXPECT_TRUE(torch::equal(t.angles, t.angles.round()));  // integer degrees, as random.randint
  }
  EXPECT_GT(halves, 70);
  EXPECT_LT(halves, 130);
  EXPECT_GT(flips, 70);
  EXPECT_LT(flips, 130);
  o.scales = {1.0};
  o.max_angle = 0;
  o.flip_probability = 0;
  const GeometricTransform none = plugins::ssltie::SampleGeometricTransform(4, 8, 8, o);
  EXPECT_EQ(none.scale, 1.0);
  EXPECT_FALSE(none.flip);
  EXPECT_EQ(none.angles.abs().sum().item<double>(), 0.0);
}

// The reference step re-derived in Python (make_ssltie_parity.py), two cases: the transform of frames, the loss
// terms, T(A1) and the three input gradients.
TEST(SslTieLossTest, ParityWithPyTorchReDerivation) {
  absl::StatusOr<testkit::PythonFixture> ref = testkit::RunPythonFixture(
      std::string(AVSL_SOURCE_DIR) + "/plugins/ssltie/make_ssltie_parity.py", "ssltie_parity.pt");
  ASSERT_TRUE(ref.ok()) << ref.status();
  if (!ref->skip_reason.empty()) GTEST_SKIP() << ref->skip_reason;
  for (const std::string prefix : {"s05.", "s10."}) {
    auto get = [&](const std::string& key) { return ref->Get(prefix + key); };
    const GeometricTransform t = Transform(get("in.angles"), get("in.scale").item<double>(),
                                           get("in.flip").item<double>() > 0.5,
                                           static_cast<int64_t>(get("in.canvas").item<double>()));
    const torch::Tensor frames2 = WarpLikeSslTie(get("in.frames"), t);
    const torch::Tensor v1 = get("in.image1").clone().requires_grad_(true);
    const torch::Tensor v2 = get("in.image2").clone().requires_grad_(true);
    const torch::Tensor a = get("in.audio").clone().requires_grad_(true);
    const SslTieLossTerms l = SslTieLoss(v1, v2, a, t, SslTieLossOptions());
    l.total.backward();
    const std::pair<const char*, torch::Tensor> checks[] = {{"out.frames2", frames2},
                                                            {"out.total", l.total},
                                                            {"out.view1", l.view1},
                                                            {"out.view2", l.view2},
                                                            {"out.equivariance", l.equivariance},
                                                            {"out.target", l.target},
                                                            {"out.grad_image1", v1.grad()},
                                                            {"out.grad_image2", v2.grad()},
                                                            {"out.grad_audio", a.grad()}};
    for (const auto& [key, ours] : checks) {
      const torch::Tensor want = get(key);
      ASSERT_EQ(ours.sizes(), want.sizes()) << prefix << key;
      const double diff = MaxDiff(ours.detach(), want);
      std::printf("ssltie parity %s%-17s max|diff| %.3g\n", prefix.c_str(), key, diff);
      EXPECT_LT(diff, 1e-10) << prefix << key;
    }
    EXPECT_GT(l.equivariance.item<double>(), 0.0);
  }
}

TEST(SslTieLossTest, WeightsDetachAndL1) {
  torch::manual_seed(5);
  auto unit = [](torch::Tensor t) {
    return torch::nn::functional::normalize(t, torch::nn::functional::NormalizeFuncOptions().dim(1));
  };
  const torch::Tensor v1 = unit(torch::rand({4, 6, 4, 4}, torch::kDouble)).requires_grad_(true);
  const torch::Tensor v2 = unit(torch::rand({4, 6, 4, 4}, torch::kDouble));
  const torch::Tensor a = unit(torch::rand({4, 6}, torch::kDouble));
  const GeometricTransform t = Transform(torch::tensor({5.0, -7.0, 0.0, 30.0}, torch::kDouble), 1.0, true, 32);
  SslTieLossOptions o;
  const SslTieLossTerms mse = SslTieLoss(v1, v2, a, t, o);
  EXPECT_NEAR(mse.total.item<double>(),
              0.5 * (mse.view1.item<double>() + mse.view2.item<double>()) + mse.equivariance.item<double>(), 1e-12);
  EXPECT_NEAR(mse.equivariance.item<double>(), (mse.map2 - mse.target).pow(2).mean().item<double>(), 1e-12);
  o.l1 = true;
  o.equivariance_weight = 3;
  const SslTieLossTerms l1 = SslTieLoss(v1, v2, a, t, o);
  EXPECT_NEAR(l1.equivariance.item<double>(), (l1.map2 - l1.target).abs().mean().item<double>(), 1e-12);
  EXPECT_NEAR(l1.total.item<double>(),
              0.5 * (l1.view1.item<double>() + l1.view2.item<double>()) + 3 * l1.equivariance.item<double>(), 1e-12);
  // detach_target: view 1's features get gradient from their own LVS loss only.
  o = SslTieLossOptions();
  o.detach_target = true;
  auto grad_v1 = [&](const torch::Tensor& loss) { return torch::autograd::grad({loss}, {v1})[0]; };
  const torch::Tensor own = grad_v1(0.5 * SslTieLoss(v1, v2, a, t, o).view1);
  EXPECT_LT(MaxDiff(grad_v1(SslTieLoss(v1, v2, a, t, o).total), own), 1e-12);
  o.detach_target = false;
  EXPECT_GT(MaxDiff(grad_v1(SslTieLoss(v1, v2, a, t, o).total), own), 1e-6);
}

TEST(SslTieMethodTest, LvsNetworkAndWithoutTransformsLvsLoss) {
  auto tie = Build(TinyModel("ssltie.SSLTIE", kNoTransforms + std::string("equivariance_weight = 0.0\n")));
  auto lvs = Build(TinyModel("lvs.LVS"));
  ASSERT_NE(tie, nullptr);
  ASSERT_NE(lvs, nullptr);
  // The same parameters and buffers under the same names, initialized alike from the same seed.
  const auto s = testkit::Snapshot(*tie), l = testkit::Snapshot(*lvs);
  ASSERT_EQ(s.size(), l.size());
  for (const auto& [name, tensor] : l) {
    ASSERT_EQ(s.count(name), 1u) << name;
    EXPECT_TRUE(torch::equal(s.at(name), tensor)) << name;
  }
  const Batch batch = testkit::RandomBatch(4);
  tie->eval();
  lvs->eval();
  {
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal(tie->Localize(batch).maps, lvs->Localize(batch).maps));
  }
  // View 2 = view 1: 0.5 (L + L) = L, LVS's loss (train mode: BN sees the same batch in both views).
  tie->train();
  lvs->train();
  const double t = tie->TrainStep(batch).loss.item<double>();
  const double v = lvs->TrainStep(batch).loss.item<double>();
  EXPECT_NEAR(t, v, 1e-5 * std::abs(v));
}

TEST(SslTieMethodTest, LearnsAFixedBatchAndLogsEveryTerm) {
  // The view transform is drawn each step (the appearance augmentation is off so the batch's content stays fixed).
  auto method = Build(TinyModel("ssltie.SSLTIE", "appearance = false\n"), 3);
  ASSERT_NE(method, nullptr);
  std::vector<StepOutput> outs;
  auto losses = testkit::TrainLosses(*method, testkit::RandomBatch(8), 40, 1e-3, &outs);
  ASSERT_TRUE(losses.ok()) << losses.status();
  for (size_t step = 0; step < losses->size(); ++step) ASSERT_TRUE(std::isfinite((*losses)[step])) << "step " << step;
  EXPECT_LT(testkit::TailMean(*losses, 5), 0.8 * testkit::HeadMean(*losses, 5));
  for (size_t i = 0; i < losses->size(); i += 5) std::printf("step %zu loss %.4f\n", i, (*losses)[i]);
  for (const char* name : {"loss_view1", "loss_view2", "loss_equivariance", "positive_cos", "view2_scale"}) {
    EXPECT_TRUE(std::isfinite(testkit::LogValue(outs.back(), name))) << name;
  }
}

TEST(SslTieMethodTest, GlobalNegativesAndCheckpointRoundTrip) {
  auto method = Build(TinyModel("ssltie.SSLTIE"), 1);
  ASSERT_NE(method, nullptr);
  method->train();
  const testkit::GlobalNegativesCheck check = testkit::CheckGlobalNegatives(*method, testkit::RandomBatch(4));
  EXPECT_EQ(check.gathers, 1);
  EXPECT_NEAR(check.gathered_loss, check.local_loss, 1e-6 * std::abs(check.local_loss));
  auto a = Build(TinyModel("ssltie.SSLTIE"), 1);
  auto b = Build(TinyModel("ssltie.SSLTIE"), 2);
  const std::string path = testkit::TempFilePath(::testing::TempDir(), "ssltie_roundtrip");
  absl::Status s = testkit::CheckWeightsRoundTrip(*a, *b, testkit::RandomBatch(2), path, TinyModel("ssltie.SSLTIE"));
  EXPECT_TRUE(s.ok()) << s;
}

TEST(SslTieMethodTest, RecipeErrorsNameTheKey) {
  // A scale that leaves view 2's map empty fails at the first step, naming the key: the tiny model's map is 2x2.
  auto tiny = Build(TinyModel("ssltie.SSLTIE", "appearance = false\nscales = [0.25]\n"));
  ASSERT_NE(tiny, nullptr);
  tiny->train();
  EXPECT_TRUE(testkit::ThrowsMentioning([&] { tiny->TrainStep(testkit::RandomBatch(2)); }, "model.scales").ok());
  EXPECT_TRUE(testkit::ErrorMentions(BuildError(TinyModel("ssltie.SSLTIE", "scales = [1.5]\n")), "model.scales").ok());
  EXPECT_TRUE(testkit::ErrorMentions(BuildError(TinyModel("ssltie.SSLTIE", "scales = []\n")), "model.scales").ok());
  EXPECT_TRUE(
      testkit::ErrorMentions(BuildError(TinyModel("ssltie.SSLTIE", "blur_sigma_min = 3.0\n")), "model.blur_sigma_min")
          .ok());
  EXPECT_TRUE(testkit::ErrorMentions(BuildError(TinyModel("ssltie.SSLTIE", "equivariance_loss = \"kl\"\n")),
                                     "equivariance_loss")
                  .ok());
  EXPECT_TRUE(
      testkit::ErrorMentions(BuildError(TinyModel("ssltie.SSLTIE", "epsilon2 = 0.7\n")), "model.epsilon2").ok());
}

}  // namespace
}  // namespace avsl
