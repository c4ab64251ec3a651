// sslalign plugin: the objective against a PyTorch re-derivation on fixed tensors (make_sslalign_parity.py: values
// and gradients; skipped when /usr/bin/python3 lacks torch), hand-checked limits (one view and no neighbours is LVS
// plus one alignment term), the feature bank (neighbours, refresh at the epoch's end, draws), the augmented audio
// view, the network (LVS's layout: an LVS checkpoint localizes the same), learning on a fixed batch with the bank
// filled across epochs, logs, the refusal of global negatives, checkpoint round trip and recipe errors.
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "alignment_loss.h"
#include "audio_view.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/train_event.h"
#include "avsl/models/lvs_loss.h"
#include "avsl/models/objectives.h"
#include "avsl/testing/method_test_kit.h"
#include "avsl/testing/python_fixture.h"
#include "neighbour_bank.h"

namespace avsl {
namespace {

using plugins::sslalign::AlignmentInputs;
using plugins::sslalign::AlignmentLoss;
using plugins::sslalign::AlignmentLossOptions;
using plugins::sslalign::AlignmentLossTerms;
using plugins::sslalign::MaskSpectrogram;
using plugins::sslalign::NeighbourBank;

std::string TinyModel(const std::string& type, const std::string& options = "") {
  return "[model]\ntype = \"" + type + "\"\n" + options +
         "\n[model.image_encoder]\ntype = \"core.ResNet18Image\"\nwidth = 8\nlayer4_stride = 1\ninit = \"reference\"\n"
         "[model.audio_encoder]\ntype = \"core.ResNet18Audio\"\nwidth = 8\nlayer4_stride = 1\n";
}

std::shared_ptr<Method> Build(const std::string& toml, uint64_t seed = 0) {
  auto method = testkit::BuildMethodWithPlugins(AVSL_BINARY_DIR, {"sslalign", "lvs", "datasets"}, toml, seed);
  EXPECT_TRUE(method.ok()) << method.status();
  return method.ok() ? *method : nullptr;
}
absl::Status BuildError(const std::string& toml) {
  return testkit::BuildMethodWithPlugins(AVSL_BINARY_DIR, {"sslalign", "lvs", "datasets"}, toml).status();
}

double MaxDiff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

torch::Tensor Unit(torch::Tensor t) {
  return torch::nn::functional::normalize(t, torch::nn::functional::NormalizeFuncOptions().dim(1));
}

// Keys clip<first + i> and classes (first + i) % 3.
Batch Keyed(Batch b, int first = 0) {
  for (int64_t i = 0; i < b.image.size(0); ++i) b.keys.push_back("clip" + std::to_string(first + i));
  b.class_id = (torch::arange(b.image.size(0), torch::kLong) + first).remainder(3);
  return b;
}

void EndEpoch(Method& m, long long epoch) {
  TrainEvent e;
  e.type = TrainEvent::Type::kEpochEnd;
  e.epoch = epoch;
  m.OnTrainEvent(e);
}

TEST(SslAlignLossTest, ParityWithPyTorchReDerivation) {
  absl::StatusOr<testkit::PythonFixture> ref = testkit::RunPythonFixture(
      std::string(AVSL_SOURCE_DIR) + "/plugins/sslalign/make_sslalign_parity.py", "sslalign_parity.pt");
  ASSERT_TRUE(ref.ok()) << ref.status();
  if (!ref->skip_reason.empty()) GTEST_SKIP() << ref->skip_reason;
  auto get = [&](const std::string& key) { return ref->Get(key); };
  std::map<std::string, torch::Tensor> x;
  for (const char* k : {"map0", "map1", "g0", "g1", "a0", "a1"}) {
    x[k] = get(std::string("in.") + k).clone().requires_grad_(true);
  }
  AlignmentInputs in;
  in.image_maps = {x["map0"], x["map1"]};
  in.images = {x["g0"], x["g1"]};
  in.audios = {x["a0"], x["a1"]};
  in.neighbour_image = get("in.nn_image");
  in.neighbour_audio = get("in.nn_audio");
  AlignmentLossOptions o;
  o.alignment_weight = get("opt.weight").item<double>();
  o.alignment_temperature = get("opt.tau_a").item<double>();
  const AlignmentLossTerms t = AlignmentLoss(in, o);
  EXPECT_EQ(t.localization_pairs, 5);
  EXPECT_EQ(t.alignment_pairs, 6);
  t.total.backward();
  std::vector<std::pair<std::string, torch::Tensor>> checks = {
      {"out.total", t.total}, {"out.localization", t.localization}, {"out.alignment", t.alignment}};
  for (const auto& [k, v] : x) checks.emplace_back("out.grad_" + k, v.grad());
  for (const auto& [key, ours] : checks) {
    const torch::Tensor want = get(key);
    ASSERT_EQ(ours.sizes(), want.sizes()) << key;
    const double diff = MaxDiff(ours.detach(), want);
    std::printf("sslalign parity %-16s max|diff| %.3g\n", key.c_str(), diff);
    EXPECT_LT(diff, 1e-10) << key;
  }
}

TEST(SslAlignLossTest, OneViewIsLvsPlusOneAlignmentTerm) {
  torch::manual_seed(2);
  const torch::Tensor v = Unit(torch::rand({5, 6, 3, 3}, torch::kDouble));
  const torch::Tensor g = Unit(torch::rand({5, 6}, torch::kDouble));
  const torch::Tensor a = Unit(torch::rand({5, 6}, torch::kDouble));
  AlignmentInputs in;
  in.image_maps = {v};
  in.images = {g};
  in.audios = {a};
  AlignmentLossOptions o;
  o.alignment_weight = 2;
  const AlignmentLossTerms t = AlignmentLoss(in, o);
  const double lvs = models::LvsLoss(models::AllPairSimilarity(v, a, 1.0), o.lvs).loss.item<double>();
  const double nce = 0.5 * models::SymmetricInfoNce(g.matmul(a.t()) / 0.07).item<double>();
  EXPECT_NEAR(t.localization.item<double>(), lvs, 1e-12);
  EXPECT_NEAR(t.alignment.item<double>(), nce, 1e-12);
  EXPECT_NEAR(t.total.item<double>(), lvs + 2 * nce, 1e-12);
  // Aligned pairs (g_i = a_i, orthogonal across i) at tau 0.07: the InfoNCE is almost 0.
  const torch::Tensor eye = torch::eye(5, torch::kDouble);
  in.images = {eye};
  in.audios = {eye};
  in.image_maps = {eye.view({5, 5, 1, 1})};
  EXPECT_LT(AlignmentLoss(in, o).alignment.item<double>(), 1e-5);
  // Neighbour positives add one localization and two alignment pairs.
  in.neighbour_image = eye;
  in.neighbour_audio = eye;
  const AlignmentLossTerms nn = AlignmentLoss(in, o);
  EXPECT_EQ(nn.localization_pairs, 2);
  EXPECT_EQ(nn.alignment_pairs, 3);
}

// Data-parallel: two ranks that recorded half an epoch each hold the whole epoch's bank after the refresh, rank 0's
// rows first, one row per key (rank 1 saw "a" again, the sampler's padding: rank 0's copy is kept), with classes.
TEST(SslAlignBankTest, DataParallelRanksGatherTheWholeEpochsBank) {
  const torch::Tensor img = Unit(torch::tensor({{1.0, 0.1, 0.0}, {1.0, 0.0, 0.1}, {0.0, 1.0, 0.1}, {0.1, 1.0, 0.0}}));
  const torch::Tensor aud = Unit(torch::tensor({{0.0, 0.2, 1.0}, {0.1, 0.1, 1.0}, {1.0, 0.0, 0.1}, {1.0, 0.1, 0.0}}));
  NeighbourBank rank0, rank1;
  rank0.Record({"a", "b"}, img.slice(0, 0, 2), aud.slice(0, 0, 2), torch::tensor({7, 8}, torch::kLong));
  rank1.Record({"c", "d", "a"}, torch::cat({img.slice(0, 2, 4), img[3].unsqueeze(0)}),
               torch::cat({aud.slice(0, 2, 4), aud[3].unsqueeze(0)}));
  testkit::RecordingRankGroup recorder;
  rank1.Refresh(&recorder);
  ASSERT_EQ(recorder.sent.size(), 4u);  // image rows, audio rows, classes, key hashes
  testkit::ReplayingRankGroup replay(recorder.sent);
  rank0.Refresh(&replay);
  EXPECT_EQ(rank0.size(), 4);
  for (const auto& [key, row] : std::vector<std::pair<std::string, int64_t>>{{"a", 0}, {"b", 1}, {"c", 2}, {"d", 3}})
    EXPECT_EQ(rank0.Row(key), row) << key;
  // "a" keeps rank 0's row: "b" is its only neighbour of k = 1, and "c" (rank 1's) is drawn for a query like c.
  NeighbourBank::Draw d;
  const torch::Tensor qi = torch::stack({img[0], img[2]}), qa = torch::stack({aud[0], aud[2]});
  ASSERT_TRUE(rank0.DrawNeighbours({"a", "x"}, qi, qa, 1, &d));
  EXPECT_TRUE(torch::allclose(d.image, torch::stack({img[1], img[2]})));
  EXPECT_TRUE(torch::equal(d.classes, torch::tensor({8, -1}, torch::kLong)));
}

TEST(SslAlignBankTest, RetrievesByTheCurrentEmbeddingAndSkipsTheOwnKey) {
  NeighbourBank bank;
  // Four entries: a and b alike, c and d alike (in both modalities).
  const torch::Tensor img = Unit(torch::tensor({{1.0, 0.1, 0.0}, {1.0, 0.0, 0.1}, {0.0, 1.0, 0.1}, {0.1, 1.0, 0.0}}));
  const torch::Tensor aud = Unit(torch::tensor({{0.0, 0.2, 1.0}, {0.1, 0.1, 1.0}, {1.0, 0.0, 0.1}, {1.0, 0.1, 0.0}}));
  bank.Record({"a", "b"}, img.slice(0, 0, 2), aud.slice(0, 0, 2), torch::tensor({7, 7}, torch::kLong));
  bank.Record({"c", "d"}, img.slice(0, 2, 4), aud.slice(0, 2, 4));  // classes unknown
  NeighbourBank::Draw d;
  EXPECT_FALSE(bank.DrawNeighbours({"a"}, img.slice(0, 0, 1), aud.slice(0, 0, 1), 1, &d));  // nothing before the end
  bank.Refresh();
  EXPECT_EQ(bank.size(), 4);
  EXPECT_EQ(bank.recorded(), 0);
  EXPECT_EQ(bank.Row("c"), 2);
  // The query is the current embedding. "a" (its own entry excluded) finds b; a new key "x" that looks like c finds
  // c itself; "d" whose content now looks like a finds a: retrieval follows the content, not last epoch's key.
  const torch::Tensor qi = torch::stack({img[0], img[2], img[0]}), qa = torch::stack({aud[0], aud[2], aud[0]});
  ASSERT_TRUE(bank.DrawNeighbours({"a", "x", "d"}, qi, qa, 1, &d));
  EXPECT_TRUE(torch::allclose(d.image, torch::stack({img[1], img[2], img[0]})));
  EXPECT_TRUE(torch::allclose(d.audio, torch::stack({aud[1], aud[2], aud[0]})));
  EXPECT_TRUE(torch::equal(d.classes, torch::tensor({7, -1, 7}, torch::kLong)));
  // k larger than the bank is clamped; the own entry is never drawn.
  for (int trial = 0; trial < 20; ++trial) {
    ASSERT_TRUE(bank.DrawNeighbours({"a"}, img.slice(0, 0, 1), aud.slice(0, 0, 1), 10, &d));
    EXPECT_FALSE(torch::allclose(d.image[0], img[0])) << trial;
  }
  // A bank of one entry has nothing to offer its own key; an epoch with no records empties the bank.
  bank.Record({"a"}, img.slice(0, 0, 1), aud.slice(0, 0, 1));
  bank.Refresh();
  EXPECT_FALSE(bank.DrawNeighbours({"a"}, img.slice(0, 0, 1), aud.slice(0, 0, 1), 10, &d));
  EXPECT_TRUE(bank.DrawNeighbours({"z"}, img.slice(0, 0, 1), aud.slice(0, 0, 1), 10, &d));
  bank.Refresh();
  EXPECT_EQ(bank.size(), 0);
  EXPECT_FALSE(bank.DrawNeighbours({"z"}, img.slice(0, 0, 1), aud.slice(0, 0, 1), 10, &d));
}

TEST(SslAlignAudioViewTest, MasksOneSpanPerAxisAtTheFloor) {
  torch::manual_seed(3);
  const torch::Tensor spec = torch::rand({4, 1, 20, 30}) + 1.0;
  const torch::Tensor masked = MaskSpectrogram(spec, 0.5, 0.5);
  ASSERT_EQ(masked.sizes(), spec.sizes());
  const torch::Tensor changed = masked != spec;
  for (int64_t i = 0; i < 4; ++i) {
    // Every changed cell holds the sample's minimum.
    const torch::Tensor values = masked[i].masked_select(changed[i]);
    if (values.numel() > 0) {
      EXPECT_TRUE((values == spec[i].min()).all().item<bool>()) << i;
    }
  }
  EXPECT_GT(changed.sum().item<int64_t>(), 0);
  EXPECT_TRUE(torch::equal(MaskSpectrogram(spec, 0, 0), spec));
}

TEST(SslAlignMethodTest, LvsNetworkAndMap) {
  auto align = Build(TinyModel("sslalign.SSLAlign"));
  auto lvs = Build(TinyModel("lvs.LVS"));
  ASSERT_NE(align, nullptr);
  ASSERT_NE(lvs, nullptr);
  const auto s = testkit::Snapshot(*align), l = testkit::Snapshot(*lvs);
  ASSERT_EQ(s.size(), l.size());
  for (const auto& [name, tensor] : l) {
    ASSERT_EQ(s.count(name), 1u) << name;
    EXPECT_TRUE(torch::equal(s.at(name), tensor)) << name;
  }
  align->eval();
  lvs->eval();
  torch::NoGradGuard no_grad;
  const Batch batch = testkit::RandomBatch(3);
  EXPECT_TRUE(torch::equal(align->Localize(batch).maps, lvs->Localize(batch).maps));
}

TEST(SslAlignMethodTest, LearnsWithTheBankFilledAcrossEpochs) {
  auto method = Build(TinyModel("sslalign.SSLAlign", "neighbours = 2\n"), 3);
  ASSERT_NE(method, nullptr);
  const Batch a = Keyed(testkit::RandomBatch(6, {}, 1), 0), b = Keyed(testkit::RandomBatch(6, {}, 2), 6);
  torch::optim::Adam opt(method->parameters(), torch::optim::AdamOptions(1e-3));
  method->train();
  std::vector<double> losses;
  StepOutput last;
  for (int epoch = 0; epoch < 8; ++epoch) {
    for (const Batch* batch : {&a, &b}) {
      last = testkit::OptimizerStep(*method, opt, *batch);
      losses.push_back(last.loss.item<double>());
      // The first epoch has no bank yet; from the second, every sample of the batch has a neighbour.
      EXPECT_EQ(testkit::LogValue(last, "neighbour_rows"), epoch == 0 ? 0.0 : 6.0) << "epoch " << epoch;
      if (epoch > 0) {
        const double same = testkit::LogValue(last, "neighbour_same_class");
        EXPECT_TRUE(same >= 0 && same <= 1) << same;
      }
    }
    EndEpoch(*method, epoch + 1);
  }
  EXPECT_EQ(testkit::LogValue(last, "bank_size"), 12.0);
  for (double l : losses) ASSERT_TRUE(std::isfinite(l));
  EXPECT_LT(testkit::TailMean(losses, 4), 0.8 * testkit::HeadMean(losses, 4));
  for (const char* name : {"loss_localization", "loss_alignment", "positive_cos"}) {
    EXPECT_TRUE(std::isfinite(testkit::LogValue(last, name))) << name;
  }
  for (const auto& p : method->named_parameters()) ASSERT_TRUE(p.value().grad().defined()) << p.key();
}

TEST(SslAlignMethodTest, NoGlobalNegativesAndCheckpointRoundTrip) {
  auto a = Build(TinyModel("sslalign.SSLAlign"), 1);
  auto b = Build(TinyModel("sslalign.SSLAlign"), 2);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  a->train();
  // The neighbour and augmentation pairs are per process; nothing is gathered, so the trainer refuses
  // train.global_negatives for this method rather than ignore it.
  EXPECT_EQ(testkit::CheckGlobalNegatives(*a, testkit::RandomBatch(4)).gathers, 0);
  const std::string path = testkit::TempFilePath(::testing::TempDir(), "sslalign_roundtrip");
  absl::Status s = testkit::CheckWeightsRoundTrip(*a, *b, testkit::RandomBatch(2), path,
                                                  TinyModel("sslalign.SSLAlign"));
  EXPECT_TRUE(s.ok()) << s;
}

TEST(SslAlignMethodTest, RecipeErrorsNameTheKey) {
  EXPECT_TRUE(
      testkit::ErrorMentions(BuildError(TinyModel("sslalign.SSLAlign", "neighbours = 0\n")), "neighbours").ok());
  EXPECT_TRUE(
      testkit::ErrorMentions(BuildError(TinyModel("sslalign.SSLAlign", "blur_sigma_min = 3.0\nblur_sigma_max = 1.0\n")),
                             "model.blur_sigma_min")
          .ok());
  EXPECT_TRUE(
      testkit::ErrorMentions(BuildError(TinyModel("sslalign.SSLAlign", "time_mask = 1.5\n")), "time_mask").ok());
}

}  // namespace
}  // namespace avsl
