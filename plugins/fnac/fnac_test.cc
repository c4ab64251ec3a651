// fnac plugin: the loss against a PyTorch re-derivation on fixed tensors (make_fnac_parity.py: values and gradients;
// skipped when /usr/bin/python3 lacks torch), hand-checked limits of the loss, the network (EZ-VSL's layout plus
// dropout), learning on a fixed batch, logs, checkpoint round trip and the refusal of global negatives.

#include <cmath>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/models/objectives.h"
#include "avsl/testing/method_test_kit.h"
#include "avsl/testing/python_fixture.h"
#include "avsl/testing/released_weights_parity.h"
#include "avsl/train/precision.h"
#include "fnac_loss.h"

namespace avsl {
namespace {

using plugins::fnac::FnacLoss;
using plugins::fnac::FnacLossOptions;
using plugins::fnac::FnacLossTerms;

// Width-8 encoders; layer4 at stride 1 gives a 2x2 map for a 32x32 input (as ezvsl_test's tiny model).
std::string TinyModel(const std::string& type, const std::string& extra = "") {
  return "[model]\ntype = \"" + type + "\"\ndim = 16\n" + extra +
         "[model.image_encoder]\ntype = \"core.ResNet18Image\"\nwidth = 8\nlayer4_stride = 1\n"
         "[model.audio_encoder]\ntype = \"core.ResNet18Audio\"\nwidth = 8\n";
}

class FnacTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = testkit::LoadPlugins(host_, AVSL_BINARY_DIR, {"fnac", "ezvsl"});
    ASSERT_TRUE(s.ok()) << s;
  }
  std::shared_ptr<Method> Build(const std::string& toml, std::optional<uint64_t> seed = 0) {
    auto method = testkit::BuildMethod(host_.registry(), toml, seed);
    EXPECT_TRUE(method.ok()) << method.status();
    return method.ok() ? *method : nullptr;
  }
  static Batch MakeBatch(int64_t n) { return testkit::RandomBatch(n, {32, 32, 32, 16}); }
  PluginHost host_;
};

torch::Tensor Unit(torch::Tensor t) {
  return torch::nn::functional::normalize(t, torch::nn::functional::NormalizeFuncOptions().dim(1));
}

double MaxDiff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

TEST(FnacLossTest, WithoutTheFalseNegativeTermsItIsEzvslsLoss) {
  torch::manual_seed(3);
  const torch::Tensor v = Unit(torch::randn({5, 8, 2, 3}, torch::kDouble));
  const torch::Tensor a = Unit(torch::randn({5, 8}, torch::kDouble));
  FnacLossOptions o;
  o.tau = 0.1;
  o.fns1_weight = o.tns_weight = o.fns2_weight = 0;
  const FnacLossTerms t = FnacLoss(v, a, o);
  // The SDK's similarity runs in float32 (models::AutocastOff), this double: equal to float precision.
  EXPECT_NEAR(t.total.item<double>(), models::MilContrastiveLoss(v, a, 0.1).item<double>(), 1e-5);
  EXPECT_NEAR(MaxDiff(t.logits, models::MaxMilLogits(v, a, 0.1).to(torch::kDouble)), 0.0, 1e-5);
  // The terms are still computed (and logged): L1 distances between row-stochastic matrices lie in [0, 2/B].
  for (const torch::Tensor* term : {&t.fns1, &t.tns, &t.fns2}) {
    EXPECT_GE(term->item<double>(), 0.0);
    EXPECT_LE(term->item<double>(), 2.0 / 5);
  }
  // Weighted: the total is infonce + sum of weight * term.
  o.fns1_weight = 100;
  o.tns_weight = 10;
  o.fns2_weight = 1;
  const FnacLossTerms w = FnacLoss(v, a, o);
  EXPECT_NEAR(
      w.total.item<double>(),
      w.infonce.item<double>() + 100 * w.fns1.item<double>() + 10 * w.tns.item<double>() + w.fns2.item<double>(),
      1e-12);
}

TEST(FnacLossTest, HandCheckedLimits) {
  // One pair: every softmax over one candidate is 1, so all three L1 terms and both cross-entropies vanish.
  const torch::Tensor v1 = Unit(torch::randn({1, 4, 2, 2}, torch::kDouble));
  const torch::Tensor a1 = Unit(torch::randn({1, 4}, torch::kDouble));
  const FnacLossTerms one = FnacLoss(v1, a1, {});
  EXPECT_NEAR(one.total.item<double>(), 0.0, 1e-12);
  // Two pairs whose images and audios are the same unit vector e: all similarities are 1/tau, every softmax row is
  // (1/2, 1/2), so the L1 terms are 0 and the InfoNCE is 2 ln 2. The foreground (a constant map normalizes to 0,
  // below 0.6) is empty, and its similarity matrix is all zeros: still uniform rows.
  torch::Tensor v = torch::zeros({2, 3, 1, 2}, torch::kDouble);
  v.select(1, 0).fill_(1.0);
  torch::Tensor a = torch::zeros({2, 3}, torch::kDouble);
  a.select(1, 0).fill_(1.0);
  const FnacLossTerms same = FnacLoss(v, a, {});
  EXPECT_NEAR(same.infonce.item<double>(), 2 * std::log(2.0), 1e-12);
  EXPECT_NEAR(same.fns1.item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(same.tns.item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(same.fns2.item<double>(), 0.0, 1e-12);
  EXPECT_THROW(FnacLoss(v, torch::zeros({3, 3}, torch::kDouble), {}), c10::Error);
}

// Under the trainer's bf16 autocast (amp = "bf16") the loss is still computed in fp32, as the SDK keeps every
// contrastive logit (cos / tau of about 33) out of bf16's 8-bit mantissa.
TEST(FnacLossTest, Fp32UnderBf16Autocast) {
  torch::manual_seed(4);
  const torch::Tensor v = Unit(torch::randn({8, 16, 3, 3}));
  const torch::Tensor a = Unit(torch::randn({8, 16}));
  const FnacLossTerms plain = FnacLoss(v, a, {});
  train::AutocastScope autocast(train::Amp::kBf16, torch::kCPU);
  const FnacLossTerms under = FnacLoss(v, a, {});
  const FnacLossTerms bf16 = FnacLoss(v.to(torch::kBFloat16), a.to(torch::kBFloat16), {});
  EXPECT_EQ(under.total.scalar_type(), torch::kFloat);
  EXPECT_EQ(bf16.total.scalar_type(), torch::kFloat);
  EXPECT_NEAR(under.total.item<double>(), plain.total.item<double>(), 1e-6 * std::abs(plain.total.item<double>()));
  EXPECT_EQ(MaxDiff(under.logits, plain.logits), 0.0);
}

// The reference's loss re-derived in Python from the survey's description of model.py (make_fnac_parity.py), on
// seeded double embeddings: the five values, the logits and both input gradients.
TEST(FnacLossTest, ParityWithPyTorchReDerivation) {
  absl::StatusOr<testkit::PythonFixture> ref = testkit::RunPythonFixture(
      std::string(AVSL_SOURCE_DIR) + "/plugins/fnac/make_fnac_parity.py", "fnac_parity.pt");
  ASSERT_TRUE(ref.ok()) << ref.status();
  if (!ref->skip_reason.empty()) GTEST_SKIP() << ref->skip_reason;
  auto get = [&](const std::string& key) { return ref->Get(key); };
  FnacLossOptions o;
  o.tau = get("opt.tau").item<double>();
  o.fns1_weight = get("opt.w1").item<double>();
  o.tns_weight = get("opt.w2").item<double>();
  o.fns2_weight = get("opt.w3").item<double>();
  o.foreground_threshold = get("opt.thr").item<double>();
  const torch::Tensor v = get("in.image").clone().requires_grad_(true);
  const torch::Tensor a = get("in.audio").clone().requires_grad_(true);
  const FnacLossTerms t = FnacLoss(v, a, o);
  t.total.backward();
  const std::pair<const char*, torch::Tensor> checks[] = {
      {"out.total", t.total}, {"out.infonce", t.infonce}, {"out.fns1", t.fns1},         {"out.tns", t.tns},
      {"out.fns2", t.fns2},   {"out.logits", t.logits},   {"out.grad_image", v.grad()}, {"out.grad_audio", a.grad()}};
  for (const auto& [key, ours] : checks) {
    const torch::Tensor want = get(key);
    ASSERT_EQ(ours.sizes(), want.sizes()) << key;
    const double diff = MaxDiff(ours.detach(), want);
    std::printf("fnac parity %-15s max|diff| %.3g\n", key, diff);
    EXPECT_LT(diff, 1e-10) << key;
  }
  // The fixture exercises all three terms and a non-trivial foreground.
  EXPECT_GT(t.tns.item<double>(), 0.0);
  EXPECT_GT(get("out.grad_image").abs().sum().item<double>(), 0.0);
}

TEST_F(FnacTest, EzvslsNetworkWithImageDropoutWhileTraining) {
  auto fnac = Build(TinyModel("fnac.FNAC"));
  auto ezvsl = Build(TinyModel("ezvsl.EZVSL"));
  ASSERT_NE(fnac, nullptr);
  ASSERT_NE(ezvsl, nullptr);
  // The same parameters and buffers under the same names, initialized the same way from the same seed: an EZ-VSL
  // checkpoint loads into FNAC and back (the reference FNAC's model.py is EZ-VSL's plus dropout).
  const auto f = testkit::Snapshot(*fnac), e = testkit::Snapshot(*ezvsl);
  ASSERT_EQ(f.size(), e.size());
  for (const auto& [name, tensor] : e) {
    ASSERT_EQ(f.count(name), 1u) << name;
    EXPECT_TRUE(torch::equal(f.at(name), tensor)) << name;
  }
  // Evaluation: no dropout, so FNAC localizes exactly as EZ-VSL with the same weights; range cos / tau.
  fnac->eval();
  ezvsl->eval();
  const Batch batch = MakeBatch(3);
  {
    torch::NoGradGuard no_grad;
    const Localization lf = fnac->Localize(batch), le = ezvsl->Localize(batch);
    EXPECT_TRUE(torch::equal(lf.maps, le.maps));
    EXPECT_DOUBLE_EQ(lf.range_max, 1.0 / 0.03);
  }
  // Training: dropout 0.9 on the image map changes the step; with dropout_img = 0 it is EZ-VSL's loss plus the terms.
  fnac->train();
  torch::manual_seed(5);
  const double with_dropout = fnac->TrainStep(batch).loss.item<double>();
  auto plain = Build(
      TinyModel("fnac.FNAC", "dropout_img = 0.0\nfns1_weight = 0.0\ntns_weight = 0.0\nfns2_weight = 0.0\n"));
  ASSERT_NE(plain, nullptr);
  plain->train();
  ezvsl->train();
  torch::manual_seed(5);
  const double no_terms = plain->TrainStep(batch).loss.item<double>();
  torch::manual_seed(5);
  const double ez = ezvsl->TrainStep(batch).loss.item<double>();
  EXPECT_NEAR(no_terms, ez, 1e-5 * std::abs(ez));
  EXPECT_GT(std::abs(with_dropout - ez), 1e-6);
}

TEST_F(FnacTest, LearnsAFixedBatchAndLogsEveryTerm) {
  auto method = Build(TinyModel("fnac.FNAC", "dropout_img = 0.5\n"));
  ASSERT_NE(method, nullptr);
  std::vector<StepOutput> outs;
  auto losses = testkit::TrainLosses(*method, MakeBatch(6), 20, 1e-3, &outs);
  ASSERT_TRUE(losses.ok()) << losses.status();
  for (size_t step = 0; step < losses->size(); ++step) ASSERT_TRUE(std::isfinite((*losses)[step])) << "step " << step;
  EXPECT_LT(testkit::TailMean(*losses, 3), 0.7 * testkit::HeadMean(*losses, 3));
  for (const char* name : {"loss_infonce", "loss_fns1", "loss_tns", "loss_fns2", "pos_cos", "neg_cos"}) {
    EXPECT_TRUE(std::isfinite(testkit::LogValue(outs.back(), name))) << name;
  }
  for (const auto& p : method->named_parameters()) ASSERT_TRUE(p.value().grad().defined()) << p.key();
}

TEST_F(FnacTest, CheckpointRoundTripAndNoGlobalNegatives) {
  auto a = Build(TinyModel("fnac.FNAC"), 1);
  auto b = Build(TinyModel("fnac.FNAC"), 2);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const std::string path = testkit::TempFilePath(::testing::TempDir(), "fnac_roundtrip");
  absl::Status s = testkit::CheckWeightsRoundTrip(*a, *b, MakeBatch(2), path, TinyModel("fnac.FNAC"));
  EXPECT_TRUE(s.ok()) << s;
  // The reference's terms are per-process; FNAC gathers nothing, so the trainer refuses train.global_negatives.
  a->train();
  EXPECT_EQ(testkit::CheckGlobalNegatives(*a, MakeBatch(4)).gathers, 0);
}

TEST_F(FnacTest, SchemaDefaultsAreTheReferenceScripts) {
  auto recipe = testkit::ParseRecipe(host_.registry(), TinyModel("fnac.FNAC"));
  ASSERT_TRUE(recipe.ok()) << recipe.status();
  const ComponentConfig m = recipe->Root().Sub("model");
  EXPECT_DOUBLE_EQ(m.GetFloat("dropout_img"), 0.9);
  EXPECT_DOUBLE_EQ(m.GetFloat("dropout_aud"), 0.0);
  EXPECT_DOUBLE_EQ(m.GetFloat("fns1_weight"), 100);
  EXPECT_DOUBLE_EQ(m.GetFloat("tns_weight"), 100);
  EXPECT_DOUBLE_EQ(m.GetFloat("fns2_weight"), 100);
  EXPECT_DOUBLE_EQ(m.GetFloat("foreground_threshold"), 0.6);
  EXPECT_DOUBLE_EQ(m.GetFloat("tau"), 0.03);
  auto bad = testkit::ParseRecipe(host_.registry(), TinyModel("fnac.FNAC", "foreground_threshold = 1.5\n"));
  EXPECT_FALSE(bad.ok());
}

// A checkpoint in the layout FNAC's train.py releases ({'model': DDP keys, optimizer, epoch, numpy metrics}), written
// by make_fnac_release.py from the re-derived official model, loads through recipes/fnac's _released_weights.toml
// and gives test.py's maps (bilinear, align_corners = true, min-max) to 1e-4.
TEST(FnacReleasedTest, ReleasedCheckpointParity) {
  auto host = testkit::MakePluginHost(AVSL_BINARY_DIR, {"fnac", "datasets"});
  ASSERT_TRUE(host.ok()) << host.status();
  const std::string src = AVSL_SOURCE_DIR;
  auto parity = testkit::CheckReleasedWeightsParity(**host, src + "/plugins/fnac/make_fnac_release.py",
                                                    src + "/recipes/fnac/released_vggss.toml", "best.pth");
  ASSERT_TRUE(parity.ok()) << parity.status();
  if (!parity->skip_reason.empty()) GTEST_SKIP() << parity->skip_reason;
  EXPECT_EQ(parity->samples, 2);
  EXPECT_LT(parity->max_map_diff, 1e-4);
  EXPECT_NE(parity->load.find("244 tensors loaded from entry 'model', 244 keys stripped, 240 renamed"),
            std::string::npos)
      << parity->load;
  std::printf("released_vggss.toml: %s; max |map diff| %.3g\n", parity->load.c_str(), parity->max_map_diff);
}

}  // namespace
}  // namespace avsl
