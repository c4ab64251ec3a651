// Spectrogram parity with scipy (fixtures/spectrogram_fixtures.txt, made by make_spectrogram_fixtures.py).
// Parity criterion, elementwise on the final values v = log(P + 1e-7) / 12:
//   |v_ours − v_scipy| ≤ 1e-5 · max(|v_scipy|, 1)
// (relative 1e-5 where |v| ≥ 1, i.e. almost everywhere since log(1e-7)/12 = −1.343; absolute 1e-5 near 0).
#include "avsl/data/spectrogram.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "avsl/data/audio_clip.h"
#include "avsl/data/wav_reader.h"
#include "gtest/gtest.h"
#include "synth_signal.h"

namespace avsl::data {
namespace {

constexpr double kFloor = -1.3431746375801213;  // log(1e-7) / 12 = −16.11809565 / 12

std::string FixturePath() {
  return std::string(AVSL_SOURCE_DIR) + "/tests/data_preprocess/fixtures/spectrogram_fixtures.txt";
}

struct Case {
  std::string name;
  int sr = 0, channels = 0, bins = 0, frames = 0;
  int64_t n = 0;
  uint64_t seed = 0;
  std::vector<std::tuple<int, int, double>> points;
  std::vector<std::pair<int, double>> row_sums;
  double total = 0;
};

struct Fixtures {
  std::vector<Case> cases;
  int rs_from = 0, rs_to = 0, rs_seed = 0;
  int64_t rs_in = 0, rs_out = 0;
  std::vector<std::pair<int, double>> rs_values;
};

Fixtures LoadFixtures() {
  Fixtures fx;
  std::ifstream in(FixturePath());
  EXPECT_TRUE(in.good()) << "missing fixture " << FixturePath();
  std::string line;
  Case* cur = nullptr;
  bool in_resample = false;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string tag;
    ss >> tag;
    if (tag == "case") {
      fx.cases.emplace_back();
      cur = &fx.cases.back();
      ss >> cur->name >> cur->sr >> cur->n >> cur->channels >> cur->seed >> cur->bins >> cur->frames;
    } else if (tag == "p") {
      int f, t;
      double v;
      ss >> f >> t >> v;
      cur->points.emplace_back(f, t, v);
    } else if (tag == "r") {
      int f;
      double v;
      ss >> f >> v;
      cur->row_sums.emplace_back(f, v);
    } else if (tag == "s") {
      ss >> cur->total;
    } else if (tag == "resample") {
      in_resample = true;
      ss >> fx.rs_from >> fx.rs_to >> fx.rs_in >> fx.rs_seed >> fx.rs_out;
    } else if (tag == "y" && in_resample) {
      int k;
      double v;
      ss >> k >> v;
      fx.rs_values.emplace_back(k, v);
    }
  }
  return fx;
}

bool Close(double ours, double ref) { return std::fabs(ours - ref) <= 1e-5 * std::max(std::fabs(ref), 1.0); }

TEST(SpectrogramParityTest, MatchesScipyOnAllFixtureCases) {
  const Fixtures fx = LoadFixtures();
  ASSERT_EQ(fx.cases.size(), 9u);
  double worst = 0;  // largest |ours − scipy| / max(|scipy|, 1), reported for docs/preprocessing.md
  for (const Case& c : fx.cases) {
    SCOPED_TRACE(c.name);
    // End to end: write the int16 signal as a WAV, decode, window, spectrogram.
    const std::string wav = ::testing::TempDir() + "/spec_" + c.name + ".wav";
    ASSERT_TRUE(WriteWavPcm16Raw(wav, testing::SynthInt16(c.n, c.channels, c.seed), c.channels, c.sr).ok());
    auto clip = LoadAudioClip(wav);
    ASSERT_TRUE(clip.ok()) << clip.status();
    EXPECT_EQ(clip->sample_rate, c.sr);
    EXPECT_EQ(clip->source_channels, c.channels);
    auto spec = ComputeSpectrogram(clip->samples, clip->sample_rate);
    ASSERT_TRUE(spec.ok()) << spec.status();
    ASSERT_EQ(spec->freq_bins, c.bins);
    ASSERT_EQ(spec->frames, c.frames);
    for (const auto& [f, t, ref] : c.points) {
      worst = std::max(worst, std::fabs(spec->at(f, t) - ref) / std::max(std::fabs(ref), 1.0));
      EXPECT_TRUE(Close(spec->at(f, t), ref))
          << "f=" << f << " t=" << t << " ours=" << spec->at(f, t) << " scipy=" << ref;
    }
    for (const auto& [f, ref] : c.row_sums) {
      double sum = 0;
      for (int t = 0; t < spec->frames; ++t) sum += spec->at(f, t);
      EXPECT_NEAR(sum, ref, 1e-5 * spec->frames * std::max(std::fabs(ref) / spec->frames, 1.0)) << "row " << f;
    }
    double total = 0;
    for (float v : spec->values) total += v;
    EXPECT_NEAR(total, c.total, 1e-5 * spec->values.size() * std::max(std::fabs(c.total) / spec->values.size(), 1.0));
  }
  std::printf("worst scaled deviation from scipy: %.3g\n", worst);
}

TEST(SpectrogramParityTest, ResamplePolyMatchesScipy) {
  const Fixtures fx = LoadFixtures();
  ASSERT_EQ(fx.rs_from, 44100);
  std::vector<int16_t> q = testing::SynthInt16(fx.rs_in, 1, fx.rs_seed);
  std::vector<double> x(q.begin(), q.end());
  for (double& v : x) v /= 32767.0;
  const std::vector<double> y = ResamplePoly(x, fx.rs_to, fx.rs_from);
  ASSERT_EQ(static_cast<int64_t>(y.size()), fx.rs_out);  // ceil(2205 · 160 / 441) = 800
  for (const auto& [k, ref] : fx.rs_values) EXPECT_NEAR(y[k], ref, 1e-9) << "k=" << k;
}

TEST(SpectrogramTest, PeriodicTukeyMatchesSpecConstants) {
  const std::vector<double> w = PeriodicTukey(512, 0.25);
  ASSERT_EQ(w.size(), 512u);
  // width = floor(0.25·512/2) = 64: w[0] = 0.5(1 + cos(−π)) = 0, w[64] = 0.5(1 + cos 0) = 1, flat middle,
  // and the periodic window's last sample is tukey(513)[511] = w[1] by symmetry of the 513-point window.
  EXPECT_DOUBLE_EQ(w[0], 0.0);
  EXPECT_DOUBLE_EQ(w[64], 1.0);
  EXPECT_DOUBLE_EQ(w[300], 1.0);
  EXPECT_NEAR(w[511], w[1], 1e-15);
  EXPECT_NEAR(w[32], 0.5, 1e-15);  // 0.5(1 + cos(π(−1 + 64/128))) = 0.5(1 + cos(−π/2)) = 0.5
  double sq = 0;
  for (double v : w) sq += v * v;
  EXPECT_NEAR(sq, 432.0, 1e-9);  // Σw² of scipy's periodic tukey(512, 0.25)
}

TEST(SpectrogramTest, ShapeAndSilenceFloor) {
  // 48000 samples: frames = ⌊(48000 − 274) / 238⌋ = ⌊200.53⌋ = 200; constant input → P = 0 after the
  // per-segment mean removal → every value is log(1e-7)/12.
  const std::vector<double> x(48000, 0.25);
  auto s = ComputeSpectrogram(x, 16000.0);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->freq_bins, 257);
  EXPECT_EQ(s->frames, 200);
  for (float v : s->values) ASSERT_NEAR(v, kFloor, 1e-6);
}

TEST(SpectrogramTest, DensityScalingOfAnImpulse) {
  // One segment (n = nperseg = 8, noverlap 0, alpha 0 → rectangular window, Σw² = 8, fs = 1).
  // x = [8,0,...,0]: mean 1, so x − mean = [7,−1,...,−1]; its DFT is 7 − (−1) = 8 at every bin k ≠ 0 and
  // 0 at DC. P_k = 64 / (1·8) = 8, doubled to 16 for k = 1..3, Nyquist (k = 4) stays 8, DC is 0.
  SpectrogramOptions o;
  o.nperseg = 8;
  o.noverlap = 0;
  o.tukey_alpha = 0.0;
  o.apply_log = false;
  std::vector<double> x(8, 0.0);
  x[0] = 8.0;
  auto s = ComputeSpectrogram(x, 1.0, o);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->freq_bins, 5);
  ASSERT_EQ(s->frames, 1);
  EXPECT_NEAR(s->at(0, 0), 0.0, 1e-12);
  EXPECT_NEAR(s->at(1, 0), 16.0, 1e-5);
  EXPECT_NEAR(s->at(3, 0), 16.0, 1e-5);
  EXPECT_NEAR(s->at(4, 0), 8.0, 1e-5);
}

TEST(SpectrogramTest, RejectsBadParameters) {
  std::vector<double> x(100, 0.0);
  auto s = ComputeSpectrogram(x, 16000.0);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("100 samples"), std::string::npos) << s.status();
  SpectrogramOptions o;
  o.noverlap = 512;
  EXPECT_FALSE(ComputeSpectrogram(std::vector<double>(1000, 0.0), 16000.0, o).ok());
  EXPECT_FALSE(ComputeSpectrogram(std::vector<double>(1000, 0.0), 0.0).ok());
}

}  // namespace
}  // namespace avsl::data
