#include "avsl/metrics/negative_audio.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "avsl/metrics/detection.h"
#include "avsl/metrics/localization.h"
#include "avsl/metrics/pointing.h"

namespace avsl::metrics {

const std::vector<std::string>& NegativeAudioKinds() {
  static const std::vector<std::string> kinds = {"silence", "noise", "offscreen"};
  return kinds;
}

ConfidenceSummary SummarizeConfidences(std::vector<double> values) {
  ConfidenceSummary s;
  s.n = static_cast<int64_t>(values.size());
  if (values.empty()) {
    s.mean = s.p10 = s.median = s.p90 = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  std::sort(values.begin(), values.end());
  s.mean = Mean(values);
  s.p10 = Percentile(values, 10);
  s.median = Percentile(values, 50);
  s.p90 = Percentile(values, 90);
  return s;
}

absl::Status NegativeAudio::AddNegative(const std::string& kind, const std::string& frame_id, const std::string& key,
                                        double conf, const Map2D& map) {
  return AddNegativePeak(kind, frame_id, key, conf, map.values.empty() ? -1 : static_cast<int64_t>(PeakIndex(map)));
}

absl::Status NegativeAudio::AddNegativePeak(const std::string& kind, const std::string& frame_id,
                                            const std::string& key, double conf, int64_t peak) {
  if (!keys_.insert(key).second) {
    return absl::InvalidArgumentError("duplicate negative-audio sample key '" + key + "'");
  }
  Negative n;
  n.conf = conf;
  n.frame = frame_id;
  n.peak = peak;
  negatives_[kind].push_back(std::move(n));
  return absl::OkStatus();
}

NegativeAudioResult NegativeAudio::Finalize(const EvalResult& split, double gamma,
                                            const AudioDependence& split_peaks) const {
  NegativeAudioResult out;
  std::vector<DetectionSample> positives;
  std::vector<double> sounding_conf;
  for (const SampleRecord& r : split.samples) {
    if (!r.sounding) continue;
    positives.push_back({true, r.ciou, r.conf});
    sounding_conf.push_back(r.conf);
  }
  out.sounding = SummarizeConfidences(std::move(sounding_conf));
  for (const auto& [kind, negatives] : negatives_) {
    NegativeAudioKindResult k;
    k.n = static_cast<int64_t>(negatives.size());
    std::vector<DetectionSample> samples = positives;
    std::vector<double> conf;
    for (const Negative& n : negatives) {
      samples.push_back({false, 0.0, n.conf});
      conf.push_back(n.conf);
      const int64_t own = split_peaks.SoundingPeak(n.frame);
      if (own < 0 || n.peak < 0) continue;
      ++k.pairs;
      if (own != n.peak) ++k.peak_moved;
    }
    const PaperDetection d = PaperDetectionMetrics(samples, gamma);
    k.ap = d.ap;
    k.max_f1 = d.max_f1;
    k.confidence = SummarizeConfidences(std::move(conf));
    out.kinds[kind] = k;
  }
  return out;
}

std::map<std::string, double> NegativeAudioFields(const NegativeAudioResult& result) {
  std::map<std::string, double> f;
  const auto put_summary = [&f](const std::string& prefix, const ConfidenceSummary& s) {
    f[prefix + "conf_mean"] = s.mean;
    f[prefix + "conf_median"] = s.median;
    f[prefix + "conf_p10"] = s.p10;
    f[prefix + "conf_p90"] = s.p90;
  };
  if (result.kinds.empty()) return f;
  put_summary("sounding_", result.sounding);
  for (const auto& [kind, k] : result.kinds) {
    const std::string prefix = "neg_" + kind + "_";
    f[prefix + "n"] = static_cast<double>(k.n);
    f[prefix + "ap"] = k.ap;
    f[prefix + "max_f1"] = k.max_f1;
    put_summary(prefix, k.confidence);
    f[prefix + "peak_moved"] = k.pairs == 0 ? std::numeric_limits<double>::quiet_NaN()
                                            : static_cast<double>(k.peak_moved) / k.pairs;
  }
  return f;
}

}  // namespace avsl::metrics
