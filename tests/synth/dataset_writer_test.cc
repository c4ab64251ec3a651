#include "avsl/synth/dataset_writer.h"

#include <unistd.h>

#include <sndfile.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#if defined(AVSL_TEST_IMGCODECS)
#include <opencv2/imgcodecs.hpp>
#endif
#include <pugixml.hpp>

#include "avsl/data/image_transform.h"
#include "gtest/gtest.h"

namespace avsl {
namespace synth {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// All regular files under `root`, relative path -> bytes.
std::map<std::string, std::string> Snapshot(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) files[fs::relative(e.path(), root).string()] = ReadAll(e.path());
  }
  return files;
}

std::vector<std::string> SplitLines(const std::string& text, const std::string& eol) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(eol, start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + eol.size();
  }
  return lines;
}

// Per-process names: ctest runs every case as its own process, in parallel, sharing TempDir().
fs::path FreshDir(const std::string& name) {
  const fs::path p = fs::path(::testing::TempDir()) / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p;
}

SynthOptions Small(uint64_t seed) {
  SynthOptions o;
  o.seed = seed;
  o.num_train = 40;
  o.num_val = 10;
  o.num_test = 20;
  o.num_negatives = 20;
  o.scene.audio.distractor_prob = 0.3;
  return o;
}

// The reference Flickr parser (EZ-VSL/SLAVC datasets.py::load_all_bboxes): for every grandchild of the root
// tagged bbox, skip its first child and read the next four integers.
std::vector<std::array<int, 4>> ParseFlickrXml(const fs::path& path) {
  pugi::xml_document doc;
  EXPECT_TRUE(doc.load_file(path.c_str())) << path;
  std::vector<std::array<int, 4>> boxes;
  // ElementTree iterates elements only, so text nodes are skipped here too.
  for (pugi::xml_node child : doc.document_element().children()) {
    if (child.type() != pugi::node_element) continue;
    for (pugi::xml_node grandchild : child.children()) {
      if (grandchild.type() != pugi::node_element) continue;
      EXPECT_STREQ(grandchild.name(), "bbox") << path << ": the reference parser needs bbox-only grandchildren";
      std::vector<int> v;
      int index = 0;
      for (pugi::xml_node field : grandchild.children()) {
        if (field.type() != pugi::node_element || index++ == 0) continue;
        v.push_back(field.text().as_int(-1));
      }
      EXPECT_EQ(v.size(), 4u) << path;
      if (v.size() == 4) boxes.push_back({v[0], v[1], v[2], v[3]});
    }
  }
  return boxes;
}

std::vector<short> ReadWav(const fs::path& path, int* rate) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  EXPECT_NE(f, nullptr) << path;
  if (f == nullptr) return {};
  std::vector<short> pcm(static_cast<size_t>(info.frames));
  sf_read_short(f, pcm.data(), info.frames);
  sf_close(f);
  *rate = info.samplerate;
  return pcm;
}

TEST(DatasetWriterTest, SameSeedGivesIdenticalBytesAndAnotherSeedDoesNot) {
  const fs::path a = FreshDir("synth_det_a"), b = FreshDir("synth_det_b"), c = FreshDir("synth_det_c");
  ASSERT_TRUE(WriteSyntheticDataset(Small(5), a.string()).ok());
  ASSERT_TRUE(WriteSyntheticDataset(Small(5), b.string()).ok());
  ASSERT_TRUE(WriteSyntheticDataset(Small(6), c.string()).ok());
  const auto sa = Snapshot(a), sb = Snapshot(b), sc = Snapshot(c);
  // 70 frames, 70 + 20 wavs, 10 + 10 + 20 xml (supervised = round(0.25 * 40)), 17 metadata files
  // (5 Flickr-style, 8 VGG-SS-style, 3 class lists, synth_info.json).
  EXPECT_EQ(sa.size(), 70u + 90u + 40u + 17u);
  ASSERT_EQ(sa.size(), sb.size());
  for (const auto& [name, bytes] : sa) {
    ASSERT_TRUE(sb.count(name)) << name;
    EXPECT_TRUE(bytes == sb.at(name)) << name << " differs between two runs with the same seed";
  }
  int differing = 0;
  for (const auto& [name, bytes] : sa) differing += (sc.count(name) && sc.at(name) != bytes) ? 1 : 0;
  EXPECT_EQ(sc.size(), sa.size());  // same counts, so the same file names
  EXPECT_GT(differing, 150) << "another seed should change nearly every frame and clip";
  EXPECT_EQ(sa.at("frames/train_000000.jpg") == sc.at("frames/train_000000.jpg"), false);
}

TEST(DatasetWriterTest, FilesMatchTheGenerator) {
  const SynthOptions o = Small(11);
  const fs::path root = FreshDir("synth_match");
  ASSERT_TRUE(WriteSyntheticDataset(o, root.string()).ok());
  auto gen = SceneGenerator::Create(o.scene, o.catalogue);
  ASSERT_TRUE(gen.ok());
  const ClassCatalogue& cat = gen->catalogue();

  // vggss.json: test entries first, boxes normalized by 64 (exact in binary: k / 64).
  const nlohmann::json json = nlohmann::json::parse(ReadAll(root / "metadata/vggss.json"));
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 20u + 10u + 10u);
  for (int i = 0; i < o.num_test; ++i) {
    const Scene s = gen->Generate(o.seed, Split::kTest, 0, static_cast<uint64_t>(i));
    const std::string id = SampleId(Split::kTest, static_cast<uint64_t>(i));
    const nlohmann::json& e = json[static_cast<size_t>(i)];
    EXPECT_EQ(e["file"], id);
    EXPECT_EQ(e["class"], cat.at(s.sounding_class).name);
    ASSERT_EQ(e["bbox"].size(), 1u);
    const Box& g = s.gt_boxes[0];
    EXPECT_EQ(e["bbox"][0][0].get<double>() * 64, g.x0) << id;
    EXPECT_EQ(e["bbox"][0][1].get<double>() * 64, g.y0) << id;
    EXPECT_EQ(e["bbox"][0][2].get<double>() * 64, g.x1) << id;
    EXPECT_EQ(e["bbox"][0][3].get<double>() * 64, g.y1) << id;

    EXPECT_EQ(ParseFlickrXml(root / "Annotations" / (id + ".xml")), s.annotator_boxes_256) << id;

    int rate = 0;
    EXPECT_EQ(ReadWav(root / "audio" / (id + ".wav"), &rate),
              std::vector<short>(s.audio.pcm.begin(), s.audio.pcm.end()))
        << id;
    EXPECT_EQ(rate, 16000);

    // JPEG q90 smooths away part of the pixel noise (std 0.04 * 255 = 10.2 levels, mean |noise| = 8.1),
    // so decoded pixels differ from the generator's by roughly that much on average, not more.
    absl::StatusOr<data::RgbImage> rgb = data::DecodeImageFile((root / "frames" / (id + ".jpg")).string());
    ASSERT_TRUE(rgb.ok()) << rgb.status();
    cv::Mat decoded;
    cv::cvtColor(cv::Mat(rgb->height, rgb->width, CV_8UC3, rgb->pixels.data()), decoded, cv::COLOR_RGB2BGR);
    EXPECT_LT(cv::norm(decoded, s.image, cv::NORM_L1) / (64.0 * 64 * 3), 12.0) << id;
#if defined(AVSL_TEST_IMGCODECS)
    // The frames' bytes are cv::imencode's, which wrote them before avsl encoded them itself: the synthetic datasets,
    // and every figure measured on them, are unchanged.
    std::vector<uint8_t> opencv;
    ASSERT_TRUE(cv::imencode(".jpg", s.image, opencv, {cv::IMWRITE_JPEG_QUALITY, o.jpeg_quality}));
    EXPECT_EQ(ReadAll(root / "frames" / (id + ".jpg")), std::string(opencv.begin(), opencv.end())) << id;
#endif
  }

  // Extended test: header, one negative per test image, audio of a class absent from the image.
  const std::string silent = ReadAll(root / "metadata/flickr_test_plus_silent.csv");
  EXPECT_EQ(silent, ReadAll(root / "metadata/vggss_test_plus_silent.csv"));
  EXPECT_NE(silent.substr(silent.size() - 2), "\r\n");  // published file lacks the final newline
  const auto rows = SplitLines(silent, "\r\n");
  ASSERT_EQ(rows.size(), 21u);
  EXPECT_EQ(rows[0], "video,audio,label");
  for (int i = 0; i < o.num_negatives; ++i) {
    EXPECT_EQ(rows[static_cast<size_t>(i) + 1], SampleId(Split::kTest, static_cast<uint64_t>(i)) + "," +
                                                    NegativeAudioId(static_cast<uint64_t>(i)) + ",non-sounding");
    const Scene neg = gen->GenerateNegative(o.seed, Split::kTest, 0, static_cast<uint64_t>(i));
    EXPECT_FALSE(neg.HasClass(neg.audio.sound_class));
    int rate = 0;
    EXPECT_EQ(ReadWav(root / "audio" / (NegativeAudioId(static_cast<uint64_t>(i)) + ".wav"), &rate),
              std::vector<short>(neg.audio.pcm.begin(), neg.audio.pcm.end()));
  }

  // Test CSVs: Flickr-style "id,class" CRLF without final newline; VGG-SS-style id-only CRLF with it.
  const std::string flickr_test = ReadAll(root / "metadata/flickr_test.csv");
  const auto frows = SplitLines(flickr_test, "\r\n");
  ASSERT_EQ(frows.size(), 20u);
  const Scene t0 = gen->Generate(o.seed, Split::kTest, 0, 0);
  EXPECT_EQ(frows[0], "test_000000," + std::to_string(t0.sounding_class));
  const std::string vggss_test = ReadAll(root / "metadata/vggss_test.csv");
  EXPECT_EQ(vggss_test.substr(0, 13), "test_000000\r\n");
  EXPECT_EQ(vggss_test.substr(vggss_test.size() - 13), "test_000019\r\n");

  // Heard and unheard test lists partition the test set by the sounding class.
  auto heard = SplitLines(ReadAll(root / "metadata/vggss_heard_test.csv"), "\n");
  auto unheard = SplitLines(ReadAll(root / "metadata/vggss_unheard_test.csv"), "\n");
  EXPECT_EQ(heard.size() + unheard.size(), 20u);
  for (const std::string& id : heard) {
    const Scene s = gen->Generate(o.seed, Split::kTest, 0, std::stoull(id.substr(5)));
    EXPECT_TRUE(cat.at(s.sounding_class).heard) << id;
  }
  for (const std::string& id : unheard) {
    const Scene s = gen->Generate(o.seed, Split::kTest, 0, std::stoull(id.substr(5)));
    EXPECT_FALSE(cat.at(s.sounding_class).heard) << id;
  }
  EXPECT_EQ(SplitLines(ReadAll(root / "metadata/heard_classes.txt"), "\n").size(), 10u);

  // Supervised subset: round(0.25 * 40) = 10 train ids, each annotated; other train ids are not.
  const auto sup = SplitLines(ReadAll(root / "metadata/flickr_sup_train.txt"), "\n");
  ASSERT_EQ(sup.size(), 10u);
  for (const std::string& id : sup) EXPECT_TRUE(fs::exists(root / "Annotations" / (id + ".xml"))) << id;
  int annotated_train = 0;
  for (int i = 0; i < o.num_train; ++i) {
    annotated_train += fs::exists(root / "Annotations" / (SampleId(Split::kTrain, static_cast<uint64_t>(i)) + ".xml"));
  }
  EXPECT_EQ(annotated_train, 10);
  const auto train = SplitLines(ReadAll(root / "metadata/flickr_train.txt"), "\n");
  EXPECT_EQ(train.size(), 40u);
  EXPECT_EQ(ReadAll(root / "metadata/flickr_train.txt"), ReadAll(root / "metadata/vggss_train.txt"));
}

TEST(DatasetWriterTest, QuickPresetCountsAndTime) {
  const SynthOptions o = QuickPreset();
  EXPECT_EQ(o.num_train, 2000);
  EXPECT_EQ(o.num_val, 250);
  EXPECT_EQ(o.num_test, 250);
  EXPECT_EQ(o.num_negatives, 250);
  const fs::path root = FreshDir("synth_quick");
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(WriteSyntheticDataset(o, root.string()).ok());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 30.0);
  auto count = [&](const char* sub) {
    return std::distance(fs::directory_iterator(root / sub), fs::directory_iterator{});
  };
  EXPECT_EQ(count("frames"), 2500);
  EXPECT_EQ(count("audio"), 2750);
  EXPECT_EQ(count("Annotations"), 500 + 250 + 250);
  EXPECT_EQ(SplitLines(ReadAll(root / "metadata/flickr_train.txt"), "\n").size(), 2000u);
  EXPECT_EQ(SplitLines(ReadAll(root / "metadata/flickr_test.csv"), "\r\n").size(), 250u);
  EXPECT_EQ(SplitLines(ReadAll(root / "metadata/flickr_test_plus_silent.csv"), "\r\n").size(), 251u);
  EXPECT_EQ(SplitLines(ReadAll(root / "metadata/vggss_val.csv"), "\r\n").size(), 250u);
  const nlohmann::json info = nlohmann::json::parse(ReadAll(root / "metadata/synth_info.json"));
  EXPECT_EQ(info["counts"]["supervised"], 500);
  fs::remove_all(root);
}

TEST(DatasetWriterTest, ErrorsNameTheProblem) {
  const fs::path file = FreshDir("synth_not_a_dir");
  std::ofstream(file) << "x";
  absl::Status s = WriteSyntheticDataset(Small(1), file.string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(file.string()), std::string::npos) << s;

  SynthOptions o = Small(1);
  o.num_negatives = 21;  // more than num_test = 20
  s = WriteSyntheticDataset(o, FreshDir("synth_bad").string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("num_negatives: got 21"), std::string::npos) << s;

  auto preset = PresetByName("huge");
  ASSERT_FALSE(preset.ok());
  EXPECT_NE(preset.status().message().find("\"huge\""), std::string::npos);
  EXPECT_NE(preset.status().message().find("expected quick, standard or bench"), std::string::npos);
  EXPECT_TRUE(PresetByName("standard").ok());
}

TEST(DatasetWriterTest, BenchPresetHasTheRealFilesSize) {
  // What scripts/bench_vs_reference.sh times the reference pipeline on: Flickr-SoundNet's 480x360 frames, 10 s clips.
  const absl::StatusOr<SynthOptions> bench = PresetByName("bench");
  ASSERT_TRUE(bench.ok());
  EXPECT_EQ(bench->num_train, 640);
  EXPECT_EQ(bench->scene.image_width, 480);
  EXPECT_EQ(bench->scene.image_height, 360);
  EXPECT_EQ(bench->scene.audio.clip_seconds, 10.0);
  EXPECT_EQ(bench->scene.audio.sample_rate, 16000);
  EXPECT_EQ(bench->jpeg_quality, 90);
  EXPECT_TRUE(ValidateSynthOptions(*bench).ok());
}

TEST(DatasetWriterTest, SupervisedIndicesAreSortedDistinctAndSeeded) {
  SynthOptions o;
  const auto a = SupervisedIndices(o);
  ASSERT_EQ(a.size(), 500u);  // round(0.25 * 2000)
  for (size_t i = 1; i < a.size(); ++i) ASSERT_LT(a[i - 1], a[i]);
  o.seed = 1;
  EXPECT_NE(SupervisedIndices(o), a);
  EXPECT_EQ(SampleId(Split::kVal, 42), "val_000042");
}

}  // namespace
}  // namespace synth
}  // namespace avsl
