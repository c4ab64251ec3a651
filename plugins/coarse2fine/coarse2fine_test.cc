// coarse2fine plugin: built through the plugin host and a recipe; losses and the test map checked against hand
// arithmetic; the map without the ReLU (map_relu = false) through the evaluator's top-50 % rule; the soft label
// file reader and its errors.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "avsl/core/lr_schedule.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/metrics/eval_protocol.h"
#include "avsl/testing/method_test_kit.h"
#include "coarse2fine_loss.h"
#include "soft_label_file.h"

namespace avsl {
namespace {

using namespace plugins::coarse2fine;  // NOLINT: the functions under test
using testkit::LogValue;

const PluginHost& Host() {
  static PluginHost* host = nullptr;
  if (host == nullptr) {
    host = new PluginHost;
    absl::Status s = testkit::LoadPlugins(*host, AVSL_BINARY_DIR, {"coarse2fine", "datasets"});
    EXPECT_TRUE(s.ok()) << s;
  }
  return *host;
}

// Width-8 ResNets, layer4 stride 1 for the image (2x2 map at 32x32), the audio map unpooled; C = 3 classes and
// small heads.
std::string TinyRecipe(const std::string& options) {
  return "[model]\ntype = \"coarse2fine.CoarseToFine\"\nnum_classes = 3\navc_hidden = 16\nproj_hidden = 32\n"
         "proj_dim = 16\n" +
         options +
         "\n[model.image_encoder]\ntype = \"core.ResNet18Image\"\nlayer4_stride = 1\nwidth = 8\n"
         "\n[model.audio_encoder]\ntype = \"core.ResNet18Audio\"\nwidth = 8\npool = \"none\"\n";
}

absl::StatusOr<std::shared_ptr<Method>> TryBuild(const std::string& recipe_text, uint64_t seed = 0) {
  return testkit::BuildMethod(Host().registry(), recipe_text, seed);
}

std::shared_ptr<Method> Build(const std::string& recipe_text, uint64_t seed = 0) {
  auto m = TryBuild(recipe_text, seed);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : nullptr;
}

Batch MakeBatch(int64_t n, uint64_t seed = 7) {
  Batch b = testkit::RandomBatch(n, {32, 32, 64, 32}, seed);  // audio layer4 map 2x1
  b.class_id = torch::arange(n, torch::kLong).remainder(3);
  for (int64_t i = 0; i < n; ++i) b.keys.push_back("s" + std::to_string(i));
  return b;
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + std::to_string(::getpid()) + "_" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(CoarseToFineTest, ShapesRangeAndNativeConfidence) {
  auto method = Build(TinyRecipe(""));
  ASSERT_NE(method, nullptr);
  method->eval();
  torch::NoGradGuard no_grad;
  Localization loc = method->Localize(MakeBatch(3));
  ASSERT_EQ(loc.maps.sizes(), (std::vector<int64_t>{3, 2, 2}));
  EXPECT_EQ(loc.confidence.sizes(), (std::vector<int64_t>{3}));
  EXPECT_EQ(loc.confidence_name, "c2f_avc");
  EXPECT_DOUBLE_EQ(loc.range_min, 0.0);
  EXPECT_DOUBLE_EQ(loc.range_max, 1.0);
  EXPECT_GE(loc.maps.min().item<double>(), 0.0);
  // Divided by its maximum: every non-zero map peaks at exactly 1.
  const torch::Tensor peak = loc.maps.flatten(1).amax(1);
  for (int64_t i = 0; i < 3; ++i) {
    if (peak[i].item<double>() > 0) {
      EXPECT_NEAR(peak[i].item<double>(), 1.0, 1e-6);
    }
  }
  EXPECT_GT(loc.confidence.min().item<double>(), 0.0);
  EXPECT_LT(loc.confidence.max().item<double>(), 1.0);
  auto by_class = Build(TinyRecipe("confidence = \"class\"\n"));
  ASSERT_NE(by_class, nullptr);
  by_class->eval();
  EXPECT_EQ(by_class->Localize(MakeBatch(3)).confidence_name, "c2f_max_class_prob");
}

TEST(CoarseToFineTest, SubmodulesAndParameterCount) {
  auto method = Build(TinyRecipe(""));
  ASSERT_NE(method, nullptr);
  // stage_two.py::Align / Location attribute names (avgpool has no parameters and is a function here).
  EXPECT_EQ(testkit::ChildNames(*method),
            (std::vector<std::string>{"vision", "audio", "avc", "project_a", "project_v", "class_a", "class_v"}));
  // ResNet18 of width 8: 2724*64 + 150*8 = 175536, + conv1 1176 (image) = 176712, + 392 (audio) = 175928.
  // Heads with C = 64 channels, 3 classes: avc Linear(128,16) 2048+16 + Linear(16,2) 32+2 = 2098;
  // project_a/v Conv1d(64,32) 2048 + Conv1d(32,16) 512 = 2560 each (no bias) -> 5120; class_a/v 64*3 = 192 each.
  // Total 176712 + 175928 + 2098 + 5120 + 384 = 360242.
  EXPECT_EQ(testkit::CountParameters(*method), 360242);
  auto params = method->named_parameters();
  EXPECT_EQ(params.find("class_a.bias"), nullptr);
  EXPECT_NE(params.find("avc.0.weight"), nullptr);
  EXPECT_NE(params.find("project_v.2.weight"), nullptr);
}

// AVC: N = 3, diagonal logits (0, ln 3) -> CE(·,1) = ln 4 − ln 3 = ln(4/3); off-diagonal (0, 0) -> CE(·,0) = ln 2.
// ½·ln(4/3) + ½·ln 2 = ½·ln(8/3) = 0.490415. (A plain mean over the 9 pairs would give (3 ln(4/3) + 6 ln 2)/9 =
// 0.558, swapped targets ½·ln 4 + ½·ln 2 = 1.0397.)
TEST(CoarseToFineLossTest, AvcGoldenValue) {
  torch::Tensor avc = torch::zeros({3, 3, 2});
  for (int i = 0; i < 3; ++i) avc[i][i][1] = std::log(3.0);
  EXPECT_NEAR(AvcLoss(avc).item<double>(), 0.5 * std::log(8.0 / 3), 1e-6);
  EXPECT_NEAR(AvcLoss(avc).item<double>(), 0.490415, 1e-6);
}

// BCE(σ(logits), y): logits (0, ln 3) -> p = (0.5, 0.75); y = (1, 0.5):
// [−ln 0.5 − (0.5 ln 0.75 + 0.5 ln 0.25)] / 2 = (0.693147 + 0.5·(0.287682 + 1.386294)) / 2 = 0.765068.
// A second row with valid = false does not count.
TEST(CoarseToFineLossTest, ClassLossGoldenValueAndMask) {
  const torch::Tensor logits = torch::tensor({0.0f, static_cast<float>(std::log(3.0)), 5.0f, 5.0f}).view({2, 2});
  const torch::Tensor y = torch::tensor({1.0f, 0.5f, 0.0f, 0.0f}).view({2, 2});
  const torch::Tensor valid = torch::tensor({true, false});
  EXPECT_NEAR(ClassLoss(logits, y, valid).item<double>(), 0.765068, 1e-6);
  EXPECT_EQ(ClassLoss(logits, y, torch::tensor({false, false})).item<double>(), 0.0);
}

// feat [1,1,1,2] = (2, 4), cam = (1, 3): mean_hw(feat·cam) = (2 + 12)/2 = 7, Σ cam = 4 -> 1.75.
TEST(CoarseToFineLossTest, ClassFeaturesMeanThenDivide) {
  const torch::Tensor feat = torch::tensor({2.0f, 4.0f}).view({1, 1, 1, 2});
  const torch::Tensor cam = torch::tensor({1.0f, 3.0f}).view({1, 1, 1, 2});
  EXPECT_NEAR(ClassFeatures(feat, cam).item<double>(), 1.75, 1e-6);
}

// Alignment, N = 1, C = 2, D = 2. fine_a columns (classes) e1, e2; fine_v (0.6, 0.8), e2.
// cos [a_c][v_c'] = [[0.6, 0], [0.8, 1]] -> dist = 2 − 2 cos = [[0.8, 2], [0.4, 0]].
// All probabilities > 0.3: pos = (0.8 + 0) / (2 + 4e-10) = 0.4; neg: √2 = 1.41421 > 1.4 -> 0, √0.4 = 0.632456 ->
// (1.4 − 0.632456)² = 0.589124, / 2 -> 0.294562. L_d = 0.694562.
// Visual class 1 below 0.3 (logit −2: σ = 0.119): eff = column 0 only -> pos = 0.8 / 1, neg = 0.589124 / 1 ->
// L_d = 1.389124.
TEST(CoarseToFineLossTest, AlignGoldenValues) {
  const torch::Tensor fa = torch::tensor({1.0f, 0.0f, 0.0f, 1.0f}).view({1, 2, 2});  // [N,D,C]: column c
  const torch::Tensor fv = torch::tensor({0.6f, 0.0f, 0.8f, 1.0f}).view({1, 2, 2});
  const torch::Tensor on = torch::tensor({2.0f, 2.0f}).view({1, 2});
  EXPECT_NEAR(AlignLoss(fa, fv, on, on, 0.3, 1.4).item<double>(), 0.694562, 1e-5);
  const torch::Tensor v_off = torch::tensor({2.0f, -2.0f}).view({1, 2});
  EXPECT_NEAR(AlignLoss(fa, fv, on, v_off, 0.3, 1.4).item<double>(), 1.389124, 1e-5);
  // N = 2, C = 1: rows are samples. a = (e1, e2), v = ((0.6, 0.8), e1): cos [[0.6, 1], [0.8, 0]],
  // dist [[0.8, 0], [0.4, 2]]: pos = (0.8 + 2) / 2 = 1.4; neg = ((1.4 − 0)² + 0.589124) / 2 = 1.274562 -> 2.674562
  // (√ of the zero distance is taken of 1e-12: 1.96 − 2.8e-6).
  const torch::Tensor a2 = torch::tensor({1.0f, 0.0f, 0.0f, 1.0f}).view({2, 2, 1});
  const torch::Tensor v2 = torch::tensor({0.6f, 0.8f, 1.0f, 0.0f}).view({2, 2, 1});
  const torch::Tensor on2 = torch::tensor({2.0f, 2.0f}).view({2, 1});
  EXPECT_NEAR(AlignLoss(a2, v2, on2, on2, 0.3, 1.4).item<double>(), 2.674562, 1e-5);
}

// Test map, one sample, C = 2, two positions. fine_a columns e1, e2; fine_v positions e1 + 0.5 e2... chosen so that
// ReLU(sim) = class 0: (1, 0.5), class 1: (0, 1). Logits (ln 3, −ln 3): p = (0.75, 0.25).
// Single sigmoid: eff = {0} -> map = (1, 0.5), already max 1.
// Double sigmoid: p = (σ(0.75), σ(0.25)) = (0.679179, 0.562177), both > 0.3 ->
// map = (0.679179, 0.339589 + 0.562177) / 1.241356 -> / max -> (0.679179 / 0.901767, 1) = (0.753166, 1).
TEST(CoarseToFineLossTest, ClassAwareMapAndTheDoubleSigmoid) {
  const torch::Tensor fa = torch::tensor({1.0f, 0.0f, 0.0f, 1.0f}).view({1, 2, 2});  // [N,D,C]
  const torch::Tensor fv = torch::tensor({1.0f, 0.5f, 0.0f, 1.0f}).view({1, 2, 2});  // [N,D,hw]
  const torch::Tensor logits = torch::tensor({std::log(3.0f), -std::log(3.0f)}).view({1, 2});
  const torch::Tensor single = ClassAwareMap(fa, fv, torch::sigmoid(logits), 0.3);
  EXPECT_NEAR(single[0][0].item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(single[0][1].item<double>(), 0.5, 1e-6);
  const torch::Tensor twice = ClassAwareMap(fa, fv, torch::sigmoid(torch::sigmoid(logits)), 0.3);
  EXPECT_NEAR(twice[0][0].item<double>(), 0.753166, 1e-5);
  EXPECT_NEAR(twice[0][1].item<double>(), 1.0, 1e-6);
  // Below the threshold everywhere: the argmax class is still used (eff[argmax p] = 1).
  const torch::Tensor low = ClassAwareMap(fa, fv, torch::tensor({0.1f, 0.2f}).view({1, 2}), 0.3);
  EXPECT_NEAR(low[0][0].item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(low[0][1].item<double>(), 1.0, 1e-6);
}

// The map without the ReLU (map_relu = false): the weighted cosine divided by its max |value|. Where every cosine is
// >= 0 it is the ReLU map; with two effective classes and opposite cosines the ReLU map ranks differently.
TEST(CoarseToFineLossTest, ClassAwareMapWithoutReluGoldenValues) {
  // The double-sigmoid example above: every cosine is >= 0, so the ReLU changes nothing, bit for bit.
  const torch::Tensor fa = torch::tensor({1.0f, 0.0f, 0.0f, 1.0f}).view({1, 2, 2});
  const torch::Tensor fv = torch::tensor({1.0f, 0.5f, 0.0f, 1.0f}).view({1, 2, 2});
  const torch::Tensor logits = torch::tensor({std::log(3.0f), -std::log(3.0f)}).view({1, 2});
  const torch::Tensor p2 = torch::sigmoid(torch::sigmoid(logits));
  EXPECT_TRUE(torch::equal(ClassAwareMap(fa, fv, p2, 0.3, /*relu=*/false), ClassAwareMap(fa, fv, p2, 0.3)));
  // Two effective classes, p = (0.75, 0.5), fine_a columns e1, e2; positions (0.6, −0.8) and (−0.6, 0.8).
  // ReLU: (0.75·0.6, 0.5·0.8) / 1.25 = (0.36, 0.32) -> / 0.36 -> (1, 0.888889).
  // No ReLU: (0.45 − 0.4, −0.45 + 0.4) / 1.25 = (0.04, −0.04) -> / max |·| -> (1, −1).
  const torch::Tensor fv2 = torch::tensor({0.6f, -0.6f, -0.8f, 0.8f}).view({1, 2, 2});  // [N,D,hw]
  const torch::Tensor p = torch::tensor({0.75f, 0.5f}).view({1, 2});
  const torch::Tensor with_relu = ClassAwareMap(fa, fv2, p, 0.3);
  EXPECT_NEAR(with_relu[0][0].item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(with_relu[0][1].item<double>(), 0.888889, 1e-5);
  const torch::Tensor no_relu = ClassAwareMap(fa, fv2, p, 0.3, /*relu=*/false);
  EXPECT_NEAR(no_relu[0][0].item<double>(), 1.0, 1e-5);
  EXPECT_NEAR(no_relu[0][1].item<double>(), -1.0, 1e-5);
  // An all-zero map stays 0 (no division by 0).
  const torch::Tensor zero = ClassAwareMap(fa, torch::zeros({1, 2, 2}), p, 0.3, /*relu=*/false);
  EXPECT_EQ(zero.abs().max().item<double>(), 0.0);
}

// The whole-image effect of the ReLU map under the top-50 % rule, and map_relu = false. One sample, one class
// (C = 1, D = 1, fine_a = 1, so the cosine is fine_v itself), a 4x4 map whose 12 cells in columns 0-2 are negative
// and whose column 3 is positive; every row increases strictly from left to right:
//   x[r][c] = −0.7 + 0.2c + 0.01r (c < 3),  x[r][3] = 0.2 + 0.2r.
// ReLU map: 0 on columns 0-2 (75 % of the cells), column 3 / 0.8 = (0.25, 0.5, 0.75, 1).
// No ReLU: x / max |x| = x / 0.8: the same column 3, bit for bit (the einsum, the weighting and the divisor, max |map|
// = max map, are the same operations on the same numbers), and 12 distinct negative values.
// The evaluator (bilinear, align_corners = true, to 224x224, then the top-50 % rule: threshold = element 25088 of
// the ascending sort, positive = map >= threshold): output column X reads source column 3·X/223, which is < 2 for
// X <= 148, so the ReLU map is exactly 0 on 149·224 = 33376 > 25088 pixels. The threshold is 0 and the prediction
// is the whole image (50176 pixels). Without the ReLU every row still increases strictly, so at most one pixel per
// row equals the threshold: 25088 to 25088 + 223 pixels.
TEST(CoarseToFineLossTest, MapWithoutReluKeepsThePositiveCellsAndHasNoZeroPlateau) {
  std::vector<float> x;
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 4; ++c) x.push_back(c < 3 ? -0.7f + 0.2f * c + 0.01f * r : 0.2f + 0.2f * r);
  }
  const torch::Tensor fa = torch::ones({1, 1, 1});             // [N,D,C]
  const torch::Tensor fv = torch::tensor(x).view({1, 1, 16});  // [N,D,hw], row-major 4x4
  const torch::Tensor p = torch::tensor({0.9f}).view({1, 1});
  const torch::Tensor with_relu = ClassAwareMap(fa, fv, p, 0.3);
  const torch::Tensor no_relu = ClassAwareMap(fa, fv, p, 0.3, /*relu=*/false);
  // The premise: more than half of the ReLU map is exactly 0.
  ASSERT_EQ((with_relu == 0).sum().item<int64_t>(), 12);
  for (int r = 0; r < 4; ++r) EXPECT_NEAR(with_relu[0][4 * r + 3].item<double>(), 0.25 * (r + 1), 1e-6);
  // The positive cells keep their values (so their order); the rest are distinct and nonzero, within [−1, 1].
  const torch::Tensor positive = with_relu > 0;
  EXPECT_TRUE(torch::equal(no_relu.masked_select(positive), with_relu.masked_select(positive)));
  EXPECT_EQ((no_relu == 0).sum().item<int64_t>(), 0);
  EXPECT_TRUE((no_relu.masked_select(~positive) < 0).all().item<bool>());
  const torch::Tensor sorted = std::get<0>(no_relu.flatten().sort());
  EXPECT_TRUE((sorted.slice(0, 1) > sorted.slice(0, 0, -1)).all().item<bool>()) << sorted;
  EXPECT_NEAR(no_relu[0][0].item<double>(), -0.875, 1e-6);
  EXPECT_NEAR(no_relu.max().item<double>(), 1.0, 1e-6);
  EXPECT_GE(no_relu.min().item<double>(), -1.0);
  // Through the evaluator, with the ranges Localize declares ([0,1] with the ReLU, [−1,1] without).
  const metrics::EvalProtocol protocol{};  // 224x224, bilinear, align_corners = true, relative, top 50 %
  auto predicted_pixels = [&](const torch::Tensor& map, double range_min) -> int64_t {
    Map2D native(4, 4);
    const torch::Tensor values = map.to(torch::kDouble).contiguous();
    for (int i = 0; i < 16; ++i) native.values[static_cast<size_t>(i)] = values[0][i].item<double>();
    absl::StatusOr<Map2D> on_grid = metrics::ToEvalMap(native, protocol, "s0", range_min, 1.0);
    EXPECT_TRUE(on_grid.ok()) << on_grid.status();
    if (!on_grid.ok()) return -1;
    const std::vector<uint8_t> infer = metrics::BinaryPrediction(*on_grid, protocol);
    return std::accumulate(infer.begin(), infer.end(), int64_t{0});
  };
  EXPECT_EQ(predicted_pixels(with_relu, 0.0), 224 * 224);  // the whole image: cIoU = box area / 50176
  const int64_t half = predicted_pixels(no_relu, -1.0);
  EXPECT_GE(half, 25088);
  EXPECT_LE(half, 25088 + 223);
}

// Through the recipe: the default is the released ReLU map (equal to map_relu = true with the same weights);
// map_relu = false declares [−1, 1], peaks at |map| = 1, is > 0 only where the ReLU map is > 0 (a positive
// weighted mean of cosines needs a positive cosine), and leaves the confidence unchanged.
TEST(CoarseToFineTest, MapReluOptionDefaultAndRange) {
  auto by_default = Build(TinyRecipe(""), 2);
  auto with_relu = Build(TinyRecipe("map_relu = true\n"), 2);
  auto cosine = Build(TinyRecipe("map_relu = false\n"), 2);
  ASSERT_NE(by_default, nullptr);
  ASSERT_NE(with_relu, nullptr);
  ASSERT_NE(cosine, nullptr);
  by_default->eval();
  with_relu->eval();
  cosine->eval();
  torch::NoGradGuard no_grad;
  const Batch batch = MakeBatch(3);
  const Localization a = by_default->Localize(batch), b = with_relu->Localize(batch), c = cosine->Localize(batch);
  EXPECT_TRUE(torch::equal(a.maps, b.maps));
  EXPECT_DOUBLE_EQ(a.range_min, 0.0);
  EXPECT_DOUBLE_EQ(c.range_min, -1.0);
  EXPECT_DOUBLE_EQ(c.range_max, 1.0);
  ASSERT_EQ(c.maps.sizes(), (std::vector<int64_t>{3, 2, 2}));
  EXPECT_GE(c.maps.min().item<double>(), -1.0 - 1e-6);
  EXPECT_LE(c.maps.max().item<double>(), 1.0 + 1e-6);
  const torch::Tensor peak = c.maps.flatten(1).abs().amax(1);
  for (int64_t i = 0; i < 3; ++i) {
    if (peak[i].item<double>() > 0) {
      EXPECT_NEAR(peak[i].item<double>(), 1.0, 1e-6);
    }
  }
  EXPECT_FALSE(((c.maps > 0) & (a.maps <= 0)).any().item<bool>());
  EXPECT_TRUE(torch::equal(a.confidence, c.confidence));
}

std::vector<double> TrainLosses(const std::string& options, int steps, std::vector<StepOutput>* outs = nullptr) {
  auto method = Build(TinyRecipe(options), 3);
  if (method == nullptr) return {};
  auto losses = testkit::TrainLosses(*method, MakeBatch(6), steps, 1e-3, outs);
  EXPECT_TRUE(losses.ok()) << losses.status();
  return losses.ok() ? *losses : std::vector<double>{};
}

TEST(CoarseToFineTest, LossDecreasingOnAFixedBatch) {
  const std::vector<double> l = TrainLosses("", 15);
  ASSERT_EQ(l.size(), 15u);
  for (double v : l) ASSERT_TRUE(std::isfinite(v));
  // Stage two from the first step (measured 3.90 -> 1.14).
  EXPECT_LT(l.back(), 0.5 * l.front()) << l.front() << " -> " << l.back();
}

TEST(CoarseToFineTest, StageSwitchCountsTrainSteps) {
  std::vector<StepOutput> outs;
  TrainLosses("stage_one_steps = 2\n", 3, &outs);
  ASSERT_EQ(outs.size(), 3u);
  EXPECT_EQ(LogValue(outs[0], "stage"), 1.0);
  EXPECT_TRUE(std::isnan(LogValue(outs[1], "loss_align")));
  EXPECT_EQ(LogValue(outs[2], "stage"), 2.0);
  ASSERT_FALSE(std::isnan(LogValue(outs[2], "loss_align")));
  // loss = aloss + vloss + avcloss + dloss.
  EXPECT_NEAR(outs[2].loss.item<double>(),
              LogValue(outs[2], "loss_cls_a") + LogValue(outs[2], "loss_cls_v") + LogValue(outs[2], "loss_avc") +
                  LogValue(outs[2], "loss_align"),
              1e-5);
  std::vector<StepOutput> one;
  TrainLosses("stage = 1\n", 2, &one);
  EXPECT_TRUE(std::isnan(LogValue(one[1], "loss_align")));
}

TEST(CoarseToFineTest, CheckpointRoundTripKeepsWeightsAndStepCount) {
  const std::string recipe = TinyRecipe("stage_one_steps = 3\n");
  auto a = Build(recipe, 1);
  ASSERT_NE(a, nullptr);
  a->train();
  torch::optim::Adam opt(a->parameters(), torch::optim::AdamOptions(1e-3));
  const Batch batch = MakeBatch(4);
  for (int i = 0; i < 2; ++i) testkit::OptimizerStep(*a, opt, batch);
  auto c = Build(recipe, 5);
  ASSERT_NE(c, nullptr);
  const std::string path = testkit::TempFilePath(::testing::TempDir(), "c2f_ckpt");
  absl::Status s = testkit::SaveAndLoadWeights(*a, *c, path, "recipe", &opt);
  ASSERT_TRUE(s.ok()) << s;
  const auto want = testkit::Snapshot(*a);
  for (const auto& [k, v] : testkit::Snapshot(*c)) EXPECT_TRUE(torch::equal(v, want.at(k))) << k;
  EXPECT_EQ(c->named_buffers()["step"].item<int64_t>(), 2);
  a->eval();
  c->eval();
  {
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal(a->Localize(batch).maps, c->Localize(batch).maps));
  }
  // The restored step count carries the stage: step 3 of the loaded model is a stage-one step, step 4 aligns.
  c->train();
  EXPECT_EQ(LogValue(c->TrainStep(batch), "stage"), 1.0);
  EXPECT_EQ(LogValue(c->TrainStep(batch), "stage"), 2.0);
}

TEST(SoftLabelFileTest, ReadsOneOrTwoVectorsPerKey) {
  const std::string text = "# made by hand\nkey,a0,a1\nvid1,0.2,1\n\nvid2__aud7, 0.5 , 0.25 ,1,0\r\n";
  auto t = SoftLabelTable::Parse(text, "labels.csv", 2);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->size(), 2u);
  const SoftLabels* one = t->Find("vid1");
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(one->audio, (std::vector<float>{0.2f, 1.0f}));
  EXPECT_EQ(one->visual, one->audio);
  const SoftLabels* two = t->Find("vid2__aud7");
  ASSERT_NE(two, nullptr);
  EXPECT_EQ(two->audio, (std::vector<float>{0.5f, 0.25f}));
  EXPECT_EQ(two->visual, (std::vector<float>{1.0f, 0.0f}));
  EXPECT_EQ(two->line, 5);
  EXPECT_EQ(t->Find("vid3"), nullptr);
}

TEST(SoftLabelFileTest, ErrorsNameTheFileAndLine) {
  struct Case {
    std::string text, expected;
  };
  const std::vector<Case> cases = {
      {"v1,0.1,0.2\nv2,0.1\n", "labels.csv line 2: expected 2 (both modalities) or 4 (audio then visual) values "
                               "after key 'v2', got 1"},
      {"v1,0.1,abc\n", "labels.csv line 1: value 2 of key 'v1' is 'abc', expected a number in [0, 1]"},
      {"v1,0.1,\n", "labels.csv line 1: value 2 of key 'v1' is ''"},
      {"\n\nv1,0.1,1.5\n", "labels.csv line 3: value 2 of key 'v1' is 1.5, outside [0, 1]"},
      {"v1,0,0\nv1,1,1\n", "labels.csv line 2: key 'v1' repeated (first on line 1)"},
      {",0,0\n", "labels.csv line 1: empty sample key"},
      {"# nothing\n", "labels.csv: no label rows"},
  };
  for (const Case& c : cases) {
    auto t = SoftLabelTable::Parse(c.text, "labels.csv", 2);
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_NE(std::string(t.status().message()).find(c.expected), std::string::npos)
        << "got: " << t.status().message() << "\nwant: " << c.expected;
  }
  auto missing = SoftLabelTable::Load("/nonexistent/labels.csv", 2);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(std::string(missing.status().message()).find("/nonexistent/labels.csv: cannot be opened"),
            std::string::npos);
}

TEST(CoarseToFineTest, FileLabelSourceTrainsAndNamesAMissingKey) {
  const std::string path = WriteTemp("c2f_labels.csv", "s0,1,0,0\ns1,0,0.5,0.5,0,1,0\ns2,0,0,1\ns3,0.3,0.3,0.3\n");
  auto method = Build(TinyRecipe("label_source = \"file\"\nlabel_file = \"" + path + "\"\n"));
  ASSERT_NE(method, nullptr);
  method->train();
  const StepOutput out = method->TrainStep(MakeBatch(4));
  EXPECT_TRUE(std::isfinite(out.loss.item<double>()));
  Batch unknown = MakeBatch(4);
  unknown.keys[2] = "not_in_file";
  ASSERT_EQ(testkit::ThrowsMentioning([&] { method->TrainStep(unknown); },
                                      "'not_in_file' has no row in the soft label file " + path),
            absl::OkStatus());
  std::filesystem::remove(path);
}

TEST(CoarseToFineTest, BadOptionsAreRefusedWithTheReason) {
  EXPECT_EQ(testkit::ErrorMentions(TryBuild(TinyRecipe("label_source = \"file\"\n")), "model.label_file"),
            absl::OkStatus());
  const std::string bad = WriteTemp("c2f_bad.csv", "s0,1,0\n");
  EXPECT_EQ(testkit::ErrorMentions(TryBuild(TinyRecipe("label_source = \"file\"\nlabel_file = \"" + bad + "\"\n")),
                                   bad + " line 1: expected 3"),
            absl::OkStatus());
  std::filesystem::remove(bad);
  EXPECT_EQ(testkit::ErrorMentions(TryBuild(TinyRecipe("stage = 1\nstage_one_steps = 5\n")), "stage_one_steps"),
            absl::OkStatus());
  // A class id beyond num_classes (class_id source) names the sample and the option.
  auto method = Build(TinyRecipe(""));
  ASSERT_NE(method, nullptr);
  method->train();
  Batch b = MakeBatch(3);
  b.class_id[1] = 7;
  ASSERT_EQ(testkit::ThrowsMentioning([&] { method->TrainStep(b); }, "sample s1 has class_id 7, but num_classes = 3"),
            absl::OkStatus());
}

TEST(CoarseToFineRecipesTest, ShippedRecipesValidate) {
  const std::string root = std::string(AVSL_SOURCE_DIR) + "/recipes/coarse2fine/";
  for (const char* name : {"synthetic.toml", "flickr_10k.toml", "vggsound_144k.toml", "vggss_heard110.toml"}) {
    auto recipe = testkit::LoadRecipe(root + name, Host());
    EXPECT_TRUE(recipe.ok()) << name << ": " << recipe.status();
  }
}

// The synthetic recipe runs the released two stages in one run: the alignment loss starts at the step where the
// schedule drops the learning rate to a tenth, and selection waits for stage two.
TEST(CoarseToFineRecipesTest, SyntheticRecipeSwitchesStageAndLearningRateAtTheSameStep) {
  auto recipe = testkit::LoadRecipe(std::string(AVSL_SOURCE_DIR) + "/recipes/coarse2fine/synthetic.toml", Host());
  ASSERT_TRUE(recipe.ok()) << recipe.status();
  const ComponentConfig root = recipe->Root();
  const long long steps_per_epoch = root.Sub("data").Sub("train").GetInt("size") /
                                    root.Sub("data").GetInt("batch_size");
  ASSERT_EQ(steps_per_epoch, 15);  // 2000 // 128; the loader drops the last partial batch
  const long long epochs = root.Sub("train").GetInt("epochs");
  const long long total = epochs * steps_per_epoch;
  const long long stage_two = root.Sub("model").GetInt("stage_one_steps");
  EXPECT_EQ(stage_two, 20 * steps_per_epoch);
  EXPECT_EQ(epochs, 40);
  auto schedule = Host().registry().Build<LrSchedule>(root.Sub("schedule"));
  ASSERT_TRUE(schedule.ok()) << schedule.status();
  EXPECT_DOUBLE_EQ((*schedule)->FactorAt(0, total, steps_per_epoch), 1.0);
  EXPECT_DOUBLE_EQ((*schedule)->FactorAt(stage_two - 1, total, steps_per_epoch), 1.0);
  EXPECT_DOUBLE_EQ((*schedule)->FactorAt(stage_two, total, steps_per_epoch), 0.1);
  EXPECT_DOUBLE_EQ((*schedule)->FactorAt(total - 1, total, steps_per_epoch), 0.1);
  EXPECT_DOUBLE_EQ(root.Sub("optim").GetFloat("lr") * (*schedule)->FactorAt(stage_two, total, steps_per_epoch), 1e-4);
  // Epochs are numbered from 1: epoch 21 is the first whose steps (300-314) train with the alignment loss.
  EXPECT_EQ(root.Sub("train").GetInt("select_from_epoch"), stage_two / steps_per_epoch + 1);
}

}  // namespace
}  // namespace avsl
