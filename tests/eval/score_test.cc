#include "avsl/eval/score.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>

#include "avsl/io/npy.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace avsl::eval {
namespace {

bool Contains(const absl::Status& s, const std::string& needle) {
  return std::string(s.message()).find(needle) != std::string::npos;
}

std::string ReadAll(const std::string& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteText(const std::string& p, const std::string& s) {
  std::ofstream f(p);
  f << s;
}

class ScoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = ::testing::TempDir() + "/avsl_score_" + info->name();
    std::system(("rm -rf '" + dir_ + "' && mkdir -p '" + dir_ + "/maps'").c_str());
    opts_.maps_dir = dir_ + "/maps";
    opts_.index_csv = dir_ + "/index.csv";
    // GT: "top" = rows 112..223 (all columns), "bottom" = rows 0..111.
    Map2D top(224, 224), bottom(224, 224);
    for (int y = 0; y < 224; ++y)
      for (int x = 0; x < 224; ++x) (y >= 112 ? top : bottom).at(y, x) = 1;
    gts_["v_top"] = top;
    gts_["v_bottom"] = bottom;
    lookup_ = [this](const std::string& video) -> absl::StatusOr<Map2D> {
      auto it = gts_.find(video);
      if (it == gts_.end()) return absl::NotFoundError("video " + video + " is not annotated");
      return it->second;
    };
  }

  // Map whose value is the row index y (float32), so the top-50 % rule selects rows 112..223 exactly:
  // sorted index 25088 = 112·224 holds the first value 112.
  void WriteRowMap(const std::string& key) {
    std::vector<float> v(224 * 224);
    for (int i = 0; i < 224 * 224; ++i) v[i] = static_cast<float>(i / 224);
    ASSERT_TRUE(io::WriteNpy(opts_.maps_dir + "/" + key + ".npy", v.data(), {224, 224}).ok());
  }

  void WriteConstMap(const std::string& key, double value, int h = 224, int w = 224) {
    std::vector<double> v(h * w, value);
    ASSERT_TRUE(io::WriteNpy(opts_.maps_dir + "/" + key + ".npy", v.data(), {h, w}).ok());
  }

  std::string dir_;
  ScoreOptions opts_;
  std::map<std::string, Map2D> gts_;
  GtLookup lookup_;
};

TEST_F(ScoreTest, EndToEndHandComputed) {
  // a: row map vs GT rows 112..223 -> infer == GT -> cIoU 1; conf = mean of rows 168..223 = 195.5.
  // b: row map vs GT rows 0..111 -> no overlap: 0 / (25088 + 25088) = 0; conf 195.5.
  // c: silent, constant 0.5 map -> conf 0.5.
  WriteRowMap("a");
  WriteRowMap("b");
  WriteConstMap("c", 0.5);
  WriteText(opts_.index_csv, "key,video,audio,sounding\r\na,v_top,x,1\r\nb,v_bottom,y,true\r\nc,v_none,z,0\r\n");
  opts_.out_json = dir_ + "/metrics.json";
  opts_.per_sample_csv = dir_ + "/per_sample.csv";
  auto r = RunScore(opts_, lookup_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->all.n_sounding, 2);
  EXPECT_EQ(r->all.n_silent, 1);
  EXPECT_DOUBLE_EQ(r->samples[0].ciou, 1.0);
  EXPECT_DOUBLE_EQ(r->samples[1].ciou, 0.0);
  EXPECT_DOUBLE_EQ(r->samples[0].conf, 195.5);
  EXPECT_DOUBLE_EQ(r->samples[2].conf, 0.5);
  EXPECT_DOUBLE_EQ(r->all.loc_acc, 0.5);
  EXPECT_DOUBLE_EQ(r->all.mean_ciou, 0.5);
  // Pointing: first maximum is (223, 0): in "top" (hit), not in "bottom" -> 1/2.
  EXPECT_DOUBLE_EQ(r->all.pointing, 0.5);
  // Paper AP: δ = 195.5 (a and b tie): TP 1, FP 1, FN 0 -> (1/2, 1); δ = 0.5: TP 1, FP 2 -> (1/3, 1).
  // AP = 1/2·(1 − 0) + 1/3·0 = 1/2; max-F1 = 2·(1/2)·1/(3/2) = 2/3.
  EXPECT_DOUBLE_EQ(r->all.ap, 0.5);
  EXPECT_NEAR(r->all.max_f1, 2.0 / 3, 1e-15);
  // Ref: thresholds sort(conf)[:-1][::-1] = [195.5, 0.5] -> P [1/2, 1/3], R [1, 1] -> AP = 1/2·0 = 0.
  EXPECT_DOUBLE_EQ(r->all.ap_ref, 0.0);
  // Both GTs cover 112·224 = 25088 pixels >= 144² = 20736 -> huge.
  EXPECT_EQ(r->buckets[3].n_sounding, 2);

  auto j = nlohmann::json::parse(ReadAll(opts_.out_json));
  for (const char* k :
       {"n_sounding", "n_silent", "loc_acc", "auc", "mean_ciou", "ap", "max_f1", "ap_ref", "max_f1_ref", "pointing"}) {
    EXPECT_TRUE(j.contains(k)) << k;
    EXPECT_TRUE(j["buckets"]["huge"].contains(k)) << k;
  }
  EXPECT_EQ(j["n_silent"], 1);
  EXPECT_DOUBLE_EQ(j["ap"].get<double>(), 0.5);
  EXPECT_TRUE(j["buckets"]["small"]["loc_acc"].is_null());  // empty bucket -> NaN -> null
  EXPECT_EQ(j["buckets"]["small"]["n_sounding"], 0);
  // Bootstrap intervals (1000 resamples by default): cIoU is 1 for a and 0 for b, so a resample's LocAcc is 0, 1/2
  // or 1; the 2.5th and 97.5th percentiles of those draws are 0 and 1. Every field has an interval.
  EXPECT_EQ(j["options"]["bootstrap_resamples"], 1000);
  ASSERT_TRUE(j["ci95"].is_object());
  EXPECT_EQ(j["ci95"]["loc_acc"], nlohmann::json::array({0.0, 1.0}));
  EXPECT_EQ(j["ci95"].size(), 8u);
  opts_.protocol.bootstrap_resamples = 0;
  ASSERT_TRUE(RunScore(opts_, lookup_).ok());
  EXPECT_FALSE(nlohmann::json::parse(ReadAll(opts_.out_json)).contains("ci95"));

  const std::string csv = ReadAll(opts_.per_sample_csv);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "key,ciou,conf,sounding,bucket,area,pointing");
  EXPECT_NE(csv.find("\na,1,195.5,1,huge,25088,1\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\nc,0,0.5,0,none,0,0\n"), std::string::npos) << csv;

  const std::string table = FormatMetricsTable(*r);
  EXPECT_NE(table.find("all"), std::string::npos);
  EXPECT_NE(table.find("huge"), std::string::npos);
  EXPECT_NE(table.find("0.5000"), std::string::npos) << table;
}

TEST_F(ScoreTest, ConfColumnOverridesMapConfidenceAndColumnsMayBeReordered) {
  WriteRowMap("a");
  WriteConstMap("c", 0.5);
  WriteText(opts_.index_csv, "sounding,key,conf,audio,video\n1,a,0.25,x,v_top\n0,c,0.75,y,v\n");
  auto r = RunScore(opts_, lookup_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_DOUBLE_EQ(r->samples[0].conf, 0.25);
  EXPECT_DOUBLE_EQ(r->samples[1].conf, 0.75);
  // Silent .75 above the hit .25: paper AP = (0 at δ=.75) + 1/2·1 at δ=.25 -> 0.5.
  EXPECT_DOUBLE_EQ(r->all.ap, 0.5);
}

TEST_F(ScoreTest, UpsampleResizesSmallMapsAndIsRequiredForThem) {
  WriteConstMap("s", 0.3, 7, 7);
  WriteText(opts_.index_csv, "key,video,audio,sounding\ns,v_top,x,1\n");
  auto r = RunScore(opts_, lookup_);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status(), "'s'") && Contains(r.status(), "7x7") && Contains(r.status(), "224x224"))
      << r.status();
  opts_.protocol.upsample = metrics::UpsampleMode::kNearest;
  r = RunScore(opts_, lookup_);
  ASSERT_TRUE(r.ok()) << r.status();
  // Nearest copies values exactly: constant 224×224 -> every pixel ties at the threshold -> all positive:
  // cIoU = 25088 / (25088 + 25088) = 0.5; conf = 0.3 (a sum of 12544 × 0.3, so up to rounding).
  EXPECT_DOUBLE_EQ(r->samples[0].ciou, 0.5);
  EXPECT_NEAR(r->samples[0].conf, 0.3, 1e-12);
  // Bicubic weights sum to 1 only up to rounding, so the map is constant only to ~1e-16 (ties then break
  // on rounding noise, as they would in torch); the confidence is still 0.3.
  opts_.protocol.upsample = metrics::UpsampleMode::kBicubic;
  r = RunScore(opts_, lookup_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NEAR(r->samples[0].conf, 0.3, 1e-12);
  // An unknown mode never reaches the scorer: parsing it (recipe or --upsample) names it.
  EXPECT_TRUE(Contains(metrics::ParseUpsampleMode("lanczos").status(), "lanczos"));
}

TEST_F(ScoreTest, AbsoluteModeUsesThreshold) {
  WriteRowMap("a");
  WriteText(opts_.index_csv, "key,video,audio,sounding\na,v_top,x,1\n");
  opts_.protocol.pred_mode = metrics::PredMode::kAbsolute;
  opts_.protocol.pred_threshold = 168;  // rows 168..223 positive: Σ(infer·gt) = 56·224 = 12544; Σgt = 25088 -> 0.5
  auto r = RunScore(opts_, lookup_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_DOUBLE_EQ(r->samples[0].ciou, 0.5);
}

TEST_F(ScoreTest, ErrorsNameKeyOrFileAndLine) {
  WriteRowMap("a");
  const std::string header = "key,video,audio,sounding\n";
  // Missing map.
  WriteText(opts_.index_csv, header + "a,v_top,x,1\nmissing_key,v_top,x,1\n");
  auto r = RunScore(opts_, lookup_);
  EXPECT_TRUE(Contains(r.status(), "missing_key") && Contains(r.status(), "missing_key.npy")) << r.status();
  // Key with no GT.
  WriteText(opts_.index_csv, header + "a,v_unknown,x,1\n");
  r = RunScore(opts_, lookup_);
  EXPECT_TRUE(Contains(r.status(), "'a'") && Contains(r.status(), "v_unknown")) << r.status();
  // NaN in a map.
  std::vector<float> v(224 * 224, 0.1f);
  v[224 * 5 + 9] = std::numeric_limits<float>::quiet_NaN();
  ASSERT_TRUE(io::WriteNpy(opts_.maps_dir + "/nanmap.npy", v.data(), {224, 224}).ok());
  WriteText(opts_.index_csv, header + "nanmap,v_top,x,1\n");
  r = RunScore(opts_, lookup_);
  EXPECT_TRUE(Contains(r.status(), "nanmap") && Contains(r.status(), "y=5, x=9")) << r.status();
  // Wrong shape (3-D, not squeezable).
  std::vector<float> w(2 * 224 * 224, 0.f);
  ASSERT_TRUE(io::WriteNpy(opts_.maps_dir + "/cube.npy", w.data(), {2, 224, 224}).ok());
  WriteText(opts_.index_csv, header + "cube,v_top,x,1\n");
  r = RunScore(opts_, lookup_);
  EXPECT_TRUE(Contains(r.status(), "cube") && Contains(r.status(), "2x224x224")) << r.status();
  // GT of a different size than the map.
  gts_["v_small"] = Map2D(100, 100);
  WriteText(opts_.index_csv, header + "a,v_small,x,1\n");
  r = RunScore(opts_, lookup_);
  EXPECT_TRUE(Contains(r.status(), "'a'") && Contains(r.status(), "100x100")) << r.status();
  // Malformed CSVs: file and line named.
  WriteText(opts_.index_csv, "key,video,sounding\na,v_top,1\n");
  r = RunScore(opts_, lookup_);
  EXPECT_TRUE(Contains(r.status(), opts_.index_csv) && Contains(r.status(), "line 1") &&
              Contains(r.status(), "'audio'"))
      << r.status();
  WriteText(opts_.index_csv, header + "a,v_top,x,1\nb,v_top,1\n");
  r = RunScore(opts_, lookup_);
  EXPECT_TRUE(Contains(r.status(), opts_.index_csv) && Contains(r.status(), "line 3") &&
              Contains(r.status(), "3 fields, expected 4"))
      << r.status();
  WriteText(opts_.index_csv, header + "a,v_top,x,yes\n");
  r = RunScore(opts_, lookup_);
  EXPECT_TRUE(Contains(r.status(), "line 2") && Contains(r.status(), "'yes'")) << r.status();
  WriteText(opts_.index_csv, "key,video,audio,sounding,conf\na,v_top,x,1,abc\n");
  r = RunScore(opts_, lookup_);
  EXPECT_TRUE(Contains(r.status(), "line 2") && Contains(r.status(), "'abc'")) << r.status();
  WriteText(opts_.index_csv, header + "a,v_top,x,1\n\na,v_top,x,1\n");
  r = RunScore(opts_, lookup_);
  EXPECT_TRUE(Contains(r.status(), "line 3") && Contains(r.status(), "empty row")) << r.status();
  WriteText(opts_.index_csv, header + "a,v_top,x,1\na,v_top,x,1\n");
  r = RunScore(opts_, lookup_);
  EXPECT_TRUE(Contains(r.status(), "'a'") && Contains(r.status(), "duplicate")) << r.status();
  WriteText(opts_.index_csv, header);
  r = RunScore(opts_, lookup_);
  EXPECT_TRUE(Contains(r.status(), "no data rows")) << r.status();
  opts_.index_csv = dir_ + "/nope.csv";
  r = RunScore(opts_, lookup_);
  EXPECT_TRUE(Contains(r.status(), "nope.csv")) << r.status();
}

TEST_F(ScoreTest, ScoresMapsAndIndexWrittenByPythonNumpy) {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 with numpy not available";
  }
  // Python writes: p1 float32 224×224 peaked in rows 112..223 (values = row index), p2 float64 7×7 all
  // zeros except a bump, s1 silent; and an index with a conf column.
  const std::string py = "import numpy as np\n"
                         "d='" +
                         opts_.maps_dir +
                         "'\n"
                         "rows=np.repeat(np.arange(224,dtype=np.float32)[:,None],224,axis=1)\n"
                         "np.save(d+'/p1.npy', rows)\n"
                         "m=np.zeros((7,7)); m[5,3]=1.0\n"
                         "np.save(d+'/p2.npy', m[None,None])\n"
                         "np.save(d+'/s1.npy', np.full((224,224),0.2,dtype=np.float32))\n"
                         "open('" +
                         opts_.index_csv +
                         "','w').write('key,video,audio,sounding,conf\\np1,v_top,a1,1,0.9\\n"
                         "p2,v_top,a2,1,0.8\\ns1,v_x,a3,0,0.1\\n')\n";
  WriteText(dir_ + "/gen.py", py);
  ASSERT_EQ(std::system(("/usr/bin/python3 '" + dir_ + "/gen.py'").c_str()), 0);
  opts_.protocol.upsample = metrics::UpsampleMode::kBilinear;
  auto r = RunScore(opts_, lookup_);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->samples.size(), 3u);
  EXPECT_DOUBLE_EQ(r->samples[0].ciou, 1.0);  // rows 112..223, as in the C++-written case
  // p2: a 1×4-dims float64 array with a bump at (5,3) of 7×7, bilinear align_corners=True to 224: the
  // peak lands at (5·223/6, 3·223/6) = (185.8, 111.5), inside the "top" GT rows -> pointing hit.
  EXPECT_TRUE(r->samples[1].pointing_hit);
  EXPECT_GT(r->samples[1].ciou, 0.0);
  EXPECT_EQ(r->all.n_silent, 1);
  EXPECT_DOUBLE_EQ(r->samples[2].conf, 0.1);
}

TEST_F(ScoreTest, AnyThreadCountWritesTheSameFilesAndReportsTheFirstBadRow) {
  // 40 maps of varied shape and ties; every fifth row silent.
  std::string index = "key,video,audio,sounding\n";
  for (int i = 0; i < 40; ++i) {
    std::vector<float> v(224 * 224);
    for (int p = 0; p < 224 * 224; ++p) v[p] = static_cast<float>(((p / 224) * (i + 3) + (p % 224) * (i % 7)) % 97);
    const std::string key = "k" + std::to_string(i);
    ASSERT_TRUE(io::WriteNpy(opts_.maps_dir + "/" + key + ".npy", v.data(), {224, 224}).ok());
    index += key + (i % 2 ? ",v_top,a," : ",v_bottom,a,") + (i % 5 == 0 ? "0" : "1") + "\n";
  }
  WriteText(opts_.index_csv, index);
  std::map<int, std::pair<std::string, std::string>> outputs;
  for (int threads : {1, 4}) {
    opts_.threads = threads;
    opts_.out_json = dir_ + "/m" + std::to_string(threads) + ".json";
    opts_.per_sample_csv = dir_ + "/s" + std::to_string(threads) + ".csv";
    ASSERT_TRUE(RunScore(opts_, lookup_).ok());
    outputs[threads] = {ReadAll(opts_.out_json), ReadAll(opts_.per_sample_csv)};
  }
  EXPECT_EQ(outputs[1].first, outputs[4].first);
  EXPECT_EQ(outputs[1].second, outputs[4].second);
  EXPECT_NE(outputs[1].second.find("\nk39,"), std::string::npos);
  // Two unreadable maps: the error is the earlier row's, as a sequential pass would report it.
  std::remove((opts_.maps_dir + "/k30.npy").c_str());
  std::remove((opts_.maps_dir + "/k7.npy").c_str());
  for (int threads : {1, 4}) {
    opts_.threads = threads;
    absl::StatusOr<metrics::EvalResult> r = RunScore(opts_, lookup_);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(Contains(r.status(), "sample 'k7' (index ")) << r.status();
    EXPECT_TRUE(Contains(r.status(), " line 9)")) << r.status();
  }
}

}  // namespace
}  // namespace avsl::eval
