// Tests of the datasets plugin, loaded through the plugin host and built from recipe tables, against a tiny
// synthetic dataset written to a temporary directory with the synth writer.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "avsl/builtins/core_components.h"
#include "avsl/core/dataset.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/core/split.h"
#include "avsl/data/image_transform.h"
#include "avsl/data/loader.h"
#include "avsl/data/split_lists.h"
#include "avsl/data/video_reader.h"
#include "avsl/data/wav_reader.h"
#include "avsl/synth/dataset_writer.h"
#include "avsl/testing/test_video.h"
#include "avsl/viz/png_writer.h"

namespace avsl {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// 48x48 frames, 0.25 s at 16 kHz: 4000 samples -> floor((4000 - 274) / 238) = 15 spectrogram frames.
constexpr int kFrames = 15;
constexpr int kTest = 6, kNegatives = 4, kTrain = 8;

synth::SynthOptions TinyOptions() {
  synth::SynthOptions o;
  o.seed = 7;
  o.num_train = kTrain;
  o.num_val = 2;
  o.num_test = kTest;
  o.num_negatives = kNegatives;
  o.supervised_fraction = 0.5;  // round(0.5 * 8) = 4 annotated train ids
  o.scene.image_width = o.scene.image_height = 48;
  o.scene.audio.clip_seconds = 0.25;
  return o;
}

// The SyntheticAV options that reproduce TinyOptions' scenes.
const char* kSyntheticScenes = "seed = 7\nimage_size = 48\nclip_seconds = 0.25\n";

class DatasetsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/avsl_datasets_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = new std::string(tmpl);
    ASSERT_TRUE(synth::WriteSyntheticDataset(TinyOptions(), *root_).ok());
    host_ = new PluginHost();
    AddCoreComponents(*host_);
    const PluginRecord& r = host_->LoadFile(std::string(AVSL_BINARY_DIR) + "/lib/avsl/plugins/libavsl_datasets.so");
    ASSERT_EQ(r.status, PluginStatus::kLoaded) << r.message;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*root_, ec);
    delete root_;
    // The host is leaked on purpose: plugin libraries stay loaded for the process lifetime anyway.
  }

  static std::string Root() { return *root_; }
  static std::string Meta(const std::string& file) { return *root_ + "/metadata/" + file; }

  // Builds [data.test] from `body` (TOML keys) through recipe validation and the registry.
  static absl::StatusOr<std::shared_ptr<Dataset>> Build(const std::string& type, const std::string& body) {
    auto recipe = Recipe::Parse(absl::StrCat("[data.test]\ntype = \"", type, "\"\n", body), "inline.toml", ".", {});
    if (!recipe.ok()) return recipe.status();
    absl::Status valid = recipe->Validate(host_->registry());
    if (!valid.ok()) return valid;
    return host_->registry().Build<Dataset>(recipe->Root().Sub("data").Sub("test"));
  }
  static std::shared_ptr<Dataset> MustBuild(const std::string& type, const std::string& body) {
    auto ds = Build(type, body);
    EXPECT_TRUE(ds.ok()) << ds.status();
    return ds.ok() ? *ds : nullptr;
  }
  static std::string RootKey() { return absl::StrCat("root = \"", *root_, "\"\n"); }

  static std::string* root_;
  static PluginHost* host_;
};

std::string* DatasetsTest::root_ = nullptr;
PluginHost* DatasetsTest::host_ = nullptr;

Sample MustGet(const Dataset& ds, size_t i, SampleContext ctx = {}) {
  absl::StatusOr<Sample> s = ds.Get(i, ctx);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : Sample{};
}

double MeanAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += std::fabs(a[i] - b[i]);
  return sum / static_cast<double>(a.size());
}

// Mean |ΔY| in [0, 1] intensity, Y = 0.299 R + 0.587 G + 0.114 B of the de-normalized images.
double MeanAbsLumaDiff(const data::ImageTensor& a, const data::ImageTensor& b) {
  const data::Normalization n;
  const double w[3] = {0.299, 0.587, 0.114};
  double sum = 0;
  for (int y = 0; y < a.height; ++y) {
    for (int x = 0; x < a.width; ++x) {
      double d = 0;
      for (int c = 0; c < 3; ++c) d += w[c] * (a.at(c, y, x) - b.at(c, y, x)) * n.std[c];
      sum += std::fabs(d);
    }
  }
  return sum / (a.height * a.width);
}

Map2D MirrorX(const Map2D& m) {
  Map2D out(m.height, m.width);
  for (int y = 0; y < m.height; ++y)
    for (int x = 0; x < m.width; ++x) out.at(y, x) = m.at(y, m.width - 1 - x);
  return out;
}

TEST_F(DatasetsTest, RegistersTheFourComponents) {
  const ComponentRegistry& reg = host_->registry();
  for (const char* name : {"datasets.Flickr", "datasets.VggSound", "datasets.SyntheticAV", "datasets.IS3"}) {
    EXPECT_NE(reg.Find(ComponentKind::kDataset, name), nullptr) << name;
  }
  EXPECT_NE(reg.Find(ComponentKind::kSplit, "datasets.OpenSet"), nullptr);
  // Every option documents itself.
  for (const ComponentInfo* info : reg.All()) {
    for (const Field& f : info->schema->fields()) EXPECT_FALSE(f.doc.empty()) << info->name << "." << f.name;
  }
}

// datasets.Pairs (avsl infer's input): the pairs go through the file datasets' test pipeline, so a test frame and
// its clip give exactly the tensors datasets.Flickr gives for them, without GT and not counted as sounding.
TEST_F(DatasetsTest, PairsGiveTheTestPipelinesTensorsWithoutGt) {
  const std::string pipeline = "clip_seconds = 0.25\ninput_size = 32\n";
  auto flickr = MustBuild("datasets.Flickr",
                          RootKey() + "list = \"metadata/flickr_test.csv\"\nmode = \"test\"\n" + pipeline);
  const std::string frame = Root() + "/frames/test_000002.jpg", clip = Root() + "/audio/test_000002.wav";
  auto pairs = MustBuild("datasets.Pairs",
                         absl::StrCat("images = [\"", frame, "\", \"", frame, "\"]\naudios = [\"", clip, "\", \"",
                                      Root(), "/audio/neg_000000.wav\"]\n", pipeline));
  ASSERT_NE(flickr, nullptr);
  ASSERT_NE(pairs, nullptr);
  ASSERT_EQ(pairs->size(), 2u);
  const Sample want = MustGet(*flickr, 2);
  const Sample got = MustGet(*pairs, 0);
  EXPECT_EQ(got.key, "test_000002");
  EXPECT_EQ(MustGet(*pairs, 1).key, "test_000002_1");  // the same image twice: unique keys in list order
  EXPECT_EQ(got.image.values, want.image.values);
  EXPECT_EQ(got.audio.values, want.audio.values);
  EXPECT_FALSE(got.sounding);
  EXPECT_FALSE(got.has_gt);
  EXPECT_THAT(pairs->Describe(1), HasSubstr("neg_000000.wav"));
  // Given keys are used as they are and must be unique.
  auto named = MustBuild("datasets.Pairs", absl::StrCat("images = [\"", frame, "\"]\naudios = [\"", clip,
                                                        "\"]\nkeys = [\"mine\"]\n", pipeline));
  ASSERT_NE(named, nullptr);
  EXPECT_EQ(MustGet(*named, 0).key, "mine");
  EXPECT_THAT(
      std::string(Build("datasets.Pairs", absl::StrCat("images = [\"", frame, "\", \"", frame, "\"]\naudios = [\"",
                                                       clip, "\", \"", clip, "\"]\nkeys = [\"k\", \"k\"]\n"))
                      .status()
                      .message()),
      HasSubstr("key 'k' is given twice"));
  EXPECT_THAT(std::string(Build("datasets.Pairs", absl::StrCat("images = [\"", frame, "\"]\n")).status().message()),
              HasSubstr("images has 1 files and audios 0; expected the same number"));
  EXPECT_THAT(
      std::string(Build("datasets.Pairs", absl::StrCat("images = [\"", frame, "\"]\naudios = [\"/no/clip.wav\"]\n"))
                      .status()
                      .message()),
      HasSubstr("/no/clip.wav: file not found"));
}

// datasets.VideoFrames (avsl infer --video's input): frame k at t_k with the window of sound centred on it gives the
// tensors datasets.Pairs gives for that picture as a PNG and that window as a WAV, so a video goes through the same
// pipeline as files; any order of Get and a second pass give the same samples.
TEST_F(DatasetsTest, VideoFramesGiveThePairsTensorsOfTheSameFrameAndSound) {
  if (!data::VideoSupported()) GTEST_SKIP() << "this avsl was built without FFmpeg (AVSL_WITH_FFMPEG)";
  const std::string video = Root() + "/clip.mp4";
  testing::TestVideoSpec spec;  // 20 frames at 10 fps; 1 s of tone, 1 s of silence at 16 kHz
  ASSERT_TRUE(testing::WriteTestVideo(video, spec).ok());
  const std::string pipeline = "clip_seconds = 0.5\ninput_size = 32\nnperseg = 256\nnoverlap = 128\n";
  auto frames = MustBuild("datasets.VideoFrames", absl::StrCat("path = \"", video, "\"\nfps = 5\n", pipeline));
  ASSERT_NE(frames, nullptr);
  ASSERT_EQ(frames->size(), 10u);  // 2 s at 5 fps
  EXPECT_THAT(frames->Describe(3), HasSubstr("clip.mp4 at 0.600 s (frame 6)"));

  auto reader = data::VideoReader::Open(video);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto track = (*reader)->ReadAudio();
  ASSERT_TRUE(track.ok()) << track.status();
  std::vector<data::RgbImage> pictures;
  for (;;) {
    auto f = (*reader)->NextFrame();
    ASSERT_TRUE(f.ok()) << f.status();
    if (!f->has_value()) break;
    pictures.push_back((*f)->image);
  }
  ASSERT_EQ(pictures.size(), 20u);
  // Samples asked for out of order, as the loader's threads do.
  for (size_t k : {3u, 0u, 9u, 4u}) {
    SCOPED_TRACE(k);
    const Sample got = MustGet(*frames, k);
    EXPECT_EQ(got.key, absl::StrFormat("clip_%06d", k));
    const std::string png = absl::StrCat(Root(), "/frame_", k, ".png"),
                      wav = absl::StrCat(Root(), "/sound_", k, ".wav");
    ASSERT_TRUE(viz::WritePng(png, pictures[2 * k]).ok());
    const std::vector<double> window = data::AudioWindowAt(*track, k / 5.0, 0.5);
    ASSERT_TRUE(data::WriteWavPcm16(wav, std::vector<float>(window.begin(), window.end()), 16000).ok());
    auto pairs = MustBuild("datasets.Pairs",
                           absl::StrCat("images = [\"", png, "\"]\naudios = [\"", wav, "\"]\n", pipeline));
    ASSERT_NE(pairs, nullptr);
    const Sample want = MustGet(*pairs, 0);
    EXPECT_EQ(got.image.values, want.image.values);
    EXPECT_EQ(got.audio.values, want.audio.values);
    EXPECT_FALSE(got.has_gt);
  }
  // A second pass (all samples) decodes again from the start and gives the same tensors.
  std::vector<Sample> pass;
  for (size_t k = 0; k < frames->size(); ++k) pass.push_back(MustGet(*frames, k));
  EXPECT_EQ(pass[3].image.values, MustGet(*frames, 3).image.values);
  // The silent second half: the window at 1.8 s holds no sound.
  const std::vector<double> quiet = data::AudioWindowAt(*track, 1.8, 0.5);
  EXPECT_LT(*std::max_element(quiet.begin(), quiet.end()), 0.01);

  // A file without sound, a missing file, and no path: refused by name.
  const std::string mute = Root() + "/mute.mp4";
  spec.audio_rate = 0;
  ASSERT_TRUE(testing::WriteTestVideo(mute, spec).ok());
  EXPECT_THAT(std::string(Build("datasets.VideoFrames", absl::StrCat("path = \"", mute, "\"\n")).status().message()),
              HasSubstr(mute + ": no audio track"));
  EXPECT_THAT(std::string(Build("datasets.VideoFrames", "path = \"/no/such.mp4\"\n").status().message()),
              HasSubstr("/no/such.mp4: file not found"));
  EXPECT_THAT(std::string(Build("datasets.VideoFrames", "").status().message()), HasSubstr("'path' (the video file)"));
}

TEST_F(DatasetsTest, FlickrTestSetCountsShapesAndConsensusGt) {
  auto ds = MustBuild("datasets.Flickr", RootKey() + "list = \"metadata/flickr_test.csv\"\nmode = \"test\"\n"
                                                     "clip_seconds = 0.25\ninput_size = 32\n");
  ASSERT_NE(ds, nullptr);
  ASSERT_EQ(ds->size(), static_cast<size_t>(kTest));
  Sample s = MustGet(*ds, 2);
  EXPECT_EQ(s.key, "test_000002");
  EXPECT_EQ(s.image.channels, 3);
  EXPECT_EQ(s.image.height, 32);
  EXPECT_EQ(s.image.width, 32);
  EXPECT_EQ(s.image.values.size(), 3u * 32 * 32);
  EXPECT_EQ(s.audio.freq_bins, 257);  // 512 / 2 + 1
  EXPECT_EQ(s.audio.frames, kFrames);
  ASSERT_TRUE(s.has_gt);
  EXPECT_TRUE(s.sounding);
  ASSERT_EQ(s.gt_map.height, 224);
  ASSERT_EQ(s.gt_map.width, 224);
  // Three annotators: values are 0, 0.5 (one box) or 1 (two or more), and the consensus is not empty.
  std::set<double> values(s.gt_map.values.begin(), s.gt_map.values.end());
  for (double v : values) EXPECT_TRUE(v == 0.0 || v == 0.5 || v == 1.0) << v;
  EXPECT_TRUE(values.count(1.0));
  EXPECT_THAT(ds->Describe(2), HasSubstr(Root() + "/frames/test_000002.jpg"));
  // Default input size is the reference's 224.
  auto full = MustBuild("datasets.Flickr", RootKey() + "list = \"metadata/flickr_test.csv\"\nmode = \"test\"\n"
                                                       "clip_seconds = 0.25\n");
  EXPECT_EQ(MustGet(*full, 0).image.values.size(), 3u * 224 * 224);
}

TEST_F(DatasetsTest, TestPlusSilentAppendsTheNonSoundingRows) {
  auto ds = MustBuild("datasets.Flickr", RootKey() + "list = \"metadata/flickr_test.csv\"\nmode = "
                                                     "\"test_plus_silent\"\nextended_list = "
                                                     "\"metadata/flickr_test_plus_silent.csv\"\nclip_seconds = 0.25\n"
                                                     "input_size = 32\n");
  ASSERT_NE(ds, nullptr);
  ASSERT_EQ(ds->size(), static_cast<size_t>(kTest + kNegatives));  // 6 positives + 4 negatives
  for (size_t i = 0; i < ds->size(); ++i) {
    Sample s = MustGet(*ds, i);
    const bool positive = i < static_cast<size_t>(kTest);
    EXPECT_EQ(s.sounding, positive) << i;
    EXPECT_EQ(s.has_gt, positive) << i;
    if (!positive) {
      EXPECT_EQ(s.gt_map.size(), 0u);
      EXPECT_EQ(s.key, absl::StrCat("test_00000", i - kTest, "__neg_00000", i - kTest));
    }
  }
  auto missing = Build("datasets.Flickr", RootKey() + "list = \"metadata/flickr_test.csv\"\n"
                                                      "mode = \"test_plus_silent\"\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("needs extended_list"));
}

bool AllEqual(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [&](float x) { return x == v.front(); });
}

TEST_F(DatasetsTest, NegativeAudioAppendsEveryPositivesFrameWithItsSoundReplaced) {
  const std::string all_kinds = "input_size = 32\nnegative_audio = [\"silence\", \"noise\", \"offscreen\"]\n";
  const std::string keys = "clip_seconds = 0.25\n" + all_kinds;
  auto ds = MustBuild("datasets.Flickr", RootKey() + "list = \"metadata/flickr_test.csv\"\nmode = \"test\"\n" + keys);
  ASSERT_NE(ds, nullptr);
  ASSERT_EQ(ds->size(), static_cast<size_t>(4 * kTest));  // the positives, then one block per kind
  const SampleContext ctx;
  std::vector<Sample> positives;
  for (int j = 0; j < kTest; ++j) positives.push_back(MustGet(*ds, j));
  const std::vector<std::string> kinds = {"silence", "noise", "offscreen"};
  for (size_t k = 0; k < kinds.size(); ++k) {
    for (int j = 0; j < kTest; ++j) {
      const size_t index = kTest * (k + 1) + j;
      Sample s = MustGet(*ds, index, ctx);
      const Sample& own = positives[j];
      EXPECT_EQ(s.negative_audio, kinds[k]) << index;
      EXPECT_FALSE(s.sounding) << index;
      EXPECT_FALSE(s.has_gt) << index;
      EXPECT_EQ(s.gt_map.size(), 0u) << index;
      EXPECT_EQ(s.video_id, own.video_id) << index;
      EXPECT_EQ(s.image.values, own.image.values) << index;  // the same frame through the same test transform
      ASSERT_EQ(s.audio.values.size(), own.audio.values.size()) << index;
      if (kinds[k] == "silence") {
        EXPECT_EQ(s.key, own.key + "__silence");
        EXPECT_TRUE(AllEqual(s.audio.values)) << "the log spectrogram of zeros is one constant";
      } else if (kinds[k] == "noise") {
        EXPECT_EQ(s.key, own.key + "__noise");
        EXPECT_FALSE(AllEqual(s.audio.values));
        EXPECT_NE(s.audio.values, own.audio.values);
        EXPECT_EQ(MustGet(*ds, index, ctx).audio.values, s.audio.values) << "noise is a function of the frame id";
      } else {
        // Flickr has no classes: the partner is the positive half the list away.
        const Sample& partner = positives[(j + kTest / 2) % kTest];
        EXPECT_EQ(s.key, own.key + "__offscreen_" + partner.key);
        EXPECT_EQ(s.audio_id, partner.audio_id);
        EXPECT_EQ(s.audio.values, partner.audio.values);
      }
    }
  }
  // The first block is the split itself, unchanged.
  auto plain = MustBuild("datasets.Flickr", RootKey() + "list = \"metadata/flickr_test.csv\"\nmode = \"test\"\n"
                                                        "clip_seconds = 0.25\ninput_size = 32\n");
  ASSERT_NE(plain, nullptr);
  for (int j = 0; j < kTest; ++j) {
    EXPECT_EQ(MustGet(*plain, j).audio.values, positives[j].audio.values);
    EXPECT_TRUE(positives[j].negative_audio.empty());
  }

  // VGG-SS knows classes: the off-screen clip is another class's.
  auto vgg = MustBuild("datasets.VggSound", RootKey() + "list = \"metadata/vggss_test.csv\"\nmode = \"test\"\n"
                                                        "annotations = \"metadata/vggss.json\"\nclip_seconds = 0.25\n"
                                                        "input_size = 32\nnegative_audio = [\"offscreen\"]\n");
  ASSERT_NE(vgg, nullptr);
  const size_t n = vgg->size() / 2;
  std::map<std::string, int> class_of;
  for (size_t i = 0; i < n; ++i) {
    Sample p = MustGet(*vgg, i);
    class_of[p.audio_id] = p.class_id;
  }
  for (size_t i = n; i < 2 * n; ++i) {
    Sample s = MustGet(*vgg, i);
    ASSERT_TRUE(class_of.count(s.audio_id)) << s.key;
    EXPECT_NE(class_of[s.audio_id], class_of[s.video_id]) << s.key;
    EXPECT_EQ(s.class_id, class_of[s.audio_id]) << s.key;
  }

  // The procedural benchmark: the same frames, and zeros give the file dataset's silence spectrogram.
  auto synthetic = MustBuild("datasets.SyntheticAV", std::string(kSyntheticScenes) + "split = \"test\"\nsize = " +
                                                         std::to_string(kTest) + "\n" + all_kinds);
  ASSERT_NE(synthetic, nullptr);
  ASSERT_EQ(synthetic->size(), static_cast<size_t>(4 * kTest));
  for (int j = 0; j < kTest; ++j) {
    Sample own = MustGet(*synthetic, j);
    Sample silence = MustGet(*synthetic, kTest + j), offscreen = MustGet(*synthetic, 3 * kTest + j);
    EXPECT_EQ(silence.key, own.key + "__silence");
    EXPECT_EQ(silence.audio.values, MustGet(*ds, kTest + j).audio.values);
    EXPECT_EQ(offscreen.image.values, own.image.values);
    EXPECT_NE(offscreen.audio.values, own.audio.values);
    EXPECT_EQ(offscreen.negative_audio, "offscreen");
    EXPECT_THAT(synthetic->Describe(3 * kTest + j), HasSubstr("offscreen (negative audio)"));
  }

  // Wrong values name the key and what was expected.
  auto unknown = Build("datasets.Flickr", RootKey() + "list = \"metadata/flickr_test.csv\"\nmode = \"test\"\n"
                                                      "negative_audio = [\"music\"]\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(unknown.status().message()),
              HasSubstr("'data.test.negative_audio': unknown kind \"music\"; expected one of silence, noise, "
                        "offscreen"));
  auto twice = Build("datasets.SyntheticAV", "split = \"test\"\nnegative_audio = [\"noise\", \"noise\"]\n");
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(std::string(twice.status().message()), HasSubstr("\"noise\" is named twice"));
  auto train = Build("datasets.SyntheticAV", "split = \"train\"\nnegative_audio = [\"silence\"]\n");
  ASSERT_FALSE(train.ok());
  EXPECT_THAT(std::string(train.status().message()), HasSubstr("expected a test split, found a training one"));
}

TEST_F(DatasetsTest, InteractiveSplitQueriesEachSceneWithBothObjectsSounds) {
  auto ds = MustBuild("datasets.SyntheticAV", std::string(kSyntheticScenes) + "split = \"interactive\"\nsize = 5\n");
  ASSERT_NE(ds, nullptr);
  ASSERT_EQ(ds->size(), 10u);
  std::set<std::string> keys;
  for (size_t j = 0; j < 5; ++j) {
    Sample a = MustGet(*ds, 2 * j), b = MustGet(*ds, 2 * j + 1);
    EXPECT_EQ(a.video_id, absl::StrFormat("interactive_%06d", j));
    EXPECT_EQ(b.video_id, a.video_id);
    EXPECT_EQ(a.image.values, b.image.values) << "one frame, two queries";
    EXPECT_NE(a.class_id, b.class_id);
    EXPECT_NE(a.audio.values, b.audio.values);
    EXPECT_TRUE(a.sounding && b.sounding && a.has_gt && b.has_gt);
    EXPECT_NE(a.gt_map.values, b.gt_map.values) << "each query's GT is its own object's box";
    EXPECT_THAT(a.key, ::testing::StartsWith(a.video_id + "__" + a.video_id + "_"));
    keys.insert(a.key);
    keys.insert(b.key);
  }
  EXPECT_EQ(keys.size(), 10u);
  EXPECT_THAT(ds->Describe(3), HasSubstr("interactive scene 1, the sound of its object 1"));
  // Interactive scenes are their own scenes, not the test split's.
  auto test = MustBuild("datasets.SyntheticAV", std::string(kSyntheticScenes) + "split = \"test\"\nsize = 1\n");
  EXPECT_NE(MustGet(*test, 0).image.values, MustGet(*ds, 0).image.values);
  auto annotators = Build("datasets.SyntheticAV", "split = \"interactive\"\ngt = \"annotators\"\n");
  ASSERT_FALSE(annotators.ok());
  EXPECT_THAT(std::string(annotators.status().message()),
              HasSubstr("split \"interactive\" scores each object's exact box"));
}

// datasets.IS3 in the layout of the IS3 download and synthetic3240_bbox.json's format (built here from the synthetic
// dataset's files: the real one cannot be fetched): two entries per image, one frame id, each its own box.
TEST_F(DatasetsTest, Is3EntriesOfOneImageShareAFrameAndKeepTheirOwnBox) {
  const std::string is3 = Root() + "/is3";
  fs::create_directories(is3 + "/images");
  fs::create_directories(is3 + "/audio_wav");
  const std::vector<std::string> names = {"drum_dog_00001_drum", "drum_dog_00001_dog", "fox_train_subway_train",
                                          "fox_train_subway_fox"};
  for (size_t i = 0; i < names.size(); ++i) {
    fs::copy_file(Root() + "/frames/test_00000" + std::to_string(i / 2) + ".jpg", is3 + "/images/" + names[i] + ".jpg",
                  fs::copy_options::overwrite_existing);
    fs::copy_file(Root() + "/audio/test_00000" + std::to_string(i) + ".wav", is3 + "/audio_wav/" + names[i] + ".wav",
                  fs::copy_options::overwrite_existing);
  }
  std::ofstream(is3 + "/synthetic3240_bbox.json")
      << "[{\"image\": \"/x/visual_frames/drum_dog_00001_drum.jpg\", \"audio\": \"/x/a/drum_dog_00001_drum.wav\", "
         "\"gt_box\": [10.0, 20.0, 110.0, 70.0]},\n"
         " {\"image\": \"/x/visual_frames/drum_dog_00001_dog.jpg\", \"audio\": \"/x/a/drum_dog_00001_dog.wav\", "
         "\"gt_box\": [120.9, 100.0, 224.0, 224.0]},\n"
         " {\"image\": \"fox_train_subway_train.jpg\", \"audio\": \"fox_train_subway_train.wav\", \"gt_box\": [0, 0, "
         "224, "
         "224]},\n"
         " {\"image\": \"fox_train_subway_fox.jpg\", \"audio\": \"fox_train_subway_fox.wav\", \"gt_box\": [5, 5, 6, "
         "6]}]";
  auto ds = MustBuild("datasets.IS3", "root = \"" + is3 + "\"\nclip_seconds = 0.25\ninput_size = 32\n");
  ASSERT_NE(ds, nullptr);
  ASSERT_EQ(ds->size(), 4u);
  std::vector<Sample> s;
  for (size_t i = 0; i < 4; ++i) s.push_back(MustGet(*ds, i));
  EXPECT_EQ(s[0].key, "drum_dog_00001_drum");
  EXPECT_EQ(s[0].video_id, "drum_dog_00001");
  EXPECT_EQ(s[1].video_id, "drum_dog_00001");
  EXPECT_EQ(s[2].video_id, "fox_train_subway");  // the reference's rule: the name without its last "_" token
  EXPECT_EQ(s[0].image.values, s[1].image.values);
  EXPECT_NE(s[0].audio.values, s[1].audio.values);
  const auto area = [](const Map2D& m) { return std::count(m.values.begin(), m.values.end(), 1.0); };
  EXPECT_EQ(area(s[0].gt_map), 100 * 50);
  EXPECT_EQ(s[0].gt_map.at(20, 10), 1.0);
  EXPECT_EQ(s[0].gt_map.at(70, 10), 0.0);           // end-exclusive
  EXPECT_EQ(area(s[1].gt_map), (224 - 120) * 124);  // int(120.9) = 120, as Python's int()
  EXPECT_EQ(area(s[2].gt_map), 224 * 224);
  EXPECT_TRUE(s[3].sounding && s[3].has_gt);
  EXPECT_THAT(ds->Describe(0), HasSubstr(is3 + "/images/drum_dog_00001_drum.jpg"));

  std::ofstream(is3 + "/bad.json") << "[{\"image\": \"a_b.jpg\", \"audio\": \"a_b.wav\"}]";
  auto bad = Build("datasets.IS3", "root = \"" + is3 + "\"\nannotations = \"bad.json\"\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr(is3 + "/bad.json: entry 0: missing field \"gt_box\""));
  std::ofstream(is3 + "/noobject.json") << "[{\"image\": \"plain.jpg\", \"audio\": \"a.wav\", \"gt_box\": [0,0,1,1]}]";
  auto no_object = Build("datasets.IS3", "root = \"" + is3 + "\"\nannotations = \"noobject.json\"\n");
  ASSERT_FALSE(no_object.ok());
  EXPECT_THAT(std::string(no_object.status().message()), HasSubstr("\"plain\" has no \"_<object>\" suffix"));
  fs::remove(is3 + "/audio_wav/fox_train_subway_fox.wav");
  absl::StatusOr<Sample> missing = ds->Get(3, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(is3 + "/audio_wav/fox_train_subway_fox.wav"));
}

TEST_F(DatasetsTest, TrainModeLoadsGtOnlyForTheAnnotatedSubsetAndFollowsTheCropAndFlip) {
  // resize = input_size = gt_size = 48 leaves no room to crop, and flip = 1 always mirrors: so the train
  // sample must be exactly the mirrored test-transform sample (image and GT).
  const std::string common = RootKey() + "list = \"metadata/flickr_train.txt\"\nannotated_list = "
                                         "\"metadata/flickr_sup_train.txt\"\nclip_seconds = 0.25\ninput_size = 48\n"
                                         "resize = 48\ngt_size = 48\nflip = 1.0\n";
  auto train = MustBuild("datasets.Flickr", common + "mode = \"train\"\n");
  auto test = MustBuild("datasets.Flickr", common + "mode = \"test\"\n");
  ASSERT_NE(train, nullptr);
  ASSERT_EQ(train->size(), static_cast<size_t>(kTrain));
  auto sup = data::ReadIdList(Meta("flickr_sup_train.txt"));
  ASSERT_TRUE(sup.ok());
  ASSERT_EQ(sup->size(), 4u);  // round(0.5 * 8)
  const std::set<std::string> annotated(sup->begin(), sup->end());
  const SampleContext train_ctx{3, 1, true};
  int with_gt = 0;
  size_t first_annotated = 0;
  for (size_t i = 0; i < train->size(); ++i) {
    Sample a = MustGet(*train, i, train_ctx);
    EXPECT_EQ(a.has_gt, annotated.count(a.key) > 0) << a.key;
    if (!a.has_gt) continue;
    if (with_gt++ == 0) first_annotated = i;
    Sample t = MustGet(*test, i);
    ASSERT_EQ(a.gt_map.height, 48);
    EXPECT_EQ(a.gt_map.values, MirrorX(t.gt_map).values) << a.key;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 48; ++y) ASSERT_EQ(a.image.at(c, y, 0), t.image.at(c, y, 47)) << a.key;
  }
  EXPECT_EQ(with_gt, 4);
  // Without training context (evaluation of a train set) the test transform is used. (`test` opens the XML of
  // every id, which only the annotated ones have.)
  EXPECT_EQ(MustGet(*train, first_annotated, SampleContext{3, 1, false}).image.values,
            MustGet(*test, first_annotated).image.values);
}

TEST_F(DatasetsTest, AugmentationDependsOnlyOnSeedEpochAndIndex) {
  auto ds = MustBuild("datasets.Flickr", RootKey() + "list = \"metadata/flickr_train.txt\"\nclip_seconds = 0.25\n"
                                                     "input_size = 32\n");
  ASSERT_NE(ds, nullptr);
  const SampleContext ctx{5, 2, true};
  EXPECT_EQ(MustGet(*ds, 1, ctx).image.values, MustGet(*ds, 1, ctx).image.values);
  // Some (seed, epoch) pair must give a different crop/flip of a 48 px frame resized to 35 and cropped to 32.
  bool differs = false;
  for (uint64_t e = 3; e < 10 && !differs; ++e) {
    differs = MustGet(*ds, 1, SampleContext{5, e, true}).image.values != MustGet(*ds, 1, ctx).image.values;
  }
  EXPECT_TRUE(differs);
}

TEST_F(DatasetsTest, FileBackedAndProceduralSamplesOfTheSameSceneAgree) {
  auto vgg = MustBuild("datasets.VggSound", RootKey() + "list = \"metadata/vggss_test.csv\"\nmode = "
                                                        "\"test_plus_silent\"\nextended_list = "
                                                        "\"metadata/vggss_test_plus_silent.csv\"\nannotations = "
                                                        "\"metadata/vggss.json\"\nclasses_file = "
                                                        "\"metadata/classes.txt\"\nclip_seconds = 0.25\n"
                                                        "input_size = 48\n");
  auto flickr = MustBuild("datasets.Flickr", RootKey() + "list = \"metadata/flickr_test.csv\"\nmode = \"test\"\n"
                                                         "clip_seconds = 0.25\ninput_size = 48\n");
  auto proc = MustBuild("datasets.SyntheticAV", std::string(kSyntheticScenes) +
                                                    "split = \"test_plus_silent\"\nsize = 6\nnegatives = 4\n"
                                                    "input_size = 48\n");
  auto proc_annot = MustBuild("datasets.SyntheticAV", std::string(kSyntheticScenes) +
                                                          "split = \"test\"\nsize = 6\ngt = \"annotators\"\n"
                                                          "input_size = 48\n");
  ASSERT_TRUE(vgg && flickr && proc && proc_annot);
  ASSERT_EQ(vgg->size(), proc->size());
  for (size_t i = 0; i < vgg->size(); ++i) {
    Sample f = MustGet(*vgg, i);
    Sample p = MustGet(*proc, i);
    EXPECT_EQ(f.key, p.key);
    EXPECT_EQ(f.sounding, p.sounding);
    EXPECT_EQ(f.class_id, p.class_id) << f.key;
    EXPECT_EQ(f.has_gt, p.has_gt);
    EXPECT_EQ(f.gt_map.values, p.gt_map.values) << f.key;  // exact: same box, same rounding
    // The WAV holds exactly the generator's PCM16, so the spectrograms are bit-identical.
    EXPECT_EQ(f.audio.values, p.audio.values) << f.key;
    // Only the JPEG encoding (quality 90, 4:2:0 chroma) separates the images; with the default pixel noise
    // (sigma = 0.04 = 10 grey levels) it is about the noise itself. Normalized units: 1/255/0.225 = 0.0174
    // per grey level, so 0.25 is about 14 grey levels (measured: 0.14-0.16); another scene is several times
    // further (measured: 0.78-1.24). The noise-free case below pins the image path down more tightly.
    const double same = MeanAbsDiff(f.image.values, p.image.values);
    const double other = MeanAbsDiff(f.image.values, MustGet(*proc, (i + 1) % kTest).image.values);
    EXPECT_LT(same, 0.25) << f.key;
    EXPECT_LT(3 * same, other) << f.key;
    if (i < static_cast<size_t>(kTest)) {
      EXPECT_GE(f.class_id, 0);
      EXPECT_EQ(MustGet(*flickr, i).gt_map.values, MustGet(*proc_annot, i).gt_map.values) << f.key;
    } else {
      EXPECT_EQ(p.class_id, -1);
    }
  }
}

TEST_F(DatasetsTest, NoiseFreeFramesDifferOnlyByJpegRounding) {
  // Without pixel noise the frame is smooth, and JPEG q90 changes it by little: the file-backed and the
  // procedural image must then be close (a colour-order or geometry mistake would be far off).
  synth::SynthOptions o = TinyOptions();
  o.num_train = 1;
  o.num_val = 0;
  o.num_test = 2;
  o.num_negatives = 0;
  o.scene.pixel_noise_std = 0.0;
  const std::string root = Root() + "/noise_free";
  ASSERT_TRUE(synth::WriteSyntheticDataset(o, root).ok());
  auto file = MustBuild("datasets.Flickr", "root = \"" + root +
                                               "\"\nlist = \"metadata/flickr_test.csv\"\n"
                                               "mode = \"test\"\nclip_seconds = 0.25\ninput_size = 48\n");
  auto proc = MustBuild("datasets.SyntheticAV", std::string(kSyntheticScenes) +
                                                    "split = \"test\"\nsize = 2\npixel_noise_std = 0.0\n"
                                                    "input_size = 48\n");
  ASSERT_TRUE(file && proc);
  for (size_t i = 0; i < 2; ++i) {
    const Sample a = MustGet(*file, i), b = MustGet(*proc, i);
    const double diff = MeanAbsDiff(a.image.values, b.image.values);
    const double luma = MeanAbsLumaDiff(a.image, b.image);
    std::printf("noise-free scene %zu: mean |diff| %.4f (normalized), luma %.4f (of 1)\n", i, diff, luma);
    // 4:2:0 chroma subsampling blurs the colour of small saturated objects (measured 0.046-0.074, i.e. 2.6-4.2
    // grey levels); luma is kept at full resolution, so it must agree far more closely.
    EXPECT_LT(diff, 0.1) << i;
    EXPECT_LT(luma, 0.01) << i;  // 2.55 grey levels
  }
}

TEST_F(DatasetsTest, ProceduralTrainScenesAreFreshEachEpochUnlessFixed) {
  auto fresh = MustBuild("datasets.SyntheticAV", std::string(kSyntheticScenes) + "size = 8\n");
  auto fixed = MustBuild("datasets.SyntheticAV", std::string(kSyntheticScenes) + "size = 8\nfresh_scenes = false\n");
  auto test = MustBuild("datasets.SyntheticAV", std::string(kSyntheticScenes) + "size = 8\nsplit = \"test\"\n");
  ASSERT_TRUE(fresh && fixed && test);
  // Compare the audio (not augmented): scene (train, epoch e, 0) differs between epochs 0 and 1.
  EXPECT_NE(MustGet(*fresh, 0, {0, 0, true}).audio.values, MustGet(*fresh, 0, {0, 1, true}).audio.values);
  EXPECT_EQ(MustGet(*fixed, 0, {0, 0, true}).audio.values, MustGet(*fixed, 0, {0, 1, true}).audio.values);
  EXPECT_EQ(MustGet(*test, 3, {0, 0, false}).image.values, MustGet(*test, 3, {0, 5, false}).image.values);
  // Train GT only on round(0.25 * 8) = 2 supervised indices; every test scene has GT.
  int with_gt = 0;
  for (size_t i = 0; i < 8; ++i) with_gt += MustGet(*fresh, i, {0, 0, true}).has_gt ? 1 : 0;
  EXPECT_EQ(with_gt, 2);
  EXPECT_TRUE(MustGet(*test, 0).has_gt);
  // Shapes at the default 64 px input: [3, 64, 64] and [1, 257, 15].
  Sample s = MustGet(*fresh, 1, {0, 0, true});
  EXPECT_EQ(s.image.values.size(), 3u * 64 * 64);
  EXPECT_EQ(s.audio.frames, kFrames);
}

TEST_F(DatasetsTest, OpenSetSplitReproducesTheWrittenHeardAndUnheardLists) {
  const std::string base = RootKey() + "list = \"metadata/vggss_test.csv\"\nmode = \"test\"\nannotations = "
                                       "\"metadata/vggss.json\"\nclip_seconds = 0.25\n";
  for (const std::string side : {"heard", "unheard"}) {
    auto ds = MustBuild("datasets.VggSound",
                        base + absl::StrCat("[data.test.split]\ntype = \"datasets.OpenSet\"\nclasses_file = \"",
                                            Meta("heard_classes.txt"), "\"\nkeep = \"", side, "\"\n"));
    ASSERT_NE(ds, nullptr);
    auto expected = data::ReadTestCsv(Meta("vggss_" + side + "_test.csv"));
    ASSERT_TRUE(expected.ok());
    std::vector<std::string> got;
    for (size_t i = 0; i < ds->size(); ++i) got.push_back(MustGet(*ds, i).key);
    EXPECT_EQ(got, data::VideoIds(*expected)) << side;
  }
  // Ids without a class cannot be placed on either side.
  auto no_class = Build("datasets.VggSound", RootKey() +
                                                 "list = \"metadata/vggss_train.txt\"\n[data.test.split]\ntype = "
                                                 "\"datasets.OpenSet\"\nclasses = [\"x\"]\n");
  ASSERT_FALSE(no_class.ok());
  EXPECT_THAT(std::string(no_class.status().message()), HasSubstr("id train_000000 has no class"));
  auto both = Build("datasets.VggSound", base + absl::StrCat("[data.test.split]\ntype = \"datasets.OpenSet\"\n"
                                                             "classes = [\"x\"]\nclasses_file = \"",
                                                             Meta("heard_classes.txt"), "\"\n"));
  ASSERT_FALSE(both.ok());
  EXPECT_THAT(std::string(both.status().message()), HasSubstr("exactly one of classes_file and classes (got both)"));
}

TEST_F(DatasetsTest, ExcludeListDropsAndCountsIds) {
  // 8 train ids minus the 4 supervised ones.
  auto ds = MustBuild("datasets.VggSound", RootKey() + "list = \"metadata/vggss_train.txt\"\nexclude_list = "
                                                       "\"metadata/flickr_sup_train.txt\"\nclip_seconds = 0.25\n");
  ASSERT_NE(ds, nullptr);
  EXPECT_EQ(ds->size(), 4u);
  auto sup = data::ReadIdList(Meta("flickr_sup_train.txt"));
  const std::set<std::string> excluded(sup->begin(), sup->end());
  for (size_t i = 0; i < ds->size(); ++i) EXPECT_EQ(excluded.count(MustGet(*ds, i).key), 0u);
}

TEST_F(DatasetsTest, PublishedListsGiveTheDocumentedCounts) {
  // Only the lists are read at construction, so the published metadata can be checked without media. The
  // published lists are not shipped: like tests/data_formats, this reads them from the sibling folder below and
  // skips when it is absent.
  const std::string ref = std::string(AVSL_SOURCE_DIR) + "/../shared/data/reference/";
  if (!fs::exists(ref + "SLAVC/metadata/vggss_test_plus_silent.csv")) {
    GTEST_SKIP() << "published reference files not found under " << ref;
  }
  // 144000 train ids - 3709 VGG-SS test ids = 140291 (docs/datasets.md, train/test overlap).
  auto train = MustBuild("datasets.VggSound", RootKey() + "list = \"" + ref +
                                                  "EZ-VSL/metadata/vggss_144k.txt\"\n"
                                                  "exclude_list = \"" +
                                                  ref + "EZ-VSL/metadata/vggss_test.csv\"\n");
  ASSERT_NE(train, nullptr);
  EXPECT_EQ(train->size(), 140291u);
  // 5158 positives + 5158 non-sounding rows; 250 + 250 for SLAVC's Flickr files.
  auto vgg = MustBuild("datasets.VggSound", RootKey() + "list = \"" + ref +
                                                "SLAVC/metadata/vggss_test.csv\"\n"
                                                "mode = \"test_plus_silent\"\nextended_list = \"" +
                                                ref + "SLAVC/metadata/vggss_test_plus_silent.csv\"\nannotations = \"" +
                                                ref + "SLAVC/metadata/vggss.json\"\n");
  ASSERT_NE(vgg, nullptr);
  EXPECT_EQ(vgg->size(), 10316u);
  auto flickr = MustBuild("datasets.Flickr", RootKey() + "list = \"" + ref +
                                                 "SLAVC/metadata/flickr_test.csv\"\n"
                                                 "mode = \"test_plus_silent\"\nextended_list = \"" +
                                                 ref + "SLAVC/metadata/flickr_test_plus_silent.csv\"\n");
  ASSERT_NE(flickr, nullptr);
  EXPECT_EQ(flickr->size(), 500u);
}

TEST_F(DatasetsTest, ErrorsNameTheFile) {
  auto no_root = Build("datasets.Flickr", "root = \"/nonexistent/avsl\"\nlist = \"a.txt\"\n");
  ASSERT_FALSE(no_root.ok());
  EXPECT_EQ(no_root.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(no_root.status().message()), HasSubstr("/nonexistent/avsl: directory not found"));

  // The real-data recipes ship with empty roots (recipe variables): the message says which key to set.
  auto empty_root = Build("datasets.VggSound", "root = \"\"\nlist = \"a.txt\"\n");
  ASSERT_FALSE(empty_root.ok());
  EXPECT_THAT(std::string(empty_root.status().message()), HasSubstr("root ('"));
  EXPECT_THAT(std::string(empty_root.status().message()), HasSubstr(".root') is empty: set it to the dataset folder"));

  auto no_list = Build("datasets.Flickr", RootKey() + "list = \"metadata/nope.txt\"\n");
  ASSERT_FALSE(no_list.ok());
  EXPECT_THAT(std::string(no_list.status().message()), HasSubstr(Root() + "/metadata/nope.txt"));

  // A VGG-SS test id without a vggss.json entry: the train list's non-supervised ids are not in the json.
  auto no_gt = Build("datasets.VggSound", RootKey() + "list = \"metadata/vggss_train.txt\"\nmode = \"test\"\n"
                                                      "annotations = \"metadata/vggss.json\"\n");
  ASSERT_FALSE(no_gt.ok());
  EXPECT_THAT(std::string(no_gt.status().message()), HasSubstr("has no entry in " + Root() + "/metadata/vggss.json"));

  // Missing frame: the list is read at construction, the file is opened by Get.
  const std::string list = Root() + "/broken_list.txt";
  std::ofstream(list) << "test_000000\nghost_000001\ntest_000001\n";
  auto broken = MustBuild("datasets.Flickr", RootKey() + "list = \"" + list +
                                                 "\"\nmode = \"test\"\n"
                                                 "clip_seconds = 0.25\n");
  ASSERT_NE(broken, nullptr);
  ASSERT_EQ(broken->size(), 3u);
  absl::StatusOr<Sample> ghost = broken->Get(1, {});
  ASSERT_FALSE(ghost.ok());
  EXPECT_EQ(ghost.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(ghost.status().message()), HasSubstr(Root() + "/frames/ghost_000001.jpg"));

  // Malformed annotation: a copy of test_000000 whose XML has a <bbox> with 3 fields.
  const std::string bad = Root() + "/bad_root";
  fs::create_directories(bad + "/frames");
  fs::create_directories(bad + "/audio");
  fs::create_directories(bad + "/Annotations");
  fs::copy_file(Root() + "/frames/test_000000.jpg", bad + "/frames/test_000000.jpg");
  fs::copy_file(Root() + "/audio/test_000000.wav", bad + "/audio/test_000000.wav");
  std::ofstream(bad + "/list.txt") << "test_000000";
  std::ofstream(bad + "/Annotations/test_000000.xml")
      << "<annotation><object><bbox><a>1</a><xmin>1</xmin><ymin>2</ymin></bbox></object></annotation>";
  auto bad_ds = MustBuild("datasets.Flickr", "root = \"" + bad +
                                                 "\"\nlist = \"list.txt\"\nmode = \"test\"\n"
                                                 "clip_seconds = 0.25\n");
  ASSERT_NE(bad_ds, nullptr);
  absl::StatusOr<Sample> bad_sample = bad_ds->Get(0, {});
  ASSERT_FALSE(bad_sample.ok());
  EXPECT_THAT(std::string(bad_sample.status().message()), HasSubstr(bad + "/Annotations/test_000000.xml"));
}

TEST_F(DatasetsTest, LoaderSkipPolicyListsTheMissingSampleAndErrorPolicyStops) {
  const std::string list = Root() + "/loader_list.txt";
  std::ofstream(list) << "test_000000\ntest_000001\nghost_000002\ntest_000003\ntest_000004";
  auto ds = MustBuild("datasets.Flickr", RootKey() + "list = \"" + list +
                                             "\"\nmode = \"test\"\n"
                                             "clip_seconds = 0.25\ninput_size = 32\n");
  ASSERT_NE(ds, nullptr);
  data::LoaderOptions o;
  o.batch_size = 2;
  o.workers = 2;
  o.on_error = data::OnError::kSkip;
  auto loader = data::Loader::Create(ds, o);
  ASSERT_TRUE(loader.ok());
  ASSERT_TRUE((*loader)->StartEpoch(0).ok());
  size_t delivered = 0;
  while (true) {
    auto b = (*loader)->Next();
    ASSERT_TRUE(b.ok()) << b.status();
    if (!b->has_value()) break;
    delivered += (*b)->samples.size();
  }
  EXPECT_EQ(delivered, 4u);
  ASSERT_EQ((*loader)->skipped_count(), 1u);
  EXPECT_EQ((*loader)->skipped()[0].index, 2u);
  EXPECT_THAT(data::FormatSkipped((*loader)->skipped()[0]), HasSubstr(Root() + "/frames/ghost_000002.jpg"));

  o.on_error = data::OnError::kError;
  auto strict = data::Loader::Create(ds, o);
  ASSERT_TRUE(strict.ok());
  ASSERT_TRUE((*strict)->StartEpoch(0).ok());
  absl::Status status;
  while (status.ok()) {
    auto b = (*strict)->Next();
    if (!b.ok()) {
      status = b.status();
    } else if (!b->has_value()) {
      break;
    }
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()), HasSubstr("datasets.Flickr ghost_000002"));
}

}  // namespace
}  // namespace avsl
