#include "avsl/metrics/interactive.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace avsl::metrics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The reference's grid: Python's 0.05 * i, so e.g. t_14 = 0.7000000000000001 and a score of 0.7 fails it.
std::vector<double> Grid() {
  std::vector<double> t;
  for (int i = 0; i <= 20; ++i) t.push_back(0.05 * i);
  return t;
}

double Trapezoid(const std::vector<double>& t, const std::vector<double>& y) {
  double area = 0;
  for (size_t i = 0; i + 1 < t.size(); ++i) area += (t[i + 1] - t[i]) * (y[i] + y[i + 1]) / 2.0;
  return area;
}

double SuccessRate(const std::vector<double>& scores, double t) {
  if (scores.empty()) return kNaN;
  int64_t hits = 0;
  for (double s : scores) hits += s >= t ? 1 : 0;  // NaN fails, as numpy's comparison does
  return static_cast<double>(hits) / static_cast<double>(scores.size());
}

// Over frames: [min of the frame's scores >= t], NaN as soon as a frame holds a NaN (numpy's min propagates it).
double FrameSuccessRate(const std::vector<std::vector<double>>& frames, double t) {
  if (frames.empty()) return kNaN;
  double hits = 0;
  for (const std::vector<double>& f : frames) {
    double lowest = std::numeric_limits<double>::infinity();
    for (double s : f) {
      if (std::isnan(s)) return kNaN;
      lowest = std::min(lowest, s);
    }
    hits += lowest >= t ? 1 : 0;
  }
  return hits / static_cast<double>(frames.size());
}

double FrameAuc(const std::vector<std::vector<double>>& frames) {
  const std::vector<double> t = Grid();
  std::vector<double> y;
  for (double ti : t) y.push_back(FrameSuccessRate(frames, ti));
  return Trapezoid(t, y);
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
  auto [it, inserted] = frames_.try_emplace(frame_id);
  if (inserted) frame_order_.push_back(frame_id);
  it->second.push_back(queries_.size());
  queries_.push_back(SslAlignQueryScores(map, gt));
}

double SuccessRateAuc(const std::vector<double>& scores) {
  const std::vector<double> t = Grid();
  std::vector<double> y;
  for (double ti : t) y.push_back(SuccessRate(scores, ti));
  return Trapezoid(t, y);
}

InteractiveResult InteractiveEvaluator::Finalize() const {
  InteractiveResult r;
  r.queries = static_cast<int64_t>(queries_.size());
  std::vector<double> plain, adaptive;
  for (const InteractiveQueryScores& q : queries_) {
    plain.push_back(q.ciou);
    adaptive.push_back(q.ciou_adaptive);
  }
  double sum = 0;
  for (double v : plain) sum += v;  // NaN propagates, as np.mean
  r.miou = plain.empty() ? kNaN : sum / static_cast<double>(plain.size());
  r.ciou = SuccessRate(plain, 0.5);
  r.ciou_adaptive = SuccessRate(adaptive, 0.5);
  r.auc = plain.empty() ? kNaN : SuccessRateAuc(plain);
  r.auc_adaptive = adaptive.empty() ? kNaN : SuccessRateAuc(adaptive);
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
  r.iiou = FrameSuccessRate(frames_plain, 0.5);
  r.iiou_adaptive = FrameSuccessRate(frames_adaptive, 0.5);
  r.iauc = frames_plain.empty() ? kNaN : FrameAuc(frames_plain);
  r.iauc_adaptive = frames_adaptive.empty() ? kNaN : FrameAuc(frames_adaptive);
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
