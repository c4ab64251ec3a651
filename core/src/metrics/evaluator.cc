#include "avsl/metrics/evaluator.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "avsl/core/status_macros.h"
#include "avsl/metrics/binarize.h"
#include "avsl/metrics/ciou.h"
#include "avsl/metrics/confidence.h"
#include "avsl/metrics/detection.h"
#include "avsl/metrics/localization.h"
#include "avsl/metrics/normalize.h"
#include "avsl/metrics/pointing.h"
#include "avsl/metrics/select.h"

namespace avsl::metrics {
namespace {

// Inf or NaN: an all-ones exponent. A test on the bits that the compiler can run without a branch per value.
inline bool NonFiniteBits(double v) {
  constexpr uint64_t kExponentBits = uint64_t{0x7FF} << 52;
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return (bits & kExponentBits) == kExponentBits;
}

absl::Status CheckFinite(const Map2D& m, const std::string& key, const char* what) {
  // A branch-free pass first; the position is looked for only on failure.
  bool non_finite = false;
  for (double v : m.values) non_finite |= NonFiniteBits(v);
  if (!non_finite) return absl::OkStatus();
  for (size_t i = 0; i < m.values.size(); ++i) {
    if (!std::isfinite(m.values[i])) {
      const int w = m.width > 0 ? m.width : 1;
      return absl::InvalidArgumentError(absl::StrCat("sample '", key, "': ", what, " has non-finite value ",
                                                     m.values[i], " at (y=", i / w, ", x=", i % w, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

namespace {

// What ScoreSample measures of one map against its GT, computed in three passes over the map instead of the
// dozen that the definitions take one by one (BinaryPrediction, Ciou, GtArea, SlavcConfidence, PointingHit):
// a range pass, a shared selection of the top-k threshold and the confidence's cut, and one fused pass. Every
// sum runs in the definitions' order, so the numbers are theirs bit for bit (evaluator_test compares them).
struct FusedScores {
  double ciou = 0;
  double gt_area = 0;
  double conf = 0;
  bool pointing_hit = false;
  bool gt_finite = true;
};

FusedScores ScoreAgainstGt(const Map2D& map, const Map2D* gt, bool need_conf, const EvalProtocol& protocol) {
  const double* v = map.values.data();
  const size_t n = map.values.size();
  const ValueRange range = MinMaxValues(v, n);
  const bool relative = protocol.pred_mode == PredMode::kRelative;
  // The confidence's cut: the smallest of the top ceil(n/4) values (SlavcConfidence = TopFractionMean(map, 0.25)).
  const int64_t conf_count = TopFractionCount(static_cast<int64_t>(n), 0.25);
  const size_t conf_rank = n - static_cast<size_t>(conf_count);
  const size_t topk_rank = static_cast<size_t>(TopKIndex(static_cast<int64_t>(n), protocol.topk_percent));
  double topk_raw = 0, conf_cut = 0;
  if (gt != nullptr && relative && need_conf) {
    SelectAscendingPair(v, n, range, topk_rank, conf_rank, &topk_raw, &conf_cut);
  } else if (gt != nullptr && relative) {
    SelectAscendingPair(v, n, range, topk_rank, topk_rank, &topk_raw, &topk_raw);
  } else if (need_conf) {
    SelectAscendingPair(v, n, range, conf_rank, conf_rank, &conf_cut, &conf_cut);
  }
  FusedScores out;
  double conf_sum = 0.0;
  int64_t above = 0;
  if (gt == nullptr) {
    for (size_t i = 0; i < n; ++i) {
      const bool in = v[i] > conf_cut;
      above += in ? 1 : 0;
      conf_sum += in ? v[i] : 0.0;
    }
  } else {
    // BinarizeTopKOfMinMax: a flat map is left as it is (MinMaxNormalize), else each pixel is normalized by the
    // same expression as the threshold.
    const double lo = range.lo, span = range.hi - range.lo;
    const bool flat = span == 0;
    const double threshold = !relative ? protocol.pred_threshold : flat ? topk_raw : (topk_raw - lo) / span;
    const double* g = gt->values.data();
    double inter = 0.0, gt_sum = 0.0, extra = 0.0;
    double peak = v[0];
    size_t peak_index = 0;
    bool gt_non_finite = false;
    for (size_t i = 0; i < n; ++i) {
      const double x = v[i];
      const bool positive = (!relative || flat ? x : (x - lo) / span) >= threshold;
      gt_sum += g[i];
      inter += positive ? g[i] : 0.0;
      extra += positive && g[i] == 0 ? 1.0 : 0.0;
      const bool in = x > conf_cut;
      above += in ? 1 : 0;
      conf_sum += in ? x : 0.0;
      if (x > peak) {  // strict: the first maximum, as PeakIndex
        peak = x;
        peak_index = i;
      }
      gt_non_finite |= NonFiniteBits(g[i]);
    }
    const double denom = gt_sum + extra;
    out.ciou = denom == 0 ? 0.0 : inter / denom;
    out.gt_area = gt_sum;
    out.pointing_hit = g[peak_index] > 0;
    out.gt_finite = !gt_non_finite;
  }
  if (need_conf) {
    for (int64_t i = above; i < conf_count; ++i) conf_sum += conf_cut;
    out.conf = conf_sum / static_cast<double>(conf_count);
  }
  return out;
}

}  // namespace

absl::StatusOr<SampleRecord> ScoreSample(const std::string& key, const Map2D& map, const Map2D& gt,
                                         std::optional<double> conf, bool sounding, const EvalProtocol& protocol) {
  if (map.height <= 0 || map.width <= 0 || map.size() != static_cast<size_t>(map.height) * map.width) {
    return absl::InvalidArgumentError(absl::StrCat("sample '", key, "': prediction map is ", map.height, "x", map.width,
                                                   " with ", map.size(), " values"));
  }
  const bool implicit_zero_gt = !sounding && gt.height == 0 && gt.width == 0 && gt.values.empty();
  if (!implicit_zero_gt && (gt.height != map.height || gt.width != map.width || gt.size() != map.size())) {
    return absl::InvalidArgumentError(absl::StrCat("sample '", key, "': prediction map is ", map.height, "x", map.width,
                                                   " but ground truth is ", gt.height, "x", gt.width));
  }
  AVSL_RETURN_IF_ERROR(CheckFinite(map, key, "prediction map"));
  // An all-zero GT needs no binarization: cIoU 0 / (0 + positives) = 0, area 0, no hit.
  const FusedScores scores = ScoreAgainstGt(map, implicit_zero_gt ? nullptr : &gt, !conf.has_value(), protocol);
  if (!scores.gt_finite) AVSL_RETURN_IF_ERROR(CheckFinite(gt, key, "ground truth"));
  if (conf.has_value() && !std::isfinite(*conf)) {
    return absl::InvalidArgumentError(absl::StrCat("sample '", key, "': confidence ", *conf, " is not finite"));
  }
  SampleRecord r;
  r.key = key;
  r.conf = conf.has_value() ? *conf : scores.conf;
  r.sounding = sounding;
  r.ciou = scores.ciou;
  r.area = scores.gt_area;
  r.pointing_hit = scores.pointing_hit;
  if (sounding) r.bucket = BucketForArea(r.area);
  return r;
}

Evaluator::Evaluator(EvalProtocol protocol) : protocol_(protocol) {}

absl::Status Evaluator::Add(const std::string& key, const Map2D& map, const Map2D& gt, std::optional<double> conf,
                            bool sounding) {
  AVSL_ASSIGN_OR_RETURN(SampleRecord record, ScoreSample(key, map, gt, conf, sounding, protocol_));
  return AddRecord(std::move(record));
}

absl::Status Evaluator::AddRecord(SampleRecord record) {
  if (!keys_.insert(record.key).second) {
    return absl::InvalidArgumentError(absl::StrCat("sample '", record.key, "': duplicate key"));
  }
  records_.push_back(std::move(record));
  return absl::OkStatus();
}

MetricSet ComputeMetricSet(const std::vector<const SampleRecord*>& records, double gamma) {
  std::vector<DetectionSample> det;
  det.reserve(records.size());
  for (const SampleRecord* r : records) det.push_back({r->sounding, r->ciou, r->conf});
  return ComputeMetricSet(records, det, gamma);
}

MetricSet ComputeMetricSet(const std::vector<const SampleRecord*>& records,
                           const std::vector<DetectionSample>& detection, double gamma) {
  MetricSet m;
  std::vector<double> cious;
  int64_t hits = 0;
  for (const SampleRecord* r : records) {
    if (r->sounding) {
      ++m.n_sounding;
      cious.push_back(r->ciou);
      hits += r->pointing_hit ? 1 : 0;
    } else {
      ++m.n_silent;
    }
  }
  m.loc_acc = LocAcc(cious, gamma);
  m.auc = Auc21(cious);
  m.mean_ciou = Mean(cious);
  m.pointing = cious.empty() ? std::nan("") : static_cast<double>(hits) / static_cast<double>(cious.size());
  const PaperDetection paper = PaperDetectionMetrics(detection, gamma);
  m.ap = paper.ap;
  m.max_f1 = paper.max_f1;
  m.ap_ref = ApRef(detection, gamma);
  m.max_f1_ref = MaxF1Ref(detection, gamma);
  return m;
}

EvalResult Evaluator::Finalize() const {
  EvalResult out;
  std::vector<const SampleRecord*> all;
  std::array<std::vector<const SampleRecord*>, kNumSizeBuckets> per_bucket;
  for (const SampleRecord& r : records_) {
    all.push_back(&r);
    if (r.bucket.has_value()) per_bucket[static_cast<int>(*r.bucket)].push_back(&r);
  }
  out.all = ComputeMetricSet(all, protocol_.ciou_threshold);
  for (int b = 0; b < kNumSizeBuckets; ++b) out.buckets[b] = ComputeMetricSet(per_bucket[b], protocol_.ciou_threshold);
  out.samples = records_;
  return out;
}

}  // namespace avsl::metrics
