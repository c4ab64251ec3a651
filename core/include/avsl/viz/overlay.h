// Heatmap overlay of one sample (the seed paper's qualitative figures): the frame resized to a square, the
// localization map as a JET heatmap blended over it, the ground truth's contour, the contour of the binary
// prediction the evaluator scores, and a caption strip (key, cIoU, confidence) below.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/core/map2d.h"
#include "avsl/data/image_transform.h"
#include "avsl/metrics/evaluator.h"
#include "avsl/viz/canvas.h"

namespace avsl::viz {

/// Height of one caption line in pixels (fits Hershey simplex at scale 0.4 with its descenders).
inline constexpr int kCaptionLineHeight = 14;
/// Padding below the last caption line.
inline constexpr int kCaptionPadding = 4;

/// Height of a caption strip of `lines` lines: 0 for none, else lines·kCaptionLineHeight + kCaptionPadding.
int CaptionHeight(int lines);

struct OverlayOptions {
  int size = 224;            ///< The picture is size × size (the frame is squashed, as by the test transform).
  double heat_weight = 0.5;  ///< out = w·heat + (1 − w)·frame (cv::addWeighted, the reference scripts' 0.5).
  /// Its binarization (pred_mode, topk_percent, pred_threshold) is drawn as the prediction contour: the rule
  /// metrics::Evaluator scores (metrics::BinaryPrediction).
  metrics::EvalProtocol protocol;
  bool draw_heat = true;        ///< Off: the frame only (e.g. a "frame + GT" column).
  bool draw_prediction = true;  ///< Contour of the binary prediction.
  Rgb gt_color{0, 255, 0};
  Rgb pred_color{255, 255, 255};
  int caption_lines = 2;  ///< Fixed so that tiles of a grid have equal heights; longer captions are cut.
  Rgb caption_background{32, 32, 32};
  Rgb caption_color{255, 255, 255};
  double font_scale = 0.4;
};

/// What one overlay shows.
struct OverlayInput {
  std::string key;       ///< Named in error messages.
  data::RgbImage frame;  ///< Any size; empty (0×0) draws on mid-grey.
  /// Any H×W (the evaluator's 224×224 grid gives the exact scored prediction); empty = no heat and no
  /// prediction. For the heat it is min-max normalized per sample (a constant map is drawn as 0).
  Map2D map;
  Map2D gt;                          ///< Any H×W; the contour of gt > 0 is drawn. Empty = none (silent).
  std::vector<std::string> caption;  ///< One string per line, at most options.caption_lines shown.
};

/// Renders the overlay: an image of options.size wide and options.size + CaptionHeight(caption_lines) high.
/// Drawing order: blended heat, prediction contour, GT contour (so the GT stays visible where they meet).
/// Masks and the heat are resized to options.size with nearest / bilinear interpolation when their size
/// differs; the prediction is binarized at the map's own resolution first.
/// Errors name the key: a malformed frame, a non-finite map or GT value, a non-positive size.
absl::StatusOr<data::RgbImage> RenderOverlay(const OverlayInput& input, const OverlayOptions& options);

/// Caption lines of a scored sample: {key, "cIoU 0.534  conf 0.712"} for a sounding one,
/// {key + " (silent)", "conf 0.712"} when `ciou` is empty.
std::vector<std::string> SampleCaption(const std::string& key, std::optional<double> ciou, double conf);

/// The evaluator's binary prediction of `map` under `options` (relative: top-k % of the min-max map;
/// absolute: map >= pred_threshold), as 0/1 bytes in row-major order.
std::vector<uint8_t> PredictionMask(const Map2D& map, const OverlayOptions& options);

}  // namespace avsl::viz
