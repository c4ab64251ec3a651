// ogl plugin: the mixing arithmetic on hand-made maps, the prior against a directly computed ResNet18 layer4,
// the refusal without weights, and OGL wrapping a test method, ezvsl.EZVSL and center_prior.CenterPrior.
// The prior's weights are a random torchvision-named ResNet18 state_dict written with the checkpoint writer.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "avsl/checkpoint/load_into_module.h"
#include "avsl/checkpoint/state_dict.h"
#include "avsl/checkpoint/training_checkpoint.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/core/registrar.h"
#include "avsl/models/resnet.h"
#include "avsl/testing/method_test_kit.h"
#include "object_prior.h"

namespace avsl {
namespace {

using namespace plugins::ogl;  // NOLINT: the functions under test

torch::Tensor T(std::vector<float> v, std::vector<int64_t> shape) { return torch::tensor(v).view(shape); }

TEST(OglMixingTest, EzvslConventionMinMaxMixRenormalize) {
  // av [0, 5, 10] -> minmax [0, 0.5, 1]; obj [2, 1, 0] -> minmax [1, 0.5, 0];
  // 0.4 * av + 0.6 * obj = [0.6, 0.5, 0.4] -> minmax [1, 0.5, 0].
  torch::Tensor out = CombineEzvsl(T({0, 5, 10}, {1, 1, 3}), T({2, 1, 0}, {1, 1, 3}), 0.4);
  EXPECT_TRUE(torch::allclose(out, T({1, 0.5, 0}, {1, 1, 3}), 1e-6, 1e-6)) << out;
  // alpha 1 is the AV map alone after min-max.
  EXPECT_TRUE(
      torch::allclose(CombineEzvsl(T({0, 5, 10}, {1, 1, 3}), T({2, 1, 0}, {1, 1, 3}), 1.0), T({0, 0.5, 1}, {1, 1, 3})));
  // A flat sample stays as is (normalize_img): av [3, 3], obj [1, 1] -> 0.4*3 + 0.6*1 = 1.8 everywhere.
  EXPECT_TRUE(torch::allclose(CombineEzvsl(T({3, 3}, {1, 1, 2}), T({1, 1}, {1, 1, 2}), 0.4), T({1.8, 1.8}, {1, 1, 2})));
}

TEST(OglMixingTest, SlavcConventionFixedRangesNoRenormalization) {
  // av [-10, 0, 10] over [-10, 10] -> [0, 0.5, 1]; obj [2.5, 1.25, 0] / 2.5 -> [1, 0.5, 0];
  // 0.9 * av + 0.1 * obj = [0.1, 0.5, 0.9].
  torch::Tensor out = CombineSlavc(T({-10, 0, 10}, {1, 1, 3}), T({2.5, 1.25, 0}, {1, 1, 3}), 0.9, -10, 10, 2.5);
  EXPECT_TRUE(torch::allclose(out, T({0.1, 0.5, 0.9}, {1, 1, 3}), 1e-6, 1e-6)) << out;
  // The level survives (no min-max): a weak AV map [-10, -5] with obj 0 gives 0.9 * [0, 0.25] = [0, 0.225].
  EXPECT_TRUE(torch::allclose(CombineSlavc(T({-10, -5}, {1, 1, 2}), T({0, 0}, {1, 1, 2}), 0.9, -10, 10, 2.5),
                              T({0, 0.225}, {1, 1, 2})));
  EXPECT_DOUBLE_EQ(DefaultAlpha(Convention::kEzvsl), 0.4);
  EXPECT_DOUBLE_EQ(DefaultAlpha(Convention::kSlavc), 0.9);
}

TEST(OglMixingTest, ObjectnessUpsamplingAndTopQuarterMean) {
  // Mean |x| over channels: channel values (1, -3) -> 2; (0, 0) -> 0.
  EXPECT_TRUE(torch::allclose(Objectness(T({1, 0, -3, 0}, {1, 2, 1, 2})), T({2, 0}, {1, 1, 2})));
  // [0, 1] (1x2) to 3x3: EZ-VSL bilinear with align_corners=True puts 0.5 in the middle column.
  torch::Tensor up = UpsampleMaps(T({0, 1, 0, 1}, {1, 2, 2}), 3, Convention::kEzvsl);
  EXPECT_TRUE(torch::allclose(up[0][1], T({0, 0.5, 1}, {3})));
  // SLAVC uses bicubic: on a 1-D ramp [0, 1, 2, 3] -> 7 points with align_corners=True the samples fall on
  // x = 0, 0.5, ..., 3 and cubic convolution reproduces a linear ramp away from the clamped borders (x=1.5 -> 1.5).
  torch::Tensor ramp = T({0, 1, 2, 3}, {1, 1, 4}).expand({1, 4, 4}).contiguous();
  torch::Tensor cubic = UpsampleMaps(ramp, 7, Convention::kSlavc);
  EXPECT_NEAR(cubic[0][3][3].item<float>(), 1.5, 1e-5);
  // Top 25 % of 8 values = the top 2: (8 + 7) / 2; of 9 values, ceil(2.25) = 3: (9 + 8 + 7) / 3 = 8.
  EXPECT_NEAR(TopFractionMean(torch::arange(1, 9, torch::kFloat).view({1, 2, 4}), 0.25).item<float>(), 7.5, 1e-6);
  EXPECT_NEAR(TopFractionMean(torch::arange(1, 10, torch::kFloat).view({1, 3, 3}), 0.25).item<float>(), 8.0, 1e-6);
}

// A trainable method with one parameter, to check what OGL delegates.
class GainMethod final : public Method {
 public:
  explicit GainMethod(double range) : range_(range) { gain_ = register_parameter("gain", torch::ones({1})); }
  StepOutput TrainStep(const Batch& batch) override {
    return {(gain_ - 3).pow(2).sum(), {{"gain", 0}}, gain_ * torch::ones({batch.image.size(0), 4, 4})};
  }
  Localization Localize(const Batch& batch) override {
    Localization out;
    out.maps = gain_ * torch::adaptive_avg_pool2d(batch.image.mean(1, true), {4, 4}).squeeze(1);
    if (range_ > 0) {
      out.range_min = -range_;
      out.range_max = range_;
    }
    return out;
  }
  void AfterOptimizerStep() override { ++after_steps; }
  void OnTrainEvent(const TrainEvent& event) override {
    ++events;
    last_event_epoch = event.epoch;
  }
  int after_steps = 0;
  int events = 0;
  long long last_event_epoch = -1;
  torch::Tensor gain_;
  double range_;
};

class OglTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(::testing::TempDir() + "avsl_ogl_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(*dir_);
    // Randomized BN statistics: a wrongly loaded buffer changes the prior.
    const absl::Status written = testkit::WriteRandomResNet18Weights(*dir_ + "/resnet18.pth");
    ASSERT_TRUE(written.ok()) << written;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    std::filesystem::remove_all(*dir_, ec);
    delete dir_;
  }
  void SetUp() override {
    absl::Status loaded = testkit::LoadPlugins(host_, AVSL_BINARY_DIR, {"center_prior", "ezvsl", "ogl"});
    ASSERT_TRUE(loaded.ok()) << loaded;
    Registrar registrar("testing");
    Schema s("a one-parameter method");
    s.Float("range", 10, "fixed score range; 0 = none");
    registrar.Register<Method>(
        "Gain", std::move(s),
        [](const ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<Method>> {
          return std::make_shared<GainMethod>(c.GetFloat("range"));
        },
        "test method");
    ASSERT_TRUE(host_.mutable_registry_for_testing().Commit(registrar.staged()).ok());
  }
  absl::StatusOr<std::shared_ptr<Method>> TryBuild(const std::string& toml) {
    return testkit::BuildMethod(host_.registry(), toml);
  }
  std::shared_ptr<Method> Build(const std::string& toml) {
    auto m = TryBuild(toml);
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? *m : nullptr;
  }
  static std::string Weights() { return "weights = \"" + *dir_ + "/resnet18.pth\"\n"; }
  static Batch MakeBatch(int64_t n, int64_t side) { return testkit::RandomBatch(n, {side, side, 32, 16}, 5); }
  // The prior computed directly: the same file into a fresh ResNet18, layer4, mean |.| over channels.
  static torch::Tensor DirectPrior(const torch::Tensor& image) {
    models::ResNet net{models::ResNetOptions{}};
    auto sd = checkpoint::LoadStateDict(*dir_ + "/resnet18.pth");
    EXPECT_TRUE(sd.ok());
    checkpoint::LoadOptions o;
    o.ignore_checkpoint_prefixes = {"fc."};
    EXPECT_TRUE(checkpoint::LoadIntoModule(net, *sd, o).ok());
    net.eval();
    torch::NoGradGuard no_grad;
    return net.Forward(image).abs().mean(1);
  }
  static std::string* dir_;
  PluginHost host_;
};
std::string* OglTest::dir_ = nullptr;

TEST_F(OglTest, ObjectPriorIsLayer4MeanAbsoluteActivation) {
  auto method = Build("[model]\ntype = \"ogl.ObjectPrior\"\n" + Weights());
  ASSERT_NE(method, nullptr);
  EXPECT_EQ(method->parameters().size(), 0u);  // frozen and unregistered: nothing to train or checkpoint
  EXPECT_FALSE(method->trainable());
  const Batch batch = MakeBatch(2, 64);
  method->train();  // must not matter: the prior always runs in eval mode
  Localization loc = method->Localize(batch);
  ASSERT_EQ(loc.maps.sizes(), (std::vector<int64_t>{2, 2, 2}));  // 64 -> 2x2 layer4
  EXPECT_TRUE(torch::allclose(loc.maps, DirectPrior(batch.image), 1e-5, 1e-6));
  EXPECT_TRUE(torch::equal(loc.maps, method->Localize(batch).maps));  // no BN statistics drift
  EXPECT_EQ(loc.range_min, 0.0);
  EXPECT_EQ(loc.range_max, 2.5);
  EXPECT_FALSE(loc.confidence.defined());  // top25: the evaluator's top-25% mean of prior / 2.5
  EXPECT_FALSE(loc.maps.requires_grad());

  auto constant = Build("[model]\ntype = \"ogl.ObjectPrior\"\nconfidence = \"constant\"\nprior_input_size = 96\n" +
                        Weights());
  ASSERT_NE(constant, nullptr);
  Localization c = constant->Localize(MakeBatch(2, 32));
  ASSERT_EQ(c.maps.sizes(), (std::vector<int64_t>{2, 3, 3}));  // resized 32 -> 96 -> 3x3 layer4
  EXPECT_TRUE(torch::equal(c.confidence, torch::ones({2})));
  EXPECT_EQ(c.confidence_name, "constant");
}

TEST_F(OglTest, RefusesWithoutWeightsNamingTheFileAndHowToMakeIt) {
  auto missing = TryBuild(
      "[model]\ntype = \"ogl.OGL\"\nconvention = \"slavc\"\n[model.base]\ntype = \"testing.Gain\"\n");
  ASSERT_FALSE(missing.ok());
  const std::string msg(missing.status().message());
  EXPECT_NE(msg.find("recipe key 'model.weights' is not set"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ResNet18"), std::string::npos) << msg;
  EXPECT_NE(msg.find("torchvision.models.resnet18(weights="), std::string::npos) << msg;
  EXPECT_NE(msg.find("torch.save(dict(m.state_dict())"), std::string::npos) << msg;

  const std::string absent = "[model]\ntype = \"ogl.ObjectPrior\"\nweights = \"/nonexistent/r18.pth\"\n";
  EXPECT_EQ(testkit::ErrorMentions(TryBuild(absent), "'/nonexistent/r18.pth': file does not exist"), absl::OkStatus());

  // A file of the wrong network (width 8) is refused by the strict load, naming a conflicting key.
  models::ResNetOptions small;
  small.width = 8;
  models::ResNet net(small);
  const std::string path = *dir_ + "/width8.pth";
  ASSERT_TRUE(checkpoint::SaveStateDictForPython(path, checkpoint::ModuleStateDict(net)).ok());
  EXPECT_EQ(testkit::ErrorMentions(TryBuild("[model]\ntype = \"ogl.ObjectPrior\"\nweights = \"" + path + "\"\n"),
                                   "conv1.weight: checkpoint [8, 3, 7, 7] vs module [64, 3, 7, 7]"),
            absl::OkStatus());

  auto no_convention = TryBuild("[model]\ntype = \"ogl.OGL\"\n" + Weights() +
                                "[model.base]\ntype = \"testing.Gain\"\n");
  EXPECT_FALSE(no_convention.ok());
}

TEST_F(OglTest, WrapsAMethodDelegatingTrainingAndMixingAtLocalize) {
  torch::manual_seed(0);
  auto method = Build("[model]\ntype = \"ogl.OGL\"\nconvention = \"slavc\"\noutput_size = 8\n" + Weights() +
                      "[model.base]\ntype = \"testing.Gain\"\nrange = 4\n");
  ASSERT_NE(method, nullptr);
  // Registered: only the base's single parameter (the prior is frozen and not a submodule).
  ASSERT_EQ(method->parameters().size(), 1u);
  EXPECT_EQ(method->parameters()[0].numel(), 1);
  ASSERT_NE(method->named_parameters().find("base.gain"), nullptr);
  auto base = std::dynamic_pointer_cast<GainMethod>(method->named_children()["base"]);
  ASSERT_NE(base, nullptr);

  // Training is the base's: loss (gain - 3)^2 decreases, AfterOptimizerStep reaches the base.
  const Batch batch = MakeBatch(2, 64);
  auto losses = testkit::TrainLosses(*method, batch, 20, 0.1);
  ASSERT_TRUE(losses.ok()) << losses.status();
  for (double l : *losses) ASSERT_TRUE(std::isfinite(l));
  EXPECT_NEAR(losses->front(), 4.0, 1e-6);  // (1 - 3)^2
  EXPECT_LT(losses->back(), 0.5 * losses->front());
  EXPECT_EQ(base->after_steps, 20);
  // The step's maps (for extra losses) and the training loop's events are the base's too.
  const StepOutput step = method->TrainStep(batch);
  ASSERT_TRUE(step.maps.defined());
  EXPECT_EQ(step.maps.sizes(), (std::vector<int64_t>{2, 4, 4}));
  EXPECT_TRUE(step.maps.requires_grad());
  TrainEvent event;
  event.type = TrainEvent::Type::kEpochEnd;
  event.epoch = 3;
  method->OnTrainEvent(event);
  EXPECT_EQ(base->events, 1);
  EXPECT_EQ(base->last_event_epoch, 3);

  // Localize = SLAVC mixing of the base map (range [-4, 4]) and the prior on the 8x8 output grid.
  method->eval();
  torch::NoGradGuard no_grad;
  Localization loc = method->Localize(batch);
  ASSERT_EQ(loc.maps.sizes(), (std::vector<int64_t>{2, 8, 8}));
  const torch::Tensor av = UpsampleMaps(base->Localize(batch).maps, 8, Convention::kSlavc);
  const torch::Tensor obj = UpsampleMaps(DirectPrior(batch.image), 8, Convention::kSlavc);
  const torch::Tensor want = 0.9 * (av + 4) / 8 + 0.1 * obj / 2.5;
  EXPECT_TRUE(torch::allclose(loc.maps, want, 1e-5, 1e-6));
  EXPECT_EQ(loc.range_min, 0.0);
  EXPECT_EQ(loc.range_max, 1.0);
  EXPECT_FALSE(loc.confidence.defined());  // SLAVC: the evaluator's top-25% mean of the mixed map

  // Round trip: the checkpoint holds the base's weights only and restores them into a fresh OGL.
  auto fresh = Build("[model]\ntype = \"ogl.OGL\"\nconvention = \"slavc\"\noutput_size = 8\n" + Weights() +
                     "[model.base]\ntype = \"testing.Gain\"\nrange = 4\n");
  ASSERT_NE(fresh, nullptr);
  fresh->eval();
  ASSERT_FALSE(torch::allclose(fresh->Localize(batch).maps, loc.maps));
  absl::Status s = testkit::SaveAndLoadWeights(*method, *fresh, *dir_ + "/ogl_ckpt.pt", "");
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(torch::equal(fresh->Localize(batch).maps, loc.maps));

  // base_weights: a checkpoint of the base method alone (a plain run of it) loads into `base`.
  const std::string base_path = *dir_ + "/base_ckpt.pt";
  checkpoint::CheckpointContents base_only;
  base_only.method = base.get();
  ASSERT_TRUE(checkpoint::SaveCheckpoint(base_path, base_only).ok());
  auto evaluated = Build("[model]\ntype = \"ogl.OGL\"\nconvention = \"slavc\"\noutput_size = 8\nbase_weights = \"" +
                         base_path + "\"\n" + Weights() + "[model.base]\ntype = \"testing.Gain\"\nrange = 4\n");
  ASSERT_NE(evaluated, nullptr);
  evaluated->eval();
  EXPECT_TRUE(torch::equal(evaluated->Localize(batch).maps, loc.maps));
  auto missing = TryBuild("[model]\ntype = \"ogl.OGL\"\nconvention = \"slavc\"\nbase_weights = \"/nonexistent.pt\"\n" +
                          Weights() + "[model.base]\ntype = \"testing.Gain\"\n");
  EXPECT_EQ(testkit::ErrorMentions(missing, "recipe key 'model.base_weights' = '/nonexistent.pt'"), absl::OkStatus());
}

TEST_F(OglTest, EzvslConventionKeepsTheBaseConfidence) {
  auto method = Build("[model]\ntype = \"ogl.OGL\"\nconvention = \"ezvsl\"\noutput_size = 8\n" + Weights() +
                      "[model.base]\ntype = \"testing.Gain\"\nrange = 4\n");
  ASSERT_NE(method, nullptr);
  auto base = std::dynamic_pointer_cast<GainMethod>(method->named_children()["base"]);
  method->eval();
  torch::NoGradGuard no_grad;
  const Batch batch = MakeBatch(2, 64);
  Localization loc = method->Localize(batch);
  const torch::Tensor av = UpsampleMaps(base->Localize(batch).maps, 8, Convention::kEzvsl);
  const torch::Tensor obj = UpsampleMaps(DirectPrior(batch.image), 8, Convention::kEzvsl);
  EXPECT_TRUE(torch::allclose(loc.maps, CombineEzvsl(av, obj, 0.4), 1e-5, 1e-6));
  EXPECT_NEAR(loc.maps.min().item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(loc.maps.max().item<double>(), 1.0, 1e-6);
  ASSERT_TRUE(loc.confidence.defined());
  EXPECT_TRUE(torch::allclose(loc.confidence, TopFractionMean((av + 4) / 8, 0.25)));
  // A base with no fixed range cannot be mixed the SLAVC way; the error names the base and the way out.
  auto unbounded = Build("[model]\ntype = \"ogl.OGL\"\nconvention = \"slavc\"\n" + Weights() +
                         "[model.base]\ntype = \"testing.Gain\"\nrange = 0\n");
  ASSERT_NE(unbounded, nullptr);
  ASSERT_EQ(testkit::ThrowsMentioning([&] { unbounded->Localize(batch); },
                                      "base method 'testing.Gain' declares no score range"),
            absl::OkStatus());
}

TEST_F(OglTest, ComposesWithEzvslAndCenterPriorFromRecipes) {
  // OGL around EZ-VSL does not change EZ-VSL's initialization: same seed, same weights.
  const std::string ezvsl_tables = R"(
type = "ezvsl.EZVSL"
dim = 16
[model.base.image_encoder]
type = "core.ResNet18Image"
width = 8
[model.base.audio_encoder]
type = "core.ResNet18Audio"
width = 8
)";
  torch::manual_seed(3);
  auto wrapped = Build("[model]\ntype = \"ogl.OGL\"\nconvention = \"slavc\"\n" + Weights() + "[model.base]" +
                       ezvsl_tables);
  ASSERT_NE(wrapped, nullptr);
  const torch::Tensor draw_after_wrapped = torch::rand({4});
  std::string plain_toml = "[model]" + ezvsl_tables;
  plain_toml.replace(plain_toml.find("[model.base.image"), 17, "[model.image");
  plain_toml.replace(plain_toml.find("[model.base.audio"), 17, "[model.audio");
  torch::manual_seed(3);
  auto plain = Build(plain_toml);
  ASSERT_NE(plain, nullptr);
  // ... and leaves the global generator where the plain method leaves it (the prior's own init is undone).
  EXPECT_TRUE(torch::equal(torch::rand({4}), draw_after_wrapped));
  // Parameter count: EZ-VSL with width-8 encoders and dim 16 has 354,720 (arithmetic in ezvsl_test.cc:
  // image 176,712 + audio 175,928 + heads 2 * (64*16 + 16)); OGL adds none.
  EXPECT_EQ(testkit::CountParameters(*wrapped), 354720);
  const auto wp = wrapped->named_parameters();
  for (const auto& p : plain->named_parameters()) {
    ASSERT_NE(wp.find("base." + p.key()), nullptr) << p.key();
    EXPECT_TRUE(torch::equal(wp["base." + p.key()], p.value())) << p.key();
  }
  wrapped->eval();
  torch::NoGradGuard no_grad;
  Localization loc = wrapped->Localize(MakeBatch(3, 64));
  ASSERT_EQ(loc.maps.sizes(), (std::vector<int64_t>{3, 224, 224}));
  EXPECT_GE(loc.maps.min().item<double>(), -0.05);  // bicubic overshoot aside, inside [0, 1]
  EXPECT_LE(loc.maps.max().item<double>(), 1.05);

  // Around the centre prior (nothing to learn), OGL has nothing to learn either.
  auto centre = Build("[model]\ntype = \"ogl.OGL\"\nconvention = \"ezvsl\"\n" + Weights() +
                      "[model.base]\ntype = \"center_prior.CenterPrior\"\n");
  ASSERT_NE(centre, nullptr);
  EXPECT_FALSE(centre->trainable());
  EXPECT_EQ(centre->Localize(MakeBatch(1, 64)).confidence_name, "constant (base method; OGL ezvsl convention)");
}

}  // namespace
}  // namespace avsl
