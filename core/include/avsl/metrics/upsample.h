// Resizing of low-resolution localization maps (7×7, 14×14) to the 224×224 evaluation grid, matching
// torch.nn.functional.interpolate so that maps scored here equal those the reference code scored.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "avsl/core/map2d.h"

namespace avsl::metrics {

enum class UpsampleMode { kNearest, kBilinear, kBicubic };

/// Parses "nearest", "bilinear" or "bicubic".
absl::StatusOr<UpsampleMode> ParseUpsampleMode(const std::string& name);

/// Resizes `in` to out_h × out_w with F.interpolate semantics:
/// - nearest: src = min(floor(dst · in/out), in−1) (torch's legacy 'nearest'; align_corners must be false);
/// - bilinear/bicubic, align_corners=true: src = dst · (in−1)/(out−1) (0 when out == 1);
///   align_corners=false: src = (dst + 0.5) · in/out − 0.5, clamped at 0 for bilinear only (as torch);
/// - bicubic uses Keys' kernel with A = −0.75 and border replication of the 4×4 neighbourhood.
/// Rows and columns are separable: x is interpolated first on each contributing row, then y.
absl::StatusOr<Map2D> Upsample(const Map2D& in, int out_h, int out_w, UpsampleMode mode, bool align_corners);

}  // namespace avsl::metrics
