// Does the map listen? The negative-audio evaluation: every test positive's frame is scored again with its sound
// replaced (silence, white noise, an off-screen class's clip; a dataset's negative_audio option makes those
// samples), and the replaced ones are negatives of a detection task "sounding vs <kind>": AP and max-F1 with the
// open-set counting rules (avsl/metrics/detection.h), over the split's sounding samples and that kind's negatives.
// A method whose confidence does not drop when the sound goes away scores near the fraction of sounding samples.
// The confidence distributions and how often the map peak moves are kept too (Juanola et al., ICASSP 2025, study
// the distribution of map maxima under the same three replacements).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"

#include "avsl/core/eval_result.h"
#include "avsl/core/map2d.h"
#include "avsl/metrics/audio_dependence.h"

namespace avsl::metrics {

/// The kinds a dataset can make, in the order they are reported.
const std::vector<std::string>& NegativeAudioKinds();

/// mean and the 10th, 50th and 90th percentiles (linear interpolation between order statistics, numpy's default).
/// NaN for an empty set.
struct ConfidenceSummary {
  int64_t n = 0;
  double mean = 0, p10 = 0, median = 0, p90 = 0;
};
ConfidenceSummary SummarizeConfidences(std::vector<double> values);

struct NegativeAudioKindResult {
  int64_t n = 0;                 ///< negatives of this kind
  double ap = 0;                 ///< paper-exact AP, split's sounding samples vs these negatives (γ = the protocol's)
  double max_f1 = 0;             ///< paper-exact max-F1, same samples
  ConfidenceSummary confidence;  ///< of the negatives
  int64_t pairs = 0;             ///< frames seen with their own sound and with this kind
  int64_t peak_moved = 0;        ///< of those, frames whose map peak (metrics::PeakIndex) differs
};

struct NegativeAudioResult {
  ConfidenceSummary sounding;                            ///< the split's sounding samples
  std::map<std::string, NegativeAudioKindResult> kinds;  ///< only the kinds that were seen
};

class NegativeAudio {
 public:
  /// A negative-audio sample `key`: frame `frame_id` heard with the `kind` replacement, its confidence and map.
  /// InvalidArgument when `key` was added before.
  absl::Status AddNegative(const std::string& kind, const std::string& frame_id, const std::string& key, double conf,
                           const Map2D& map);
  /// AddNegative with the map's peak index already found (-1: no map); what a data-parallel evaluation exchanges.
  absl::Status AddNegativePeak(const std::string& kind, const std::string& frame_id, const std::string& key,
                               double conf, int64_t peak);
  bool empty() const { return negatives_.empty(); }
  /// `split`: the split's own evaluation (its sounding records are the positives); `gamma`: the cIoU a positive
  /// needs to count as a true positive; `split_peaks`: the split's samples as AudioDependence recorded them, whose
  /// sounding peaks the negatives' peaks are compared with.
  NegativeAudioResult Finalize(const EvalResult& split, double gamma, const AudioDependence& split_peaks) const;

 private:
  struct Negative {
    double conf = 0;
    std::string frame;
    int64_t peak = -1;
  };
  std::map<std::string, std::vector<Negative>> negatives_;
  std::unordered_set<std::string> keys_;
};

/// The metrics.json keys of `result`: neg_<kind>_{n,ap,max_f1,conf_mean,conf_median,conf_p10,conf_p90,peak_moved},
/// and sounding_conf_{mean,median,p10,p90}. peak_moved is the fraction of paired frames (NaN when none).
std::map<std::string, double> NegativeAudioFields(const NegativeAudioResult& result);

}  // namespace avsl::metrics
