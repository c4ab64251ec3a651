// dsol plugin: built through the plugin host and a recipe, as the trainer builds it; the stage-one functions
// checked against hand arithmetic.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/rank_group.h"
#include "avsl/core/recipe.h"
#include "avsl/testing/method_test_kit.h"
#include "dsol_loss.h"

namespace avsl {
namespace {

using namespace plugins::dsol;  // NOLINT: the functions under test
using testkit::LogValue;

const PluginHost& Host() {
  static PluginHost* host = nullptr;
  if (host == nullptr) {
    host = new PluginHost;
    absl::Status s = testkit::LoadPlugins(*host, AVSL_BINARY_DIR, {"dsol", "datasets"});
    EXPECT_TRUE(s.ok()) << s;
  }
  return *host;
}

// Width-8 ResNets, layer4 stride 1: a 2x2 image map at 32x32; dim 16, K = 3 unless `options` says otherwise.
std::string TinyRecipe(const std::string& options) {
  return "[model]\ntype = \"dsol.DSOL\"\ndim = 16\nnum_clusters = 3\nkmeans_restarts = 2\n" + options +
         "\n[model.image_encoder]\ntype = \"core.ResNet18Image\"\nlayer4_stride = 1\nwidth = 8\n"
         "\n[model.audio_encoder]\ntype = \"core.ResNet18Audio\"\nwidth = 8\n";
}

absl::StatusOr<std::shared_ptr<Method>> TryBuild(const std::string& recipe_text, uint64_t seed = 0) {
  return testkit::BuildMethod(Host().registry(), recipe_text, seed);
}

std::shared_ptr<Method> Build(const std::string& recipe_text, uint64_t seed = 0) {
  auto m = TryBuild(recipe_text, seed);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : nullptr;
}

Batch MakeBatch(int64_t n, const std::string& key_prefix = "k", uint64_t seed = 7) {
  Batch b = testkit::RandomBatch(n, {}, seed);
  b.class_id = torch::full({n}, -1, torch::kLong);
  for (int64_t i = 0; i < n; ++i) b.keys.push_back(key_prefix + std::to_string(i));
  return b;
}

bool HasLog(const StepOutput& out, const std::string& name) { return !std::isnan(LogValue(out, name)); }

TEST(DsolTest, ShapesRangeAndNativeConfidence) {
  auto method = Build(TinyRecipe(""));
  ASSERT_NE(method, nullptr);
  method->eval();
  torch::NoGradGuard no_grad;
  Localization loc = method->Localize(MakeBatch(3));
  // 32 -> conv1 16 -> maxpool 8 -> layer2 4 -> layer3 2 -> layer4 (stride 1) 2.
  ASSERT_EQ(loc.maps.sizes(), (std::vector<int64_t>{3, 2, 2}));
  EXPECT_EQ(loc.confidence_name, "dsol_av_output");
  EXPECT_DOUBLE_EQ(loc.range_min, 0.0);
  EXPECT_DOUBLE_EQ(loc.range_max, 1.0);
  // σ(5·cos): inside [σ(-5), σ(5)] = [0.00669, 0.99331].
  EXPECT_GE(loc.maps.min().item<double>(), 1 / (1 + std::exp(5.0)) - 1e-6);
  EXPECT_LE(loc.maps.max().item<double>(), 1 / (1 + std::exp(-5.0)) + 1e-6);
  EXPECT_TRUE(torch::equal(loc.confidence, loc.maps.flatten(1).amax(1)));
}

TEST(DsolTest, SubmodulesAndParameterCount) {
  auto method = Build(TinyRecipe(""));
  ASSERT_NE(method, nullptr);
  std::vector<std::string> children;
  for (const auto& c : method->named_children()) children.push_back(c.key());
  EXPECT_EQ(children, (std::vector<std::string>{"visual_net", "audio_net", "conv_v_1", "conv_v_2", "fc_a_1", "fc_a_2",
                                                "conv_av", "v_class_layer", "a_class_layer"}));
  // ResNet18 of width 8 (docs/encoders.md): 2724*64 + 150*8 = 175536, + conv1 3*8*49 = 1176 (image) -> 176712,
  // + 1*8*49 = 392 (audio) -> 175928. Heads from C = 64 channels, dim 16, K = 3:
  // conv_v_1 64*16+16 = 1040, conv_v_2 16*16+16 = 272, fc_a_1 1040, fc_a_2 272, conv_av 1 (no bias),
  // v_class_layer 64*3+3 = 195, a_class_layer 195 -> 3015. Total 176712 + 175928 + 3015 = 355655.
  int64_t total = 0;
  for (const auto& p : method->named_parameters()) total += p.value().numel();
  EXPECT_EQ(total, 355655);
  auto params = method->named_parameters();
  EXPECT_TRUE(torch::equal(params["conv_av.weight"], torch::full({1, 1, 1, 1}, 5.0f)));
  EXPECT_EQ(params["conv_av.weight"].numel(), 1);
  auto buffers = method->named_buffers();
  EXPECT_EQ(buffers["kmeans_centroids"].sizes(), (std::vector<int64_t>{3, 64}));
}

// σ(w·cos) by hand: image locations (3,4) and (1,0), audio (1,0) -> cos 0.6 and 1; w = 5 -> σ(3), σ(5).
TEST(DsolLossTest, MapAndBceGoldenValues) {
  const torch::Tensor v = torch::tensor({3.0f, 1.0f, 4.0f, 0.0f}).view({1, 2, 1, 2});  // [B,D,h,w]
  const torch::Tensor a = torch::tensor({2.0f, 0.0f}).view({1, 2});
  const torch::Tensor map = DsolAvMap(v, a, torch::full({1, 1, 1, 1}, 5.0f));
  ASSERT_EQ(map.sizes(), (std::vector<int64_t>{1, 1, 2}));
  EXPECT_NEAR(map[0][0][0].item<double>(), 1 / (1 + std::exp(-3.0)), 1e-6);  // 0.952574
  EXPECT_NEAR(map[0][0][1].item<double>(), 1 / (1 + std::exp(-5.0)), 1e-6);  // 0.993307
  // BCE over 2B = 4 outputs: pos maxima (0.9, 0.6) with label 1, neg maxima (0.2, 0.5) with label 0:
  // -(ln 0.9 + ln 0.6 + ln 0.8 + ln 0.5) / 4 = -(−0.105361 − 0.510826 − 0.223144 − 0.693147) / 4 = 0.383119.
  const double bce = DsolLocalizationLoss(torch::tensor({0.9f, 0.6f}), torch::tensor({0.2f, 0.5f})).item<double>();
  EXPECT_NEAR(bce, -(std::log(0.9) + std::log(0.6) + std::log(0.8) + std::log(0.5)) / 4, 1e-6);
  EXPECT_NEAR(bce, 0.383119, 1e-6);
  // nn.BCELoss clamps log at -100: a certain mistake costs 100 / 2, not infinity.
  EXPECT_NEAR(DsolLocalizationLoss(torch::tensor({0.0f}), torch::tensor({0.0f})).item<double>(), 50.0, 1e-4);
}

TEST(DsolLossTest, DilationFollowsTheReleasedLoop) {
  // 4x4 mask with an interior pixel (1,1) and a border pixel (0,3). location_dilation: (1,1) spreads to (0,1),
  // (2,1), (1,0), (1,2); (0,3) stays alone (border pixels do not spread).
  torch::Tensor m = torch::zeros({1, 4, 4});
  m[0][1][1] = 1;
  m[0][0][3] = 1;
  torch::Tensor expected = torch::zeros({1, 4, 4});
  for (auto [y, x] : std::vector<std::pair<int, int>>{{1, 1}, {0, 1}, {2, 1}, {1, 0}, {1, 2}, {0, 3}}) {
    expected[0][y][x] = 1;
  }
  EXPECT_TRUE(torch::equal(Dilate4(m), expected)) << Dilate4(m);
  // No cascade: (2,2) set as well spreads only its own 4 neighbours, not those of (1,2) it makes.
  m[0][2][2] = 1;
  for (auto [y, x] : std::vector<std::pair<int, int>>{{2, 2}, {1, 2}, {3, 2}, {2, 1}, {2, 3}}) expected[0][y][x] = 1;
  EXPECT_TRUE(torch::equal(Dilate4(m), expected)) << Dilate4(m);
}

TEST(DsolLossTest, ObjectFeaturesAverageOverAllPositions) {
  // 3x3 map, only the centre above 0.05 -> mask = centre + its 4 neighbours (5 of 9 cells). v_fea channel 0 = 9
  // everywhere, channel 1 = cell index 0..8: obj = (5*9/9, (4+1+7+3+5)/9) = (5, 20/9) — divided by 9, not by 5.
  torch::Tensor av = torch::full({1, 3, 3}, 0.01f);
  av[0][1][1] = 0.9f;
  torch::Tensor v =
      torch::stack({torch::full({3, 3}, 9.0f), torch::arange(9, torch::kFloat).view({3, 3})}).unsqueeze(0);
  const torch::Tensor obj = ObjectFeatures(v, av, 0.05);
  EXPECT_NEAR(obj[0][0].item<double>(), 5.0, 1e-6);
  EXPECT_NEAR(obj[0][1].item<double>(), 20.0 / 9, 1e-6);
}

TEST(DsolLossTest, KMeansFindsSeparatedClustersAndNearestCentroidAgrees) {
  // Three tight groups around (0,0), (10,0), (0,10): centres = group means, inertia = Σ squared offsets.
  const torch::Tensor x = torch::tensor({0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 1.0f,  // mean (1/3, 1/3)
                                         10.0f, 0.0f, 11.0f, 0.0f,            // mean (10.5, 0)
                                         0.0f, 10.0f, 0.0f, 12.0f})           // mean (0, 11)
                              .view({7, 2});
  torch::manual_seed(0);
  const KMeansResult km = KMeans(x, 3, 300, 3, 1e-4);
  const torch::Tensor l = km.labels;
  EXPECT_EQ(l[0].item<int64_t>(), l[1].item<int64_t>());
  EXPECT_EQ(l[0].item<int64_t>(), l[2].item<int64_t>());
  EXPECT_EQ(l[3].item<int64_t>(), l[4].item<int64_t>());
  EXPECT_EQ(l[5].item<int64_t>(), l[6].item<int64_t>());
  EXPECT_NE(l[0].item<int64_t>(), l[3].item<int64_t>());
  EXPECT_NE(l[0].item<int64_t>(), l[5].item<int64_t>());
  EXPECT_NE(l[3].item<int64_t>(), l[5].item<int64_t>());
  EXPECT_NEAR(km.centroids[l[3].item<int64_t>()][0].item<double>(), 10.5, 1e-5);
  EXPECT_NEAR(km.centroids[l[5].item<int64_t>()][1].item<double>(), 11.0, 1e-5);
  // Inertia: group 1: (1/9+1/9) + (4/9+1/9) + (1/9+4/9) = 12/9; group 2: 0.25 + 0.25; group 3: 1 + 1 -> 3.8333.
  EXPECT_NEAR(km.inertia, 12.0 / 9 + 0.5 + 2.0, 1e-5);
  EXPECT_TRUE(torch::equal(NearestCentroid(x, km.centroids), l));
}

// Adam 1e-3 on a fixed batch of 8, localization only (no epoch ends, so no k-means).
TEST(DsolTest, LossFiniteAndDecreasingOnAFixedBatch) {
  auto method = Build(TinyRecipe("init_epochs = 1000\n"), 3);
  ASSERT_NE(method, nullptr);
  auto losses = testkit::TrainLosses(*method, MakeBatch(8), 20, 1e-3);
  ASSERT_TRUE(losses.ok()) << losses.status();
  for (double l : *losses) ASSERT_TRUE(std::isfinite(l));
  // The negatives are redrawn each step, so compare 5-step means (measured 0.738 -> 0.366).
  const double first = testkit::HeadMean(*losses, 5), last = testkit::TailMean(*losses, 5);
  EXPECT_LT(last, 0.7 * first) << first << " -> " << last;
}

void EndEpoch(Method& m) {
  TrainEvent e;
  e.type = TrainEvent::Type::kEpochEnd;
  m.OnTrainEvent(e);
}

// Batches A, B, then the trainer's epoch-end event -> k-means on the 8 banked rows, centroids set, and the next step
// logs the clustering and adds the classification term.
TEST(DsolTest, KMeansRunsAtEpochEndAndAddsTheClassTerm) {
  auto method = Build(TinyRecipe("init_epochs = 1\n"));
  ASSERT_NE(method, nullptr);
  method->train();
  const Batch a = MakeBatch(4, "a", 1), b = MakeBatch(4, "b", 2);
  StepOutput s1 = method->TrainStep(a);
  StepOutput s2 = method->TrainStep(b);
  EXPECT_FALSE(HasLog(s1, "loss_cls") || HasLog(s2, "loss_cls") || HasLog(s2, "kmeans_inertia"));
  EndEpoch(*method);
  StepOutput s3 = method->TrainStep(a);
  EXPECT_EQ(LogValue(s3, "bank_size"), 8.0);
  EXPECT_TRUE(HasLog(s3, "kmeans_inertia"));
  ASSERT_TRUE(HasLog(s3, "loss_cls"));
  // loss = BCE + CE_v + CE_a.
  EXPECT_NEAR(s3.loss.item<double>(), LogValue(s3, "loss_loc") + LogValue(s3, "loss_cls"), 1e-5);
  auto buffers = method->named_buffers();
  EXPECT_EQ(buffers["kmeans_state"][1].item<int64_t>(), 1);  // epochs completed
  EXPECT_EQ(buffers["kmeans_state"][2].item<int64_t>(), 1);  // centroids valid
  // Centroids of L2-normalized features lie inside the unit ball and are not the zero init.
  EXPECT_GT(buffers["kmeans_centroids"].abs().sum().item<double>(), 0);
  // Classifiers were re-initialized N(0, 0.01) with zero bias.
  auto params = method->named_parameters();
  EXPECT_TRUE(torch::equal(params["v_class_layer.bias"], torch::zeros({3})));
  EXPECT_LT(params["v_class_layer.weight"].abs().max().item<double>(), 0.08);
}

void EndEpoch(Method& m, RankGroup* ranks) {
  TrainEvent e;
  e.type = TrainEvent::Type::kEpochEnd;
  e.ranks = ranks;
  m.OnTrainEvent(e);
}

// Two ranks that saw half an epoch each cluster the whole epoch: rank 0's centroids equal those of one process that
// saw both halves (same rows in the same order, same generator), and samples rank 1 saw again (the sampler's
// padding) count once.
TEST(DsolTest, DataParallelRanksClusterTheWholeEpochsBank) {
  const std::string recipe = TinyRecipe("init_epochs = 1\n");
  const Batch a = MakeBatch(4, "a", 1), b = MakeBatch(4, "b", 2), padding = MakeBatch(2, "a", 5);
  auto one = Build(recipe), rank0 = Build(recipe), rank1 = Build(recipe);
  ASSERT_TRUE(one && rank0 && rank1);
  for (auto* m : {&one, &rank0, &rank1}) (*m)->train();
  torch::manual_seed(1);
  one->TrainStep(a);
  torch::manual_seed(2);
  one->TrainStep(b);
  torch::manual_seed(3);
  EndEpoch(*one);
  torch::manual_seed(1);
  rank0->TrainStep(a);
  torch::manual_seed(2);
  rank1->TrainStep(b);
  rank1->TrainStep(padding);  // a0, a1 again, with other features: rank 0's copies count
  testkit::RecordingRankGroup recorder;
  EndEpoch(*rank1, &recorder);
  ASSERT_EQ(recorder.sent.size(), 2u);  // the bank's rows, then its keys
  EXPECT_EQ(recorder.sent[0].size(0), 6);
  testkit::ReplayingRankGroup replay(recorder.sent);
  torch::manual_seed(3);
  EndEpoch(*rank0, &replay);
  EXPECT_EQ(LogValue(rank0->TrainStep(a), "bank_size"), 8.0);
  const torch::Tensor expected = one->named_buffers()["kmeans_centroids"];
  const torch::Tensor got = rank0->named_buffers()["kmeans_centroids"];
  EXPECT_GT(expected.abs().sum().item<double>(), 0);
  EXPECT_TRUE(torch::allclose(got, expected, 1e-6, 1e-6)) << got << "\n" << expected;
}

// The default follows training_stage_one.py with --init_num 1: init_num is incremented before `init_num > 1` is
// tested, so the first k-means comes at the second epoch end.
TEST(DsolTest, DefaultFirstKMeansAfterTwoEpochsAsTheReleasedLoop) {
  auto method = Build(TinyRecipe(""));
  ASSERT_NE(method, nullptr);
  method->train();
  const Batch a = MakeBatch(4, "a", 1), b = MakeBatch(4, "b", 2);
  for (int epoch = 0; epoch < 2; ++epoch) {
    for (const Batch* batch : {&a, &b}) EXPECT_FALSE(HasLog(method->TrainStep(*batch), "kmeans_inertia"));
    EndEpoch(*method);
  }
  EXPECT_TRUE(HasLog(method->TrainStep(a), "kmeans_inertia"));
  EXPECT_EQ(method->named_buffers()["kmeans_state"][1].item<int64_t>(), 2);  // epochs completed
}

// Keys no longer decide anything: a batch without keys trains, and the same keys again do not end an epoch.
TEST(DsolTest, EpochsComeFromTheTrainerNotFromKeys) {
  auto method = Build(TinyRecipe("init_epochs = 1\n"));
  ASSERT_NE(method, nullptr);
  method->train();
  Batch nokeys = MakeBatch(4);
  nokeys.keys.clear();
  const Batch a = MakeBatch(4, "a", 1);
  for (const Batch* batch : std::vector<const Batch*>{&nokeys, &a, &a})
    EXPECT_FALSE(HasLog(method->TrainStep(*batch), "kmeans_inertia"));
  EXPECT_EQ(method->named_buffers()["kmeans_state"][1].item<int64_t>(), 0);
  EndEpoch(*method);
  EXPECT_TRUE(HasLog(method->TrainStep(a), "kmeans_inertia"));
}

TEST(DsolTest, StageTwoIsRefusedClearly) {
  auto m = TryBuild(TinyRecipe("stage = 2\n"));
  ASSERT_FALSE(m.ok());
  const std::string msg(m.status().message());
  EXPECT_NE(msg.find("model.stage' = 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not implemented"), std::string::npos) << msg;
  // An out-of-range option is refused by the schema, naming the key.
  EXPECT_EQ(testkit::ErrorMentions(TryBuild(TinyRecipe("mask_threshold = 1.5\n")), "mask_threshold"), absl::OkStatus());
}

TEST(DsolTest, CheckpointRoundTripKeepsTheObjectDictionary) {
  const std::string recipe = TinyRecipe("");
  auto a = Build(recipe, 1);
  ASSERT_NE(a, nullptr);
  a->train();
  torch::optim::Adam opt(a->parameters(), torch::optim::AdamOptions(1e-3));
  const Batch b1 = MakeBatch(4, "a", 1), b2 = MakeBatch(4, "b", 2);
  for (const Batch* b : {&b1, &b2, &b1}) testkit::OptimizerStep(*a, opt, *b);
  auto c = Build(recipe, 5);
  ASSERT_NE(c, nullptr);
  const std::string path = testkit::TempFilePath(::testing::TempDir(), "dsol_ckpt");
  absl::Status s = testkit::SaveAndLoadWeights(*a, *c, path, "recipe", &opt);
  ASSERT_TRUE(s.ok()) << s;
  const auto want = testkit::Snapshot(*a);
  for (const auto& [k, v] : testkit::Snapshot(*c)) EXPECT_TRUE(torch::equal(v, want.at(k))) << k;
  a->eval();
  c->eval();
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(a->Localize(b1).maps, c->Localize(b1).maps));
}

TEST(DsolRecipesTest, ShippedRecipesValidate) {
  const std::string root = std::string(AVSL_SOURCE_DIR) + "/recipes/dsol/";
  for (const char* name : {"synthetic.toml", "flickr_10k.toml", "vggsound_144k.toml", "vggss_heard110.toml"}) {
    auto recipe = testkit::LoadRecipe(root + name, Host());
    EXPECT_TRUE(recipe.ok()) << name << ": " << recipe.status();
  }
}

}  // namespace
}  // namespace avsl
