// attention10k plugin: the attention and the three losses on hand-computed tensors, shapes, registered
// submodules, the module's losses re-derived from its own outputs, the detached anchor's gradient and the step's
// distance logs re-derived by hand from the module's parameters, learning on a fixed batch, checkpoint round
// trip, option errors and the shipped recipes.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "attention10k_loss.h"
#include "avsl/core/encoder.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/testing/method_test_kit.h"

namespace avsl {
namespace {

using plugins::attention10k::AttendedVector;
using plugins::attention10k::AttentionLogits;
using plugins::attention10k::ContrastiveLoss;
using plugins::attention10k::RatioDistances;
using plugins::attention10k::RatioLoss;
using plugins::attention10k::RatioLossDistances;
using plugins::attention10k::RatioLossOfDistances;
using plugins::attention10k::SupervisedAttentionLoss;
using plugins::attention10k::SupervisionGrid;
using plugins::attention10k::SupervisionTarget;
using testkit::LogValue;

namespace F = torch::nn::functional;

// Width-8 encoders; the image encoder's layer4 at stride 1 gives a 2x2 map for a 32x32 input
// (32 -> 16 conv1 -> 8 maxpool -> 8 -> 4 layer2 -> 2 layer3 -> 2 layer4).
const char* kTinyModel = R"(
[model]
type = "attention10k.Attention10k"
hidden_dim = 16
[model.image_encoder]
type = "core.ResNet18Image"
width = 8
layer4_stride = 1
[model.audio_encoder]
type = "core.ResNet18Audio"
width = 8
)";

// kTinyModel with extra top-level [model] keys (they must come before the sub-tables).
std::string TinyWith(const std::string& model_keys) {
  std::string s = kTinyModel;
  const std::string anchor = "hidden_dim = 16\n";
  s.insert(s.find(anchor) + anchor.size(), model_keys);
  return s;
}

// The module's forward recomputed from its own submodules and parameters, written independently of the plugin
// (elementwise products instead of bmm, torch::linear on the named weights): f_v and the pooled audio a_fea.
struct ManualEmbedding {
  torch::Tensor f_v;    ///< [B,Ca]
  torch::Tensor a_fea;  ///< [B,Ca]
};

ManualEmbedding ManualForward(Method& method, const Batch& batch) {
  auto children = method.named_children();
  auto image = std::dynamic_pointer_cast<Encoder>(children["visual_net"]);
  auto audio = std::dynamic_pointer_cast<Encoder>(children["audio_net"]);
  TORCH_CHECK(image != nullptr && audio != nullptr, "visual_net and audio_net must be avsl::Encoder");
  auto params = method.named_parameters();
  auto relu_linear = [&params](const std::string& name, const torch::Tensor& x) {
    return torch::relu(torch::linear(x, params[name + ".weight"], params[name + ".bias"]));
  };
  const torch::Tensor v_map = image->Forward(batch.image);  // [B,C,h,w]
  const torch::Tensor v = F::normalize(v_map.flatten(2).transpose(1, 2), F::NormalizeFuncOptions().dim(2));
  const torch::Tensor a_fea = audio->Forward(batch.audio).flatten(1);  // [B,Ca,1,1] -> [B,Ca]
  const torch::Tensor a = F::normalize(relu_linear("fc_a_2", relu_linear("fc_a_1", a_fea)),
                                       F::NormalizeFuncOptions().dim(1));
  const torch::Tensor alpha = torch::softmax((v * a.unsqueeze(1)).sum(2), 1);  // [B,P]
  const torch::Tensor z = (alpha.unsqueeze(2) * v).sum(1);
  return {relu_linear("fc_v_2", relu_linear("fc_v_1", z)), a_fea};
}

// The ratio loss in the audit's form, L = mean_b sigmoid(d+ - d-)^2 with d+- = ||f_v - t+- + 1e-6||.
struct RatioByHand {
  torch::Tensor loss, d_pos, d_neg;
};

RatioByHand RatioLossByHand(const torch::Tensor& f_v, const torch::Tensor& pos, const torch::Tensor& neg) {
  RatioByHand r;
  r.d_pos = (f_v - pos + 1e-6).pow(2).sum(1).sqrt();
  r.d_neg = (f_v - neg + 1e-6).pow(2).sum(1).sqrt();
  r.loss = torch::sigmoid(r.d_pos - r.d_neg).pow(2).mean();
  return r;
}

// The gradients of the parameters whose names start with `prefix` (with `exclude`: all the others), flattened
// into one vector in registration order; an undefined gradient counts as zeros.
torch::Tensor GradVector(const torch::nn::Module& module, const std::string& prefix, bool exclude = false) {
  std::vector<torch::Tensor> parts;
  for (const auto& p : module.named_parameters()) {
    if ((p.key().rfind(prefix, 0) == 0) == exclude) continue;
    const torch::Tensor& g = p.value().grad();
    parts.push_back(g.defined() ? g.detach().flatten().clone()
                                : torch::zeros({p.value().numel()}, p.value().options()));
  }
  return torch::cat(parts);
}

// max |got - want| / max |want|.
double RelDiff(const torch::Tensor& got, const torch::Tensor& want) {
  return (got - want).abs().max().item<double>() / std::max(want.abs().max().item<double>(), 1e-300);
}

class Attention10kTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = testkit::LoadPlugins(host_, AVSL_BINARY_DIR, {"attention10k"});
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
  static Batch MakeBatch(int64_t n) {
    Batch b = testkit::RandomBatch(n);
    b.gt_map = torch::zeros({n, 32, 32});
    b.gt_map.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, 16), torch::indexing::Slice(0, 16)}, 1.0);
    b.has_gt = torch::zeros({n}, torch::kBool);
    b.has_gt[0] = true;
    return b;
  }
  // Two unannotated samples in double precision: each one's negative is the other (the offset is always 1).
  static Batch PairBatch() {
    Batch b = MakeBatch(2);
    b.image = b.image.to(torch::kDouble);
    b.audio = b.audio.to(torch::kDouble);
    b.gt_map = b.gt_map.to(torch::kDouble);
    b.has_gt.fill_(false);
    return b;
  }
  // kTinyModel + `keys` built after seeding with `seed`, in double precision and eval mode (fixed BN statistics,
  // so a step and ManualForward see the same network).
  std::shared_ptr<Method> BuildDouble(const std::string& keys, uint64_t seed) {
    torch::manual_seed(seed);
    auto method = Build(TinyWith(keys));
    if (method != nullptr) {
      method->to(torch::kDouble);
      method->eval();
    }
    return method;
  }
  // TrainStep, then backward from zeroed gradients.
  static StepOutput StepAndBackward(Method& method, const Batch& batch) {
    method.zero_grad();
    StepOutput out = method.TrainStep(batch);
    out.loss.backward();
    return out;
  }
  PluginHost host_;
};

TEST(Attention10kLossTest, AttentionAndAttendedVectorByHand) {
  // Locations (1,0) and (0,1); audio query (0.6, 0.8): logits (0.6, 0.8),
  // alpha = (1, e^0.2) / (1 + e^0.2) = (0.450166, 0.549834), z = alpha (the locations are the unit vectors).
  torch::Tensor v = torch::tensor({1.0f, 0.0f, 0.0f, 1.0f}).view({1, 2, 2});
  torch::Tensor a = torch::tensor({0.6f, 0.8f}).view({1, 2});
  torch::Tensor logits = AttentionLogits(v, a);
  EXPECT_TRUE(torch::allclose(logits, torch::tensor({0.6f, 0.8f}).view({1, 2})));
  const double a0 = 1.0 / (1.0 + std::exp(0.2));
  EXPECT_NEAR(a0, 0.450166, 1e-6);
  torch::Tensor z = AttendedVector(torch::softmax(logits, 1), v);
  EXPECT_NEAR(z[0][0].item<double>(), a0, 1e-6);
  EXPECT_NEAR(z[0][1].item<double>(), 1 - a0, 1e-6);
}

TEST(Attention10kLossTest, RatioLossGoldenValue) {
  // Sample 0: f_v = (0,0), f+ = (1,0), f- = (0,3): d+ = |(-1+1e-6, 1e-6)| = 0.999999, d- = |(1e-6, -3+1e-6)|
  // = 2.999999 (pairwise_distance adds eps = 1e-6), so p = softmax(d+, d-) = (q, 1-q) with q = 1/(1+e^2) and
  // both squared errors equal q^2. Sample 1: f_v = f+ = (1,1) (d+ = sqrt(2)*1e-6), f- = (4,5) (d- = 5 - 7e-6/5
  // ~ 5): q' = 1/(1+e^(d- - d+)). Loss = (q^2 + q'^2) / 2 = (0.0142095 + 0.0000448)/2 = 0.0071271.
  torch::Tensor f_v = torch::tensor({0.0, 0.0, 1.0, 1.0}, torch::kDouble).view({2, 2});
  torch::Tensor pos = torch::tensor({1.0, 0.0, 1.0, 1.0}, torch::kDouble).view({2, 2});
  torch::Tensor neg = torch::tensor({0.0, 3.0, 4.0, 5.0}, torch::kDouble).view({2, 2});
  const double dp0 = std::hypot(-1 + 1e-6, 1e-6), dn0 = std::hypot(1e-6, -3 + 1e-6);
  const double dp1 = std::hypot(1e-6, 1e-6), dn1 = std::hypot(-3 + 1e-6, -4 + 1e-6);
  const double q0 = 1 / (1 + std::exp(dn0 - dp0)), q1 = 1 / (1 + std::exp(dn1 - dp1));
  const double expected = (q0 * q0 + q1 * q1) / 2;
  EXPECT_NEAR(expected, 0.0071271, 1e-6);
  EXPECT_NEAR(RatioLoss(f_v, pos, neg).item<double>(), expected, 1e-12);
  // Swapping positive and negative makes q -> 1 - q: the loss of a wrong ordering is large.
  EXPECT_NEAR(RatioLoss(f_v, neg, pos).item<double>(), (std::pow(1 - q0, 2) + std::pow(1 - q1, 2)) / 2, 1e-12);
}

TEST(Attention10kLossTest, RatioLossIsTheMeanSquaredSigmoidOfTheDistanceGap) {
  // RatioLoss = RatioLossOfDistances(RatioLossDistances(...)) bit for bit, d+- = ||f_v - t+- + 1e-6||, and
  // mean((softmax([d+, d-]) - [0, 1])^2) = mean_b sigmoid(d+ - d-)^2 (baseline audit, section 3.2).
  torch::manual_seed(4);
  const torch::Tensor f_v = torch::randn({5, 3}, torch::kDouble), pos = torch::randn({5, 3}, torch::kDouble),
                      neg = torch::randn({5, 3}, torch::kDouble);
  const RatioDistances d = RatioLossDistances(f_v, pos, neg);
  const RatioByHand r = RatioLossByHand(f_v, pos, neg);
  EXPECT_LT((d.d_pos - r.d_pos).abs().max().item<double>(), 1e-12);
  EXPECT_LT((d.d_neg - r.d_neg).abs().max().item<double>(), 1e-12);
  EXPECT_TRUE(torch::equal(RatioLoss(f_v, pos, neg), RatioLossOfDistances(d.d_pos, d.d_neg)));
  EXPECT_NEAR(RatioLoss(f_v, pos, neg).item<double>(), r.loss.item<double>(), 1e-12);
  // The scale route with trainable targets: when every d+ < d-, scaling f_v and both targets by 10 scales the
  // gaps by about 10 and the loss drops, with no change of which target is nearer.
  const torch::Tensor fv0 = torch::tensor({0.0, 0.0, 1.0, 1.0}, torch::kDouble).view({2, 2});
  const torch::Tensor pos0 = torch::tensor({1.0, 0.0, 1.0, 1.5}, torch::kDouble).view({2, 2});
  const torch::Tensor neg0 = torch::tensor({0.0, 3.0, 2.0, 3.0}, torch::kDouble).view({2, 2});
  const double unscaled = RatioLoss(fv0, pos0, neg0).item<double>();
  EXPECT_LT(RatioLoss(10 * fv0, 10 * pos0, 10 * neg0).item<double>(), 1e-6 * unscaled);
}

TEST(Attention10kLossTest, ContrastiveLossGoldenValue) {
  // Margin 10: positive d2 = 4 -> 0.5*4 = 2; negatives d = 3 -> 0.5*(10-3)^2 = 24.5, d = 6 -> 0.5*16 = 8,
  // d = 11 -> relu(-1) = 0. Mean over 4 pairs: 34.5 / 4 = 8.625 (the 1e-9 inside the sqrt shifts it by ~1e-9).
  torch::Tensor d2 = torch::tensor({4.0, 9.0, 36.0, 121.0}, torch::kDouble);
  torch::Tensor y = torch::tensor({1.0, 0.0, 0.0, 0.0}, torch::kDouble);
  EXPECT_NEAR(ContrastiveLoss(d2, y, 10.0).item<double>(), 8.625, 1e-8);
  EXPECT_NEAR(ContrastiveLoss(d2, y, 5.0).item<double>(), (2 + 2 + 0 + 0) / 4.0, 1e-8);
}

TEST(Attention10kLossTest, SupervisionGridAndSupervisedLossGoldenValues) {
  // A 4x4 GT with the top-left 2x2 block and pixel (0,2) covered, pooled onto 2x2: covered fractions
  // c = [[1, 0.25], [0, 0]]. binary (c >= 0.5): [1,0,0,0]; soft: c; distribution: c / 1.25 = [0.8, 0.2, 0, 0].
  torch::Tensor gt = torch::zeros({2, 4, 4}, torch::kDouble);
  gt[0].slice(0, 0, 2).slice(1, 0, 2).fill_(1.0);
  gt[0][0][2] = 1.0;
  gt[1] = gt[0];
  auto grid = [&](SupervisionTarget t) { return SupervisionGrid(gt, 2, 2, t)[0].flatten(); };
  EXPECT_TRUE(torch::allclose(grid(SupervisionTarget::kBinary), torch::tensor({1.0, 0.0, 0.0, 0.0}, torch::kDouble)));
  EXPECT_TRUE(torch::allclose(grid(SupervisionTarget::kSoft), torch::tensor({1.0, 0.25, 0.0, 0.0}, torch::kDouble)));
  EXPECT_TRUE(
      torch::allclose(grid(SupervisionTarget::kDistribution), torch::tensor({0.8, 0.2, 0.0, 0.0}, torch::kDouble)));
  // Logits log(1..4) give alpha = (0.1, 0.2, 0.3, 0.4). Only sample 0 is annotated, the mean runs over both:
  //   binary:       -log 0.1 / 2                      = 2.302585 / 2 = 1.151293
  //   soft:         -(log 0.1 + 0.25 log 0.2) / 2     = (2.302585 + 0.402359) / 2 = 1.352472
  //   distribution: -(0.8 log 0.1 + 0.2 log 0.2) / 2  = (1.842068 + 0.321888) / 2 = 1.081978
  torch::Tensor logits =
      torch::log(torch::tensor({1.0, 2.0, 3.0, 4.0}, torch::kDouble)).view({1, 2, 2}).repeat({2, 1, 1});
  torch::Tensor has_gt = torch::tensor({true, false});
  EXPECT_NEAR(SupervisedAttentionLoss(logits, gt, has_gt, SupervisionTarget::kBinary).item<double>(),
              -std::log(0.1) / 2, 1e-9);
  EXPECT_NEAR(SupervisedAttentionLoss(logits, gt, has_gt, SupervisionTarget::kSoft).item<double>(),
              -(std::log(0.1) + 0.25 * std::log(0.2)) / 2, 1e-9);
  EXPECT_NEAR(SupervisedAttentionLoss(logits, gt, has_gt, SupervisionTarget::kDistribution).item<double>(),
              -(0.8 * std::log(0.1) + 0.2 * std::log(0.2)) / 2, 1e-9);
  EXPECT_NEAR(-std::log(0.1) / 2, 1.151293, 1e-6);
  // No annotated sample, or no GT at all: exactly zero.
  EXPECT_EQ(
      SupervisedAttentionLoss(logits, gt, torch::tensor({false, false}), SupervisionTarget::kBinary).item<double>(),
      0.0);
  EXPECT_EQ(
      SupervisedAttentionLoss(logits, torch::Tensor(), torch::Tensor(), SupervisionTarget::kBinary).item<double>(),
      0.0);
  // A cell whose alpha underflows stays finite (log_softmax), where the reference's log(0) gives inf/NaN.
  torch::Tensor extreme = torch::tensor({0.0, -1e4, -1e4, -1e4}, torch::kDouble).view({1, 2, 2});
  gt = torch::ones({1, 2, 2}, torch::kDouble);
  EXPECT_TRUE(std::isfinite(
      SupervisedAttentionLoss(extreme, gt, torch::tensor({true}), SupervisionTarget::kBinary).item<double>()));
}

TEST_F(Attention10kTest, ShapesRangeAndRegisteredSubmodules) {
  auto method = Build(kTinyModel);
  ASSERT_NE(method, nullptr);
  // Parameters, by hand. A [2,2,2,2] ResNet of width w with a c-channel stem has
  //   conv1 49cw + bn1 2w + layer1 (36w^2 + 8w) + layer2 (128w^2 + 20w) + layer3 (512w^2 + 40w)
  //   + layer4 (2048w^2 + 80w) = 2724w^2 + 150w + 49cw.  For w = 8:
  //   image (c = 3): 174,336 + 1200 + 1176 = 176,712;   audio (c = 1): 174,336 + 1200 + 392 = 175,928.
  // Heads between the 8w = 64 encoder channels and hidden_dim 16:
  //   fc_v_1 64*16 + 16 = 1,040; fc_v_2 16*64 + 64 = 1,088; fc_a_1 1,040; fc_a_2 1,088 -> 4,256.
  // Total 176,712 + 175,928 + 4,256 = 356,896.
  EXPECT_EQ(testkit::CountParameters(*method), 356896);
  EXPECT_EQ(testkit::ChildNames(*method),
            (std::vector<std::string>{"visual_net", "audio_net", "fc_v_1", "fc_v_2", "fc_a_1", "fc_a_2"}));
  EXPECT_EQ(method->named_parameters()["fc_v_2.weight"].sizes(), (std::vector<int64_t>{64, 16}));
  EXPECT_EQ(method->named_parameters()["fc_a_2.weight"].sizes(), (std::vector<int64_t>{64, 16}));

  method->eval();
  torch::NoGradGuard no_grad;
  Localization loc = method->Localize(MakeBatch(3));
  ASSERT_EQ(loc.maps.sizes(), (std::vector<int64_t>{3, 2, 2}));
  // alpha is a softmax over the 4 locations.
  EXPECT_TRUE(torch::allclose(loc.maps.sum({1, 2}), torch::ones({3})));
  EXPECT_GE(loc.maps.min().item<double>(), 0.0);
  EXPECT_DOUBLE_EQ(loc.range_min, 0.0);
  EXPECT_DOUBLE_EQ(loc.range_max, 1.0);
  EXPECT_FALSE(loc.confidence.defined());  // no native confidence: the evaluator's generic one

  auto max_alpha = Build(TinyWith("confidence = \"max_attention\"\n"));
  ASSERT_NE(max_alpha, nullptr);
  max_alpha->eval();
  Localization m = max_alpha->Localize(MakeBatch(3));
  ASSERT_TRUE(m.confidence.defined());
  EXPECT_TRUE(torch::allclose(m.confidence, std::get<0>(m.maps.flatten(1).max(1))));
  EXPECT_EQ(m.confidence_name, "attention10k max alpha");
}

TEST_F(Attention10kTest, ContrastiveStepEqualsTheLossOfItsOwnDistances) {
  // With 2 samples each one's negative is the other image, so in eval mode (fixed BN statistics) the step's loss
  // is re-derived from Localize's -||f_v - a|| on the batch and on the batch with the two images swapped:
  // L = mean over 4 pairs of [0.5 d+^2] and [0.5 relu(10 - d-)^2].
  torch::manual_seed(3);
  auto method = Build(TinyWith("loss = \"contrastive\"\nconfidence = \"neg_distance\"\n"));
  ASSERT_NE(method, nullptr);
  method->eval();
  torch::NoGradGuard no_grad;
  Batch batch = MakeBatch(2);
  batch.has_gt = torch::zeros({2}, torch::kBool);
  const torch::Tensor d_pos = -method->Localize(batch).confidence;
  Batch swapped = batch;
  swapped.image = batch.image.flip(0);
  const torch::Tensor d_neg = -method->Localize(swapped).confidence;
  double expected = 0;
  for (int i = 0; i < 2; ++i) {
    const double dp = d_pos[i].item<double>(), dn = d_neg[i].item<double>();
    expected += 0.5 * dp * dp + 0.5 * std::pow(std::max(0.0, 10 - dn), 2);
  }
  expected /= 4;
  StepOutput out = method->TrainStep(batch);
  EXPECT_NEAR(out.loss.item<double>(), expected, 1e-4 * std::max(1.0, expected));
  EXPECT_EQ(out.logs.at(1).first, "loss_sup");
  EXPECT_EQ(out.logs.at(1).second, 0.0);
  // The logged distances are the loss's own: the means of d+ and d- above.
  const double dist_pos = d_pos.mean().item<double>(), dist_neg = d_neg.mean().item<double>();
  EXPECT_NEAR(LogValue(out, "dist_pos"), dist_pos, 1e-5 * std::max(1.0, dist_pos));
  EXPECT_NEAR(LogValue(out, "dist_neg"), dist_neg, 1e-5 * std::max(1.0, dist_neg));
  EXPECT_GT(LogValue(out, "audio_norm"), 0.0);
}

TEST_F(Attention10kTest, DetachedAnchorSendsTheAudioGradientThroughTheQueryOnly) {
  // Two models with the same weights, anchor trainable and detached; in double precision and eval mode with two
  // unannotated samples, each step is recomputed by hand from the module's parameters (ManualForward,
  // L = mean sigmoid(d+ - d-)^2, targets a_fea and a_fea of the other sample). The audio net's gradient splits
  // into the query path (f_v through the attention) and the target path (a_fea as the distance targets):
  // detached = query path only, trainable = query path + target path.
  const Batch batch = PairBatch();
  auto trainable = BuildDouble("supervised_weight = 0.0\n", 21);
  auto detached = BuildDouble("supervised_weight = 0.0\nanchor = \"detached\"\n", 21);
  ASSERT_NE(trainable, nullptr);
  ASSERT_NE(detached, nullptr);
  StepAndBackward(*trainable, batch);
  StepAndBackward(*detached, batch);
  const torch::Tensor audio_trainable = GradVector(*trainable, "audio_net.");
  const torch::Tensor audio_detached = GradVector(*detached, "audio_net.");
  const torch::Tensor rest_trainable = GradVector(*trainable, "audio_net.", /*exclude=*/true);
  const torch::Tensor rest_detached = GradVector(*detached, "audio_net.", /*exclude=*/true);

  // By hand, on the trainable model (the same weights), one backward per path.
  auto by_hand = [&](bool detach_targets, bool detach_f_v) {
    trainable->zero_grad();
    const ManualEmbedding e = ManualForward(*trainable, batch);
    const torch::Tensor targets = detach_targets ? e.a_fea.detach() : e.a_fea;
    RatioLossByHand(detach_f_v ? e.f_v.detach() : e.f_v, targets, targets.flip(0)).loss.backward();
    return GradVector(*trainable, "audio_net.");
  };
  const torch::Tensor query_path = by_hand(/*detach_targets=*/true, /*detach_f_v=*/false);
  const torch::Tensor target_path = by_hand(/*detach_targets=*/false, /*detach_f_v=*/true);
  const torch::Tensor both = by_hand(false, false);
  EXPECT_LT(RelDiff(audio_detached, query_path), 1e-9);
  EXPECT_LT(RelDiff(audio_trainable, both), 1e-9);
  EXPECT_LT(RelDiff(audio_trainable, audio_detached + target_path), 1e-9);
  // Both paths carry gradient: the detached audio net still learns, and the target path is not negligible.
  EXPECT_GT(query_path.abs().max().item<double>(), 0.0);
  EXPECT_GT(target_path.abs().max().item<double>(), 1e-3 * audio_trainable.abs().max().item<double>());
  EXPECT_GT(RelDiff(audio_detached, audio_trainable), 1e-3);
  // The visual net and both MLPs only see f_v and the query: the same gradient either way.
  EXPECT_LT(RelDiff(rest_detached, rest_trainable), 1e-12);
}

TEST_F(Attention10kTest, AnchorDefaultsToTrainableAndDetachingKeepsTheForwardPass) {
  // The default is "trainable": bit-identical loss, logs and gradients. "detached" changes only the backward
  // pass: the same loss and logs, a different audio gradient.
  const Batch batch = PairBatch();
  auto by_default = BuildDouble("supervised_weight = 0.0\n", 5);
  auto trainable = BuildDouble("supervised_weight = 0.0\nanchor = \"trainable\"\n", 5);
  auto detached = BuildDouble("supervised_weight = 0.0\nanchor = \"detached\"\n", 5);
  ASSERT_NE(by_default, nullptr);
  ASSERT_NE(trainable, nullptr);
  ASSERT_NE(detached, nullptr);
  const StepOutput d = StepAndBackward(*by_default, batch);
  const StepOutput t = StepAndBackward(*trainable, batch);
  const StepOutput x = StepAndBackward(*detached, batch);
  EXPECT_EQ(d.loss.item<double>(), t.loss.item<double>());
  EXPECT_EQ(x.loss.item<double>(), t.loss.item<double>());
  ASSERT_EQ(t.logs.size(), 5u);
  ASSERT_EQ(d.logs.size(), t.logs.size());
  ASSERT_EQ(x.logs.size(), t.logs.size());
  for (size_t i = 0; i < t.logs.size(); ++i) {
    SCOPED_TRACE(t.logs[i].first);
    EXPECT_EQ(d.logs[i], t.logs[i]);
    EXPECT_EQ(x.logs[i], t.logs[i]);
  }
  EXPECT_TRUE(torch::equal(GradVector(*by_default, ""), GradVector(*trainable, "")));
  EXPECT_GT(RelDiff(GradVector(*detached, "audio_net."), GradVector(*trainable, "audio_net.")), 1e-3);
}

TEST_F(Attention10kTest, StepLogsTheDistancesAndTheAudioNormOfItsOwnForward) {
  // dist_pos, dist_neg and audio_norm equal the means of d+, d- and ||a_fea|| recomputed by hand on a fixed
  // batch (double precision, eval mode, two samples), for both anchors; loss_unsup equals mean sigmoid(d+ - d-)^2.
  const Batch batch = PairBatch();
  for (const std::string anchor : {"trainable", "detached"}) {
    SCOPED_TRACE(anchor);
    auto method = BuildDouble("supervised_weight = 0.0\nanchor = \"" + anchor + "\"\n", 8);
    ASSERT_NE(method, nullptr);
    torch::NoGradGuard no_grad;
    const StepOutput out = method->TrainStep(batch);
    const ManualEmbedding e = ManualForward(*method, batch);
    const RatioByHand r = RatioLossByHand(e.f_v, e.a_fea, e.a_fea.flip(0));
    const double dist_pos = LogValue(out, "dist_pos"), dist_neg = LogValue(out, "dist_neg"),
                 audio_norm = LogValue(out, "audio_norm");
    ASSERT_TRUE(std::isfinite(dist_pos) && std::isfinite(dist_neg) && std::isfinite(audio_norm))
        << dist_pos << " " << dist_neg << " " << audio_norm;  // LogValue is NaN for a missing name
    EXPECT_GE(dist_pos, 0.0);
    EXPECT_GE(dist_neg, 0.0);
    EXPECT_GT(audio_norm, 0.0);
    EXPECT_NEAR(dist_pos, r.d_pos.mean().item<double>(), 1e-9 * std::max(1.0, dist_pos));
    EXPECT_NEAR(dist_neg, r.d_neg.mean().item<double>(), 1e-9 * std::max(1.0, dist_neg));
    const double norm = (e.a_fea[0].norm().item<double>() + e.a_fea[1].norm().item<double>()) / 2;
    EXPECT_NEAR(audio_norm, norm, 1e-9 * std::max(1.0, norm));
    EXPECT_NEAR(LogValue(out, "loss_unsup"), r.loss.item<double>(), 1e-12);
  }
}

TEST_F(Attention10kTest, SupervisedTermIsLambdaTimesTheAttentionCrossEntropy) {
  // Two models with the same weights (same seed), lambda = 1 and lambda = 0; same negatives (same seed before
  // each step). The difference of the losses is L_S, re-derived from Localize's alpha: sample 0 is annotated
  // with the top-left quadrant of the 32x32 image = cell (0,0) of the 2x2 grid, so
  // L_S = -log alpha[0](0,0) / 3 (the mean runs over all 3 samples).
  torch::manual_seed(11);
  auto with_sup = Build(TinyWith("supervised_weight = 1.0\n"));
  torch::manual_seed(11);
  auto without = Build(TinyWith("supervised_weight = 0.0\n"));
  ASSERT_NE(with_sup, nullptr);
  ASSERT_NE(without, nullptr);
  with_sup->eval();
  without->eval();
  torch::NoGradGuard no_grad;
  const Batch batch = MakeBatch(3);
  torch::manual_seed(5);
  const StepOutput a = with_sup->TrainStep(batch);
  torch::manual_seed(5);
  const StepOutput b = without->TrainStep(batch);
  const double alpha00 = with_sup->Localize(batch).maps[0][0][0].item<double>();
  const double expected = -std::log(alpha00) / 3;
  EXPECT_NEAR(a.loss.item<double>() - b.loss.item<double>(), expected, 1e-5);
  EXPECT_NEAR(a.logs.at(1).second, expected, 1e-5);
  EXPECT_NEAR(a.logs.at(0).second, b.logs.at(0).second, 1e-7);  // the same unsupervised term
}

TEST_F(Attention10kTest, LossDecreasingOnAFixedBatchForEachObjective) {
  // The ratio loss is bounded (L_U <= 1) and L_S on a 2x2 grid has a floor of about 0.34 (cosine logits cap
  // alpha at e/(e + 3/e) = 0.71): a 10% drop there; the contrastive loss must lose 30%.
  for (const auto& [keys, factor] :
       std::vector<std::pair<std::string, double>>{{"loss = \"ratio\"\n", 0.9}, {"loss = \"contrastive\"\n", 0.7}}) {
    SCOPED_TRACE(keys);
    torch::manual_seed(0);
    auto method = Build(TinyWith(keys));
    ASSERT_NE(method, nullptr);
    Batch batch = MakeBatch(6);
    batch.has_gt.fill_(true);  // the supervised term learns too
    std::vector<StepOutput> outs;
    auto losses = testkit::TrainLosses(*method, batch, 40, 3e-3, &outs);
    ASSERT_TRUE(losses.ok()) << losses.status();
    for (size_t step = 0; step < losses->size(); ++step) ASSERT_TRUE(std::isfinite((*losses)[step])) << "step " << step;
    // Every step logs the distances and the audio norm (NaN when missing fails the comparisons).
    for (size_t step = 0; step < outs.size(); ++step) {
      EXPECT_GE(LogValue(outs[step], "dist_pos"), 0.0) << "step " << step;
      EXPECT_GE(LogValue(outs[step], "dist_neg"), 0.0) << "step " << step;
      EXPECT_GT(LogValue(outs[step], "audio_norm"), 0.0) << "step " << step;
    }
    // The negatives are random each step, so compare 5-step means.
    const double first = testkit::HeadMean(*losses, 5), last = testkit::TailMean(*losses, 5);
    EXPECT_LT(last, factor * first) << "first " << first << " last " << last;
    for (const auto& p : method->named_parameters()) ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(method->named_parameters()["fc_a_1.weight"].grad().abs().sum().item<double>(), 0);
    EXPECT_GT(method->named_parameters()["visual_net.conv1.weight"].grad().abs().sum().item<double>(), 0);
  }
}

TEST_F(Attention10kTest, CheckpointRoundTrip) {
  torch::manual_seed(1);
  auto a = Build(kTinyModel);
  torch::manual_seed(2);
  auto b = Build(kTinyModel);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const std::string path = testkit::TempFilePath(::testing::TempDir(), "attention10k_roundtrip");
  absl::Status s = testkit::CheckWeightsRoundTrip(*a, *b, MakeBatch(2), path, kTinyModel);
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(Attention10kTest, ClearErrors) {
  // A batch of one has no other sample to take a negative from.
  auto method = Build(kTinyModel);
  ASSERT_NE(method, nullptr);
  ASSERT_EQ(testkit::ThrowsMentioning([&] { method->TrainStep(MakeBatch(1)); }, "needs at least 2 samples"),
            absl::OkStatus());
  // An unpooled audio map is refused naming the option.
  auto unpooled = Build(std::string(kTinyModel) + "pool = \"none\"\n");
  ASSERT_NE(unpooled, nullptr);
  Batch batch = MakeBatch(2);
  batch.audio = torch::randn({2, 1, 64, 64});
  ASSERT_EQ(testkit::ThrowsMentioning([&] { unpooled->TrainStep(batch); }, "set audio_encoder.pool = \"max\""),
            absl::OkStatus());
  // Schema: unknown objective and a negative weight, named by key.
  EXPECT_EQ(testkit::ErrorMentions(TryBuild(TinyWith("loss = \"triplet\"\n")),
                                   "'model.loss' = \"triplet\": expected one of ratio, contrastive"),
            absl::OkStatus());
  EXPECT_EQ(testkit::ErrorMentions(TryBuild(TinyWith("supervised_weight = -1.0\n")), "'model.supervised_weight'"),
            absl::OkStatus());
  // anchor: two values; "detached" only with the ratio loss (the contrastive margin needs the trainable a_fea).
  EXPECT_EQ(testkit::ErrorMentions(TryBuild(TinyWith("anchor = \"frozen\"\n")),
                                   "'model.anchor' = \"frozen\": expected one of trainable, detached"),
            absl::OkStatus());
  EXPECT_EQ(testkit::ErrorMentions(TryBuild(TinyWith("loss = \"contrastive\"\nanchor = \"detached\"\n")),
                                   "'model.anchor' = \"detached\" only applies with model.loss = \"ratio\" "
                                   "(got \"contrastive\"); with loss = \"contrastive\" the anchor must be "
                                   "\"trainable\""),
            absl::OkStatus());
  EXPECT_TRUE(TryBuild(TinyWith("loss = \"contrastive\"\nanchor = \"trainable\"\n")).ok());
}

TEST_F(Attention10kTest, ShippedRecipesValidate) {
  for (const char* name :
       {"synthetic", "synthetic_semi", "synthetic_detached", "flickr_10k", "vggsound_144k", "vggss_heard110"}) {
    const std::string path = std::string(AVSL_SOURCE_DIR) + "/recipes/attention10k/" + name + ".toml";
    SCOPED_TRACE(path);
    auto recipe = Recipe::Load(path, {});
    ASSERT_TRUE(recipe.ok()) << recipe.status();
    EXPECT_EQ(recipe->Root().Sub("model").type(), "attention10k.Attention10k");
  }
}

TEST_F(Attention10kTest, DetachedRecipeIsTheSyntheticRecipeWithTheAnchorDetached) {
  // synthetic_detached.toml = synthetic.toml + model.anchor = "detached" + its own name, key for key; both draw
  // the three logged values in curve.png, and the method logs them.
  const std::string dir = std::string(AVSL_SOURCE_DIR) + "/recipes/attention10k/";
  auto detached = Recipe::Load(dir + "synthetic_detached.toml", {});
  auto synthetic = Recipe::Load(dir + "synthetic.toml",
                                {"model.anchor=\"detached\"", "name=\"attention10k_synthetic_detached\""});
  ASSERT_TRUE(detached.ok()) << detached.status();
  ASSERT_TRUE(synthetic.ok()) << synthetic.status();
  EXPECT_EQ(detached->Flatten(), synthetic->Flatten());
  EXPECT_EQ(detached->Root().Sub("model").GetString("anchor"), "detached");
  const std::vector<std::string> curve = detached->Root().Sub("train").GetStringArray("curve");
  EXPECT_EQ(curve, (std::vector<std::string>{"dist_pos", "dist_neg", "audio_norm"}));
  auto method = Build(TinyWith("anchor = \"detached\"\n"));
  ASSERT_NE(method, nullptr);
  const StepOutput out = method->TrainStep(MakeBatch(3));
  for (const std::string& name : curve) EXPECT_FALSE(std::isnan(LogValue(out, name))) << name;
}

}  // namespace
}  // namespace avsl
