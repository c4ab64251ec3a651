// WAV decoding semantics, errors naming the file, and the reference's centre window / tiling.
#include <sndfile.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "avsl/data/audio_clip.h"
#include "avsl/data/wav_reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace avsl::data {
namespace {

using ::testing::HasSubstr;

std::string Tmp(const std::string& name) { return ::testing::TempDir() + "/" + name; }

bool Mentions(const absl::Status& s, const std::string& text) {
  return std::string(s.message()).find(text) != std::string::npos;
}

TEST(DownmixTest, StereoInt16IsAverageRoundedHalfUp) {
  const int16_t a[2] = {3, 4};          // (16384·7 + 16384) >> 15 = 131072 >> 15 = 4   (3.5 → 4)
  const int16_t b[2] = {-3, -4};        // (−114688 + 16384) >> 15 = −98304 >> 15 = −3 (−3.5 → −3)
  const int16_t c[2] = {32767, 32767};  // 16384·65535 >> 15 = floor(32767.5) = 32767
  const int16_t d[2] = {-32768, -32768};
  const int16_t e[2] = {100, -101};  // (−16384 + 16384) >> 15 = 0  (−0.5 → 0)
  EXPECT_EQ(DownmixInt16(a, 2), 4);
  EXPECT_EQ(DownmixInt16(b, 2), -3);
  EXPECT_EQ(DownmixInt16(c, 2), 32767);
  EXPECT_EQ(DownmixInt16(d, 2), -32768);
  EXPECT_EQ(DownmixInt16(e, 2), 0);
  const int16_t m[1] = {-7};
  EXPECT_EQ(DownmixInt16(m, 1), -7);
}

TEST(DownmixTest, FloatPathQuantizesLikeSwresample) {
  const float one[1] = {1.0f};           // lrintf(32768) = 32768 → clipped to 32767
  const float mix[2] = {0.5f, 0.25f};    // 0.375 · 32768 = 12288
  const float half[1] = {0.5f / 32768};  // 0.5 → lrintf rounds half to even → 0
  const float tq[1] = {1.5f / 32768};    // 1.5 → 2
  EXPECT_EQ(DownmixFloat(one, 1), 32767);
  EXPECT_EQ(DownmixFloat(mix, 2), 12288);
  EXPECT_EQ(DownmixFloat(half, 1), 0);
  EXPECT_EQ(DownmixFloat(tq, 1), 2);
  const double neg[1] = {-1.5};
  EXPECT_EQ(DownmixDouble(neg, 1), -32768);
}

TEST(WavReaderTest, Pcm16StereoRoundTripWithClip) {
  const std::string path = Tmp("stereo.wav");
  // Frames (L,R): (1000,2000) → 1500; (−32768,−32768) → −32768 → /32767 = −1.00003 → clipped to −1;
  // (32767,−32767) → (16384·0 + 16384) >> 15 = 0.
  ASSERT_TRUE(WriteWavPcm16Raw(path, {1000, 2000, -32768, -32768, 32767, -32767}, 2, 22050).ok());
  auto a = ReadMonoAudio(path);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->sample_rate, 22050);
  EXPECT_EQ(a->source_channels, 2);
  ASSERT_EQ(a->samples.size(), 3u);
  EXPECT_DOUBLE_EQ(a->samples[0], 1500.0 / 32767.0);
  EXPECT_DOUBLE_EQ(a->samples[1], -1.0);
  EXPECT_DOUBLE_EQ(a->samples[2], 0.0);
}

TEST(WavReaderTest, ASampleRateBeyondAnyHardwareIsRefused) {
  // The 3 s window is rate x 3 samples whatever the file holds: a corrupt rate would size it (docs/robustness.md).
  const std::string ok = Tmp("rate_ok.wav"), bad = Tmp("rate_bad.wav");
  ASSERT_TRUE(WriteWavPcm16Raw(ok, {1, 2, 3, 4}, 1, kMaxSampleRate).ok());
  ASSERT_TRUE(WriteWavPcm16Raw(bad, {1, 2, 3, 4}, 1, kMaxSampleRate + 1).ok());
  EXPECT_TRUE(ReadMonoAudio(ok).ok());
  const absl::Status s = ReadMonoAudio(bad).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("sample rate 768001 Hz is above the 768000 Hz avsl reads"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("AVSL_MAX_SAMPLE_RATE=N raises the limit"));
  // A user with honest files at a higher rate raises it.
  setenv("AVSL_MAX_SAMPLE_RATE", "1000000", 1);
  const bool raised = ReadMonoAudio(bad).ok();
  unsetenv("AVSL_MAX_SAMPLE_RATE");
  EXPECT_TRUE(raised);
}

TEST(WavWriterTest, CanonicalHeaderAndLibsndfileReadsItBack) {
  const std::vector<int16_t> pcm = {0, 1, -1, 32767, -32768};
  auto encoded = EncodeWavPcm16(pcm, 1, 16000);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  const std::string& wav = *encoded;
  ASSERT_EQ(wav.size(), 44u + 10u);
  EXPECT_EQ(wav.substr(0, 4), "RIFF");
  // RIFF size = 36 + data bytes = 36 + 5 * 2 = 46 = 0x2E, little-endian.
  EXPECT_EQ(static_cast<unsigned char>(wav[4]), 0x2E);
  EXPECT_EQ(wav.substr(8, 8), "WAVEfmt ");
  // Sample rate 16000 = 0x3E80 at offset 24; byte rate 32000 = 0x7D00 at offset 28.
  EXPECT_EQ(static_cast<unsigned char>(wav[24]), 0x80);
  EXPECT_EQ(static_cast<unsigned char>(wav[25]), 0x3E);
  EXPECT_EQ(static_cast<unsigned char>(wav[28]), 0x00);
  EXPECT_EQ(static_cast<unsigned char>(wav[29]), 0x7D);
  // -32768 = 0x8000 stored as 00 80.
  EXPECT_EQ(static_cast<unsigned char>(wav[52]), 0x00);
  EXPECT_EQ(static_cast<unsigned char>(wav[53]), 0x80);

  // WriteWavPcm16Raw writes exactly these bytes, and libsndfile reads them back.
  const std::string path = Tmp("wav_writer_test.wav");
  ASSERT_TRUE(WriteWavPcm16Raw(path, pcm, 1, 16000).ok());
  std::ifstream in(path, std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()), wav);
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  EXPECT_EQ(info.samplerate, 16000);
  EXPECT_EQ(info.channels, 1);
  EXPECT_EQ(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  std::vector<short> back(pcm.size() + 1);
  EXPECT_EQ(sf_read_short(f, back.data(), static_cast<sf_count_t>(back.size())), 5);
  sf_close(f);
  for (size_t i = 0; i < pcm.size(); ++i) EXPECT_EQ(back[i], pcm[i]) << i;
  std::remove(path.c_str());
}

TEST(WavWriterTest, StereoHeaderFieldsAndErrors) {
  // 2 frames of 2 channels at 22050 Hz: channels 2 at offset 22, byte rate 22050·2·2 = 88200 = 0x015888 at
  // offset 28, block align 4 at offset 32, data size 8 at offset 40.
  auto wav = EncodeWavPcm16({1, 2, 3, 4}, 2, 22050);
  ASSERT_TRUE(wav.ok()) << wav.status();
  ASSERT_EQ(wav->size(), 44u + 8u);
  EXPECT_EQ(static_cast<unsigned char>((*wav)[22]), 2);
  EXPECT_EQ(static_cast<unsigned char>((*wav)[28]), 0x88);
  EXPECT_EQ(static_cast<unsigned char>((*wav)[29]), 0x58);
  EXPECT_EQ(static_cast<unsigned char>((*wav)[30]), 0x01);
  EXPECT_EQ(static_cast<unsigned char>((*wav)[32]), 4);
  EXPECT_EQ(static_cast<unsigned char>((*wav)[40]), 8);
  EXPECT_EQ(EncodeWavPcm16({1, 2, 3}, 2, 22050).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeWavPcm16({1}, 0, 22050).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeWavPcm16({1}, 1, 0).status().code(), absl::StatusCode::kInvalidArgument);
  const std::string bad = "/nonexistent_dir_for_avsl/x.wav";
  const absl::Status s = WriteWavPcm16Raw(bad, {1, 2, 3}, 2, 22050);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Mentions(s, bad)) << s;
  const absl::Status unwritable = WriteWavPcm16Raw(bad, {1, 2}, 2, 22050);
  ASSERT_FALSE(unwritable.ok());
  EXPECT_TRUE(Mentions(unwritable, bad)) << unwritable;
}

TEST(WavReaderTest, WriteWavPcm16RoundsToQuantizedGrid) {
  const std::string path = Tmp("mono.wav");
  // 0.5·32767 = 16383.5 → round half even → 16384; 2.0 clips to 32767; −1 → −32767.
  ASSERT_TRUE(WriteWavPcm16(path, {0.5f, 2.0f, -1.0f, 0.0f}, 16000).ok());
  auto a = ReadMonoAudio(path);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->samples.size(), 4u);
  EXPECT_DOUBLE_EQ(a->samples[0], 16384.0 / 32767.0);
  EXPECT_DOUBLE_EQ(a->samples[1], 1.0);
  EXPECT_DOUBLE_EQ(a->samples[2], -1.0);
  EXPECT_DOUBLE_EQ(a->samples[3], 0.0);
  EXPECT_FALSE(WriteWavPcm16(Tmp("nan.wav"), {std::nanf("")}, 16000).ok());
}

TEST(WavReaderTest, FloatWavUsesSwresampleQuantization) {
  const std::string path = Tmp("float.wav");
  SF_INFO info{};
  info.samplerate = 8000;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr);
  const float x[4] = {0.25f, 1.2f, -1.2f, 3.0f / 32768};  // → 8192, 32767, −32768, 3
  ASSERT_EQ(sf_writef_float(f, x, 4), 4);
  sf_close(f);
  auto a = ReadMonoAudio(path);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->samples.size(), 4u);
  EXPECT_DOUBLE_EQ(a->samples[0], 8192.0 / 32767.0);
  EXPECT_DOUBLE_EQ(a->samples[1], 1.0);
  EXPECT_DOUBLE_EQ(a->samples[2], -1.0);  // −32768/32767 clipped
  EXPECT_DOUBLE_EQ(a->samples[3], 3.0 / 32767.0);
}

TEST(WavReaderTest, MissingFileNamesIt) {
  const std::string path = Tmp("does_not_exist.wav");
  auto a = ReadMonoAudio(path);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Mentions(a.status(), path)) << a.status();
}

TEST(WavReaderTest, NotAudioNamesIt) {
  const std::string path = Tmp("not_audio.wav");
  std::ofstream(path) << "this is a text file, not RIFF audio, padded to be long enough to sniff.\n";
  auto a = ReadMonoAudio(path);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(a.status(), path)) << a.status();
}

TEST(WavReaderTest, TruncatedDataChunkNamesIt) {
  const std::string full = Tmp("full.wav");
  ASSERT_TRUE(WriteWavPcm16(full, std::vector<float>(16000, 0.1f), 16000).ok());
  std::ifstream in(full, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(bytes.size(), 44u + 32000u);  // canonical 44-byte header + 16000 · 2 bytes
  const std::string cut = Tmp("truncated.wav");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, 20000);
  auto a = ReadMonoAudio(cut);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(Mentions(a.status(), cut)) << a.status();
  EXPECT_TRUE(Mentions(a.status(), "truncated")) << a.status();
  // Cut inside the header: no data chunk at all.
  const std::string header_only = Tmp("header_only.wav");
  std::ofstream(header_only, std::ios::binary) << bytes.substr(0, 30);
  auto b = ReadMonoAudio(header_only);
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(Mentions(b.status(), header_only)) << b.status();
}

TEST(WavReaderTest, EmptyWavIsAnError) {
  const std::string path = Tmp("empty.wav");
  ASSERT_TRUE(WriteWavPcm16(path, {}, 16000).ok());
  auto a = ReadMonoAudio(path);
  ASSERT_FALSE(a.ok());
  EXPECT_TRUE(Mentions(a.status(), path)) << a.status();
}

TEST(AudioClipTest, WindowStartAndLength) {
  EXPECT_EQ(ClipLength(16000, 3.0), 48000);
  EXPECT_EQ(ClipLength(22050, 3.0), 66150);
  EXPECT_EQ(CentreWindowStart(84800, 16000, 3.0), 18400);   // (84800 − 48000) / 2
  EXPECT_EQ(CentreWindowStart(100001, 22050, 3.0), 16925);  // ⌊(100001 − 66150) / 2⌋ = ⌊16925.5⌋
  EXPECT_EQ(CentreWindowStart(150000, 44100, 3.0), 8850);   // exact; PyAV's float path may give 8849
  EXPECT_EQ(CentreWindowStart(48000, 16000, 3.0), 0);
  EXPECT_EQ(CentreWindowStart(100, 16000, 3.0), 0);
}

TEST(AudioClipTest, CentreWindowOfLongClip) {
  std::vector<double> x(10);
  for (int i = 0; i < 10; ++i) x[i] = i;
  auto c = CentreClip(x, 1, 3.0);  // L = 3, start = ⌊(10 − 3)/2⌋ = 3
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, (std::vector<double>{3, 4, 5}));
}

TEST(AudioClipTest, ShortClipIsTiledFromItsStart) {
  // L = 2·3 = 6 > 4 samples: tile int(6/4)+1 = 2 times → [1,2,3,4,1,2,3,4], cut to 6.
  auto c = CentreClip({1, 2, 3, 4}, 2, 3.0);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, (std::vector<double>{1, 2, 3, 4, 1, 2}));
  auto one = CentreClip({7}, 2, 1.5);  // L = 3
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, (std::vector<double>{7, 7, 7}));
  EXPECT_FALSE(CentreClip({}, 16000, 3.0).ok());
}

TEST(AudioClipTest, ResampledLoadHasTargetRateAndLength) {
  const std::string path = Tmp("for_resample.wav");
  std::vector<float> x(44100 * 4);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.3f * std::sin(0.05f * static_cast<float>(i));
  ASSERT_TRUE(WriteWavPcm16(path, x, 44100).ok());
  ClipOptions o;
  o.target_sample_rate = 16000;
  auto c = LoadAudioClip(path, o);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->sample_rate, 16000);
  EXPECT_EQ(c->samples.size(), 48000u);
  EXPECT_EQ(ResamplePoly({1.0, 2.0}, 3, 3), (std::vector<double>{1.0, 2.0}));
}

TEST(AudioClipTest, LoadErrorNamesFile) {
  auto c = LoadAudioClip(Tmp("nope.wav"));
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(Mentions(c.status(), "nope.wav"));
}

TEST(AudioClipTest, ReadingOnlyTheWindowGivesTheWholeReadsSamples) {
  // Mono and stereo, odd and even lengths, longer and shorter than the 3 s window, and 1.5 s windows: the
  // windowed read (LoadAudioClip) must equal CentreClip of the whole clip sample for sample.
  int n = 0;
  for (int channels : {1, 2}) {
    for (int frames : {48000, 48001, 160000, 160003, 20000}) {
      std::vector<int16_t> pcm(static_cast<size_t>(frames) * channels);
      for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<int16_t>((i * 7919) % 65536 - 32768);
      const std::string path = Tmp("window_" + std::to_string(n++) + ".wav");
      ASSERT_TRUE(WriteWavPcm16Raw(path, pcm, channels, 16000).ok());
      for (double seconds : {3.0, 1.5}) {
        ClipOptions o;
        o.clip_seconds = seconds;
        const absl::StatusOr<MonoAudio> windowed = LoadAudioClip(path, o);
        ASSERT_TRUE(windowed.ok()) << windowed.status();
        const absl::StatusOr<MonoAudio> whole = ReadMonoAudio(path);
        ASSERT_TRUE(whole.ok());
        const absl::StatusOr<std::vector<double>> expected = CentreClip(whole->samples, 16000, seconds);
        ASSERT_TRUE(expected.ok());
        EXPECT_EQ(windowed->samples, *expected) << frames << " frames, " << channels << " channels, " << seconds;
        EXPECT_EQ(windowed->source_channels, channels);
      }
    }
  }
}

TEST(WavReaderTest, ARangeIsThatSliceOfTheWholeClip) {
  const std::string path = Tmp("range.wav");
  std::vector<int16_t> pcm(1000);
  for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<int16_t>(i * 31);
  ASSERT_TRUE(WriteWavPcm16Raw(path, pcm, 1, 8000).ok());
  const absl::StatusOr<MonoAudio> whole = ReadMonoAudio(path);
  ASSERT_TRUE(whole.ok());
  const absl::StatusOr<MonoAudio> part = ReadMonoAudioRange(path, [](int64_t, int) {
    return std::pair<int64_t, int64_t>{990, 50};
  });  // clamped
  ASSERT_TRUE(part.ok()) << part.status();
  EXPECT_EQ(part->samples, std::vector<double>(whole->samples.begin() + 990, whole->samples.end()));
  const absl::StatusOr<MonoAudio> none = ReadMonoAudioRange(path, [](int64_t, int) {
    return std::pair<int64_t, int64_t>{1000, 5};
  });
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(std::string(none.status().message()), ::testing::HasSubstr("no frames in [1000, 1005) of 1000"));
}

}  // namespace
}  // namespace avsl::data
