// Video files through FFmpeg: frames, times and sound read back from files the writer made; frame sampling and the
// audio window; and the errors of missing, foreign, truncated and silent-less files.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "avsl/data/video_reader.h"
#include "avsl/data/wav_reader.h"
#include "avsl/testing/test_video.h"
#include "avsl/viz/video_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace avsl::data {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string Tmp(const std::string& name) { return ::testing::TempDir() + "/video_" + name; }

std::string Message(const absl::Status& s) { return std::string(s.message()); }

double Rms(const std::vector<double>& s, size_t from, size_t to) {
  double sum = 0;
  for (size_t i = from; i < to; ++i) sum += s[i] * s[i];
  return to > from ? std::sqrt(sum / static_cast<double>(to - from)) : 0.0;
}

TEST(SampleFramesTest, EveryFrameAtItsOwnTimeWithoutFps) {
  const std::vector<double> times = {0.0, 0.1, 0.2, 0.3};
  const std::vector<FrameSample> s = SampleFrames(times, 0);
  ASSERT_EQ(s.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(s[i].frame, i);
    EXPECT_DOUBLE_EQ(s[i].time_seconds, times[i]);
  }
  EXPECT_TRUE(SampleFrames({}, 5).empty());
}

TEST(SampleFramesTest, TheFrameOnScreenAtEachOutputTime) {
  std::vector<double> times;
  for (int i = 0; i < 10; ++i) times.push_back(i / 10.0);  // 10 fps, 1 s
  // Half the rate: every other frame, 5 outputs.
  std::vector<FrameSample> half = SampleFrames(times, 5);
  ASSERT_EQ(half.size(), 5u);
  for (int k = 0; k < 5; ++k) {
    EXPECT_EQ(half[k].frame, 2 * k);
    EXPECT_NEAR(half[k].time_seconds, k / 5.0, 1e-12);
  }
  // The same rate: each frame once (times that are not exact binary fractions included).
  std::vector<FrameSample> same = SampleFrames(times, 10);
  ASSERT_EQ(same.size(), 10u);
  for (int k = 0; k < 10; ++k) EXPECT_EQ(same[k].frame, k);
  // Twice the rate: each frame twice, and the last frame is held for its period.
  std::vector<FrameSample> twice = SampleFrames(times, 20);
  ASSERT_EQ(twice.size(), 20u);
  for (int k = 0; k < 20; ++k) EXPECT_EQ(twice[k].frame, k / 2) << k;
  // A single picture at 4 fps: one output.
  EXPECT_EQ(SampleFrames({0.5}, 4).size(), 1u);
}

TEST(AudioWindowAtTest, CentredInsideTheTrackShiftedAtItsEnds) {
  AudioTrack t;
  t.mono.sample_rate = 10;
  for (int i = 0; i < 100; ++i) t.mono.samples.push_back(i);  // 10 s
  std::vector<double> mid = AudioWindowAt(t, 5.0, 2.0);       // samples 40..59
  ASSERT_EQ(mid.size(), 20u);
  EXPECT_EQ(mid.front(), 40);
  EXPECT_EQ(mid.back(), 59);
  EXPECT_EQ(AudioWindowAt(t, 0.0, 2.0).front(), 0);   // shifted right, still 2 s of sound
  EXPECT_EQ(AudioWindowAt(t, 9.99, 2.0).back(), 99);  // shifted left
  t.start_seconds = 1.0;                              // the track starts 1 s into the video
  EXPECT_EQ(AudioWindowAt(t, 6.0, 2.0).front(), 40);
  // A track shorter than the window comes whole (CentreClip tiles it, as for a short WAV).
  EXPECT_EQ(AudioWindowAt(t, 5.0, 20.0).size(), 100u);
}

class VideoFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!VideoSupported()) GTEST_SKIP() << "this avsl was built without FFmpeg (AVSL_WITH_FFMPEG)";
  }
};

TEST_F(VideoFileTest, FramesTimesAndSoundComeBackAsWritten) {
  for (const char* extension : {"mp4", "mkv"}) {
    SCOPED_TRACE(extension);
    const std::string path = Tmp(absl::StrCat("roundtrip.", extension));
    testing::TestVideoSpec spec;  // 20 frames at 10 fps, 64x48; 1 s of tone then 1 s of silence, stereo
    spec.channels = 2;
    ASSERT_TRUE(testing::WriteTestVideo(path, spec).ok());
    EXPECT_FALSE(fs::exists(path + ".partial"));
    absl::StatusOr<std::unique_ptr<VideoReader>> reader = VideoReader::Open(path);
    ASSERT_TRUE(reader.ok()) << reader.status();
    const VideoInfo& info = (*reader)->info();
    EXPECT_EQ(info.width, 64);
    EXPECT_EQ(info.height, 48);
    EXPECT_NEAR(info.frame_rate, 10.0, 1e-6);
    EXPECT_TRUE(info.has_audio);
    EXPECT_EQ(info.audio_channels, 2);
    EXPECT_EQ(info.audio_sample_rate, 16000);
    EXPECT_EQ(info.audio_codec, "aac");

    absl::StatusOr<std::vector<double>> times = (*reader)->FrameTimes();
    ASSERT_TRUE(times.ok()) << times.status();
    ASSERT_EQ(times->size(), 20u);
    for (int i = 0; i < 20; ++i) {
      absl::StatusOr<std::optional<VideoFrame>> f = (*reader)->NextFrame();
      ASSERT_TRUE(f.ok()) << f.status();
      ASSERT_TRUE(f->has_value()) << "frame " << i;
      EXPECT_EQ((*f)->index, i);
      // Matroska has no negative times: it shifts every stream by the AAC encoder's delay, so times count from
      // the first frame here and the sound is checked against it below.
      EXPECT_NEAR((*f)->time_seconds - (*times)[0], i / 10.0, 1e-3);
      EXPECT_DOUBLE_EQ((*f)->time_seconds, (*times)[i]);
      EXPECT_EQ((*f)->image.width, 64);
      EXPECT_NEAR(testing::MeanLevel((*f)->image), testing::FrameLevel(i), 4.0) << "frame " << i;
    }
    absl::StatusOr<std::optional<VideoFrame>> end = (*reader)->NextFrame();
    ASSERT_TRUE(end.ok());
    EXPECT_FALSE(end->has_value());

    absl::StatusOr<AudioTrack> audio = (*reader)->ReadAudio();
    ASSERT_TRUE(audio.ok()) << audio.status();
    EXPECT_EQ(audio->channels, 2);
    EXPECT_EQ(audio->mono.sample_rate, 16000);
    const std::vector<double>& mono = audio->mono.samples;
    // AAC codes whole frames of 1024 after 1024 samples of encoder delay, which mp4 trims (its edit list) and
    // Matroska keeps: up to two frames more.
    EXPECT_GE(mono.size(), 32000u);
    EXPECT_LE(mono.size(), 32000u + 2048u);
    // In sync: the tone, written from the first picture on, starts at the first frame's time.
    const size_t onset = static_cast<size_t>(
        std::find_if(mono.begin(), mono.end(), [](double v) { return std::fabs(v) > 0.02; }) - mono.begin());
    EXPECT_NEAR(audio->start_seconds + static_cast<double>(onset) / 16000, (*times)[0], 2e-3);
    ASSERT_EQ(audio->interleaved.size(), 2 * mono.size());
    // The tone (0.5 left, 0.25 right: mono 0.375 peak, rms 0.265) then silence.
    EXPECT_NEAR(Rms(mono, onset + 1600, onset + 14400), 0.375 / std::sqrt(2.0), 0.02);
    EXPECT_LT(Rms(mono, onset + 17600, onset + 30400), 0.005);
    // Mono is the reference's int16 downmix of the channels, / 32767.
    for (size_t i = 1000; i < 1010; ++i) {
      const float* frame = &audio->interleaved[2 * i];
      EXPECT_EQ(mono[i], std::clamp(DownmixFloat(frame, 2) / 32767.0, -1.0, 1.0));
    }
  }
}

TEST_F(VideoFileTest, MalformedFilesFailNamingTheFile) {
  const std::string missing = Tmp("missing.mp4");
  absl::StatusOr<std::unique_ptr<VideoReader>> r = VideoReader::Open(missing);
  EXPECT_TRUE(absl::IsNotFound(r.status())) << r.status();
  EXPECT_THAT(Message(r.status()), HasSubstr(missing));

  const std::string text = Tmp("notes.mp4");
  std::ofstream(text) << "this is not a video, only text long enough to be probed by the demuxers\n";
  r = VideoReader::Open(text);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(Message(r.status()), HasSubstr(text));

  // An mp4 cut in half: its index (written last) is gone.
  const std::string whole = Tmp("whole.mp4"), cut = Tmp("cut.mp4");
  ASSERT_TRUE(testing::WriteTestVideo(whole, {}).ok());
  {
    std::ifstream in(whole, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  r = VideoReader::Open(cut);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(Message(r.status()), HasSubstr(cut));

  // No sound: the frames read, the audio is refused by name.
  const std::string mute = Tmp("mute.mp4");
  testing::TestVideoSpec spec;
  spec.audio_rate = 0;
  ASSERT_TRUE(testing::WriteTestVideo(mute, spec).ok());
  r = VideoReader::Open(mute);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE((*r)->info().has_audio);
  absl::StatusOr<AudioTrack> audio = (*r)->ReadAudio();
  EXPECT_TRUE(absl::IsFailedPrecondition(audio.status())) << audio.status();
  EXPECT_THAT(Message(audio.status()), HasSubstr(mute + ": no audio track"));
  // A WAV is a media file but has no pictures.
  const std::string wav = Tmp("tone.wav");
  std::vector<int16_t> tone(800);
  for (size_t i = 0; i < tone.size(); ++i)
    tone[i] = static_cast<int16_t>(8000 * std::sin(static_cast<double>(i) * 0.3));
  ASSERT_TRUE(WriteWavPcm16Raw(wav, tone, 1, 8000).ok());
  r = VideoReader::Open(wav);
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_THAT(Message(r.status()), HasSubstr(wav + ": no video stream"));
}

TEST_F(VideoFileTest, WriterRefusesBadSizesAndLeavesNothingWhenUnfinished) {
  viz::VideoWriterOptions o;
  o.width = 63;
  o.height = 48;
  absl::StatusOr<std::unique_ptr<viz::VideoWriter>> w = viz::VideoWriter::Open(Tmp("odd.mp4"), o);
  EXPECT_THAT(Message(w.status()), HasSubstr("even positive size, got 63x48"));
  o.width = 64;
  EXPECT_THAT(Message(viz::VideoWriter::Open(Tmp("x.nosuchcontainer"), o).status()),
              HasSubstr("no container for this file name"));
  const std::string path = Tmp("unfinished.mp4");
  {
    w = viz::VideoWriter::Open(path, o);
    ASSERT_TRUE(w.ok()) << w.status();
    data::RgbImage wrong;
    wrong.width = 32;
    wrong.height = 32;
    wrong.pixels.resize(32 * 32 * 3);
    EXPECT_THAT(Message((*w)->WriteFrame(wrong)), HasSubstr("picture 0 is 32x32, expected 64x48"));
    EXPECT_TRUE(fs::exists(path + ".partial"));
    w->reset();  // dropped without Finish
  }
  EXPECT_FALSE(fs::exists(path + ".partial"));
  EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace avsl::data
