#include "avsl/synth/sound_synth.h"

#include <cmath>
#include <string>

#include "avsl/synth/wav_writer.h"
#include "gtest/gtest.h"

namespace avsl {
namespace synth {
namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

// Power of x at frequency f (a single DFT bin at an arbitrary frequency).
double PowerAt(const std::vector<double>& x, double f, double fs) {
  double re = 0.0, im = 0.0;
  for (size_t t = 0; t < x.size(); ++t) {
    re += x[t] * std::cos(kTwoPi * f * t / fs);
    im -= x[t] * std::sin(kTwoPi * f * t / fs);
  }
  return (re * re + im * im) / (x.size() * x.size());
}

ClassCatalogue Catalogue() { return *ClassCatalogue::Create(CatalogueOptions{}); }

TEST(SoundSynthTest, SinglePartialIsAnExactSinusoid) {
  const ClassCatalogue cat = Catalogue();
  AudioOptions o;
  o.max_partials = 1;
  o.f0_jitter = 0.0;
  CounterRng rng(123);
  const std::vector<double> x = SynthesizeTone(cat.at(0), o, rng);  // class 0: no AM
  ASSERT_EQ(x.size(), 8000u);                                       // 16000 Hz * 0.5 s
  // Any sinusoid of angular step w satisfies x[t+1] + x[t-1] = 2 cos(w) x[t]; w = 2 pi 150 / 16000.
  const double c = 2.0 * std::cos(kTwoPi * 150.0 / 16000.0);
  for (size_t t = 1; t + 1 < x.size(); ++t) ASSERT_NEAR(x[t + 1] + x[t - 1], c * x[t], 1e-9) << t;
  double peak = 0.0;
  for (double v : x) peak = std::max(peak, std::fabs(v));
  EXPECT_NEAR(peak, 1.0, 1e-3);  // one partial normalized to amplitude 1
}

TEST(SoundSynthTest, OddOnlyClassHasNoEvenPartials) {
  const ClassCatalogue cat = Catalogue();
  const ClassSpec& odd = cat.at(3);  // (3 / 3) % 2 == 1 -> odd partials only
  ASSERT_TRUE(odd.odd_only);
  AudioOptions o;
  o.f0_jitter = 0.0;
  o.am_depth = 0.0;
  CounterRng rng(5);
  const std::vector<double> x = SynthesizeTone(odd, o, rng);
  const double f0 = odd.f0_hz;
  const double p1 = PowerAt(x, f0, 16000), p2 = PowerAt(x, 2 * f0, 16000), p3 = PowerAt(x, 3 * f0, 16000);
  EXPECT_GT(p1, 1e-3);
  EXPECT_GT(p3, 1e-4);
  EXPECT_LT(p2, 1e-6);
}

TEST(SoundSynthTest, ClipIsQuantizedLikeTheLoaderReadsIt) {
  const ClassCatalogue cat = Catalogue();
  AudioOptions o;
  o.distractor_prob = 1.0;
  CounterRng rng(9);
  const AudioClip clip = SynthesizeClip(cat, 4, 7, o, rng);
  ASSERT_EQ(clip.pcm.size(), 8000u);
  ASSERT_EQ(clip.samples.size(), 8000u);
  EXPECT_EQ(clip.sound_class, 4);
  EXPECT_EQ(clip.distractor_class, 7);
  bool any_nonzero = false;
  for (size_t t = 0; t < clip.pcm.size(); ++t) {
    ASSERT_EQ(clip.samples[t], static_cast<float>(clip.pcm[t] / 32767.0));
    any_nonzero |= clip.pcm[t] != 0;
  }
  EXPECT_TRUE(any_nonzero);
  CounterRng again(9);
  EXPECT_EQ(SynthesizeClip(cat, 4, 7, o, again).pcm, clip.pcm);
}

TEST(SoundSynthTest, RejectsBadOptionsNamingTheKey) {
  AudioOptions o;
  o.sample_rate = 10;
  absl::Status s = ValidateAudioOptions(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("sample_rate: got 10"), std::string::npos) << s;
  o = AudioOptions{};
  o.noise_std_max = 0.01;  // below noise_std_min = 0.05
  s = ValidateAudioOptions(o);
  EXPECT_NE(s.message().find("noise_std_max"), std::string::npos) << s;
}

TEST(WavWriterTest, UnwritablePathIsNamed) {
  const absl::Status s = WriteFileBytes("/nonexistent_dir_for_avsl/x.wav", "abc");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent_dir_for_avsl/x.wav"), std::string::npos) << s;
}

}  // namespace
}  // namespace synth
}  // namespace avsl
