// Parity with the reference SLAVC: make_slavc_parity.py (run with /usr/bin/python3) builds stoneMo/SLAVC's model
// with small torchvision-style encoders, exports its weights, inputs, maps, confidences, losses of three training
// steps and the final weights. Our slavc.SLAVC imports the weights by the reference's names (strict) and must agree
// to 1e-4. Skipped with a message when Debian's python3-torch is absent.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <string>

#include "avsl/checkpoint/load_into_module.h"
#include "avsl/checkpoint/state_dict.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/testing/method_test_kit.h"
#include "avsl/testing/python_fixture.h"
#include "avsl/testing/released_weights_parity.h"

namespace avsl {
namespace {

constexpr double kTolerance = 1e-4;

// Dropout 0.5 on the image map: both sides seed the global generator before each step and draw the masks in the
// same order (online image, then target image), so the masks coincide and the training losses are comparable.
const absl::StatusOr<testkit::PythonFixture>& Python() {
  static const auto* ref = new absl::StatusOr<testkit::PythonFixture>(testkit::RunPythonFixture(
      std::string(AVSL_SOURCE_DIR) + "/plugins/slavc/make_slavc_parity.py", "slavc_parity.pt", {"0.5"}));
  return *ref;
}

torch::Tensor Get(const std::string& key) { return Python()->Get(key); }

double MaxDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// Expects max|a - b| < kTolerance and prints it, so the README's parity table can quote the run.
void ExpectClose(const std::string& what, const torch::Tensor& ours, const torch::Tensor& ref) {
  ASSERT_EQ(ours.sizes(), ref.sizes()) << what;
  const double d = MaxDiff(ours, ref);
  std::cout << "[ parity ] " << what << ": max|diff| = " << d
            << " (max|ref| = " << ref.to(torch::kDouble).abs().max().item<double>() << ")\n";
  EXPECT_LT(d, kTolerance) << what;
}

class SlavcParityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Python().ok()) << Python().status();
    if (!Python()->skip_reason.empty()) GTEST_SKIP() << Python()->skip_reason;
    absl::Status loaded = testkit::LoadPlugins(host_, AVSL_BINARY_DIR, {"slavc"});
    ASSERT_TRUE(loaded.ok()) << loaded;
    batch_.image = Get("in.image");
    batch_.audio = Get("in.audio");
  }

  // The script's configuration: width-4 encoders with one block per stage, dim 16, tau 0.03, dropout 0.5/0,
  // momenta 0.9 (image) / 0.8 (audio). Weights: the script's initial state_dict, strictly by name.
  std::shared_ptr<Method> Build(const std::string& eval_encoder) {
    const std::string text =
        "[model]\ntype = \"slavc.SLAVC\"\ndim = 16\ntau = 0.03\ndropout_img = 0.5\ndropout_aud = 0.0\n"
        "momentum_img = 0.9\nmomentum_aud = 0.8\neval_encoder = \"" +
        eval_encoder +
        "\"\n"
        "[model.image_encoder]\ntype = \"core.ResNet18Image\"\nwidth = 4\nblocks = [1, 1, 1, 1]\nlayer4_stride = 1\n"
        "[model.audio_encoder]\ntype = \"core.ResNet18Audio\"\nwidth = 4\nblocks = [1, 1, 1, 1]\n";
    auto method = testkit::BuildMethod(host_.registry(), text);
    EXPECT_TRUE(method.ok()) << method.status();
    checkpoint::LoadOptions o;
    o.key_map = {{"model.", ""}};
    o.ignore_checkpoint_prefixes = {"in.", "out."};
    o.source = "slavc_parity.pt";
    auto report = checkpoint::LoadIntoModule(**method, Python()->tensors, o);
    EXPECT_TRUE(report.ok()) << report.status();
    return *method;
  }

  PluginHost host_;
  Batch batch_;
};

TEST_F(SlavcParityTest, EvalMapsConfidenceAndLoss) {
  auto online = Build("online");
  auto momentum = Build("momentum");
  online->eval();
  momentum->eval();
  torch::NoGradGuard no_grad;
  Localization loc = online->Localize(batch_);
  ExpectClose("online map [4,4,4]", loc.maps, Get("out.map_online"));
  ExpectClose("confidence [4]", loc.confidence, Get("out.conf_online"));
  ExpectClose("momentum map", momentum->Localize(batch_).maps, Get("out.map_momentum"));
  // The reference also computes its loss in test mode (no dropout, no EMA update): the loss on real features.
  ExpectClose("eval-mode loss", online->TrainStep(batch_).loss, Get("out.eval_loss"));
  // Negative control: the maps are not trivially close (scale of 1/tau = 33).
  EXPECT_GT(MaxDiff(loc.maps, torch::zeros_like(loc.maps)), 100 * kTolerance);
}

TEST_F(SlavcParityTest, ThreeTrainingStepsWithTheEmaAfterTheOptimizerStep) {
  auto method = Build("online");
  method->train();
  torch::optim::Adam opt(method->parameters(), torch::optim::AdamOptions(1e-3));
  for (int step = 0; step < 3; ++step) {
    torch::manual_seed(100 + step);
    StepOutput out = method->TrainStep(batch_);
    opt.zero_grad();
    out.loss.backward();
    opt.step();
    method->AfterOptimizerStep();
    ExpectClose("training loss, step " + std::to_string(step), out.loss.detach(),
                Get("out.train_loss" + std::to_string(step)));
  }
  // Every parameter and buffer, online and momentum (BN statistics of the target nets included).
  int compared = 0;
  double worst = 0;
  for (const auto& [name, tensor] : checkpoint::ModuleStateDict(*method)) {
    const double d = MaxDiff(tensor, Get("out.final." + name));
    EXPECT_LT(d, kTolerance) << name;
    worst = std::max(worst, d);
    ++compared;
  }
  std::cout << "[ parity ] " << compared << " parameters and buffers after 3 steps: max|diff| = " << worst << "\n";
  EXPECT_GT(compared, 200);
  method->eval();
  torch::NoGradGuard no_grad;
  ExpectClose("online map after training", method->Localize(batch_).maps, Get("out.map_online_after"));
  auto momentum = Build("momentum");
  checkpoint::LoadOptions o;
  o.source = "trained model";
  ASSERT_TRUE(checkpoint::LoadIntoModule(*momentum, checkpoint::ModuleStateDict(*method), o).ok());
  momentum->eval();
  ExpectClose("momentum map after training", momentum->Localize(batch_).maps, Get("out.map_momentum_after"));
}

// A checkpoint in the layout SLAVC's train.py releases ({'model': DDP keys of both branches, optimizer, epoch,
// numpy metrics}), written by make_slavc_release.py from the re-derived official model with full-size ResNet18s,
// loads through recipes/slavc/_released_weights.toml and gives test.py's maps (online branch, bicubic with
// align_corners = true, fixed range then min-max) and confidences to 1e-4.
TEST(SlavcReleasedTest, ReleasedCheckpointParity) {
  auto host = testkit::MakePluginHost(AVSL_BINARY_DIR, {"slavc", "datasets"});
  ASSERT_TRUE(host.ok()) << host.status();
  const std::string src = AVSL_SOURCE_DIR;
  auto parity = testkit::CheckReleasedWeightsParity(**host, src + "/plugins/slavc/make_slavc_release.py",
                                                    src + "/recipes/slavc/released_vggss.toml", "latest.pth");
  ASSERT_TRUE(parity.ok()) << parity.status();
  if (!parity->skip_reason.empty()) GTEST_SKIP() << parity->skip_reason;
  EXPECT_EQ(parity->samples, 2);
  EXPECT_LT(parity->max_map_diff, kTolerance);
  EXPECT_GE(parity->max_confidence_diff, 0.0);
  EXPECT_LT(parity->max_confidence_diff, kTolerance);
  EXPECT_NE(parity->load.find("496 tensors loaded from entry 'model', 496 keys stripped"), std::string::npos)
      << parity->load;
  std::printf("%s; max |map diff| %.3g, max |confidence diff| %.3g\n", parity->load.c_str(), parity->max_map_diff,
              parity->max_confidence_diff);
}

}  // namespace
}  // namespace avsl
