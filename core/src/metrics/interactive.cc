#include "avsl/metrics/interactive.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "avsl/metrics/localization.h"

namespace avsl::metrics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The per-frame minimum of `scores` (NaN when one of them is NaN: numpy's min propagates it, and so do the
// reference's IIoU and IAUC).
double FrameMinimum(const std::vector<double>& scores) {
  double lowest = std::numeric_limits<double>::infinity();
  for (double s : scores) {
    if (std::isnan(s)) return kNaN;
    lowest = std::min(lowest, s);
  }
  return lowest;
}

// IIoU (at 0.5) and IAUC: the success rate and AUC of the frames' minima, NaN when a frame holds a NaN.
void FrameScores(const std::vector<std::vector<double>>& frames, double* iiou, double* iauc) {
  std::vector<double> minima;
  for (const std::vector<double>& f : frames) minima.push_back(FrameMinimum(f));
  const bool any_nan = std::any_of(minima.begin(), minima.end(), [](double m) { return std::isnan(m); });
  *iiou = any_nan ? kNaN : LocAcc(minima, 0.5);  // LocAcc and Auc21 are NaN for no frames
  *iauc = any_nan ? kNaN : Auc21(minima);
}

double Iou(const std::vector<double>& pred, double threshold, const Map2D& gt) {
  double inter = 0, gt_sum = 0, outside = 0;
  for (size_t i = 0; i < pred.size(); ++i) {
    const double g = gt.values[i];
    const bool p = pred[i] > threshold;
    gt_sum += g;
    if (p) inter += g;
    if (p && g == 0.0) outside += 1;
  }
  const double denom = gt_sum + outside;
  return denom == 0.0 ? kNaN : inter / denom;
}

}  // namespace

InteractiveQueryScores SslAlignQueryScores(const Map2D& map, const Map2D& gt) {
  const size_t n = map.values.size();
  if (n == 0 || gt.values.size() != n) return {kNaN, kNaN};
  std::vector<double> pred = map.values;
  const auto [lo, hi] = std::minmax_element(pred.begin(), pred.end());
  const double low = *lo, range = *hi - *lo;
  if (range != 0) {
    for (double& v : pred) v = (v - low) / range;
  }
  int64_t g = 0;
  for (double v : gt.values) g += v != 0.0 ? 1 : 0;
  if (g == 0) g = static_cast<int64_t>(n) / 2;
  // sort(pred)[k] for both ranks by selection, O(N): the second selection runs on the part the first left on its
  // side of rank k1.
  const size_t k1 = static_cast<size_t>(std::floor(static_cast<double>(n) * 0.5)), k2 = n - static_cast<size_t>(g);
  std::vector<double> scratch = pred;
  const auto at = [&](size_t k) { return scratch.begin() + static_cast<std::ptrdiff_t>(k); };
  std::nth_element(scratch.begin(), at(k1), scratch.end());
  const double t1 = scratch[k1];
  if (k2 > k1) std::nth_element(at(k1 + 1), at(k2), scratch.end());
  if (k2 < k1) std::nth_element(scratch.begin(), at(k2), at(k1));
  const double t2 = scratch[k2];
  InteractiveQueryScores s;
  s.ciou = Iou(pred, t1, gt);
  s.ciou_adaptive = Iou(pred, t2, gt);
  return s;
}

void InteractiveEvaluator::Add(const std::string& frame_id, const Map2D& map, const Map2D& gt) {
  AddScores(frame_id, SslAlignQueryScores(map, gt));
}

void InteractiveEvaluator::AddScores(const std::string& frame_id, const InteractiveQueryScores& scores) {
  auto [it, inserted] = frames_.try_emplace(frame_id);
  if (inserted) frame_order_.push_back(frame_id);
  it->second.push_back(queries_.size());
  queries_.push_back(scores);
}

InteractiveResult InteractiveEvaluator::Finalize() const {
  InteractiveResult r;
  r.queries = static_cast<int64_t>(queries_.size());
  std::vector<double> plain, adaptive;
  for (const InteractiveQueryScores& q : queries_) {
    plain.push_back(q.ciou);
    adaptive.push_back(q.ciou_adaptive);
  }
  // The reference's CIoU/AUC are LVS's success rate and 21-point AUC; NaN counts as a failure, as in numpy.
  r.miou = Mean(plain);  // NaN propagates, as np.mean
  r.ciou = LocAcc(plain, 0.5);
  r.ciou_adaptive = LocAcc(adaptive, 0.5);
  r.auc = Auc21(plain);
  r.auc_adaptive = Auc21(adaptive);
  std::vector<std::vector<double>> frames_plain, frames_adaptive;
  for (const std::string& id : frame_order_) {
    const std::vector<size_t>& idx = frames_.at(id);
    if (idx.size() < 2) continue;
    frames_plain.emplace_back();
    frames_adaptive.emplace_back();
    for (size_t i : idx) {
      frames_plain.back().push_back(queries_[i].ciou);
      frames_adaptive.back().push_back(queries_[i].ciou_adaptive);
    }
  }
  r.frames = static_cast<int64_t>(frames_plain.size());
  FrameScores(frames_plain, &r.iiou, &r.iauc);
  FrameScores(frames_adaptive, &r.iiou_adaptive, &r.iauc_adaptive);
  return r;
}

std::map<std::string, double> InteractiveFields(const InteractiveResult& r) {
  if (r.queries == 0) return {};
  return {{"ciou_adaptive", r.ciou_adaptive},
          {"auc_adaptive", r.auc_adaptive},
          {"iiou", r.iiou},
          {"iiou_adaptive", r.iiou_adaptive},
          {"iauc", r.iauc},
          {"iauc_adaptive", r.iauc_adaptive},
          {"interactive_frames", static_cast<double>(r.frames)},
          {"sslalign_ciou", r.ciou},
          {"sslalign_auc", r.auc},
          {"sslalign_miou", r.miou}};
}

}  // namespace avsl::metrics
