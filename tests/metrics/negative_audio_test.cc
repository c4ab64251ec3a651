#include "avsl/metrics/negative_audio.h"

#include <cmath>

#include "gtest/gtest.h"

namespace avsl::metrics {
namespace {

Map2D PeakAt(int index) {
  Map2D m(2, 2, 0.1);
  m.values[static_cast<size_t>(index)] = 0.9;
  return m;
}

SampleRecord Record(const std::string& key, bool sounding, double ciou, double conf) {
  SampleRecord r;
  r.key = key;
  r.sounding = sounding;
  r.ciou = ciou;
  r.conf = conf;
  return r;
}

TEST(NegativeAudioTest, ScoresTheSplitsSoundingSamplesAgainstEachKind) {
  EvalResult split;
  split.samples = {Record("a", true, 0.8, 0.9), Record("b", true, 0.2, 0.6),
                   Record("a__neg", false, 0.0, 0.95)};  // the split's own negative is not a negative-audio sample
  NegativeAudio n;
  AudioDependence peaks;  // the split's samples, as the evaluation records them
  peaks.Add("a", true, PeakAt(0));
  peaks.Add("b", true, PeakAt(1));
  peaks.Add("a", false, PeakAt(2));  // a silent split sample has no peak of its own frame's sound
  ASSERT_TRUE(n.AddNegative("silence", "a", "a__silence", 0.7, PeakAt(0)).ok());  // the peak stays
  ASSERT_TRUE(n.AddNegative("silence", "b", "b__silence", 0.1, PeakAt(3)).ok());  // the peak moves
  ASSERT_TRUE(n.AddNegative("noise", "z", "z__noise", 0.5, PeakAt(0)).ok());      // a frame the split does not hold
  const absl::Status twice = n.AddNegative("noise", "z", "z__noise", 0.5, PeakAt(0));
  EXPECT_EQ(twice.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(twice.message(), "duplicate negative-audio sample key 'z__noise'");
  const NegativeAudioResult r = n.Finalize(split, 0.5, peaks);
  ASSERT_EQ(r.kinds.size(), 2u);
  const NegativeAudioKindResult& s = r.kinds.at("silence");
  // Thresholds 0.9, 0.7, 0.6, 0.1: (P, R) = (1, 1/2), (1/2, 1/2), (1/3, 1), (1/4, 1), since b (cIoU 0.2) is a false
  // positive once claimed. AP = 1/2 * 1 + 1/2 * 1/3; max-F1 = F1(1, 1/2) = 2/3.
  EXPECT_EQ(s.n, 2);
  EXPECT_NEAR(s.ap, 0.5 + 1.0 / 6.0, 1e-12);
  EXPECT_NEAR(s.max_f1, 2.0 / 3.0, 1e-12);
  EXPECT_EQ(s.pairs, 2);
  EXPECT_EQ(s.peak_moved, 1);
  // numpy: mean 0.4, percentile([0.1, 0.7], [10, 50, 90]) = 0.16, 0.4, 0.64.
  EXPECT_NEAR(s.confidence.mean, 0.4, 1e-12);
  EXPECT_NEAR(s.confidence.p10, 0.16, 1e-12);
  EXPECT_NEAR(s.confidence.median, 0.4, 1e-12);
  EXPECT_NEAR(s.confidence.p90, 0.64, 1e-12);
  EXPECT_EQ(r.sounding.n, 2);
  EXPECT_NEAR(r.sounding.median, 0.75, 1e-12);
  EXPECT_EQ(r.kinds.at("noise").pairs, 0);

  const std::map<std::string, double> f = NegativeAudioFields(r);
  EXPECT_NEAR(f.at("neg_silence_ap"), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(f.at("neg_silence_max_f1"), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(f.at("neg_silence_n"), 2.0);
  EXPECT_DOUBLE_EQ(f.at("neg_silence_peak_moved"), 0.5);
  EXPECT_TRUE(std::isnan(f.at("neg_noise_peak_moved")));
  EXPECT_NEAR(f.at("sounding_conf_mean"), 0.75, 1e-12);
  EXPECT_FALSE(f.count("neg_offscreen_ap"));
}

TEST(NegativeAudioTest, AConfidenceThatIgnoresTheSoundScoresTheSoundingFraction) {
  // Every negative as confident as its positive, every positive well localized: at each threshold half of the
  // claims are wrong, so AP is the fraction of sounding samples (1/2), the floor of a map that does not listen.
  EvalResult split;
  NegativeAudio n;
  AudioDependence peaks;
  for (int i = 0; i < 4; ++i) {
    const std::string key = "f" + std::to_string(i);
    const double conf = 0.2 * (i + 1);
    split.samples.push_back(Record(key, true, 0.9, conf));
    peaks.Add(key, true, PeakAt(0));
    ASSERT_TRUE(n.AddNegative("offscreen", key, key + "__offscreen", conf, PeakAt(0)).ok());
  }
  const NegativeAudioKindResult k = n.Finalize(split, 0.5, peaks).kinds.at("offscreen");
  EXPECT_NEAR(k.ap, 0.5, 1e-12);
  EXPECT_EQ(k.peak_moved, 0);
}

TEST(NegativeAudioTest, NoNegativesGiveNoFields) {
  NegativeAudio n;
  AudioDependence peaks;
  peaks.Add("a", true, PeakAt(0));
  EXPECT_TRUE(n.empty());
  EXPECT_TRUE(NegativeAudioFields(n.Finalize(EvalResult{}, 0.5, peaks)).empty());
  const ConfidenceSummary empty = SummarizeConfidences({});
  EXPECT_EQ(empty.n, 0);
  EXPECT_TRUE(std::isnan(empty.median));
}

}  // namespace
}  // namespace avsl::metrics
