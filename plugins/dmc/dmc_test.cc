// dmc plugin: soft k-means, centre distances, contrastive loss, map selection and the assignment-logit map on
// hand-computed tensors and against a plain-double re-implementation (including a saturated float32 case);
// shapes, unbounded range, default confidence, registered submodules, the step's loss re-derived from the
// model's own distances, learning on a fixed batch, checkpoint round trip and option errors.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "avsl/core/component_kind.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/core/schema.h"
#include "avsl/testing/method_test_kit.h"
#include "dmc_cluster.h"

namespace avsl {
namespace {

using plugins::dmc::AssignmentLogit;
using plugins::dmc::CentreDistances;
using plugins::dmc::ContrastiveLoss;
using plugins::dmc::SoftKMeans;
using plugins::dmc::SoundingCluster;

// The readout before the logit map: the assignment row c[k*] of SoundingCluster(distances, rank), [B,Kv,N] and
// [B,Kv,Ka] -> [B,N]. The tests compare the logit map with it (same ranking; the row saturates in float32).
torch::Tensor SoundingAssignment(const torch::Tensor& assignment, const torch::Tensor& distances, int64_t rank = 0) {
  const torch::Tensor nearest = SoundingCluster(distances, rank);  // [B]
  const int64_t n = assignment.size(2);
  return assignment.gather(1, nearest.view({-1, 1, 1}).expand({-1, 1, n})).squeeze(1);
}

// Width-8 encoders, layer4 at stride 1 in both: a 32x32 image gives a 2x2 map (32 -> 16 -> 8 -> 8 -> 4 -> 2 -> 2)
// and a 64x32 spectrogram a 4x2 map (64 -> 32 -> 16 -> 16 -> 8 -> 4 -> 4; 32 -> 16 -> 8 -> 8 -> 4 -> 2 -> 2).
const char* kTinyModel = R"(
[model]
type = "dmc.DMC"
dim = 16
[model.image_encoder]
type = "core.ResNet18Image"
width = 8
layer4_stride = 1
[model.audio_encoder]
type = "core.ResNet18Audio"
width = 8
layer4_stride = 1
pool = "none"
)";

std::string TinyWith(const std::string& model_keys) {
  std::string s = kTinyModel;
  const std::string anchor = "dim = 16\n";
  s.insert(s.find(anchor) + anchor.size(), model_keys);
  return s;
}

// Cluster_layer in plain doubles, loop by loop: u [N][D] of one sample. `distances` [K][N] are the last
// iteration's (those whose softmax is `assignment`).
struct RefClusters {
  std::vector<std::vector<double>> centres, assignment, distances;
};
RefClusters ReferenceSoftKMeans(const std::vector<std::vector<double>>& u, int k, int iters, double beta) {
  const int n = static_cast<int>(u.size()), d = static_cast<int>(u[0].size());
  RefClusters r;
  for (int i = 0; i < k; ++i) r.centres.push_back(u[static_cast<size_t>(i * (n / k))]);
  for (int it = 0; it < iters; ++it) {
    std::vector<std::vector<double>> dist(k, std::vector<double>(n));
    for (int i = 0; i < k; ++i) {
      for (int j = 0; j < n; ++j) {
        double s = 0;
        for (int c = 0; c < d; ++c) s += (r.centres[i][c] - u[j][c]) * (r.centres[i][c] - u[j][c]);
        dist[i][j] = std::sqrt(std::max(s, 1e-10));
      }
    }
    r.distances = dist;
    r.assignment.assign(k, std::vector<double>(n));
    for (int j = 0; j < n; ++j) {
      double z = 0;
      for (int i = 0; i < k; ++i) z += std::exp(-beta * dist[i][j]);
      for (int i = 0; i < k; ++i) r.assignment[i][j] = std::exp(-beta * dist[i][j]) / z;
    }
    for (int i = 0; i < k; ++i) {
      double w = 0;
      std::vector<double> o(d, 0.0);
      for (int j = 0; j < n; ++j) {
        w += r.assignment[i][j];
        for (int c = 0; c < d; ++c) o[c] += r.assignment[i][j] * u[j][c];
      }
      for (int c = 0; c < d; ++c) o[c] /= w;
      r.centres[i] = o;
    }
  }
  return r;
}

TEST(DmcClusterTest, SoftKMeansOneIterationByHand) {
  // u = 0, 1, 4, 6 (1-d), K = 2, beta = 1, one iteration. Start: interval = 4/2 = 2 -> o = (u0, u2) = (0, 4).
  // Distances (an exact 0 becomes sqrt(1e-10) = 1e-5): to 0: (1e-5, 1, 4, 6); to 4: (4, 3, 1e-5, 2).
  // c[0,n] = 1 / (1 + exp(d0 - d1)): (1/(1+e^(1e-5-4)), 1/(1+e^-2), 1/(1+e^(4-1e-5)), 1/(1+e^4))
  //        = (0.982014, 0.880797, 0.017986, 0.017986); c[1,n] = 1 - c[0,n].
  // o0 = sum c0 u / sum c0 = (0.880797 + 4*0.017986 + 6*0.017986) / 1.898783 = 1.060659 / 1.898783 = 0.558600.
  torch::Tensor u = torch::tensor({0.0, 1.0, 4.0, 6.0}, torch::kDouble).view({1, 4, 1});
  auto r = SoftKMeans(u, 2, 1, 1.0);
  const double e = 1e-5;
  const double c0[4] = {1 / (1 + std::exp(e - 4)), 1 / (1 + std::exp(-2.0)), 1 / (1 + std::exp(4 - e)),
                        1 / (1 + std::exp(4.0))};
  const double x[4] = {0, 1, 4, 6};
  double num0 = 0, den0 = 0, num1 = 0, den1 = 0;
  for (int j = 0; j < 4; ++j) {
    num0 += c0[j] * x[j];
    den0 += c0[j];
    num1 += (1 - c0[j]) * x[j];
    den1 += 1 - c0[j];
    EXPECT_NEAR(r.assignment[0][0][j].item<double>(), c0[j], 1e-12) << j;
    EXPECT_NEAR(r.assignment[0][1][j].item<double>(), 1 - c0[j], 1e-12) << j;
  }
  EXPECT_NEAR(num0 / den0, 0.558600, 1e-6);
  EXPECT_NEAR(r.centres[0][0][0].item<double>(), num0 / den0, 1e-12);
  EXPECT_NEAR(r.centres[0][1][0].item<double>(), num1 / den1, 1e-12);
  // K = 1 with a single iteration of any beta: the centre is the plain mean (11/4), every assignment is 1.
  auto one = SoftKMeans(u, 1, 4, 30.0);
  EXPECT_NEAR(one.centres[0][0][0].item<double>(), 2.75, 1e-12);
  EXPECT_TRUE(torch::allclose(one.assignment, torch::ones({1, 1, 4}, torch::kDouble)));
}

TEST(DmcClusterTest, SoftKMeansMatchesALoopImplementation) {
  // N = 7 positions, K = 3 (start indices 0, 2, 4: interval floor(7/3) = 2), 4 iterations, beta = 0.7.
  torch::manual_seed(4);
  torch::Tensor u = torch::randn({2, 7, 3}, torch::kDouble);
  auto r = SoftKMeans(u, 3, 4, 0.7);
  for (int b = 0; b < 2; ++b) {
    std::vector<std::vector<double>> ub(7, std::vector<double>(3));
    for (int j = 0; j < 7; ++j)
      for (int c = 0; c < 3; ++c) ub[j][c] = u[b][j][c].item<double>();
    RefClusters ref = ReferenceSoftKMeans(ub, 3, 4, 0.7);
    for (int i = 0; i < 3; ++i) {
      for (int c = 0; c < 3; ++c) EXPECT_NEAR(r.centres[b][i][c].item<double>(), ref.centres[i][c], 1e-10);
      for (int j = 0; j < 7; ++j) {
        EXPECT_NEAR(r.assignment[b][i][j].item<double>(), ref.assignment[i][j], 1e-10);
        EXPECT_NEAR(r.point_distances[b][i][j].item<double>(), ref.distances[i][j], 1e-10);
      }
    }
  }
  // The returned distances are the ones whose softmax is the assignment, bit for bit (same ops as the loop).
  EXPECT_TRUE(torch::equal(torch::softmax(-0.7 * r.point_distances, 1), r.assignment));
}

TEST(DmcClusterTest, DistancesLossAndMapSelectionByHand) {
  // Centres (0,0) and (3,4) against the audio centre (0,0): distances (sqrt(1e-10) = 1e-5, 5).
  torch::Tensor ov = torch::tensor({0.0, 0.0, 3.0, 4.0}, torch::kDouble).view({1, 2, 2});
  torch::Tensor oa = torch::tensor({0.0, 0.0}, torch::kDouble).view({1, 1, 2});
  torch::Tensor d = CentreDistances(ov, oa);
  ASSERT_EQ(d.sizes(), (std::vector<int64_t>{1, 2, 1}));
  EXPECT_NEAR(d[0][0][0].item<double>(), 1e-5, 1e-12);
  EXPECT_NEAR(d[0][1][0].item<double>(), 5.0, 1e-12);
  // Margin 5: positive d2 = 4 -> 2; negatives d = 3 -> 0.5*(5-3)^2 = 2, d = 1 -> 0.5*16 = 8, d = 6 -> 0.
  // Mean over 4: 12 / 4 = 3.
  torch::Tensor d2 = torch::tensor({4.0, 9.0, 1.0, 36.0}, torch::kDouble);
  torch::Tensor y = torch::tensor({1.0, 0.0, 0.0, 0.0}, torch::kDouble);
  EXPECT_NEAR(ContrastiveLoss(d2, y, 5.0).item<double>(), 3.0, 1e-8);
  // Map selection: sample 0 has distances (3, 1) -> row 1; sample 1 (0.5, 2) -> row 0 (argmin, the default).
  // With two audio centres the nearest over both counts: sample 2 has rows (4, 0.2) and (1, 1) -> row 0.
  torch::Tensor assignment = torch::tensor({0.1, 0.9, 0.9, 0.1}, torch::kDouble).view({1, 2, 2}).repeat({3, 1, 1});
  torch::Tensor dist = torch::tensor({3.0, 1.0, 0.5, 2.0}, torch::kDouble).view({2, 2, 1});
  EXPECT_TRUE(torch::equal(SoundingCluster(dist), torch::tensor({1, 0}, torch::kLong)));
  EXPECT_TRUE(torch::equal(SoundingCluster(dist, 1), torch::tensor({0, 1}, torch::kLong)));
  torch::Tensor map = SoundingAssignment(assignment.slice(0, 0, 2), dist);
  EXPECT_TRUE(torch::allclose(map, torch::tensor({0.9, 0.1, 0.1, 0.9}, torch::kDouble).view({2, 2})));
  // sounding_cluster = "second_nearest" (rank 1) takes the other row: (0.1, 0.9) and (0.9, 0.1).
  EXPECT_TRUE(torch::allclose(SoundingAssignment(assignment.slice(0, 0, 2), dist, 1),
                              torch::tensor({0.1, 0.9, 0.9, 0.1}, torch::kDouble).view({2, 2})));
  torch::Tensor dist2 = torch::tensor({4.0, 0.2, 1.0, 1.0}, torch::kDouble).view({1, 2, 2});
  EXPECT_TRUE(torch::allclose(SoundingAssignment(assignment.slice(0, 0, 1), dist2),
                              torch::tensor({0.1, 0.9}, torch::kDouble).view({1, 2})));
}

TEST(DmcClusterTest, AssignmentLogitByHand) {
  // K = 2, beta = 30: rows d0 = (1, 2, 0.5) and d1 = (1.5, 0.25, 3). k* = 0: beta (d1 - d0) = (15, -52.5, 75);
  // k* = 1: beta (d0 - d1), the negation.
  torch::Tensor d2 = torch::tensor({1.0, 2.0, 0.5, 1.5, 0.25, 3.0}, torch::kDouble).view({1, 2, 3}).repeat({2, 1, 1});
  torch::Tensor k2 = torch::tensor({0, 1}, torch::kLong);
  torch::Tensor m2 = AssignmentLogit(d2, k2, 30.0);
  ASSERT_EQ(m2.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_TRUE(torch::allclose(m2, torch::tensor({15.0, -52.5, 75.0, -15.0, 52.5, -75.0}, torch::kDouble).view({2, 3}),
                              0.0, 1e-12))
      << m2;
  // The same k* through SoundingCluster: centre distances (0.5, 2) -> 0, (3, 1) -> 1.
  torch::Tensor centre_d = torch::tensor({0.5, 2.0, 3.0, 1.0}, torch::kDouble).view({2, 2, 1});
  EXPECT_TRUE(torch::equal(SoundingCluster(centre_d), k2));
  // K = 3, beta = 2: rows d0 = (1, 2), d1 = (2, 1), d2 = (3, 0.5); map_n = -2 d[k*,n] - log sum_{k != k*}
  // exp(-2 d[k,n]). k* = 0: (-2 - log(e^-4 + e^-6), -4 - log(e^-2 + e^-1)) = (1.873072, -3.313262);
  // k* = 2: (-6 - log(e^-2 + e^-4), -1 - log(e^-4 + e^-2)) = (-4.126928, 0.873072).
  const double d[3][2] = {{1, 2}, {2, 1}, {3, 0.5}};
  torch::Tensor d3 = torch::tensor({1.0, 2.0, 2.0, 1.0, 3.0, 0.5}, torch::kDouble).view({1, 3, 2}).repeat({2, 1, 1});
  torch::Tensor k3 = torch::tensor({0, 2}, torch::kLong);
  torch::Tensor m3 = AssignmentLogit(d3, k3, 2.0);
  const double literal[2][2] = {{1.8730719889570278, -3.313261687518223}, {-4.126928011042972, 0.8730719889570275}};
  for (int b = 0; b < 2; ++b) {
    const int ks = b == 0 ? 0 : 2;
    for (int n = 0; n < 2; ++n) {
      double others = 0, all = 0;
      for (int k = 0; k < 3; ++k) {
        all += std::exp(-2 * d[k][n]);
        if (k != ks) others += std::exp(-2 * d[k][n]);
      }
      const double expected = -2 * d[ks][n] - std::log(others);
      EXPECT_NEAR(expected, literal[b][n], 1e-12);
      EXPECT_NEAR(m3[b][n].item<double>(), expected, 1e-12) << "b " << b << " n " << n;
      // The logit of the assignment: sigmoid(map) = c[k*,n] = softmax_k(-2 d)[k*].
      EXPECT_NEAR(1 / (1 + std::exp(-m3[b][n].item<double>())), std::exp(-2 * d[ks][n]) / all, 1e-12);
    }
  }
  // One cluster: c = 1 everywhere, the map is constant 0.
  EXPECT_TRUE(torch::equal(AssignmentLogit(d3.slice(1, 0, 1), torch::tensor({0, 0}, torch::kLong), 2.0),
                           torch::zeros({2, 2}, torch::kDouble)));
}

TEST(DmcClusterTest, LogitRanksAsTheAssignmentRowWhereNothingSaturates) {
  // Doubles, beta = 0.7: nothing saturates, so sigmoid(logit) = c[k*] and the two rank the positions alike,
  // for every readout rank.
  torch::manual_seed(4);
  torch::Tensor u = torch::randn({2, 7, 3}, torch::kDouble);
  torch::Tensor oa = torch::randn({2, 1, 3}, torch::kDouble);
  auto r = SoftKMeans(u, 3, 4, 0.7);
  const torch::Tensor cd = CentreDistances(r.centres, oa);
  for (int64_t rank = 0; rank < 3; ++rank) {
    const torch::Tensor row = SoundingAssignment(r.assignment, cd, rank);
    const torch::Tensor logit = AssignmentLogit(r.point_distances, SoundingCluster(cd, rank), 0.7);
    EXPECT_TRUE(torch::allclose(torch::sigmoid(logit), row, 1e-10, 1e-12)) << "rank " << rank;
    EXPECT_TRUE(torch::equal(std::get<1>(logit.sort(1)), std::get<1>(row.sort(1)))) << "rank " << rank;
  }
}

TEST(DmcClusterTest, LogitMapHasAUniqueMaximumWhereTheFloatRowIsAPlateau) {
  // float32, as training and evaluation run. An 8x8 map (N = 64), D = 8, K_v = 2, beta = 30, 4 iterations:
  // cells 0-23 (rows 0-2, the "object") scatter around 4 e_0, cells 24-63 (the "background") around 4 e_1, with
  // N(0, 0.3^2) noise per coordinate. The centres start at cells 0 and 32, one in each group. A cell lies about
  // 0.85 from its own centre and 5.7 from the other, so beta (d_other - d_own) is far above ln 2^24 ~ 16.6 and
  // the float32 softmax row is exactly 1.0 on a whole group. The audio centre is 4 e_0: k* is the object's.
  torch::manual_seed(11);
  torch::Tensor mu = torch::zeros({64, 8});
  mu.slice(0, 0, 24).select(1, 0).fill_(4.0);
  mu.slice(0, 24, 64).select(1, 1).fill_(4.0);
  const torch::Tensor u = (mu + 0.3 * torch::randn({64, 8})).unsqueeze(0);  // [1,64,8] float
  torch::Tensor oa = torch::zeros({1, 1, 8});
  oa.select(2, 0).fill_(4.0);
  const double beta = 30.0;
  auto r = SoftKMeans(u, 2, 4, beta);
  ASSERT_EQ(r.point_distances.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(torch::softmax(-beta * r.point_distances, 1), r.assignment));
  const torch::Tensor cd = CentreDistances(r.centres, oa);
  const torch::Tensor k_star = SoundingCluster(cd);

  // The old readout, the assignment row of k*: a plateau of exact 1.0 (ties at its maximum).
  const torch::Tensor row = SoundingAssignment(r.assignment, cd)[0];  // [64]
  EXPECT_EQ(row.max().item<float>(), 1.0f);
  const int64_t plateau = row.eq(1.0).sum().item<int64_t>();
  EXPECT_GE(plateau, 2) << "the float32 row should saturate here";

  // The new map: one maximum.
  const torch::Tensor map = AssignmentLogit(r.point_distances, k_star, beta)[0];  // [64]
  ASSERT_EQ(map.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::isfinite(map).all().item<bool>());
  EXPECT_EQ(map.eq(map.max()).sum().item<int64_t>(), 1) << map;
  const int64_t top = map.argmax().item<int64_t>();
  EXPECT_EQ(row[top].item<float>(), 1.0f) << "the logit's peak lies on the row's plateau";

  // The unsaturated computation in doubles: the loop soft k-means on the same (float) inputs and the logit
  // -beta d[k*] - log sum_{k != k*} exp(-beta d[k]) (exp(-beta d) is far from underflow in double).
  std::vector<std::vector<double>> ub(64, std::vector<double>(8));
  for (int j = 0; j < 64; ++j)
    for (int c = 0; c < 8; ++c) ub[j][c] = u[0][j][c].item<double>();
  const RefClusters ref = ReferenceSoftKMeans(ub, 2, 4, beta);
  int ref_k = 0;
  double best = 1e300;
  for (int k = 0; k < 2; ++k) {
    double s = 0;
    for (int c = 0; c < 8; ++c) s += std::pow(ref.centres[k][c] - (c == 0 ? 4.0 : 0.0), 2);
    if (s < best) {
      best = s;
      ref_k = k;
    }
  }
  ASSERT_EQ(k_star[0].item<int64_t>(), ref_k);
  std::vector<double> ref_logit(64);
  int ref_top = 0;
  for (int n = 0; n < 64; ++n) {
    double others = 0;
    for (int k = 0; k < 2; ++k)
      if (k != ref_k) others += std::exp(-beta * ref.distances[k][n]);
    ref_logit[n] = -beta * ref.distances[ref_k][n] - std::log(others);
    if (ref_logit[n] > ref_logit[ref_top]) ref_top = n;
  }
  EXPECT_EQ(top, ref_top);
  EXPECT_GT(ref_logit[ref_top], 16.7) << "the double logit must be in the range where float32 saturates";
  for (int i = 0; i < 64; ++i) {
    const double mi = map[i].item<double>();
    EXPECT_NEAR(mi, ref_logit[i], 1e-2 + 1e-4 * std::abs(ref_logit[i])) << i;
    for (int j = 0; j < 64; ++j) {
      // Same ranking wherever the double logits differ by more than float32 noise.
      if (ref_logit[i] > ref_logit[j] + 1e-2) {
        EXPECT_GT(mi, map[j].item<double>()) << i << " vs " << j;
      }
    }
  }
}

class DmcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = testkit::LoadPlugins(host_, AVSL_BINARY_DIR, {"dmc"});
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
  // 64x32 spectrograms: a 4x2 audio map.
  static Batch MakeBatch(int64_t n) { return testkit::RandomBatch(n, {32, 32, 64, 32}); }
  PluginHost host_;
};

TEST_F(DmcTest, ShapesRangeAndRegisteredSubmodules) {
  auto method = Build(kTinyModel);
  ASSERT_NE(method, nullptr);
  // Parameters, by hand. A [2,2,2,2] ResNet of width w with a c-channel stem has 2724w^2 + 150w + 49cw
  // (conv1 49cw, bn1 2w, layers 36w^2+8w, 128w^2+20w, 512w^2+40w, 2048w^2+80w). For w = 8: image (c = 3)
  // 176,712; audio (c = 1) 175,928. fc_v_1 and fc_a_1: 64*16 + 16 = 1,040 each. Total 354,720.
  EXPECT_EQ(testkit::CountParameters(*method), 354720);
  EXPECT_EQ(testkit::ChildNames(*method), (std::vector<std::string>{"visual_net", "audio_net", "fc_v_1", "fc_a_1"}));

  method->eval();
  torch::NoGradGuard no_grad;
  const Batch batch = MakeBatch(3);
  Localization loc = method->Localize(batch);
  ASSERT_EQ(loc.maps.sizes(), (std::vector<int64_t>{3, 2, 2}));
  // The map is an assignment logit: unbounded, no declared range (the evaluator min-max normalizes each map),
  // finite, and one maximum per map.
  EXPECT_TRUE(std::isnan(loc.range_min));
  EXPECT_TRUE(std::isnan(loc.range_max));
  EXPECT_TRUE(torch::isfinite(loc.maps).all().item<bool>()) << loc.maps;
  for (int64_t b = 0; b < 3; ++b) EXPECT_EQ(loc.maps[b].eq(loc.maps[b].max()).sum().item<int64_t>(), 1) << b;
  // Default confidence: neg_distance.
  ASSERT_TRUE(loc.confidence.defined());
  EXPECT_EQ(loc.confidence_name, "dmc -min_k ||o_v,k - o_a||");
  EXPECT_EQ(loc.confidence.sizes(), (std::vector<int64_t>{3}));
  EXPECT_LE(loc.confidence.max().item<double>(), 0.0);

  auto generic = Build(TinyWith("confidence = \"generic\"\n"));
  ASSERT_NE(generic, nullptr);
  generic->eval();
  EXPECT_FALSE(generic->Localize(batch).confidence.defined());  // the evaluator's generic confidence

  // sounding_cluster = "second_nearest" reads the other cluster's logit: with K_v = 2, beta (d_k* - d_other),
  // the nearest map negated (same weights).
  auto second = Build(TinyWith("sounding_cluster = \"second_nearest\"\n"));
  ASSERT_NE(second, nullptr);
  {
    const auto from = method->named_parameters();
    for (auto& p : second->named_parameters()) p.value().copy_(from[p.key()]);
    const auto from_buffers = method->named_buffers();
    for (auto& p : second->named_buffers()) p.value().copy_(from_buffers[p.key()]);
  }
  second->eval();
  const torch::Tensor second_maps = second->Localize(batch).maps;
  EXPECT_TRUE(torch::allclose(second_maps, -loc.maps, 1e-6, 1e-5)) << second_maps << loc.maps;
}

TEST_F(DmcTest, DefaultConfidenceIsNegDistance) {
  // The schema's default, as `avsl recipe describe` shows it.
  const ComponentEntry* entry = host_.registry().Find(ComponentKind::kMethod, "dmc.DMC");
  ASSERT_NE(entry, nullptr);
  ASSERT_NE(entry->info.schema, nullptr);
  const Field* field = entry->info.schema->Find("confidence");
  ASSERT_NE(field, nullptr);
  EXPECT_EQ(field->default_toml, "\"neg_distance\"");
  EXPECT_EQ(field->choices, (std::vector<std::string>{"generic", "neg_distance"}));
}

TEST_F(DmcTest, StepLossEqualsTheContrastiveLossOfItsOwnDistances) {
  // Two samples: each one's negative is the other image. In eval mode (fixed BN statistics) the distances come
  // from Localize's -min_k D on the batch and on the batch with the images swapped:
  // L = mean over 4 pairs of [0.5 d+^2] and [0.5 relu(5 - d-)^2].
  torch::manual_seed(3);
  auto method = Build(TinyWith("confidence = \"neg_distance\"\n"));
  ASSERT_NE(method, nullptr);
  method->eval();
  torch::NoGradGuard no_grad;
  const Batch batch = MakeBatch(2);
  const torch::Tensor d_pos = -method->Localize(batch).confidence;
  Batch swapped = batch;
  swapped.image = batch.image.flip(0);
  const torch::Tensor d_neg = -method->Localize(swapped).confidence;
  double expected = 0;
  for (int i = 0; i < 2; ++i) {
    const double dp = d_pos[i].item<double>(), dn = d_neg[i].item<double>();
    expected += 0.5 * dp * dp + 0.5 * std::pow(std::max(0.0, 5 - dn), 2);
  }
  expected /= 4;
  StepOutput out = method->TrainStep(batch);
  EXPECT_NEAR(out.loss.item<double>(), expected, 1e-4 * std::max(1.0, expected));
  EXPECT_NEAR(out.logs.at(0).second, d_pos.mean().item<double>(), 1e-4);
  EXPECT_NEAR(out.logs.at(1).second, d_neg.mean().item<double>(), 1e-4);
}

TEST_F(DmcTest, LossDecreasingOnAFixedBatch) {
  torch::manual_seed(0);
  auto method = Build(kTinyModel);
  ASSERT_NE(method, nullptr);
  auto losses = testkit::TrainLosses(*method, MakeBatch(6), 30, 1e-3);
  ASSERT_TRUE(losses.ok()) << losses.status();
  for (size_t step = 0; step < losses->size(); ++step) ASSERT_TRUE(std::isfinite((*losses)[step])) << "step " << step;
  // Random negatives each step: compare 5-step means.
  const double first = testkit::HeadMean(*losses, 5), last = testkit::TailMean(*losses, 5);
  EXPECT_LT(last, 0.7 * first) << "first " << first << " last " << last;
  for (const auto& p : method->named_parameters()) ASSERT_TRUE(p.value().grad().defined()) << p.key();
  EXPECT_GT(method->named_parameters()["fc_v_1.weight"].grad().abs().sum().item<double>(), 0);
  EXPECT_GT(method->named_parameters()["audio_net.conv1.weight"].grad().abs().sum().item<double>(), 0);
}

TEST_F(DmcTest, CheckpointRoundTrip) {
  torch::manual_seed(1);
  auto a = Build(kTinyModel);
  torch::manual_seed(2);
  auto b = Build(kTinyModel);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const std::string path = testkit::TempFilePath(::testing::TempDir(), "dmc_roundtrip");
  absl::Status s = testkit::CheckWeightsRoundTrip(*a, *b, MakeBatch(2), path, kTinyModel);
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(DmcTest, ClearErrors) {
  // Two audio clusters from a pooled audio vector (one position).
  std::string pooled_toml = TinyWith("audio_clusters = 2\n");
  pooled_toml.replace(pooled_toml.find("pool = \"none\""), 13, "pool = \"max\"");
  auto pooled2 = Build(pooled_toml);
  ASSERT_NE(pooled2, nullptr);
  EXPECT_EQ(testkit::ThrowsMentioning([&] { pooled2->Localize(MakeBatch(2)); }, "set audio_encoder.pool = \"none\""),
            absl::OkStatus());
  // More visual clusters than the 2x2 map has positions.
  auto too_many = Build(TinyWith("visual_clusters = 5\n"));
  ASSERT_NE(too_many, nullptr);
  EXPECT_EQ(testkit::ThrowsMentioning([&] { too_many->Localize(MakeBatch(2)); },
                                      "visual_clusters = 5 but the image map has 2x2 = 4"),
            absl::OkStatus());
  // A batch of one has no negative.
  auto method = Build(kTinyModel);
  ASSERT_NE(method, nullptr);
  EXPECT_EQ(testkit::ThrowsMentioning([&] { method->TrainStep(MakeBatch(1)); }, "needs at least 2 samples"),
            absl::OkStatus());
  // The second-nearest map needs two visual clusters.
  EXPECT_EQ(testkit::ErrorMentions(TryBuild(TinyWith("visual_clusters = 1\nsounding_cluster = \"second_nearest\"\n")),
                                   "'model.sounding_cluster' = \"second_nearest\" needs visual_clusters >= 2, got 1"),
            absl::OkStatus());
  // Schema: iterations and beta out of range, named by key.
  EXPECT_EQ(testkit::ErrorMentions(TryBuild(TinyWith("iters = 0\n")), "'model.iters' = 0 is out of range"),
            absl::OkStatus());
  EXPECT_EQ(testkit::ErrorMentions(TryBuild(TinyWith("beta = -30.0\n")), "'model.beta'"), absl::OkStatus());
}

TEST_F(DmcTest, ShippedRecipesValidate) {
  for (const char* name : {"synthetic", "flickr_10k", "vggsound_144k", "vggss_heard110"}) {
    const std::string path = std::string(AVSL_SOURCE_DIR) + "/recipes/dmc/" + name + ".toml";
    SCOPED_TRACE(path);
    auto recipe = Recipe::Load(path, {});
    ASSERT_TRUE(recipe.ok()) << recipe.status();
    EXPECT_EQ(recipe->Root().Sub("model").type(), "dmc.DMC");
  }
}

}  // namespace
}  // namespace avsl
