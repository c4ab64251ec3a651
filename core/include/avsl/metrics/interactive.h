// Interactive localization (Senocak et al., "Toward Interactive Sound Source Localization", TPAMI 2025; the IS3
// benchmark): one frame holds two sounding objects and is queried once with each object's sound. A map that
// follows the sound localizes both; a map that finds the salient object gets at most one. Scored as the
// reference evaluator does (kaistmm/SSLalignment @e7ae3c5, utils.py::Evaluator_iiou and test.py's thresholds):
//
//   pred  = the map min-max normalized (a constant map unchanged); N = its pixel count
//   cIoU  : P = pred > sort(pred)[floor(N/2)]                      (the "top 50 %" rank rule, strict >)
//   adaptive cIoU: g = #(gt != 0) (N/2 when 0), P = pred > sort(pred)[N - g]   (predicted area ~ the GT area)
//   IoU(P, gt) = Σ P·gt / (Σ gt + Σ P·[gt == 0])                   (LVS's cIoU; 0/0 -> NaN)
//   success rate at t: #(IoU >= t)/n;  AUC: trapezoid over t_i = 0.05·i, i = 0..20 (double products, as Python)
//   IIoU : over frames queried at least twice, mean of [min over the frame's queries of IoU >= 0.5]; IAUC the same
//          over the t_i grid.
// The success rates at 0.5 are what the reference prints as "CIoU" and "CIoU_adap".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "avsl/core/map2d.h"

namespace avsl::metrics {

struct InteractiveQueryScores {
  double ciou = 0;           ///< top-50 % rank rule
  double ciou_adaptive = 0;  ///< predicted area = GT area
};

/// Both IoUs of one query (`map` and `gt` of the same size; `gt` may be soft, as Flickr's consensus).
InteractiveQueryScores SslAlignQueryScores(const Map2D& map, const Map2D& gt);

struct InteractiveResult {
  int64_t queries = 0;                 ///< sounding samples scored
  int64_t frames = 0;                  ///< frames queried at least twice (the IIoU population)
  double miou = 0;                     ///< mean top-50 % IoU
  double ciou = 0, ciou_adaptive = 0;  ///< success rates at 0.5
  double auc = 0, auc_adaptive = 0;
  double iiou = 0, iiou_adaptive = 0;  ///< NaN when no frame is queried twice
  double iauc = 0, iauc_adaptive = 0;
};

class InteractiveEvaluator {
 public:
  /// One sounding query of frame `frame_id`.
  void Add(const std::string& frame_id, const Map2D& map, const Map2D& gt);
  /// Add with the query's scores already computed (SslAlignQueryScores); what a data-parallel evaluation exchanges.
  void AddScores(const std::string& frame_id, const InteractiveQueryScores& scores);
  InteractiveResult Finalize() const;

 private:
  std::vector<InteractiveQueryScores> queries_;
  std::vector<std::string> frame_order_;
  std::unordered_map<std::string, std::vector<size_t>> frames_;
};

/// metrics.json keys: ciou_adaptive, auc_adaptive, iiou, iiou_adaptive, iauc, iauc_adaptive, interactive_frames,
/// and the reference's own top-50 % numbers as sslalign_ciou, sslalign_auc, sslalign_miou.
std::map<std::string, double> InteractiveFields(const InteractiveResult& result);

}  // namespace avsl::metrics
