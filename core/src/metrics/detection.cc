#include "avsl/metrics/detection.h"

#include <algorithm>
#include <limits>

namespace avsl::metrics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

PrecisionRecall FromCounts(int64_t tp, int64_t fp, int64_t fn) {
  PrecisionRecall pr;
  pr.precision = tp + fp == 0 ? 1.0 : static_cast<double>(tp) / static_cast<double>(tp + fp);
  pr.recall = tp + fn == 0 ? 1.0 : static_cast<double>(tp) / static_cast<double>(tp + fn);
  return pr;
}

// Samples sorted by ascending confidence with suffix counts, so that the counts at any threshold are a
// binary search away: everything at or after the first index with conf >= δ is "confident".
class SortedCounts {
 public:
  SortedCounts(const std::vector<DetectionSample>& samples, double gamma) {
    std::vector<DetectionSample> s = samples;
    // Only the multiset above each threshold matters, not the order within ties, so input already in ascending
    // order (the bootstrap's resamples) is used as it is.
    auto by_conf = [](const DetectionSample& a, const DetectionSample& b) { return a.conf < b.conf; };
    if (!std::is_sorted(s.begin(), s.end(), by_conf)) std::sort(s.begin(), s.end(), by_conf);
    const size_t n = s.size();
    conf_.resize(n);
    tp_suffix_.assign(n + 1, 0);
    fp_suffix_.assign(n + 1, 0);
    pos_suffix_.assign(n + 1, 0);
    for (size_t i = n; i-- > 0;) {
      conf_[i] = s[i].conf;
      const bool tp = s[i].sounding && s[i].ciou >= gamma;
      tp_suffix_[i] = tp_suffix_[i + 1] + (tp ? 1 : 0);
      fp_suffix_[i] = fp_suffix_[i + 1] + (tp ? 0 : 1);
      pos_suffix_[i] = pos_suffix_[i + 1] + (s[i].sounding ? 1 : 0);
    }
  }

  PrecisionRecall At(double threshold) const {
    return AtIndex(std::lower_bound(conf_.begin(), conf_.end(), threshold) - conf_.begin());
  }

  /// At(sorted_conf()[first]) when `first` is the lowest index of its tie group, without the search.
  PrecisionRecall AtIndex(size_t first) const {
    const int64_t tp = tp_suffix_[first];
    const int64_t fp = fp_suffix_[first];
    const int64_t fn = pos_suffix_[0] - pos_suffix_[first];
    return FromCounts(tp, fp, fn);
  }

  const std::vector<double>& sorted_conf() const { return conf_; }

 private:
  std::vector<double> conf_;
  std::vector<int64_t> tp_suffix_, fp_suffix_, pos_suffix_;
};

}  // namespace

PrecisionRecall PrecisionRecallAt(const std::vector<DetectionSample>& samples, double conf_threshold, double gamma) {
  int64_t tp = 0, fp = 0, fn = 0;
  for (const auto& s : samples) {
    if (s.conf >= conf_threshold) {
      if (s.sounding && s.ciou >= gamma) ++tp;
      else ++fp;
    } else if (s.sounding) {
      ++fn;
    }
  }
  return FromCounts(tp, fp, fn);
}

double F1(const PrecisionRecall& pr) {
  const double p = pr.precision, r = pr.recall;
  return r + p > 0 ? 2 * r * p / (r + p) : 0.0;  // operand order as SLAVC's `2*r*p/(r+p)`
}

PaperDetection PaperDetectionMetrics(const std::vector<DetectionSample>& samples, double gamma) {
  PaperDetection out;
  if (samples.empty()) return {kNaN, kNaN, kNaN};
  SortedCounts counts(samples, gamma);
  const std::vector<double>& c = counts.sorted_conf();
  double prev_recall = 0.0;
  bool first = true;
  // Walk the distinct confidences from the highest down; recall is non-decreasing along this walk
  // (TP only grows and FN only shrinks), so each step adds a non-negative area.
  for (size_t i = c.size(); i-- > 0;) {
    if (i > 0 && c[i - 1] == c[i]) continue;  // not the lowest index of this tie group: same δ
    const PrecisionRecall pr = counts.AtIndex(i);
    out.ap += (pr.recall - prev_recall) * pr.precision;
    prev_recall = pr.recall;
    const double f1 = F1(pr);
    if (first || f1 > out.max_f1) {  // the highest δ reaching the maximum
      out.max_f1 = f1;
      out.max_f1_threshold = c[i];
      first = false;
    }
  }
  return out;
}

double ApRef(const std::vector<DetectionSample>& samples, double gamma) {
  const size_t n = samples.size();
  if (n == 0) return kNaN;
  SortedCounts counts(samples, gamma);
  const std::vector<double>& c = counts.sorted_conf();
  const size_t skip = std::max<size_t>(1, n / 200);
  std::vector<double> p, r;
  // np.sort(conf)[:-1][::-skip]: indices n−2, n−2−skip, … >= 0.
  for (int64_t i = static_cast<int64_t>(n) - 2; i >= 0; i -= static_cast<int64_t>(skip)) {
    const PrecisionRecall pr = counts.At(c[i]);
    p.push_back(pr.precision);
    r.push_back(pr.recall);
  }
  const size_t k = p.size();
  std::vector<double> pmax(k);
  for (size_t i = k; i-- > 0;) pmax[i] = (i + 1 < k) ? std::max(p[i], pmax[i + 1]) : p[i];
  double ap = 0.0;  // Python's sum(): left to right
  for (size_t i = 0; i + 1 < k; ++i) ap += pmax[i] * (r[i + 1] - r[i]);
  return ap;
}

double MaxF1Ref(const std::vector<DetectionSample>& samples, double gamma) {
  const size_t n = samples.size();
  if (n == 0) return kNaN;
  SortedCounts counts(samples, gamma);
  const std::vector<double>& c = counts.sorted_conf();
  const size_t step = std::max<size_t>(1, n / 10);
  double best = 0.0;
  for (size_t i = 0; i < n; i += step) best = std::max(best, F1(counts.At(c[i])));
  return best;
}

}  // namespace avsl::metrics
