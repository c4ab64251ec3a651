#include "avsl/viz/overlay.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "avsl/core/status_macros.h"
#include "avsl/metrics/binarize.h"
#include "avsl/metrics/normalize.h"
#include "avsl/viz/colormap.h"

namespace avsl::viz {
namespace {

cv::Mat AsMat(data::RgbImage* image) { return cv::Mat(image->height, image->width, CV_8UC3, image->pixels.data()); }

absl::Status CheckFinite(const Map2D& m, const std::string& key, const char* what) {
  if (m.size() != static_cast<size_t>(m.height) * m.width || (m.size() > 0 && (m.height <= 0 || m.width <= 0))) {
    return absl::InvalidArgumentError(
        absl::StrCat("overlay of '", key, "': ", what, " is ", m.height, "x", m.width, " with ", m.size(), " values"));
  }
  for (size_t i = 0; i < m.values.size(); ++i) {
    if (!std::isfinite(m.values[i])) {
      return absl::InvalidArgumentError(absl::StrCat("overlay of '", key, "': ", what, " has non-finite value ",
                                                     m.values[i], " at (y=", i / m.width, ", x=", i % m.width, ")"));
    }
  }
  return absl::OkStatus();
}

// The frame squashed to size × size: INTER_AREA when shrinking (no aliasing of fine texture), bicubic when
// enlarging (as the test transform).
data::RgbImage SquareFrame(const data::RgbImage& frame, int size) {
  if (frame.width == size && frame.height == size) return frame;
  data::RgbImage src = frame;
  data::RgbImage out = MakeCanvas(size, size, Rgb{});
  cv::Mat dst = AsMat(&out);
  const bool shrink = frame.width >= size && frame.height >= size;
  cv::resize(AsMat(&src), dst, cv::Size(size, size), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_CUBIC);
  return out;
}

// A 0/1 byte mask as an 8-bit Mat of size × size (nearest-neighbour resize keeps it binary).
cv::Mat MaskAtSize(const std::vector<uint8_t>& mask, int h, int w, int size) {
  cv::Mat m(h, w, CV_8UC1);
  std::copy(mask.begin(), mask.end(), m.data);
  if (h == size && w == size) return m;
  cv::Mat out;
  cv::resize(m, out, cv::Size(size, size), 0, 0, cv::INTER_NEAREST);
  return out;
}

void DrawMaskContour(cv::Mat& image, const cv::Mat& mask, Rgb color) {
  std::vector<std::vector<cv::Point>> contours;
  // RETR_LIST keeps holes: the drawn outline is the exact boundary of the scored region.
  cv::findContours(mask, contours, cv::RETR_LIST, cv::CHAIN_APPROX_NONE);
  cv::drawContours(image, contours, -1, cv::Scalar(color.r, color.g, color.b), 1, cv::LINE_8);
}

}  // namespace

int CaptionHeight(int lines) { return lines <= 0 ? 0 : lines * kCaptionLineHeight + kCaptionPadding; }

std::vector<uint8_t> PredictionMask(const Map2D& map, const OverlayOptions& options) {
  return metrics::BinaryPrediction(map, options.protocol);
}

absl::StatusOr<data::RgbImage> RenderOverlay(const OverlayInput& input, const OverlayOptions& options) {
  const int size = options.size;
  if (size <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("overlay of '", input.key, "': size ", size, " is not positive"));
  }
  data::RgbImage picture;
  if (input.frame.pixels.empty() && input.frame.width == 0 && input.frame.height == 0) {
    picture = MakeCanvas(size, size, Rgb{128, 128, 128});
  } else {
    AVSL_RETURN_IF_ERROR(CheckImage(input.frame, absl::StrCat("overlay of '", input.key, "': frame")));
    picture = SquareFrame(input.frame, size);
  }
  AVSL_RETURN_IF_ERROR(CheckFinite(input.map, input.key, "map"));
  AVSL_RETURN_IF_ERROR(CheckFinite(input.gt, input.key, "ground truth"));
  cv::Mat canvas = AsMat(&picture);
  const bool has_map = input.map.size() > 0;

  if (has_map && options.draw_heat) {
    const auto [lo, hi] = std::minmax_element(input.map.values.begin(), input.map.values.end());
    Map2D norm(input.map.height, input.map.width, 0.0);
    // Per-sample min-max; a constant map has no peak to show and stays cold.
    if (*hi > *lo) {
      for (size_t i = 0; i < norm.values.size(); ++i) norm.values[i] = (input.map.values[i] - *lo) / (*hi - *lo);
    }
    if (norm.height != size || norm.width != size) {
      cv::Mat src(norm.height, norm.width, CV_64F, norm.values.data());
      cv::Mat dst;
      cv::resize(src, dst, cv::Size(size, size), 0, 0, cv::INTER_LINEAR);
      Map2D resized(size, size);
      std::copy(dst.ptr<double>(), dst.ptr<double>() + resized.values.size(), resized.values.begin());
      norm = std::move(resized);
    }
    data::RgbImage heat = JetHeatmap(norm);
    const double w = std::clamp(options.heat_weight, 0.0, 1.0);
    cv::addWeighted(AsMat(&heat), w, canvas.clone(), 1.0 - w, 0.0, canvas);
  }
  if (has_map && options.draw_prediction) {
    DrawMaskContour(canvas, MaskAtSize(PredictionMask(input.map, options), input.map.height, input.map.width, size),
                    options.pred_color);
  }
  if (input.gt.size() > 0) {
    std::vector<uint8_t> gt_mask(input.gt.size());
    for (size_t i = 0; i < gt_mask.size(); ++i) gt_mask[i] = input.gt.values[i] > 0 ? 1 : 0;
    DrawMaskContour(canvas, MaskAtSize(gt_mask, input.gt.height, input.gt.width, size), options.gt_color);
  }

  const int caption_h = CaptionHeight(options.caption_lines);
  if (caption_h == 0) return picture;
  data::RgbImage out = MakeCanvas(size + caption_h, size, options.caption_background);
  Paste(&out, picture, 0, 0);
  const int lines = std::min<int>(options.caption_lines, static_cast<int>(input.caption.size()));
  for (int i = 0; i < lines; ++i) {
    // Baseline 4 px above the line's bottom leaves room for descenders (g, p, y).
    DrawText(&out, input.caption[i], 3, size + (i + 1) * kCaptionLineHeight - 4, size - 6, options.font_scale,
             options.caption_color);
  }
  return out;
}

std::vector<std::string> SampleCaption(const std::string& key, std::optional<double> ciou, double conf) {
  if (!ciou.has_value()) return {key + " (silent)", absl::StrFormat("conf %.3f", conf)};
  return {key, absl::StrFormat("cIoU %.3f  conf %.3f", *ciou, conf)};
}

}  // namespace avsl::viz
