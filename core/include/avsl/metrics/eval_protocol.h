// The evaluation protocol: every knob that decides how a localization map is scored, in one struct used by the
// scorer (`avsl score`), the trainer's validation and test, `avsl eval` and the overlays. Each knob has one name:
// the recipe key `eval.<name>`, the CLI flag `--<name with dashes>` and the field below.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/core/map2d.h"
#include "avsl/metrics/upsample.h"

namespace avsl::metrics {

/// How a continuous map becomes the binary prediction.
enum class PredMode {
  kRelative,  ///< pred = min-max(map); positive = pred >= element floor(n·(1 − k/100)) of its ascending sort.
  kAbsolute,  ///< positive = map >= pred_threshold (SLAVC test.py without --relative_prediction).
};

struct EvalProtocol {
  int eval_size = 224;  ///< maps are scored on eval_size × eval_size, where the GT maps live
  /// Resizing of maps that are not on the grid; nullopt: such a map is an error (`avsl score` without --upsample).
  std::optional<UpsampleMode> upsample = UpsampleMode::kBilinear;
  bool align_corners = true;  ///< F.interpolate's align_corners (bilinear/bicubic; both reference test scripts: true)
  PredMode pred_mode = PredMode::kRelative;
  double topk_percent = 50.0;   ///< relative mode: percent of pixels predicted positive (50 = the reference rule)
  double pred_threshold = 0.5;  ///< absolute mode: positive = map >= this
  double ciou_threshold = 0.5;  ///< γ: cIoU success threshold of LocAcc and of a true positive in AP/max-F1
  /// Resamples of the bootstrap behind metrics.json's 95 % intervals ("ci95", avsl/metrics/bootstrap.h); 0: none.
  int bootstrap_resamples = 1000;
};

/// "relative" / "absolute" and back.
const char* PredModeName(PredMode mode);
absl::StatusOr<PredMode> ParsePredMode(const std::string& name);
/// "nearest", "bilinear", "bicubic", or "none" for nullopt.
std::string UpsampleName(const std::optional<UpsampleMode>& mode);

/// A method's native map on the protocol's grid: resized when it is not eval_size × eval_size (an error naming
/// `key` without an upsample mode), then mapped to [0, 1] over [range_min, range_max] when that range is finite
/// (the space where SLAVC's confidence is defined; min-max localization is unaffected by this linear map).
/// Taken by value: a caller that is done with `native` moves it in and no 224×224 copy is made.
absl::StatusOr<Map2D> ToEvalMap(Map2D native, const EvalProtocol& protocol, const std::string& key, double range_min,
                                double range_max);

/// The binary prediction of a map on the grid: the relative (top-k % of the min-max map) or absolute rule.
std::vector<uint8_t> BinaryPrediction(const Map2D& map, const EvalProtocol& protocol);

}  // namespace avsl::metrics
