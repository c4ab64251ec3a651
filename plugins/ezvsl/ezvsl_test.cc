// ezvsl plugin: shapes, registered submodules, the loss on hand-computed tensors, learning on a fixed batch,
// checkpoint round trip, and parity with a PyTorch EZ-VSL rebuilt from the reference model.py and loss
// (make_ezvsl_parity.py, skipped when /usr/bin/python3 lacks torch/torchvision).
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "avsl/checkpoint/load_into_module.h"
#include "avsl/checkpoint/state_dict.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/models/objectives.h"
#include "avsl/testing/method_test_kit.h"
#include "avsl/testing/released_weights_parity.h"

// The plugin's statically linkable entry point (AVSL_PLUGIN with AVSL_PLUGIN_ID = ezvsl): this test links the
// plugin's objects (avsl_ezvsl_objects), so it can register them without opening libavsl_ezvsl.so.
extern "C" const avsl::PluginInfo* avsl_plugin_info_ezvsl();

namespace avsl {
namespace {

using models::AllPairSimilarity;
using models::MilContrastiveLoss;
using models::PairSimilarity;

// Width-8 encoders; the image encoder's layer4 at stride 1 gives a 2x2 map for a 32x32 input
// (32 -> 16 conv1 -> 8 maxpool -> 8 -> 4 layer2 -> 2 layer3 -> 2 layer4).
const char* kTinyModel = R"(
[model]
type = "ezvsl.EZVSL"
dim = 16
[model.image_encoder]
type = "core.ResNet18Image"
width = 8
layer4_stride = 1
[model.audio_encoder]
type = "core.ResNet18Audio"
width = 8
)";

class EzvslTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = testkit::LoadPlugins(host_, AVSL_BINARY_DIR, {"ezvsl"});
    ASSERT_TRUE(s.ok()) << s;
  }
  absl::StatusOr<std::shared_ptr<Method>> TryBuild(const std::string& toml) {
    return testkit::BuildMethod(host_.registry(), toml);
  }
  std::shared_ptr<Method> Build(const std::string& toml) {
    auto method = TryBuild(toml);
    EXPECT_TRUE(method.ok()) << method.status();
    return method.ok() ? *method : nullptr;
  }
  static Batch MakeBatch(int64_t n, int64_t side = 32) { return testkit::RandomBatch(n, {side, side, 32, 16}); }
  PluginHost host_;
};

TEST_F(EzvslTest, LossGoldenValueOnHandMadeEmbeddings) {
  // N = 2 pairs, C = 2 channels, a 1x2 map, tau = 0.5. Audio a0 = (1,0), a1 = (0,1).
  // Image 0: location 0 = (1,0), location 1 = (0,1). Image 1: both locations (0.6, 0.8).
  torch::Tensor v = torch::tensor({1.0f, 0.0f, 0.0f, 1.0f, 0.6f, 0.6f, 0.8f, 0.8f}).view({2, 2, 1, 2});
  torch::Tensor a = torch::tensor({1.0f, 0.0f, 0.0f, 1.0f}).view({2, 2});
  // S[0,0] = (1, 0)/0.5 = (2, 0); S[0,1] = (0, 1)/0.5 = (0, 2); S[1,0] = (0.6, 0.6)/0.5 = (1.2, 1.2);
  // S[1,1] = (1.6, 1.6). Max over locations: logits = [[2, 2], [1.2, 1.6]].
  torch::Tensor s = AllPairSimilarity(v, a, 0.5);
  ASSERT_EQ(s.sizes(), (std::vector<int64_t>{2, 2, 1, 2}));
  EXPECT_NEAR(s[0][0][0][0].item<float>(), 2.0, 1e-6);
  EXPECT_NEAR(s[0][1][0][1].item<float>(), 2.0, 1e-6);
  EXPECT_NEAR(s[1][0][0][1].item<float>(), 1.2, 1e-6);
  // The map is the diagonal: [[2, 0]], [[1.6, 1.6]].
  torch::Tensor map = PairSimilarity(v, a, 0.5);
  ASSERT_EQ(map.sizes(), (std::vector<int64_t>{2, 1, 2}));
  EXPECT_TRUE(torch::allclose(map, torch::tensor({2.0f, 0.0f, 1.6f, 1.6f}).view({2, 1, 2})));
  // Image->audio CE (rows): row 0, label 0: -2 + log(e^2 + e^2) = log 2;
  //                         row 1, label 1: -1.6 + log(e^1.2 + e^1.6) = log(1 + e^-0.4).
  // Audio->image CE (columns, logits^T = [[2, 1.2], [2, 1.6]]): row 0: log(1 + e^-0.8); row 1: log(1 + e^0.4).
  // Loss = (log 2 + log(1 + e^-0.4))/2 + (log(1 + e^-0.8) + log(1 + e^0.4))/2
  //      = (0.693147 + 0.513015)/2 + (0.371101 + 0.913015)/2 = 0.603081 + 0.642058 = 1.245139.
  const double expected = (std::log(2.0) + std::log1p(std::exp(-0.4))) / 2 +
                          (std::log1p(std::exp(-0.8)) + std::log1p(std::exp(0.4))) / 2;
  EXPECT_NEAR(expected, 1.245139, 1e-6);
  EXPECT_NEAR(MilContrastiveLoss(v, a, 0.5).item<double>(), expected, 1e-5);
  // Move location 1 of image 0 to (1,0): S[0,0] = (2, 2), S[0,1] = (0, 0), so logits = [[2, 0], [1.2, 1.6]].
  // Rows: log(1 + e^-2), log(1 + e^-0.4). Columns (logits^T = [[2, 1.2], [0, 1.6]]): log(1 + e^-0.8) and
  // -1.6 + log(e^0 + e^1.6) = log(1 + e^-1.6). Loss = (0.126928 + 0.513015)/2 + (0.371101 + 0.183901)/2 = 0.597472.
  torch::Tensor v2 = v.clone();
  v2[0][0][0][1] = 1.0f;
  v2[0][1][0][1] = 0.0f;
  const double expected2 = (std::log1p(std::exp(-2.0)) + std::log1p(std::exp(-0.4))) / 2 +
                           (std::log1p(std::exp(-0.8)) + std::log1p(std::exp(-1.6))) / 2;
  EXPECT_NEAR(expected2, 0.597472, 1e-6);
  EXPECT_NEAR(MilContrastiveLoss(v2, a, 0.5).item<double>(), expected2, 1e-5);
}

TEST_F(EzvslTest, ShapesRangeAndRegisteredSubmodules) {
  auto method = Build(kTinyModel);
  ASSERT_NE(method, nullptr);
  // Parameters, by hand. A [2,2,2,2] ResNet of width w with a c-channel stem has
  //   conv1 49cw + bn1 2w + layer1 (36w^2 + 8w) + layer2 (128w^2 + 20w) + layer3 (512w^2 + 40w)
  //   + layer4 (2048w^2 + 80w) = 2724w^2 + 150w + 49cw
  // (w = 64, c = 3 gives 11,176,512, torchvision's count without fc). For w = 8:
  //   image (c = 3): 2724*64 + 1200 + 1176 = 176,712;   audio (c = 1): 174,336 + 1200 + 392 = 175,928.
  // Heads into dim 16 from 8w = 64 channels: img_proj 64*16 + 16 = 1,040; aud_proj 64*16 + 16 = 1,040.
  // Total 176,712 + 175,928 + 2,080 = 354,720.
  EXPECT_EQ(testkit::CountParameters(*method), 354720);
  EXPECT_EQ(testkit::ChildNames(*method),
            (std::vector<std::string>{"image_encoder", "audio_encoder", "img_proj", "aud_proj"}));
  EXPECT_NE(method->named_parameters().find("img_proj.weight"), nullptr);
  EXPECT_NE(method->named_parameters().find("aud_proj.bias"), nullptr);
  EXPECT_NE(method->named_parameters().find("audio_encoder.layer4.1.bn2.weight"), nullptr);

  method->eval();
  torch::NoGradGuard no_grad;
  Localization loc = method->Localize(MakeBatch(3));
  ASSERT_EQ(loc.maps.sizes(), (std::vector<int64_t>{3, 2, 2}));
  EXPECT_DOUBLE_EQ(loc.range_min, -1.0 / 0.03);
  EXPECT_DOUBLE_EQ(loc.range_max, 1.0 / 0.03);
  EXPECT_FALSE(
      loc.confidence.defined());  // EZ-VSL has no native confidence: the reference scores it with SLAVC's generic one
  EXPECT_LE(loc.maps.abs().max().item<double>(), 1.0 / 0.03 + 1e-3);
  EXPECT_TRUE(method->trainable());
}

TEST_F(EzvslTest, LossFiniteAndDecreasingOnAFixedBatch) {
  torch::manual_seed(0);
  auto method = Build(kTinyModel);
  ASSERT_NE(method, nullptr);
  auto losses = testkit::TrainLosses(*method, MakeBatch(6), 20, 1e-3);
  ASSERT_TRUE(losses.ok()) << losses.status();
  for (size_t step = 0; step < losses->size(); ++step) ASSERT_TRUE(std::isfinite((*losses)[step])) << "step " << step;
  // Six fixed pairs are memorized quickly: the loss must at least halve in 20 Adam steps.
  EXPECT_LT(losses->back(), 0.5 * losses->front()) << "first " << losses->front() << " last " << losses->back();
  EXPECT_LT(losses->back(), 2 * std::log(6.0));  // below chance (two cross-entropies over 6 candidates)
  // Every submodule receives gradient (a head left unregistered or detached would not).
  for (const auto& p : method->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
  }
  EXPECT_GT(method->named_parameters()["img_proj.weight"].grad().abs().sum().item<double>(), 0);
  EXPECT_GT(method->named_parameters()["audio_encoder.conv1.weight"].grad().abs().sum().item<double>(), 0);
}

TEST_F(EzvslTest, GlobalNegativesGatherImagesAndAudiosAndKeepTheLoss) {
  // train.global_negatives on one rank: both embeddings gathered, the loss of the single-process path.
  torch::manual_seed(0);
  auto method = Build(kTinyModel);
  ASSERT_NE(method, nullptr);
  method->train();
  const testkit::GlobalNegativesCheck check = testkit::CheckGlobalNegatives(*method, MakeBatch(5));
  EXPECT_EQ(check.gathers, 2);
  EXPECT_NEAR(check.gathered_loss, check.local_loss, 1e-6 * std::abs(check.local_loss));
}

TEST_F(EzvslTest, LogsPositiveAndHardestNegativeCosines) {
  torch::manual_seed(0);
  auto method = Build(kTinyModel);
  ASSERT_NE(method, nullptr);
  std::vector<StepOutput> outs;
  auto losses = testkit::TrainLosses(*method, MakeBatch(6), 20, 1e-3, &outs);
  ASSERT_TRUE(losses.ok()) << losses.status();
  for (const StepOutput& out : outs) {
    const double pos = testkit::LogValue(out, "pos_cos"), neg = testkit::LogValue(out, "neg_cos");
    ASSERT_TRUE(pos >= -1 - 1e-6 && pos <= 1 + 1e-6) << pos;
    ASSERT_TRUE(neg >= -1 - 1e-6 && neg <= 1 + 1e-6) << neg;
  }
  // Memorizing six pairs pulls the positives above the hardest negatives.
  EXPECT_GT(testkit::LogValue(outs.back(), "pos_cos"), testkit::LogValue(outs.back(), "neg_cos"));
  // By hand on the golden-value embeddings: logits [[2, 2], [1.2, 1.6]] at tau 0.5 are cosines [[1, 1], [0.6, 0.8]];
  // positives 1 and 0.8 (mean 0.9), hardest negatives 1 and 0.6 (mean 0.8).
  const auto logs = models::CosineDiagnostics(torch::tensor({2.0, 2.0, 1.2, 1.6}).view({2, 2}), 0.5);
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[0].first, "pos_cos");
  EXPECT_NEAR(logs[0].second, 0.9, 1e-6);
  EXPECT_EQ(logs[1].first, "neg_cos");
  EXPECT_NEAR(logs[1].second, 0.8, 1e-6);
  // A batch of one has no negative: neg_cos is left out rather than logged as NaN.
  const auto one = models::CosineDiagnostics(torch::tensor({2.0}).view({1, 1}), 0.5);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_NEAR(one[0].second, 1.0, 1e-6);
}

TEST_F(EzvslTest, CheckpointRoundTrip) {
  torch::manual_seed(1);
  auto a = Build(kTinyModel);
  torch::manual_seed(2);
  auto b = Build(kTinyModel);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  // Different seeds, different weights: the maps must differ before loading and match after.
  const std::string path = testkit::TempFilePath(::testing::TempDir(), "ezvsl_roundtrip");
  absl::Status s = testkit::CheckWeightsRoundTrip(*a, *b, MakeBatch(2), path, kTinyModel);
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(EzvslTest, UnpooledAudioEncoderIsRefusedNamingTheOption) {
  auto method = Build(std::string(kTinyModel) + "pool = \"none\"\n");
  ASSERT_NE(method, nullptr);
  Batch batch = MakeBatch(2);
  batch.audio = torch::randn({2, 1, 64, 64});  // a 2x2 layer4 map at width 8 (32x16 would pool to 1x1 anyway)
  ASSERT_EQ(testkit::ThrowsMentioning([&] { method->TrainStep(batch); }, "set audio_encoder.pool = \"max\""),
            absl::OkStatus());
}

TEST_F(EzvslTest, SchemaRejectsANonPositiveTemperature) {
  auto method = TryBuild(std::string(kTinyModel) + "[model.x]\n");  // unknown key
  EXPECT_FALSE(method.ok());
  EXPECT_EQ(testkit::ErrorMentions(testkit::ParseRecipe(host_.registry(), "[model]\ntype = \"ezvsl.EZVSL\"\ntau = 0\n"),
                                   "recipe key 'model.tau' = 0 is out of range"),
            absl::OkStatus());
}

// Parity: the reference forward/loss in PyTorch (make_ezvsl_parity.py), imported by name through the key map
// that also imports a released EZ-VSL checkpoint (imgnet. -> image_encoder., audnet. -> audio_encoder.).
TEST_F(EzvslTest, ParityWithPyTorchReference) {
  const std::string dir = ::testing::TempDir() + "avsl_ezvsl_parity_" + std::to_string(::getpid());
  const std::string script = std::string(AVSL_SOURCE_DIR) + "/plugins/ezvsl/make_ezvsl_parity.py";
  if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 not found; parity skipped";
  const std::string cmd = "mkdir -p '" + dir + "' && /usr/bin/python3 '" + script + "' '" + dir + "' > '" + dir +
                          ".log' 2>&1";
  const int rc = std::system(cmd.c_str());
  const int code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  std::error_code ec;
  if (code == 3) {
    std::filesystem::remove_all(dir, ec);
    GTEST_SKIP() << "/usr/bin/python3 has no torch/torchvision; install python3-torch python3-torchvision";
  }
  ASSERT_EQ(code, 0) << "python script failed; see " << dir << ".log";
  std::filesystem::remove(dir + ".log", ec);

  auto method = Build("[model]\ntype = \"ezvsl.EZVSL\"\n");  // reference sizes: width 64, dim 512, tau 0.03
  ASSERT_NE(method, nullptr);
  auto weights = checkpoint::LoadStateDict(dir + "/weights.pt");
  ASSERT_TRUE(weights.ok()) << weights.status();
  checkpoint::LoadOptions options;
  options.key_map = {{"imgnet.", "image_encoder."}, {"audnet.", "audio_encoder."}};
  options.source = dir + "/weights.pt";
  auto report = checkpoint::LoadIntoModule(*method, *weights, options);
  ASSERT_TRUE(report.ok()) << report.status();
  auto io = checkpoint::LoadStateDict(dir + "/io.pt");
  ASSERT_TRUE(io.ok()) << io.status();
  std::filesystem::remove_all(dir, ec);
  auto get = [&](const std::string& name) {
    const torch::Tensor* t = checkpoint::FindTensor(*io, name);
    EXPECT_NE(t, nullptr) << name;
    return t ? *t : torch::Tensor();
  };
  Batch batch;
  batch.image = get("image");
  batch.audio = get("audio");
  method->eval();
  {
    torch::NoGradGuard no_grad;
    torch::Tensor maps = method->Localize(batch).maps;
    const torch::Tensor want = get("maps_eval");
    ASSERT_EQ(maps.sizes(), want.sizes());
    const double diff = (maps - want).abs().max().item<double>();
    EXPECT_LT(diff, 1e-4) << "eval maps, scale " << want.abs().max().item<double>();
    method->train();
    const StepOutput step = method->TrainStep(batch);
    const double loss = step.loss.item<double>();
    const double loss_diff = std::abs(loss - get("loss_train").item<double>());
    EXPECT_LT(loss_diff, 1e-4) << "loss " << loss << " vs " << get("loss_train").item<double>();
    const torch::Tensor train_maps = step.maps;  // the maps extra losses train on
    const double train_diff = (train_maps - get("maps_train")).abs().max().item<double>();
    EXPECT_LT(train_diff, 1e-4);
    std::printf("parity max |diff|: eval maps %.3g (scale %.3g), train loss %.3g (loss %.6f), train maps %.3g\n", diff,
                want.abs().max().item<double>(), loss_diff, loss, train_diff);
  }
}

// A checkpoint in the layout EZ-VSL's train.py releases ({'model': DDP keys, optimizer, epoch, numpy metrics}),
// written by make_ezvsl_release.py from the re-derived official model, loads through recipes/ezvsl's
// _released_weights.toml and gives test.py's maps (bilinear, align_corners = true, min-max) to 1e-4.
TEST(EzvslReleasedTest, ReleasedCheckpointParity) {
  auto host = testkit::MakePluginHost(AVSL_BINARY_DIR, {"ezvsl", "datasets"});
  ASSERT_TRUE(host.ok()) << host.status();
  const std::string src = AVSL_SOURCE_DIR;
  for (const char* recipe : {"released_flickr.toml", "released_vggss.toml"}) {
    auto parity = testkit::CheckReleasedWeightsParity(**host, src + "/plugins/ezvsl/make_ezvsl_release.py",
                                                      src + "/recipes/ezvsl/" + recipe, "best.pth");
    ASSERT_TRUE(parity.ok()) << recipe << ": " << parity.status();
    if (!parity->skip_reason.empty()) GTEST_SKIP() << parity->skip_reason;
    EXPECT_EQ(parity->samples, 2);
    EXPECT_LT(parity->max_map_diff, 1e-4) << recipe;
    EXPECT_NE(parity->load.find("244 tensors loaded from entry 'model', 244 keys stripped, 240 renamed"),
              std::string::npos)
        << parity->load;
    std::printf("%s: %s; max |map diff| %.3g\n", recipe, parity->load.c_str(), parity->max_map_diff);
  }
}

TEST(EzvslLinkedTest, TheStaticallyLinkedPluginRegistersLikeTheLibrary) {
  PluginHost host;
  ASSERT_EQ(testkit::LoadPlugins(host, AVSL_BINARY_DIR, {}), absl::OkStatus());  // the core's built-ins
  const PluginRecord& r = host.LoadLinked(*avsl_plugin_info_ezvsl(), "linked into ezvsl_test");
  ASSERT_EQ(r.status, PluginStatus::kLoaded) << r.message;
  EXPECT_EQ(r.name, "ezvsl");
  EXPECT_EQ(r.components, std::vector<std::string>{"ezvsl.EZVSL"});
  auto method = testkit::BuildMethod(host.registry(), kTinyModel);
  ASSERT_TRUE(method.ok()) << method.status();
  // The same plugin name again (here: the library) is refused as a duplicate, whichever came first.
  const PluginRecord& again = host.LoadFile(testkit::PluginPath(AVSL_BINARY_DIR, "ezvsl"));
  EXPECT_EQ(again.status, PluginStatus::kDuplicatePlugin) << again.message;
}

}  // namespace
}  // namespace avsl
