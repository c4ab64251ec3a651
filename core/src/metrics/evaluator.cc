#include "avsl/metrics/evaluator.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "avsl/metrics/binarize.h"
#include "avsl/metrics/ciou.h"
#include "avsl/metrics/confidence.h"
#include "avsl/metrics/detection.h"
#include "avsl/metrics/localization.h"
#include "avsl/metrics/normalize.h"
#include "avsl/metrics/pointing.h"

namespace avsl::metrics {
namespace {

absl::Status CheckFinite(const Map2D& m, const std::string& key, const char* what) {
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

Evaluator::Evaluator(EvalProtocol protocol) : protocol_(protocol) {}

absl::Status Evaluator::Add(const std::string& key, const Map2D& map, const Map2D& gt, std::optional<double> conf,
                            bool sounding) {
  if (map.height <= 0 || map.width <= 0 || map.size() != static_cast<size_t>(map.height) * map.width) {
    return absl::InvalidArgumentError(absl::StrCat("sample '", key, "': prediction map is ", map.height, "x", map.width,
                                                   " with ", map.size(), " values"));
  }
  const bool implicit_zero_gt = !sounding && gt.height == 0 && gt.width == 0 && gt.values.empty();
  if (!implicit_zero_gt && (gt.height != map.height || gt.width != map.width || gt.size() != map.size())) {
    return absl::InvalidArgumentError(absl::StrCat("sample '", key, "': prediction map is ", map.height, "x", map.width,
                                                   " but ground truth is ", gt.height, "x", gt.width));
  }
  if (keys_.count(key)) return absl::InvalidArgumentError(absl::StrCat("sample '", key, "': duplicate key"));
  if (absl::Status s = CheckFinite(map, key, "prediction map"); !s.ok()) return s;
  if (!implicit_zero_gt) {
    if (absl::Status s = CheckFinite(gt, key, "ground truth"); !s.ok()) return s;
  }
  if (conf.has_value() && !std::isfinite(*conf)) {
    return absl::InvalidArgumentError(absl::StrCat("sample '", key, "': confidence ", *conf, " is not finite"));
  }

  const Map2D zero_gt = implicit_zero_gt ? Map2D(map.height, map.width) : Map2D();
  const Map2D& g = implicit_zero_gt ? zero_gt : gt;

  const std::vector<uint8_t> infer = BinaryPrediction(map, protocol_);
  SampleRecord r;
  r.key = key;
  r.ciou = Ciou(infer, g);
  r.conf = conf.has_value() ? *conf : SlavcConfidence(map);
  r.sounding = sounding;
  r.area = GtArea(g);
  if (sounding) r.bucket = BucketForArea(r.area);
  r.pointing_hit = PointingHit(map, g);
  keys_.insert(key);
  records_.push_back(std::move(r));
  return absl::OkStatus();
}

absl::Status Evaluator::AddRecord(SampleRecord record) {
  if (!keys_.insert(record.key).second) {
    return absl::InvalidArgumentError(absl::StrCat("sample '", record.key, "': duplicate key"));
  }
  records_.push_back(std::move(record));
  return absl::OkStatus();
}

MetricSet ComputeMetricSet(const std::vector<const SampleRecord*>& records, double gamma) {
  MetricSet m;
  std::vector<double> cious;
  std::vector<DetectionSample> det;
  det.reserve(records.size());
  int64_t hits = 0;
  for (const SampleRecord* r : records) {
    det.push_back({r->sounding, r->ciou, r->conf});
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
  const PaperDetection paper = PaperDetectionMetrics(det, gamma);
  m.ap = paper.ap;
  m.max_f1 = paper.max_f1;
  m.ap_ref = ApRef(det, gamma);
  m.max_f1_ref = MaxF1Ref(det, gamma);
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
