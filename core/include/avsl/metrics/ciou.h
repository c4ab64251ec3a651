// Consensus IoU between a binary prediction and a soft ground-truth map (the reference's utils.Evaluator.cal_CIOU;
// see docs/evaluation.md, section 2).
#pragma once

#include <cstdint>
#include <vector>

#include "avsl/core/map2d.h"

namespace avsl::metrics {

/// cIoU = Σ(infer·gt) / (Σgt + Σ(infer·[gt == 0])).
/// The GT may be soft (Flickr consensus 0.5/1), so the intersection is weighted by gt.
/// When the denominator is 0 (an all-zero GT and an empty prediction, possible only under an absolute
/// threshold) the reference computes 0/0 = NaN; NaN compares false with every γ and every TP test, so it
/// behaves like 0 in LocAcc, AUC, AP and F1. We return 0 so that mean cIoU stays defined (the reference's
/// mean would be NaN). Requires infer.size() == gt.size().
double Ciou(const std::vector<uint8_t>& infer, const Map2D& gt);

}  // namespace avsl::metrics
