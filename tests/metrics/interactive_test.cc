#include "avsl/metrics/interactive.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace avsl::metrics {
namespace {

Map2D FromRows(const std::vector<std::vector<double>>& rows) {
  Map2D m(static_cast<int>(rows.size()), static_cast<int>(rows[0].size()));
  for (size_t y = 0; y < rows.size(); ++y)
    for (size_t x = 0; x < rows[y].size(); ++x) m.at(static_cast<int>(y), static_cast<int>(x)) = rows[y][x];
  return m;
}

// 4x4 maps, N = 16: R row-major 0..15, C column-major, V = 15 - R, T = 1 on the top-left 2x2 (ties).
Map2D R() { return FromRows({{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}, {12, 13, 14, 15}}); }
Map2D C() { return FromRows({{0, 4, 8, 12}, {1, 5, 9, 13}, {2, 6, 10, 14}, {3, 7, 11, 15}}); }
Map2D V() { return FromRows({{15, 14, 13, 12}, {11, 10, 9, 8}, {7, 6, 5, 4}, {3, 2, 1, 0}}); }
Map2D T() { return FromRows({{1, 1, 0, 0}, {1, 1, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}}); }
Map2D Where(const Map2D& m, double at_least) {
  Map2D g(m.height, m.width);
  for (size_t i = 0; i < m.values.size(); ++i) g.values[i] = m.values[i] >= at_least ? 1 : 0;
  return g;
}

TEST(InteractiveTest, HandWorkedQueriesFollowTheReferencesRankRules) {
  // Top-50 %: threshold sort[8] = 8, P = {9..15} (7 pixels, one short of half: the reference's strict >).
  InteractiveQueryScores a = SslAlignQueryScores(R(), Where(R(), 6));  // GT: 10 pixels, 7 of them predicted
  EXPECT_DOUBLE_EQ(a.ciou, 0.7);
  EXPECT_DOUBLE_EQ(a.ciou_adaptive, 0.9);  // threshold sort[16 - 10] = 6: P = {7..15}, 9 of 10
  // Ties: T's top-50 % keeps its 4 ones; the adaptive threshold sort[12] = 1 keeps nothing.
  InteractiveQueryScores b = SslAlignQueryScores(T(), T());
  EXPECT_DOUBLE_EQ(b.ciou, 1.0);
  EXPECT_DOUBLE_EQ(b.ciou_adaptive, 0.0);
  // A full-image GT: 7/16, and adaptively 15/16 (one pixel short again).
  InteractiveQueryScores full = SslAlignQueryScores(R(), Map2D(4, 4, 1.0));
  EXPECT_DOUBLE_EQ(full.ciou, 7.0 / 16.0);
  EXPECT_DOUBLE_EQ(full.ciou_adaptive, 15.0 / 16.0);
  // An empty GT with an empty prediction is 0/0.
  EXPECT_TRUE(std::isnan(SslAlignQueryScores(Map2D(4, 4, 0.5), Map2D(4, 4, 0.0)).ciou));
}

TEST(InteractiveTest, HandWorkedSummaryOfThreeFramesQueriedTwice) {
  InteractiveEvaluator e;
  Map2D top_rows(4, 4);
  for (int x = 0; x < 4; ++x) top_rows.at(0, x) = top_rows.at(1, x) = 1;
  Map2D column0(4, 4);
  for (int y = 0; y < 4; ++y) column0.at(y, 0) = 1;
  e.Add("img1", R(), Where(R(), 6));
  e.Add("img2", C(), column0);
  e.Add("img1", T(), T());
  e.Add("img2", R(), Map2D(4, 4, 1.0));
  e.Add("img3", R(), Where(R(), 7));
  e.Add("img3", V(), top_rows);
  e.Add("alone", R(), Where(R(), 6));  // queried once: in the per-query numbers, not in IIoU
  const InteractiveResult r = e.Finalize();
  EXPECT_EQ(r.queries, 7);
  EXPECT_EQ(r.frames, 3);
  // Queries: cIoU 0.7, 0, 1, 7/16, 7/9, 7/8, 0.7; adaptive 0.9, 0, 0, 15/16, 8/9, 7/8, 0.9.
  EXPECT_DOUBLE_EQ(r.ciou, 5.0 / 7.0);
  EXPECT_DOUBLE_EQ(r.ciou_adaptive, 5.0 / 7.0);
  EXPECT_NEAR(r.miou, (0.7 + 0 + 1 + 7.0 / 16 + 7.0 / 9 + 7.0 / 8 + 0.7) / 7, 1e-12);
  // Per frame, both queries at >= 0.5: img1 yes, img2 no, img3 yes; adaptively only img3.
  EXPECT_DOUBLE_EQ(r.iiou, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.iiou_adaptive, 1.0 / 3.0);
  // IAUC: the frame minima 0.7, 0, 7/9 pass 13.5, 0.5 and 15.5 trapezoid weights of 0.05 (t_14 = 0.7000000000000001
  // fails 0.7, as in Python).
  EXPECT_NEAR(r.iauc, 0.05 * (13.5 + 0.5 + 15.5) / 3, 1e-12);
  EXPECT_NEAR(r.iauc_adaptive, 0.05 * (0.5 + 0.5 + 17.5) / 3, 1e-12);
  const std::map<std::string, double> f = InteractiveFields(r);
  EXPECT_DOUBLE_EQ(f.at("iiou"), 2.0 / 3.0);
  EXPECT_EQ(f.at("interactive_frames"), 3.0);
  EXPECT_TRUE(f.count("ciou_adaptive") && f.count("auc_adaptive") && f.count("sslalign_ciou"));
  EXPECT_TRUE(InteractiveFields(InteractiveEvaluator().Finalize()).empty());
  EXPECT_TRUE(std::isnan(InteractiveEvaluator().Finalize().iiou));
}

// Random maps (smooth, blocky with ties, constant) and GTs (boxes, full, empty, soft), scored here and by the
// numpy re-derivation of SSLalignment's evaluator (tests/metrics/sslalign_interactive_reference.py).
TEST(InteractiveTest, MatchesTheNumpyReDerivationOfTheReferenceEvaluator) {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 with numpy not available";
  }
  std::mt19937_64 rng(20261207);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  constexpr int kSide = 28;
  nlohmann::json items = nlohmann::json::array();
  InteractiveEvaluator e;
  std::vector<InteractiveQueryScores> mine;
  for (int item = 0; item < 60; ++item) {
    nlohmann::json maps = nlohmann::json::array(), gts = nlohmann::json::array();
    const int queries = item % 7 == 0 ? 3 : 2;
    for (int q = 0; q < queries; ++q) {
      Map2D map(kSide, kSide), gt(kSide, kSide);
      const int kind = (item + q) % 4;
      for (int y = 0; y < kSide; ++y) {
        for (int x = 0; x < kSide; ++x) {
          double v = u(rng);
          if (kind == 1) v = std::floor((y / 4) * 7 + (x / 4)) / 49.0;  // 7x7 blocks: ties
          if (kind == 2) v = std::round(v * 4) / 4;                     // few levels: many ties
          if (kind == 3 && item % 5 == 0) v = 0.25;                     // constant map
          map.at(y, x) = v * 3.0 - 1.0;
        }
      }
      const int x0 = static_cast<int>(u(rng) * kSide / 2), y0 = static_cast<int>(u(rng) * kSide / 2);
      const int x1 = x0 + 1 + static_cast<int>(u(rng) * (kSide - x0 - 1));
      const int y1 = y0 + 1 + static_cast<int>(u(rng) * (kSide - y0 - 1));
      for (int y = 0; y < kSide; ++y) {
        for (int x = 0; x < kSide; ++x) {
          double g = y >= y0 && y < y1 && x >= x0 && x < x1 ? 1.0 : 0.0;
          if (item % 11 == 3) g = 1.0;                                // full frame
          if (item % 13 == 4 && q == 0) g = 0.0;                      // empty GT
          if (item % 9 == 5 && g > 0 && ((x + y) % 3 == 0)) g = 0.5;  // Flickr-like soft consensus
          gt.at(y, x) = g;
        }
      }
      nlohmann::json jm = nlohmann::json::array(), jg = nlohmann::json::array();
      for (int y = 0; y < kSide; ++y) {
        nlohmann::json rm = nlohmann::json::array(), rg = nlohmann::json::array();
        for (int x = 0; x < kSide; ++x) {
          rm.push_back(map.at(y, x));
          rg.push_back(gt.at(y, x));
        }
        jm.push_back(rm);
        jg.push_back(rg);
      }
      maps.push_back(jm);
      gts.push_back(jg);
      e.Add("f" + std::to_string(item), map, gt);
      mine.push_back(SslAlignQueryScores(map, gt));
    }
    items.push_back({{"id", "f" + std::to_string(item)}, {"maps", maps}, {"gts", gts}});
  }
  const std::string dir = testing::TempDir();
  const std::string in = dir + "/interactive_in.json", out = dir + "/interactive_out.json";
  std::ofstream(in) << nlohmann::json{{"items", items}}.dump();
  const std::string cmd = "/usr/bin/python3 '" + std::string(AVSL_SOURCE_DIR) +
                          "/tests/metrics/sslalign_interactive_reference.py' '" + in + "' > '" + out + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const nlohmann::json ref = nlohmann::json::parse(std::ifstream(out));
  auto same = [](const nlohmann::json& r, double v, const std::string& what) {
    if (r.is_null()) {
      EXPECT_TRUE(std::isnan(v)) << what << ": reference NaN, avsl " << v;
    } else {
      EXPECT_NEAR(v, r.get<double>(), 1e-6) << what;
    }
  };
  size_t k = 0;
  for (const nlohmann::json& item : ref["per_item"]) {
    for (size_t q = 0; q < item["ciou"].size(); ++q, ++k) {
      const std::string what = item["id"].get<std::string>() + " query " + std::to_string(q);
      same(item["ciou"][q], mine[k].ciou, what + " cIoU");
      same(item["ciou_adaptive"][q], mine[k].ciou_adaptive, what + " adaptive cIoU");
    }
  }
  EXPECT_EQ(k, mine.size());
  const InteractiveResult r = e.Finalize();
  const nlohmann::json& s = ref["summary"];
  same(s["miou"], r.miou, "mIoU");
  same(s["ciou"], r.ciou, "cIoU");
  same(s["ciou_adaptive"], r.ciou_adaptive, "adaptive cIoU");
  same(s["auc"], r.auc, "AUC");
  same(s["auc_adaptive"], r.auc_adaptive, "adaptive AUC");
  same(s["iiou"], r.iiou, "IIoU");
  same(s["iiou_adaptive"], r.iiou_adaptive, "adaptive IIoU");
  same(s["iauc"], r.iauc, "IAUC");
  same(s["iauc_adaptive"], r.iauc_adaptive, "adaptive IAUC");
}

}  // namespace
}  // namespace avsl::metrics
