#include "avsl/metrics/negative_audio.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "avsl/metrics/detection.h"
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
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(values.size());
  const auto quantile = [&](double q) {
    const double pos = q * static_cast<double>(values.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, values.size() - 1);
    return values[lo] + (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
  };
  s.p10 = quantile(0.1);
  s.median = quantile(0.5);
  s.p90 = quantile(0.9);
  return s;
}

void NegativeAudio::AddSplitSample(const std::string& frame_id, bool sounding, const Map2D& map) {
  if (!sounding || map.values.empty()) return;
  sounding_peaks_.emplace(frame_id, static_cast<int64_t>(PeakIndex(map)));
}

absl::Status NegativeAudio::AddNegative(const std::string& kind, const std::string& frame_id, const std::string& key,
                                        double conf, const Map2D& map) {
  if (!keys_.insert(key).second) {
    return absl::InvalidArgumentError("duplicate negative-audio sample key '" + key + "'");
  }
  Negative n;
  n.conf = conf;
  n.frame = frame_id;
  n.peak = map.values.empty() ? -1 : static_cast<int64_t>(PeakIndex(map));
  negatives_[kind].push_back(std::move(n));
  return absl::OkStatus();
}

NegativeAudioResult NegativeAudio::Finalize(const EvalResult& split, double gamma) const {
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
      auto own = sounding_peaks_.find(n.frame);
      if (own == sounding_peaks_.end() || n.peak < 0) continue;
      ++k.pairs;
      if (own->second != n.peak) ++k.peak_moved;
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
