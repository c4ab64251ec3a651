// Tests of the evaluation pictures: overlay geometry and colours, grid layout, bucket grouping, sample
// selection, PNG output, and the two end-to-end engines (score overlays, run grid) on a tiny dataset.
#include <sys/stat.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "avsl/eval/score.h"
#include "avsl/io/npy.h"
#include "avsl/metrics/size_bucket.h"
#include "avsl/viz/canvas.h"
#include "avsl/viz/colormap.h"
#include "avsl/viz/grid.h"
#include "avsl/viz/overlay.h"
#include "avsl/viz/png_writer.h"
#include "avsl/viz/run_grid.h"
#include "avsl/viz/score_overlays.h"
#include "gtest/gtest.h"

namespace avsl::viz {
namespace {

constexpr Rgb kGreen{0, 255, 0};
constexpr Rgb kWhite{255, 255, 255};
constexpr Rgb kBlack{0, 0, 0};

bool Contains(const absl::Status& s, const std::string& needle) {
  return std::string(s.message()).find(needle) != std::string::npos;
}

std::string Str(Rgb c) {
  return "(" + std::to_string(c.r) + "," + std::to_string(c.g) + "," + std::to_string(c.b) + ")";
}

// GT box rows [y0, y1) × columns [x0, x1) on a 224 map (the numpy slice gt[y0:y1, x0:x1] = 1).
Map2D BoxGt(int y0, int y1, int x0, int x1, int size = 224) {
  Map2D gt(size, size);
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) gt.at(y, x) = 1;
  return gt;
}

std::string MakeTempDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/avsl_viz_" + name;
  std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str());
  return dir;
}

// ---------------------------------------------------------------------------------------------- overlay

// Sample `key` on a black square frame; the tests add the map and/or the GT.
OverlayInput OnBlackFrame(const std::string& key, int frame_side = 224) {
  OverlayInput in;
  in.key = key;
  in.frame = MakeCanvas(frame_side, frame_side, kBlack);
  return in;
}

// No caption: the picture is the frame area only, so pixel (y, x) is the overlay's (y, x).
OverlayOptions NoCaption() {
  OverlayOptions o;
  o.caption_lines = 0;
  return o;
}

// The heatmap alone at full weight: every pixel is the JET colour of its map level.
OverlayOptions HeatOnly() {
  OverlayOptions o = NoCaption();
  o.draw_prediction = false;
  o.heat_weight = 1.0;
  return o;
}

TEST(OverlayTest, DimensionsArePictureSizePlusCaption) {
  OverlayInput in;
  in.key = "k";
  in.frame = MakeCanvas(80, 96, Rgb{10, 20, 30});  // any size, not square: squashed to the picture
  in.map = Map2D(224, 224, 0.3);
  in.caption = {"k", "cIoU 0.500  conf 0.300"};
  absl::StatusOr<data::RgbImage> out = RenderOverlay(in, {});
  ASSERT_TRUE(out.ok()) << out.status();
  // 224 wide; 224 + CaptionHeight(2) = 224 + 2·14 + 4 = 256 high.
  EXPECT_EQ(out->width, 224);
  EXPECT_EQ(out->height, 256);
  EXPECT_EQ(out->pixels.size(), 224u * 256u * 3u);

  OverlayOptions small = NoCaption();
  small.size = 160;
  out = RenderOverlay(in, small);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->width, 160);
  EXPECT_EQ(out->height, 160);
}

TEST(OverlayTest, GtContourIsDrawnOnTheBoxBorder) {
  // Black frame, no map: only the GT contour is drawn. Box rows [50, 100) × columns [60, 120): its boundary
  // pixels are rows 50 and 99 (columns 60..119) and columns 60 and 119 (rows 50..99).
  OverlayInput in = OnBlackFrame("box");
  in.gt = BoxGt(50, 100, 60, 120);
  absl::StatusOr<data::RgbImage> out = RenderOverlay(in, NoCaption());
  ASSERT_TRUE(out.ok()) << out.status();
  for (auto [y, x] : {std::pair{50, 60}, {50, 119}, {99, 60}, {99, 119}, {50, 90}, {99, 90}, {75, 60}, {75, 119}}) {
    EXPECT_EQ(PixelAt(*out, y, x), kGreen) << "border pixel (" << y << "," << x << ") " << Str(PixelAt(*out, y, x));
  }
  // Just outside and just inside the border stay black.
  for (auto [y, x] : {std::pair{49, 60}, {100, 90}, {75, 59}, {75, 120}, {51, 61}, {75, 90}, {98, 118}}) {
    EXPECT_EQ(PixelAt(*out, y, x), kBlack) << "(" << y << "," << x << ") " << Str(PixelAt(*out, y, x));
  }
}

TEST(OverlayTest, GtContourFollowsTheResizeToASmallerPicture) {
  // At size 112 the 224 mask is resized with INTER_NEAREST, src = floor(dst · 224/112) = 2·dst, so the box
  // rows [50, 100) land on dst rows [25, 50) and columns [60, 120) on [30, 60): border rows 25, 49, columns 30, 59.
  OverlayInput in = OnBlackFrame("box");
  in.gt = BoxGt(50, 100, 60, 120);
  OverlayOptions o = NoCaption();
  o.size = 112;
  absl::StatusOr<data::RgbImage> out = RenderOverlay(in, o);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(PixelAt(*out, 25, 30), kGreen);
  EXPECT_EQ(PixelAt(*out, 49, 59), kGreen);
  EXPECT_EQ(PixelAt(*out, 25, 45), kGreen);
  EXPECT_EQ(PixelAt(*out, 24, 30), kBlack);
  EXPECT_EQ(PixelAt(*out, 37, 45), kBlack);
}

TEST(OverlayTest, MapMaximumGetsTheHotColour) {
  // A single peak of 1 at (30, 200) in a map of 0.2 elsewhere: after min-max it is 1 → level 255, the rest 0.
  OverlayInput in = OnBlackFrame("peak");
  in.map = Map2D(224, 224, 0.2);
  in.map.at(30, 200) = 1.0;
  OverlayOptions o = HeatOnly();
  absl::StatusOr<data::RgbImage> out = RenderOverlay(in, o);
  ASSERT_TRUE(out.ok()) << out.status();
  const Rgb hot = JetColor(255), cold = JetColor(0);
  EXPECT_EQ(PixelAt(*out, 30, 200), hot) << Str(PixelAt(*out, 30, 200));
  EXPECT_EQ(PixelAt(*out, 100, 100), cold) << Str(PixelAt(*out, 100, 100));
  // JET's ends: the hot end is red-dominant, the cold end blue-dominant.
  EXPECT_GT(hot.r, 100);
  EXPECT_GT(hot.r, hot.g);
  EXPECT_GT(hot.r, hot.b);
  EXPECT_GT(cold.b, 100);
  EXPECT_GT(cold.b, cold.r);

  // Half weight over a frame of 100: out = 0.5·heat + 0.5·100 (cv::addWeighted rounding, so ±1).
  in.frame = MakeCanvas(224, 224, Rgb{100, 100, 100});
  o.heat_weight = 0.5;
  out = RenderOverlay(in, o);
  ASSERT_TRUE(out.ok()) << out.status();
  const Rgb p = PixelAt(*out, 30, 200);
  EXPECT_NEAR(p.r, 0.5 * hot.r + 50, 1.0);
  EXPECT_NEAR(p.g, 0.5 * hot.g + 50, 1.0);
  EXPECT_NEAR(p.b, 0.5 * hot.b + 50, 1.0);
}

TEST(OverlayTest, LowResolutionMapIsResizedBilinearly) {
  // A 7×7 map with 1 at (3, 3), 0 elsewhere. cv::resize INTER_LINEAR to 224: scale 32, output pixel 111 reads
  // source (111 + 0.5)/32 − 0.5 = 2.984375, i.e. weight 1 − 0.015625 = 0.984375 on cell 3 (pixel 112
  // symmetrically 3.015625). In 2-D: 0.984375² = 0.968994… → round(255 · 0.968994) = round(247.09) = 247.
  OverlayInput in = OnBlackFrame("small", 10);
  in.map = Map2D(7, 7, 0.0);
  in.map.at(3, 3) = 1.0;
  absl::StatusOr<data::RgbImage> out = RenderOverlay(in, HeatOnly());
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(PixelAt(*out, 111, 111), JetColor(247)) << Str(PixelAt(*out, 111, 111));
  EXPECT_EQ(PixelAt(*out, 112, 112), JetColor(247)) << Str(PixelAt(*out, 112, 112));
  EXPECT_EQ(PixelAt(*out, 0, 0), JetColor(0));
}

TEST(OverlayTest, PredictionContourIsTheEvaluatorsBinarization) {
  // Map value = row index y. The top-50 % rule takes element 25088 = 112·224 of the ascending sort, value 112,
  // so rows 112..223 are positive: the contour's top edge is row 112. Absolute mode on y/223 with threshold
  // 0.5: y/223 >= 0.5 ⇔ y >= 111.5, the same rows.
  OverlayInput in = OnBlackFrame("rows");
  in.map = Map2D(224, 224);
  for (int y = 0; y < 224; ++y)
    for (int x = 0; x < 224; ++x) in.map.at(y, x) = y;
  OverlayOptions o = NoCaption();
  o.draw_heat = false;
  absl::StatusOr<data::RgbImage> out = RenderOverlay(in, o);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(PixelAt(*out, 112, 100), kWhite);
  EXPECT_EQ(PixelAt(*out, 111, 100), kBlack);
  EXPECT_EQ(PixelAt(*out, 150, 100), kBlack);  // inside the region: only its outline is drawn

  for (double& v : in.map.values) v /= 223.0;
  o.protocol.pred_mode = metrics::PredMode::kAbsolute;
  o.protocol.pred_threshold = 0.5;
  out = RenderOverlay(in, o);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(PixelAt(*out, 112, 100), kWhite);
  EXPECT_EQ(PixelAt(*out, 111, 100), kBlack);

  // The mask itself: 112 rows × 224 = 25088 positives.
  int positives = 0;
  o.protocol.pred_mode = metrics::PredMode::kRelative;
  for (uint8_t b : PredictionMask(in.map, o)) positives += b;
  EXPECT_EQ(positives, 25088);
}

TEST(OverlayTest, ErrorsNameTheKey) {
  OverlayInput in;
  in.key = "bad_sample";
  in.map = Map2D(4, 4, 0.0);
  in.map.at(2, 1) = std::nan("");
  absl::StatusOr<data::RgbImage> out = RenderOverlay(in, {});
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(Contains(out.status(), "bad_sample")) << out.status();
  EXPECT_TRUE(Contains(out.status(), "y=2, x=1")) << out.status();

  in.map = Map2D();
  in.frame.width = 5;
  in.frame.height = 5;  // but no pixels
  out = RenderOverlay(in, {});
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(Contains(out.status(), "bad_sample")) << out.status();
}

TEST(OverlayTest, CaptionsOfSoundingAndSilentSamples) {
  EXPECT_EQ(SampleCaption("a", 0.5342, 0.71249), (std::vector<std::string>{"a", "cIoU 0.534  conf 0.712"}));
  EXPECT_EQ(SampleCaption("b", std::nullopt, 0.25), (std::vector<std::string>{"b (silent)", "conf 0.250"}));
}

TEST(CanvasTest, FitTextCutsLongTextToTheWidth) {
  const std::string long_text = "a_very_long_sample_key_000000_that_does_not_fit";
  const std::string fitted = FitText(long_text, 100, 0.4);
  EXPECT_LE(TextWidth(fitted, 0.4), 100);
  ASSERT_GE(fitted.size(), 3u);
  EXPECT_EQ(fitted.substr(fitted.size() - 2), "..");
  EXPECT_EQ(long_text.rfind(fitted.substr(0, fitted.size() - 2), 0), 0u);  // a prefix
  EXPECT_EQ(FitText("ok", 100, 0.4), "ok");
  EXPECT_EQ(FitText("anything", 1, 0.4), "");
}

// ------------------------------------------------------------------------------------------------- grid

data::RgbImage Tile(Rgb c) { return MakeCanvas(40, 50, c); }

TEST(GridTest, LayoutIsHeaderPlusSectionsOfRowsByColumns) {
  const Rgb a{200, 0, 0}, b{0, 0, 200}, c{10, 120, 10};
  std::vector<GridSection> sections = {{"A", {{Tile(a), Tile(a), Tile(a)}, {Tile(b), Tile(b), Tile(b)}}},
                                       {"B", {{Tile(a), Tile(b), Tile(c)}}}};
  GridOptions o;  // header 20, section 18, gap 2
  absl::StatusOr<data::RgbImage> g = ComposeGrid({"x", "y", "z"}, sections, o);
  ASSERT_TRUE(g.ok()) << g.status();
  // width  = 3·50 + 4·2 = 158
  // height = 20 + (18 + 2·(2 + 40)) + (18 + 1·(2 + 40)) + 2 = 20 + 102 + 60 + 2 = 184
  EXPECT_EQ(g->width, 158);
  EXPECT_EQ(g->height, 184);
  // Rows: header 0..19; section A bar 20..37; row 0 at y 40..79; row 1 at 82..121; section B bar 122..139;
  // its row at 142..181. Column 2 starts at x = 2 + 2·(50 + 2) = 106.
  EXPECT_EQ(PixelAt(*g, 142, 106), c);
  EXPECT_EQ(PixelAt(*g, 181, 155), c);
  EXPECT_EQ(PixelAt(*g, 141, 106), o.background);  // the gap above the row
  EXPECT_EQ(PixelAt(*g, 142, 105), o.background);  // the gap left of the column
  EXPECT_EQ(PixelAt(*g, 82, 2), b);
  EXPECT_EQ(PixelAt(*g, 121, 51), b);
  EXPECT_EQ(PixelAt(*g, 130, 150), o.section_background);  // right end of section B's bar, past its title

  o.gap = 0;
  g = ComposeGrid({"x", "y", "z"}, sections, o);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->width, 150);                              // 3·50
  EXPECT_EQ(g->height, 20 + (18 + 2 * 40) + (18 + 40));  // 176
}

TEST(GridTest, ErrorsNameSectionRowAndColumn) {
  std::vector<GridSection> sections = {{"small", {{Tile(kBlack), MakeCanvas(41, 50, kBlack)}}}};
  absl::StatusOr<data::RgbImage> g = ComposeGrid({"frame", "run_b"}, sections, {});
  ASSERT_FALSE(g.ok());
  EXPECT_TRUE(Contains(g.status(), "section 'small' row 0 column 1 ('run_b')")) << g.status();
  EXPECT_TRUE(Contains(g.status(), "50x41")) << g.status();

  g = ComposeGrid({"a", "b", "c"}, {{"huge", {{Tile(kBlack)}}}}, {});
  ASSERT_FALSE(g.ok());
  EXPECT_TRUE(Contains(g.status(), "'huge' row 0: 1 tiles, expected 3")) << g.status();
  EXPECT_FALSE(ComposeGrid({}, sections, {}).ok());
  EXPECT_FALSE(ComposeGrid({"a"}, {}, {}).ok());
}

metrics::SampleRecord Rec(const std::string& key, std::optional<metrics::SizeBucket> bucket) {
  metrics::SampleRecord r;
  r.key = key;
  r.sounding = bucket.has_value();
  r.bucket = bucket;
  return r;
}

TEST(GridTest, GroupsBySizeBucketInFixedOrder) {
  using B = metrics::SizeBucket;
  const std::vector<metrics::SampleRecord> recs = {
      Rec("h0", B::kHuge),   Rec("s1", std::nullopt), Rec("sm2", B::kSmall), Rec("m3", B::kMedium),
      Rec("sm4", B::kSmall), Rec("sm5", B::kSmall),   Rec("l6", B::kLarge),  Rec("s7", std::nullopt)};
  std::vector<SampleGroup> g = GroupByBucket(recs, 2, true);
  ASSERT_EQ(g.size(), 5u);
  // small, medium, large, huge, silent, whatever the record order; first 2 of each in record order.
  EXPECT_EQ(g[0].members, (std::vector<size_t>{2, 4}));
  EXPECT_EQ(g[1].members, (std::vector<size_t>{3}));
  EXPECT_EQ(g[2].members, (std::vector<size_t>{6}));
  EXPECT_EQ(g[3].members, (std::vector<size_t>{0}));
  EXPECT_EQ(g[4].members, (std::vector<size_t>{1, 7}));
  EXPECT_EQ(g[0].title.rfind("small", 0), 0u);
  EXPECT_EQ(g[3].title.rfind("huge", 0), 0u);
  EXPECT_EQ(g[4].title.rfind("silent", 0), 0u);

  // No silent section; empty buckets are left out (no medium sample here).
  g = GroupByBucket({Rec("a", B::kLarge), Rec("b", B::kSmall), Rec("c", std::nullopt)}, 1, false);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].members, (std::vector<size_t>{1}));
  EXPECT_EQ(g[1].members, (std::vector<size_t>{0}));
  EXPECT_TRUE(GroupByBucket(recs, 0, true).empty());
}

TEST(ScoreOverlaysTest, SelectsFirstSoundingThenAQuarterSilentInIndexOrder) {
  using B = metrics::SizeBucket;
  std::vector<metrics::SampleRecord> recs;
  // Index order: silent, sounding ×6, silent ×2.
  recs.push_back(Rec("q0", std::nullopt));
  for (int i = 1; i <= 6; ++i) recs.push_back(Rec("p" + std::to_string(i), B::kSmall));
  recs.push_back(Rec("q7", std::nullopt));
  recs.push_back(Rec("q8", std::nullopt));
  // count 4: sounding rows 1..4 and 4/4 = 1 silent (row 0).
  EXPECT_EQ(SelectOverlaySamples(recs, 4), (std::vector<size_t>{0, 1, 2, 3, 4}));
  // count 8: all 6 sounding rows and 8/4 = 2 silent (rows 0, 7).
  EXPECT_EQ(SelectOverlaySamples(recs, 8), (std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  // count 3: 3/4 = 0 silent.
  EXPECT_EQ(SelectOverlaySamples(recs, 3), (std::vector<size_t>{1, 2, 3}));
  EXPECT_TRUE(SelectOverlaySamples(recs, 0).empty());
}

// -------------------------------------------------------------------------------------------------- png

// Width and height from the IHDR chunk: bytes 16..19 and 20..23, big-endian, after the 8-byte signature.
std::pair<uint32_t, uint32_t> PngSize(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  unsigned char h[24] = {};
  f.read(reinterpret_cast<char*>(h), 24);
  auto be = [&](int i) {
    return (uint32_t{h[i]} << 24) | (uint32_t{h[i + 1]} << 16) | (uint32_t{h[i + 2]} << 8) | h[i + 3];
  };
  return {be(16), be(20)};
}

bool Exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

TEST(PngTest, WritesAReadablePngAndNoTemporary) {
  const std::string dir = MakeTempDir("png");
  data::RgbImage img = MakeCanvas(7, 9, Rgb{1, 2, 3});
  FillRect(&img, 2, 3, 4, 2, Rgb{250, 100, 0});
  const std::string path = dir + "/x.png";
  ASSERT_TRUE(WritePng(path, img).ok());
  EXPECT_FALSE(Exists(path + ".tmp"));
  EXPECT_EQ(PngSize(path), (std::pair<uint32_t, uint32_t>{9, 7}));
  absl::StatusOr<data::RgbImage> back = data::DecodeImageFile(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->pixels, img.pixels);  // lossless, RGB order kept
}

TEST(PngTest, WriteErrorsNameThePath) {
  const std::string path = "/nonexistent_avsl_dir/sub/out.png";
  absl::Status s = WritePng(path, MakeCanvas(4, 4, kBlack));
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s, path)) << s;
  data::RgbImage broken;
  broken.width = 3;
  broken.height = 3;
  s = WritePng(MakeTempDir("png_bad") + "/b.png", broken);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s, "b.png")) << s;
}

// ------------------------------------------------------------------------------------ engines end to end

// A tiny benchmark: three sounding clips (small, huge, small boxes), one silent pair, frames and 2 runs.
class EnginesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::system(("mkdir -p '" + dir_ + "/frames' '" + dir_ + "/a' '" + dir_ + "/b'").c_str());
    gts_["v_small1"] = BoxGt(10, 30, 10, 30);  // 20² = 400 < 32²: small
    gts_["v_huge"] = BoxGt(0, 200, 0, 200);    // 200² >= 144²: huge
    gts_["v_small2"] = BoxGt(100, 110, 100, 110);
    lookup_ = [this](const std::string& video) -> absl::StatusOr<Map2D> {
      auto it = gts_.find(video);
      if (it == gts_.end()) return absl::NotFoundError("video " + video + " is not annotated");
      return it->second;
    };
    std::ofstream idx(dir_ + "/index.csv");
    idx << "key,video,audio,sounding\n"
           "k1,v_small1,v_small1,1\nk2,v_huge,v_huge,1\nk3,v_small2,v_small2,1\nk4,v_huge,v_small1,0\n";
    idx.close();
    for (const char* v : {"v_small1", "v_huge", "v_small2"}) {
      // PNG bytes under the .jpg name: the frame decoder sniffs the content, as PIL does.
      ASSERT_TRUE(WritePng(dir_ + "/frames/" + v + ".jpg", MakeCanvas(48, 64, Rgb{90, 60, 30})).ok());
    }
    for (const char* run : {"a", "b"}) {
      for (const char* key : {"k1", "k2", "k3", "k4"}) {
        std::vector<float> m(224 * 224);
        for (int i = 0; i < 224 * 224; ++i) m[i] = static_cast<float>((i % 224) * (run[0] == 'a' ? 1 : -1));
        ASSERT_TRUE(io::WriteNpy(dir_ + "/" + run + "/" + key + ".npy", m.data(), {224, 224}).ok());
      }
    }
  }
  std::string dir_;
  std::map<std::string, Map2D> gts_;
  eval::GtLookup lookup_;
};

TEST_F(EnginesTest, ScoreOverlaysWriteOnePngPerChosenSample) {
  eval::ScoreOptions so;
  so.maps_dir = dir_ + "/a";
  so.index_csv = dir_ + "/index.csv";
  absl::StatusOr<metrics::EvalResult> result = eval::RunScore(so, lookup_);
  ASSERT_TRUE(result.ok()) << result.status();
  ScoreVisOptions vis;
  vis.out_dir = dir_ + "/vis";
  vis.frames_dir = dir_ + "/frames";
  vis.count = 4;  // all 3 sounding + 4/4 = 1 silent
  absl::StatusOr<std::vector<std::string>> written = WriteScoreOverlays(so, vis, lookup_, *result);
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_EQ(written->size(), 4u);
  for (const char* key : {"k1", "k2", "k3", "k4"}) {
    EXPECT_EQ(PngSize(dir_ + "/vis/" + key + ".png"), (std::pair<uint32_t, uint32_t>{224, 256})) << key;
  }

  // A missing frame is an error naming the sample and the file.
  std::remove((dir_ + "/frames/v_huge.jpg").c_str());
  written = WriteScoreOverlays(so, vis, lookup_, *result);
  ASSERT_FALSE(written.ok());
  EXPECT_TRUE(Contains(written.status(), "k2")) << written.status();
  EXPECT_TRUE(Contains(written.status(), "v_huge.jpg")) << written.status();
}

TEST_F(EnginesTest, RunGridHasOneColumnPerRunAndOneSectionPerBucket) {
  RunGridOptions o;
  o.runs = {{"a", dir_ + "/a"}, {"b", dir_ + "/b"}};
  o.index_csv = dir_ + "/index.csv";
  o.frames_dir = dir_ + "/frames";
  o.per_bucket = 1;
  o.overlay.size = 64;
  absl::StatusOr<data::RgbImage> g = RenderRunGrid(o, lookup_);
  ASSERT_TRUE(g.ok()) << g.status();
  // Columns: frame + GT, a, b → width 3·64 + 4·2 = 200. Tiles 64 × (64 + 32) = 96 high. Sections: small (k1),
  // huge (k2), silent (k4) with one row each → height 20 + 3·(18 + 2 + 96) + 2 = 370.
  EXPECT_EQ(g->width, 200);
  EXPECT_EQ(g->height, 370);

  o.per_bucket = 2;  // small gets k1 and k3
  g = RenderRunGrid(o, lookup_);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->height, 20 + (18 + 2 * 98) + (18 + 98) + (18 + 98) + 2);

  std::remove((dir_ + "/b/k2.npy").c_str());
  g = RenderRunGrid(o, lookup_);
  ASSERT_FALSE(g.ok());
  EXPECT_TRUE(Contains(g.status(), "run 'b'")) << g.status();
  EXPECT_TRUE(Contains(g.status(), "k2")) << g.status();
}

}  // namespace
}  // namespace avsl::viz
